"""The TICKscript engine as clients meet it through the task and template endpoints.

Expected texts were observed on a real Kapacitor 1.5.7 (same parser and formatter as 1.8).
"""

from __future__ import annotations

import pytest

from tests.mock.conftest import Api, error_of

T = "/kapacitor/v1/tasks"
DBRPS = [{"db": "telegraf", "rp": "autogen"}]
EXPECTED = '"number","string","duration","identifier","TRUE","FALSE","==","(","-","!"'


def test_non_canonical_script_is_formatted_by_default_and_raw_on_request(api: Api) -> None:
    raw = "stream|from().measurement('cpu')|window().period(10s).every(5s)"
    resp = api.post(T, {"id": "fmt1", "dbrps": DBRPS, "script": raw})
    assert resp.status == 200
    formatted = "stream\n    |from()\n        .measurement('cpu')\n    |window()\n        .period(10s)\n        .every(5s)\n"
    assert resp.json["script"] == formatted
    assert api.get(f"{T}/fmt1").json["script"] == formatted
    assert api.get(f"{T}/fmt1", params={"script-format": "raw"}).json["script"] == raw
    listed = api.get(T, params={"script-format": "raw", "fields": "script"}).json["tasks"][0]["script"]
    assert listed == raw


def test_comments_and_vars_are_formatted_like_tick_format(api: Api) -> None:
    raw = "// hello\nvar x = 5 // trailing\nvar y = 'm'\nstream\n|from().measurement(y)\n// before alert\n|alert().crit(lambda: \"v\" > x AND \"w\" < 2.5).log('/tmp/x')"
    resp = api.post(T, {"id": "fmt2", "dbrps": DBRPS, "script": raw})
    assert resp.status == 200
    assert resp.json["script"] == (
        "// hello\nvar x = 5\n\n// trailing\nvar y = 'm'\n\nstream\n    |from()\n        .measurement(y)\n"
        "    // before alert\n    |alert()\n        .crit(lambda: \"v\" > x AND \"w\" < 2.5)\n        .log('/tmp/x')\n"
    )
    assert resp.json["dot"] == "digraph fmt2 {\nstream0 -> from1;\nfrom1 -> alert2;\n}"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "stream|from().measurement('cpu)",
            'parser: unexpected unterminated string line 1 char 27 in "asurement(\'cpu)". expected: ' + EXPECTED,
        ),
        (
            "stream|from(.measurement('cpu')",
            'parser: unexpected . line 1 char 13 in "ream|from(.measureme". expected: ' + EXPECTED,
        ),
        ("stream|from().measurement('cpu'", 'parser: unexpected EOF line 1 char 32 in "ment(\'cpu\'". expected: ")"'),
        ("stream\n    |fromm()\n", 'line 2 char 6: no method or property "fromm" on *pipeline.StreamNode'),
    ],
)
def test_syntax_errors_report_line_and_position(api: Api, script: str, message: str) -> None:
    resp = api.post(T, {"id": "bad", "dbrps": DBRPS, "script": script})
    assert resp.status == 400
    assert error_of(resp) == f"invalid TICKscript: {message}"
    assert api.get(f"{T}/bad").status == 404


def test_template_vars_list_every_declaration(api: Api) -> None:
    script = (
        "// the field\nvar field string\n// period\nvar period = 10s\nvar l = ['a','b']\nvar r = /x.*/\n"
        "var lam = lambda: \"a\" > 1\nvar f = 1.0\nvar b = TRUE\n"
        "stream|from().measurement('m')|window().period(period).every(period)|count(field)"
    )
    resp = api.post("/kapacitor/v1/templates", {"id": "tp", "script": script})
    assert resp.status == 200
    assert resp.json["vars"] == {
        "b": {"type": "bool", "value": True, "description": ""},
        "f": {"type": "float", "value": 1, "description": ""},
        "field": {"type": "string", "value": None, "description": "the field"},
        "l": {
            "type": "list",
            "value": [{"type": "string", "value": "a", "description": ""}, {"type": "string", "value": "b", "description": ""}],
            "description": "",
        },
        "lam": {"type": "lambda", "value": '"a" > 1', "description": ""},
        "period": {"type": "duration", "value": 10_000_000_000, "description": "period"},
        "r": {"type": "regex", "value": "x.*", "description": ""},
    }
    assert list(resp.json["vars"]) == sorted(resp.json["vars"])
    assert b'"value": 1,' in resp.body  # a float 1.0 is written as Go writes it
