"""Serving the app with waitress in a background thread (tests, the conformance suite's default target).

Waitress's own `run()` loops until its socket map is empty and offers no clean stop from another
thread (closing sockets under a running `select` fails with EBADF). This drives the same asyncore
loop in short slices and closes everything from inside the loop thread when asked to stop.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from mockserver import keepalive

#: Open connections waitress accepts before it stops accepting (its own default is 100, which a
#: hundred idle keep-alive clients exhaust for two minutes). Idle sockets cost no worker thread.
DEFAULT_CONNECTION_LIMIT = 1000
#: Seconds an idle (or trickling) connection stays open (waitress: 120).
DEFAULT_CHANNEL_TIMEOUT = 30
#: Largest request body read into memory (waitress: 1 GiB); larger ones get waitress's 413.
MAX_REQUEST_BODY = 64 << 20


def waitress_options(
    *,
    threads: int = 8,
    connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    channel_timeout: float = DEFAULT_CHANNEL_TIMEOUT,
) -> dict[str, Any]:
    """Settings shared by `kapacitor-mock` and `serve_in_thread`: bounded connections, idle time and
    bodies; poll() instead of select() so more than 1024 sockets work; lookahead so a streaming
    response (v1preview/logs) notices a client that went away."""
    return {
        "threads": threads,
        "connection_limit": connection_limit,
        "channel_timeout": channel_timeout,
        # Idle channels are only looked at every cleanup_interval (waitress: 30 s).
        "cleanup_interval": max(1, min(30, int(channel_timeout) // 2)),
        "max_request_body_size": MAX_REQUEST_BODY,
        "asyncore_use_poll": True,
        "channel_request_lookahead": 1,
        "ident": "",
    }


@dataclass
class ServerHandle:
    """A running waitress server; `stop()` closes it and waits for its thread."""

    url: str
    host: str
    port: int
    _thread: threading.Thread
    _stopping: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)


def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    threads: int = 8,
    *,
    connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    channel_timeout: float = DEFAULT_CHANNEL_TIMEOUT,
) -> ServerHandle:
    """Start waitress on `host:port` (0 = a free port) and return once it accepts connections."""
    options = waitress_options(threads=threads, connection_limit=connection_limit, channel_timeout=channel_timeout)
    server = create_server(app, host=host, port=port, **options)
    keepalive.install(server)
    actual_port: int = server.effective_port
    stopping = threading.Event()

    def run() -> None:
        try:
            while not stopping.is_set() and server._map:
                wasyncore.loop(timeout=0.05, use_poll=True, map=server._map, count=1)
        finally:
            wasyncore.close_all(server._map)
            server.task_dispatcher.shutdown()

    thread = threading.Thread(target=run, name=f"kapacitor-mock:{actual_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, actual_port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.02)
    return ServerHandle(f"http://{host}:{actual_port}", host, actual_port, thread, stopping)
