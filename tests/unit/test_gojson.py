"""Go encoding/json behaviour the mock must reproduce (behaviour §1.6–1.8)."""

from __future__ import annotations

import pytest

from mockserver import gojson
from mockserver.gotime import ZERO_TIME, format_ns, parse_rfc3339


def test_pretty_output_matches_marshal_indent() -> None:
    body = gojson.dumps_pretty({"error": "Not Found", "message": "Not Found"})
    assert body == b'{\n    "error": "Not Found",\n    "message": "Not Found"\n}'


def test_html_characters_are_escaped() -> None:
    assert gojson.dumps_pretty({"dot": "a -> b & <c>"}) == b'{\n    "dot": "a -\\u003e b \\u0026 \\u003cc\\u003e"\n}'


def test_compact_output_has_trailing_newline() -> None:
    assert gojson.dumps_compact({"a": [1, 2]}) == b'{"a":[1,2]}\n'


def test_list_document_matches_full_encoding() -> None:
    items = [{"id": "a", "link": {"rel": "self", "href": "/x"}}, {"id": "b"}]
    fragments = [gojson.pretty_fragment(i) for i in items]
    assert gojson.pretty_list_document("tasks", fragments) == gojson.dumps_pretty({"tasks": items})
    assert gojson.pretty_list_document("tasks", []) == gojson.dumps_pretty({"tasks": []})


def test_floats_print_like_go() -> None:
    assert gojson.go_number(1.0) == 1
    assert gojson.go_number(0.5) == 0.5


def test_only_first_value_is_decoded() -> None:
    assert gojson.decode_first(b'{"id":"x"} trailing garbage') == {"id": "x"}


@pytest.mark.parametrize(("body", "message"), [(b"", "EOF"), (b"   ", "EOF"), (b'{"id":', "unexpected EOF")])
def test_decode_errors_use_go_words(body: bytes, message: str) -> None:
    with pytest.raises(gojson.DecodeError) as info:
        gojson.decode_first(body)
    assert str(info.value) == message


def test_struct_keys_are_case_insensitive_and_last_wins() -> None:
    fields = {"id": "string", "template-id": "string"}
    assert gojson.decode_struct(b'{"ID":"x","TEMPLATE-ID":"t","unknown":1}', "T", fields) == {
        "id": "x",
        "template-id": "t",
    }
    assert gojson.decode_struct(b'{"id":"a","Id":"b"}', "T", fields) == {"id": "b"}


def test_struct_type_errors() -> None:
    with pytest.raises(gojson.DecodeError) as info:
        gojson.decode_struct(b'{"id": 5}', "CreateTaskOptions", {"id": "string"})
    assert str(info.value) == "json: cannot unmarshal number into Go struct field CreateTaskOptions.id of type string"
    with pytest.raises(gojson.DecodeError) as info:
        gojson.decode_struct(b"[]", "CreateTaskOptions", {"id": "string"})
    assert str(info.value) == "json: cannot unmarshal array into Go value of type CreateTaskOptions"


def test_null_body_and_null_fields_are_absent() -> None:
    assert gojson.decode_struct(b"null", "T", {"id": "string"}) == {}
    assert gojson.decode_struct(b'{"id": null}', "T", {"id": "string"}) == {}


def test_enums_are_case_sensitive_and_reject_empty() -> None:
    status = gojson.enum(("enabled", "disabled"), "TaskStatus")
    assert gojson.decode_struct(b'{"status":"enabled"}', "T", {"status": status}) == {"status": "enabled"}
    for bad in (b'{"status":"Enabled"}', b'{"status":""}'):
        with pytest.raises(gojson.DecodeError):
            gojson.decode_struct(bad, "T", {"status": status})


def test_invalid_utf8_and_lone_surrogates_become_replacement_chars() -> None:
    assert gojson.decode_first(b'{"id":"a\xffb"}') == {"id": "a\ufffdb"}
    assert gojson.decode_first(b'{"id":"a\\ud800b"}') == {"id": "a\ufffdb"}


def test_time_format() -> None:
    assert format_ns(None) == ZERO_TIME
    assert format_ns(1_478_001_600_000_000_000) == "2016-11-01T12:00:00Z"
    assert format_ns(1_478_001_600_123_456_000) == "2016-11-01T12:00:00.123456Z"
    assert format_ns(1_478_001_600_355_300_311) == "2016-11-01T12:00:00.355300311Z"


def test_rfc3339_parse() -> None:
    assert parse_rfc3339("2016-11-01T12:00:00Z") == 1_478_001_600_000_000_000
    assert parse_rfc3339("2016-11-01T13:00:00.5+01:00") == 1_478_001_600_500_000_000
    with pytest.raises(ValueError):
        parse_rfc3339("2016-11-01")


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2016-11-01T2:00:00Z", 1_477_965_600_000_000_000),  # Go reads the hour's one digit
        ("2016-11-01T12:00:00,25Z", 1_478_001_600_250_000_000),  # a comma separates a fraction too
        ("2016-11-01T12:00:00.1234567891234Z", 1_478_001_600_123_456_789),  # digits past 9 dropped
        ("2016-11-01T12:00:00+-1:00", 1_478_005_200_000_000_000),  # the offset's parts may be signed
        ("2016-11-01T12:00:00-01:30", 1_478_007_000_000_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000_000),
        ("0000-02-29T00:00:00Z", -62_162_121_600_000_000_000),  # year 0 is a leap year
    ],
)
def test_rfc3339_parse_as_go(text: str, ns: int) -> None:
    assert parse_rfc3339(text) == ns


def test_rfc3339_parse_errors_as_go() -> None:
    """time.Parse(time.RFC3339, s): a bare layout, and `extra text` after a full match."""
    with pytest.raises(ValueError) as exc:
        parse_rfc3339("2016-11-01T12:00:00Zabc")
    assert str(exc.value) == 'parsing time "2016-11-01T12:00:00Zabc": extra text: "abc"'
    with pytest.raises(ValueError) as exc:
        parse_rfc3339("yesterday")
    assert str(exc.value) == 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'
