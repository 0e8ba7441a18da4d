"""The write endpoint over HTTP: behaviour reference §12 and transcript exchanges 14-16, 64, 65."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
import zlib

import jsonschema
import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.store import lineprotocol
from tests.mock.conftest import Api
from tests.mock.spec_check import assert_matches_spec, response_schema

W = "/kapacitor/v1/write"
ROOT = "/write"
JSON_TYPE = "application/json; charset=utf-8"


def assert_text_error(op_id: str, resp: object, status: int, text: str) -> None:
    """A plain-text error body (+ newline) under a JSON content type, as the server writes it."""
    assert resp.status == status  # type: ignore[attr-defined]
    assert resp.headers["content-type"] == JSON_TYPE  # type: ignore[attr-defined]
    assert resp.body == (text + "\n").encode()  # type: ignore[attr-defined]
    schema = response_schema(op_id, status, "text/plain")
    assert schema is not None
    jsonschema.validate(resp.body.decode(), schema)  # type: ignore[attr-defined]


# The real server labels the 204 as JSON too; the mock leaves the header off bodiless 204s (WSGI).
@pytest.mark.parametrize(("path", "op_id"), [(W, "writePoints"), (ROOT, "writePointsRoot")])
def test_write_is_204(api: Api, path: str, op_id: str) -> None:
    resp = api.post(
        path, params={"db": "telegraf", "rp": "autogen"}, body="cpu,host=serverA usage_idle=91.5 1700000000000000000"
    )
    assert resp.status == 204
    assert resp.body == b""
    assert_matches_spec(op_id, 204, resp.body)
    assert api.state.points.written == 1


def test_missing_db(api: Api) -> None:
    assert_text_error("writePoints", api.post(W, body="cpu,host=serverA usage_idle=91.5"), 400, "database is required")


def test_invalid_line_protocol(api: Api) -> None:
    resp = api.post(W, params={"db": "telegraf"}, body="this is not line protocol")
    assert_text_error("writePoints", resp, 400, "unable to parse 'this is not line protocol': invalid field format")


def test_parse_errors_come_before_the_db_check() -> None:
    api = Api(create_app(MockConfig()))
    resp = api.post(ROOT, body="bad")
    assert_text_error("writePointsRoot", resp, 400, "unable to parse 'bad': missing fields")


def test_every_bad_line_is_reported_and_nothing_is_written() -> None:
    api = Api(create_app(MockConfig()))
    resp = api.post(W, params={"db": "db"}, body="ok v=1\nbad1\nok v=2\nbad2 v=\n")
    assert_text_error(
        "writePoints",
        resp,
        400,
        "unable to parse 'bad1': missing fields\nunable to parse 'bad2 v=': missing field value",
    )
    assert api.state.points.written == 0


@pytest.mark.parametrize("body", ["", "# only a comment\n\n"])
def test_empty_body_with_db_is_204(body: str) -> None:
    api = Api(create_app(MockConfig()))
    assert api.post(W, params={"db": "db"}, body=body).status == 204
    assert api.state.points.written == 0


def test_precision_scales_timestamps() -> None:
    api = Api(create_app(MockConfig()))
    assert (
        api.post(W, params={"db": "telegraf", "precision": "s"}, body="cpu,host=b usage_idle=2 1700000000").status
        == 204
    )
    (_db, _rp, point) = api.state.points.recent[-1]
    assert point.time == 1_700_000_000 * 10**9
    # The same value read as nanoseconds by default.
    assert api.post(W, params={"db": "telegraf"}, body="cpu,host=b usage_idle=2 1700000000").status == 204
    assert api.state.points.recent[-1][2].time == 1_700_000_000


def test_db_and_rp_reach_the_store() -> None:
    api = Api(create_app(MockConfig()))
    api.post(ROOT, params={"db": "mydb", "rp": "myrp"}, body="m v=1 1")
    api.post(ROOT, params={"db": "mydb"}, body="m v=1 1")
    assert [(db, rp) for db, rp, _ in api.state.points.recent] == [("mydb", "myrp"), ("mydb", "")]


# ---- gzip bodies ---------------------------------------------------------------------------------


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def post_gzip(api: Api, body: bytes, encoding: str = "gzip") -> object:
    return api.post(W, params={"db": "db"}, body=body, headers={"Content-Encoding": encoding})


def test_gzip_body(api: Api) -> None:
    assert post_gzip(api, gz(b"m v=1 1\nm v=2 2\n")).status == 204  # type: ignore[attr-defined]
    assert api.state.points.written == 2


def test_gzip_multistream_and_header_fields() -> None:
    api = Api(create_app(MockConfig()))
    member = b"\x1f\x8b\x08\x1c" + b"\0" * 6  # FEXTRA | FNAME | FCOMMENT
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = b"m v=3 3\n"
    member += struct.pack("<H", 2) + b"xy" + b"name\0" + b"comment\0"
    member += compressor.compress(data) + compressor.flush() + struct.pack("<II", zlib.crc32(data), len(data))
    assert post_gzip(api, gz(b"m v=1 1\n") + member).status == 204  # type: ignore[attr-defined]
    assert api.state.points.written == 2
    # A header CRC (FHCRC) must match the header's CRC-32.
    header = b"\x1f\x8b\x08\x02" + b"\0" * 6
    body = gz(b"m v=4 4")[10:]
    good = header + struct.pack("<H", zlib.crc32(header) & 0xFFFF) + body
    assert post_gzip(api, good).status == 204  # type: ignore[attr-defined]
    bad = header + struct.pack("<H", (zlib.crc32(header) + 1) & 0xFFFF) + body
    assert_text_error("writePoints", post_gzip(api, bad), 400, "gzip: invalid header")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "EOF"),
        (b"\x1f\x8b\x08", "unexpected EOF"),
        (b"plain text, not gzip", "gzip: invalid header"),
        (gz(b"m v=1 1")[:-4], "unexpected EOF"),
        (gz(b"m v=1 1")[:-8] + b"\0\0\0\0" + gz(b"m v=1 1")[-4:], "gzip: invalid checksum"),
        (gz(b"m v=1 1") + b"trailing garbage", "gzip: invalid header"),
        (gz(b"m v=1 1") + b"\x1f\x8b", "unexpected EOF"),
    ],
)
def test_bad_gzip_is_400(body: bytes, error: str) -> None:
    api = Api(create_app(MockConfig()))
    assert_text_error("writePoints", post_gzip(api, body), 400, error)


def test_corrupt_deflate_data() -> None:
    api = Api(create_app(MockConfig()))
    body = b"\x1f\x8b\x08\x00" + b"\0" * 6 + b"\xff\xff\xff\xff" + b"\0" * 8  # reserved block type 3
    resp = post_gzip(api, body)
    assert resp.status == 400  # type: ignore[attr-defined]
    assert resp.body.startswith(b"flate: corrupt input before offset ")  # type: ignore[attr-defined]


def test_only_the_exact_gzip_encoding_is_decoded() -> None:
    api = Api(create_app(MockConfig()))
    resp = post_gzip(api, gz(b"m v=1 1"), encoding="GZIP")
    assert resp.status == 400  # type: ignore[attr-defined]
    assert resp.body.startswith(b"unable to parse '")  # type: ignore[attr-defined]


# ---- bounded writes: errors first, then points a chunk at a time --------------------------------


def _lines(n: int, t0: int = 1_700_000_000_000_000_000) -> bytes:
    """`n` points one millisecond apart."""
    return b"".join(b"cpu,host=h%d value=%d.5 %d\n" % (i % 10, i % 100, t0 + i * 1_000_000) for i in range(n))


def test_a_bad_line_after_many_chunks_still_writes_nothing() -> None:
    api = Api(create_app(MockConfig()))
    body = _lines(3 * lineprotocol.CHUNK_LINES) + b"bad\n"
    resp = api.post(W, params={"db": "db"}, body=body)
    assert_text_error("writePoints", resp, 400, "unable to parse 'bad': missing fields")
    assert api.state.points.written == 0


def test_chunks_deliver_every_point_in_order() -> None:
    api = Api(create_app(MockConfig()))
    n = 2 * lineprotocol.CHUNK_LINES + 7
    assert api.post(W, params={"db": "db"}, body=_lines(n)).status == 204
    assert api.state.points.written == n
    assert [p.time for _, _, p in api.state.points.recent][-3:] == [
        1_700_000_000_000_000_000 + i * 1_000_000 for i in (n - 3, n - 2, n - 1)
    ]


def test_error_text_is_capped_with_a_count_of_the_rest() -> None:
    body = b"".join(b"bad%d\n" % i for i in range(100))
    errors = lineprotocol.find_errors(body, 0, limit=200)
    assert errors[0] == "unable to parse 'bad0': missing fields"
    assert sum(len(e) + 1 for e in errors[:-1]) <= 200
    listed = len(errors) - 1
    assert errors[-1] == f"({100 - listed} more lines unable to parse, not listed by the mock)"
    assert len(lineprotocol.find_errors(body, 0)) == 100  # under the default cap: every line


@pytest.mark.slow
def test_a_large_write_is_bounded_in_memory() -> None:
    """100k points through /write and a running stream task (its 10s windows hold 10k points): the
    peak grows by far less than the points would cost if held at once (~95 MiB before chunking)."""
    api = Api(create_app(MockConfig()))
    task = {"id": "t", "type": "stream", "status": "enabled", "dbrps": [{"db": "db", "rp": "autogen"}],
            "script": "stream|from().measurement('cpu')|window().period(10s).every(10s)|mean('value')"}
    assert api.post("/kapacitor/v1/tasks", json_body=task).status == 200
    n = 100_000
    body = _lines(n)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        resp = api.post(ROOT, params={"db": "db", "rp": "autogen"}, body=body)
        peak = tracemalloc.get_traced_memory()[1] - base
        print(f"peak growth {peak / 2**20:.1f} MiB for a {len(body) / 2**20:.1f} MiB body")
    finally:
        tracemalloc.stop()
    assert resp.status == 204
    assert api.state.points.written == n
    # The body is copied by the request plumbing; beyond that, two chunks of points and the
    # window's 10k points (~17 MiB measured; ~68 MiB when the whole body is one chunk).
    assert peak < 3 * len(body) + (32 << 20), peak
