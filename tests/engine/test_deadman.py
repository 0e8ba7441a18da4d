"""Stats and deadman nodes on an injected clock: ticks, rounding, per-group counts, alerts.

The expectations follow stats.go, node.go (`nodeStatsByGroup`), pipeline/node.go (`Deadman`) and
what a real 1.5.7 showed for the same timelines (node names, counts, ids, messages); no test
sleeps, the mock state's clock is moved by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.engine.stats import MAX_TICKS
from mockserver.gotime import go_round, go_truncate
from mockserver.store import MockState
from mockserver.store.lineprotocol import parse_points
from tests.mock.test_recordings import Clock, clocked_api

SEC = 1_000_000_000
#: A multiple of every interval used here (2s, 1s): the ticks of an aligned stats node fall on it.
B = 1_796_203_634 * SEC


def _start(script: str, clock: Clock, task_id: str = "t") -> MockState:
    state = MockState(clock=clock)
    state.tasks.create_task({"id": task_id, "script": script, "dbrps": [("db", "rp")], "status": "enabled"})
    state.engine.reconcile()  # the task starts now, as an enabled create starts it on the server
    return state


def _write_at(state: MockState, clock: Clock, t: int, lines: str) -> None:
    clock.now = t
    state.engine.write("db", "rp", parse_points(lines.encode(), t, "n"))


def _node_stats(state: MockState, task_id: str = "t") -> dict[str, Any]:
    stats = state.engine.stats(state.tasks.get_task(task_id))
    assert stats is not None
    return stats["node-stats"]


def _counts(stats: dict[str, Any], *keys: str) -> dict[str, tuple[int, ...]]:
    return {name: tuple(s.get(k, -1) for k in keys) for name, s in stats.items()}


def _deadman(log: Path, threshold: str = "2.0", extra: str = "") -> str:
    return (f"stream\n    |from()\n        .measurement('m')\n    |deadman({threshold}, 2s)\n"
            f"        .log('{log}')\n{extra}")


def _log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize(
    ("t", "d", "truncated", "rounded"),
    [  # time.Unix(...).Truncate/Round in Go 1.19: on the absolute clock, halfway rounds up
        (0, 7 * SEC, -4 * SEC, 3 * SEC),
        (10 * SEC, 7 * SEC, 10 * SEC, 10 * SEC),
        (B + 360_000_000, 2 * SEC, B, B),
        (B + SEC, 2 * SEC, B, B + 2 * SEC),
        (B - 1, 7 * SEC, B - 5 * SEC, B + 2 * SEC),
    ],
)
def test_go_time_truncate_and_round(t: int, d: int, truncated: int, rounded: int) -> None:
    assert (go_truncate(t, d), go_round(t, d)) == (truncated, rounded)


def test_deadman_shape_counts_and_messages(tmp_path: Path) -> None:
    log = tmp_path / "dm.log"
    clock = Clock(B + 300_000_000)
    state = _start(_deadman(log), clock)
    # 4 points before the first tick (B+2s), 4 more before the second (B+4s)
    for ms in (500, 750, 1000, 1250, 2500, 2750, 3000, 3250):
        _write_at(state, clock, B + ms * 1_000_000, "m v=1")
    clock.now = B + 8 * SEC + 500_000_000
    stats = _node_stats(state)
    assert sorted(stats) == ["alert5", "derivative4", "from1", "noop3", "stats2", "stream0"]
    assert _counts(stats, "collected", "emitted") == {
        "stream0": (8, 8), "from1": (8, 8), "noop3": (8, 0), "stats2": (0, 4), "derivative4": (4, 3),
        "alert5": (3, 0),
    }  # fmt: skip
    assert (stats["alert5"]["crits_triggered"], stats["alert5"]["alerts_triggered"]) == (3, 3)
    assert (stats["derivative4"]["working_cardinality"], stats["stats2"]["working_cardinality"]) == (1, 0)
    lines = _log_lines(log)
    # The first rate spans the rounded start (B) to B+4s: 4 points over two intervals.
    assert [line["message"] for line in lines] == [
        "nil:from1 for task 't' is dead: 2.000 points/2s.",
        "nil:from1 for task 't' is dead: 0.000 points/2s.",
        "nil:from1 for task 't' is dead: 0.000 points/2s.",
    ]
    assert [(line["time"], line["duration"], line["level"]) for line in lines] == [
        ("2026-12-02T09:27:18Z", 0, "CRITICAL"), ("2026-12-02T09:27:20Z", 2 * SEC, "CRITICAL"),
        ("2026-12-02T09:27:22Z", 4 * SEC, "CRITICAL"),
    ]  # fmt: skip
    assert lines[0]["data"]["series"] == [
        {"name": "stats", "columns": ["time", "emitted"], "values": [["2026-12-02T09:27:18Z", 2]]}]
    event = state.alerts.event_state("main:t:alert5", "nil:from1 for task 't'")
    assert event is not None and event.level == 3 and event.time == B + 8 * SEC


def test_a_start_past_the_half_interval_rounds_the_first_tick_up(tmp_path: Path) -> None:
    log = tmp_path / "dm.log"
    clock = Clock(B + 1_200_000_000)  # rounds to B+2s: the first two ticks are one interval apart
    state = _start(_deadman(log, "0.5"), clock)
    _write_at(state, clock, B + 1_500_000_000, "m v=1")
    _write_at(state, clock, B + 2_500_000_000, "m v=1")
    clock.now = B + 4 * SEC
    assert [line["message"] for line in _log_lines(log)] == []  # 1 point per interval: alive, never alerted
    clock.now = B + 6 * SEC
    _node_stats(state)
    assert [line["message"] for line in _log_lines(log)] == ["nil:from1 for task 't' is dead: 0.000 points/2s."]


def test_nothing_ticks_before_the_first_boundary_nor_after_a_stop(tmp_path: Path) -> None:
    clock = Clock(B + 300_000_000)
    state = _start(_deadman(tmp_path / "dm.log"), clock)
    clock.now = B + 2 * SEC - 1
    assert _node_stats(state)["stats2"]["emitted"] == 0
    clock.now = B + 2 * SEC
    assert _node_stats(state)["stats2"]["emitted"] == 1
    rt = state.engine.runtime("t")
    assert rt is not None
    rt.stop()
    clock.now = B + 20 * SEC
    rt.advance(clock.now)
    assert rt.stats()["node-stats"]["stats2"]["emitted"] == 1


def test_groups_tick_separately_and_only_the_silent_one_dies(tmp_path: Path) -> None:
    log = tmp_path / "dm.log"
    clock = Clock(B + 300_000_000)
    script = ("stream\n    |from()\n        .measurement('cpu')\n        .groupBy('host')\n"
              f"    |deadman(0.0, 2s)\n        .stateChangesOnly()\n        .log('{log}')\n")
    state = _start(script, clock)
    for k in range(5):
        lines = "cpu,host=a v=1\ncpu,host=b v=1" if k < 2 else "cpu,host=a v=1"
        _write_at(state, clock, B + k * 2 * SEC + 800_000_000, lines)
    clock.now = B + 11 * SEC
    stats = _node_stats(state)
    # 5 ticks of two groups; the derivative drops each group's first point.
    assert _counts(stats, "collected", "emitted")["stats2"] == (0, 10)
    assert _counts(stats, "collected", "emitted")["derivative4"] == (10, 8)
    assert (stats["alert5"]["alerts_triggered"], stats["alert5"]["working_cardinality"]) == (1, 2)
    assert [(line["id"], line["level"]) for line in _log_lines(log)] == [("host=b:from1 for task 't'", "CRITICAL")]
    assert _log_lines(log)[0]["data"]["series"][0]["tags"] == {"host": "b"}


def test_chained_properties_override_the_generated_alert(tmp_path: Path) -> None:
    clock = Clock(B + 300_000_000)
    extra = ("        .quiet()\n        .id('dm-{{ .TaskName }}')\n        .topic('dead')\n"
             "        .message('{{ .ID }} {{ .Level }} {{ index .Fields \"emitted\" }}')\n"
             "        .warn(lambda: \"emitted\" <= 5.0)\n")
    state = _start(_deadman(tmp_path / "dm.log", "0.0", extra), clock)
    _write_at(state, clock, B + 2_500_000_000, "m v=1\nm v=2\nm v=3")
    clock.now = B + 6 * SEC + 1
    stats = _node_stats(state)["alert5"]
    assert (stats["warns_triggered"], stats["crits_triggered"]) == (1, 1)
    event = state.alerts.event_state("dead", "dm-t")
    assert event is not None and (event.level, event.message) == (3, "dm-t CRITICAL 0")


def test_extra_lambdas_constrain_the_crit(tmp_path: Path) -> None:
    log = tmp_path / "dm.log"
    clock = Clock(B + 300_000_000)
    script = ("stream\n    |from()\n        .measurement('m')\n"
              f"    |deadman(10.0, 2s, lambda: hour(\"time\") > 23)\n        .log('{log}')\n")
    state = _start(script, clock)
    clock.now = B + 10 * SEC
    stats = _node_stats(state)
    assert (stats["derivative4"]["emitted"], stats["alert5"]["alerts_triggered"]) == (4, 0)  # 5 ticks by B+10s


def test_a_long_quiet_spell_replays_a_bounded_number_of_ticks(tmp_path: Path) -> None:
    clock = Clock(B + 300_000_000)
    script = ("stream\n    |from()\n        .measurement('m')\n    |deadman(0.0, 1s)\n"
              "        .stateChangesOnly()\n    |httpOut('o')\n")
    state = _start(script, clock)
    _write_at(state, clock, B + 500_000_000, "m v=1\nm v=2")
    clock.now = B + 7200 * SEC + 500_000_000
    stats = _node_stats(state)
    assert stats["stats2"]["emitted"] == MAX_TICKS
    assert stats["alert5"]["crits_triggered"] == 1
    _write_at(state, clock, B + 7200 * SEC + 600_000_000, "m v=1\nm v=2\nm v=3")
    clock.now = B + 7201 * SEC + 500_000_000
    stats = _node_stats(state)
    assert stats["stats2"]["emitted"] == MAX_TICKS + 1
    assert (stats["alert5"]["oks_triggered"], stats["alert5"]["emitted"]) == (1, 2)
    out = state.engine.http_out("t", "o")
    assert out is not None and json.loads(out)["series"][0]["values"] == [["2026-12-02T11:27:15Z", 3]]


def test_disable_and_enable_restart_the_counts(tmp_path: Path) -> None:
    clock = Clock(B + 300_000_000)
    state = _start(_deadman(tmp_path / "dm.log", "1.0"), clock)
    _write_at(state, clock, B + 800_000_000, "m v=1\nm v=1\nm v=1")
    clock.now = B + 7 * SEC
    assert _node_stats(state)["stats2"]["emitted"] == 3
    state.tasks.update_task("t", {"status": "disabled"})
    state.engine.reconcile()
    clock.now = B + 8_500_000_000
    state.tasks.update_task("t", {"status": "enabled"})
    state.engine.reconcile()
    clock.now = B + 12_500_000_000
    stats = _node_stats(state)
    assert _counts(stats, "collected", "emitted")["stats2"] == (0, 2)  # restarted at B+8.5s: ticks B+10s, B+12s
    assert (stats["from1"]["collected"], stats["derivative4"]["emitted"]) == (0, 1)


def test_stats_without_align_ticks_from_the_start(tmp_path: Path) -> None:
    clock = Clock(B + 300_000_000)
    script = ("stream\n    |from()\n        .measurement('m')\n        .groupBy('host')\n    |stats(2s)\n"
              "    |httpOut('s')\n")
    state = _start(script, clock)
    _write_at(state, clock, B + SEC, "m,host=a v=1\nm,host=b v=1\nm,host=b v=2")
    clock.now = B + 4_300_000_000
    out = state.engine.http_out("t", "s")
    assert out is not None
    assert json.loads(out) == {"series": [
        {"name": "stats", "tags": {"host": "a"}, "columns": ["time", "emitted"],
         "values": [["2026-12-02T09:27:18.3Z", 1]]},
        {"name": "stats", "tags": {"host": "b"}, "columns": ["time", "emitted"],
         "values": [["2026-12-02T09:27:18.3Z", 2]]},
    ]}  # fmt: skip
    assert _node_stats(state)["stats2"]["emitted"] == 4


def test_reading_topic_events_over_http_replays_the_due_ticks() -> None:
    clock = Clock(B + 300_000_000)
    api = clocked_api(clock)
    script = "stream\n    |from()\n        .measurement('m')\n    |deadman(0.0, 2s)\n        .topic('dm')\n"
    body = {"id": "t", "type": "stream", "dbrps": [{"db": "db", "rp": "rp"}], "script": script,
            "status": "enabled"}
    assert api.post("/kapacitor/v1/tasks", body).status == 200
    clock.now = B + 4_500_000_000
    events = api.get("/kapacitor/v1/alerts/topics/dm/events").json["events"]
    assert [(e["id"], e["state"]["level"], e["state"]["message"]) for e in events] == [
        ("nil:from1 for task 't'", "CRITICAL", "nil:from1 for task 't' is dead: 0.000 points/2s.")]


def test_task_throughput_is_what_the_source_collected_in_the_last_whole_second() -> None:
    clock = Clock(B)
    state = _start("stream\n    |from()\n        .measurement('m')\n    |log()\n", clock)
    _write_at(state, clock, B + 1_300_000_000, "m v=1\nm v=2\nm v=3\nm v=4\nm v=5")
    task = state.tasks.get_task("t")
    seen = []
    for at in (1_800, 2_300, 2_800, 3_300):  # the one-second ticks fall at B+1s, B+2s, B+3s
        clock.now = B + at * 1_000_000
        stats = state.engine.stats(task)
        dot = state.engine.dot(task, labels=False)
        assert stats is not None and dot is not None
        seen.append((stats["task-stats"]["throughput"], dot.split("\n")[1]))
    assert seen == [(0.0, 'graph [throughput="0.00 points/s"];'), (5.0, 'graph [throughput="5.00 points/s"];'),
                    (5.0, 'graph [throughput="5.00 points/s"];'), (0.0, 'graph [throughput="0.00 points/s"];')]
    _write_at(state, clock, B + 3_400_000_000, "m v=1")
    clock.now = B + 6_500_000_000  # several seconds went by: the last one saw nothing
    assert state.engine.stats(task)["task-stats"]["throughput"] == 0.0  # type: ignore[index]


def test_the_cli_starts_stored_enabled_tasks_with_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real server starts its enabled tasks at start-up, so a deadman's clock runs from then,
    not from the first request."""
    from mockserver import cli
    from mockserver.store.backup import dumps

    seeded = MockState()
    seeded.tasks.create_task({"id": "dm", "script": _deadman(tmp_path / "dm.log"), "dbrps": [("db", "rp")],
                              "status": "enabled"})
    backup = tmp_path / "backup.db"
    backup.write_bytes(dumps(seeded.snapshot()))
    served: list[Any] = []
    monkeypatch.setattr(cli, "_serve", lambda app, args: served.append(app) or 0)
    assert cli.main(["--restore", str(backup), "--port", "1"]) == 0
    assert list(served[0].mock_state.engine.runtimes) == ["dm"]
