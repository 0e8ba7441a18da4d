"""Timestamps as Go's time.Time marshals them (RFC 3339 with trimmed nanoseconds, `Z` for UTC)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal

from mockserver.gotext import go_quote

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


def parse_rfc3339(value: str) -> int:
    """Parse an RFC 3339 timestamp (Go's time.RFC3339 layout, fraction optional) into ns.

    Raises ValueError with Go's wording when the text does not fit the layout.
    """
    text = value
    try:
        if not text or len(text) < 20 or text[10] not in "Tt":
            raise ValueError
        date_part, rest = text[:19], text[19:]
        frac_ns = 0
        if rest.startswith("."):
            digits = ""
            i = 1
            while i < len(rest) and rest[i].isdigit() and rest[i].isascii():
                digits += rest[i]
                i += 1
            if not digits:
                raise ValueError
            frac_ns = int((digits + "000000000")[:9])
            rest = rest[i:]
        if rest in ("Z", "z"):
            offset = 0
        else:
            if len(rest) != 6 or rest[0] not in "+-" or rest[3] != ":":
                raise ValueError
            offset = (int(rest[1:3]) * 3600 + int(rest[4:6]) * 60) * (1 if rest[0] == "+" else -1)
        dt = datetime.strptime(date_part.replace("t", "T"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        return (int(dt.timestamp()) - offset) * 1_000_000_000 + frac_ns
    except (ValueError, IndexError):
        raise ValueError(
            f'parsing time "\\"{value}\\"" as "\\"2006-01-02T15:04:05Z07:00\\"": cannot parse "\\"{value}\\""'
            ' as "2006"'
        ) from None


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
