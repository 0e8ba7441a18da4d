"""JSON the way Go's encoding/json writes and reads it.

Real clients compare bodies with what a Kapacitor server sends, and fuzzers send bodies that Python's
`json.loads` would judge differently from Go. Both directions live here so the HTTP layer never
guesses: output is Go's `MarshalIndent(v, "", "    ")` (or compact + newline), input is decoded
like `json.NewDecoder(body).Decode(&struct)` (first value only, case-insensitive keys, invalid UTF-8
replaced, type errors worded as Go words them).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from mockserver import goscan
from mockserver.errors import MockError
from mockserver.gotext import quote_json_byte

_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_NEEDS_ESCAPE = re.compile("[<>&\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")

def go_float(value: float) -> str:
    """A float64 as Go's encoding/json writes it: `1` not `1.0`, `0.00001`, `1e-7`, `1e+21`."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {value!r}")
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        if text.endswith(".0"):
            text = text[:-2]
        return text
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    sign = exponent[0]
    digits = exponent[1:].lstrip("0") or "0"
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    return f"{mantissa}e{sign}{digits.zfill(2) if sign == '+' else digits}"


class _GoEncoder(json.JSONEncoder):
    """The stdlib encoder with Go's float formatting (the pure-Python path, also used for indent)."""

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        markers: dict[int, Any] | None = {} if self.check_circular else None
        encoder = json.encoder.encode_basestring  # ensure_ascii=False
        return json.encoder._make_iterencode(  # type: ignore[attr-defined]
            markers, self.default, encoder, self.indent, go_float, self.key_separator, self.item_separator,
            self.sort_keys, self.skipkeys, _one_shot,
        )(o, 0)  # fmt: skip


_pretty = _GoEncoder(ensure_ascii=False, indent=4, separators=(",", ": "), allow_nan=False)
_compact = _GoEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _go_escape(text: str) -> str:
    # `<`, `>`, `&`, U+2028 and U+2029 only ever occur inside JSON strings, so a global replace is exact.
    if _NEEDS_ESCAPE.search(text):
        for raw, esc in _ESCAPES:
            text = text.replace(raw, esc)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(_invalid_bytes, text)
    return text


def _invalid_bytes(match: re.Match[str]) -> str:
    """Go's encoder writes each invalid UTF-8 byte of a string as the escape `\\ufffd`: a surrogate
    escape U+DC80-U+DCFF stands for one such byte, any other lone surrogate for three (gotext)."""
    return "\\ufffd" if 0xDC80 <= ord(match.group()) <= 0xDCFF else "\\ufffd" * 3


def dumps_pretty(obj: Any) -> bytes:
    """`json.MarshalIndent(obj, "", "    ")`: 4-space indent, no trailing newline."""
    return _go_escape(_pretty.encode(obj)).encode("utf-8")


def dumps_compact(obj: Any) -> bytes:
    """`json.NewEncoder(w).Encode(obj)`: compact with a trailing newline."""
    return (_go_escape(_compact.encode(obj)) + "\n").encode("utf-8")


def go_number(value: float | int) -> float | int:
    """Go prints a float64 holding an integral value without a fraction (`1`, not `1.0`)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


class DecodeError(MockError):
    """A body Go's decoder rejects; `str()` is Go's error text."""


class UnmarshalTypeError(DecodeError):
    """A value of the wrong kind (or a number out of range) for its field: Go's decoder notes the
    first one and decodes on; any other error (a field's own UnmarshalText/JSON) ends decoding at
    once and is the one reported."""


def _clean(obj: Any) -> Any:
    """Replace lone surrogates (from `\\ud800` escapes) by U+FFFD as Go's decoder does, and refuse
    numbers outside float64's range as Go's decoder into `interface{}` does."""
    if isinstance(obj, str):
        return _SURROGATE.sub("\ufffd", obj) if _SURROGATE.search(obj) else obj
    if isinstance(obj, dict):
        return {_clean(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, OutOfRange):
        raise DecodeError(f"json: cannot unmarshal number {obj.text} into Go value of type float64")
    return obj


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"invalid character '{name[0]}' looking for beginning of value")


#: Deepest nesting the mock decodes, with Go's error text. Go's scanner stops at 10000, but every
#: level costs the mock's recursive code paths (copies, patches) stack and multiplies the size of a
#: pretty-printed answer (four spaces per level per line); real documents nest a handful of levels.
MAX_DEPTH = 100
# Headroom for MAX_DEPTH levels of recursive code on top of the caller's frames (the TICKscript
# parser asks for the same).
sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))
#: Longest integer literal converted exactly: longer ones are beyond float64 anyway (1.8e308 has
#: 309 digits), and Python refuses to convert more than 4300 digits.
_MAX_INT_DIGITS = 400


class OutOfRange:
    """A number literal that does not fit a float64 (reported once the whole body has parsed)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_int(text: str) -> Any:
    if len(text) > _MAX_INT_DIGITS:
        return OutOfRange(text)
    value = int(text)
    if len(text) > 300:
        try:
            float(value)
        except OverflowError:
            return OutOfRange(text)
    return value


def _parse_float(text: str) -> Any:
    value = float(text)
    return OutOfRange(text) if math.isinf(value) else value


_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float)
_WS = " \t\r\n"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_depth(text: str) -> None:
    """DecodeError when a syntactically valid JSON text nests deeper than MAX_DEPTH."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) <= MAX_DEPTH:
        return
    depth = 0
    for c in brackets:
        depth += _DEPTH_STEP[c]
        if depth > MAX_DEPTH:
            raise DecodeError(f"invalid character {go_quote_char(c)} exceeded max depth")


def decode_first(body: bytes) -> Any:
    """Decode the first JSON value of `body`; trailing bytes are ignored, as Go's Decoder does."""
    return _clean(_decode_raw(body))


def decode_document(body: bytes) -> Any:
    """The first JSON value of `body`, for decoding into a Go struct: object keys are cleaned, the
    values are left as parsed (lone surrogates, `OutOfRange` numbers) for the field that takes them
    to judge, as Go ignores the values of unknown fields and checks a number against the field's
    type first. Callers pass each value they keep through `field_value`."""
    value = _decode_raw(body)
    if isinstance(value, dict):
        return {_clean(key): item for key, item in value.items()}
    return value


def field_value(item: Any) -> Any:
    """A value of `decode_document` taken by a field: cleaned, except a top-level `OutOfRange`,
    which only the field's type can word (a type error, or a range error naming the field)."""
    return item if isinstance(item, OutOfRange) else _clean(item)


def _decode_raw(body: bytes) -> Any:
    """`decode_first` before `_clean`: lone surrogates and out-of-range numbers still in place."""
    # Invalid bytes stay visible (surrogateescape): a scanner error names the byte, and `_clean`
    # turns each one inside a string into U+FFFD, one per byte, as Go's decoder does.
    text = body.decode("utf-8", errors="surrogateescape")
    start = 0
    n = len(text)
    while start < n and text[start] in _WS:
        start += 1
    if start >= n:
        raise DecodeError("EOF")
    try:
        value, end = _decoder.raw_decode(text, start)
    except RecursionError:
        _go_syntax_error(body)
        check_depth(text[start:])  # valid for Go, deeper than the mock decodes (MAX_DEPTH)
        raise DecodeError("invalid character '[' exceeded max depth") from None
    except json.JSONDecodeError as exc:
        _go_syntax_error(body)  # Go's own text for what Python refused
        if exc.pos >= n:
            raise DecodeError("unexpected EOF") from None
        raise DecodeError(f"invalid character {go_quote_char(text[exc.pos])} {_context(exc.msg)}") from None
    if isinstance(value, (int, float, OutOfRange)) and not isinstance(value, bool):
        _go_syntax_error(body)  # Python stops `1.x` after the 1; Go's scanner reads on
    check_depth(text[start:end])
    return value


def _go_syntax_error(body: bytes) -> None:
    """Raise Go's scanner error for `body`, if its first value has one."""
    try:
        goscan.first_value_end(body)
    except goscan.ScanError as exc:
        raise DecodeError(str(exc)) from None


def go_quote_char(ch: str) -> str:
    """The character a Go scanner error names (`'x'`, `'\\''`, `'\\x01'`): see gotext.quote_json_byte."""
    return quote_json_byte(ch)


def _context(msg: str) -> str:
    if "Expecting property name" in msg:
        return "looking for beginning of object key string"
    if "Expecting ',' delimiter" in msg:
        return "after object key:value pair" if "object" in msg else "after array element"
    if "Expecting ':' delimiter" in msg:
        return "after object key"
    return "looking for beginning of value"


# ---- struct decoding ------------------------------------------------------------------------------


class Member(NamedTuple):
    """One member of a decoded JSON object: its key and value, and the value's text as sent."""

    key: str
    value: Any
    #: The value's JSON text exactly as in the body (invalid bytes as surrogate escapes): what Go
    #: hands a field's own UnmarshalJSON (time.Time quotes it in its errors).
    raw: str


def object_members(body: bytes) -> list[Member]:
    """The members of the JSON object `body` holds, in order, duplicates kept, as Go's decoder visits
    them. For a body `decode_document` accepted and found to be an object; values as it leaves them."""
    text = body.decode("utf-8", errors="surrogateescape")
    pos = _skip_ws(text, text.index("{") + 1)
    members: list[Member] = []
    while text[pos] != "}":
        key, pos = _decoder.raw_decode(text, pos)
        pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # past the colon
        value, end = _decoder.raw_decode(text, pos)
        members.append(Member(_clean(key), value, text[pos:end]))  # the value as decode_document leaves it
        pos = _skip_ws(text, end)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return members


def _skip_ws(text: str, pos: int) -> int:
    while text[pos] in _WS:
        pos += 1
    return pos


class RawText:
    """A field kind with its own UnmarshalJSON: `convert(value, raw)` also gets the value's text as
    sent (see Member.raw); decode_struct needs the body's bytes for it."""

    def __init__(self, convert: Callable[[Any, str], Any]) -> None:
        self.convert = convert


Kind = str | Callable[[Any, str], Any] | RawText


def json_kind(value: Any) -> str:
    """The JSON kind Go names in unmarshal errors (`number`, `string`, `array`, ...)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, OutOfRange)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def type_error(value: Any, struct: str, field: str, go_type: str) -> DecodeError:
    kind = json_kind(value)
    if kind == "number":
        kind = f"number {value}" if go_type in ("int64", "int") else "number"
    return UnmarshalTypeError(f"json: cannot unmarshal {kind} into Go struct field {struct}.{field} of type {go_type}")


def decode_struct(body: bytes | Any, struct: str, fields: Mapping[str, Kind], *, raw: bool = False,
                  go_type: str | None = None) -> dict[str, Any]:
    """Decode a JSON object into the named fields, Go style.

    `fields` maps the JSON field name to a kind: "string", "bool", "int64", "float64", "any",
    "[]string", a callable(value, field) -> converted value, or a RawText (then
    `body` must be the bytes, its members are visited in order, duplicates too, and its error stops
    decoding at once, as Go's does). Keys match
    case-insensitively, the last duplicate wins, unknown keys are ignored, `null` leaves a field
    absent. `raw=True` means `body` is an already decoded value. `go_type` is the type a body that
    is no object is refused as (`client.LogLevelOptions`; `struct` by default). A kind's UnmarshalTypeError is
    noted and decoding goes on (the first one is raised at the end); any other DecodeError (an
    UnmarshalText of its own: an unknown enum value, a bad time) is raised at once, as Go does.
    """
    value = body if raw else decode_document(body)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DecodeError(f"json: cannot unmarshal {json_kind(value)} into Go value of type {go_type or struct}")
    folded = {name.lower(): name for name in fields}
    out: dict[str, Any] = {}
    first_error: DecodeError | None = None
    for key, item, text in _members(body, value, fields, raw):
        name = folded.get(key.lower())
        if name is None:
            continue
        if item is None:
            out.pop(name, None)
            continue
        kind = fields[name]
        if isinstance(kind, RawText):  # the field's own UnmarshalJSON: its error ends decoding
            out[name] = kind.convert(field_value(item), text)
            continue
        try:
            # Go checks a number against the field's type before its range: `1e400` into a string
            # field is a type error, into a float64 field a range error naming the field.
            item = _out_of_range(item, kind, struct, name) if isinstance(item, OutOfRange) else \
                _field_clean(item, kind, struct, name)
            out[name] = _convert(item, kind, struct, name)
        except UnmarshalTypeError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return out


def _out_of_range(item: OutOfRange, kind: Kind, struct: str, name: str) -> Any:
    """A number beyond float64 as the value of a known field: what Go's decoder says of it."""
    if kind in ("float64", "int64", "int", "any"):  # "any": an interface{} holds it as a float64
        raise UnmarshalTypeError(f"json: cannot unmarshal number {item.text} into Go struct field {struct}.{name} "
                                 f"of type {'float64' if kind == 'any' else kind}")
    return item  # the other kinds refuse a number whatever its size


def _field_clean(item: Any, kind: Kind, struct: str, name: str) -> Any:
    """`_clean` for a field's value. A number beyond float64 inside it (a map or slice of
    interface{}) is reported against the field, as Go's decoder adds the field to its error, unless
    the value is of the wrong kind for the field: Go refuses it whole without reading inside."""
    try:
        return _clean(item)
    except DecodeError as exc:
        _convert(_clean(_zeroed(item)), kind, struct, name)  # the value's own kind is judged first
        text = str(exc)
        if text.endswith(" into Go value of type float64"):
            text = text.replace(" into Go value of type float64", f" into Go struct field {struct}.{name} of type float64")
        raise UnmarshalTypeError(text) from None


def _zeroed(obj: Any) -> Any:
    """`obj` with every out-of-range number replaced by 0, to judge its shape alone."""
    if isinstance(obj, OutOfRange):
        return 0
    if isinstance(obj, dict):
        return {k: _zeroed(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_zeroed(v) for v in obj]
    return obj


def _members(body: Any, value: dict[str, Any], fields: Mapping[str, Kind], raw: bool) -> list[Member]:
    """The object's members; with their text as sent when a field wants it (RawText)."""
    if any(isinstance(kind, RawText) for kind in fields.values()):
        if raw:
            raise TypeError("a RawText field needs the body's bytes")
        return object_members(body)
    return [Member(key, item, "") for key, item in value.items()]


def _convert(item: Any, kind: Kind, struct: str, name: str) -> Any:
    assert not isinstance(kind, RawText)
    if callable(kind):
        return kind(item, f"{struct}.{name}")
    if kind == "any":
        return item
    if kind == "string":
        if isinstance(item, str):
            return item
        raise type_error(item, struct, name, "string")
    if kind == "bool":
        if isinstance(item, bool):
            return item
        raise type_error(item, struct, name, "bool")
    if kind in ("int64", "int"):
        if isinstance(item, int) and not isinstance(item, bool) and -(2**63) <= item < 2**63:
            return item
        raise type_error(item, struct, name, kind)
    if kind == "float64":
        if isinstance(item, (int, float)) and not isinstance(item, bool) and math.isfinite(item):
            return float(item)
        raise type_error(item, struct, name, "float64")
    if kind == "[]string":
        if not isinstance(item, list):
            raise type_error(item, struct, name, "[]string")
        for element in item:
            if not isinstance(element, str):
                raise type_error(element, struct, name, "string")
        return list(item)
    raise AssertionError(f"unknown kind {kind!r}")


def enum(values: tuple[str, ...], go_type: str) -> Callable[[Any, str], str]:
    """A text-unmarshalled Go enum: any other string, `""` included, is a decode error."""

    def convert(item: Any, where: str) -> str:
        if not isinstance(item, str):
            struct, _, field = where.rpartition(".")
            raise type_error(item, struct, field, go_type)
        if item in values:
            return item
        raise DecodeError(f"unknown {go_type} {item}")

    return convert


def pretty_fragment(obj: Any) -> bytes:
    """An object encoded as it appears at the top level of a MarshalIndent document."""
    return dumps_pretty(obj)


def pretty_list_document(key: str, fragments: list[bytes]) -> bytes:
    """`{"<key>": [items]}` MarshalIndent-style, from items pre-encoded with `pretty_fragment`.

    Lists reuse per-item encodings cached on the model, so a page of 100 costs joins, not encodes.
    """
    head = b'{\n    "' + key.encode() + b'": ['
    if not fragments:
        return head + b"]\n}"
    inner = b",\n        ".join(f.replace(b"\n", b"\n        ") for f in fragments)
    return head + b"\n        " + inner + b"\n    ]\n}"
