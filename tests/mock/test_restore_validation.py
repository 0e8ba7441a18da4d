"""`--restore` (and `/mock/seed`, `--data-dir`) check the whole backup before serving: a valid envelope
around structurally corrupt content is refused with one line naming the object and the field,
never a traceback at start-up and never a mock that 500s on the poisoned object later."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import cli
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.store import MockState
from mockserver.store.backup import BackupError, dumps, loads
from tests.mock.test_persistence import _exercise

CONFIG = MockConfig(kapacitor_version="1.6.2", auth=True, flux_tasks=True, run_delay=0.0)
ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}


def _rich_snapshot() -> dict[str, Any]:
    """A snapshot with objects of every family, made through the API."""
    state = MockState(CONFIG)
    client = falcon.testing.TestClient(create_app(CONFIG, state))
    _exercise(client)
    client.simulate_post("/mock/alerts/topics/top/events", json={"id": "e2", "level": "OK"}, headers=ADMIN)
    snapshot = state.snapshot()
    assert all(snapshot[f] for f in ("tasks", "recordings", "alerts", "configs", "users", "flux_tasks"))
    return json.loads(json.dumps(snapshot))  # what a backup file holds


SNAPSHOT = _rich_snapshot()


def _first(family: str, section: str, **match: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def get(snapshot: dict[str, Any]) -> dict[str, Any]:
        items = snapshot[family][section]
        return next(i for i in items if all(i.get(k) == v for k, v in match.items()))

    return get


def _set(getter: Callable[[dict[str, Any]], Any], key: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(snapshot: dict[str, Any]) -> None:
        getter(snapshot)[key] = value

    return mutate


def _delete(getter: Callable[[dict[str, Any]], Any], key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(snapshot: dict[str, Any]) -> None:
        del getter(snapshot)[key]

    return mutate


def _duplicate_first_task(snapshot: dict[str, Any]) -> None:
    snapshot["tasks"]["tasks"].append(copy.deepcopy(snapshot["tasks"]["tasks"][0]))


TASK = _first("tasks", "tasks", id="t0")
TEMPLATE = _first("tasks", "templates")
RECORDING = _first("recordings", "recordings")
TOPIC = _first("alerts", "topics", id="top")
HANDLER = _first("alerts", "handlers")
OVERRIDE = _first("configs", "overrides")
BOB = _first("users", "users", name="bob")
FLUX = _first("flux_tasks", "tasks")


def _event(snapshot: dict[str, Any]) -> dict[str, Any]:
    return TOPIC(snapshot)["events"][0]  # type: ignore[no-any-return]


def _flux_history(snapshot: dict[str, Any]) -> dict[str, Any]:
    return snapshot["flux_tasks"]["history"]  # type: ignore[no-any-return]


#: (case, corruption, the object named, the field named)
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("task created is text", _set(TASK, "created", "yesterday"), "tasks.tasks[0] (id 't0')", "'created'"),
    ("task created out of range", _set(TASK, "created", 10**30), "(id 't0')", "'created'"),
    ("task modified is a float", _set(TASK, "modified", 1.5), "(id 't0')", "'modified'"),
    ("task without script", _delete(TASK, "script"), "(id 't0')", "missing field 'script'"),
    ("task script does not parse", _set(TASK, "script", "stream|from("), "(id 't0')", "'script'"),
    ("task status unknown", _set(TASK, "status", "running"), "(id 't0')", "'status'"),
    ("task type unknown", _set(TASK, "type", "flux"), "(id 't0')", "'type'"),
    ("task dbrp not a pair", _set(TASK, "dbrps", [["db"]]), "(id 't0')", "'dbrps'"),
    ("task var of unknown type", _set(TASK, "vars", {"x": {"type": "nope", "value": 1}}), "(id 't0')", "'vars'"),
    ("task id invalid", _set(TASK, "id", "bad id!"), "tasks.tasks[0]", "'id'"),
    ("task id twice", _duplicate_first_task, "(id 't0')", "duplicate id"),
    ("task unknown field", _set(TASK, "colour", "red"), "(id 't0')", "unknown field 'colour'"),
    ("template tasks not a list", _set(TEMPLATE, "tasks", "t1"), "tasks.templates[0]", "'tasks'"),
    (
        "recording progress above 1",
        _set(RECORDING, "progress", 2.5),
        "recordings.recordings[0] (id 'rec')",
        "'progress'",
    ),
    ("recording status unknown", _set(RECORDING, "status", "done"), "(id 'rec')", "'status'"),
    ("event level unknown", lambda s: _event(s).update(level="FATAL"), "alerts.topics[", "'level'"),
    ("event time is text", lambda s: _event(s).update(time="now"), "events[0]", "'time'"),
    ("topic collected negative", _set(TOPIC, "collected", -1), "(id 'top')", "'collected'"),
    ("handler without topic", _delete(HANDLER, "topic"), "alerts.handlers[0]", "missing field 'topic'"),
    ("handler options a list", _set(HANDLER, "options", [1, 2]), "alerts.handlers[0]", "'options'"),
    ("override create is text", _set(OVERRIDE, "create", "yes"), "configs.overrides[0]", "'create'"),
    ("user salt not hex", _set(BOB, "salt", "zz"), "users.users[", "'salt'"),
    ("user hash truncated", _set(BOB, "hash", "abc"), "(name 'bob')", "'hash'"),
    ("user privilege unknown", _set(BOB, "privileges", {"/api": "root"}), "(name 'bob')", "'privileges'"),
    ("user name invalid", _set(BOB, "name", ""), "users.users[", "'name'"),
    ("flux task id not hex", _set(FLUX, "id", "xyz"), "flux_tasks.tasks[0]", "'id'"),
    ("flux task created_at null", _set(FLUX, "created_at", None), "flux_tasks.tasks[0]", "'created_at'"),
    ("flux last_id text", lambda s: s["flux_tasks"].update(last_id="12"), "flux_tasks.last_id", "integer"),
    ("flux history key", lambda s: _flux_history(s).update(nothex=[]), "flux_tasks.history", "'nothex'"),
    ("unknown family", lambda s: s.update(bogus={}), "unknown state family", "'bogus'"),
    ("family not an object", lambda s: s.update(tasks=[]), "tasks", "expected an object"),
    ("section not a list", lambda s: s["users"].update(users={"bob": {}}), "users.users", "expected a list"),
]


def test_there_are_at_least_16_cases() -> None:
    assert len(CASES) >= 16


def test_the_rich_snapshot_itself_is_accepted() -> None:
    assert loads(dumps(SNAPSHOT)) == SNAPSHOT


@pytest.mark.parametrize(("case", "corrupt", "obj", "field"), CASES, ids=[c[0] for c in CASES])
def test_restore_refuses_corrupt_content_with_one_line(
    case: str,
    corrupt: Callable[[dict[str, Any]], None],
    obj: str,
    field: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot = copy.deepcopy(SNAPSHOT)
    corrupt(snapshot)
    path = tmp_path / "backup.db"
    path.write_bytes(dumps(snapshot))
    monkeypatch.setattr("waitress.server.create_server", lambda *a, **k: pytest.fail("the mock started"))
    args = ["--port", "1", "--auth", "--shared-secret", "s3cret", "--flux-tasks", "--kapacitor-version", "1.6.2"]
    assert cli.main([*args, "--restore", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"kapacitor-mock: cannot restore {path}: invalid"), err
    assert obj in err and field in err, err


@pytest.mark.parametrize(("case", "corrupt", "obj", "field"), CASES[:6], ids=[c[0] for c in CASES[:6]])
def test_seed_over_http_refuses_the_same(
    case: str, corrupt: Callable[[dict[str, Any]], None], obj: str, field: str
) -> None:
    state = MockState(CONFIG)
    client = falcon.testing.TestClient(create_app(CONFIG, state))
    before = state.snapshot()
    snapshot = copy.deepcopy(SNAPSHOT)
    corrupt(snapshot)
    result = client.simulate_post("/mock/seed", body=dumps(snapshot), headers=ADMIN)
    assert result.status_code == 400 and obj in result.json["error"] and field in result.json["error"]
    assert state.snapshot() == before


# ---- whatever passes the check can be served: no 500 on any object afterwards --------------------


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] or [path]
    return [path]


LEAVES = [p for p in _leaves(SNAPSHOT) if p]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _served_without_500(snapshot: dict[str, Any]) -> None:
    state = MockState(CONFIG)
    state.restore(snapshot)
    client = falcon.testing.TestClient(create_app(CONFIG, state))
    base = "/kapacitor/v1"
    paths = [f"{base}/tasks", f"{base}/templates", f"{base}/recordings", f"{base}/replays", f"{base}/alerts/topics",
             f"{base}/config", f"{base}/users", f"{base}/api/v2/tasks", f"{base}/storage/backup"]  # fmt: skip
    for family, section, route in (("tasks", "tasks", "tasks"), ("tasks", "templates", "templates"),
                                   ("recordings", "recordings", "recordings"), ("recordings", "replays", "replays"),
                                   ("users", "users", "users")):  # fmt: skip
        for item in snapshot.get(family, {}).get(section) or []:
            key = item.get("id", item.get("name"))
            paths.append(f"{base}/{route}/{key}")
    for topic in snapshot.get("alerts", {}).get("topics") or []:
        paths += [f"{base}/alerts/topics/{topic['id']}", f"{base}/alerts/topics/{topic['id']}/events",
                  f"{base}/alerts/topics/{topic['id']}/handlers"]  # fmt: skip
    for path in paths:
        result = client.simulate_get(path, headers=ADMIN)
        assert result.status_code < 500 or "internal mock error" not in result.text, (path, result.text)
    for user in snapshot.get("users", {}).get("users") or []:
        token = base64.b64encode(f"{user['name']}:pw".encode()).decode()
        assert client.simulate_get(f"{base}/ping", headers={"Authorization": "Basic " + token}).status_code < 500
    assert state.internal_errors == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(LEAVES), value=JSON)
def test_a_snapshot_either_is_refused_or_serves_without_500(where: tuple[Any, ...], value: Any) -> None:
    snapshot = copy.deepcopy(SNAPSHOT)
    target: Any = snapshot
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    try:
        loads(dumps(snapshot))
    except BackupError:
        return
    _served_without_500(snapshot)


def test_edge_content_the_mock_itself_makes_is_accepted() -> None:
    """No false refusal: vars of every type, the zero and the last representable time, odd topics."""
    state = MockState()
    client = falcon.testing.TestClient(create_app(state.config, state))
    script = ("var d = 5m\nvar l = lambda: \"x\" > 1\nvar r = /ab+/\nvar li = ['a', 'b']\nvar st = *\nvar f = 1.5\n"
              "var i = 3\nvar b = TRUE\nvar s = 'q'\nstream|from().measurement('m')|window().period(d)")  # fmt: skip
    assert (
        client.simulate_post(
            "/kapacitor/v1/templates", json={"id": "tp", "type": "stream", "script": script}
        ).status_code
        == 200
    )
    task_vars = {"d": {"type": "duration", "value": "10s"}, "l": {"type": "lambda", "value": '"y" < 2'},
                 "r": {"type": "regex", "value": "^c"}, "li": {"type": "list", "value": [{"type": "string", "value": "z"}]},
                 "f": {"type": "float", "value": 2.5}, "i": {"type": "int", "value": 7},
                 "b": {"type": "bool", "value": False}, "s": {"type": "string", "value": "w"}, "st": {"type": "star"}}  # fmt: skip
    body = {"id": "t", "template-id": "tp", "dbrps": [{"db": "a", "rp": "b"}], "vars": task_vars}
    assert client.simulate_post("/kapacitor/v1/tasks", json=body).status_code == 200
    for topic, event in (("main:t:alert2", {"id": "e", "time": "0001-01-01T00:00:00Z", "duration": "-5s"}),
                         ("x", {"id": "e", "time": "9999-12-31T23:59:59.999999999Z", "level": "WARNING"})):  # fmt: skip
        assert client.simulate_post(f"/mock/alerts/topics/{topic}/events", json=event).status_code == 200
    snapshot = json.loads(json.dumps(state.snapshot()))
    assert loads(dumps(snapshot)) == snapshot
