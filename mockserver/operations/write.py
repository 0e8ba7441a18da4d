"""The write endpoint (`/kapacitor/v1/write` and the root `/write` alias), InfluxDB 1.x style.

Order as on the server: gunzip, read, parse (so a bad body is reported even without `db`), `db`
check, write; the mock parses twice (errors first, then points in chunks) to stay bounded. Every failure is a plain-text body plus newline although the content type says JSON.
"""

from __future__ import annotations

import struct
import zlib

from mockserver import auth
from mockserver.errors import MockError, PlainTextError
from mockserver.gotext import go_quote
from mockserver.operations.registry import Call, Reply, operation
from mockserver.store import lineprotocol

_HEADER_FLAG_CRC, _FLAG_EXTRA, _FLAG_NAME, _FLAG_COMMENT = 0x02, 0x04, 0x08, 0x10
_MAX_HEADER_STRING = 512
#: Largest decompressed body the mock reads. The real server reads any size into memory; a 1 MB
#: gzip bomb then costs gigabytes, so the mock stops at this many bytes with a 413.
MAX_DECOMPRESSED = 32 << 20
_STEP = 1 << 20


class GzipError(MockError):
    """A body Go's gzip reader rejects; `str()` is Go's error text."""


class BodyTooLarge(MockError):
    """The decompressed body would exceed MAX_DECOMPRESSED."""


def _inflate(stream: bytes, limit: int) -> tuple[list[bytes], zlib._Decompress]:
    """Raw-deflate `stream` in bounded steps; BodyTooLarge once the output passes `limit`."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out: list[bytes] = []
    total = 0
    pending = stream
    while not inflater.eof:
        chunk = inflater.decompress(pending, _STEP)
        pending = inflater.unconsumed_tail
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge()
        out.append(chunk)
        if not chunk and not pending:
            break  # input exhausted before the end of the stream
    return out, inflater


def go_gunzip(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress like Go's `gzip.Reader` read to the end (multistream, header and trailer checks),
    never producing more than `limit` bytes (BodyTooLarge)."""
    produced = 0
    out: list[bytes] = []
    pos, n = 0, len(data)
    first = True
    while pos < n or first:
        if pos >= n:
            raise GzipError("EOF")  # an empty body: the header read hits EOF
        if n - pos < 10:
            raise GzipError("unexpected EOF")
        start = pos
        if data[pos] != 0x1F or data[pos + 1] != 0x8B or data[pos + 2] != 8:
            raise GzipError("gzip: invalid header")
        flags = data[pos + 3]
        pos += 10
        if flags & _FLAG_EXTRA:
            if n - pos < 2:
                raise GzipError("unexpected EOF")
            (size,) = struct.unpack_from("<H", data, pos)
            pos += 2
            if n - pos < size:
                raise GzipError("unexpected EOF")
            pos += size
        for flag in (_FLAG_NAME, _FLAG_COMMENT):
            if flags & flag:
                end = data.find(b"\0", pos, pos + _MAX_HEADER_STRING)
                if end < 0:
                    raise GzipError("gzip: invalid header" if n - pos >= _MAX_HEADER_STRING else "unexpected EOF")
                pos = end + 1
        if flags & _HEADER_FLAG_CRC:
            if n - pos < 2:
                raise GzipError("unexpected EOF")
            (digest,) = struct.unpack_from("<H", data, pos)
            if digest != zlib.crc32(data[start:pos]) & 0xFFFF:
                raise GzipError("gzip: invalid header")
            pos += 2
        try:
            pieces, inflater = _inflate(data[pos:], limit - produced)
        except zlib.error:
            raise GzipError(f"flate: corrupt input before offset {_corrupt_offset(data[pos:], limit)}") from None
        chunk = b"".join(pieces)
        produced += len(chunk)
        if not inflater.eof:
            raise GzipError("unexpected EOF")
        pos = n - len(inflater.unused_data)
        if n - pos < 8:
            raise GzipError("unexpected EOF")
        crc, size = struct.unpack_from("<II", data, pos)
        if crc != zlib.crc32(chunk) or size != len(chunk) & 0xFFFFFFFF:
            raise GzipError("gzip: invalid checksum")
        pos += 8
        out.append(chunk)
        first = False
    return b"".join(out)


def _corrupt_offset(stream: bytes, limit: int) -> int:
    """How far Go's inflater reads before giving up: the shortest prefix zlib rejects (each try is
    bounded: the corruption was met within `limit` output bytes, so a longer prefix passes it)."""
    low, high = 1, len(stream)
    while low < high:
        mid = (low + high) // 2
        try:
            _inflate(stream[:mid], limit)
        except zlib.error:
            high = mid
        except BodyTooLarge:
            low = mid + 1
        else:
            low = mid + 1
    return low


def _write(call: Call) -> Reply:
    body = call.body()
    if call.req.get_header("Content-Encoding") == "gzip":
        try:
            body = go_gunzip(body)
        except GzipError as exc:
            raise PlainTextError(str(exc), 400) from None
        except BodyTooLarge:
            raise PlainTextError("http: request body too large", 413) from None
    precision = call.first("precision") or "n"
    now = call.state.clock()
    # Two passes keep a write bounded by one chunk of points: the first only collects bad lines
    # (the server parses the whole body and writes nothing if one line is bad), the second feeds
    # the points on, a chunk at a time.
    failures = lineprotocol.find_errors(body, now, precision)
    if failures:
        raise PlainTextError("\n".join(failures), 400)
    db = call.first("db")
    if not db:
        raise PlainTextError("database is required", 400)
    if call.config.auth:
        user = auth.request_user(call.req, call.state, call.config)
        if not user.can_write_database(db):
            raise PlainTextError(
                f"{go_quote(user.name)} user is not authorized to write to database {go_quote(db)}", 401
            )
    rp = call.first("rp")
    for points in lineprotocol.iter_chunks(body, now, precision):
        call.state.points.write(db, rp, points)
        call.state.engine.write(db, rp, points)  # the data plane: enabled stream tasks
    return Reply(204)


@operation("writePoints")
def write_points(call: Call) -> Reply:
    return _write(call)


@operation("writePointsRoot")
def write_points_root(call: Call) -> Reply:
    return _write(call)
