"""InfluxDB 1.x line protocol, parsed the way Kapacitor's write endpoint parses it.

Clients see the parser through its error texts (`unable to parse '<line>': <reason>`, one per bad
line) and through which odd inputs it accepts, so this is a scanner with the same states and the
same checks, in the same order, as the `models` package Kapacitor links (InfluxDB 1.x; the 1.5.x
and 1.9.x copies differ only in the series-key length check per field, which is applied here, and
in how a backslash right before the end of the body is treated). It works on bytes, like the
original: positions, escapes and the line splitting rules are byte rules.

Unsigned integers (`12u`) are rejected by default, as in Kapacitor: the upstream parser only
accepts them when built with a `uint` tag, which Kapacitor's builds do not use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from mockserver.errors import MockError

MAX_KEY_LENGTH = 65535
MIN_NANO_TIME = -(2**63) + 2
MAX_NANO_TIME = 2**63 - 2
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
MAX_INT64_DIGITS = 19
MAX_UINT64_DIGITS = 20
MAX_FLOAT64_DIGITS = 25

PRECISIONS = {"n": 1, "u": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}

_BACKSLASH, _COMMA, _SPACE, _EQUALS, _QUOTE, _NEWLINE, _HASH = 92, 44, 32, 61, 34, 10, 35
_WHITESPACE = (32, 9, 0)
_TAG_KEY, _TAG_VALUE, _FIELDS = 0, 1, 2


class LineError(MockError):
    """Why one line was rejected; the text is the upstream reason."""


class ParseError(MockError):
    """A body with at least one bad line; `str()` is every line's error joined by newlines."""

    def __init__(self, failures: list[str], points: list[Point]) -> None:
        super().__init__("\n".join(failures))
        self.failures = failures
        self.points = points


@dataclass(frozen=True)
class Point:
    """One parsed point; `key` is the escaped series key with tags sorted, as the server keeps it."""

    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: dict[str, Any]
    time: int
    key: bytes

    def line(self) -> bytes:
        """The point re-encoded as line protocol with a nanosecond timestamp (the recording format)."""
        parts = [escape_field_key(k) + b"=" + encode_field_value(v) for k, v in sorted(self.fields.items())]
        return self.key + b" " + b",".join(parts) + b" " + str(self.time).encode()


#: Lines parsed per chunk by `iter_chunks`: what one write holds in memory at a time.
CHUNK_LINES = 5000
#: Error text `find_errors` keeps. The server lists every bad line however many; past this the
#: mock counts the rest in one closing line, so an all-bad 32 MiB body cannot cost gigabytes.
MAX_ERROR_BYTES = 4 << 20


def parse_points(buf: bytes, default_time: int, precision: str = "n", *, uint_support: bool = False) -> list[Point]:
    """Parse a whole body; raise ParseError listing every bad line (the good ones are not written)."""
    points: list[Point] = []
    failures: list[str] = []
    for item in _parse(buf, default_time, precision, uint_support):
        if isinstance(item, Point):
            points.append(item)
        else:
            failures.append(item)
    if failures:
        raise ParseError(failures, points)
    return points


def find_errors(buf: bytes, default_time: int, precision: str = "n", *, uint_support: bool = False,
                limit: int = MAX_ERROR_BYTES) -> list[str]:
    """The first pass of a write: every bad line's error (up to `limit` bytes of text), no points kept."""
    failures: list[str] = []
    size = skipped = 0
    for item in _parse(buf, default_time, precision, uint_support):
        if isinstance(item, Point):
            continue
        if size + len(item) > limit:
            skipped += 1
            continue
        size += len(item) + 1
        failures.append(item)
    if skipped:
        failures.append(f"({skipped} more lines unable to parse, not listed by the mock)")
    return failures


def iter_chunks(buf: bytes, default_time: int, precision: str = "n", *, uint_support: bool = False,
                size: int = CHUNK_LINES) -> Iterator[list[Point]]:
    """The second pass of a write (after `find_errors` found none): the points, `size` at a time."""
    chunk: list[Point] = []
    for item in _parse(buf, default_time, precision, uint_support):
        if isinstance(item, Point):
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


#: Bytes of a simple body split into lines at once (a slice ending at a newline).
_SLICE = 1 << 18


def _simple_lines(buf: bytes) -> Iterator[bytes]:
    """The lines of a body without quotes or backslashes, split a bounded slice at a time."""
    pos, n = 0, len(buf)
    while pos < n:
        end = buf.find(b"\n", min(pos + _SLICE, n))
        if end < 0:
            end = n
        yield from buf[pos:end].split(b"\n")
        pos = end + 1


def _parse(buf: bytes, default_time: int, precision: str, uint_support: bool) -> Iterator[Point | str]:
    """Each line's point, or its error text, in body order."""
    # Without quotes or backslashes a line ends at every newline, and plain lines can take the
    # regex fast path; anything the fast path does not fully vouch for goes through the scanner.
    simple = b'"' not in buf and b"\\" not in buf
    for block in _simple_lines(buf) if simple else _blocks(buf):
        if not block:
            continue
        start = _skip_whitespace(block, 0)
        if start >= len(block) or block[start] == _HASH:
            continue
        if block[-1] == _NEWLINE:
            block = block[:-1]
        line = block[start:]
        point = _fast_point(line, default_time, precision) if simple else None
        if point is not None:
            yield point
            continue
        try:
            yield _parse_point(line, default_time, precision, uint_support)
        except LineError as exc:
            yield f"unable to parse '{line.decode('utf-8', 'surrogateescape')}': {exc}"


def _blocks(buf: bytes) -> Iterator[bytes]:
    n = len(buf)
    pos = 0
    while pos < n:
        end = _scan_line(buf, pos)
        yield buf[pos:end]
        pos = end + 1


_NAME = rb"[A-Za-z0-9_.:/-]+"
_VALUE = (
    rb"(?:-?[0-9]{1,18}i|-?(?:[0-9]{1,15}(?:\.[0-9]{0,7})?|\.[0-9]{1,7})"
    rb"|t|T|true|True|TRUE|f|F|false|False|FALSE)"
)
_FIELD = _NAME + rb"=" + _VALUE
_FAST_LINE = re.compile(rb"(%s)((?:,%s=%s)*) (%s(?:,%s)*)(?: +(-?[0-9]+))? *" % (_NAME, _NAME, _NAME, _FIELD, _FIELD))
_TRUE = frozenset((b"t", b"T", b"true", b"True", b"TRUE"))


def _fast_point(line: bytes, default_time: int, precision: str) -> Point | None:
    """A point for a line with no escapes, quotes, exponents or long numbers, or None.

    Every line this accepts is accepted by the scanner with the same result; None means "ask the
    scanner", which also produces the exact error for bad lines.
    """
    m = _FAST_LINE.fullmatch(line)
    if m is None:
        return None
    measurement, tag_part, field_part, ts = m.groups()
    tags: list[tuple[str, str]] = []
    if tag_part:
        previous = b""
        for segment in tag_part[1:].split(b","):
            name, _, value = segment.partition(b"=")
            if name <= previous:
                return None  # unsorted or duplicate tags: the scanner sorts or reports them
            previous = name
            tags.append((name.decode(), value.decode()))
    key = measurement + tag_part
    fields: dict[str, Any] = {}
    for pair in field_part.split(b","):
        name, _, raw = pair.partition(b"=")
        if len(key) + 4 + len(name) > MAX_KEY_LENGTH:
            return None
        last = raw[-1]
        if last == 105:  # i
            fields[name.decode()] = int(raw[:-1])
        elif raw[0] in b"tTfF":
            fields[name.decode()] = raw in _TRUE
        else:
            fields[name.decode()] = float(raw)
    if ts is None:
        mult = PRECISIONS.get(precision, 1)
        when = default_time - default_time % mult
    else:
        try:
            when = _timestamp(ts, precision)
        except LineError:
            return None
    return Point(measurement.decode(), tuple(tags), fields, when, key)


# ---- scanning --------------------------------------------------------------------------------------


def _skip_whitespace(buf: bytes, i: int) -> int:
    n = len(buf)
    while i < n and buf[i] in _WHITESPACE:
        i += 1
    return i


def _scan_line(buf: bytes, i: int) -> int:
    """End of the line starting at `i`: a newline outside a quoted field value, or the end."""
    n = len(buf)
    quoted = False
    fields = False
    equals = commas = 0
    while i < n:
        c = buf[i]
        if c == _BACKSLASH and i + 2 < n:
            i += 2
            continue
        if c == _SPACE:
            fields = True
        if fields:
            if not quoted and c == _EQUALS:
                i += 1
                equals += 1
                continue
            if not quoted and c == _COMMA:
                i += 1
                commas += 1
                continue
            if c == _QUOTE and equals > commas:
                i += 1
                quoted = not quoted
                continue
        if c == _NEWLINE and not quoted:
            break
        i += 1
    return i


def _parse_point(buf: bytes, default_time: int, precision: str, uint_support: bool) -> Point:
    pos, key, measurement, tag_segments = _scan_key(buf, 0)
    if not key:
        raise LineError("missing measurement")
    if len(key) > MAX_KEY_LENGTH:
        raise LineError(f"max key length exceeded: {len(key)} > {MAX_KEY_LENGTH}")
    pos, fields_raw = _scan_fields(buf, pos, uint_support)
    if not fields_raw:
        raise LineError("missing fields")
    pairs = _walk_fields(fields_raw, len(key))
    pos, ts = _scan_time(buf, pos)
    if not ts:
        mult = PRECISIONS.get(precision, 1)
        when = default_time - default_time % mult
    else:
        when = _timestamp(ts, precision)
        while pos < len(buf):
            if buf[pos] != _SPACE:
                raise LineError("point is invalid")
            pos += 1
    tags = tuple(_split_tag(seg) for seg in tag_segments)
    fields: dict[str, Any] = {}
    for field_key, raw in pairs:
        name = _unescape(field_key, b',=" ').decode("utf-8", "replace")
        if name:
            fields[name] = _field_value(raw)
    return Point(_unescape(measurement, b", ").decode("utf-8", "replace"), tags, fields, when, key)


def _timestamp(ts: bytes, precision: str) -> int:
    text = ts.decode("ascii")
    if text in ("", "-"):
        raise LineError(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise LineError(f'strconv.ParseInt: parsing "{text}": value out of range')
    when = value * PRECISIONS.get(precision, 1)
    if not MIN_NANO_TIME <= when <= MAX_NANO_TIME:
        raise LineError(f"time outside range {MIN_NANO_TIME} - {MAX_NANO_TIME}")
    return when


def _scan_key(buf: bytes, i: int) -> tuple[int, bytes, bytes, list[bytes]]:
    """Measurement and tags; returns (end, series key with sorted tags, raw measurement, tag segments)."""
    start = _skip_whitespace(buf, i)
    state, i = _scan_measurement(buf, start)
    segments: list[bytes] = []
    measurement_end = i
    if state == _TAG_KEY:
        measurement_end = i - 1
        i, segments = _scan_tags(buf, i)
    names = [_tag_key(seg) for seg in segments]
    ordered = True
    for left, right in pairwise(names):
        if left > right:
            ordered = False
            break
        if left == right:
            raise LineError("duplicate tags")
    if not ordered:
        order = sorted(range(len(segments)), key=names.__getitem__)
        segments = [segments[k] for k in order]
        names = [names[k] for k in order]
        for left, right in pairwise(names):
            if left == right:
                raise LineError("duplicate tags")
        key = buf[start:measurement_end] + b"," + b",".join(segments)
    else:
        key = buf[start:i]
    return i, key, buf[start:measurement_end], segments


def _tag_key(segment: bytes) -> bytes:
    """The raw (still escaped) tag key: up to the first `=` not preceded by a backslash."""
    for j, c in enumerate(segment):
        if c == _EQUALS and (j == 0 or segment[j - 1] != _BACKSLASH):
            return segment[:j]
    return segment


def _scan_measurement(buf: bytes, i: int) -> tuple[int, int]:
    n = len(buf)
    if i >= n or buf[i] == _COMMA:
        raise LineError("missing measurement")
    while True:
        i += 1
        if i >= n:
            raise LineError("missing fields")
        if buf[i - 1] == _BACKSLASH:
            continue
        if buf[i] == _COMMA:
            return _TAG_KEY, i + 1
        if buf[i] == _SPACE:
            return _FIELDS, i


def _scan_tags(buf: bytes, i: int) -> tuple[int, list[bytes]]:
    starts: list[int] = []
    state = _TAG_KEY
    while True:
        if state == _TAG_KEY:
            starts.append(i)
            i = _scan_tag_key(buf, i)
            state = _TAG_VALUE
        elif state == _TAG_VALUE:
            state, i = _scan_tag_value(buf, i)
        else:
            starts.append(i + 1)
            return i, [buf[starts[k] : starts[k + 1] - 1] for k in range(len(starts) - 1)]


def _scan_tag_key(buf: bytes, i: int) -> int:
    n = len(buf)
    if i >= n or buf[i] in (_SPACE, _COMMA, _EQUALS):
        raise LineError("missing tag key")
    while True:
        i += 1
        if i >= n or (buf[i] in (_SPACE, _COMMA) and buf[i - 1] != _BACKSLASH):
            raise LineError("missing tag value")
        if buf[i] == _EQUALS and buf[i - 1] != _BACKSLASH:
            return i + 1


def _scan_tag_value(buf: bytes, i: int) -> tuple[int, int]:
    n = len(buf)
    if i >= n or buf[i] in (_COMMA, _SPACE):
        raise LineError("missing tag value")
    while True:
        i += 1
        if i >= n:
            raise LineError("missing fields")
        c = buf[i]
        if buf[i - 1] == _BACKSLASH:
            continue
        if c == _EQUALS:
            raise LineError("invalid tag format")
        if c == _COMMA:
            return _TAG_KEY, i + 1
        if c == _SPACE:
            return _FIELDS, i


def _scan_fields(buf: bytes, i: int, uint_support: bool) -> tuple[int, bytes]:
    start = _skip_whitespace(buf, i)
    i = start
    n = len(buf)
    quoted = False
    equals = commas = 0
    while i < n:
        c = buf[i]
        if c == _BACKSLASH and i + 1 < n:
            i += 2
            continue
        if c == _QUOTE and equals > commas:
            quoted = not quoted
            i += 1
            continue
        if c == _EQUALS and not quoted:
            equals += 1
            if buf[i - 1] == _SPACE and buf[i - 2] != _BACKSLASH:
                raise LineError("missing field key")
            if buf[i - 1] == _COMMA and buf[i - 2] != _BACKSLASH:
                raise LineError("missing field key")
            if i + 1 >= n:
                raise LineError("missing field value")
            nxt = buf[i + 1]
            if nxt in (_COMMA, _SPACE):
                raise LineError("missing field value")
            if _is_numeric(nxt) or nxt in b"-Nn":
                i = _scan_number(buf, i + 1, uint_support)
                continue
            if nxt != _QUOTE:
                i = _scan_boolean(buf, i + 1)
                continue
        if c == _COMMA and not quoted:
            commas += 1
        if c == _SPACE and not quoted:
            break
        i += 1
    if quoted:
        raise LineError("unbalanced quotes")
    if equals == 0 or commas != equals - 1:
        raise LineError("invalid field format")
    return i, buf[start:i]


def _scan_time(buf: bytes, i: int) -> tuple[int, bytes]:
    start = _skip_whitespace(buf, i)
    i = start
    n = len(buf)
    while i < n:
        c = buf[i]
        if c in (_NEWLINE, _SPACE):
            break
        if i == start and c == 45:  # '-'
            i += 1
            continue
        if not 48 <= c <= 57:
            raise LineError("bad timestamp")
        i += 1
    return i, buf[start:i]


def _is_numeric(c: int) -> bool:
    return 48 <= c <= 57 or c == 46


def _scan_number(buf: bytes, i: int, uint_support: bool) -> int:
    start = i
    n = len(buf)
    is_int = is_unsigned = False
    if i < n and buf[i] == 45:
        i += 1
        if i == n:
            raise LineError("invalid number")
    decimal = scientific = False
    while i < n:
        c = buf[i]
        if c in (_COMMA, _SPACE):
            break
        if c == 105 and i > start and not (is_int or is_unsigned):  # 'i'
            is_int = True
            i += 1
            continue
        if c == 117 and i > start and not (is_int or is_unsigned):  # 'u'
            is_unsigned = True
            i += 1
            continue
        if c == 46:
            if decimal:
                raise LineError("invalid number")
            decimal = True
        if i > start and c in (101, 69):  # e E
            scientific = True
            i += 1
            continue
        if c in (43, 45) and buf[i - 1] in (101, 69):
            i += 1
            continue
        if i + 2 < n and c in (78, 110):  # N n
            raise LineError("invalid number")
        if not _is_numeric(c):
            raise LineError("invalid number")
        i += 1
    if (is_int or is_unsigned) and (decimal or scientific):
        raise LineError("invalid number")
    digits = i - start - int(is_int) - int(decimal) - int(buf[start] == 45)
    if digits == 0:
        raise LineError("invalid number")
    text = buf[start:i].decode("ascii")
    if is_int:
        if buf[i - 1] != 105:
            raise LineError("invalid number")
        body = text[:-1]
        if len(body) >= MAX_INT64_DIGITS and not _fits(body, INT64_MIN, INT64_MAX):
            raise LineError(f"unable to parse integer {body}: {_strconv_error('ParseInt', body)}")
    elif is_unsigned:
        if not uint_support or buf[i - 1] != 117 or buf[start] == 45:
            raise LineError("invalid number")
        body = text[:-1]
        if len(body) >= MAX_UINT64_DIGITS and not _fits(body, 0, UINT64_MAX):
            raise LineError(f"unable to parse unsigned {body}: {_strconv_error('ParseUint', body)}")
    elif (scientific or len(text) >= MAX_FLOAT64_DIGITS) and _go_float(text) is None:
        raise LineError("invalid float")
    return i


def _fits(body: str, low: int, high: int) -> bool:
    try:
        return low <= int(body) <= high
    except ValueError:
        return False


def _strconv_error(func: str, body: str) -> str:
    reason = "invalid syntax"
    try:
        int(body)
        reason = "value out of range"
    except ValueError:
        pass
    return f'strconv.{func}: parsing "{body}": {reason}'


def _go_float(text: str) -> float | None:
    """`strconv.ParseFloat(text, 64)` for the characters the scanner lets through; None on error."""
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isinf(value):
        return None  # Go reports a range error where Python rounds to infinity
    return value


def _scan_boolean(buf: bytes, i: int) -> int:
    start = i
    n = len(buf)
    if i < n and buf[i] not in b"tfTF":
        raise LineError("invalid boolean")
    i += 1
    while i < n and buf[i] not in (_COMMA, _SPACE):
        i += 1
    word = buf[start:i]
    if len(word) == 1:
        return i
    if word[:1] in (b"t", b"T") and len(word) != 4:
        raise LineError("invalid boolean")
    if word[:1] in (b"f", b"F") and len(word) != 5:
        raise LineError("invalid boolean")
    if word not in (b"true", b"false", b"TRUE", b"True", b"FALSE", b"False"):
        raise LineError("invalid boolean")
    return i


def _walk_fields(buf: bytes, key_length: int) -> list[tuple[bytes, bytes]]:
    """Split the fields block into (raw key, raw value) pairs, checking each series key's length
    as it goes (upstream stops at the first too-long one, before looking at later fields)."""
    pairs: list[tuple[bytes, bytes]] = []
    while buf:
        i = 0
        n = len(buf)
        while i < n and not (buf[i] == _EQUALS and (i == 0 or buf[i - 1] != _BACKSLASH)):
            i += 1
        key = buf[:i]
        if i > n - 2:
            raise LineError(f"invalid value: field-key={key.decode('utf-8', 'surrogateescape')}")
        buf = buf[i + 1 :]
        j = 0
        n = len(buf)
        quoted = False
        while j < n:
            c = buf[j]
            if c == _BACKSLASH and j + 1 < n and buf[j + 1] in (_QUOTE, _BACKSLASH):
                j += 2
                continue
            if c == _QUOTE:
                quoted = not quoted
                j += 1
                continue
            if c == _COMMA and not quoted:
                break
            j += 1
        size = key_length + 4 + len(key)
        if size > MAX_KEY_LENGTH:
            raise LineError(f"max key length exceeded: {size} > {MAX_KEY_LENGTH}")
        pairs.append((key, buf[:j]))
        buf = buf[j + 1 :] if j < n else b""
    return pairs


def _field_value(raw: bytes) -> Any:
    """The typed value of a field that already passed the scanner."""
    first, last = raw[:1], raw[-1:]
    if first == b'"':
        inner = raw[1:-1].decode("utf-8", "replace")
        return inner.replace('\\"', '"').replace("\\\\", "\\") if "\\" in inner else inner
    if first in (b"t", b"T"):
        return True
    if first in (b"f", b"F"):
        return False
    if last == b"i":
        return int(raw[:-1])
    if last == b"u":
        return Unsigned(int(raw[:-1]))
    return float(raw)


class Unsigned(int):
    """An unsigned field value (only with uint support); kept apart so it re-encodes with `u`."""


def _unescape(raw: bytes, chars: bytes) -> bytes:
    if b"\\" not in raw:
        return raw
    for ch in set(chars):
        raw = raw.replace(b"\\" + bytes([ch]), bytes([ch]))
    return raw


def _split_tag(segment: bytes) -> tuple[str, str]:
    key = _tag_key(segment)
    value = segment[len(key) + 1 :]
    return (
        _unescape(key, b",= ").decode("utf-8", "replace"),
        _unescape(value, b",= ").decode("utf-8", "replace"),
    )


# ---- encoding ----------------------------------------------------------------------------------------


def escape_field_key(name: str) -> bytes:
    return name.encode().replace(b",", b"\\,").replace(b"=", b"\\=").replace(b" ", b"\\ ")


def encode_field_value(value: Any) -> bytes:
    """Upstream's field encoding: floats in shortest `%f` form, `i`/`u` suffixes, quoted strings."""
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, Unsigned):
        return str(int(value)).encode() + b"u"
    if isinstance(value, int):
        return str(value).encode() + b"i"
    if isinstance(value, float):
        return format_float(value).encode()
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return b'"' + text.encode() + b'"'


def format_float(value: float) -> str:
    """Go `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent."""
    text = repr(value)
    if "e" not in text and "E" not in text:
        return text[:-2] if text.endswith(".0") else text
    mantissa, _, exp = text.partition("e")
    sign = ""
    if mantissa.startswith("-"):
        sign, mantissa = "-", mantissa[1:]
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    point = len(whole) + int(exp)
    if point <= 0:
        out = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        out = digits + "0" * (point - len(digits))
    else:
        out = digits[:point] + "." + digits[point:]
    return sign + out
