"""Listing primitives shared by every collection: Go `path.Match` globs, strconv-style integer
parameters, and offset/limit windows over an always-sorted index.

Collections keep their IDs in a `SortedList`, so a page costs O(log n + limit) whatever the offset:
no full sort or copy per request. Python compares `str` by code point, which is the same order as
raw UTF-8 bytes (the order of Kapacitor's bolt keys), because the store never holds lone surrogates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

from sortedcontainers import SortedList

from mockserver.errors import BadRequest
from mockserver.gotext import go_quote

T = TypeVar("T")
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class GlobSyntaxError(ValueError):
    """Go's path.ErrBadPattern."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


def parse_int_param(name: str, raw: str | None, default: int) -> int:
    """Parse like `strconv.ParseInt(s, 10, 64)`: optional sign, ASCII digits only, int64 range."""
    if raw is None or raw == "":
        return default
    body = raw[1:] if raw[:1] in "+-" else raw
    if not body or not all("0" <= c <= "9" for c in body):
        raise BadRequest(
            f"invalid {name} parameter {go_quote(raw)} must be an integer: "
            f"strconv.ParseInt: parsing {go_quote(raw)}: invalid syntax"
        )
    value = int(raw)
    if not INT64_MIN <= value <= INT64_MAX:
        raise BadRequest(
            f"invalid {name} parameter {go_quote(raw)} must be an integer: "
            f"strconv.ParseInt: parsing {go_quote(raw)}: value out of range"
        )
    return value


# ---- path.Match -----------------------------------------------------------------------------------


def _check_class(pattern: str, i: int) -> int:
    """Validate a character class starting after `[`; return the index after `]`."""
    n = len(pattern)
    if i < n and pattern[i] == "^":
        i += 1
    first = True
    while True:
        if i >= n:
            raise GlobSyntaxError()
        if pattern[i] == "]" and not first:
            return i + 1
        first = False
        _lo, i = _class_char(pattern, i)
        if i < n and pattern[i] == "-":
            _hi, i = _class_char(pattern, i + 1)


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        raise GlobSyntaxError()
    if pattern[i] == "\\":
        i += 1
        if i >= n:
            raise GlobSyntaxError()
    return pattern[i], i + 1


def validate_glob(pattern: str) -> None:
    """Raise GlobSyntaxError where Go's path.Match would return ErrBadPattern for any name."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise GlobSyntaxError()
            i += 2
        elif c == "[":
            i = _check_class(pattern, i + 1)
        else:
            i += 1


def compile_glob(pattern: str) -> Callable[[str], bool]:
    """A predicate equivalent to `path.Match(pattern, name)` (malformed patterns raise).

    Go matches on UTF-8 bytes: `*` advances byte by byte and `?` or a class then decodes one
    character, so inside a multi-byte character a single byte counts as one (U+FFFD). Matching
    here works on the same bytes, so `x*??` matches `x中` exactly as on the server.
    """
    validate_glob(pattern)
    if not any(c in pattern for c in "*?[\\"):
        return pattern.__eq__
    chunks = _chunks(pattern.encode("utf-8"))
    return lambda name: _go_match(chunks, name.encode("utf-8", "surrogatepass"))


def _chunks(pattern: bytes) -> list[tuple[bool, bytes]]:
    """Go's scanChunk, applied once: (preceded by a star, chunk up to the next star)."""
    out = []
    while pattern:
        star = False
        while pattern[:1] == b"*":
            pattern = pattern[1:]
            star = True
        in_range = False
        i = 0
        while i < len(pattern):
            c = pattern[i]
            if c == 0x5C and i + 1 < len(pattern):  # backslash: skip the escaped byte
                i += 1
            elif c == 0x5B:  # [
                in_range = True
            elif c == 0x5D:  # ]
                in_range = False
            elif c == 0x2A and not in_range:  # *
                break
            i += 1
        out.append((star, pattern[:i]))
        pattern = pattern[i:]
    return out


def _go_match(chunks: list[tuple[bool, bytes]], name: bytes) -> bool:
    for index, (star, chunk) in enumerate(chunks):
        last = index == len(chunks) - 1
        if star and not chunk:
            return b"/" not in name  # a trailing star takes the rest, but not a slash
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or not last):
            name = rest
            continue
        if not star:
            return False
        for i in range(len(name)):
            if name[i] == 0x2F:
                return False
            rest = _match_chunk(chunk, name[i + 1 :])
            if rest is not None:
                if last and rest:
                    continue
                name = rest
                break
        else:
            return False
    return not name


def _decode_rune(s: bytes, i: int) -> tuple[int, int]:
    """utf8.DecodeRune: (code point, width), or (U+FFFD, 1) for an invalid byte."""
    lead = s[i]
    if lead < 0x80:
        return lead, 1
    width = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    if width:
        try:
            text = s[i : i + width].decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        if len(text) == 1:
            return ord(text), width
    return 0xFFFD, 1


def _class_rune(chunk: bytes, i: int) -> tuple[int, int]:
    """getEsc: one (possibly escaped) character of a class, and the index after it."""
    if chunk[i] == 0x5C:
        i += 1
    rune, width = _decode_rune(chunk, i)
    return rune, i + width


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """Go's matchChunk on a validated pattern: the rest of `s`, or None when it does not match."""
    ci = si = 0
    n, m = len(chunk), len(s)
    while ci < n:
        if si >= m:
            return None
        c = chunk[ci]
        if c == 0x5B:  # [
            r, width = _decode_rune(s, si)
            si += width
            ci += 1
            negated = chunk[ci] == 0x5E  # ^
            if negated:
                ci += 1
            matched = False
            first = True
            while not (chunk[ci] == 0x5D and not first):
                first = False
                lo, ci = _class_rune(chunk, ci)
                hi = lo
                if chunk[ci] == 0x2D:  # -
                    hi, ci = _class_rune(chunk, ci + 1)
                if lo <= r <= hi:
                    matched = True
            ci += 1
            if matched == negated:
                return None
        elif c == 0x3F:  # ?
            if s[si] == 0x2F:
                return None
            si += _decode_rune(s, si)[1]
            ci += 1
        else:
            if c == 0x5C:
                ci += 1
            if chunk[ci] != s[si]:
                return None
            ci += 1
            si += 1
    return s[si:]


def literal_prefix(pattern: str) -> str:
    """The part of a glob before its first meta character: lets a sorted index skip to it."""
    for i, c in enumerate(pattern):
        if c in "*?[\\":
            return pattern[:i]
    return pattern


# ---- windows --------------------------------------------------------------------------------------


class SortedIndex:
    """IDs in the store's list order, with glob-aware offset/limit windows."""

    def __init__(self, key: Callable[[str], object] | None = None) -> None:
        self._ids: SortedList = SortedList(key=key) if key else SortedList()

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def add(self, item: str) -> None:
        self._ids.add(item)

    def discard(self, item: str) -> None:
        self._ids.discard(item)

    def matching(self, pattern: str) -> Iterator[str]:
        """IDs matching `pattern` in order; malformed patterns match nothing (as the task store does)."""
        if not pattern:
            return iter(self._ids)
        try:
            match = compile_glob(pattern)
        except GlobSyntaxError:
            return iter(())
        prefix = literal_prefix(pattern)
        if prefix and self._ids.key is None:
            start = self._ids.bisect_left(prefix)
            ids = self._ids.islice(start)
            return (i for i in _take_prefixed(ids, prefix) if match(i))
        return (i for i in self._ids if match(i))

    def window(self, pattern: str, offset: int, limit: int) -> list[str]:
        """`M[offset:offset+limit]` of the IDs matching `pattern`; negative offset counts as 0."""
        if limit <= 0:
            return []
        offset = max(offset, 0)
        if not pattern:
            return list(self._ids.islice(offset, offset + limit)) if offset < len(self._ids) else []
        return list(islice(self.matching(pattern), offset, offset + limit))


def _take_prefixed(ids: Iterable[str], prefix: str) -> Iterator[str]:
    for i in ids:
        if not i.startswith(prefix):
            return
        yield i
