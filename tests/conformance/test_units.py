"""Unit tests of the suite's building blocks (no server needed).

Expectations come from the behaviour reference (Go formatting, path.Match rules) and the spec.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    # Go matches bytes: a star may stop inside a multi-byte character, and `?` there takes one byte.
    ("x*??", "x中", True),  # 3 bytes: the star skips one, `??` takes the other two
    ("x*??", "xé", False),  # 2 bytes: one left for `??` at best
    ("x*?", "xé", True),
    ("x?", "x中", True),  # at a character boundary `?` takes the whole character
    ("x??", "x中", False),
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


def test_cli_adds_package_and_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin is named with -p unless the installed entry point loads it (twice would fail)."""
    for installed in (False, True):
        monkeypatch.setattr(cli, "_plugin_installed", lambda installed=installed: installed)
        args = cli.build_args(["--target", "http://x:9092", "--quick"])
        assert (args[:2] == ["-p", "conformance.plugin"]) is not installed
        assert args.count("conformance.plugin") == (0 if installed else 1)
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
    assert isinstance(devs, list) and all(d.reason for d in devs)  # empty: the mock deviates nowhere


def _case(op_id: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
          query: dict[str, Any] | None = None) -> Any:
    """The parts of a schemathesis case that the fuzzer's safety net reads and rewrites."""
    from types import SimpleNamespace

    op = SimpleNamespace(definition=SimpleNamespace(raw={"operationId": op_id}), path=path)
    return SimpleNamespace(operation=op, path_parameters=params or {}, body=body, query=query)


def test_fuzzed_ids_stay_inside_the_run() -> None:
    """Every ID a generated request names gets the run's prefix, however it was generated."""
    from conformance.areas.test_schema import _sanitize

    c = _case("deleteUser", "/kapacitor/v1/users/{name}", params={"name": "admin"})
    _sanitize(c, "kcfp-")
    assert c.path_parameters == {"name": "kcfp-fz-admin"}  # a user name is an ID; a write: fuzz sub-prefix
    c = _case("getServiceTest", "/kapacitor/v1/service-tests/{name}", params={"name": "smtp"})
    _sanitize(c, "kcfp-")
    assert c.path_parameters == {"name": "smtp"}
    c = _case("deleteTask", "/kapacitor/v1/tasks/{id}", params={"id": 5})
    _sanitize(c, "kcfp-")
    assert c.path_parameters == {"id": "kcfp-fz-5"}  # a number is sent as text: prefixed too
    c = _case("deleteTask", "/kapacitor/v1/tasks/{id}", params={"id": "%2F..%2Fvictim"})
    _sanitize(c, "kcfp-")
    assert c.path_parameters == {"id": "kcfp-fz-_.._victim"}  # decoded as the server would, no `/`
    c = _case("getRecording", "/kapacitor/v1/recordings/{id}", params={"id": "0b63dff0-b29d"})
    _sanitize(c, "kcfp-", frozenset({"0b63dff0-b29d"}))
    assert c.path_parameters == {"id": "0b63dff0-b29d"}  # a server-made ID of this run, from a link
    c = _case("deleteTopic", "/kapacitor/v1/alerts/topics/{topic}", params={"topic": "kcfp-w-topic"})
    _sanitize(c, "kcfp-")
    assert c.path_parameters == {"topic": "kcfp-fz-w-topic"}  # a shared fixture is out of a write's reach
    c = _case("getTopic", "/kapacitor/v1/alerts/topics/{topic}", params={"topic": "kcfp-w-topic"})
    _sanitize(c, "kcfp-")
    assert c.path_parameters == {"topic": "kcfp-w-topic"}  # ... but a read may name it
    c = _case("createTask", "/kapacitor/v1/tasks", body={"id": "x", "template-id": "t"})
    _sanitize(c, "kcfp-")
    assert c.body["id"] == "kcfp-fz-x"
    c = _case("writePoints", "/kapacitor/v1/write", query={"db": "telegraf", "rp": "\x00", "precision": "s"})
    _sanitize(c, "kcfp-")
    assert c.query == {"db": "kcfp", "rp": "autogen", "precision": "s"}  # the run's own database
    c = _case("writePointsRoot", "/write", query=None)
    _sanitize(c, "kcfp-")
    assert c.query["db"] == "kcfp"
    c = _case("updateConfigElement", "/kapacitor/v1/config/{section}/{element}",
              params={"section": "influxdb", "element": "default"}, body={"set": {"urls": ["http://x"]}})
    _sanitize(c, "kcfp-")
    assert c.path_parameters["section"] == "kcfnosuch"  # an override of a real section is not undoable
    c = _case("runServiceTest", "/kapacitor/v1/service-tests/{name}", params={"name": "slack"}, body={})
    _sanitize(c, "kcfp-")
    assert c.path_parameters["name"] == "kcfnosuch"  # a real service test sends a real notification
    c = _case("createUser", "/kapacitor/v1/users", body={"name": "u", "password": "0", "type": "admin"})
    _sanitize(c, "kcfp-")
    assert c.body["name"] == "kcfp-fz-u" and c.body["password"] != "0"  # nobody can guess the password


def test_fuzzed_requests_avoid_known_crashes() -> None:
    """Inputs known to panic Kapacitor (a handler, or the whole process) are never sent."""
    from conformance.areas.test_schema import _sanitize
    from conformance.crashers import _INT64_MAX

    c = _case("createTopicHandler", "/kapacitor/v1/alerts/topics/{topic}/handlers",
              params={"topic": "kcfp-t"}, body={"id": "kcfp-h", "kind": "aggregate"})
    _sanitize(c, "kcfp-")
    assert c.body["kind"] != "aggregate"
    c = _case("patchTopicHandler", "/kapacitor/v1/alerts/topics/{topic}/handlers/{handler}",
              params={"topic": "kcfp-t", "handler": "kcfp-h"},
              body=[{"op": "replace", "path": "/kind", "value": "aggregate"}, {"op": "move", "path": True},
                    {"op": "test", "path": "kind"}, {"op": "remove"}])
    _sanitize(c, "kcfp-")
    assert c.body[0]["value"] != "aggregate"
    for op in c.body:
        assert isinstance(op["path"], str) and "/" in op["path"]
    assert isinstance(c.body[1]["from"], str) and "/" in c.body[1]["from"]
    c = _case("createTopicHandler", "/kapacitor/v1/alerts/topics/{topic}/handlers", params={"topic": "kcfp-t"},
              body=b'{"id": "kcfp-h", "kind": "aggregate"}')
    _sanitize(c, "kcfp-")
    assert b"aggregate" not in c.body
    c = _case("listTasks", "/kapacitor/v1/tasks", query={"offset": 5, "limit": _INT64_MAX})
    _sanitize(c, "kcfp-")
    assert c.query["offset"] + c.query["limit"] <= _INT64_MAX
    c = _case("listTemplates", "/kapacitor/v1/templates", query={"offset": -397438473, "limit": 2**60})
    _sanitize(c, "kcfp-")
    assert c.query["limit"] <= 100_000
    c = _case("createTask", "/kapacitor/v1/tasks",
              body={"id": "kcfp-x", "vars": {"v": {"type": "list", "value": [{"type": 1, "value": "a"}]},
                                             "w": {"type": None, "value": 1}}})
    _sanitize(c, "kcfp-")
    assert c.body["vars"]["v"]["value"][0]["type"] == "string" and c.body["vars"]["w"]["type"] == "string"
    for typ in (None, "nope", 3):
        c = _case("recordQuery", "/kapacitor/v1/recordings/query", body={"query": "SELECT 1", "type": typ})
        _sanitize(c, "kcfp-")
        assert c.body["type"] in ("stream", "batch")


def _unsupported() -> Exception:
    from schemathesis.core.errors import UnsupportedSchema

    return UnsupportedSchema.from_reason("a `not` whose complement is not spelled out, below the document root")


def test_stateful_exploration_survives_an_invalid_request_schemathesis_cannot_draw() -> None:
    """A real 1.5.7 run (seed 8008) ended `schema.stateful` with schemathesis' UnsupportedSchema for
    an invalid task body drawn along a link: a generator limit, not a finding. The sequences are
    explored again with valid requests only, and that is noted."""
    from conformance.areas.test_schema import _explore_links

    calls: list[bool] = []
    notes: list[str] = []

    def explore(positive_only: bool) -> None:
        calls.append(positive_only)
        if not positive_only:
            raise _unsupported()

    _explore_links(explore, [], notes.append)
    assert calls == [False, True]
    assert len(notes) == 1 and "valid requests only" in notes[0]


def test_stateful_exploration_keeps_a_failure_seen_before_the_generator_gave_up() -> None:
    from conformance.areas.test_schema import _explore_links
    from conformance.checks import CheckFailure

    seen = CheckFailure("GET /kapacitor/v1/tasks/{id}: response conforms to the spec", expected="200", actual="418")
    calls: list[bool] = []

    def explore(positive_only: bool) -> None:
        calls.append(positive_only)
        raise _unsupported()

    with pytest.raises(CheckFailure) as info:
        _explore_links(explore, [seen], lambda _text: None)
    assert info.value is seen and calls == [False]


def test_stateful_exploration_is_skipped_when_not_even_valid_requests_can_be_drawn() -> None:
    from conformance.areas.test_schema import _explore_links

    def explore(positive_only: bool) -> None:
        raise _unsupported()

    with pytest.raises(pytest.skip.Exception, match="cannot generate stateful sequences"):
        _explore_links(explore, [], lambda _text: None)


# ---- schema.stateful: which link-followed 404s are findings ---------------------------------------

def _trail_case(case_id: str, method: str, path: str) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(id=case_id, method=method, formatted_path=path, path_parameters={"topic": "t"})


def _trail_step(parent: str, method: str, path: str, applied: tuple[str, ...] = ("topic",)) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(transition=SimpleNamespace(parent_id=parent), case=_trail_case("next", method, path),
                           applied_parameters=[("path", name) for name in applied])


def _answer(status: int, body: bytes = b"") -> Exchange:
    return Exchange("GET", "http://x", [], None, status=status, body=body)


def _handler_created() -> Any:
    from conformance.areas.test_schema import _Trail

    trail = _Trail()
    href = b'{"link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/t/handlers/h"}, "id": "h"}'
    trail.record("createTopicHandler", _trail_case("c1", "POST", "/kapacitor/v1/alerts/topics/t/handlers"),
                 _answer(200, href))
    return trail


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/kapacitor/v1/alerts/topics/t/handlers/h"),   # the object itself
    ("PATCH", "/kapacitor/v1/alerts/topics/t/handlers/h"),
    ("GET", "/kapacitor/v1/alerts/topics/t"),              # what holds it
])
def test_a_404_where_the_create_said_the_object_is_a_finding(method: str, path: str) -> None:
    from conformance.checks import CheckFailure

    with pytest.raises(CheckFailure, match="the object just created"):
        _handler_created().check_link(_trail_step("c1", method, path), _answer(404))


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/kapacitor/v1/alerts/topics/t"),     # the router's fallback: names no handler, 404 on a real server
    ("PATCH", "/kapacitor/v1/alerts/topics/t"),
    ("GET", "/kapacitor/v1/alerts/topics/other"),
])
def test_a_404_of_something_else_a_link_leads_to_is_no_finding(method: str, path: str) -> None:
    _handler_created().check_link(_trail_step("c1", method, path), _answer(404))


def test_a_404_after_the_object_was_changed_is_no_finding() -> None:
    trail = _handler_created()
    trail.record("deleteTopicHandler", _trail_case("d1", "DELETE", "/kapacitor/v1/alerts/topics/t/handlers/h"),
                 _answer(204))
    trail.check_link(_trail_step("c1", "GET", "/kapacitor/v1/alerts/topics/t/handlers/h"), _answer(404))


@pytest.mark.parametrize(("expression", "value"), [
    ("$response.body#/id", "h1"),
    ("$response.body#/link/href", "/x"),
    ("$response.body#/a~1b", "slash"),
    ("$request.path.topic", "t"),
    ("$response.body#/missing", None),
    ("$response.body#/n", None),       # not a string: cannot name a path segment
    ("$request.query.limit", None),    # a form the spec's links do not use
])
def test_link_runtime_expressions(expression: str, value: str | None) -> None:
    from conformance.areas.test_schema import _runtime_value

    answer = {"id": "h1", "link": {"href": "/x"}, "a/b": "slash", "n": 3}
    assert _runtime_value(expression, answer, {"topic": "t"}) == value
