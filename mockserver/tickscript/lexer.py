"""TICKscript lexer.

The real lexer is a state machine with two states that matter: "operand" (start of an expression,
where `/` opens a regex and `*` is a star) and "after operand" (where `/` divides and `*` multiplies).
Each state is one compiled master regex applied with `match` at the current offset, so a token costs
one regex call. The stream ends with an EOF token, or with an ERROR token carrying the lexer's
message (the parser reports it as an unexpected token, as the real one does).
"""

from __future__ import annotations

import re

from mockserver.gotext import quote_rune

# Token types (values only matter for identity; names follow the real lexer).
ERROR, EOF, VAR, DBRP, ASGN, DOT, PIPE, AT, IDENT, REFERENCE, LAMBDA, NUMBER, STRING, DURATION = range(14)
LPAREN, RPAREN, LSBRACKET, RSBRACKET, COMMA, NOT, TRUE, FALSE, REGEX, COMMENT, STAR = range(14, 25)
PLUS, MINUS, MULT, DIV, MOD = range(30, 35)  # math operators
AND, OR = range(40, 42)  # logical operators
EQUAL, NOT_EQUAL, LESS, GREATER, LESS_EQUAL, GREATER_EQUAL, REGEX_EQUAL, REGEX_NOT_EQUAL = range(50, 58)

OPERATORS = frozenset((PLUS, MINUS, MULT, DIV, MOD, AND, OR, EQUAL, NOT_EQUAL, LESS, GREATER,
                       LESS_EQUAL, GREATER_EQUAL, REGEX_EQUAL, REGEX_NOT_EQUAL))
MATH_OPERATORS = frozenset((PLUS, MINUS, MULT, DIV, MOD))
COMPARISON_OPERATORS = frozenset((EQUAL, NOT_EQUAL, LESS, GREATER, LESS_EQUAL, GREATER_EQUAL,
                                  REGEX_EQUAL, REGEX_NOT_EQUAL))
LOGICAL_OPERATORS = frozenset((AND, OR))

TOKEN_NAMES = {
    ERROR: "ERR", EOF: "EOF", VAR: "var", DBRP: "dbrp", IDENT: "identifier", REFERENCE: "reference",
    DURATION: "duration", LAMBDA: "lambda", NUMBER: "number", STRING: "string", REGEX: "regex",
    COMMENT: "//", STAR: "*", DOT: ".", PIPE: "|", AT: "@", ASGN: "=", LPAREN: "(", RPAREN: ")",
    LSBRACKET: "[", RSBRACKET: "]", COMMA: ",", NOT: "!", TRUE: "TRUE", FALSE: "FALSE",
    PLUS: "+", MINUS: "-", MULT: "*", DIV: "/", MOD: "%", EQUAL: "==", NOT_EQUAL: "!=", LESS: "<",
    GREATER: ">", LESS_EQUAL: "<=", GREATER_EQUAL: ">=", REGEX_EQUAL: "=~", REGEX_NOT_EQUAL: "!~",
    AND: "AND", OR: "OR",
}

KEYWORDS = {"AND": AND, "OR": OR, "TRUE": TRUE, "FALSE": FALSE, "var": VAR, "dbrp": DBRP}

# unicode.IsSpace (Go) — narrower than Python's str.isspace (which adds \x1c-\x1f).
_WS_CHARS = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS = f"[{_WS_CHARS}]*"
_WS_NO_NL = "[\t\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"

_COMMENT = rf"//[^\n]*(?:\n{_WS_NO_NL}/[^\n]*)*(?:\n{_WS_NO_NL})?"
_REGEX = r"/(?:[^/\\]|\\/|\\(?!/))*/"

_OPERAND = (
    rf"(?P<comment>{_COMMENT})"
    rf"|(?P<regex>{_REGEX})"
    r"|(?P<badregex>/)"
    r"|(?P<ident>[^\W\d_]\w*)"
    r"|(?P<dur>\d+(?:ms|[uµsmhdw]))"
    r"|(?P<num>\d+(?:\.\d*)?|\.\d+)"
    r"|(?P<dot>\.)"
    r"|(?P<punct>[()\[\]|@,*\-!])"
    r"|(?P<ref>\"(?:[^\"\\]|\\\"|\\(?!\"))*\")"
    r"|(?P<badref>\")"
    r"|(?P<tstr>''')"
    r"|(?P<str>''|'(?:[^'\\]|\\'|\\(?!'))*')"
    r"|(?P<badstr>')"
    r"|(?P<eof>\Z)"
    r"|(?P<bad>.)"
)
_BINARY = (
    rf"(?P<comment>{_COMMENT})"
    r"|(?P<binop>[+\-*%/]|!=|!~|!|<=|>=|<|>|==|=~)"
    r"|(?P<asgn>=)"
    r"|" + _OPERAND.replace(rf"(?P<comment>{_COMMENT})|", "", 1)
)
OPERAND_RE = re.compile(_WS + "(?:" + _OPERAND + ")", re.S)
BINARY_RE = re.compile(_WS + "(?:" + _BINARY + ")", re.S)
REGEX_AT = re.compile(_WS + "(" + _REGEX + ")", re.S)

_PUNCT = {"(": LPAREN, ")": RPAREN, "[": LSBRACKET, "]": RSBRACKET, "|": PIPE, "@": AT, ",": COMMA,
          "*": STAR, "-": MINUS, "!": NOT}
_BINOPS = {"+": PLUS, "-": MINUS, "*": MULT, "%": MOD, "/": DIV, "!=": NOT_EQUAL, "!~": REGEX_NOT_EQUAL,
           "!": NOT, "<=": LESS_EQUAL, ">=": GREATER_EQUAL, "<": LESS, ">": GREATER, "==": EQUAL,
           "=~": REGEX_EQUAL}
# Token types after which the real lexer tries binary operators next.
_OPERAND_END = frozenset((IDENT, VAR, DBRP, LAMBDA, TRUE, FALSE, AND, OR, NUMBER, DURATION, REFERENCE,
                          STRING, RPAREN))
_SIMPLE = {"regex": REGEX, "dur": DURATION, "ref": REFERENCE, "str": STRING, "dot": DOT}


class Tokens:
    """Parallel token arrays plus the comment tokens that precede each token."""

    __slots__ = ("comments", "pos", "types", "vals")

    def __init__(self) -> None:
        self.types: list[int] = []
        self.pos: list[int] = []
        self.vals: list[str] = []
        # token index -> list of (position, text) of the comment tokens just before it
        self.comments: dict[int, list[tuple[int, str]]] = {}


def go_quote_rune(ch: str) -> str:
    """strconv.QuoteRune: how the lexer prints an unexpected character."""
    return quote_rune(ch)


def _scan_triple(text: str, start: int) -> int:
    """End offset of a triple-quoted string opened at `start`, or -1 if unterminated.

    A literal port of the real state machine, including its handling of a backslash after two quotes.
    """
    i = start + 3
    n = len(text)
    count = 3
    while i < n:
        c = text[i]
        i += 1
        if c == "\\" and count == 1:
            if i < n and text[i] == "'":
                i += 1
        elif c == "'":
            count -= 1
            if count == 0:
                return i
        else:
            count = 3
            # Fast path: jump to the next quote or backslash.
            j = text.find("'", i)
            if j == -1:
                return -1
            if "\\" not in text[i:j]:
                i = j
    return -1


def lex(text: str) -> Tokens:
    toks = Tokens()
    types = toks.types
    poss = toks.pos
    vals = toks.vals
    comments = toks.comments
    t_append = types.append
    p_append = poss.append
    v_append = vals.append
    operand_match = OPERAND_RE.match
    binary_match = BINARY_RE.match
    pos = 0
    mode = 0  # 0 operand, 1 after operand, 2 after '=' / '=~' / '!~' (regex preferred)
    pending: list[tuple[int, str]] | None = None
    while True:
        if mode == 2:
            m = REGEX_AT.match(text, pos)
            if m is not None:
                if pending is not None:
                    comments[len(types)] = pending
                    pending = None
                t_append(REGEX)
                p_append(m.start(1))
                v_append(m.group(1))
                pos = m.end()
                mode = 0
                continue
            m = operand_match(text, pos)
        elif mode == 1:
            m = binary_match(text, pos)
        else:
            m = operand_match(text, pos)
        assert m is not None and m.lastgroup is not None  # both masters end in a catch-all group
        kind = m.lastgroup
        end = m.end()
        val = m.group(kind)
        start = end - len(val)
        if kind == "ident":
            typ = KEYWORDS.get(val, IDENT)
            if typ == IDENT and not val.isascii() and not _go_ident(val):
                # Python's \w admits a few characters (e.g. superscript digits) Go's rules do not.
                val, end = _trim_ident(val, start)
                if not val:
                    return _error(toks, pending, start, "unknown state, last char: " + go_quote_rune(text[start]))
            if val == "lambda" and text.startswith(":", end):
                typ = LAMBDA
                val = "lambda:"
                end += 1
            mode = 1
        elif kind == "punct":
            typ = _PUNCT[val]
            mode = 1 if typ == RPAREN else 0
        elif kind == "binop":
            typ = _BINOPS[val]
            mode = 2 if typ in (REGEX_NOT_EQUAL, REGEX_EQUAL) else 0
        elif kind == "num":
            if text.startswith(".", end) and "." in val:
                if pending is not None:
                    comments[len(types)] = pending
                t_append(ERROR)
                p_append(start)
                v_append("multiple decimals in number")
                return toks
            typ = NUMBER
            mode = 1
        elif kind == "comment":
            if pending is None:
                pending = []
            pending.append((start, val))
            pos = end
            mode = 0
            continue
        elif kind in _SIMPLE:
            typ = _SIMPLE[kind]
            mode = 0 if typ in (REGEX, DOT) else 1
        elif kind == "asgn":
            typ = ASGN
            mode = 2
        elif kind == "tstr":
            end = _scan_triple(text, start)
            if end == -1:
                return _error(toks, pending, start, "unterminated string")
            typ = STRING
            val = text[start:end]
            mode = 1
        elif kind == "eof":
            if pending is not None:
                comments[len(types)] = pending
            t_append(EOF)
            p_append(start)
            v_append("")
            return toks
        elif kind == "badstr":
            return _error(toks, pending, start, "unterminated string")
        elif kind == "badref":
            return _error(toks, pending, start, "unterminated field reference")
        elif kind == "badregex":
            if end == len(text):
                # The real lexer peeks at EOF, which resets its backup width: it then reads EOF where
                # it expects the opening slash.
                return _error(toks, pending, start, 'unexpected "\ufffd" expected "/"')
            return _error(toks, pending, start, "unterminated regex")
        else:  # bad
            return _error(toks, pending, start, "unknown state, last char: " + go_quote_rune(val))
        if pending is not None:
            comments[len(types)] = pending
            pending = None
        t_append(typ)
        p_append(start)
        v_append(val)
        pos = end


def _error(toks: Tokens, pending: list[tuple[int, str]] | None, pos: int, msg: str) -> Tokens:
    if pending is not None:
        toks.comments[len(toks.types)] = pending
    toks.types.append(ERROR)
    toks.pos.append(pos)
    toks.vals.append(msg)
    return toks


def _go_ident_char(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdecimal()


def _go_letter(c: str) -> bool:
    return c.isalpha()


def _go_ident(val: str) -> bool:
    return all(_go_ident_char(c) for c in val)


def _trim_ident(val: str, start: int) -> tuple[str, int]:
    if not _go_letter(val[0]):
        return "", start
    i = 1
    while i < len(val) and _go_ident_char(val[i]):
        i += 1
    return val[:i], start + i
