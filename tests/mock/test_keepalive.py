"""Bytes on the wire, as the real server sends them: headers of bodiless answers and keep-alive."""

from __future__ import annotations

import contextlib
import http.client
import socket
from collections.abc import Iterator

import pytest

from mockserver import keepalive
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import ServerHandle, serve_in_thread

JSON = "application/json; charset=utf-8"


@pytest.fixture
def served() -> Iterator[ServerHandle]:
    handle = serve_in_thread(create_app(MockConfig(kapacitor_version="1.5.9")))
    try:
        yield handle
    finally:
        handle.stop()


def raw_exchange(handle: ServerHandle, request: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """Send one request on a fresh socket and read the answer until the server closes."""
    with socket.create_connection((handle.host, handle.port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [(n, v.strip()) for n, _, v in (line.partition(":") for line in lines[1:])]
    return lines[0], headers, rest


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /kapacitor/v1/ping HTTP/1.1",
        b"HEAD /kapacitor/v1/ping HTTP/1.1",
        b"DELETE /kapacitor/v1/tasks/nosuch HTTP/1.1",
        b"DELETE /kapacitor/v1/templates/nosuch HTTP/1.1",
    ],
)
def test_204_carries_the_json_content_type_over_a_raw_socket(served: ServerHandle, request_line: bytes) -> None:
    status, headers, body = raw_exchange(served, request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == "HTTP/1.1 204 No Content"
    names = [n.lower() for n, _ in headers]
    assert ("Content-Type", JSON) in headers
    assert names.count("x-kapacitor-version") == 1
    assert "request-id" in names
    assert "content-length" not in names and "transfer-encoding" not in names
    assert body == b""


def test_v1preview_sends_the_version_header_twice(served: ServerHandle) -> None:
    _, headers, _ = raw_exchange(served, b"GET /kapacitor/v1preview/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert [v for n, v in headers if n == "X-Kapacitor-Version"] == ["1.5.9", "1.5.9"]


def test_options_is_an_unlabelled_empty_200(served: ServerHandle) -> None:
    status, headers, body = raw_exchange(served, b"OPTIONS /kapacitor/v1/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    names = [n.lower() for n, _ in headers]
    assert status == "HTTP/1.1 200 OK"
    assert ("Content-Length", "0") in headers
    assert "content-type" not in names and "x-kapacitor-version" not in names
    assert "request-id" in names and body == b""


def test_100_deletes_on_one_keep_alive_connection(served: ServerHandle) -> None:
    conn = http.client.HTTPConnection(served.host, served.port, timeout=5)
    try:
        conn.request("GET", "/kapacitor/v1/ping")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert sock is not None
        local = sock.getsockname()
        for i in range(100):
            conn.request("DELETE", f"/kapacitor/v1/tasks/t{i}")
            resp = conn.getresponse()
            assert resp.read() == b""
            assert resp.status == 204
            assert resp.getheader("Connection") is None
            assert resp.getheader("Content-Type") == JSON
            assert not resp.will_close
            assert conn.sock is sock, f"reconnected after DELETE #{i}"
        assert sock.getsockname() == local
        conn.request("GET", "/kapacitor/v1/tasks")  # a body after the 204s is still framed right
        listed = conn.getresponse()
        assert listed.status == 200 and listed.read().startswith(b"{")
    finally:
        conn.close()


def test_client_close_and_http_1_0_still_close(served: ServerHandle) -> None:
    _, headers, _ = raw_exchange(served, b"DELETE /kapacitor/v1/tasks/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert ("Connection", "close") in headers
    # HTTP/1.0: Go closes without a Connection header (a real 1.5.7 answers so)
    _, headers, _ = raw_exchange(served, b"DELETE /kapacitor/v1/tasks/x HTTP/1.0\r\n\r\n")
    assert "Connection" not in [n for n, _ in headers]


def test_layer_applies_only_to_the_waitress_it_was_checked_against() -> None:
    assert keepalive.supported("3.0.2")
    assert not keepalive.supported("2.1.4")
    assert not keepalive.supported("3.1.0")


def test_without_the_layer_waitress_closes_after_a_204() -> None:
    """The layer is what keeps the connection: plain waitress answers the same 204 with a close."""
    from waitress import wasyncore
    from waitress.channel import HTTPChannel
    from waitress.server import create_server

    app = create_app(MockConfig())
    server = create_server(app, host="127.0.0.1", port=0, threads=1, ident="")
    assert server.channel_class is HTTPChannel
    try:
        sock = socket.create_connection(("127.0.0.1", server.effective_port), timeout=5)  # type: ignore[union-attr]
        sock.sendall(b"DELETE /kapacitor/v1/tasks/x HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            wasyncore.loop(timeout=0.05, use_poll=True, map=server._map, count=1)
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                data += sock.recv(65536)
        assert b"Connection: close" in data
        sock.close()
    finally:
        wasyncore.close_all(server._map)
        server.task_dispatcher.shutdown()


def test_header_lines_come_in_go_order(served: ServerHandle) -> None:
    """As a real 1.5.7 answers: handler headers sorted, then Date, Content-Length, Connection and
    Transfer-Encoding (net/http's extraHeader.Write)."""
    _, headers, _ = raw_exchange(served, b"OPTIONS /kapacitor/v1/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert [n for n, _ in headers] == ["Request-Id", "Date", "Content-Length", "Connection"]
    _, headers, _ = raw_exchange(served, b"GET /kapacitor/v1/debug/vars HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert [n for n, _ in headers][-3:] == ["Date", "Connection", "Transfer-Encoding"]
    _, headers, _ = raw_exchange(
        served, b"GET /kapacitor/v1preview/ping HTTP/1.1\r\nHost: x\r\nOrigin: http://e.org\r\nConnection: close\r\n\r\n"
    )
    assert [n for n, _ in headers] == [
        "Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin",
        "Content-Type", "Request-Id", "X-Kapacitor-Version", "X-Kapacitor-Version", "Date", "Connection",
    ]


def test_go_header_order_keeps_every_line() -> None:
    block = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: a\r\nDate: d\r\nX-B: 1\r\nX-B: 2\r\n\r\n"
    assert keepalive.go_header_order(block) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: a\r\nX-B: 1\r\nX-B: 2\r\nDate: d\r\nContent-Length: 2\r\n\r\n"
    )


def test_long_json_bodies_are_chunked_like_go(served: ServerHandle) -> None:
    """net/http buffers 2048 bytes: a longer JSON body has no Content-Length (real 1.5.7: /config)."""
    conn = http.client.HTTPConnection(served.host, served.port, timeout=5)
    try:
        conn.request("GET", "/kapacitor/v1/config")
        big = conn.getresponse()
        body = big.read()
        assert len(body) > 2048 and body.endswith(b"}\n")
        assert big.getheader("Transfer-Encoding") == "chunked" and big.getheader("Content-Length") is None
        assert big.getheader("Connection") is None and not big.will_close  # chunked is framed: keep it
        sock = conn.sock
        conn.request("GET", "/kapacitor/v1/config/smtp")  # short: counted, on the same connection
        small = conn.getresponse()
        assert int(small.getheader("Content-Length") or 0) == len(small.read()) <= 2048
        assert small.getheader("Transfer-Encoding") is None and conn.sock is sock
    finally:
        conn.close()
