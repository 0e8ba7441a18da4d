"""`Accept-Encoding: gzip` as a real Kapacitor 1.5.7 answers it (httpd.gzipFilter on every route
but the NoGzip ones): the header on 204s and errors too, the body compressed, Content-Length the
compressed size or chunked past 2048 bytes; the backup, the CORS preflight and the path cleaner's
redirect are never compressed; the match is case-sensitive."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import ServerHandle, serve_in_thread
from tests.mock.conftest import Api
from tests.mock.test_keepalive import raw_exchange


@pytest.fixture(scope="module")
def served() -> Iterator[ServerHandle]:
    handle = serve_in_thread(create_app(MockConfig(kapacitor_version="1.5.7")))
    try:
        yield handle
    finally:
        handle.stop()


def _get(handle: ServerHandle, line: bytes, encoding: bytes = b"gzip") -> tuple[str, dict[str, str], bytes]:
    status, headers, body = raw_exchange(
        handle, line + b"\r\nHost: x\r\nAccept-Encoding: " + encoding + b"\r\nConnection: close\r\n\r\n")
    return status, dict(headers), body


def test_a_json_answer_is_compressed(served: ServerHandle) -> None:
    status, headers, body = _get(served, b"GET /kapacitor/v1/tasks HTTP/1.1")
    assert status == "HTTP/1.1 200 OK"
    assert headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(gzip.decompress(body)) == {"tasks": []}  # as without gzip: 1.5 lists have no link


@pytest.mark.parametrize("line", [b"GET /kapacitor/v1/ping HTTP/1.1", b"HEAD /kapacitor/v1/ping HTTP/1.1",
                                  b"DELETE /kapacitor/v1/tasks/nosuch HTTP/1.1"])
def test_a_204_carries_the_header_and_no_body(served: ServerHandle, line: bytes) -> None:
    status, headers, body = _get(served, line)
    assert (status, headers.get("Content-Encoding"), body) == ("HTTP/1.1 204 No Content", "gzip", b"")
    assert "Content-Length" not in headers


def test_errors_and_the_catch_all_are_compressed(served: ServerHandle) -> None:
    for line, code in ((b"GET /nosuch HTTP/1.1", "404"), (b"GET /kapacitor/v1/tasks?limit=x HTTP/1.1", "400")):
        status, headers, body = _get(served, line)
        assert status.split()[1] == code and headers["Content-Encoding"] == "gzip"
        assert "error" in json.loads(gzip.decompress(body))


def test_an_answer_compressed_past_2048_bytes_goes_out_chunked() -> None:
    import uuid

    app = create_app(MockConfig(kapacitor_version="1.5.7"))
    handle = serve_in_thread(app)
    try:
        api = Api(app, handle.url)
        for _ in range(120):  # random IDs compress badly: the list stays well past 2048 bytes
            body = {"id": str(uuid.uuid4()), "script": "stream|from()", "dbrps": [{"db": "d", "rp": "r"}]}
            assert api.post("/kapacitor/v1/tasks", body).status == 200
        _, headers, body = _get(handle, b"GET /kapacitor/v1/tasks?fields=id&limit=200 HTTP/1.1")
    finally:
        handle.stop()
    assert headers["Content-Encoding"] == "gzip" and headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in headers


@pytest.mark.parametrize(("line", "encoding"), [
    (b"GET /kapacitor/v1/storage/backup HTTP/1.1", b"gzip"),   # NoGzip
    (b"OPTIONS /kapacitor/v1/tasks HTTP/1.1", b"gzip"),        # answered before the handler chain
    (b"GET /kapacitor/v1//tasks HTTP/1.1", b"gzip"),           # the mux's redirect
    (b"GET /kapacitor/v1/tasks HTTP/1.1", b"GZIP"),            # strings.Contains is case-sensitive
    (b"GET /kapacitor/v1/tasks HTTP/1.1", b"identity"),
])
def test_never_compressed(served: ServerHandle, line: bytes, encoding: bytes) -> None:
    _, headers, _ = _get(served, line, encoding)
    assert "Content-Encoding" not in headers


def test_the_preview_mirror_compresses_twice(served: ServerHandle) -> None:
    """The preview route runs the v1 chain inside its own (behaviour §1.1)."""
    _, headers, body = _get(served, b"GET /kapacitor/v1preview/tasks HTTP/1.1")
    assert headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(gzip.decompress(body))) == {"tasks": []}
