"""TICKscript parser: a port of the real recursive-descent parser.

The structure follows the real one closely because its quirks are observable: which token a comment
attaches to, which node gets it, the "expected" lists in error messages, and the `multiline` flags
the formatter relies on. Errors are `ParseError` with the real wording (`parser: ...`).
"""

from __future__ import annotations

import math
import re
import sys

from mockserver.errors import MockError
from mockserver.gotext import go_bytes, go_quote

from . import ast
from .durations import DurationError, parse_duration
from .lexer import (
    AND,
    AT,
    COMMA,
    DBRP,
    DIV,
    DOT,
    DURATION,
    EOF,
    EQUAL,
    ERROR,
    FALSE,
    GREATER,
    GREATER_EQUAL,
    IDENT,
    LAMBDA,
    LESS,
    LESS_EQUAL,
    LPAREN,
    LSBRACKET,
    MINUS,
    MOD,
    MULT,
    NOT,
    NOT_EQUAL,
    NUMBER,
    OPERATORS,
    OR,
    PIPE,
    PLUS,
    REFERENCE,
    REGEX,
    REGEX_EQUAL,
    REGEX_NOT_EQUAL,
    RPAREN,
    RSBRACKET,
    STAR,
    STRING,
    TOKEN_NAMES,
    TRUE,
    VAR,
    Tokens,
    lex,
)
from .lexer import ASGN as ASGN_TOK
from .regexes import RegexError, compile_go_regex


class ParseError(MockError):
    """A syntax error; `str()` is the real parser's message (starting with `parser: `)."""


PRECEDENCE = {
    OR: 0, AND: 1,
    EQUAL: 2, NOT_EQUAL: 2, REGEX_EQUAL: 2, REGEX_NOT_EQUAL: 2,
    GREATER: 3, GREATER_EQUAL: 3, LESS: 3, LESS_EQUAL: 3,
    PLUS: 4, MINUS: 4,
    MULT: 5, DIV: 5, MOD: 5,
}

_PRIMARY_EXPECTED = (NUMBER, STRING, DURATION, IDENT, TRUE, FALSE, EQUAL, LPAREN, MINUS, NOT)
_CHAIN_OPS = {DOT: ast.PROPERTY_FUNC, PIPE: ast.CHAIN_FUNC, AT: ast.DYNAMIC_FUNC}
_GO_TRIM = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000"
_ASCII_DIGITS = re.compile(r"[0-9]+\Z")


_go_quote = go_quote  # `%q` of the token names and number literals in parser errors


def make_comment(text: str, items: list[tuple[int, str]]) -> ast.Comment:
    """Comment lines as the real parser keeps them: `//` and one space stripped, blocks separated."""
    lines: list[str] = []
    for i, (_, raw) in enumerate(items):
        if i:
            lines.append("\n")
        for line in raw.split("\n"):
            line = line.strip(_GO_TRIM)
            if not line:
                continue
            if line.startswith("//"):
                line = line[2:]
            if line.startswith(" "):
                line = line[1:]
            lines.append(line)
    return ast.Comment(items[0][0], lines)


class Parser:
    __slots__ = ("comments", "consumed", "i", "pos", "text", "types", "vals")

    def __init__(self, text: str, toks: Tokens) -> None:
        self.text = text
        self.types = toks.types
        self.pos = toks.pos
        self.vals = toks.vals
        self.comments = toks.comments
        self.consumed: set[int] = set()
        self.i = 0

    # ---- token helpers -------------------------------------------------------------------------
    def _type(self, idx: int) -> int:
        # Past the end of a stream that stopped at an error the real parser reads zero tokens
        # (ERROR with an empty value at position 0).
        types = self.types
        return types[idx] if idx < len(types) else ERROR

    def comment_of(self, idx: int) -> ast.Comment | None:
        items = self.comments.get(idx)
        if items is None or idx in self.consumed:
            return None
        return make_comment(self.text, items)

    def consume_comment(self) -> ast.Comment | None:
        idx = self.i - 1
        if idx not in self.comments or idx in self.consumed:
            return None
        self.consumed.add(idx)
        return make_comment(self.text, self.comments[idx])

    def expect(self, typ: int) -> int:
        idx = self.i
        self.i += 1
        if self._type(idx) != typ:
            self.unexpected(idx, (typ,))
        return idx

    def unexpected(self, idx: int, expected: tuple[int, ...]) -> None:
        text = self.text
        if idx < len(self.types):
            tpos = self.pos[idx]
            typ = self.types[idx]
            tok_str = self.vals[idx] if typ == ERROR else TOKEN_NAMES[typ]
        else:
            tpos, tok_str = 0, ""
        data = go_bytes(text)
        bpos = len(go_bytes(text[:tpos]))
        start = max(bpos - 10, 0)
        nl = data.rfind(b"\n", start, bpos)
        if nl != -1:
            start = nl + 1
        stop = min(bpos + 10, len(data))
        nl = data.find(b"\n", bpos, stop)
        if nl != -1:
            stop = nl
        # The cut is at byte offsets and may split a rune: its bytes stay invalid bytes (surrogate
        # escapes), which Go's JSON encoder writes as one `\ufffd` escape each.
        snippet = data[start:stop].decode("utf-8", "surrogateescape")
        line, char = ast.line_char(text, tpos)
        exp = ",".join(_go_quote(TOKEN_NAMES[t]) for t in expected)
        raise ParseError(f'parser: unexpected {tok_str} line {line} char {char} in "{snippet}". expected: {exp}')

    def has_newline(self, start: int, end: int) -> bool:
        return self.text.find("\n", start, end) != -1

    # ---- grammar ---------------------------------------------------------------------------------
    def program(self) -> ast.Program:
        nodes: list[ast.Node | ast.Comment] = []
        while True:
            if self._type(self.i) == EOF:
                last = self.i - 1
                if last >= 0:
                    c = self.comment_of(last)
                    if c is not None:
                        nodes.append(c)
                c = self.comment_of(self.i)
                if c is not None:
                    nodes.append(c)
                self.i += 1
                return ast.Program(self.text, nodes)
            nodes.append(self.statement())

    def statement(self) -> ast.Node:
        t = self._type(self.i)
        if t == VAR:
            return self.declaration()
        if t == DBRP:
            return self.dbrp()
        return self.expression()

    def dbrp(self) -> ast.Node:
        tok = self.expect(DBRP)
        c = self.consume_comment()
        db = self.reference()
        self.expect(DOT)
        rp = self.reference()
        return ast.DBRP(self.pos[tok], db, rp, c)

    def declaration(self) -> ast.Node:
        tok = self.expect(VAR)
        c = self.consume_comment()
        ident = self.identifier()
        if self._type(self.i) == ASGN_TOK:
            self.i += 1
            right = self.expression()
            return ast.Declaration(self.pos[tok], ident, right, c)
        typ = self.identifier()
        return ast.TypeDeclaration(self.pos[tok], ident, typ, c)

    def expression(self) -> ast.Node:
        t = self._type(self.i)
        if t == IDENT:
            nt = self._type(self.i + 1)
            if nt == LPAREN:
                term = self.function(ast.GLOBAL_FUNC)
                if self._type(self.i) in (DOT, PIPE, AT, VAR, IDENT):
                    return self.chain(term)
                return self.precedence(term, 0)
            if nt in (DOT, AT, PIPE, VAR, IDENT):
                return self.chain(self.identifier())
            return self.primary_expr()
        if t == LAMBDA:
            return self.lambda_()
        if t == LSBRACKET:
            return self.string_list()
        return self.primary_expr()

    def chain(self, lhs: ast.Node) -> ast.Node:
        types = self.types
        while True:
            t = self._type(self.i)
            ft = _CHAIN_OPS.get(t)
            if ft is None:
                return lhs
            op = self.i
            self.i += 1
            c = self.consume_comment()
            is_call = ft == ast.CHAIN_FUNC or self._type(self.i + 1) == LPAREN
            rhs = self.function(ft) if is_call else self.identifier()
            lhs = ast.Chain(self.pos[op], types[op], lhs, rhs, c)

    def identifier(self) -> ast.Identifier:
        idx = self.expect(IDENT)
        return ast.Identifier(self.pos[idx], self.vals[idx], self.consume_comment())

    def function(self, ft: int) -> ast.Node:
        idx = self.expect(IDENT)
        c = self.consume_comment()
        self.expect(LPAREN)
        args = self.parameters()
        self.expect(RPAREN)
        start = self.pos[idx]
        multi = bool(args) and self.has_newline(start, args[-1].pos)
        return ast.Function(start, ft, self.vals[idx], args, multi, c)

    def parameters(self) -> list[ast.Node]:
        args: list[ast.Node] = []
        while True:
            if self._type(self.i) == RPAREN:
                return args
            args.append(self.expression())
            if self._type(self.i) != COMMA:
                return args
            self.i += 1

    def string_list(self) -> ast.Node:
        tok = self.expect(LSBRACKET)
        c = self.consume_comment()
        items: list[ast.Node] = []
        while True:
            t = self._type(self.i)
            if t == RSBRACKET:
                break
            if t == IDENT:
                items.append(self.identifier())
            elif t == STRING:
                items.append(self.string())
            elif t == STAR:
                items.append(self.star())
            else:
                self.unexpected(self.i, (IDENT, STRING, STAR))
            if self._type(self.i) != COMMA:
                break
            self.i += 1
        self.expect(RSBRACKET)
        return ast.List(self.pos[tok], items, c)

    def lambda_(self) -> ast.Node:
        tok = self.i
        self.i += 1
        c = self.consume_comment()
        expr = self.primary_expr()
        return ast.Lambda(self.pos[tok], expr, c)

    def primary_expr(self) -> ast.Node:
        return self.precedence(self.primary(), 0)

    def precedence(self, lhs: ast.Node, min_p: int) -> ast.Node:
        t = self._type(self.i)
        while t in OPERATORS and PRECEDENCE[t] >= min_p:
            op = self.i
            op_t = t
            self.i += 1
            c = self.consume_comment()
            rhs = self.primary()
            t = self._type(self.i)
            while t in OPERATORS and PRECEDENCE[t] > PRECEDENCE[op_t]:
                rhs = self.precedence(rhs, PRECEDENCE[t])
                t = self._type(self.i)
            multi = self.has_newline(lhs.pos, rhs.pos)
            lhs = ast.Binary(self.pos[op], op_t, lhs, rhs, multi, c)
        return lhs

    def lfunction(self) -> ast.Node:
        idx = self.expect(IDENT)
        self.expect(LPAREN)
        args: list[ast.Node] = []
        while self._type(self.i) != RPAREN:
            n = self.primary()
            if self._type(self.i) in OPERATORS:
                n = self.precedence(n, 0)
            args.append(n)
            if self._type(self.i) != COMMA:
                break
            self.i += 1
        self.expect(RPAREN)
        start = self.pos[idx]
        multi = bool(args) and self.has_newline(start, args[-1].pos)
        return ast.Function(start, ast.GLOBAL_FUNC, self.vals[idx], args, multi, None)

    def primary(self) -> ast.Node:
        i = self.i
        t = self._type(i)
        if t == LPAREN:
            self.i += 1
            c = self.consume_comment()
            n = self.primary_expr()
            if isinstance(n, ast.Binary):
                n.parens = True
            n.comment = c
            self.expect(RPAREN)
            return n
        if t == NUMBER:
            return self.number()
        if t == STRING:
            return self.string()
        if t in (TRUE, FALSE):
            self.i += 1
            return ast.Bool(self.pos[i], t == TRUE, self.consume_comment())
        if t == DURATION:
            return self.duration()
        if t == REGEX:
            return self.regex()
        if t == STAR:
            return self.star()
        if t == REFERENCE:
            return self.reference()
        if t == IDENT:
            if self._type(i + 1) == LPAREN:
                return self.lfunction()
            return self.identifier()
        if t in (MINUS, NOT):
            self.i += 1
            operand = self.primary()
            return ast.Unary(self.pos[i], t, operand, self.consume_comment())
        self.unexpected(i, _PRIMARY_EXPECTED)
        raise AssertionError("unreachable")

    def duration(self) -> ast.Node:
        idx = self.expect(DURATION)
        lit = self.vals[idx]
        try:
            ns = parse_duration(lit)
        except DurationError as e:
            raise ParseError(f"parser: {e}") from None
        return ast.Duration(self.pos[idx], ns, lit, self.consume_comment())

    def number(self) -> ast.Node:
        idx = self.expect(NUMBER)
        text = self.vals[idx]
        node = parse_number(self.pos[idx], text)
        node.comment = self.consume_comment()
        return node

    def string(self) -> ast.String:
        idx = self.expect(STRING)
        return make_string(self.pos[idx], self.vals[idx], self.consume_comment())

    def regex(self) -> ast.Node:
        idx = self.expect(REGEX)
        lit = self.vals[idx][1:-1]
        pattern = lit.replace("\\/", "/")
        try:
            compile_go_regex(pattern)
        except RegexError as e:
            raise ParseError(f"parser: {e}") from None
        return ast.Regex(self.pos[idx], lit, pattern, self.consume_comment())

    def star(self) -> ast.Star:
        idx = self.expect(STAR)
        return ast.Star(self.pos[idx], self.consume_comment())

    def reference(self) -> ast.Reference:
        idx = self.expect(REFERENCE)
        lit = self.vals[idx][1:-1].replace('\\"', '"')
        return ast.Reference(self.pos[idx], lit, self.consume_comment())


def make_string(pos: int, txt: str, comment: ast.Comment | None) -> ast.String:
    if len(txt) >= 6 and txt.startswith("'''"):
        return ast.String(pos, txt[3:-3], True, comment)
    return ast.String(pos, txt[1:-1].replace("\\'", "'"), False, comment)


_INT64_MAX = (1 << 63) - 1


def parse_number(pos: int, text: str) -> ast.Number:
    """`newNumber`: a dot makes a float; a leading zero makes an octal integer."""
    if "." in text:
        if _ASCII_DIGITS.match(text.replace(".", "", 1)):
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isinf(value) and not math.isnan(value):
                return ast.Number(pos, False, value, 0)
        raise ParseError(f"parser: illegal number syntax: {_go_quote(text)}")
    base = 8 if text[0] == "0" and len(text) > 1 else 10
    if _ASCII_DIGITS.match(text):
        try:
            value_i = int(text, base)
        except ValueError:
            value_i = -1
        if 0 <= value_i <= _INT64_MAX:
            return ast.Number(pos, True, value_i, base)
    raise ParseError(f"parser: illegal number syntax: {_go_quote(text)}")


def parse(text: str) -> ast.Program:
    toks = lex(text)
    p = Parser(text, toks)
    try:
        prog = p.program()
    except RecursionError:
        raise ParseError("parser: expression nested too deeply") from None
    return prog


def parse_lambda(text: str) -> ast.Lambda:
    """`ParseLambda`: a bare lambda expression, as task vars of type lambda carry it."""
    toks = lex(text)
    p = Parser(text, toks)
    try:
        expr = p.primary_expr()
        p.expect(EOF)
    except RecursionError:
        raise ParseError("parser: expression nested too deeply") from None
    return ast.Lambda(0, expr, None)


sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))
