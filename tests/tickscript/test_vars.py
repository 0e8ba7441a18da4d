"""Vars on the wire (§5 of the behaviour reference; client.Vars.UnmarshalJSON and newVar)."""

from __future__ import annotations

import json

import pytest

from mockserver.tickscript import Var, VarDecodeError, VarError, decode_vars, encode_vars


def dec(text: str) -> dict[str, Var]:
    return decode_vars(json.loads(text))


@pytest.mark.parametrize(("body", "expected"), [
    ('{"x": {"type": "bool", "value": true}}', Var("bool", True)),
    ('{"x": {"type": "int", "value": 5}}', Var("int", 5)),
    ('{"x": {"type": "int", "value": -9223372036854775808}}', Var("int", -(1 << 63))),
    ('{"x": {"type": "float", "value": 1.5}}', Var("float", 1.5)),
    ('{"x": {"type": "float", "value": 1}}', Var("float", 1.0)),
    ('{"x": {"type": "duration", "value": 10000000000}}', Var("duration", 10_000_000_000)),
    ('{"x": {"type": "duration", "value": "10s"}}', Var("duration", 10_000_000_000)),
    ('{"x": {"type": "duration", "value": "1m30s"}}', Var("duration", 90_000_000_000)),
    ('{"x": {"type": "duration", "value": "1u"}}', Var("duration", 1_000)),
    ('{"x": {"type": "string", "value": "cpu", "description": "d"}}', Var("string", "cpu", "d")),
    ('{"x": {"type": "regex", "value": "^a.*"}}', Var("regex", "^a.*")),
    ('{"x": {"type": "lambda", "value": "\\"value\\" > 5"}}', Var("lambda", '"value" > 5')),
    ('{"x": {"type": "star"}}', Var("star", None)),
    ('{"x": {"type": "star", "value": 12}}', Var("star", None)),
    ('{"x": {"type": "list", "value": [{"type": "star", "value": null}, {"type": "string", "value": "tag"}]}}',
     Var("list", [Var("star", None), Var("string", "tag")])),
    ('{"x": {"type": "list", "value": []}}', Var("list", [])),
    ('{"x": {"type": "list", "value": [{"type": "bool", "value": false}]}}', Var("list", [Var("bool", False)])),
    # keys are matched case-insensitively; null type/description are ignored
    ('{"x": {"TYPE": "int", "Value": 3, "DESCRIPTION": "n"}}', Var("int", 3, "n")),
    ('{"x": {"type": "int", "value": 3, "description": null}}', Var("int", 3, "")),
])
def test_accepted(body: str, expected: Var) -> None:
    assert dec(body) == {"x": expected}


@pytest.mark.parametrize("body", [
    '{"x": {"type": "int", "value": 1.5}}',
    '{"x": {"type": "int", "value": 1.0}}',
    '{"x": {"type": "int", "value": "5"}}',
    '{"x": {"type": "int", "value": true}}',
    '{"x": {"type": "int", "value": 9223372036854775808}}',
    '{"x": {"type": "float", "value": "1.5"}}',
    '{"x": {"type": "float", "value": 1e400}}',
    '{"x": {"type": "duration", "value": "10"}}',
    '{"x": {"type": "duration", "value": "ten seconds"}}',
    '{"x": {"type": "duration", "value": 1.5}}',
    '{"x": {"type": "duration", "value": true}}',
    '{"x": {"type": "list", "value": "a"}}',
    '{"x": {"type": "list", "value": ["a"]}}',
    '{"x": {"type": "list", "value": [{"value": "a"}]}}',
    '{"x": {"type": "list", "value": [{"type": "string"}]}}',
    '{"x": {"type": "list", "value": [{"type": "nope", "value": 1}]}}',
    '{"x": {"type": "nope", "value": 1}}',
    '{"x": {"type": "", "value": 1}}',
    '{"x": {"type": 5, "value": 1}}',
    '{"x": {"type": "int", "value": 1, "description": 5}}',
    '{"x": "int"}',
    '["x"]',
])
def test_rejected_by_decoding(body: str) -> None:
    with pytest.raises(VarDecodeError):
        dec(body)


def test_list_item_type_not_a_string_is_the_panic_case() -> None:
    with pytest.raises(VarDecodeError) as exc:
        dec('{"x": {"type": "list", "value": [{"type": 1, "value": "a"}]}}')
    assert exc.value.panic


@pytest.mark.parametrize(("body", "reason"), [
    ('{"x": {"type": "bool", "value": "true"}}', "unexpected var type bool, value is a string"),
    ('{"x": {"type": "string", "value": 5}}', "unsupported Var type json.Number."),
    ('{"x": {"type": "bool", "value": 1}}', "unsupported Var type json.Number."),
    ('{"x": {"type": "regex", "value": 1.5}}', "unsupported Var type json.Number."),
    ('{"x": {"type": "lambda", "value": 2}}', "unsupported Var type json.Number."),
    ('{"x": {"type": "string", "value": null}}', "unsupported Var type <nil>."),
    ('{"x": {"type": "int"}}', "unsupported Var type <nil>."),
    ('{"x": {"type": "string", "value": true}}', "mismatched type and value: bool string"),
    ('{"x": {"type": "lambda", "value": false}}', "mismatched type and value: bool lambda"),
    ('{"x": {"type": "string", "value": {"a": 1}}}', "unsupported Var type map[string]interface {}."),
    ('{"x": {"type": "string", "value": [1]}}', "unsupported Var type []interface {}."),
    # no type key: the type is "unknown"
    ('{"x": {"value": true}}', "mismatched type and value: bool unknown"),
    ('{"x": {"value": "a"}}', "unexpected var type unknown, value is a string"),
    ('{"x": {"value": 1}}', "unsupported Var type json.Number."),
    ('{"x": null}', "unsupported Var type <nil>."),
    # list items: only string, star (and bool) values survive
    ('{"x": {"type": "list", "value": [{"type": "int", "value": 1}]}}', "unsupported Var type json.Number."),
    ('{"x": {"type": "list", "value": [{"type": "duration", "value": "1s"}]}}',
     "unexpected var type duration, value is a string"),
    ('{"x": {"type": "list", "value": [{"type": "list", "value": []}]}}',
     "var has list type but value is not list, got []interface {}"),
    ('{"x": {"type": "list", "value": null}}', "var has list type but value is not list, got <nil>"),
])
def test_rejected_by_the_service(body: str, reason: str) -> None:
    with pytest.raises(VarError) as exc:
        dec(body)
    assert exc.value.name == "x"
    assert exc.value.reason == reason
    assert str(exc.value) == f"invalid var x: {reason}"


def test_absent_vars() -> None:
    assert decode_vars(None) == {}
    assert decode_vars({}) == {}


def test_encode_round_trip() -> None:
    body = {
        "b": {"type": "bool", "value": True, "description": ""},
        "d": {"type": "duration", "value": 10_000_000_000, "description": "window"},
        "l": {"type": "list", "value": [{"type": "star", "value": None, "description": ""},
                                         {"type": "string", "value": "tag", "description": ""}],
              "description": ""},
        "s": {"type": "star", "value": None, "description": ""},
    }
    assert encode_vars(decode_vars(body)) == body
    # durations given as strings come back as nanoseconds
    assert encode_vars(decode_vars({"d": {"type": "duration", "value": "1m"}})) == {
        "d": {"type": "duration", "value": 60_000_000_000, "description": ""}}
