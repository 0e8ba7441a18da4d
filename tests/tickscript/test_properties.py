"""Property tests of the parser and formatter.

The generated scripts stay inside the part of the language where the real formatter is itself a
fixed point (checked against it): expressions on one line, regex literals only right of `=~`/`!~`,
strings without line breaks, comments before statements and before chain operators. Outside it the
real formatter is not idempotent (e.g. a regex followed by an operator, or a multi-line string inside
a binary expression, change how the output re-parses), and neither is ours, by design.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.tickscript import TickscriptError, build, format_script, parse
from mockserver.tickscript.formatter import format_program

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

idents = st.sampled_from(["x", "y", "value", "host", "lambdaX", "éa", "a_b"])
numbers = st.one_of(st.integers(0, 10**6).map(str),
                    st.sampled_from(["1.5", "0.25", ".5", "5.", "0600", "100.0", "0"]),
                    st.floats(0, 1e6, allow_nan=False).map(lambda f: repr(f) if "e" not in repr(f) else "1.0"))
durations = st.builds(lambda n, u: f"{n}{u}", st.integers(0, 1000), st.sampled_from(["u", "µ", "ms", "s", "m", "h", "d", "w"]))
strings = st.one_of(st.sampled_from(["'str'", "''", "'''tri'ple'''", "'a\\'b'"]),
                    st.text(st.characters(blacklist_characters="'\\\n\r", blacklist_categories=("Cs",)),
                            max_size=8).map(lambda s: f"'{s}'"))
references = st.text(st.characters(blacklist_characters='"\\\n\r', blacklist_categories=("Cs",)),
                     min_size=1, max_size=8).map(lambda s: f'"{s}"')
regexes = st.sampled_from(["/.*/", "/^a\\/b/", "/[a-z]+/", "/x|y/", "/\\d+$/"])
sep = st.sampled_from([" ", ""])


def _literal(depth: int) -> st.SearchStrategy[str]:
    options = [numbers, durations, strings, references, st.sampled_from(["TRUE", "FALSE"]), idents]
    if depth < 2:
        inner = _expression(depth + 1)
        options.append(inner.map(lambda e: f"({e})"))
        options.append(st.builds(lambda f, a: f"{f}({', '.join(a)})", st.sampled_from(["sin", "count", "if"]),
                                 st.lists(inner, max_size=3)))
        options.append(st.builds(lambda op, e: op + e, st.sampled_from(["-", "!"]), _literal(depth + 1)))
    return st.one_of(options)


_OPS = st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "AND", "OR"])


def _expression(depth: int) -> st.SearchStrategy[str]:
    lit = _literal(depth)
    middle = st.lists(st.tuples(sep, _OPS, sep, lit), max_size=3).map(
        lambda parts: "".join(a + op + b + v for a, op, b, v in parts))
    # a regex match can only end an expression (a regex followed by an operator does not re-lex)
    tail = st.one_of(st.just(""), st.builds(lambda a, op, b, r: a + op + b + r, sep, st.sampled_from(["=~", "!~"]),
                                            sep, st.one_of(regexes, lit)))
    return st.builds(lambda a, m, t: a + m + t, lit, middle, tail)


LITERALS = [_literal(d) for d in range(3)]
EXPRESSION = _expression(0)


def expression() -> st.SearchStrategy[str]:
    return EXPRESSION


def argument() -> st.SearchStrategy[str]:
    lists = st.lists(st.sampled_from(["'a'", "b", "*", "'c d'"]), max_size=4).map(lambda i: "[" + ", ".join(i) + "]")
    return st.one_of(st.builds(lambda s, e: "lambda:" + s + e, sep, EXPRESSION), lists, regexes, EXPRESSION)


comments = st.sampled_from(["", "", "// note\n", "// a\n//   b\n", "//\n"])
methods = st.sampled_from(["from", "window", "where", "period", "every", "alert", "crit", "groupBy", "mean", "eval",
                           "as", "log", "measurement", "httpOut", "quiet", "slack", "channel"])


ARGUMENT = argument()


@st.composite
def call(draw: st.DrawFn) -> str:
    args = draw(st.lists(ARGUMENT, max_size=3))
    return draw(methods) + "(" + draw(st.sampled_from([", ", ",\n"])).join(args) + ")"


@st.composite
def chain(draw: st.DrawFn) -> str:
    s = draw(st.sampled_from(["stream", "batch", "x", "data"]))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["|", ".", "@"]))
        s += draw(st.sampled_from(["", "\n    ", "\n"])) + draw(comments) + op + draw(call())
    return s


@st.composite
def statement(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        right = draw(st.one_of(expression(), chain(), expression().map(lambda e: "lambda: " + e),
                               st.just("['a', b, *]")))
        return f"var {draw(idents)} = {right}"
    if kind == 1:
        return f"var {draw(idents)} {draw(st.sampled_from(['int', 'float', 'string', 'duration', 'lambda']))}"
    if kind == 2:
        return 'dbrp "db"."rp"'
    return draw(chain())


@st.composite
def script(draw: st.DrawFn) -> str:
    stmts = draw(st.lists(st.tuples(comments, statement()), min_size=1, max_size=5))
    return "\n".join(c + s for c, s in stmts)


def _parsable(text: str) -> str | None:
    try:
        return format_program(parse(text))
    except TickscriptError:
        return None


@SETTINGS
@given(script())
def test_format_is_a_fixed_point(text: str) -> None:
    once = _parsable(text)
    if once is None:
        return
    assert format_script(once) == once


@SETTINGS
@given(script())
def test_formatting_preserves_the_tree(text: str) -> None:
    try:
        prog = parse(text)
    except TickscriptError:
        return
    again = parse(format_program(prog))
    assert again.key() == prog.key()


alphabet = st.one_of(
    st.sampled_from(list("()[]|.@,*/\\'\"=!<>-+%~ \n\t:#_$0123456789abcdefxyzAND")),
    st.sampled_from(["var ", "dbrp ", "lambda:", "stream", "//", "'''", "TRUE", "OR ", "10s", "µ", "é"]),
    st.characters(blacklist_categories=("Cs",)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(alphabet, max_size=60).map("".join))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        parse(text)
    except TickscriptError as e:
        assert str(e).startswith("parser: ")


@SETTINGS
@given(script())
def test_building_generated_scripts_fails_only_cleanly(text: str) -> None:
    try:
        prog = parse(text)
    except TickscriptError:
        return
    for template in (False, True):
        with contextlib.suppress(TickscriptError):
            build(prog, template=template)
