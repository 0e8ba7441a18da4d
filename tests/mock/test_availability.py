"""The mock stays available under connection abuse (issue 10, "stays available").

Real sockets against waitress: idle keep-alive clients, slowloris clients and log streams must not
keep a fresh client's ping from being answered promptly. Every test is bounded in time.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from mockserver.app import create_app
from mockserver.cli import build_parser
from mockserver.config import MockConfig
from mockserver.server import DEFAULT_CHANNEL_TIMEOUT, DEFAULT_CONNECTION_LIMIT, ServerHandle, serve_in_thread

PING = "/kapacitor/v1/ping"


@contextlib.contextmanager
def server(config: MockConfig | None = None, **options: int) -> Iterator[ServerHandle]:
    handle = serve_in_thread(create_app(config or MockConfig()), **options)  # type: ignore[arg-type]
    try:
        yield handle
    finally:
        handle.stop()


def ping_seconds(handle: ServerHandle, timeout: float = 5.0) -> float:
    """Seconds a fresh connection takes to get the ping's 204 (raises on a timeout)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(handle.host, handle.port, timeout=timeout)
    try:
        conn.request("GET", PING)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 204
    finally:
        conn.close()
    return time.monotonic() - started


def connect(handle: ServerHandle) -> socket.socket:
    return socket.create_connection((handle.host, handle.port), timeout=5)


def test_idle_and_slowloris_clients_do_not_block_a_fresh_ping() -> None:
    with server() as handle:
        idle = [connect(handle) for _ in range(200)]
        slow = [connect(handle) for _ in range(16)]
        stop = threading.Event()

        def trickle() -> None:  # one more header byte now and then, never a complete request
            for sock in slow:
                sock.sendall(b"GET /kapacitor/v1/ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            while not stop.wait(0.2):
                for sock in slow:
                    with contextlib.suppress(OSError):
                        sock.sendall(b"a")

        thread = threading.Thread(target=trickle)
        thread.start()
        try:
            time.sleep(0.5)
            assert ping_seconds(handle) < 1.0
            assert ping_seconds(handle) < 1.0
        finally:
            stop.set()
            thread.join()
            for sock in idle + slow:
                sock.close()


def test_the_connection_limit_is_the_configured_one() -> None:
    with server(connection_limit=3) as handle:
        held = [connect(handle) for _ in range(3)]
        try:
            time.sleep(0.3)
            with pytest.raises(TimeoutError):
                ping_seconds(handle, timeout=0.7)  # accepted by the kernel, never served
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.3)
        assert ping_seconds(handle) < 1.0


def test_idle_connections_are_closed_after_the_channel_timeout() -> None:
    with server(channel_timeout=1) as handle:
        sock = connect(handle)
        started = time.monotonic()
        try:
            sock.settimeout(5)
            assert sock.recv(1) == b""  # the server hung up
        finally:
            sock.close()
        assert time.monotonic() - started < 4.5


def open_log_stream(handle: ServerHandle) -> tuple[socket.socket, bytes]:
    sock = connect(handle)
    sock.sendall(b"GET /kapacitor/v1preview/logs HTTP/1.1\r\nHost: x\r\n\r\n")
    return sock, sock.recv(64)


def test_log_streams_do_not_stall_other_requests() -> None:
    with server(MockConfig(max_log_streams=2), threads=4) as handle:
        streams = [open_log_stream(handle) for _ in range(8)]
        try:
            statuses = sorted(head.split(b" ", 2)[1] for _sock, head in streams)
            assert statuses == [b"200"] * 2 + [b"429"] * 6
            assert ping_seconds(handle) < 1.0
        finally:
            for sock, _head in streams:
                sock.close()
        # Closed streams give their slots back.
        deadline = time.monotonic() + 5
        while True:
            sock, head = open_log_stream(handle)
            sock.close()
            if head.startswith(b"HTTP/1.1 200") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert head.startswith(b"HTTP/1.1 200")


def test_cli_options_and_defaults() -> None:
    args = build_parser().parse_args([])
    assert (args.connection_limit, args.channel_timeout) == (DEFAULT_CONNECTION_LIMIT, DEFAULT_CHANNEL_TIMEOUT)
    assert DEFAULT_CONNECTION_LIMIT > 216  # the idle + slowloris test above fits under it
    args = build_parser().parse_args(["--connection-limit", "7", "--channel-timeout", "9", "--max-log-streams", "3"])
    assert (args.connection_limit, args.channel_timeout, args.max_log_streams) == (7, 9, 3)
    for bad in (["--connection-limit", "0"], ["--channel-timeout", "x"], ["--bcrypt-cost", "3"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(bad)


def test_auth_without_a_shared_secret_warns_at_start_up() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--auth", "--port", "0", "--bcrypt-cost", "4"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline() for _ in range(2)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert any("warning: --auth without --shared-secret: every Bearer token is refused" in line for line in lines)
