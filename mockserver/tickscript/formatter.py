"""Canonical TICKscript text (the real `tick.Format`), as the API returns a task's `script`."""

from __future__ import annotations

from decimal import Decimal

from . import ast
from .durations import format_duration
from .lexer import DOT, TOKEN_NAMES

INDENT = "    "


def format_program(prog: ast.Program) -> str:
    out: list[str] = []
    for i, node in enumerate(prog.nodes):
        if i:
            out.append("\n")
        if isinstance(node, ast.Comment):
            _comment(out, node, "", True)
        else:
            fmt(out, node, "", True)
        out.append("\n")
    return "".join(out)


def format_expression(node: ast.Node | None) -> str:
    """`LambdaNode.ExpressionString`: how a lambda var value is reported."""
    out: list[str] = []
    if node is not None:
        fmt(out, node, "", True)
    return "".join(out)


def _comment(out: list[str], c: ast.Comment, indent: str, on_new_line: bool) -> None:
    if not on_new_line:
        out.append("\n")
    for line in c.lines:
        if line == "\n":
            out.append("\n")
            continue
        out.append(indent)
        out.append("//")
        if line:
            out.append(" ")
            out.append(line)
        out.append("\n")


def format_float(v: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64), plus `.0` when that has no fraction."""
    s = repr(v)
    if "e" in s or "E" in s:
        s = format(Decimal(s), "f")
    if "." not in s:
        s += ".0"
    return s


def _octal(v: int) -> str:
    return "0" + format(v, "o")


def fmt(out: list[str], n: ast.Node, indent: str, on_new_line: bool) -> None:
    t = type(n)
    if t is ast.Chain:
        _chain(out, n, indent, on_new_line)  # type: ignore[arg-type]
        return
    if t is ast.DBRP:
        if n.comment is not None:
            _comment(out, n.comment, indent, on_new_line)
        out.append(indent)
        out.append('dbrp "' + n.db.reference + '"."' + n.rp.reference + '"')  # type: ignore[attr-defined]
        return
    if t is ast.Declaration or t is ast.TypeDeclaration:
        # `var name = value` and a template's `var name type`
        if t is ast.Declaration:
            name, separator, rest = n.left, " = ", n.right  # type: ignore[attr-defined]
        else:
            name, separator, rest = n.node, " ", n.type  # type: ignore[attr-defined]
        if n.comment is not None:
            _comment(out, n.comment, indent, on_new_line)
        out.append("var ")
        fmt(out, name, indent, False)
        out.append(separator)
        fmt(out, rest, indent, False)
        return
    if n.comment is not None:
        _comment(out, n.comment, indent, on_new_line)
        on_new_line = True
    if on_new_line:
        out.append(indent)
    if t is ast.Identifier:
        out.append(n.ident)  # type: ignore[attr-defined]
    elif t is ast.String:
        if n.triple:  # type: ignore[attr-defined]
            out.append("'''" + n.literal + "'''")  # type: ignore[attr-defined]
        else:
            out.append("'" + n.literal.replace("'", "\\'") + "'")  # type: ignore[attr-defined]
    elif t is ast.Function:
        _function(out, n, indent)  # type: ignore[arg-type]
    elif t is ast.Reference:
        out.append('"' + n.reference.replace('"', '\\"') + '"')  # type: ignore[attr-defined]
    elif t is ast.Binary:
        b: ast.Binary = n  # type: ignore[assignment]
        if b.parens:
            out.append("(")
            indent += INDENT
        fmt(out, b.left, indent, False)
        out.append(" ")
        out.append(TOKEN_NAMES[b.op])
        out.append("\n" if b.multiline else " ")
        fmt(out, b.right, indent, b.multiline)
        if b.parens:
            out.append(")")
    elif t is ast.Lambda:
        out.append("lambda: ")
        if n.expression is not None:  # type: ignore[attr-defined]
            fmt(out, n.expression, indent, False)  # type: ignore[attr-defined]
    elif t is ast.Number:
        num: ast.Number = n  # type: ignore[assignment]
        if num.is_int:
            out.append(_octal(num.value) if num.base == 8 else str(num.value))  # type: ignore[arg-type]
        else:
            out.append(format_float(num.value))
    elif t is ast.Duration:
        d: ast.Duration = n  # type: ignore[assignment]
        out.append(d.literal or format_duration(d.ns))
    elif t is ast.Bool:
        out.append("TRUE" if n.value else "FALSE")  # type: ignore[attr-defined]
    elif t is ast.Regex:
        out.append("/" + n.literal + "/")  # type: ignore[attr-defined]
    elif t is ast.Star:
        out.append("*")
    elif t is ast.Unary:
        out.append(TOKEN_NAMES[n.op])  # type: ignore[attr-defined]
        fmt(out, n.node, indent, False)  # type: ignore[attr-defined]
    elif t is ast.List:
        out.append("[")
        for i, item in enumerate(n.nodes):  # type: ignore[attr-defined]
            if i:
                out.append(", ")
            fmt(out, item, indent, on_new_line)
        out.append("]")
    else:  # pragma: no cover - every node kind is handled above
        raise TypeError(f"cannot format {t.__name__}")


def _function(out: list[str], f: ast.Function, indent: str) -> None:
    out.append(f.func)
    out.append("(")
    arg_indent = indent + INDENT
    multi = f.multiline
    for i, arg in enumerate(f.args):
        if i:
            out.append("," if multi else ", ")
        if multi:
            out.append("\n")
        fmt(out, arg, arg_indent, multi)
    if multi and f.args:
        out.append("\n")
        out.append(indent)
    out.append(")")


def _chain(out: list[str], c: ast.Chain, indent: str, on_new_line: bool) -> None:
    links: list[ast.Chain] = []
    node: ast.Node = c
    while isinstance(node, ast.Chain):
        links.append(node)
        node = node.left
    fmt(out, node, indent, on_new_line)
    pipe_indent = indent + INDENT
    dot_indent = pipe_indent + INDENT
    for link in reversed(links):
        out.append("\n")
        ind = dot_indent if link.op == DOT else pipe_indent
        if link.comment is not None:
            _comment(out, link.comment, ind, True)
        out.append(ind)
        out.append(TOKEN_NAMES[link.op])
        fmt(out, link.right, ind, False)
