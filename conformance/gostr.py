"""Go string formatting that Kapacitor puts into its error messages.

Messages that embed an ID use Go's `%q`, and pagination errors embed `strconv.ParseInt` errors, so
the suite must produce the same text to compare messages exactly.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_SHORT = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}
_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def go_is_print(ch: str) -> bool:
    """Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    if ch == " ":
        return True
    return unicodedata.category(ch)[0] in "LMNPS"


def go_quote(value: str) -> str:
    """Go `strconv.Quote` (what `%q` prints for a string)."""
    out = ['"']
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _SHORT:
            out.append(_SHORT[ch])
        elif go_is_print(ch):
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif 0xD800 <= code <= 0xDFFF:  # sent as a `\\ud800` JSON escape: Go decodes U+FFFD, printable
                out.append("\ufffd")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def parse_int64(text: str) -> tuple[int | None, str | None]:
    """Go `strconv.ParseInt(text, 10, 64)`: (value, None) or (None, 'invalid syntax'|'value out of range')."""
    if not _INT_RE.fullmatch(text):
        return None, "invalid syntax"
    value = int(text)
    if not _INT64_MIN <= value <= _INT64_MAX:
        return None, "value out of range"
    return value, None


def paging_error(param: str, text: str) -> str:
    """The 400 message for a bad `offset`/`limit` (behaviour §2.4)."""
    _, reason = parse_int64(text)
    return (
        f"invalid {param} parameter {go_quote(text)} must be an integer: "
        f"strconv.ParseInt: parsing {go_quote(text)}: {reason}"
    )


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)")


def utc_second(stamp: str) -> str:
    """An RFC 3339 time (any precision, any zone) as UTC to the second: how recordings/replays are
    indexed for their newest-first order (behaviour §2.5). Unparsable input is returned as is."""
    m = _RFC3339.fullmatch(stamp)
    if m is None:
        return stamp
    zone = "+00:00" if m.group(2) == "Z" else m.group(2)
    when = dt.datetime.fromisoformat(m.group(1) + zone).astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S")
