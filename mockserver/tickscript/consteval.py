"""Constant expressions outside lambdas (`var x = 5 * 60`, `'a' + string(5m)`).

The real evaluator runs them through its lambda expression engine with an empty scope; this covers
its operators and the stateless functions a constant expression can use (conversions, math,
strings), with its error wording where scripts commonly go wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import ast
from .durations import DurationError, format_duration, parse_duration
from .formatter import format_float
from .lexer import (
    AND,
    DIV,
    EQUAL,
    GREATER,
    GREATER_EQUAL,
    LESS,
    LESS_EQUAL,
    MINUS,
    MOD,
    MULT,
    NOT,
    NOT_EQUAL,
    OR,
    PLUS,
    REGEX_EQUAL,
    REGEX_NOT_EQUAL,
    TOKEN_NAMES,
)
from .regexes import compile_go_regex
from .typecheck import OPERATIONS, binary_error, literal_type
from .values import (
    T_BOOL,
    T_DURATION,
    T_FLOAT,
    T_INT,
    T_INVALID,
    T_STRING,
    Dur,
    GoRegex,
    TickscriptError,
    scalar_go_type,
    value_type,
)

_CMP = {EQUAL, NOT_EQUAL, LESS, GREATER, LESS_EQUAL, GREATER_EQUAL}
_I64 = 1 << 64


def _wrap(v: int) -> int:
    return ((v + (1 << 63)) % _I64) - (1 << 63)


def _go_type(v: Any) -> str:
    return scalar_go_type(v) or "<nil>"


def _to_string(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = format_float(v)
        return s[:-2] if s.endswith(".0") else s
    if isinstance(v, Dur):
        return format_duration(v.ns)
    if isinstance(v, str):
        return v
    raise TickscriptError(f"cannot convert {_go_type(v)} to string")


def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return -(1 << 63)
        return _wrap(int(v))
    if isinstance(v, Dur):
        return v.ns
    if isinstance(v, str):
        try:
            return int(v, 10)
        except ValueError:
            raise TickscriptError(f'strconv.ParseInt: parsing "{v}": invalid syntax') from None
    raise TickscriptError(f"cannot convert {_go_type(v)} to integer")


def _to_float(v: Any) -> float:
    if isinstance(v, (bool, int)):
        return float(v)
    if isinstance(v, float):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise TickscriptError(f'strconv.ParseFloat: parsing "{v}": invalid syntax') from None
    raise TickscriptError(f"cannot convert {_go_type(v)} to float")


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        if v in (0, 1):
            return bool(v)
        raise TickscriptError(f"cannot convert {v} to boolean")
    if isinstance(v, str):
        if v in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if v in ("0", "f", "F", "FALSE", "false", "False"):
            return False
        raise TickscriptError(f'strconv.ParseBool: parsing "{v}": invalid syntax')
    raise TickscriptError(f"cannot convert {_go_type(v)} to boolean")


def _to_duration(*args: Any) -> Dur:
    if len(args) not in (1, 2):
        raise TickscriptError("duration expects one or two arguments duration(value, unit) where unit is "
                              "optional depending on the type of value.")
    a = args[0]
    if isinstance(a, Dur):
        return a
    if isinstance(a, str):
        try:
            return Dur(parse_duration(a))
        except DurationError:
            raise TickscriptError(f'invalid duration string "{a}"') from None
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        if len(args) != 2:
            raise TickscriptError("duration expects unit argument for int and float values")
        if not isinstance(args[1], Dur):
            raise TickscriptError(f"invalid duration unit type: {_go_type(args[1])}")
        return Dur(_wrap(int(a * args[1].ns)))
    raise TickscriptError(f"cannot convert {_go_type(a)} to duration")


def _one(name: str, f: Callable[[Any], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 1:
            raise TickscriptError(f"{name} expects exactly one argument")
        return f(args[0])
    return call


def _math1(name: str, f: Callable[[float], float]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 1:
            raise TickscriptError(f"{name} expects exactly one argument")
        if not isinstance(args[0], float):
            raise TickscriptError(f"cannot pass {_go_type(args[0])} to {name}, only float64")
        try:
            return float(f(args[0]))
        except (ValueError, OverflowError):
            return math.nan
    return call


def _math2(name: str, f: Callable[[float, float], float]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 2:
            raise TickscriptError(f"{name} expects exactly two arguments")
        for a in args:
            if not isinstance(a, float):
                raise TickscriptError(f"cannot pass {_go_type(a)} to {name}, only float64")
        try:
            return float(f(args[0], args[1]))
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.nan
    return call


def _str_fn(name: str, n: int, f: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != n:
            raise TickscriptError(f"{name} expects exactly {n} arguments")
        return f(*args)
    return call


FUNCS: dict[str, Callable[..., Any]] = {
    "bool": _one("bool", _to_bool),
    "int": _one("int", _to_int),
    "float": _one("float", _to_float),
    "string": _one("string", _to_string),
    "duration": _to_duration,
    "abs": _math1("abs", abs), "acos": _math1("acos", math.acos), "acosh": _math1("acosh", math.acosh),
    "asin": _math1("asin", math.asin), "asinh": _math1("asinh", math.asinh), "atan": _math1("atan", math.atan),
    "atanh": _math1("atanh", math.atanh), "cbrt": _math1("cbrt", lambda x: math.copysign(abs(x) ** (1 / 3), x)),
    "ceil": _math1("ceil", math.ceil), "cos": _math1("cos", math.cos), "cosh": _math1("cosh", math.cosh),
    "erf": _math1("erf", math.erf), "erfc": _math1("erfc", math.erfc), "exp": _math1("exp", math.exp),
    "exp2": _math1("exp2", lambda x: 2.0 ** x), "expm1": _math1("expm1", math.expm1),
    "floor": _math1("floor", math.floor), "gamma": _math1("gamma", math.gamma), "log": _math1("log", math.log),
    "log10": _math1("log10", math.log10), "log1p": _math1("log1p", math.log1p), "log2": _math1("log2", math.log2),
    "sin": _math1("sin", math.sin), "sinh": _math1("sinh", math.sinh), "sqrt": _math1("sqrt", math.sqrt),
    "tan": _math1("tan", math.tan), "tanh": _math1("tanh", math.tanh), "trunc": _math1("trunc", math.trunc),
    "atan2": _math2("atan2", math.atan2), "hypot": _math2("hypot", math.hypot), "pow": _math2("pow", math.pow),
    "max": _math2("max", max), "min": _math2("min", min), "mod": _math2("mod", math.fmod),
    "strLength": _str_fn("strLength", 1, len),
    "strToLower": _str_fn("strToLower", 1, str.lower),
    "strToUpper": _str_fn("strToUpper", 1, str.upper),
    "strTrimSpace": _str_fn("strTrimSpace", 1, str.strip),
    "strContains": _str_fn("strContains", 2, lambda a, b: b in a),
    "strHasPrefix": _str_fn("strHasPrefix", 2, str.startswith),
    "strHasSuffix": _str_fn("strHasSuffix", 2, str.endswith),
    "strIndex": _str_fn("strIndex", 2, str.find),
    "strReplace": _str_fn("strReplace", 4, lambda s, old, new, n: s.replace(old, new, n if n >= 0 else -1)),
    "if": _str_fn("if", 3, lambda c, a, b: a if c else b),
}


_EVALUABLE = (ast.Bool, ast.Number, ast.Duration, ast.String, ast.Regex, ast.Binary, ast.Reference, ast.Function,
              ast.Unary, ast.Lambda)


def _type_error(op: int, lt: str, rt: str) -> TickscriptError:
    """`determineError`, as at task start-up, over types where `T_INVALID` stands for unknown."""
    return TickscriptError(binary_error(None if lt == T_INVALID else lt, op, None if rt == T_INVALID else rt))


def _is_dynamic(n: ast.Node) -> bool:
    t = type(n)
    if t is ast.Reference or t is ast.Function:
        return True
    if t is ast.Unary:
        return _is_dynamic(n.node)  # type: ignore[attr-defined]
    if t is ast.Lambda:
        return _is_dynamic(n.expression)  # type: ignore[attr-defined]
    if t is ast.Binary:
        return _is_dynamic(n.left) or _is_dynamic(n.right)  # type: ignore[attr-defined]
    return False


def _static_type(n: ast.Node) -> str:
    """`getConstantNodeType`."""
    literal = literal_type(n)
    if literal is not None:
        return literal
    t = type(n)
    if t is ast.Unary:
        inner = _static_type(n.node)  # type: ignore[attr-defined]
        if n.op == NOT:  # type: ignore[attr-defined]
            return T_BOOL if inner == T_BOOL else T_INVALID
        return inner if inner in (T_INT, T_FLOAT, T_DURATION) else T_INVALID
    if t is ast.Binary:
        return OPERATIONS.get((n.op, _static_type(n.left), _static_type(n.right)), T_INVALID)  # type: ignore
    if t is ast.Lambda:
        return _static_type(n.expression)  # type: ignore[attr-defined]
    return T_INVALID


def _check_tree(n: ast.Binary) -> None:
    """Building the real expression tree: node kinds, then static operator/type checks."""
    for side, child in (("left", n.left), ("right", n.right)):
        if not isinstance(child, _EVALUABLE):
            raise TickscriptError(f"Failed to handle {side} node: Given node type is not valid evaluation node: "
                                  f"*ast.{type(child).__name__}Node")
        if isinstance(child, ast.Binary):
            try:
                _check_tree(child)
            except TickscriptError as e:
                raise TickscriptError(f"Failed to handle {side} node: {e}") from None
    if not _is_dynamic(n):
        lt, rt = _static_type(n.left), _static_type(n.right)
        if (n.op, lt, rt) not in OPERATIONS:
            raise _type_error(n.op, lt, rt)


def const_value(n: ast.Node) -> Any:
    t = type(n)
    if t is ast.Number or t is ast.Bool:
        return n.value  # type: ignore[attr-defined]
    if t is ast.String:
        return n.literal  # type: ignore[attr-defined]
    if t is ast.Duration:
        return Dur(n.ns)  # type: ignore[attr-defined]
    if t is ast.Regex:
        return GoRegex(n.pattern)  # type: ignore[attr-defined]
    if t is ast.Binary:
        return const_eval(n)
    if t is ast.Lambda:
        return const_eval(n.expression)  # type: ignore[attr-defined]
    if t is ast.Unary:
        v = const_value(n.node)  # type: ignore[attr-defined]
        op = n.op  # type: ignore[attr-defined]
        if op == NOT and isinstance(v, bool):
            return not v
        if op == MINUS and isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v
        if op == MINUS and isinstance(v, Dur):
            return Dur(-v.ns)
        raise TickscriptError(f"invalid unary operator {TOKEN_NAMES[op]} for type {value_type(v)}")
    if t is ast.Function:
        f = FUNCS.get(n.func)  # type: ignore[attr-defined]
        if f is None:
            raise TickscriptError(f'undefined function: "{n.func}"')  # type: ignore[attr-defined]
        return f(*[const_value(a) for a in n.args])  # type: ignore[attr-defined]
    if t is ast.Reference:
        # constant expressions are evaluated with an empty scope
        raise TickscriptError(f'name "{n.reference}" is undefined. Names in scope: ')  # type: ignore
    raise TickscriptError("left value is invalid value type")


def const_eval(n: ast.Node) -> Any:
    """Value of a constant expression (identifiers already resolved)."""
    if not isinstance(n, ast.Binary):
        return const_value(n)
    _check_tree(n)
    return _binary(n)


def _binary(b: ast.Binary) -> Any:
    left = const_value(b.left)
    right = const_value(b.right)
    op = b.op
    lt, rt = value_type(left), value_type(right)
    if (op, lt, rt) not in OPERATIONS:
        if lt == T_INVALID:
            raise TickscriptError("left value is invalid value type")
        if rt == T_INVALID:
            raise TickscriptError("right value is invalid value type")
        raise _type_error(op, lt, rt)
    if op == AND:
        return left and right
    if op == OR:
        return left or right
    if op in (REGEX_EQUAL, REGEX_NOT_EQUAL):
        matched = compile_go_regex(right.pattern or "").search(left) is not None
        return matched if op == REGEX_EQUAL else not matched
    lv = left.ns if isinstance(left, Dur) else left
    rv = right.ns if isinstance(right, Dur) else right
    if op in _CMP:
        return {EQUAL: lv == rv, NOT_EQUAL: lv != rv, LESS: lv < rv, GREATER: lv > rv,
                LESS_EQUAL: lv <= rv, GREATER_EQUAL: lv >= rv}[op]
    if lt == T_STRING:
        return left + right
    result_type = OPERATIONS[(op, lt, rt)]
    if result_type == T_FLOAT:
        if op == DIV:
            if rv == 0:
                return math.nan if lv == 0 else math.copysign(math.inf, lv)
            return lv / rv
        return {PLUS: lv + rv, MINUS: lv - rv, MULT: lv * rv}[op]
    if op in (DIV, MOD) and rv == 0:
        raise TickscriptError("runtime error: integer divide by zero")
    if isinstance(lv, float) or isinstance(rv, float):
        # duration scaled by a float: computed in float, truncated
        value = _wrap(int(lv * rv)) if op == MULT else _wrap(int(lv / rv))
    elif op == DIV:
        q = abs(lv) // abs(rv)
        value = _wrap(q if (lv >= 0) == (rv > 0) else -q)
    elif op == MOD:
        value = _wrap(int(math.fmod(lv, rv)))
    else:
        value = _wrap({PLUS: lv + rv, MINUS: lv - rv, MULT: lv * rv}[op])
    return Dur(value) if result_type == T_DURATION else value


__all__ = ["FUNCS", "T_FLOAT", "const_eval", "const_value"]
