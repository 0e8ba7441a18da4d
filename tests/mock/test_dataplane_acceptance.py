"""The kapacitor-unit flow over HTTP: an enabled stream task with an alert runs on written points.

A task is created enabled, two points are written, and everything a test runner looks at is
checked: the alert node's stats (`crits_triggered`), the anonymous topic's event, the log
handler's JSON line. Bad data gives a node error, never a 500.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from tests.mock.conftest import Api, check

T = "/kapacitor/v1/tasks"
W = "/kapacitor/v1/write"


def _script(log_path: Path) -> str:
    return (
        "stream\n    |from()\n        .measurement('cpu')\n    |alert()\n"
        f"        .crit(lambda: \"usage_idle\" < 10)\n        .log('{log_path}')\n"
    )


def _create(api: Api, task_id: str, script: str, **extra: Any) -> dict[str, Any]:
    body = {"id": task_id, "type": "stream", "dbrps": [{"db": "telegraf", "rp": "autogen"}],
            "script": script, "status": "enabled", **extra}
    return check(api.post(T, body), "createTask", 200).json


def _write(api: Api, lines: str, path: str = W, **params: str) -> None:
    query = {"db": "telegraf", "rp": "autogen", **params}
    resp = api.request("POST", path, params=query, body=lines)
    assert resp.status == 204, (resp.status, resp.body)


def test_kapacitor_unit_flow(api: Api, tmp_path: Path) -> None:
    log_path = tmp_path / "alerts.log"
    _create(api, "cpu_alert", _script(log_path))
    _write(api, "cpu usage_idle=50 1000000000\n")
    _write(api, "cpu usage_idle=5 2000000000\n", path="/write")

    task = check(api.get(f"{T}/cpu_alert"), "getTask", 200).json
    assert task["executing"] is True
    alert = task["stats"]["node-stats"]["alert2"]
    assert alert["crits_triggered"] == 1
    assert alert["alerts_triggered"] == 1
    assert alert["collected"] == 2
    assert alert["errors"] == 0
    assert task["stats"]["node-stats"]["from1"]["emitted"] == 2
    assert task["stats"]["node-stats"]["stream0"]["collected"] == 2

    events = api.get("/kapacitor/v1/alerts/topics/main:cpu_alert:alert2/events").json
    assert [e["id"] for e in events["events"]] == ["cpu:nil"]
    state = events["events"][0]["state"]
    assert state["level"] == "CRITICAL"
    assert state["message"] == "cpu:nil is CRITICAL"
    assert state["time"] == "1970-01-01T00:00:02Z"

    lines = log_path.read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["id"] == "cpu:nil"
    assert entry["level"] == "CRITICAL"
    assert entry["previousLevel"] == "OK"
    assert entry["data"]["series"] == [
        {"name": "cpu", "columns": ["time", "usage_idle"], "values": [["1970-01-01T00:00:02Z", 5]]}
    ]


def test_wrong_type_is_a_node_error_not_a_500(api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _create(api, "typed", _script(tmp_path / "a.log"))
    with caplog.at_level(logging.ERROR, logger="kapacitor-mock.engine"):
        _write(api, 'cpu usage_idle="high" 1000000000\n')
    _write(api, "cpu usage_idle=5 2000000000\n")
    stats = check(api.get(f"{T}/typed"), "getTask", 200).json["stats"]["node-stats"]["alert2"]
    assert stats["errors"] == 1
    assert stats["crits_triggered"] == 1
    assert api.state.internal_errors == 0
    assert [r.getMessage() for r in caplog.records] == [
        'lvl=error msg="error evaluating expression for level" service=kapacitor task_master=main task=typed '
        'node=alert2 err="mismatched type to binary operator. got string < int. see bool(), int(), float(), '
        'string(), duration()" level=CRITICAL'
    ]


def test_disabled_task_drops_state_and_topic(api: Api, tmp_path: Path) -> None:
    _create(api, "t", _script(tmp_path / "a.log"))
    _write(api, "cpu usage_idle=5 1000000000\n")
    assert api.get("/kapacitor/v1/alerts/topics/main:t:alert2/events").status == 200
    check(api.patch(f"{T}/t", {"status": "disabled"}), "updateTask", 200)
    resp = api.get("/kapacitor/v1/alerts/topics/main:t:alert2/events")
    assert resp.status == 500
    assert resp.json["error"] == 'failed to get topic events: unknown topic "main:t:alert2"'
    check(api.patch(f"{T}/t", {"status": "enabled"}), "updateTask", 200)
    stats = api.get(f"{T}/t").json["stats"]["node-stats"]["alert2"]
    assert stats["collected"] == 0 and stats["crits_triggered"] == 0


def test_points_of_other_dbrps_and_measurements_do_not_reach_the_task(api: Api, tmp_path: Path) -> None:
    _create(api, "t", _script(tmp_path / "a.log"))
    _write(api, "cpu usage_idle=5 1000000000\n", rp="other")
    _write(api, "mem usage_idle=5 1000000000\n")
    resp = api.request("POST", W, params={"db": "other", "rp": "autogen"}, body="cpu usage_idle=5 1\n")
    assert resp.status == 204
    stats = api.get(f"{T}/t").json["stats"]["node-stats"]
    assert stats["stream0"]["collected"] == 0


def test_window_mean_http_out(api: Api) -> None:
    script = (
        "stream\n    |from()\n        .measurement('cpu')\n        .groupBy('host')\n"
        "    |window()\n        .period(10s)\n        .every(10s)\n    |mean('v')\n    |httpOut('out')\n"
    )
    _create(api, "w", script)
    assert api.get(f"{T}/w/out").body == b'{"series":null}'
    lines = "".join(f"cpu,host=a v={i} {i}000000000\n" for i in range(0, 12))
    _write(api, lines)
    body = api.get(f"{T}/w/out")
    assert body.status == 200
    assert body.body == (
        b'{"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","mean"],'
        b'"values":[["1970-01-01T00:00:10Z",4.5]]}]}'
    )
    stats = api.get(f"{T}/w").json["stats"]["node-stats"]
    assert stats["window2"]["emitted"] == 1
    assert stats["window2"]["working_cardinality"] == 1
    assert stats["mean3"]["emitted"] == 1
    assert stats["http_out4"]["collected"] == 1


def test_executing_dot_carries_the_counts(api: Api, tmp_path: Path) -> None:
    _create(api, "d", _script(tmp_path / "a.log"))
    _write(api, "cpu usage_idle=5 1000000000\n")
    dot = api.get(f"{T}/d").json["dot"]
    assert 'stream0 -> from1 [processed="1"];' in dot
    assert 'from1 -> alert2 [processed="1"];' in dot
    assert 'crits_triggered="1"' in dot


def test_stream_recording_replays_through_the_task(api: Api) -> None:
    script = ("stream\n    |from()\n        .measurement('cpu')\n    |window()\n        .period(4s)\n"
              "        .every(4s)\n    |mean('v')\n    |alert()\n        .crit(lambda: \"mean\" > 5)\n")
    check(api.post(T, {"id": "rt", "dbrps": [{"db": "telegraf", "rp": "autogen"}], "script": script}),
          "createTask", 200)
    rec = api.post("/kapacitor/v1/recordings/stream", {"id": "rec", "task": "rt", "stop": "1970-01-01T00:00:20Z"})
    assert rec.status == 201, rec.body
    _write(api, "".join(f"cpu v={(t * 3) % 11} {t}000000000\n" for t in range(25)))
    assert api.get("/kapacitor/v1/recordings/rec").json["status"] == "finished"
    rep = api.post("/kapacitor/v1/replays", {"id": "rep", "task": "rt", "recording": "rec", "recording-time": True})
    assert rep.status == 201, rep.body
    for _ in range(200):
        replay = api.get("/kapacitor/v1/replays/rep").json
        if replay["status"] != "running":
            break
        time.sleep(0.01)
    stats = replay["stats"]["node-stats"]
    assert stats["stream0"]["collected"] == 21  # the points up to `stop`
    assert stats["window2"]["emitted"] == 5
    assert stats["alert4"]["collected"] == 5
    # A disabled task runs only in its replay: the task itself saw nothing.
    assert api.get(f"{T}/rt").json["stats"] == {}


INFLUX_OUT = "stream\n    |from()\n        .measurement('cpu')\n    |influxDBOut()\n        .database('out')\n" \
             "        .retentionPolicy('autogen')\n        .tag('via', 'kapacitor')\n"


def test_influxdb_out_without_influxdb_fails_to_start_like_the_server(api: Api) -> None:
    body = {"id": "io", "dbrps": [{"db": "telegraf", "rp": "autogen"}], "script": INFLUX_OUT, "status": "enabled"}
    resp = api.post(T, body)
    assert resp.status == 500
    assert resp.json["error"] == "failed to get InfluxDB client: no such InfluxDB config "
    task = check(api.get(f"{T}/io"), "getTask", 200).json
    assert (task["status"], task["executing"], task["stats"]) == ("enabled", False, {})
    assert task["error"] == "failed to get InfluxDB client: no such InfluxDB config "
    assert task["dot"] == "digraph io {\nstream0 -> from1;\nfrom1 -> influxdb_out2;\n}"
    assert api.patch(f"{T}/io", {"status": "enabled"}).status == 500
    check(api.patch(f"{T}/io", {"status": "disabled"}), "updateTask", 200)


def test_influxdb_sink_keeps_what_influxdb_out_writes(make_api: Any) -> None:
    api = make_api(influxdb_sink=True)
    body = {"id": "io", "dbrps": [{"db": "telegraf", "rp": "autogen"}], "script": INFLUX_OUT, "status": "enabled"}
    check(api.post(T, body), "createTask", 200)
    _write(api, "cpu,host=a v=1.5 1000000000\ncpu,host=b v=2 2000000000\n")
    stats = api.get(f"{T}/io").json["stats"]["node-stats"]["influxdb_out2"]
    assert (stats["collected"], stats["points_written"], stats["write_errors"]) == (2, 2, 0)
    got = api.get("/mock/influxdb/out").json
    assert got == {"database": "out", "points": [
        {"measurement": "cpu", "tags": {"host": "a", "via": "kapacitor"}, "fields": {"v": 1.5},
         "time": "1970-01-01T00:00:01Z"},
        {"measurement": "cpu", "tags": {"host": "b", "via": "kapacitor"}, "fields": {"v": 2.0},
         "time": "1970-01-01T00:00:02Z"},
    ]}
    assert api.get("/mock/influxdb/out", params={"rp": "other"}).json["points"] == []


def test_reenabled_task_restores_its_topic_events_and_alert_state(api: Api, tmp_path: Path) -> None:
    _create(api, "re", _script(tmp_path / "a.log"))
    _write(api, "cpu usage_idle=5 1000000000\n")
    check(api.patch(f"{T}/re", {"status": "disabled"}), "updateTask", 200)
    check(api.patch(f"{T}/re", {"status": "enabled"}), "updateTask", 200)
    events = api.get("/kapacitor/v1/alerts/topics/main:re:alert2/events").json["events"]
    assert [(e["id"], e["state"]["level"], e["state"]["time"]) for e in events] == [
        ("cpu:nil", "CRITICAL", "1970-01-01T00:00:01Z")]
    _write(api, "cpu usage_idle=5 2000000000\n")
    state = api.get("/kapacitor/v1/alerts/topics/main:re:alert2/events").json["events"][0]["state"]
    assert state["duration"] == "1s"  # the restored CRITICAL started at 1s
    api.delete(f"{T}/re")
    _create(api, "re", _script(tmp_path / "a.log"))  # a deleted task's states are gone
    assert api.get("/kapacitor/v1/alerts/topics/main:re:alert2/events").json["events"] == []


def test_task_refused_at_start_does_not_run(api: Api, tmp_path: Path) -> None:
    """A lambda that fails the start-up type check leaves the task stored, enabled and idle: points
    written afterwards reach no node and raise no alert (as on the real server)."""
    script = _script(tmp_path / "alerts.log").replace('"usage_idle" < 10', "'usage_idle' < 10")
    body = {"id": "bad_alert", "type": "stream", "dbrps": [{"db": "telegraf", "rp": "autogen"}],
            "script": script, "status": "enabled"}
    resp = api.post(T, body)
    assert resp.status == 500, (resp.status, resp.body)
    assert "mismatched type to binary operator" in resp.json["error"]
    _write(api, "cpu usage_idle=5 1000000000\n")
    task = check(api.get(f"{T}/bad_alert"), "getTask", 200).json
    assert task["status"] == "enabled" and task["executing"] is False
    assert task["stats"] == {}
    assert api.get("/kapacitor/v1/alerts/topics/main:bad_alert:alert2").status == 404
    assert not (tmp_path / "alerts.log").exists()


def test_replay_alerts_reach_named_topics_and_handlers(api: Api, tmp_path: Path) -> None:
    """As on a real 1.5.7: a replay runs the task in its own task master, whose alert nodes publish
    to `.topic()` topics and run handlers through an anonymous topic that goes with the replay."""
    log = tmp_path / "replay.log"
    script = ("stream\n    |from()\n        .measurement('cpu')\n    |alert()\n        .crit(lambda: \"v\" > 5)\n"
              f"        .topic('replayed')\n        .log('{log}')\n")
    check(api.post(T, {"id": "rt", "dbrps": [{"db": "telegraf", "rp": "autogen"}], "script": script}),
          "createTask", 200)
    rec = api.post("/kapacitor/v1/recordings/stream", {"id": "rec", "task": "rt", "stop": "1970-01-01T00:00:05Z"})
    assert rec.status == 201, rec.body
    _write(api, "".join(f"cpu v={v} {t}000000000\n" for t, v in enumerate([1, 9, 8, 2, 7, 3, 9])))
    rep = api.post("/kapacitor/v1/replays", {"id": "rep", "task": "rt", "recording": "rec", "recording-time": True})
    assert rep.status == 201, rep.body
    for _ in range(200):
        if api.get("/kapacitor/v1/replays/rep").json["status"] != "running":
            break
        time.sleep(0.01)
    topics = [t["id"] for t in api.get("/kapacitor/v1/alerts/topics").json["topics"]]
    assert topics == ["replayed"]  # neither rep:rt:alert2 nor main:rt:alert2 stays
    events = api.get("/kapacitor/v1/alerts/topics/replayed/events").json["events"]
    # The recording ends with the point at `stop` (t=5s, v=3): a recovery. What a 1.5.7 answered:
    assert [(e["id"], e["state"]["level"], e["state"]["time"]) for e in events] == [
        ("cpu:nil", "OK", "1970-01-01T00:00:05Z")]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(line["level"], line["time"]) for line in lines] == [
        ("CRITICAL", "1970-01-01T00:00:01Z"), ("CRITICAL", "1970-01-01T00:00:02Z"), ("OK", "1970-01-01T00:00:03Z"),
        ("CRITICAL", "1970-01-01T00:00:04Z"), ("OK", "1970-01-01T00:00:05Z")]
