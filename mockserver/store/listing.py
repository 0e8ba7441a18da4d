"""Listing primitives shared by every collection: Go `path.Match` globs, strconv-style integer
parameters, and offset/limit windows over an always-sorted index.

Collections keep their IDs in a `SortedList`, so a page costs O(log n + limit) whatever the offset:
no full sort or copy per request. Python compares `str` by code point, which is the same order as
raw UTF-8 bytes (the order of Kapacitor's bolt keys), because the store never holds lone surrogates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from sortedcontainers import SortedList

from mockserver.errors import BadRequest, MockError
from mockserver.gotext import go_quote

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class GlobSyntaxError(MockError, ValueError):
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
    here works on the same bytes, so `x*??` matches `x中` exactly as on the server. Each chunk is
    tokenized once and classes become one compiled set, so a 20 KB class costs the same per name
    as `[a-z]` (Go walks every range for every character; at Python speed that took 10 ms a name).
    """
    validate_glob(pattern)
    if not any(c in pattern for c in "*?[\\"):
        return pattern.__eq__
    chunks = [(star, _tokens(chunk)) for star, chunk in _chunks(pattern.encode("utf-8"))]
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


_LITERAL, _ANY, _CLASS = 0, 1, 2
_Token = tuple[int, Any]


def _tokens(chunk: bytes) -> list[_Token]:
    """A validated chunk as literal byte runs, `?`, and classes (negated, predicate on a code point)."""
    tokens: list[_Token] = []
    literal = bytearray()
    ci, n = 0, len(chunk)
    while ci < n:
        c = chunk[ci]
        if c not in (0x5B, 0x3F):
            if c == 0x5C:
                ci += 1
            literal.append(chunk[ci])
            ci += 1
            continue
        if literal:
            tokens.append((_LITERAL, bytes(literal)))
            literal.clear()
        if c == 0x3F:  # ?
            tokens.append((_ANY, None))
            ci += 1
            continue
        ci += 1
        negated = chunk[ci] == 0x5E  # ^
        if negated:
            ci += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while not (chunk[ci] == 0x5D and not first):
            first = False
            lo, ci = _class_rune(chunk, ci)
            hi = lo
            if chunk[ci] == 0x2D:  # -
                hi, ci = _class_rune(chunk, ci + 1)
            if lo <= hi:
                ranges.append((lo, hi))
        ci += 1
        tokens.append((_CLASS, (negated, _class_predicate(ranges))))
    if literal:
        tokens.append((_LITERAL, bytes(literal)))
    return tokens


def _class_predicate(ranges: list[tuple[int, int]]) -> Callable[[int], bool]:
    if not ranges:
        return lambda _rune: False
    members = "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)
    compiled = re.compile(f"[{members}]")
    return lambda rune: compiled.match(chr(rune)) is not None


def _go_match(chunks: list[tuple[bool, list[_Token]]], name: bytes) -> bool:
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


def _match_chunk(tokens: list[_Token], s: bytes) -> bytes | None:
    """Go's matchChunk on a tokenized chunk: the rest of `s`, or None when it does not match."""
    si, m = 0, len(s)
    for kind, data in tokens:
        if si >= m:
            return None
        if kind == _LITERAL:
            if not s.startswith(data, si):
                return None
            si += len(data)
        elif kind == _ANY:
            if s[si] == 0x2F:
                return None
            si += _decode_rune(s, si)[1]
        else:
            rune, width = _decode_rune(s, si)
            si += width
            negated, predicate = data
            if predicate(rune) == negated:
                return None
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
        return iter(self.deferred(pattern, 0, len(self._ids))())

    def window(self, pattern: str, offset: int, limit: int) -> list[str]:
        """`M[offset:offset+limit]` of the IDs matching `pattern`; negative offset counts as 0."""
        return self.deferred(pattern, offset, limit)()

    def deferred(self, pattern: str, offset: int, limit: int) -> Callable[[], list[str]]:
        """`window` in two steps: call this under the store's lock (it copies the candidate IDs),
        then the returned function outside it, so glob matching never holds the lock."""
        offset = max(offset, 0)
        if limit <= 0 or offset >= len(self._ids):
            return list
        stop = min(offset + limit, len(self._ids))  # matches never outnumber the IDs
        if not pattern:
            page = list(self._ids.islice(offset, stop))
            return lambda: page
        prefix = literal_prefix(pattern)
        if prefix and self._ids.key is None:
            candidates = list(_take_prefixed(self._ids.islice(self._ids.bisect_left(prefix)), prefix))
        else:
            candidates = list(self._ids)

        def run() -> list[str]:
            try:
                match = compile_glob(pattern)
            except GlobSyntaxError:
                return []
            return list(islice((i for i in candidates if match(i)), offset, stop))

        return run


def _take_prefixed(ids: Iterable[str], prefix: str) -> Iterator[str]:
    for i in ids:
        if not i.startswith(prefix):
            return
        yield i
