"""Timestamps as Go's time.Time marshals them (RFC 3339 with trimmed nanoseconds, `Z` for UTC)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

ZERO_TIME = "0001-01-01T00:00:00Z"


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
