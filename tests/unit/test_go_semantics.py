"""One Go-semantics layer in the mock, pinned to the suite's independent copies.

The suite keeps its own ports of Go's `%q` (conformance/gostr.py) and `path.Match`
(conformance/gomatch.py) on purpose: it must not trust the code it checks. These properties pin the
two copies together on every valid text, and the facts below come from a real Kapacitor 1.5.7.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conformance import gomatch, gostr
from mockserver import gotext
from mockserver.errors import BadRequest
from mockserver.gojson import DecodeError, decode_first, go_quote_char
from mockserver.store.listing import GlobSyntaxError, compile_glob, parse_int_param
from mockserver.tickscript.lexer import go_quote_rune

# Valid Unicode text: what a Go string decoded from JSON or a URL can hold (no lone surrogates).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)


@settings(max_examples=600)
@given(TEXT)
@example("a\x07b")
@example("\xa0\u2028\x7f\x80\x9f\ufeff\U000e0001\U0010ffff\u0378")
@example('"\\\'\t\n\r\v\f\b\x00\x1b')
def test_mock_and_suite_quote_alike(text: str) -> None:
    assert gotext.go_quote(text) == gostr.go_quote(text)


@given(st.characters(blacklist_categories=("Cs",)))
def test_is_print_alike(ch: str) -> None:
    assert gotext.is_print(ch) == gostr.go_is_print(ch)


def test_quote_facts_from_go() -> None:
    """strconv.Quote / QuoteRune outputs (Go documentation and a real server's messages)."""
    assert gotext.go_quote("a\x07b") == '"a\\ab"'  # real 1.5.7: POST /tasks {"id":"a\u0007b"}
    assert gotext.go_quote("\xa0") == '"\\u00a0"'
    assert gotext.go_quote("\x7f\x1b\x00") == '"\\x7f\\x1b\\x00"'
    assert gotext.go_quote("\u263a\U0001f600") == '"\u263a\U0001f600"'
    assert gotext.go_quote("\U000e0001") == '"\\U000e0001"'  # a format character above the BMP
    assert gotext.go_quote("it's") == '"it\'s"' and gotext.quote_rune("'") == "'\\''"
    assert gotext.quote_rune('"') == "'\"'" and gotext.quote_rune("\u2028") == "'\\u2028'"
    assert go_quote_rune("\x01") == "'\\x01'" and go_quote_rune("\ud800") == "'\ufffd'"


def test_raw_bytes_quote_as_go_sees_them() -> None:
    """surrogateescape'd bytes are invalid UTF-8 in Go: `\\xNN` each."""
    assert gotext.go_quote("a\udcff\udc80") == '"a\\xff\\x80"'
    assert gotext.go_quote("\ud800") == '"\\xed\\xa0\\x80"'
    assert gotext.go_bytes("é\udcff") == b"\xc3\xa9\xff"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # Recorded from a real 1.5.7: POST /config/smtp answers "failed to decode JSON:" + this.
        (b"\xc2\xa0", "invalid character '\u00c2' looking for beginning of value"),
        (b"\xa0", "invalid character '\\u00a0' looking for beginning of value"),
        (b"\xe9t\xe9", "invalid character '\u00e9' looking for beginning of value"),
        (b'{"a": \x01}', "invalid character '\\x01' looking for beginning of value"),
        (b"'", "invalid character '\\'' looking for beginning of value"),
    ],
)
def test_json_scanner_names_the_byte(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as exc:
        decode_first(body)
    assert str(exc.value) == message


def test_invalid_bytes_in_json_strings_become_one_replacement_each() -> None:
    """Real 1.5.7 quotes the id of `{"id":"a\\xff\\xf0\\x9f\\x98"}` as "a����" (one per byte)."""
    assert decode_first(b'{"id":"a\xff\xf0\x9f\x98"}') == {"id": "a\ufffd\ufffd\ufffd\ufffd"}


def test_json_char_quote_of_ascii_matches_the_string_quote() -> None:
    for code in range(0x80):
        ch = chr(code)
        if ch in "'\"":
            continue
        assert go_quote_char(ch) == "'" + gostr.go_quote(ch)[1:-1] + "'"


@given(TEXT)
def test_paging_errors_alike(raw: str) -> None:
    """strconv.ParseInt's error inside the offset/limit message, in both copies."""
    try:
        parse_int_param("limit", raw, 0)
    except BadRequest as exc:
        assert exc.message == gostr.paging_error("limit", raw)  # type: ignore[attr-defined]
    else:
        assert gostr.parse_int64(raw)[1] is None or raw == ""


# ---- path.Match ---------------------------------------------------------------------------------

GLOB_ALPHABET = st.sampled_from([*"ab/*?[]^-\\c", "中", "é", "\U0001f600"])
NAME_ALPHABET = st.sampled_from([*"ab/c-^]\\*?[", "中", "é", "\U0001f600"])


def _mock_match(pattern: str, name: str) -> bool | str:
    try:
        return compile_glob(pattern)(name)
    except GlobSyntaxError:
        return "bad pattern"


def _suite_match(pattern: str, name: str) -> bool | str:
    try:
        return gomatch.go_path_match(pattern, name)
    except gomatch.BadPattern:
        return "bad pattern"


@settings(max_examples=1500)
@given(st.text(GLOB_ALPHABET, max_size=8), st.text(NAME_ALPHABET, max_size=8))
@example("*??", "中")  # one byte of a multi-byte character counts as a character (real 1.5.7)
@example("[^a]", "中")
@example("a[", "b")
@example("\\", "")
def test_mock_and_suite_glob_alike(pattern: str, name: str) -> None:
    assert _mock_match(pattern, name) == _suite_match(pattern, name)


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=6), TEXT)
def test_glob_alike_on_any_text(pattern: str, name: str) -> None:
    assert _mock_match(pattern, name) == _suite_match(pattern, name)

