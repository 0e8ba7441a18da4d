"""Evaluation of a parsed TICKscript into a pipeline graph, as the real `tick.Evaluate` does it.

The real evaluator is a stack machine that calls Go methods by reflection on pipeline node objects;
here the same walk calls into the node table of `nodes.py`. What is reproduced is what the API
exposes: the node graph (names, IDs, edges, order), the declared vars with their defaults, and the
errors with their wording — unknown methods/properties, argument type mismatches reported the way a
reflective Go call panics, missing template vars, type-mismatched var overrides and node validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mockserver.errors import MockError

from . import ast
from .consteval import const_eval
from .durations import go_duration_string
from .formatter import format_expression, format_float
from .graph import Pipeline, PNode, View
from .lexer import AND, LESS_EQUAL, MINUS, NOT, TOKEN_NAMES
from .nodes import describe
from .regexes import RegexError
from .validate import validate_node
from .values import (
    DECL_TYPES,
    T_BOOL,
    T_DURATION,
    T_FLOAT,
    T_INT,
    T_INVALID,
    T_LAMBDA,
    T_LIST,
    T_REGEX,
    T_STAR,
    T_STRING,
    Dur,
    GlobalTime,
    GoRegex,
    GoValue,
    TickscriptError,
    TimeDimension,
    scalar_go_type,
    value_type,
)

#: The [deadman] section's defaults of a server whose configuration leaves them alone
#: (services/deadman/config.go); NODE_NAME and INTERVAL are placeholders `deadman()` fills in.
DEADMAN_ID = "{{ .Group }}:NODE_NAME for task '{{ .TaskName }}'"
DEADMAN_MESSAGE = ('{{ .ID }} is {{ if eq .Level "OK" }}alive{{ else }}dead{{ end }}: '
                   '{{ index .Fields "emitted" | printf "%0.3f" }} points/INTERVAL.')


class _Panic(MockError):
    """A Go panic inside a reflective call; turned into `error calling func ...`."""


# --------------------------------------------------------------------------------------------------
# Type names and value rendering (Go's %T and %v)

_PARAM_TYPES = {"Node": "pipeline.Node", "interface{}": "interface {}", "[]byte": "[]uint8",
                "[]interface{}": "[]interface {}", "ReduceCreater": "pipeline.ReduceCreater"}


def reflect_type(t: str) -> str:
    return _PARAM_TYPES.get(t, t)


def type_name(v: Any) -> str:
    """Go's `%T` of a value."""
    scalar = scalar_go_type(v)
    if scalar is not None:
        return scalar
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, (PNode, View)):
        return "*pipeline." + v.gotype
    if isinstance(v, ast.Lambda):
        return "*ast.LambdaNode"
    if isinstance(v, ast.Star):
        return "*ast.StarNode"
    if isinstance(v, ast.Reference):
        return "*ast.ReferenceNode"
    if isinstance(v, ast.Identifier):
        return "*ast.IdentifierNode"
    if isinstance(v, ast.Node):
        return "*ast." + type(v).__name__ + "Node"
    if isinstance(v, TimeDimension):
        return "kapacitor.TimeDimension"
    if isinstance(v, GlobalTime):
        return "func(time.Duration, ...time.Duration) (kapacitor.TimeDimension, error)"
    if isinstance(v, GoValue):
        return v.type_name
    if isinstance(v, _Unbound):
        return "tick.unboundFunc"
    return "<nil>"


def _kind(v: Any) -> str:
    """reflect.Kind name, for `call of reflect.Value.Call on <kind> Value`."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, Dur)):
        return "int64"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, TimeDimension):
        return "struct"
    return "ptr"


def ast_string(n: Any, prog: ast.Program) -> str:
    """The real nodes' `String()` (what `%v` prints for a syntax node), positions as `<pos>l<line>c<char>`."""
    if n is None:
        return "<nil>"
    if isinstance(n, list):
        return "[" + " ".join(ast_string(x, prog) for x in n) + "]"
    if isinstance(n, ast.Comment):
        return f"CommentNode@{_pos_v(n.pos, prog)}{{[{' '.join(n.lines)}]}}"
    p = _pos_v(n.pos, prog)
    c = ast_string(n.comment, prog)
    t = type(n)
    if t is ast.Number:
        body = f"{n.value}i,b{n.base}" if n.is_int else f"{n.value:f},b{n.base}"
        return f"NumberNode@{p}{{{body}}}{c}"
    if t is ast.Duration:
        lit = '"' + n.literal.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"DurationNode@{p}{{{go_duration_string(n.ns)},{lit}}}{c}"
    if t is ast.Bool:
        return f"BoolNode@{p}{{{'true' if n.value else 'false'}}}{c}"
    if t is ast.Unary:
        return f"UnaryNode@{p}{{{TOKEN_NAMES[n.op]} {ast_string(n.node, prog)}}}{c}"
    if t is ast.Binary:
        return (f"BinaryNode@{p}{{p:{str(n.parens).lower()} m:{str(n.multiline).lower()} "
                f"{ast_string(n.left, prog)} {TOKEN_NAMES[n.op]} {ast_string(n.right, prog)}}}{c}")
    if t is ast.Chain:
        return f"ChainNode@{p}{{{ast_string(n.left, prog)} {TOKEN_NAMES[n.op]} {ast_string(n.right, prog)}}}{c}"
    if t is ast.Identifier:
        return f"IdentifierNode@{p}{{{n.ident}}}{c}"
    if t is ast.Reference:
        return f"ReferenceNode@{p}{{{n.reference}}}{c}"
    if t is ast.String:
        return f"StringNode@{p}{{{n.literal}}}{c}"
    if t is ast.List:
        return f"ListNode@{p}{{{ast_string(n.nodes, prog)}}}{c}"
    if t is ast.Regex:
        return f"RegexNode@{p}{{{n.pattern}}}{c}"
    if t is ast.Star:
        return f"StarNode@{p}{{*}}{c}"
    if t is ast.Function:
        kind = ("global", "chain", "property", "dynamic")[n.ftype]
        return f"FunctionNode@{p}{{{kind} {n.func} {ast_string(n.args, prog)}}}{c}"
    if t is ast.Lambda:
        return f"LambdaNode@{p}{{{ast_string(n.expression, prog)}}}{c}"
    return "&{...}"


def _pos_v(pos: int, prog: ast.Program) -> str:
    if pos < 0:
        return "0l0c0"
    line, char = prog.line_char(pos)
    return f"{len(prog.text[:pos].encode('utf-8', 'surrogatepass'))}l{line}c{char}"


def go_v(v: Any, prog: ast.Program | None = None) -> str:
    """Go's `%v` for the values that appear in error texts."""
    if v is None:
        return "<nil>"
    if isinstance(v, ast.Node) and prog is not None:
        return ast_string(v, prog)
    if isinstance(v, _Unbound):
        return "0x54b740"  # a function value prints as its address
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_float_v(v)
    if isinstance(v, Dur):
        return go_duration_string(v.ns)
    if isinstance(v, list):
        return "[" + " ".join(go_v(x) for x in v) + "]"
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, GoRegex):
        return "<nil>" if v.pattern is None else v.pattern
    return "&{...}"


def _go_float_v(f: float) -> str:
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    r = repr(f)
    if "e" in r:
        mant, exp = r.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-")
        return f"{mant}e{sign}{int(digits):02d}"
    return r


# Zero values a template's type-only declarations take (typed nils where Go has them).
_ZERO: dict[str, Callable[[], Any]] = {
    T_FLOAT: lambda: 0.0, T_INT: lambda: 0, T_STRING: lambda: "", T_BOOL: lambda: False,
    T_REGEX: lambda: GoRegex(None), T_DURATION: lambda: Dur(0),
    T_LAMBDA: lambda: ast.Lambda(-1, None),  # type: ignore[arg-type]
    T_LIST: lambda: [], T_STAR: lambda: ast.Star(-1),
}


# --------------------------------------------------------------------------------------------------
# Scope

class Scope:
    def __init__(self) -> None:
        self.vars: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name in self.vars:
            return self.vars[name]
        names = ",".join(self.vars)
        raise TickscriptError(f'name "{name}" is undefined. Names in scope: {names}')


def _pos_err(prog: ast.Program, n: ast.Node | int, msg: str) -> TickscriptError:
    pos = n if isinstance(n, int) else n.pos
    line, char = prog.line_char(pos)
    return TickscriptError(f"line {line} char {char}: {msg}")


# --------------------------------------------------------------------------------------------------
# Reflective calls

def _assignable(v: Any, go_type: str) -> bool:
    if go_type == "interface{}":
        return True
    if go_type == "Node":
        return isinstance(v, (PNode, View))
    return type_name(v) == reflect_type(go_type)


def _check_call(params: tuple[str, ...], variadic: bool, args: list[Any]) -> None:
    """The argument checks of reflect.Value.Call, panicking with its messages."""
    n = len(params) - (1 if variadic else 0)
    if len(args) < n:
        raise _Panic("reflect: Call with too few input arguments")
    if not variadic and len(args) > n:
        raise _Panic("reflect: Call with too many input arguments")
    for a in args:
        if a is None:
            raise _Panic("reflect: Call using zero Value argument")
    for i in range(n):
        if not _assignable(args[i], params[i]):
            raise _Panic(f"reflect: Call using {type_name(args[i])} as type {reflect_type(params[i])}")
    if variadic:
        elem = params[-1]
        for a in args[n:]:
            if not _assignable(a, elem):
                raise _Panic(f"reflect: cannot use {type_name(a)} as type {reflect_type(elem)} in Call")


def _capitalize(name: str) -> str:
    first = name[:1].upper()
    if len(first) != 1:
        first = name[:1]
    return first + name[1:]


class _Unbound:
    """A function call waiting for its receiver (the real `unboundFunc`)."""

    __slots__ = ("args", "ev", "f")

    def __init__(self, ev: Evaluator, f: ast.Function, args: list[Any]) -> None:
        self.ev = ev
        self.f = f
        self.args = args

    def __call__(self, obj: Any) -> Any:
        f = self.f
        try:
            return self.ev.call(f, obj, self.args)
        except _Panic as e:
            msg = f'error calling func "{f.func}" on obj {type_name(obj)}: {e}'
            if "*ast.ReferenceNode" in msg and "type string" in msg:
                msg = ("cannot assign *ast.ReferenceNode to type string, did you use double quotes instead of "
                       "single quotes?")
            raise _pos_err(self.ev.prog, f, msg) from None


# --------------------------------------------------------------------------------------------------
# The evaluator

class Evaluator:
    def __init__(self, prog: ast.Program, kind: str, predefined: dict[str, tuple[str, Any]] | None,
                 ignore_missing: bool) -> None:
        self.prog = prog
        self.kind = kind
        self.pipeline = Pipeline()
        self.pipeline.kind = kind
        self.scope = Scope()
        self.scope.vars["time"] = GlobalTime()
        src = PNode(self.pipeline, "StreamNode" if kind == "stream" else "BatchNode", kind, kind)
        self.pipeline.add_source(src)
        self.scope.vars[kind] = src
        self.predefined = predefined or {}
        self.ignore_missing = ignore_missing
        self.default_vars: dict[str, tuple[str, Any, str]] = {}  # name -> (ValueType, value, desc)
        self.stack: list[Any] = []

    # -- stack machine ---------------------------------------------------------------------------
    def pop(self) -> Any:
        if not self.stack:
            raise TickscriptError("evaluation caused stack error: stack is empty")
        return self.stack.pop()

    def run(self) -> None:
        for stmt in self.prog.nodes:
            self.eval(stmt)  # type: ignore[arg-type]
            if self.stack:
                ret = self.stack.pop()
                if isinstance(ret, _Unbound):
                    ret(None)

    def eval(self, n: ast.Node) -> None:
        t = type(n)
        push = self.stack.append
        if t is ast.Chain:
            self._eval_chain(n)  # type: ignore[arg-type]
        elif t is ast.Function:
            args = []
            for a in n.args:  # type: ignore[attr-defined]
                self.eval(a)
                v = self.pop()
                if type(v) is ast.Identifier:
                    v = self.scope.get(v.ident)
                elif isinstance(v, _Unbound):
                    v = v(None)
                args.append(v)
            push(_Unbound(self, n, args))  # type: ignore[arg-type]
        elif t is ast.Number or t is ast.Bool:
            push(n.value)  # type: ignore[attr-defined]
        elif t is ast.String:
            push(n.literal)  # type: ignore[attr-defined]
        elif t is ast.Duration:
            push(Dur(n.ns))  # type: ignore[attr-defined]
        elif t is ast.Regex:
            push(GoRegex(n.pattern))  # type: ignore[attr-defined]
        elif t is ast.Lambda:
            push(ast.Lambda(n.pos, self.resolve(n.expression), n.comment))  # type: ignore[attr-defined]
        elif t is ast.Declaration:
            self.eval(n.right)  # type: ignore[attr-defined]
            self._declaration(n)  # type: ignore[arg-type]
        elif t is ast.TypeDeclaration:
            self._type_declaration(n)  # type: ignore[arg-type]
        elif t is ast.Unary:
            self.eval(n.node)  # type: ignore[attr-defined]
            self._unary(n)  # type: ignore[arg-type]
        elif t is ast.Binary:
            push(self._binary(self.resolve(n)))
        elif t is ast.List:
            items = []
            for item in n.nodes:  # type: ignore[attr-defined]
                self.eval(item)
                v = self.pop()
                if type(v) is ast.Identifier:
                    v = self.scope.get(v.ident)
                items.append(v)
            push(items)
        else:
            push(n)

    def _unary(self, n: ast.Unary) -> None:
        v = self.pop()
        if type(v) is ast.Identifier:
            v = self.scope.get(v.ident)
        if n.op == MINUS:
            if isinstance(v, bool) or not isinstance(v, (int, float, Dur)):
                raise _pos_err(self.prog, n, f"invalid arugument to '-' {go_v(v, self.prog)}")
            self.stack.append(Dur(-v.ns) if isinstance(v, Dur) else -v)
        elif n.op == NOT:
            if not isinstance(v, bool):
                raise _pos_err(self.prog, n, f"invalid arugument to '!' {go_v(v, self.prog)}")
            self.stack.append(not v)

    def _type_declaration(self, n: ast.TypeDeclaration) -> None:
        tname = n.type.ident
        actual = DECL_TYPES.get(tname)
        if actual is None:
            raise TickscriptError(f'invalid var type "{tname}"')
        name = n.node.ident
        desc = n.comment.text() if n.comment is not None else ""
        self.default_vars[name] = (actual, None, desc)
        if name in self.predefined:
            ptype, pvalue = self.predefined[name]
            if ptype != actual:
                raise TickscriptError(f"invalid type supplied for {name}, got {ptype} exp {actual}")
            self.scope.vars[name] = pvalue
        elif self.ignore_missing:
            self.scope.vars[name] = _ZERO[actual]()
        else:
            raise TickscriptError(f'missing value for var "{name}".')

    def _declaration(self, n: ast.Declaration) -> None:
        name = n.left.ident
        if self.scope.vars.get(name) is not None:
            raise TickscriptError(f"attempted to redefine {name}, vars are immutable")
        value = self.pop()
        if type(value) is ast.Identifier:
            value = self.scope.get(value.ident)
        actual = value_type(value)
        if actual != T_INVALID:
            desc = n.comment.text() if n.comment is not None else ""
            self.default_vars[name] = (actual, value, desc)
        if name in self.predefined:
            ptype, pvalue = self.predefined[name]
            if ptype != actual:
                raise TickscriptError(f"invalid type supplied for {name}, got {ptype} exp {actual}")
            value = pvalue
        self.scope.vars[name] = value

    def _eval_chain(self, n: ast.Chain) -> None:
        # Chains are left-deep: evaluate iteratively from the innermost left operand.
        links: list[ast.Chain] = []
        node: ast.Node = n
        while isinstance(node, ast.Chain):
            links.append(node)
            node = node.left
        self.eval(node)
        for link in reversed(links):
            self.eval(link.right)
            r = self.pop()
            left = self.pop()
            if type(left) is ast.Identifier:
                left = self.scope.get(left.ident)
            if isinstance(r, _Unbound):
                self.stack.append(r(left))
            elif type(r) is ast.Identifier:
                self.stack.append(self._read_property(link, left, r.ident))
            else:
                raise _pos_err(self.prog, link, f"invalid right operand of type {type_name(r)} to '.' operator")

    def _read_property(self, link: ast.Chain, obj: Any, name: str) -> Any:
        if not isinstance(obj, (PNode, View)):
            raise _pos_err(self.prog, link, _describer_error(obj))
        d = describe(obj.gotype)
        cap = _capitalize(name)
        if cap in d.fields:
            return obj.node.fields.get(cap, _field_zero(d.fields[cap]))
        if cap in d.property_methods:
            raise _pos_err(self.prog, link, f"cannot read property {name} of {type_name(obj)}")
        raise _pos_err(self.prog, link, f"object {type_name(obj)} has no property {name}")

    # -- calls -------------------------------------------------------------------------------------
    def call(self, f: ast.Function, obj: Any, args: list[Any]) -> Any:
        if len(args) == 1 and isinstance(args[0], list):
            args = list(args[0])
        prog = self.prog
        if f.ftype == ast.GLOBAL_FUNC:
            if obj is not None:
                raise _pos_err(prog, f, f"calling global function on object {type_name(obj)}")
            fnc = self.scope.vars.get(f.func)
            if fnc is None:
                raise _pos_err(prog, f, f'no global function "{f.func}" defined')
            if isinstance(fnc, GlobalTime):
                _check_call(("time.Duration", "time.Duration"), True, args)
                if len(args) > 2:
                    raise _pos_err(prog, f, f"time() function expects 1 or 2 args, got {len(args)}")
                return TimeDimension(args[0].ns, args[1].ns if len(args) == 2 else 0)
            raise _Panic(f"reflect: call of reflect.Value.Call on {_kind(fnc)} Value")
        if not isinstance(obj, (PNode, View)):
            raise _pos_err(prog, f, _describer_error(obj))
        d = describe(obj.gotype)
        name = f.func
        cap = _capitalize(name)
        tname = type_name(obj)
        has_prop = cap in d.property_methods or cap in d.fields
        if f.ftype == ast.CHAIN_FUNC:
            m = d.chain.get(cap)
            if m is not None:
                if m.read_only:
                    raise _Panic("reflect: reflect.Value.Call using value obtained using unexported field")
                _check_call(m.params, m.variadic, args)
                return self._chain_effect(f, obj, m, args)
            if has_prop:
                raise _pos_err(prog, f, f'no chaining method "{name}" on {tname}, but property does exist. '
                                        f"Use '.' operator instead: 'node.{name}(..)'.")
        elif f.ftype == ast.PROPERTY_FUNC:
            pm = d.property_methods.get(cap)
            if pm is not None:
                _check_call(pm.params, pm.variadic, args)
                return self._property_effect(obj, pm, args)
            if cap in d.fields:
                if len(args) != 1:
                    raise _pos_err(prog, f, f"too many arguments to set property {cap} on {tname}")
                ftype = d.fields[cap]
                if args[0] is None:
                    raise _Panic("reflect: call of reflect.Value.Type on zero Value")
                if not _assignable(args[0], ftype):
                    raise _Panic(f"reflect.Set: value of type {type_name(args[0])} is not assignable to type "
                                 f"{reflect_type(ftype)}")
                obj.node.fields[cap] = args[0]
                return obj
            if cap in d.chain:
                raise _pos_err(prog, f, f'no property method "{name}" on {tname}, but chaining method does exist. '
                                        f"Use '|' operator instead: 'node|{name}(..)'.")
        else:  # dynamic (UDF): no UDFs are configured
            if has_prop:
                raise _pos_err(prog, f, f'no dynamic method "{name}" on {tname}, but property does exist. '
                                        f"Use '.' operator instead: 'node.{name}(..)'.")
            if cap in d.chain:
                raise _pos_err(prog, f, f'no dynamic method "{name}" on {tname}, but chaining method does exist. '
                                        f"Use '|' operator instead: 'node|{name}(..)'.")
        raise _pos_err(prog, f, f'no method or property "{name}" on {tname}')

    def _chain_effect(self, f: ast.Function, obj: PNode | View, m: Any, args: list[Any]) -> Any:
        parent = obj.node
        effect = m.effect
        p = self.pipeline
        if effect is None:
            return _misc_method(obj, m, args)
        kind = effect[0]
        if kind == "node":
            desc, provides = effect[1], effect[2]
            if len(effect) > 3 and parent.provides != ("stream" if m.name == "Window" else "batch"):
                raise _Panic(effect[3])
            if m.name == "Sample" and not (isinstance(args[0], Dur) or type(args[0]) is int):
                raise _Panic("must pass int64 or duration to new sample node")
            child = PNode(p, m.result.lstrip("*"), desc, parent.provides if provides == "same" else provides)
            child.ctor_args = tuple(args)
            parent.link_child(child)
            return child
        if kind == "join":
            j = PNode(p, "JoinNode", "join", parent.provides)
            j.fields["Delimiter"] = "."
            for other in [parent, *(a.node for a in args)]:
                other.link_child(j)
            return j
        if kind == "union":
            u = PNode(p, "UnionNode", "union", parent.provides)
            for other in [a.node for a in args]:
                other.link_child(u)
            parent.link_child(u)
            return u
        if kind == "stats":
            return self._stats(parent, args[0])
        if kind == "deadman":
            return self._deadman(parent, args)
        raise TickscriptError(f"unsupported chain method {m.name}")  # pragma: no cover

    def _stats(self, parent: PNode, interval: Any) -> PNode:
        """A stats node watching `parent`; its constructor arguments are (interval, watched node)."""
        p = self.pipeline
        stats = PNode(p, "StatsNode", "stats", "stream")
        stats.ctor_args = (interval, parent)
        p.add_source(stats)
        if not parent.children:
            parent.link_child(PNode(p, "NoOpNode", "noop", parent.provides))
        return stats

    def _deadman(self, parent: PNode, args: list[Any]) -> PNode:
        """`node.Deadman`: stats(interval).align() |derivative('emitted').nonNegative().unit(interval)
        |alert() whose crit is `"emitted" <= threshold` (AND the extra lambdas) and whose id and
        message are the [deadman] defaults with the watched node's name and the interval filled in.
        The generated settings come first, so the script's own property calls override them."""
        p = self.pipeline
        threshold, interval = args[0], args[1]
        name = parent.get_name()
        stats = self._stats(parent, interval)
        stats.settings["Align"] = [()]
        deriv = PNode(p, "DerivativeNode", "derivative", stats.provides)
        deriv.ctor_args = ("emitted",)
        deriv.settings["NonNegative"] = [()]
        deriv.settings["Unit"] = [(interval,)]
        stats.link_child(deriv)
        alert = PNode(p, "AlertNode", "alert", deriv.provides)
        crit: ast.Node = ast.Binary(0, LESS_EQUAL, ast.Reference(0, "emitted"),
                                    ast.Number(0, False, float(threshold), 10), False)
        for extra in args[2:]:
            if isinstance(extra, ast.Lambda):
                crit = ast.Binary(0, AND, crit, extra.expression, False)
        alert.settings["Crit"] = [(ast.Lambda(0, crit),)]
        alert.settings["Id"] = [(DEADMAN_ID.replace("NODE_NAME", name, 1),)]
        ns = getattr(interval, "ns", 0)
        alert.settings["Message"] = [(DEADMAN_MESSAGE.replace("INTERVAL", go_duration_string(ns), 1),)]
        deriv.link_child(alert)
        return alert

    def _property_effect(self, obj: PNode | View, m: Any, args: list[Any]) -> Any:
        obj.node.settings.setdefault(m.name, []).append(tuple(args))
        if m.result is None:
            return obj
        rtype = m.result.lstrip("*")
        if rtype == obj.gotype:
            return obj
        return View(obj.node, rtype)

    # -- lambdas and constant expressions ----------------------------------------------------------
    def resolve(self, n: ast.Node) -> ast.Node:
        """`resolveIdents` (without mutating the tree): identifiers become literal nodes."""
        t = type(n)
        if t is ast.Identifier:
            return _literal(n.pos, self.scope.get(n.ident))  # type: ignore[attr-defined]
        if t is ast.Unary:
            return ast.Unary(n.pos, n.op, self.resolve(n.node), n.comment)  # type: ignore[attr-defined]
        if t is ast.Binary:
            b = ast.Binary(n.pos, n.op, self.resolve(n.left), self.resolve(n.right),  # type: ignore[attr-defined]
                           n.multiline, n.comment)  # type: ignore[attr-defined]
            b.parens = n.parens  # type: ignore[attr-defined]
            return b
        if t is ast.Function:
            return ast.Function(n.pos, n.ftype, n.func, [self.resolve(a) for a in n.args],  # type: ignore[attr-defined]
                                n.multiline, n.comment)  # type: ignore[attr-defined]
        return n

    def _binary(self, n: ast.Node) -> Any:
        return const_eval(n)


def _describer_error(obj: Any) -> str:
    if obj is None:
        return "object is invalid <nil> of type <nil>"
    if isinstance(obj, (bool, int, float, str, Dur, list, TimeDimension)) or (
            isinstance(obj, GoValue) and not obj.type_name.startswith("*")):
        return "cannot get properties of non pointer value"
    return f"no method or property on {type_name(obj)}"


def _field_zero(go_type: str) -> Any:
    return {"string": "", "int64": 0, "float64": 0.0, "bool": False, "time.Duration": Dur(0)}.get(go_type)


def _misc_method(obj: PNode | View, m: Any, args: list[Any]) -> Any:
    """Exported helper methods that reflection also offers as chaining methods (`|desc()`...)."""
    node = obj.node
    name = m.name
    if name == "Desc":
        return node.desc
    if name == "Name":
        return node.get_name()
    if name == "SetName":
        node.name = args[0]
        return None
    if name == "IsQuiet":
        return bool(node.settings.get("Quiet"))
    if name == "Children":
        return GoValue("[]pipeline.Node", list(node.children))
    if name == "Parents":
        return GoValue("[]pipeline.Node", list(node.parents))
    if m.result is None:
        return None
    return GoValue(reflect_type(m.result.replace("ID", "pipeline.ID").replace("EdgeType", "pipeline.EdgeType")))


def _literal(pos: int, v: Any) -> ast.Node:
    """`ValueToLiteralNode`."""
    if isinstance(v, bool):
        return ast.Bool(pos, v)
    if isinstance(v, int):
        return ast.Number(pos, True, v, 10)
    if isinstance(v, float):
        return ast.Number(pos, False, v, 0)
    if isinstance(v, Dur):
        return ast.Duration(pos, v.ns, "")
    if isinstance(v, str):
        return ast.String(pos, v, False)
    if isinstance(v, GoRegex):
        return ast.Regex(pos, "", v.pattern or "")
    if isinstance(v, ast.Lambda):
        return ast.Lambda(pos, v.expression)
    if isinstance(v, ast.Star):
        return ast.Star(pos)
    if isinstance(v, list):
        return ast.List(pos, [_literal(pos, x) for x in v])
    raise TickscriptError(f"unsupported literal type {type_name(v)}")


# --------------------------------------------------------------------------------------------------
# Public entry point

def evaluate(prog: ast.Program, kind: str, predefined: dict[str, tuple[str, Any]] | None = None,
             ignore_missing: bool = False) -> tuple[Pipeline, dict[str, tuple[str, Any, str]]]:
    """Build the pipeline for a `stream`/`batch` task; returns it with the declared vars."""
    ev = Evaluator(prog, kind, predefined, ignore_missing)
    try:
        ev.run()
        for node in ev.pipeline.sorted():
            validate_node(node)
    except RecursionError:
        raise TickscriptError("evaluation nested too deeply") from None
    ev.pipeline.declared = ev.default_vars
    return ev.pipeline, ev.default_vars


def lambda_text(v: Any) -> str | None:
    if isinstance(v, ast.Lambda):
        return format_expression(v.expression)
    return None


__all__ = ["Dur", "GoRegex", "PNode", "Pipeline", "RegexError", "TickscriptError", "evaluate", "format_float",
           "lambda_text"]
