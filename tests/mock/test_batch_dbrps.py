"""A batch task's queries may only read the task's own dbrps (task.go checkDBRPs), as a real 1.5.7
answers: enabling it is a 500, a batch recording and a batch replay of it fail."""

from __future__ import annotations

import time

import pytest

from mockserver.store.influxql_source import query_dbrps
from tests.mock.conftest import Api

T = "/kapacitor/v1/tasks"
QUERY = """batch|query('SELECT mean(v) FROM "db"."rp"."cpu"').period(1m).every(1m)"""
REFUSED = 'batch query is not allowed to request data from "db"."rp"'
WINDOW = {"start": "2020-01-01T00:00:00Z", "stop": "2020-01-01T00:01:00Z"}


def _task(api: Api, dbrps: list[dict[str, str]], **extra: str) -> int:
    return api.post(T, {"id": "bq", "script": QUERY, "dbrps": dbrps, **extra}).status


def _finished(api: Api, path: str) -> dict[str, object]:
    for _ in range(200):
        body = api.get(path).json
        if body["status"] != "running":
            return dict(body)
        time.sleep(0.01)
    raise AssertionError(f"{path} still running")


def test_enabling_a_batch_task_outside_its_dbrps_fails(api: Api) -> None:
    assert _task(api, [{"db": "x", "rp": "y"}]) == 200
    resp = api.patch(f"{T}/bq", {"status": "enabled"})
    assert (resp.status, resp.json["error"]) == (500, REFUSED)
    got = api.get(f"{T}/bq").json
    assert (got["status"], got["executing"], got["error"]) == ("enabled", False, REFUSED)


def test_created_enabled_outside_its_dbrps(api: Api) -> None:
    resp = api.post(T, {"id": "bq", "script": QUERY, "dbrps": [{"db": "", "rp": "x"}], "status": "enabled"})
    assert (resp.status, resp.json["error"]) == (500, REFUSED)


def test_a_batch_task_inside_its_dbrps_starts(api: Api) -> None:
    assert _task(api, [{"db": "x", "rp": "y"}, {"db": "db", "rp": "rp"}], status="enabled") == 200
    assert api.get(f"{T}/bq").json["executing"] is True


def test_batch_recording_and_replay_outside_the_dbrps_fail(api: Api) -> None:
    assert _task(api, [{"db": "x", "rp": "y"}]) == 200
    assert api.post("/kapacitor/v1/recordings/batch", {"id": "br", "task": "bq", **WINDOW}).status == 201
    rec = _finished(api, "/kapacitor/v1/recordings/br")
    assert (rec["status"], rec["error"], rec["size"]) == ("failed", REFUSED, -1)
    assert api.post("/kapacitor/v1/replays/batch", {"id": "rb", "task": "bq", **WINDOW}).status == 201
    rep = _finished(api, "/kapacitor/v1/replays/rb")
    assert (rep["status"], rep["error"]) == ("failed", f"running replay: {REFUSED}")


@pytest.mark.parametrize(("query", "dbrps"), [
    ('SELECT mean(v) FROM "db"."rp"."cpu"', [("db", "rp")]),
    ("SELECT * FROM db.rp.cpu, rp2.mem, disk", [("db", "rp"), ("", "rp2"), ("", "")]),
    ('SELECT v FROM "d\\"b"..m WHERE x = 1', [('d"b', "")]),
    ("SELECT v FROM /re/", None),  # left to the real parser
    ("SHOW DATABASES", None),
])
def test_query_dbrps(query: str, dbrps: list[tuple[str, str]] | None) -> None:
    assert query_dbrps(query) == dbrps
