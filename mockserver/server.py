"""Serving the app with waitress: in the foreground (the CLI) or in a thread (tests, the suite)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from waitress import wasyncore
from waitress.server import create_server


@dataclass
class ServerHandle:
    """A running waitress server; `stop()` closes it and waits for its thread."""

    url: str
    host: str
    port: int
    _server: Any
    _thread: threading.Thread

    def stop(self) -> None:
        """Close every socket from inside waitress' own loop (closing them from here races select)."""
        server = self._server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> ServerHandle:
    """Start waitress on `host:port` (0 = a free port) and return once it accepts connections."""
    server = create_server(app, host=host, port=port, threads=threads, ident="kapacitor-mock", clear_untrusted_proxy_headers=True)
    actual_port = server.effective_port  # type: ignore[union-attr]
    thread = threading.Thread(target=server.run, name=f"kapacitor-mock:{actual_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, actual_port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.02)
    return ServerHandle(f"http://{host}:{actual_port}", host, actual_port, server, thread)
