"""Unit tests of the suite's building blocks (no server needed).

Expectations come from the behaviour reference (Go formatting, path.Match rules) and the spec.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conformance import api, cli, deviations, report
from conformance.cases import CASES
from conformance.gomatch import BadPattern, go_path_match
from conformance.gostr import go_quote, paging_error, parse_int64
from conformance.strategies import interesting, stable
from conformance.target import Exchange
from spec import ids as spec_ids


@pytest.mark.parametrize(("value", "quoted"), [
    ("tásk7", '"tásk7"'),  # printable Unicode stays literal (behaviour §1.6)
    ('a"b\\c', '"a\\"b\\\\c"'),
    ("a\nb\t", '"a\\nb\\t"'),
    ("\x00", '"\\x00"'),
    ("\u2028", '"\\u2028"'),
])
def test_go_quote(value: str, quoted: str) -> None:
    assert go_quote(value) == quoted


def test_paging_error_text() -> None:
    # behaviour §2.4, stdlib-verified wording
    assert paging_error("offset", "abc") == (
        'invalid offset parameter "abc" must be an integer: strconv.ParseInt: parsing "abc": invalid syntax')
    assert paging_error("limit", "9223372036854775808").endswith("value out of range")
    assert parse_int64("+7") == (7, None)
    assert parse_int64(" 1") == (None, "invalid syntax")


@pytest.mark.parametrize(("pattern", "name", "matched"), [
    ("*", "abc", True),
    ("*", "a/b", False),  # * does not cross /
    ("a?c", "abc", True),
    ("[^a]", "b", True),  # ^ negates
    ("[^a]", "a", False),
    ("[!a]", "!", True),  # ! is literal in Go
    ("[!a]", "b", False),
    ("\\*", "*", True),
    ("[a-c]x", "bx", True),
    ("é?", "éж", True),
    ("testTaskID1*", "testTaskID10", True),
])
def test_go_path_match(pattern: str, name: str, matched: bool) -> None:
    assert go_path_match(pattern, name) is matched


@pytest.mark.parametrize("pattern", ["[", "a[", "\\", "[]", "[a-]"])
def test_go_path_match_malformed(pattern: str) -> None:
    with pytest.raises(BadPattern):
        for name in ("", "a", "zz"):
            go_path_match(pattern, name)


def test_strategy_characters_are_judged_alike_everywhere() -> None:
    chars = interesting()
    assert "é" in chars and "Ⅻ" in chars and "\u0301" in chars
    for ch in chars:
        assert stable(ch)
    assert spec_ids.is_valid_id("x" + "中") and not spec_ids.is_valid_id("x²")


def test_deviation_file(tmp_path) -> None:
    f = tmp_path / "dev.yaml"
    f.write_text("- check: 'status.*'\n  reason: known\n  expires: 2000-01-01\n- check: errors.body\n  reason: r\n")
    devs = deviations.load(f)
    assert devs[0].expired(dt.date(2024, 1, 1)) and not devs[1].expired()
    assert deviations.find(devs, "errors.body", "errors.body[x]") is devs[1]
    f.write_text("- check: x\n")
    with pytest.raises(deviations.DeviationFileError):
        deviations.load(f)


def test_scores() -> None:
    results = [
        {"area": "ids", "level": "MUST", "outcome": "passed"},
        {"area": "ids", "level": "MUST", "outcome": "failed"},
        {"area": "ids", "level": "SHOULD", "outcome": "deviation"},
        {"area": "status", "level": "SHOULD", "outcome": "skipped"},
    ]
    s = report.summarize(results)
    assert s["areas"]["ids"]["MUST"]["score"] == 50.0
    assert s["must_failed"] == 1 and not s["passed"]
    assert report.fmt_score("MUST", {"passed": 212, "failed": 2}) == "MUST 212/214 (99.1%)"


def test_curl_keeps_dot_segments() -> None:
    ex = Exchange("GET", "http://h:9092/kapacitor/v1/tasks/..", [("Accept-Encoding", "identity")], None)
    assert "--path-as-is" in ex.curl() and "/tasks/.." in ex.curl()


def test_cli_adds_package_and_plugin() -> None:
    args = cli.build_args(["--target", "http://x:9092", "--quick"])
    assert args[:2] == ["-p", "conformance.plugin"]
    assert "--pyargs" in args and args[-3:] == ["--target", "http://x:9092", "--quick"]


def test_status_table_matches_spec() -> None:
    """Every row names a spec operation and expects a code the spec documents for it."""
    for case in CASES:
        assert api.has_op(case.op), case.key
        documented = api.documented_codes(case.op)
        for code in case.expected():
            assert code in documented, (case.key, code, sorted(documented))


def test_recording_order_key_is_utc_seconds() -> None:
    """Recordings sort by their date in UTC, to the second (behaviour §2.5), whatever zone is printed."""
    from conformance.gostr import utc_second

    assert utc_second("2024-01-02T03:04:05.123456789+02:00") == "2024-01-02T01:04:05"
    assert utc_second("2024-01-02T03:04:05Z") == "2024-01-02T03:04:05"


def test_mock_deviation_file_is_valid() -> None:
    from pathlib import Path

    import conformance

    devs = deviations.load(Path(conformance.__file__).with_name("mock-deviations.yaml"))
    assert devs and all(d.reason for d in devs)
