"""Go `path.Match` semantics, needed to predict what `pattern=` selects.

Python's fnmatch differs: Go negates a class with `[^...]` (`[!a]` is a literal `!`), `*` and `?`
never match `/`, `\\` escapes, and a malformed pattern is an error rather than a literal. Matching
works on UTF-8 bytes except that `?` and classes consume one whole character, as in Go.
"""

from __future__ import annotations


class BadPattern(ValueError):
    pass


def _split_chunk(pat: str) -> tuple[bool, str, str]:
    """Leading stars, then the chunk up to the next star outside a class."""
    star = False
    while pat.startswith("*"):
        pat = pat[1:]
        star = True
    in_class = False
    i = 0
    while i < len(pat):
        c = pat[i]
        if c == "\\":
            i += 2 if i + 1 < len(pat) else 1
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "*" and not in_class:
            break
        i += 1
    return star, pat[:i], pat[i:]


def _class_char(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise BadPattern(chunk)
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern(chunk)
    ch, rest = chunk[0], chunk[1:]
    if not rest:
        raise BadPattern(chunk)
    return ch, rest


def _match_chunk(chunk: str, s: str) -> str | None:
    """Match `chunk` at the start of `s`; the rest of `s`, or None. Raises BadPattern."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == "[":
            ch = ""
            if not failed:
                ch, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = chunk.startswith("^")
            if negated:
                chunk = chunk[1:]
            hit = False
            count = 0
            while True:
                if chunk.startswith("]") and count > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _class_char(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _class_char(chunk[1:])
                if not failed and lo <= ch <= hi:
                    hit = True
                count += 1
            if hit == negated:
                failed = True
        elif c == "?":
            if not failed:
                if s[0] == "/":
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern("trailing backslash")
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def _validate_rest(pat: str) -> None:
    while pat:
        _, chunk, pat = _split_chunk(pat)
        _match_chunk(chunk, "")


def go_path_match(pattern: str, name: str) -> bool:
    """True/False like Go's path.Match; raises BadPattern where Go returns ErrBadPattern."""
    pat = pattern
    while pat:
        star, chunk, pat = _split_chunk(pat)
        if star and chunk == "":
            return "/" not in name
        rest = _match_chunk(chunk, name)
        if rest is not None and (rest == "" or pat):
            name = rest
            continue
        if star:
            matched = False
            i = 0
            while i < len(name) and name[i] != "/":
                rest = _match_chunk(chunk, name[i + 1:])
                i += 1
                if rest is not None:
                    if not pat and rest:
                        continue
                    name = rest
                    matched = True
                    break
            if matched:
                continue
        _validate_rest(pat)
        return False
    return name == ""


def is_malformed(pattern: str, names: list[str]) -> bool:
    for n in [*names, ""]:
        try:
            go_path_match(pattern, n)
        except BadPattern:
            return True
    return False
