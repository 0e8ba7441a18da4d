"""Keep HTTP/1.1 connections open after answers without Content-Length, as Go's net/http does.

Waitress 3.0.x closes a connection after every response that has no Content-Length: bodiless
answers (204, 304), which must not carry one (RFC 9110 §8.6), and chunked bodies, which are framed
without one. So it closes after every DELETE, ping, config POST and write of the mock, and after
every JSON body longer than Go's 2048-byte buffer (sent chunked, as the server does); pooling
clients (Go's client, `requests.Session`) pay a reconnect each time. The real server keeps the
connection.

The same task writes the header block in Go's order (the handler's headers sorted by name, then the
ones net/http adds: Date, Content-Length, Connection, Transfer-Encoding; checked on a real 1.5.7),
so a transcript of the mock reads line for line like one of the server. An answer to HTTP/1.0
carries no `Connection: close`: Go closes such a connection without saying so.

`install(server)` swaps the channel class of a server made by `waitress.create_server` for one
whose task skips that close on HTTP/1.1; everything else (a client's `Connection: close`,
HTTP/1.0, errors while writing) still closes exactly as waitress decides. The layer is applied only
to the waitress versions whose `build_response_header` it was written against.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import WSGITask

log = logging.getLogger("kapacitor-mock")
TESTED_MAJOR = "3.0."


class KeepAliveTask(WSGITask):  # type: ignore[misc]
    """A WSGI task that does not close an HTTP/1.1 connection just because an answer has no
    Content-Length (bodiless, or chunked: both are framed without one)."""

    def build_response_header(self) -> bytes:
        keep = (
            self.version == "1.1"
            and not getattr(self, "close_on_finish", False)
            and self.request.headers.get("CONNECTION", "").lower() != "close"
        )
        if keep:
            # Waitress closes only when `close_on_finish` is still False after it finds no length;
            # claiming it for the duration of the call skips that close (and its header) alone.
            self.close_on_finish = True
        try:
            header: bytes = super().build_response_header()
        finally:
            if keep:
                self.close_on_finish = False
        return go_header_order(header, http10=self.version == "1.0")


#: Headers net/http writes itself, after the handler's sorted ones, in this order (server.go
#: extraHeader.Write: date, content length, then connection and transfer encoding).
_GO_TRAILING = (b"date", b"content-length", b"connection", b"transfer-encoding")


def go_header_order(header: bytes, *, http10: bool = False) -> bytes:
    """Reorder waitress's alphabetical header block the way Go writes it: the handler's headers
    sorted by name, then Date, Content-Length, Connection, Transfer-Encoding; for an HTTP/1.0
    request without `Connection: close` from Go (it closes without saying so)."""
    lines = header[:-4].split(b"\r\n")
    first, rest = lines[0], lines[1:]
    if http10:
        rest = [line for line in rest if line.lower() != b"connection: close"]
    own = [line for line in rest if line.split(b":", 1)[0].lower() not in _GO_TRAILING]
    tail = sorted(
        (line for line in rest if line.split(b":", 1)[0].lower() in _GO_TRAILING),
        key=lambda line: _GO_TRAILING.index(line.split(b":", 1)[0].lower()),
    )
    return b"\r\n".join([first, *own, *tail]) + b"\r\n\r\n"


class KeepAliveChannel(HTTPChannel):  # type: ignore[misc]
    task_class = KeepAliveTask


def supported(waitress_version: str | None = None) -> bool:
    """True for the waitress releases whose header logic this layer was checked against."""
    if waitress_version is None:
        try:
            waitress_version = version("waitress")
        except PackageNotFoundError:
            return False
    return waitress_version.startswith(TESTED_MAJOR)


def install(server: Any) -> bool:
    """Use the keep-alive channel on `server` (one server or waitress's multi-socket server)."""
    if not supported():
        log.warning("waitress %s is untested with the keep-alive layer; 204s will close", version("waitress"))
        return False
    servers = [server] if isinstance(server, BaseWSGIServer) else [
        s for s in getattr(server, "map", {}).values() if isinstance(s, BaseWSGIServer)
    ]
    for one in servers:
        if one.channel_class is HTTPChannel:
            one.channel_class = KeepAliveChannel
    return bool(servers)
