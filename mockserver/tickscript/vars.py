"""Task and template vars: the API wire form and its conversions.

Three stages, with the real server's distinct failure modes: the client-side JSON decoding
(`client.Vars.UnmarshalJSON`, failures make the whole body "invalid JSON"), the service's
conversion (`newVar`, failures are `invalid var <name>: <reason>`), and the conversion to
TICKscript values at build time (lambda and regex vars must parse/compile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mockserver.errors import MockError

from . import ast
from .durations import DurationError, parse_duration
from .formatter import format_expression
from .parser import ParseError, parse_lambda
from .regexes import RegexError, compile_go_regex
from .values import (
    API_TYPES,
    T_DURATION,
    T_LAMBDA,
    T_LIST,
    T_REGEX,
    T_STAR,
    TICK_TYPES,
    Dur,
    GoRegex,
    TickscriptError,
    value_type,
)

VAR_TYPES = ("bool", "int", "float", "string", "regex", "duration", "lambda", "list", "star")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass
class Var:
    """A var in API terms: duration values are int nanoseconds, list values are lists of `Var`."""

    type: str
    value: Any = None
    description: str = ""


class VarDecodeError(MockError, ValueError):
    """Rejected by the Go JSON decoding of `vars` (the API answers `invalid JSON`).

    `panic` marks the case where the real server panics instead (a list item whose `type` is not a
    JSON string): the connection is dropped without a response.
    """

    def __init__(self, message: str, panic: bool = False) -> None:
        super().__init__(message)
        self.panic = panic


class VarError(MockError, ValueError):
    """Rejected after decoding; the API answers `invalid var <name>: <reason>`."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"invalid var {name}: {reason}")
        self.name = name
        self.reason = reason


class _Number:
    """json.Number: a JSON number kept as text-like (int or float as Python decoded it)."""

    __slots__ = ("v",)

    def __init__(self, v: int | float) -> None:
        self.v = v


def _go_type(v: Any) -> str:
    """%T of a decoded JSON value (with json.Number for numbers)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, _Number):
        return "json.Number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return type(v).__name__


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _wrap_numbers(v: Any) -> Any:
    if _is_number(v):
        return _Number(v)
    if isinstance(v, list):
        return [_wrap_numbers(x) for x in v]
    if isinstance(v, dict):
        return {k: _wrap_numbers(x) for k, x in v.items()}
    return v


def _int64(n: _Number) -> int:
    if isinstance(n.v, float) or not (_INT64_MIN <= n.v <= _INT64_MAX):
        raise VarDecodeError(f"strconv.ParseInt: parsing {n.v!r}: invalid syntax")
    return n.v


def _float64(n: _Number) -> float:
    try:
        f = float(n.v)
    except OverflowError:
        f = math.inf
    if math.isinf(f) or math.isnan(f):
        raise VarDecodeError(f"strconv.ParseFloat: parsing {n.v!r}: value out of range")
    return f


class _VarList(list[Any]):
    """A list value the client decoding turned into vars (unlike a raw JSON array)."""


class _Decoded:
    """client.Var after JSON decoding: type (None = unknown), value, description."""

    __slots__ = ("description", "type", "value")

    def __init__(self, typ: str | None, value: Any, description: str) -> None:
        self.type = typ
        self.value = value
        self.description = description


def _decode_struct(obj: Any) -> _Decoded:
    if obj is None:
        return _Decoded(None, None, "")
    if not isinstance(obj, dict):
        raise VarDecodeError(f"json: cannot unmarshal {_json_kind(obj)} into Go value of type client.Var")
    typ: str | None = None
    value: Any = None
    desc = ""
    for key, v in obj.items():
        k = key.lower()
        if k == "type":
            if v is None:
                continue
            if not isinstance(v, str):
                raise VarDecodeError(f"json: cannot unmarshal {_json_kind(v)} into Go struct field Var.type")
            if v not in VAR_TYPES:
                raise VarDecodeError(f"unknown VarType {v}")
            typ = v
        elif k == "value":
            value = _wrap_numbers(v)
        elif k == "description":
            if v is None:
                continue
            if not isinstance(v, str):
                raise VarDecodeError(f"json: cannot unmarshal {_json_kind(v)} into Go struct field "
                                     "Var.description of type string")
            desc = v
    return _Decoded(typ, value, desc)


def _json_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if _is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _client_decode(d: _Decoded) -> None:
    """The per-type value conversion of `client.Vars.UnmarshalJSON` (only for non-null values)."""
    v = d.value
    if v is None:
        return
    t = d.type
    if t == "duration":
        if isinstance(v, _Number):
            d.value = Dur(_int64(v))
        elif isinstance(v, str):
            try:
                d.value = Dur(parse_duration(v))
            except DurationError as e:
                raise VarDecodeError(f"invalid duration string for var: {e}") from None
        else:
            raise VarDecodeError("expected int or string value")
    elif t == "int":
        if not isinstance(v, _Number):
            raise VarDecodeError("expected int value")
        d.value = _int64(v)
    elif t == "float":
        if not isinstance(v, _Number):
            raise VarDecodeError("expected float value")
        d.value = _float64(v)
    elif t == "list":
        if not isinstance(v, list):
            raise VarDecodeError("expected list of vars")
        items = _VarList()
        for item in v:
            if not isinstance(item, dict):
                raise VarDecodeError("expected list of vars")
            if "type" not in item:
                raise VarDecodeError("expected list type key in object")
            it = item["type"]
            if not isinstance(it, str):
                raise VarDecodeError("list item type is not a string", panic=True)
            if it not in VAR_TYPES:
                raise VarDecodeError(f"unknown VarType {it}")
            if "value" not in item:
                raise VarDecodeError("expected list value key in object")
            items.append(_Decoded(it, item["value"], ""))
        d.value = items


def _service_var(d: _Decoded) -> Var:
    """`convertToServiceVar` + `newVar`; raises ValueError(reason)."""
    typ = d.type or "unknown"
    v = d.value
    if typ == "list":
        if not isinstance(v, _VarList):
            raise ValueError(f"var has list type but value is not list, got {_go_type(v)}")
        return Var("list", [_service_var(x) for x in v], d.description)
    if typ == "star":
        return Var("star", None, d.description)
    if isinstance(v, bool):
        got = "bool"
    elif isinstance(v, Dur):
        got = "duration"
        v = v.ns
    elif isinstance(v, int):
        got = "int"
    elif isinstance(v, float):
        got = "float"
    elif isinstance(v, str):
        if typ not in ("lambda", "regex", "string"):
            raise ValueError(f"unexpected var type {typ}, value is a string")
        got = typ
    else:
        raise ValueError(f"unsupported Var type {_go_type(v)}.")
    if got != typ:
        raise ValueError(f"mismatched type and value: {_go_type_of_value(v, got)} {typ}")
    return Var(typ, v, d.description)


def _go_type_of_value(v: Any, kind: str) -> str:
    return {"bool": "bool", "int": "int64", "float": "float64", "duration": "time.Duration"}.get(kind, "string")


def decode_vars(obj: object) -> dict[str, Var]:
    """A request's JSON-decoded `vars` object as the real server reads it.

    Raises VarDecodeError where Go's decoding fails (the API's `invalid JSON`), VarError where the
    task service then rejects a var (`invalid var <name>: <reason>`).
    """
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise VarDecodeError(f"json: cannot unmarshal {_json_kind(obj)} into Go value of type client.Vars")
    decoded: dict[str, _Decoded] = {}
    for name, raw in obj.items():
        d = _decode_struct(raw)
        _client_decode(d)
        decoded[name] = d
    out: dict[str, Var] = {}
    for name, d in decoded.items():
        try:
            out[name] = _service_var(d)
        except ValueError as e:
            raise VarError(name, str(e)) from None
    return out


def encode_var(v: Var) -> dict[str, Any]:
    value = v.value
    if v.type == "list" and isinstance(value, list):
        value = [encode_var(x) for x in value]
    return {"type": v.type, "value": value, "description": v.description}


def encode_vars(vars: dict[str, Var]) -> dict[str, Any]:
    """The wire form `{"name": {"type", "value", "description"}}` (list items encoded alike).

    Keys are sorted: the server marshals a Go map, whose JSON keys come out in sorted order."""
    return {name: encode_var(vars[name]) for name in sorted(vars)}


# --------------------------------------------------------------------------------------------------
# Build-time conversions

def to_tick(name: str, v: Var) -> tuple[str, Any]:
    """A stored var as a TICKscript value (ValueType, value); lambda/regex must parse/compile."""
    t = v.type
    if t == "list":
        items = [to_tick(name, x)[1] for x in (v.value or [])]
        return T_LIST, items
    if t == "star":
        return T_STAR, ast.Star(-1)
    if t == "duration":
        return T_DURATION, Dur(int(v.value))
    if t == "lambda":
        try:
            return T_LAMBDA, parse_lambda(v.value)
        except ParseError as e:
            raise TickscriptError(f"invalid var {name}: invalid lambda expression: {e}") from None
    if t == "regex":
        try:
            compile_go_regex(v.value)
        except RegexError as e:
            raise TickscriptError(f"invalid var {name}: invalid regex pattern: {e}") from None
        return T_REGEX, GoRegex(v.value)
    if t == "float":
        return TICK_TYPES[t], float(v.value)
    if t not in TICK_TYPES:
        raise TickscriptError(f"invalid var {name}: invalid var: {v}")
    return TICK_TYPES[t], v.value


def from_tick(name: str, vtype: str, value: Any, desc: str) -> Var:
    """A declared var's default as the API reports it (`convertToClientVarFromTick`)."""
    api = API_TYPES.get(vtype)
    if api is None:
        raise TickscriptError(f"invalid var {name}: unkown var: {{{type(value).__name__} {vtype} {desc}}}")
    if value is None or (vtype == T_LAMBDA and value.expression is None) or (
            vtype == T_REGEX and value.pattern is None) or (vtype == T_STAR and value.pos == -1):
        return Var(api, None, desc)  # typed nils (copies of a template's valueless vars)
    if vtype == T_DURATION:
        return Var(api, value.ns, desc)
    if vtype == T_LAMBDA:
        return Var(api, format_expression(value.expression), desc)
    if vtype == T_REGEX:
        return Var(api, value.pattern, desc)
    if vtype == T_STAR:
        return Var(api, {"typeOf": "star"}, desc)
    if vtype == T_LIST:
        items = []
        for x in value:
            if isinstance(x, list):
                # list items keep their raw value: a nested list cannot be reported
                raise TickscriptError(
                    f"invalid var {name}: invalid list value type, expected: []tick.Var, got: []interface {{}}")
            items.append(from_tick(name, value_type(x), x, ""))
        return Var(api, items, desc)
    return Var(api, value, desc)
