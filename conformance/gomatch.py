"""Go `path.Match` semantics, needed to predict what `pattern=` selects.

Python's fnmatch differs: Go negates a class with `[^...]` (`[!a]` is a literal `!`), `*` and `?`
never match `/`, `\\` escapes, and a malformed pattern is an error rather than a literal. Go
matches UTF-8 *bytes*: a star skips byte by byte, literals compare bytes, and `?` or a class
decodes one character where it stands, so inside a multi-byte character it takes one byte as
U+FFFD. `*??` therefore matches the three-byte `中` (seen on a real Kapacitor 1.5.7).
"""

from __future__ import annotations

import functools

_RUNE_ERROR = 0xFFFD


class BadPattern(ValueError):
    pass


def _decode(b: bytes) -> tuple[int, int]:
    """Like Go's utf8.DecodeRune: (character, width); invalid or truncated input is (U+FFFD, 1)."""
    if not b:
        return _RUNE_ERROR, 0
    for n in range(1, min(4, len(b)) + 1):
        try:
            text = b[:n].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(text) == 1:
            return ord(text), n
    return _RUNE_ERROR, 1


def _split_chunk(pat: bytes) -> tuple[bool, bytes, bytes]:
    """Leading stars, then the chunk up to the next star outside a class."""
    star = False
    while pat.startswith(b"*"):
        pat = pat[1:]
        star = True
    in_class = False
    i = 0
    while i < len(pat):
        c = pat[i:i + 1]
        if c == b"\\":
            i += 2 if i + 1 < len(pat) else 1
            continue
        if c == b"[":
            in_class = True
        elif c == b"]":
            in_class = False
        elif c == b"*" and not in_class:
            break
        i += 1
    return star, pat[:i], pat[i:]


def _class_char(chunk: bytes) -> tuple[int, bytes]:
    if not chunk or chunk[:1] in (b"-", b"]"):
        raise BadPattern(chunk)
    if chunk[:1] == b"\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern(chunk)
    r, n = _decode(chunk)
    rest = chunk[n:]
    if (r == _RUNE_ERROR and n == 1) or not rest:
        raise BadPattern(chunk)
    return r, rest


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """Match `chunk` at the start of `s`; the rest of `s`, or None. Raises BadPattern."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[:1]
        if c == b"[":
            r = -1
            if not failed:
                r, n = _decode(s)
                s = s[n:]
            chunk = chunk[1:]
            negated = chunk.startswith(b"^")
            if negated:
                chunk = chunk[1:]
            hit = False
            count = 0
            while True:
                if chunk.startswith(b"]") and count > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _class_char(chunk)
                hi = lo
                if chunk[:1] == b"-":
                    hi, chunk = _class_char(chunk[1:])
                if lo <= r <= hi:
                    hit = True
                count += 1
            if hit == negated:
                failed = True
        elif c == b"?":
            if not failed:
                if s[:1] == b"/":
                    failed = True
                _, n = _decode(s)
                s = s[n:]
            chunk = chunk[1:]
        else:
            if c == b"\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern("trailing backslash")
            if not failed:
                if chunk[:1] != s[:1]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def _validate_rest(pat: bytes) -> None:
    while pat:
        _, chunk, pat = _split_chunk(pat)
        _match_chunk(chunk, b"")


@functools.lru_cache(maxsize=1 << 15)  # a pattern check asks each (pattern, ID) twice: answer and malformedness
def go_path_match(pattern: str, name: str) -> bool:
    """True/False like Go's path.Match; raises BadPattern where Go returns ErrBadPattern."""
    pat = pattern.encode("utf-8")
    rest_name = name.encode("utf-8")
    while pat:
        star, chunk, pat = _split_chunk(pat)
        if star and chunk == b"":
            return b"/" not in rest_name
        rest = _match_chunk(chunk, rest_name)
        if rest is not None and (rest == b"" or pat):
            rest_name = rest
            continue
        if star:
            matched = False
            i = 0
            while i < len(rest_name) and rest_name[i:i + 1] != b"/":
                rest = _match_chunk(chunk, rest_name[i + 1:])
                i += 1
                if rest is not None:
                    if not pat and rest:
                        continue
                    rest_name = rest
                    matched = True
                    break
            if matched:
                continue
        _validate_rest(pat)
        return False
    return rest_name == b""


def is_malformed(pattern: str, names: list[str]) -> bool:
    for n in [*names, ""]:
        try:
            go_path_match(pattern, n)
        except BadPattern:
            return True
    return False
