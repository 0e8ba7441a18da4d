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


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> ServerHandle:
    """Start waitress on `host:port` (0 = a free port) and return once it accepts connections."""
    server = create_server(app, host=host, port=port, threads=threads, ident="")
    keepalive.install(server)
    actual_port: int = server.effective_port  # type: ignore[union-attr]
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
