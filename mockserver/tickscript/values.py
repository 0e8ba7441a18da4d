"""Go values a TICKscript evaluates to, and the error type of the engine."""

from __future__ import annotations

from typing import Any

from mockserver.errors import MockError

from . import ast


class TickscriptError(MockError):
    """A script the real server rejects; `str()` is its message without `invalid TICKscript: `."""


class Dur:
    """A time.Duration value (distinct from int64 for Go's type checks)."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dur) and other.ns == self.ns

    def __hash__(self) -> int:
        return hash(("dur", self.ns))


class GoRegex:
    """A compiled regex value; `pattern` None is a typed nil (a template's regex var without value)."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: str | None) -> None:
        self.pattern = pattern


class GoValue:
    """Any other Go value a script can get hold of (e.g. the result of `|desc()`)."""

    __slots__ = ("type_name", "value")

    def __init__(self, type_name: str, value: Any = None) -> None:
        self.type_name = type_name
        self.value = value


class TimeDimension:
    """Result of the global `time()` function (`kapacitor.TimeDimension`)."""

    __slots__ = ("length", "offset")

    def __init__(self, length: int, offset: int) -> None:
        self.length = length
        self.offset = offset


class GlobalTime:
    """The `time` global function in scope (`groupByTime`)."""


# ValueType names (tick/ast/types.go)
T_FLOAT, T_INT, T_STRING, T_BOOL, T_REGEX, T_DURATION, T_LAMBDA, T_LIST, T_STAR, T_INVALID = (
    "float", "int", "string", "boolean", "regex", "duration", "lambda", "list", "star", "invalid type")
DECL_TYPES = {"int": T_INT, "float": T_FLOAT, "bool": T_BOOL, "string": T_STRING, "regex": T_REGEX,
               "duration": T_DURATION, "lambda": T_LAMBDA, "list": T_LIST, "star": T_STAR}
# ValueType -> API var type
API_TYPES = {T_BOOL: "bool", T_INT: "int", T_FLOAT: "float", T_STRING: "string", T_REGEX: "regex",
             T_DURATION: "duration", T_LAMBDA: "lambda", T_LIST: "list", T_STAR: "star"}
TICK_TYPES = {v: k for k, v in API_TYPES.items()}


def value_type(v: Any) -> str:
    """`ast.TypeOf`."""
    if isinstance(v, bool):
        return T_BOOL
    if isinstance(v, int):
        return T_INT
    if isinstance(v, float):
        return T_FLOAT
    if isinstance(v, str):
        return T_STRING
    if isinstance(v, GoRegex):
        return T_REGEX
    if isinstance(v, Dur):
        return T_DURATION
    if isinstance(v, ast.Lambda):
        return T_LAMBDA
    if isinstance(v, list):
        return T_LIST
    if isinstance(v, ast.Star):
        return T_STAR
    return T_INVALID


#: Go's `%T` of the scalar value types.
_GO_TYPE_NAMES = {T_BOOL: "bool", T_INT: "int64", T_FLOAT: "float64", T_STRING: "string",
                  T_DURATION: "time.Duration", T_REGEX: "*regexp.Regexp"}


def scalar_go_type(v: Any) -> str | None:
    """Go's `%T` of a scalar value, None for anything else (lists, nodes, nil)."""
    return _GO_TYPE_NAMES.get(value_type(v))
