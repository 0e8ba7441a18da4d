"""Go's encoding/json scanner, as `json.Decoder.Decode` runs it over a request body.

Python's decoder accepts the same grammar, but it names errors differently and stops a top-level
number where Go reads on (`1.x` is the number 1 to Python, a syntax error to Go). Kapacitor's
handlers that use a Decoder answer the scanner's own text (`invalid character 'x' in literal false
(expecting 'a')`, `unexpected EOF`), so the mock scans a body the way Go does whenever Python's
verdict could differ: when Python refuses it, and when its first value is a bare number.

The scanner is a byte-level state machine like Go's (`scanner.go`): `first_value_end` returns
where the first value ends or raises `ScanError` with Go's text. Strings are skipped with a regular
expression, so a large body costs one step per token, not per byte.
"""

from __future__ import annotations

import re

from mockserver.gotext import quote_json_byte

_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = frozenset(b'bfnrt\\/"')
#: The run of ordinary string bytes (no quote, backslash or control byte).
_PLAIN = re.compile(rb'[^"\\\x00-\x1f]*')
_LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}

#: Go's maxNestingDepth.
GO_MAX_DEPTH = 10000

# What the enclosing container expects next (Go's parseState values).
_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = 0, 1, 2


class ScanError(Exception):
    """The scanner's error text, as Go's Decoder returns it."""


def _invalid(byte: int, context: str) -> ScanError:
    return ScanError(f"invalid character {quote_json_byte(bytes([byte]).decode('utf-8', 'surrogateescape'))} "
                     f"{context}")


class _Scan:
    def __init__(self, data: bytes, max_depth: int) -> None:
        self.data = data
        self.n = len(data)
        self.stack: list[int] = []
        self.max_depth = max_depth

    # Each method starts at position i and returns the position after what it consumed. Running off
    # the end raises EOFError: the Decoder then reports "unexpected EOF".
    def byte(self, i: int) -> int:
        if i >= self.n:
            raise EOFError
        return self.data[i]

    def skip_space(self, i: int) -> int:
        while i < self.n and self.data[i] in _SPACE:
            i += 1
        return i

    def value(self, i: int) -> int:
        """A value starting at i (after spaces), containers walked with an explicit stack."""
        stack = self.stack
        while True:
            c = self.byte(i)
            if c == ord("{") or c == ord("["):  # stateBeginValue pushing a parse state
                if len(stack) >= self.max_depth:
                    raise _invalid(c, "exceeded max depth")
                state = _OBJECT_KEY if c == ord("{") else _ARRAY_VALUE
                stack.append(state)
                i = self.skip_space(i + 1)
                if self.byte(i) == (ord("}") if state == _OBJECT_KEY else ord("]")):  # ...OrEmpty
                    stack.pop()
                    i += 1
                elif state == _OBJECT_KEY:
                    i = self.key(i)
                    continue
                else:
                    continue
            else:
                i = self.scalar(i, c)
            # stateEndValue: close containers or move to the next element
            while stack:
                i = self.skip_space(i)
                c = self.byte(i)
                state = stack[-1]
                if c == ord(","):
                    i = self.skip_space(i + 1)
                    if state == _OBJECT_KEY:
                        i = self.key(i)
                    break
                if c == (ord("}") if state == _OBJECT_KEY else ord("]")):
                    stack.pop()
                    i += 1
                    continue
                raise _invalid(c, "after object key:value pair" if state == _OBJECT_KEY else "after array element")
            else:
                return i

    def key(self, i: int) -> int:
        """An object key and its colon (stateBeginString, stateEndValue in parseObjectKey)."""
        c = self.byte(i)
        if c != ord('"'):
            raise _invalid(c, "looking for beginning of object key string")
        i = self.skip_space(self.string(i + 1))
        c = self.byte(i)
        if c != ord(":"):
            raise _invalid(c, "after object key")
        return self.skip_space(i + 1)

    def scalar(self, i: int, c: int) -> int:
        if c == ord('"'):
            return self.string(i + 1)
        if c == ord("-") or c in _DIGITS:
            return self.number(i)
        literal = _LITERALS.get(c)
        if literal is not None:
            for k in range(1, len(literal)):
                got = self.byte(i + k)
                if got != literal[k]:
                    raise _invalid(got, f"in literal {literal.decode()} (expecting {chr(literal[k])!r})")
            return i + len(literal)
        raise _invalid(c, "looking for beginning of value")

    def string(self, i: int) -> int:
        """The rest of a string whose opening quote is before i: stateInString and its escapes."""
        while True:
            m = _PLAIN.match(self.data, i)
            i = m.end() if m else i
            c = self.byte(i)
            if c == ord('"'):
                return i + 1
            if c < 0x20:
                raise _invalid(c, "in string literal")
            # a backslash
            c = self.byte(i + 1)
            if c in _ESCAPES:
                i += 2
                continue
            if c != ord("u"):
                raise _invalid(c, "in string escape code")
            for k in range(2, 6):
                c = self.byte(i + k)
                if c not in _HEX:
                    raise _invalid(c, "in \\u hexadecimal character escape")
            i += 6

    def number(self, i: int) -> int:
        """state1/state0/stateDot/stateE: a number ends at the first byte that cannot continue it;
        at the end of the body the Decoder feeds a space, which ends a complete number."""
        n = self.n
        if self.data[i] == ord("-"):
            i += 1
            c = self.byte(i)
            if c not in _DIGITS:
                raise _invalid(c, "in numeric literal")
        if self.data[i] == ord("0"):
            i += 1
        else:
            while i < n and self.data[i] in _DIGITS:
                i += 1
        if i < n and self.data[i] == ord("."):
            i += 1
            c = self.byte(i)
            if c not in _DIGITS:
                raise _invalid(c, "after decimal point in numeric literal")
            while i < n and self.data[i] in _DIGITS:
                i += 1
        if i < n and self.data[i] in b"eE":
            i += 1
            c = self.byte(i)
            if c in b"+-":
                i += 1
                c = self.byte(i)
            if c not in _DIGITS:
                raise _invalid(c, "in exponent of numeric literal")
            while i < n and self.data[i] in _DIGITS:
                i += 1
        return i


def first_value_end(data: bytes, max_depth: int = GO_MAX_DEPTH) -> int:
    """Where the first JSON value of `data` ends (after leading spaces); trailing bytes are not
    looked at, as a Decoder leaves them for the next Decode. Raises ScanError with Go's text:
    `EOF` for a body of spaces only, `unexpected EOF` for a value cut short."""
    scan = _Scan(data, max_depth)
    i = scan.skip_space(0)
    if i >= scan.n:
        raise ScanError("EOF")
    try:
        return scan.value(i)
    except EOFError:
        raise ScanError("unexpected EOF") from None
