"""Parser: syntax trees and errors of the real parser's unit tests (tick/ast/parser_test.go).

`data/parser_cases.json` holds, for each script of `TestParseStatements`, the tree the real test
expects, written out generically: node type, position as [byte offset, line, char], and every field
(zero values included). Our tree is converted to the same form and compared whole, so node kinds,
positions, operators, comments, multi-line and parenthesis flags must all agree.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from mockserver.tickscript import TickscriptError, ast, lexer, parse
from mockserver.tickscript.parser import parse_lambda

CASES = json.loads((pathlib.Path(__file__).parent / "data" / "parser_cases.json").read_text("utf-8"))

_OPS = {lexer.AND: "TokenAnd", lexer.OR: "TokenOr", lexer.AT: "TokenAt", lexer.DIV: "TokenDiv",
        lexer.DOT: "TokenDot", lexer.GREATER: "TokenGreater", lexer.LESS: "TokenLess", lexer.MINUS: "TokenMinus",
        lexer.MULT: "TokenMult", lexer.NOT: "TokenNot", lexer.PIPE: "TokenPipe", lexer.PLUS: "TokenPlus",
        lexer.EQUAL: "TokenEqual", lexer.NOT_EQUAL: "TokenNotEqual", lexer.GREATER_EQUAL: "TokenGreaterEqual",
        lexer.LESS_EQUAL: "TokenLessEqual", lexer.MOD: "TokenMod", lexer.REGEX_EQUAL: "TokenRegexEqual",
        lexer.REGEX_NOT_EQUAL: "TokenRegexNotEqual"}
_FUNC_TYPES = {ast.GLOBAL_FUNC: "GlobalFunc", ast.CHAIN_FUNC: "ChainFunc", ast.PROPERTY_FUNC: "PropertyFunc",
               ast.DYNAMIC_FUNC: "DynamicFunc"}


def tree(n: Any, prog: ast.Program) -> Any:
    """Our node in the generic form of the fixture."""
    if n is None:
        return None
    if isinstance(n, list):
        return [tree(x, prog) for x in n]
    text = prog.text
    pos = len(text[:n.pos].encode("utf-8"))
    line, char = prog.line_char(n.pos)
    c = tree(n.comment, prog) if isinstance(n, ast.Node) else None
    t = type(n)
    if t is ast.Program:
        return {"type": "ProgramNode", "position": [0, 1, 1], "Nodes": tree(n.nodes, prog)}
    out: dict[str, Any] = {"position": [pos, line, char]}
    if t is ast.Comment:
        out.update(type="CommentNode", Comments=n.lines)
    elif t is ast.DBRP:
        out.update(type="DBRPNode", Comment=c, DB=tree(n.db, prog), RP=tree(n.rp, prog))
    elif t is ast.Declaration:
        out.update(type="DeclarationNode", Left=tree(n.left, prog), Right=tree(n.right, prog), Comment=c)
    elif t is ast.TypeDeclaration:
        out.update(type="TypeDeclarationNode", Node=tree(n.node, prog), Type=tree(n.type, prog), Comment=c)
    elif t is ast.Chain:
        out.update(type="ChainNode", Left=tree(n.left, prog), Right=tree(n.right, prog), Operator=_OPS[n.op],
                   Comment=c)
    elif t is ast.Identifier:
        out.update(type="IdentifierNode", Ident=n.ident, Comment=c)
    elif t is ast.Reference:
        out.update(type="ReferenceNode", Reference=n.reference, Comment=c)
    elif t is ast.String:
        out.update(type="StringNode", Literal=n.literal, TripleQuotes=n.triple, Comment=c)
    elif t is ast.List:
        out.update(type="ListNode", Nodes=tree(n.nodes, prog), Comment=c)
    elif t is ast.Regex:
        out.update(type="RegexNode", Regex=n.pattern, Literal=n.literal, Comment=c)
    elif t is ast.Star:
        out.update(type="StarNode", Comment=c)
    elif t is ast.Function:
        out.update(type="FunctionNode", Type=_FUNC_TYPES[n.ftype], Func=n.func, Args=tree(n.args, prog), Comment=c,
                   MultiLine=n.multiline)
    elif t is ast.Lambda:
        out.update(type="LambdaNode", Expression=tree(n.expression, prog), Comment=c)
    elif t is ast.Number:
        out.update(type="NumberNode", IsInt=n.is_int, IsFloat=not n.is_int, Int64=n.value if n.is_int else 0,
                   Float64=0.0 if n.is_int else n.value, Base=n.base, Comment=c)
    elif t is ast.Duration:
        out.update(type="DurationNode", Dur=n.ns, Literal=n.literal, Comment=c)
    elif t is ast.Bool:
        out.update(type="BoolNode", Bool=n.value, Comment=c)
    elif t is ast.Unary:
        out.update(type="UnaryNode", Node=tree(n.node, prog), Operator=_OPS[n.op], Comment=c)
    elif t is ast.Binary:
        out.update(type="BinaryNode", Left=tree(n.left, prog), Right=tree(n.right, prog), Operator=_OPS[n.op],
                   Comment=c, Parens=n.parens, MultiLine=n.multiline)
    else:  # pragma: no cover
        raise AssertionError(t)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["script"][:30] for c in CASES])
def test_real_parser_trees(case: dict) -> None:
    prog = parse(case["script"])
    assert tree(prog, prog) == case["tree"]


@pytest.mark.parametrize(("script", "error"), [
    # TestParseErrors
    ("a\n\n\nvar b = ",
     'parser: unexpected EOF line 4 char 9 in "var b = ". expected: "number","string","duration","identifier",'
     '"TRUE","FALSE","==","(","-","!"'),
    ("a\n\n\nvar b = stream.window()var period)\n\nvar x = 1",
     'parser: unexpected ) line 4 char 34 in "var period)". expected: "identifier"'),
    ("a\n\n\nvar b = stream.window(\nb.period(10s)",
     'parser: unexpected EOF line 5 char 14 in "eriod(10s)". expected: ")"'),
])
def test_real_parse_errors(script: str, error: str) -> None:
    with pytest.raises(TickscriptError) as exc:
        parse(script)
    assert str(exc.value) == error


@pytest.mark.parametrize(("script", "literal"), [
    # TestParseStrings
    ("f('asdf')", "asdf"),
    ("f('''asdf''')", "asdf"),
    ("f('a\\'sdf')", "a'sdf"),
    ("f('''\\'asdf''')", "\\'asdf"),
])
def test_real_string_literals(script: str, literal: str) -> None:
    prog = parse(script)
    (stmt,) = prog.nodes
    assert isinstance(stmt, ast.Function)
    (arg,) = stmt.args
    assert isinstance(arg, ast.String)
    assert arg.literal == literal


def test_error_positions_count_bytes_like_go() -> None:
    # 'é' is two bytes: the real parser reports byte columns (and byte-sliced context). The expected
    # text is what the real parser answered for this script.
    with pytest.raises(TickscriptError) as exc:
        parse("var é = @")
    assert str(exc.value) == (
        'parser: unexpected @ line 1 char 10 in "var é = @". expected: "number","string","duration",'
        '"identifier","TRUE","FALSE","==","(","-","!"')


def test_lambda_var_values_parse_as_bare_expressions() -> None:
    lam = parse_lambda('"value" > 5 AND "host" =~ /^a/')
    assert isinstance(lam.expression, ast.Binary)
    with pytest.raises(Exception, match=r"^parser: unexpected EOF"):
        parse_lambda('"value" >')


def test_deep_nesting_is_a_clean_error_or_a_tree() -> None:
    text = "var x = " + "(" * 3000 + "1" + ")" * 3000
    try:
        parse(text)
    except TickscriptError as e:
        assert str(e).startswith("parser: ")
