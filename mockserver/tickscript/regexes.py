"""Approximate Go (RE2) regex compilation for regex literals and regex vars.

Only validity matters to the API (a bad pattern is a 400 with Go's `error parsing regexp: ...`
message). The common RE2 rejections are detected with Go's wording; anything else Python's `regex`
module rejects is reported in the same shape with Python's reason. Being lenient where RE2 and Python
disagree on obscure syntax is acceptable.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import regex as _re

from mockserver.errors import MockError


class RegexError(MockError, ValueError):
    pass


def _err(code: str, expr: str) -> RegexError:
    return RegexError(f"error parsing regexp: {code}: `{expr}`")


_REPEAT = "*+?"


#: Go's limit on nested `{n,m}` counts (`repeatIsValid(re, 1000)`: `(a{100}){11}` is refused).
MAX_REPEAT = 1000
#: Estimated program size (instructions) above which the mock answers Go's "expression too
#: large". Go 1.19+ refuses programs over ~3.3M instructions (1.5-era builds have no limit);
#: Python's engine needs ~240 bytes an instruction and a quarter second per 100k, so the mock
#: draws the line lower.
MAX_PROGRAM = 100_000


def _check_go(pattern: str) -> int:
    """Detect the RE2 errors people actually hit, in the order Go's parser would meet them;
    returns the estimated program size.

    Alongside the syntax it tracks, per item, the product of nested `{n,m}` counts (Go's
    `repeatIsValid`) and the program size: `frames` holds [largest nested count, size] of each
    open group, `last_need`/`last_size` those of the item a repetition would apply to."""
    depth = 0
    frames: list[list[int]] = [[0, 0]]
    last_need, last_size = 0, 0
    i = 0
    n = len(pattern)
    prev_repeat = False  # last item was a repetition operator
    have_atom = False
    last_repeat_start = 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise _err("trailing backslash at end of expression", "")
            nxt = pattern[i + 1]
            if nxt.isdigit() and nxt != "0":
                raise _err("invalid escape sequence", pattern[i:i + 2])
            if nxt in "pP" and i + 2 < n and pattern[i + 2] == "{":
                j = pattern.find("}", i + 2)
                i = (j + 1) if j != -1 else n
            else:
                i += 2
            prev_repeat, have_atom = False, True
            last_need, last_size = _atom(frames)
            continue
        if c == "[":
            i = _check_class(pattern, i)
            prev_repeat, have_atom = False, True
            last_need, last_size = _atom(frames)
            continue
        if c == "(":
            if pattern.startswith("(?", i):
                j = i + 2
                if pattern.startswith("P<", j) or pattern.startswith("<", j):
                    k = pattern.find(">", j)
                    if k == -1:
                        raise _err("invalid named capture", pattern[i:])
                    i = k + 1
                else:
                    while j < n and pattern[j] in "imsU-":
                        j += 1
                    if j >= n or pattern[j] not in ":)":
                        raise _err("invalid or unsupported Perl syntax", pattern[i:j + 1])
                    if pattern[j] == ")":
                        i = j + 1
                        prev_repeat, have_atom = False, False
                        continue
                    i = j + 1
            else:
                i += 1
            depth += 1
            frames.append([0, 0])
            prev_repeat, have_atom = False, False
            continue
        if c == ")":
            if depth == 0:
                raise _err("unexpected )", pattern)
            depth -= 1
            i += 1
            prev_repeat, have_atom = False, True
            last_need, last_size = frames.pop()
            last_size += 1
            frames[-1][0] = max(frames[-1][0], last_need)
            frames[-1][1] += last_size
            if frames[-1][1] > MAX_PROGRAM:
                raise _err("expression too large", pattern)
            continue
        if c == "|":
            i += 1
            prev_repeat, have_atom = False, False
            continue
        if c in _REPEAT or (c == "{" and _is_repeat_count(pattern, i)):
            end = i + 1 if c != "{" else pattern.index("}", i) + 1
            op = pattern[i:end]
            if end < n and pattern[end] == "?":
                end += 1
                op = pattern[i:end]
            if not have_atom and not prev_repeat:
                raise _err("missing argument to repetition operator", op)
            if prev_repeat:
                raise _err("invalid nested repetition operator", pattern[last_repeat_start:end])
            if c == "{":
                nums = pattern[i + 1:pattern.index("}", i)].split(",")
                if any(x and (len(x) > 4 or int(x) > MAX_REPEAT) for x in nums) or (
                        len(nums) == 2 and nums[1] and int(nums[0]) > int(nums[1])):
                    raise _err("invalid repeat count", pattern[i:end])
                low = int(nums[0])
                high = low if len(nums) == 1 else int(nums[1]) if nums[1] else -1
                count = high if high >= 0 else low
                if (low >= 2 or high >= 2) and count > 0:
                    need = count * max(last_need, 1)
                    if need > MAX_REPEAT:
                        raise _err("invalid repeat count", pattern[i:end])
                    last_need = need
                grown = last_size * (max(count, 1) - 1) + 1
                frames[-1][0] = max(frames[-1][0], last_need)
            else:
                grown = 1
            frames[-1][1] += grown
            last_size += grown
            if frames[-1][1] > MAX_PROGRAM:
                raise _err("expression too large", pattern)
            last_repeat_start = i
            i = end
            prev_repeat, have_atom = True, False
            continue
        i += 1
        prev_repeat, have_atom = False, True
        last_need, last_size = _atom(frames)
    if depth:
        raise _err("missing closing )", pattern)
    return sum(frame[1] for frame in frames)


def _atom(frames: list[list[int]]) -> tuple[int, int]:
    """A literal, escape or class: no nested counts, one instruction."""
    frames[-1][1] += 1
    return 0, 1


def _class_item(p: str, j: int) -> tuple[str | None, int]:
    """One class item at j: (its literal char, or None for a class escape like \\d), next index."""
    if p[j] == "\\" and j + 1 < len(p):
        e = p[j + 1]
        if e in "dDsSwWpP":
            if e in "pP" and j + 2 < len(p) and p[j + 2] == "{":
                k = p.find("}", j)
                return None, (k + 1) if k != -1 else len(p)
            return None, j + 2
        if e == "x" and j + 3 < len(p) + 1:
            if j + 2 < len(p) and p[j + 2] == "{":
                k = p.find("}", j)
                if k != -1:
                    try:
                        return chr(int(p[j + 3:k], 16)), k + 1
                    except ValueError:
                        return None, k + 1
            try:
                return chr(int(p[j + 2:j + 4], 16)), j + 4
            except ValueError:
                return None, j + 2
        simple = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
        return simple.get(e, e), j + 2
    return p[j], j + 1


def _check_class(p: str, i: int) -> int:
    """Scan a bracket class starting at i; returns the index after it. Checks ranges like Go."""
    n = len(p)
    j = i + 1
    if j < n and p[j] == "^":
        j += 1
    first = True
    while j < n and (p[j] != "]" or first):
        first = False
        if p.startswith("[:", j):
            k = p.find(":]", j + 2)
            if k != -1:
                j = k + 2
                continue
        start = j
        lo, j = _class_item(p, j)
        if j + 1 < n and p[j] == "-" and p[j + 1] != "]":
            hi, j2 = _class_item(p, j + 1)
            if lo is None or hi is None or hi < lo:
                raise _err("invalid character class range", p[start:j2])
            j = j2
    if j >= n:
        raise _err("missing closing ]", p[i:])
    return j + 1


def _is_repeat_count(p: str, i: int) -> bool:
    j = p.find("}", i)
    if j == -1:
        return False
    body = p[i + 1:j]
    if not body:
        return False
    parts = body.split(",")
    return len(parts) <= 2 and parts[0].isdigit() and parts[0].isascii() and all(
        x == "" or (x.isdigit() and x.isascii()) for x in parts[1:])


def _to_python(pattern: str) -> str:
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            out.append("\\Z" if nxt == "z" else pattern[i:i + 2])
            i += 2
            continue
        if pattern.startswith("(?<", i) and not pattern.startswith("(?<=", i) and not pattern.startswith(
                "(?<!", i):
            out.append("(?P<")
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


#: Compiled patterns kept, by estimated memory (not by count: one `a{1000}`-style program weighs
#: as much as thousands of ordinary ones).
CACHE_BYTES = 32 << 20
_BYTES_PER_INSTRUCTION = 240
_cache: OrderedDict[str, tuple[_re.Pattern[str], int]] = OrderedDict()
_cache_lock = threading.Lock()
_cached_bytes = 0


def compile_go_regex(pattern: str) -> _re.Pattern[str]:
    """Compile a Go regex; raises RegexError worded like Go's `regexp.Compile`."""
    global _cached_bytes
    with _cache_lock:
        hit = _cache.get(pattern)
        if hit is not None:
            _cache.move_to_end(pattern)
            return hit[0]
    weight = _check_go(pattern) * _BYTES_PER_INSTRUCTION + len(pattern)
    try:
        compiled = _re.compile(_to_python(pattern), _re.V0)
    except (_re.error, ValueError, IndexError, OverflowError) as e:
        msg = str(e).split(" at position")[0]
        raise _err(msg, pattern) from None
    except RecursionError:
        raise _err("expression nests too deeply", pattern) from None
    if weight <= CACHE_BYTES // 8:
        with _cache_lock:
            if pattern not in _cache:
                _cache[pattern] = (compiled, weight)
                _cached_bytes += weight
            while _cached_bytes > CACHE_BYTES:
                _evicted, (_compiled, size) = _cache.popitem(last=False)
                _cached_bytes -= size
    return compiled
