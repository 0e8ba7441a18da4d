"""Lambda evaluation with Kapacitor's stateful-expression rules (`tick/stateful`).

A lambda is compiled once into nested Python closures; each closure takes a `Scope` (the point's
fields, tags and time). The rules that make results differ from Python's are kept: no implicit
int/float mixing in arithmetic (comparisons may mix), Go integer division, strings compared
bytewise, `AND`/`OR` short-circuit, and a reference that is neither a field nor a tag is an error.
Stateful functions (`sigma`, `count`, `spread`) keep their state in the compiled closure, so a
caller that needs one state per group compiles one closure per group (Go's `CopyReset`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from mockserver.gotime import go_duration
from mockserver.tickscript import ast
from mockserver.tickscript import lexer as tok
from mockserver.tickscript.regexes import compile_go_regex


class EvalError(Exception):
    """A runtime failure of an expression on one point (a node error on the real server)."""


class Duration(int):
    """A time.Duration value (ns) inside an expression."""


class Time(int):
    """A time.Time value (ns since the epoch) inside an expression (the `time` reference)."""


class Scope:
    __slots__ = ("fields", "tags", "time")

    def __init__(self, fields: dict[str, Any], tags: dict[str, str], time: int) -> None:
        self.fields = fields
        self.tags = tags
        self.time = time


Fn = Callable[[Scope], Any]


def type_name(v: Any) -> str:
    """ast.ValueType names, as the real error messages print them."""
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, Duration):
        return "duration"
    if isinstance(v, Time):
        return "time"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, re.Pattern) or hasattr(v, "fullmatch"):
        return "regex"
    return "invalid type"


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "b"
    if isinstance(v, Duration):
        return "d"
    if isinstance(v, Time):
        return "t"
    if isinstance(v, int):
        return "i"
    if isinstance(v, float):
        return "f"
    if isinstance(v, str):
        return "s"
    return "r"


_OP = {tok.PLUS: "+", tok.MINUS: "-", tok.MULT: "*", tok.DIV: "/", tok.MOD: "%", tok.EQUAL: "==",
       tok.NOT_EQUAL: "!=", tok.LESS: "<", tok.GREATER: ">", tok.LESS_EQUAL: "<=", tok.GREATER_EQUAL: ">=",
       tok.REGEX_EQUAL: "=~", tok.REGEX_NOT_EQUAL: "!~", tok.AND: "AND", tok.OR: "OR"}  # fmt: skip


def _mismatch(op: int, a: Any, b: Any) -> EvalError:
    return EvalError(
        f"mismatched type to binary operator. got {type_name(a)} {_OP[op]} {type_name(b)}. "
        "see bool(), int(), float(), string(), duration()"
    )


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("runtime error: integer divide by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _go_mod(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("runtime error: integer divide by zero")
    return a - _go_div(a, b) * b


def _bytes_cmp(a: str, b: str) -> int:
    ea, eb = a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    return (ea > eb) - (ea < eb)


_FAST_CMP: dict[int, Callable[[Any, Any], bool]] = {
    tok.EQUAL: lambda a, b: a == b, tok.NOT_EQUAL: lambda a, b: a != b, tok.LESS: lambda a, b: a < b,
    tok.GREATER: lambda a, b: a > b, tok.LESS_EQUAL: lambda a, b: a <= b, tok.GREATER_EQUAL: lambda a, b: a >= b,
}  # fmt: skip
_PLAIN_NUMBERS = (int, float)


def _compare(op: int, a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta in _PLAIN_NUMBERS and tb in _PLAIN_NUMBERS:  # exact types: no bool, Duration or Time
        return _FAST_CMP[op](a, b)
    ka, kb = _kind(a), _kind(b)
    if ka == "s" and kb == "s":
        c = _bytes_cmp(a, b)
        return _cmp_result(op, c)
    numeric = ("i", "f")
    if (ka in numeric and kb in numeric) or (ka == kb and ka in ("d", "t")) or (
        ka == kb == "b" and op in (tok.EQUAL, tok.NOT_EQUAL)
    ):
        c = (a > b) - (a < b)
        if op == tok.EQUAL:
            return bool(a == b)
        if op == tok.NOT_EQUAL:
            return bool(a != b)
        return _cmp_result(op, c)
    raise _mismatch(op, a, b)


def _cmp_result(op: int, c: int) -> bool:
    if op == tok.EQUAL:
        return c == 0
    if op == tok.NOT_EQUAL:
        return c != 0
    if op == tok.LESS:
        return c < 0
    if op == tok.GREATER:
        return c > 0
    if op == tok.LESS_EQUAL:
        return c <= 0
    return c >= 0


def _math(op: int, a: Any, b: Any) -> Any:
    ka, kb = _kind(a), _kind(b)
    if ka == kb == "i":
        if op == tok.PLUS:
            return _wrap64(a + b)
        if op == tok.MINUS:
            return _wrap64(a - b)
        if op == tok.MULT:
            return _wrap64(a * b)
        if op == tok.DIV:
            return _go_div(a, b)
        return _go_mod(a, b)
    if ka == kb == "f":
        if op == tok.PLUS:
            return a + b
        if op == tok.MINUS:
            return a - b
        if op == tok.MULT:
            return a * b
        if op == tok.DIV:
            if b == 0:
                return math.copysign(math.inf, a) if a != 0 else math.nan
            return a / b
    if ka == kb == "s" and op == tok.PLUS:
        return a + b
    if ka == kb == "d":
        if op == tok.PLUS:
            return Duration(a + b)
        if op == tok.MINUS:
            return Duration(a - b)
        if op == tok.DIV:
            return _go_div(a, b)
    if ka == "d" and kb in ("i", "f") and op in (tok.MULT, tok.DIV):
        if op == tok.MULT:
            return Duration(int(a * b))
        if kb == "i":
            return Duration(_go_div(a, b))
        return Duration(int(a / b)) if b else Duration(0)
    if kb == "d" and ka in ("i", "f") and op == tok.MULT:
        return Duration(int(a * b))
    raise _mismatch(op, a, b)


def _wrap64(v: int) -> int:
    return ((v + (1 << 63)) % (1 << 64)) - (1 << 63)


def compile_lambda(lam: Any) -> Fn:
    """A closure evaluating `lam` (an `ast.Lambda` or bare expression) on a scope."""
    node = lam.expression if isinstance(lam, ast.Lambda) else lam
    return _compile(node)


def references(lam: Any) -> list[str]:
    """The field/tag names an expression reads (`ast.FindReferenceVariables`)."""
    out: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, ast.Reference):
            if n.reference not in out:
                out.append(n.reference)
        elif isinstance(n, ast.Binary):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, ast.Unary):
            walk(n.node)
        elif isinstance(n, ast.Function):
            for a in n.args:
                walk(a)
        elif isinstance(n, ast.Lambda):
            walk(n.expression)

    walk(lam)
    return out


class MissingValue(EvalError):
    """A reference that is neither a field nor a tag of the point."""

    def __init__(self, name: str) -> None:
        super().__init__(f'reference "{name}" is missing value')
        self.name = name


def _lookup(name: str) -> Fn:
    if name == "time":
        return lambda scope: Time(scope.time)

    def ref(scope: Scope) -> Any:
        v = scope.fields.get(name)
        if v is None:
            v = scope.tags.get(name)
            if v is None:
                raise MissingValue(name)
        elif name in scope.tags:
            raise EvalError(f'cannot have field and tags with same name "{name}"')
        return v

    return ref


def _sided(fn: Fn, side: str) -> Fn:
    def call(s: Scope) -> Any:
        try:
            return fn(s)
        except MissingValue as exc:
            raise EvalError(f'{side} reference value "{exc.name}" is missing value') from None
    return call


def _compile(n: Any) -> Fn:
    t = type(n)
    if t is ast.Number:
        value: Any = int(n.value) if n.is_int else float(n.value)
        return lambda _s: value
    if t is ast.String:
        text = n.literal
        return lambda _s: text
    if t is ast.Bool:
        b = bool(n.value)
        return lambda _s: b
    if t is ast.Duration:
        d = Duration(n.ns)
        return lambda _s: d
    if t is ast.Regex:
        pattern = compile_go_regex(n.pattern)
        return lambda _s: pattern
    if t is ast.Reference:
        return _lookup(n.reference)
    if t is ast.Unary:
        inner = _compile(n.node)
        if n.op == tok.NOT:
            def not_(s: Scope) -> Any:
                v = inner(s)
                if not isinstance(v, bool):
                    raise EvalError(f"invalid unary operator ! for type {type_name(v)}")
                return not v
            return not_

        def neg(s: Scope) -> Any:
            v = inner(s)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or isinstance(v, Time):
                raise EvalError(f"invalid unary operator - for type {type_name(v)}")
            return Duration(-v) if isinstance(v, Duration) else -v
        return neg
    if t is ast.Binary:
        return _binary(n)
    if t is ast.Function:
        return _function(n)
    if t is ast.Lambda:
        return _compile(n.expression)
    raise EvalError(f"unsupported expression node {t.__name__}")


def _binary(n: Any) -> Fn:
    op = n.op
    left, right = _sided(_compile(n.left), "left"), _sided(_compile(n.right), "right")
    if op in (tok.AND, tok.OR):
        want = op == tok.OR

        def logical(s: Scope) -> Any:
            a = left(s)
            if not isinstance(a, bool):
                raise EvalError(f"invalid logical operator {_OP[op]} for type {type_name(a)}")
            if a == want:
                return want
            b = right(s)
            if not isinstance(b, bool):
                raise EvalError(f"invalid logical operator {_OP[op]} for type {type_name(b)}")
            return b
        return logical
    if op in (tok.REGEX_EQUAL, tok.REGEX_NOT_EQUAL):
        negate = op == tok.REGEX_NOT_EQUAL

        def regex(s: Scope) -> Any:
            a, b = left(s), right(s)
            if not isinstance(a, str) or isinstance(b, (str, int, float)):
                raise _mismatch(op, a, b)
            return (b.search(a) is None) if negate else (b.search(a) is not None)
        return regex
    if op in tok.COMPARISON_OPERATORS:
        return lambda s: _compare(op, left(s), right(s))
    return lambda s: _math(op, left(s), right(s))


# ---- functions ------------------------------------------------------------------------------------


def _num(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EvalError(f"cannot pass {type_name(v)} as first arg to {name}, must be float64")
    if not isinstance(v, float):
        raise EvalError(f"cannot pass {type_name(v)} as first arg to {name}, must be float64")
    return v


def _math1(name: str, f: Callable[[float], float]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 1:
            raise EvalError(f"{name} expects exactly one argument")
        x = _num(name, args[0])
        try:
            return f(x)
        except (ValueError, OverflowError):
            return math.nan
    return call


def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return -(1 << 63)
        return int(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v, 10)
        except ValueError:
            raise EvalError(f'strconv.ParseInt: parsing "{v}": invalid syntax') from None
    raise EvalError(f"cannot convert {type_name(v)} to int")


def _to_float(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise EvalError(f'strconv.ParseFloat: parsing "{v}": invalid syntax') from None
    raise EvalError(f"cannot convert {type_name(v)} to float")


def _to_string(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Duration):
        return go_duration(v)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        from mockserver.gojson import go_float

        try:
            return go_float(v) if abs(v) < 1e21 else repr(v)
        except ValueError:
            return "NaN" if math.isnan(v) else ("+Inf" if v > 0 else "-Inf")
    if isinstance(v, str):
        return v
    raise EvalError(f"cannot convert {type_name(v)} to string")


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        if v in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if v in ("0", "f", "F", "FALSE", "false", "False"):
            return False
        raise EvalError(f'strconv.ParseBool: parsing "{v}": invalid syntax')
    if isinstance(v, int):
        return v != 0
    if isinstance(v, float):
        return v != 0.0
    raise EvalError(f"cannot convert {type_name(v)} to bool")


def _str_arg(name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise EvalError(f"cannot pass {type_name(v)} to {name}, must be string")
    return v


def _abs(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EvalError(f"cannot call abs with type {type_name(v)}")
    return abs(v)


def _minmax(name: str, pick: Callable[[float, float], float]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 2:
            raise EvalError(f"{name} expects exactly two arguments")
        return pick(_num(name, args[0]), _num(name, args[1]))
    return call


def _time_part(part: Callable[[Any], int]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) != 1 or not isinstance(args[0], Time):
            raise EvalError("expected argument of type time")
        import datetime

        dt = datetime.datetime.fromtimestamp(args[0] // 1_000_000_000, datetime.timezone.utc)
        return part(dt)
    return call


STATELESS: dict[str, Callable[..., Any]] = {
    "bool": lambda v: _to_bool(v),
    "int": lambda v: _to_int(v),
    "float": lambda v: _to_float(v),
    "string": lambda v: _to_string(v),
    "abs": _abs,
    "sqrt": _math1("sqrt", math.sqrt),
    "exp": _math1("exp", math.exp),
    "log": _math1("log", math.log),
    "log10": _math1("log10", math.log10),
    "log2": _math1("log2", math.log2),
    "floor": _math1("floor", math.floor),
    "ceil": _math1("ceil", math.ceil),
    "trunc": _math1("trunc", math.trunc),
    "sin": _math1("sin", math.sin),
    "cos": _math1("cos", math.cos),
    "tan": _math1("tan", math.tan),
    "min": _minmax("min", min),
    "max": _minmax("max", max),
    "pow": lambda a, b: math.pow(_num("pow", a), _num("pow", b)),
    "strContains": lambda a, b: _str_arg("strContains", b) in _str_arg("strContains", a),
    "strHasPrefix": lambda a, b: _str_arg("strHasPrefix", a).startswith(_str_arg("strHasPrefix", b)),
    "strHasSuffix": lambda a, b: _str_arg("strHasSuffix", a).endswith(_str_arg("strHasSuffix", b)),
    "strLength": lambda a: len(_str_arg("strLength", a)),
    "strToLower": lambda a: _str_arg("strToLower", a).lower(),
    "strToUpper": lambda a: _str_arg("strToUpper", a).upper(),
    "strTrimSpace": lambda a: _str_arg("strTrimSpace", a).strip(),
    "strIndex": lambda a, b: _str_arg("strIndex", a).find(_str_arg("strIndex", b)),
    "strReplace": lambda a, b, c, n: _str_arg("strReplace", a).replace(b, c, n if n >= 0 else -1),
    "strSubstring": lambda a, i, j: _str_arg("strSubstring", a)[i:j],
    "regexReplace": lambda r, s, rep: r.sub(rep.replace("$", "\\"), s),
    "minute": _time_part(lambda d: d.minute),
    "hour": _time_part(lambda d: d.hour),
    "day": _time_part(lambda d: d.day),
    "weekday": _time_part(lambda d: (d.weekday() + 1) % 7),
    "month": _time_part(lambda d: d.month),
    "year": _time_part(lambda d: d.year),
    "unixNano": lambda t: int(t),
}


class _Sigma:
    def __init__(self) -> None:
        self.n = 0.0
        self.mean = 0.0
        self.m2 = 0.0

    def __call__(self, *args: Any) -> Any:
        if len(args) != 1:
            raise EvalError("sigma expects exactly one argument")
        x = _num("sigma", args[0])
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)
        if self.n < 2:
            return 0.0
        variance = self.m2 / (self.n - 1)
        return abs(x - self.mean) / math.sqrt(variance) if variance else (math.inf if x != self.mean else math.nan)


class _Count:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, *args: Any) -> Any:
        self.n += 1
        return self.n


class _Spread:
    def __init__(self) -> None:
        self.low = math.inf
        self.high = -math.inf

    def __call__(self, *args: Any) -> Any:
        x = _num("spread", args[0]) if args else 0.0
        self.low = min(self.low, x)
        self.high = max(self.high, x)
        return self.high - self.low


STATEFUL: dict[str, type] = {"sigma": _Sigma, "count": _Count, "spread": _Spread}


def _function(n: Any) -> Fn:
    name = n.func
    if name == "isPresent":
        arg = n.args[0] if n.args else None
        if not isinstance(arg, ast.Reference):
            raise EvalError("isPresent expects a reference")
        ref = arg.reference
        return lambda s: ref in s.fields or ref in s.tags
    args = [_compile(a) for a in n.args]
    if name == "if":
        if len(args) != 3:
            raise EvalError("if expects exactly three arguments")
        cond, yes, no = args

        def if_(s: Scope) -> Any:
            c = cond(s)
            if not isinstance(c, bool):
                raise EvalError(f"first argument to if must be a boolean, got {type_name(c)}")
            a, b = yes(s), no(s)
            if _kind(a) != _kind(b):
                raise EvalError(f"Different return types are not supported - second argument is {type_name(a)} "
                                f"and third argument is {type_name(b)}")
            return a if c else b
        return if_
    impl: Callable[..., Any] | None = STATELESS.get(name)
    if impl is None and name in STATEFUL:
        impl = STATEFUL[name]()
    if impl is None:
        raise EvalError(f"undefined function {name}")
    call = impl

    def func(s: Scope) -> Any:
        values = [a(s) for a in args]
        try:
            return call(*values)
        except EvalError:
            raise
        except (TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
            raise EvalError(f"error calling {name}: {exc}") from None
    return func
