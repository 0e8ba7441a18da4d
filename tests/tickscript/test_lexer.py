"""Lexer token streams: the cases of the real lexer's unit tests (tick/ast/lex_test.go)."""

from __future__ import annotations

import pytest

from mockserver.tickscript import lexer

# (input, [(token type name without the `Token` prefix, byte position, value), ...])
CASES = [
    ('!', [('Not', 0, '!'), ('EOF', 1, '')]),
    ('a + b', [('Ident', 0, 'a'), ('Plus', 2, '+'), ('Ident', 4, 'b'), ('EOF', 5, '')]),
    ('a - b', [('Ident', 0, 'a'), ('Minus', 2, '-'), ('Ident', 4, 'b'), ('EOF', 5, '')]),
    ('a * b', [('Ident', 0, 'a'), ('Mult', 2, '*'), ('Ident', 4, 'b'), ('EOF', 5, '')]),
    ('a / b', [('Ident', 0, 'a'), ('Div', 2, '/'), ('Ident', 4, 'b'), ('EOF', 5, '')]),
    ('a = b', [('Ident', 0, 'a'), ('Asgn', 2, '='), ('Ident', 4, 'b'), ('EOF', 5, '')]),
    ('a == b', [('Ident', 0, 'a'), ('Equal', 2, '=='), ('Ident', 5, 'b'), ('EOF', 6, '')]),
    ('a != b', [('Ident', 0, 'a'), ('NotEqual', 2, '!='), ('Ident', 5, 'b'), ('EOF', 6, '')]),
    ('a > b', [('Ident', 0, 'a'), ('Greater', 2, '>'), ('Ident', 4, 'b'), ('EOF', 5, '')]),
    ('a >= b', [('Ident', 0, 'a'), ('GreaterEqual', 2, '>='), ('Ident', 5, 'b'), ('EOF', 6, '')]),
    ('a < b', [('Ident', 0, 'a'), ('Less', 2, '<'), ('Ident', 4, 'b'), ('EOF', 5, '')]),
    ('a <= b', [('Ident', 0, 'a'), ('LessEqual', 2, '<='), ('Ident', 5, 'b'), ('EOF', 6, '')]),
    ('a =~ b', [('Ident', 0, 'a'), ('RegexEqual', 2, '=~'), ('Ident', 5, 'b'), ('EOF', 6, '')]),
    ('a !~ b', [('Ident', 0, 'a'), ('RegexNotEqual', 2, '!~'), ('Ident', 5, 'b'), ('EOF', 6, '')]),
    ('(', [('LParen', 0, '('), ('EOF', 1, '')]),
    (')', [('RParen', 0, ')'), ('EOF', 1, '')]),
    ('[', [('LSBracket', 0, '['), ('EOF', 1, '')]),
    (']', [('RSBracket', 0, ']'), ('EOF', 1, '')]),
    ('.', [('Dot', 0, '.'), ('EOF', 1, '')]),
    ('|', [('Pipe', 0, '|'), ('EOF', 1, '')]),
    ('@', [('At', 0, '@'), ('EOF', 1, '')]),
    ('AND', [('And', 0, 'AND'), ('EOF', 3, '')]),
    ('OR', [('Or', 0, 'OR'), ('EOF', 2, '')]),
    ('TRUE', [('True', 0, 'TRUE'), ('EOF', 4, '')]),
    ('FALSE', [('False', 0, 'FALSE'), ('EOF', 5, '')]),
    ('var', [('Var', 0, 'var'), ('EOF', 3, '')]),
    ('lambda:', [('Lambda', 0, 'lambda:'), ('EOF', 7, '')]),
    ('lambda ', [('Ident', 0, 'lambda'), ('EOF', 7, '')]),
    ('42', [('Number', 0, '42'), ('EOF', 2, '')]),
    ('42.21', [('Number', 0, '42.21'), ('EOF', 5, '')]),
    ('.421', [('Number', 0, '.421'), ('EOF', 4, '')]),
    ('0.421', [('Number', 0, '0.421'), ('EOF', 5, '')]),
    ('42s', [('Duration', 0, '42s'), ('EOF', 3, '')]),
    ('1u', [('Duration', 0, '1u'), ('EOF', 2, '')]),
    ('1µ', [('Duration', 0, '1µ'), ('EOF', 3, '')]),
    ('1ms', [('Duration', 0, '1ms'), ('EOF', 3, '')]),
    ('1h', [('Duration', 0, '1h'), ('EOF', 2, '')]),
    ('1d', [('Duration', 0, '1d'), ('EOF', 2, '')]),
    ('1w', [('Duration', 0, '1w'), ('EOF', 2, '')]),
    ('variable', [('Ident', 0, 'variable'), ('EOF', 8, '')]),
    ('myVar01', [('Ident', 0, 'myVar01'), ('EOF', 7, '')]),
    ('""', [('Reference', 0, '""'), ('EOF', 2, '')]),
    ('"ref with spaces"', [('Reference', 0, '"ref with spaces"'), ('EOF', 17, '')]),
    ('"ref\\""', [('Reference', 0, '"ref\\""'), ('EOF', 7, '')]),
    ("''", [('String', 0, "''"), ('EOF', 2, '')]),
    ("''''''", [('String', 0, "''''''"), ('EOF', 6, '')]),
    ("'str'", [('String', 0, "'str'"), ('EOF', 5, '')]),
    ("'str\\''", [('String', 0, "'str\\''"), ('EOF', 7, '')]),
    ("'''s'tr'''", [('String', 0, "'''s'tr'''"), ('EOF', 10, '')]),
    ("'''s\\'tr'''", [('String', 0, "'''s\\'tr'''"), ('EOF', 11, '')]),
    ("'''str'''", [('String', 0, "'''str'''"), ('EOF', 9, '')]),
    ('/.*/', [('Regex', 0, '/.*/'), ('EOF', 4, '')]),
    ('/^abc$/', [('Regex', 0, '/^abc$/'), ('EOF', 7, '')]),
    ('/^((.*)[a-z]+\\S{0,2})|cat\\/\\/$/', [('Regex', 0, '/^((.*)[a-z]+\\S{0,2})|cat\\/\\/$/'), ('EOF', 31, '')]),
    (' ', [('EOF', 1, '')]),
    (' \t\n', [('EOF', 3, '')]),
    ('var x = avg()', [('Var', 0, 'var'), ('Ident', 4, 'x'), ('Asgn', 6, '='), ('Ident', 8, 'avg'), ('LParen', 11, '('), ('RParen', 12, ')'), ('EOF', 13, '')]),
    ("var x = avg()|parallel(4)x.groupby('cpu')|window().period(10s)", [('Var', 0, 'var'), ('Ident', 4, 'x'), ('Asgn', 6, '='), ('Ident', 8, 'avg'), ('LParen', 11, '('), ('RParen', 12, ')'), ('Pipe', 13, '|'), ('Ident', 14, 'parallel'), ('LParen', 22, '('), ('Number', 23, '4'), ('RParen', 24, ')'), ('Ident', 25, 'x'), ('Dot', 26, '.'), ('Ident', 27, 'groupby'), ('LParen', 34, '('), ('String', 35, "'cpu'"), ('RParen', 40, ')'), ('Pipe', 41, '|'), ('Ident', 42, 'window'), ('LParen', 48, '('), ('RParen', 49, ')'), ('Dot', 50, '.'), ('Ident', 51, 'period'), ('LParen', 57, '('), ('Duration', 58, '10s'), ('RParen', 61, ')'), ('EOF', 62, '')]),
    ("var x = avg()\n// Comment all of this is ignored\nx.groupby('cpu')", [('Var', 0, 'var'), ('Ident', 4, 'x'), ('Asgn', 6, '='), ('Ident', 8, 'avg'), ('LParen', 11, '('), ('RParen', 12, ')'), ('Comment', 14, '// Comment all of this is ignored\n'), ('Ident', 48, 'x'), ('Dot', 49, '.'), ('Ident', 50, 'groupby'), ('LParen', 57, '('), ('String', 58, "'cpu'"), ('RParen', 63, ')'), ('EOF', 64, '')]),
    ('var x = avg()\n// Comment all of this is ignored', [('Var', 0, 'var'), ('Ident', 4, 'x'), ('Asgn', 6, '='), ('Ident', 8, 'avg'), ('LParen', 11, '('), ('RParen', 12, ')'), ('Comment', 14, '// Comment all of this is ignored'), ('EOF', 47, '')]),
]

_TYPES = {
    "And": lexer.AND, "Asgn": lexer.ASGN, "At": lexer.AT, "Comment": lexer.COMMENT, "Div": lexer.DIV,
    "Dot": lexer.DOT, "Duration": lexer.DURATION, "EOF": lexer.EOF, "Equal": lexer.EQUAL, "False": lexer.FALSE,
    "Greater": lexer.GREATER, "GreaterEqual": lexer.GREATER_EQUAL, "Ident": lexer.IDENT,
    "LParen": lexer.LPAREN, "LSBracket": lexer.LSBRACKET, "Lambda": lexer.LAMBDA, "Less": lexer.LESS,
    "LessEqual": lexer.LESS_EQUAL, "Minus": lexer.MINUS, "Mult": lexer.MULT, "Not": lexer.NOT,
    "NotEqual": lexer.NOT_EQUAL, "Number": lexer.NUMBER, "Or": lexer.OR, "Pipe": lexer.PIPE,
    "Plus": lexer.PLUS, "RParen": lexer.RPAREN, "RSBracket": lexer.RSBRACKET, "Reference": lexer.REFERENCE,
    "Regex": lexer.REGEX, "RegexEqual": lexer.REGEX_EQUAL, "RegexNotEqual": lexer.REGEX_NOT_EQUAL,
    "String": lexer.STRING, "True": lexer.TRUE, "Var": lexer.VAR, "Star": lexer.STAR, "Error": lexer.ERROR,
}


def stream(text: str) -> list[tuple[int, int, str]]:
    """All tokens in order, comment tokens included (the lexer keeps them beside the stream)."""
    toks = lexer.lex(text)
    out: list[tuple[int, int, str]] = []
    for i, (t, p, v) in enumerate(zip(toks.types, toks.pos, toks.vals, strict=True)):
        for cp, cv in toks.comments.get(i, ()):
            out.append((lexer.COMMENT, cp, cv))
        out.append((t, p, v))
    return out


def _bytes_pos(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_real_lexer_cases(text: str, expected: list[tuple[str, int, str]]) -> None:
    got = [(t, _bytes_pos(text, p), v) for t, p, v in stream(text)]
    assert got == [(_TYPES[name], pos, val) for name, pos, val in expected]
