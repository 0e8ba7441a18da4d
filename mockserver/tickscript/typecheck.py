"""Task start-up: compiling every lambda of a built pipeline as Kapacitor's `tick/stateful` does.

A task that parses and builds can still fail to *start*: when it is enabled the server creates
every node (`ExecutingTask.createNode`, in `Pipeline.Walk` order) and each node compiles its
lambdas into stateful expressions (`stateful.NewExpression`). That compilation type-checks every
binary operator whose two operands have a type known without data: literals, vars (already
replaced by literals when the script was evaluated), `!x` (boolean), `-x` (the type of x), and
comparisons and logical operators (always boolean). Field and tag references and function calls
are dynamic: their type exists only per point, so an operator with a dynamic operand — and any
math operator over one — is checked at run time, never at start. The operator table and the error
texts are those of `tick/stateful/evaluation_funcs.go` and `eval_binary_node.go` (identical in 1.5
and 1.8); `consteval` evaluates constant expressions with the same engine, so it uses them too.

API for the engine: `check_pipeline(pipeline)` raises `StartupError(text)` with the text the
server answers (500) when the task is enabled; `compile_expression(node)` checks one expression.
A pipeline that passes is well typed wherever types are static.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockserver.errors import MockError

from . import ast
from .lexer import (
    AND,
    COMPARISON_OPERATORS,
    DIV,
    EQUAL,
    GREATER,
    GREATER_EQUAL,
    LESS,
    LESS_EQUAL,
    LOGICAL_OPERATORS,
    MATH_OPERATORS,
    MINUS,
    MOD,
    MULT,
    NOT,
    NOT_EQUAL,
    OPERATORS,
    OR,
    PLUS,
    REGEX_EQUAL,
    REGEX_NOT_EQUAL,
    TOKEN_NAMES,
)
from .values import T_BOOL, T_DURATION, T_FLOAT, T_INT, T_INVALID, T_REGEX, T_STRING


class StartupError(MockError):
    """The task cannot start; `str()` is the server's error text."""


def _table() -> dict[tuple[int, str, str], str]:
    """evaluationFuncs: (operator, left type, right type) -> result type; nothing else compiles."""
    t: dict[tuple[int, str, str], str] = {}
    numeric = ((T_FLOAT, T_FLOAT), (T_FLOAT, T_INT), (T_INT, T_FLOAT), (T_INT, T_INT))
    for op in (EQUAL, NOT_EQUAL, LESS, GREATER, LESS_EQUAL, GREATER_EQUAL):
        for pair in (*numeric, (T_DURATION, T_DURATION), (T_STRING, T_STRING)):
            t[(op, *pair)] = T_BOOL
    for op in (AND, OR, EQUAL, NOT_EQUAL):
        t[(op, T_BOOL, T_BOOL)] = T_BOOL
    for op in (REGEX_EQUAL, REGEX_NOT_EQUAL):
        t[(op, T_STRING, T_REGEX)] = T_BOOL
    for op in (PLUS, MINUS, MULT, DIV):
        t[(op, T_FLOAT, T_FLOAT)] = T_FLOAT
        t[(op, T_INT, T_INT)] = T_INT
    t[(MOD, T_INT, T_INT)] = T_INT
    for op in (PLUS, MINUS):
        t[(op, T_DURATION, T_DURATION)] = T_DURATION
    t[(PLUS, T_STRING, T_STRING)] = T_STRING
    t[(DIV, T_DURATION, T_DURATION)] = T_INT
    for other in (T_FLOAT, T_INT):
        t[(DIV, T_DURATION, other)] = T_DURATION
        t[(MULT, T_DURATION, other)] = T_DURATION
        t[(MULT, other, T_DURATION)] = T_DURATION
    return t


#: The 61 compiled operations of evaluation_funcs.go (no int/float mixing in math, no `%` on floats).
OPERATIONS = _table()


def _operators_by_type() -> dict[str, frozenset[int]]:
    """typeToBinaryOperators: every operator a type takes part in, on either side."""
    found: dict[str, set[int]] = {}
    for op, left, right in OPERATIONS:
        found.setdefault(left, set()).add(op)
        found.setdefault(right, set()).add(op)
    return {k: frozenset(v) for k, v in found.items()}


OPERATORS_BY_TYPE = _operators_by_type()

_GO_NODE_TYPES = {
    ast.List: "*ast.ListNode", ast.Star: "*ast.StarNode", ast.Identifier: "*ast.IdentifierNode",
    ast.Chain: "*ast.ChainNode", ast.Declaration: "*ast.DeclarationNode", ast.DBRP: "*ast.DBRPNode",
}


def literal_type(n: Any) -> str | None:
    """The type of a literal node (number, duration, string, boolean, regex), else None."""
    t = type(n)
    if t is ast.Number:
        return T_INT if n.is_int else T_FLOAT
    if t is ast.Duration:
        return T_DURATION
    if t is ast.String:
        return T_STRING
    if t is ast.Bool:
        return T_BOOL
    if t is ast.Regex:
        return T_REGEX
    return None


def constant_type(n: Any) -> str | None:
    """getConstantNodeType: the type of `n` if it is known without data, else None (dynamic)."""
    literal = literal_type(n)
    if literal is not None:
        return literal
    t = type(n)
    if t is ast.Unary:
        if n.op == NOT:
            return T_BOOL
        if n.op == MINUS:
            return constant_type(n.node)
        return None
    if t is ast.Binary:
        if n.op in COMPARISON_OPERATORS or n.op in LOGICAL_OPERATORS:
            return T_BOOL
        left, right = constant_type(n.left), constant_type(n.right)
        if left is None or right is None:
            return None
        return OPERATIONS.get((n.op, left, right))
    if t is ast.Lambda:
        return constant_type(n.expression)
    return None


def _kind(op: int) -> str:
    if op in MATH_OPERATORS:
        return "math"
    if op in COMPARISON_OPERATORS:
        return "comparison"
    if op in LOGICAL_OPERATORS:
        return "logical"
    return "INVALID"


def binary_error(left: str | None, op: int, right: str | None) -> str:
    """determineError without a scope (compile time), including its quirk: the second test looks
    at the left type's operators again, so it can only fire when the left type is unknown."""
    name = TOKEN_NAMES[op]
    if left is not None and op not in OPERATORS_BY_TYPE.get(left, ()):
        return f"invalid {_kind(op)} operator {name} for type {left}"
    if right is not None and op not in OPERATORS_BY_TYPE.get(left or "", ()):
        return f"invalid {_kind(op)} operator {name} for type {right}"
    return (f"mismatched type to binary operator. got {left or T_INVALID} {name} {right or T_INVALID}. "
            "see bool(), int(), float(), string(), duration()")


def compile_expression(n: Any) -> bool:
    """createNodeEvaluator: raises StartupError(text) as NewExpression fails; returns IsDynamic()."""
    t = type(n)
    if t in (ast.Bool, ast.Number, ast.Duration, ast.String, ast.Regex):
        return False
    if t in (ast.Reference, ast.Function):
        if t is ast.Function:
            for i, arg in enumerate(n.args):
                try:
                    compile_expression(arg)
                except StartupError as exc:
                    raise StartupError(f"Failed to handle {i + 1} argument: {exc}") from None
        return True
    if t is ast.Binary:
        return _compile_binary(n)
    if t is ast.Unary:
        if n.op not in (NOT, MINUS):
            raise StartupError(f'Invalid unary operator: "{TOKEN_NAMES.get(n.op, "")}"')
        try:
            dynamic = compile_expression(n.node)
        except StartupError as exc:
            raise StartupError(f"Failed to handle node: {exc}") from None
        return constant_type(n) is None and dynamic
    if t is ast.Lambda:
        try:
            return compile_expression(n.expression)
        except StartupError as exc:
            raise StartupError(f"Failed to handle node: {exc}") from None
    raise StartupError(f"Given node type is not valid evaluation node: {_GO_NODE_TYPES.get(t, '<nil>')}")


def _compile_binary(n: Any) -> bool:
    if n.op not in OPERATORS:
        raise StartupError(f"unknown binary operator {TOKEN_NAMES.get(n.op, n.op)}")
    const = constant_type(n)
    try:
        left_dynamic = compile_expression(n.left)
    except StartupError as exc:
        raise StartupError(f"Failed to handle left node: {exc}") from None
    try:
        right_dynamic = compile_expression(n.right)
    except StartupError as exc:
        raise StartupError(f"Failed to handle right node: {exc}") from None
    if left_dynamic or right_dynamic:
        return const is None
    left, right = constant_type(n.left), constant_type(n.right)
    if left is None or right is None or (n.op, left, right) not in OPERATIONS:
        raise StartupError(binary_error(left, n.op, right))
    return False


_ALERT_LEVELS = ("Info", "InfoReset", "Warn", "WarnReset", "Crit", "CritReset")  # alert.go order


def node_expressions(node: Any) -> Iterator[tuple[str, Any]]:
    """The (error prefix, expression) pairs a node compiles when it is created, in its order."""
    kind = node.gotype
    if kind == "AlertNode":
        for level in _ALERT_LEVELS:
            lam = node.fields.get(level)
            # A reset expression is compiled only together with its level's (alert.go).
            if isinstance(lam, ast.Lambda) and isinstance(node.fields.get(level.removesuffix("Reset")), ast.Lambda):
                name = level[0].lower() + level[1:]
                yield f"Failed to compile stateful expression for {name}: ", lam.expression
    elif kind in ("EvalNode", "CombineNode"):
        for i, lam in enumerate(a for a in node.ctor_args if isinstance(a, ast.Lambda)):
            yield f"Failed to compile {i} expression: ", lam.expression
    elif kind == "FromNode":
        where = _from_where(node)
        if where is not None:
            yield "Failed to compile from expression: ", where
    elif kind == "WhereNode":
        for lam in node.ctor_args[:1]:
            if isinstance(lam, ast.Lambda):
                yield "Failed to compile expression in where clause: ", lam.expression
    elif kind in ("StateCountNode", "StateDurationNode"):
        for lam in node.ctor_args[:1]:
            if isinstance(lam, ast.Lambda):
                yield "", lam.expression


def _from_where(node: Any) -> Any:
    """Several `.where()` calls on a FromNode AND their expressions together (pipeline/stream.go)."""
    expression = None
    for args in node.settings.get("Where", ()):
        lam = args[0] if args else None
        if not isinstance(lam, ast.Lambda):
            continue
        expression = lam.expression if expression is None else ast.Binary(
            lam.pos, AND, expression, lam.expression, False)
    return expression


def check_pipeline(pipeline: Any) -> None:
    """Create every node in walk order; the first compile failure is the task's start error."""
    for node in pipeline.sorted():
        for prefix, expression in node_expressions(node):
            try:
                compile_expression(expression)
            except StartupError as exc:
                raise StartupError(prefix + str(exc)) from None
            except RecursionError:
                raise StartupError(prefix + "expression nested too deeply") from None
