"""Timestamps as Go's time.Time marshals them (RFC 3339 with trimmed nanoseconds, `Z` for UTC)."""

from __future__ import annotations

import time
from decimal import Decimal

from mockserver.gotext import go_bytes, go_quote

ZERO_TIME = "0001-01-01T00:00:00Z"

#: Nanoseconds from Go's zero time (January 1, year 1) to the Unix epoch: Go truncates and rounds
#: times on that absolute clock, which differs from the epoch's for a duration that does not
#: divide a day (7s windows, say).
_ABSOLUTE_OFFSET_NS = 62_135_596_800 * 1_000_000_000


def go_truncate(t: int, d: int) -> int:
    """time.Time.Truncate for a Unix-nanosecond time (`d` <= 0 leaves it as it is)."""
    if d <= 0:
        return t
    return t - (t + _ABSOLUTE_OFFSET_NS) % d


def go_round(t: int, d: int) -> int:
    """time.Time.Round for a Unix-nanosecond time: halfway values round up (`d` <= 0: as it is)."""
    if d <= 0:
        return t
    r = (t + _ABSOLUTE_OFFSET_NS) % d
    return t - r if r + r < d else t + d - r


def now_ns() -> int:
    return time.time_ns()


def format_ns(ns: int | None) -> str:
    """Go `time.Time` JSON form; `None` is the zero time."""
    if ns is None:
        return ZERO_TIME
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        return f"{base}.{frac:09d}".rstrip("0") + "Z"
    return base + "Z"


def format_seconds(ns: int) -> str:
    """RFC 3339 at second precision (the recording/replay date index key)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // 1_000_000_000))


# ---- time.Parse with the RFC 3339 layout ---------------------------------------------------------
#
# A port of Go 1.19's time.Parse for the one layout the server parses, `2006-01-02T15:04:05Z07:00`,
# bare (time.Parse(time.RFC3339, s)) or between double quotes (time.Time.UnmarshalJSON, which hands
# the JSON token's raw bytes to Parse). It works on bytes, as Go does, so the errors name the same
# parts: `cannot parse <rest of the value> as <layout element>` when the text does not fit, `<field>
# out of range` when it fits but a field does not (the day is checked against the month last).

#: The layout's elements: (element, is a value field); between them the literal separators.
_LAYOUT = (("2006", True), ("-", False), ("01", True), ("-", False), ("02", True), ("T", False), ("15", True),
           (":", False), ("04", True), (":", False), ("05", True), ("Z07:00", True))  # fmt: skip
_QUOTED_LAYOUT = (('"', False), *_LAYOUT, ('"', False))
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365)


def time_quote(data: bytes) -> str:
    """The time package's own quote (Go 1.19): every byte outside printable ASCII as `\\xNN`."""
    out = ['"']
    for b in data:
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        elif b in b'"\\':
            out.append("\\" + chr(b))
        else:
            out.append(chr(b))
    out.append('"')
    return "".join(out)


class _Bad(Exception):
    """The value does not fit the layout element (Go's errBad); `rest` is the value left."""

    def __init__(self, rest: bytes) -> None:
        self.rest = rest


def _getnum(s: bytes, fixed: bool) -> tuple[int, bytes]:
    if not s[:1].isdigit():
        raise _Bad(s)
    if not s[1:2].isdigit():
        if fixed:
            raise _Bad(s)
        return s[0] - 48, s[1:]
    return (s[0] - 48) * 10 + s[1] - 48, s[2:]


def _atoi(s: bytes, rest: bytes) -> int:
    """Go's time.atoi: an optional sign, then only digits (none at all reads as 0)."""
    digits = s[1:] if s[:1] in (b"+", b"-") else s
    if digits and not digits.isdigit():
        raise _Bad(rest)
    number = int(digits or b"0")
    return -number if s[:1] == b"-" else number


def _days_in(month: int, year: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_BEFORE[month] - _DAYS_BEFORE[month - 1]


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _field(element: str, value: bytes, fields: dict[str, int]) -> tuple[bytes, str]:
    """Parse one value element: (rest of the value, range error or "")."""
    if element == "2006":
        if len(value) < 4 or not value[:1].isdigit():
            raise _Bad(value)
        digits, value = value[:4], value[4:]
        if not digits.isdigit():  # Go's atoi: a sign can only come first, and the first is a digit
            raise _Bad(value)
        fields["year"] = int(digits)
        return value, ""
    if element in ("01", "02", "04", "05", "15"):
        number, value = _getnum(value, fixed=element != "15")
        name = {"01": "month", "02": "day", "15": "hour", "04": "minute", "05": "second"}[element]
        fields[name] = number
        if element == "01" and not 1 <= number <= 12:
            return value, "month"
        if element == "15" and number >= 24:
            return value, "hour"
        if element in ("04", "05") and number >= 60:
            return value, "minute" if element == "04" else "second"
        if element == "05" and len(value) >= 2 and value[:1] in b".," and value[1:2].isdigit():
            n = 2
            while value[n : n + 1].isdigit():
                n += 1
            fields["nsec"] = int((value[1:min(n, 10)] + b"000000000")[:9])
            value = value[n:]
        return value, ""
    # Z07:00
    if value[:1] == b"Z":
        return value[1:], ""
    if len(value) < 6 or value[3:4] != b":":
        raise _Bad(value)
    sign, hour, minute, value = value[:1], value[1:3], value[4:6], value[6:]
    offset = (_atoi(hour, value) * 60 + _atoi(minute, value)) * 60
    if sign not in (b"+", b"-"):
        raise _Bad(value)
    fields["offset"] = offset if sign == b"+" else -offset
    return value, ""


def _parse(data: bytes, layout: tuple[tuple[str, bool], ...]) -> int:
    whole = time_quote(data)
    layout_text = "".join(element for element, _ in layout)
    fields = {"year": 0, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0, "nsec": 0, "offset": 0}
    value = data
    for element, is_field in layout:
        try:
            if not is_field:
                if value[:1] != element.encode():
                    raise _Bad(value)
                value = value[1:]
                continue
            value, out_of_range = _field(element, value, fields)
        except _Bad as bad:
            raise ValueError(
                f"parsing time {whole} as {time_quote(layout_text.encode())}: cannot parse {time_quote(bad.rest)}"
                f" as {time_quote(element.encode())}"
            ) from None
        if out_of_range:
            raise ValueError(f"parsing time {whole}: {out_of_range} out of range")
    if value:
        raise ValueError(f"parsing time {whole}: extra text: {time_quote(value)}")
    year, month, day = fields["year"], fields["month"], fields["day"]
    if not 1 <= day <= _days_in(month, year):
        raise ValueError(f"parsing time {whole}: day out of range")
    seconds = _days_from_civil(year, month, day) * 86400 + fields["hour"] * 3600 + fields["minute"] * 60
    return (seconds + fields["second"] - fields["offset"]) * 1_000_000_000 + fields["nsec"]


def parse_rfc3339(value: str) -> int:
    """time.Parse(time.RFC3339, value) into Unix nanoseconds; ValueError with Go's text.

    `value` is a Go string in gotext's convention (surrogate escapes stand for invalid bytes).
    """
    return _parse(go_bytes(value), _LAYOUT)


def unmarshal_time(raw: str) -> int | None:
    """time.Time.UnmarshalJSON of a JSON value's text as sent: None for `null` (no change), else
    Parse(`"` + RFC3339 + `"`, raw) into Unix nanoseconds; ValueError with Go's text."""
    if raw == "null":
        return None
    return _parse(go_bytes(raw), _QUOTED_LAYOUT)


# ---- time.Duration --------------------------------------------------------------------------------

_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
       "m": 60_000_000_000, "h": 3_600_000_000_000}  # fmt: skip


def go_duration(ns: int) -> str:
    """time.Duration.String(): `0s`, `1.5s`, `5m0s`, `1h0m0s`, `250ms`, `1.5µs`, `100ns`."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1_000:
            out = f"{u}ns"
        elif u < 1_000_000:
            out = _frac(u, 1_000, 3) + "µs"
        else:
            out = _frac(u, 1_000_000, 6) + "ms"
    else:
        secs, rem = divmod(u, 1_000_000_000)
        out = str(secs % 60) + (("." + f"{rem:09d}".rstrip("0")) if rem else "") + "s"
        mins = secs // 60
        if mins:
            out = f"{mins % 60}m" + out
            hours = mins // 60
            if hours:
                out = f"{hours}h" + out
    return "-" + out if neg else out


def _frac(value: int, unit: int, digits: int) -> str:
    whole, rem = divmod(value, unit)
    return str(whole) + ("." + f"{rem:0{digits}d}".rstrip("0") if rem else "")


def parse_go_duration(text: str) -> int:
    """time.ParseDuration (used by the mock-only event injection route); raises ValueError."""
    orig = text
    if text in ("0", "+0", "-0"):
        return 0
    neg = text[:1] == "-"
    if text[:1] in "+-":
        text = text[1:]
    if not text:
        raise ValueError(f"time: invalid duration {go_quote(orig)}")
    total = 0
    while text:
        i = 0
        while i < len(text) and text[i].isascii() and text[i].isdigit():
            i += 1
        whole = text[:i]
        frac = ""
        if text[i : i + 1] == ".":
            j = i + 1
            while j < len(text) and text[j].isascii() and text[j].isdigit():
                j += 1
            frac = text[i + 1 : j]
            i = j
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {go_quote(orig)}")
        j = i
        while j < len(text) and not (text[j].isascii() and (text[j].isdigit() or text[j] == ".")):
            j += 1
        unit = text[i:j]
        if not unit:
            raise ValueError(f"time: missing unit in duration {go_quote(orig)}")
        if unit not in _NS:
            raise ValueError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(orig)}")
        scale = _NS[unit]
        total += int(whole or "0") * scale + (int(Decimal("0." + frac) * scale) if frac else 0)
        if total > 2**63 - 1 + (1 if neg else 0):
            raise ValueError(f"time: invalid duration {go_quote(orig)}")
        text = text[j:]
    return -total if neg else total
