"""Hostile targets for the suite's own tests: servers and proxies that misbehave at the HTTP level.

Each is a real threaded server on a loopback port the OS picks, started and stopped by the test:
a proxy in front of the mock that resets, hangs, trickles or dies; a ping-only server; a server
streaming endless bodies.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: (method, path, request number) -> what to do: "pass", "reset", "hang", "trickle", "garbage", "die".
Plan = Callable[[str, str, int], str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], **attrs: Any) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.count = 0
        self.lock = threading.Lock()
        self.dead = threading.Event()
        self.__dict__.update(attrs)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class _Proxy(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.0"

    def log_message(self, *args: Any) -> None:
        pass

    def _any(self) -> None:
        srv = self.server
        with srv.lock:
            srv.count += 1
            n = srv.count
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        action = "die" if srv.dead.is_set() else srv.plan(self.command, self.path, n)
        if action == "die":
            srv.dead.set()
            threading.Thread(target=srv.socket.close, daemon=True).start()  # refuse new connections
            _reset(self.connection)
            self.close_connection = True
            return
        if action == "reset":
            _reset(self.connection)
            self.close_connection = True
            return
        if action == "hang":
            time.sleep(srv.hang_for)
            self.close_connection = True
            return
        if action == "garbage":
            self.wfile.write(b"\x00\x01garbage, not HTTP\r\n\r\n")
            self.close_connection = True
            return
        host, port = srv.backend
        conn = http.client.HTTPConnection(host, port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host")}
        conn.request(self.command, self.path, body=body if (body or length) else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        head = f"HTTP/1.0 {resp.status} {resp.reason}\r\n".encode()
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                head += f"{k}: {v}\r\n".encode()
        head += f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
        out = head + data
        self.close_connection = True
        if action == "trickle":
            for i in range(len(out)):
                try:
                    self.wfile.write(out[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(srv.trickle_every)
            return
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any


@contextmanager
def proxy(backend_url: str, plan: Plan, *, hang_for: float = 30.0, trickle_every: float = 1.0) -> Iterator[Any]:
    host, port = backend_url.split("//", 1)[1].split(":")
    srv = _Server(_Proxy, backend=(host, int(port)), plan=plan, hang_for=hang_for, trickle_every=trickle_every)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


class _Canned(BaseHTTPRequestHandler):
    """Ping answers like Kapacitor; everything else comes from the server's `answer`."""

    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.answer(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if body and h.command != "HEAD":
        h.wfile.write(body)


def ping_only(h: BaseHTTPRequestHandler) -> None:
    """A server that implements nothing: ping, then the catch-all 404 everywhere."""
    if h.path.split("?")[0] in ("/kapacitor/v1/ping", "/kapacitor/v1preview/ping"):
        send(h, 204, headers={"X-Kapacitor-Version": "1.5.7"})
    else:
        send(h, 404, b'{"error":"Not Found"}\n', {"Content-Type": "application/json; charset=utf-8",
                                                   "X-Kapacitor-Version": "1.5.7"})


def endless(size: int, *, on_ping: bool = False, only: str = "") -> Callable[[BaseHTTPRequestHandler], None]:
    """Answer (the ping, or everything but the ping, or only paths containing `only`) with a streamed
    body of `size` bytes, no length; other paths get `{}`."""
    def answer(h: BaseHTTPRequestHandler) -> None:
        is_ping = h.path.split("?")[0].endswith("/ping")
        if is_ping and not on_ping:
            send(h, 204, headers={"X-Kapacitor-Version": "1.5.7"})
            return
        if only and only not in h.path:
            send(h, 200, b"{}", {"Content-Type": "application/json; charset=utf-8", "X-Kapacitor-Version": "1.5.7"})
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("X-Kapacitor-Version", "1.5.7")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        chunk = b" " * (1 << 20)
        sent = 0
        try:
            while sent < size:
                h.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
    return answer


@contextmanager
def canned(answer: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[Any]:
    srv = _Server(_Canned, answer=answer)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
