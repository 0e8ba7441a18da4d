"""InfluxQL nodes and alert details on scenarios a randomized differential run (real Kapacitor
1.5.7 vs the mock, through the HTTP API) found different; each expected answer is the real
server's httpOut body and node stats for the same script and points (precision s)."""

from __future__ import annotations

from typing import Any

from mockserver.store import MockState
from mockserver.store.lineprotocol import parse_points

SEC = 1_000_000_000


def _run(body: str, *writes: str) -> tuple[MockState, dict[str, Any]]:
    script = "stream\n    |from()\n        .measurement('m')\n" + body + "    |httpOut('out')\n"
    state = MockState()
    state.tasks.create_task({"id": "t", "script": script, "dbrps": [("db", "rp")], "status": "enabled"})
    for lines in writes:
        state.engine.write("db", "rp", parse_points(lines.encode(), 0, "s"))
    stats = state.engine.stats(state.tasks.get_task("t"))["node-stats"]
    return state, {k: (v["collected"], v["emitted"], v["errors"]) for k, v in stats.items()}


def _out(state: MockState) -> bytes:
    return state.engine.http_out("t", "out")


def test_difference_skips_a_point_at_the_time_of_the_last_one() -> None:
    """The reducer ignores a point that does not advance the stream (and emits nothing for it)."""
    state, stats = _run("    |difference('v')\n", "m v=10 1\nm v=15 2\nm v=30 2\n", "m v=31 3\n")
    assert stats["difference2"] == (4, 2, 0)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","difference"],'
                           b'"values":[["1970-01-01T00:00:03Z",16]]}]}')


def test_stddev_of_a_single_point_is_zero() -> None:
    state, stats = _run("    |window()\n        .period(2s)\n        .every(2s)\n    |stddev('v')\n",
                        "m v=10 1\nm v=3 4\n")
    assert stats["stddev3"] == (1, 1, 0)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","stddev"],'
                           b'"values":[["1970-01-01T00:00:03Z",0]]}]}')


def test_sum_of_an_empty_window_is_zero() -> None:
    state, stats = _run("    |window()\n        .period(1s)\n        .every(3s)\n    |sum('v')\n", "m v=10 0\nm v=3 10\n")
    assert stats["sum3"] == (1, 1, 0)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","sum"],'
                           b'"values":[["1970-01-01T00:00:03Z",0]]}]}')


def test_a_batch_aggregates_only_points_of_the_first_points_type() -> None:
    """The first point with the field realizes an int64 context: the float point and the point
    without the field are errors, not counted."""
    state, stats = _run("    |window()\n        .period(10s)\n        .every(10s)\n    |count('v')\n",
                        "m other=1 0\nm v=1i 1\nm v=2.5 2\nm v=3i 3\nm other=1 4\nm v=1 10\n")
    assert stats["count3"] == (1, 1, 3)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","count"],'
                           b'"values":[["1970-01-01T00:00:10Z",2]]}]}')


def test_a_stream_transformation_that_fails_to_aggregate_repeats_its_last_result() -> None:
    state, stats = _run("    |cumulativeSum('v')\n", "m v=1 1\nm v=2 2\n", "m v=5i 3\n")
    assert stats["cumulativeSum2"] == (3, 3, 1)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","cumulativeSum"],'
                           b'"values":[["1970-01-01T00:00:02Z",3]]}]}')


def test_elapsed_truncates_toward_zero() -> None:
    state, stats = _run("    |elapsed('v', 2s)\n", "m v=1 0\nm v=1 5\nm v=1 2\n")
    assert stats["elapsed2"] == (3, 2, 0)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","elapsed"],'
                           b'"values":[["1970-01-01T00:00:02Z",-1]]}]}')


def test_distinct_keeps_the_first_point_of_each_value_and_sorts_ties_by_value() -> None:
    state, stats = _run("    |window()\n        .period(10s)\n        .every(10s)\n    |distinct('v')\n"
                        "        .usePointTimes()\n", "m v=7 3\nm v=5 2\nm v=7 1\nm v=9 2\nm v=1 20\n")
    assert stats["distinct3"] == (1, 1, 0)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","distinct"],"values":['
                           b'["1970-01-01T00:00:02Z",5],["1970-01-01T00:00:02Z",9],["1970-01-01T00:00:03Z",7]]}]}')


def test_top_with_a_tag_keeps_one_point_per_tag_value() -> None:
    state, stats = _run("    |window()\n        .period(10s)\n        .every(10s)\n    |top(2, 'v', 'host')\n",
                        "m,host=a v=9 1\nm,host=a v=8 2\nm,host=b v=3 3\nm,host=b v=3 2\nm,host=c v=1 4\nm v=1 20\n")
    assert stats["top3"] == (1, 1, 0)
    assert _out(state) == (b'{"series":[{"name":"m","columns":["time","host","top"],"values":['
                           b'["1970-01-01T00:00:11Z","a",9],["1970-01-01T00:00:11Z","b",3]]}]}')


def test_alert_template_fields_and_tags_are_go_maps_in_key_order() -> None:
    state, _ = _run("    |eval(lambda: \"v\" * 2.0)\n        .as('a')\n        .keep()\n    |alert()\n"
                    "        .crit(lambda: \"a\" > 1.0)\n        .details('{{ json .Fields }} {{ json .Tags }}')\n"
                    "        .topic('probe')\n", "m,zz=1,aa=2 v=5 1\n")
    event = state.alerts.event_state("probe", "m:nil")
    assert event is not None
    assert event.details == '{&#34;a&#34;:10,&#34;v&#34;:5}\n {&#34;aa&#34;:&#34;2&#34;,&#34;zz&#34;:&#34;1&#34;}\n'


def test_index_of_a_missing_tag_is_the_empty_string() -> None:
    """Tags is a map[string]string: `index` gives its zero value, not `<no value>`."""
    state, _ = _run("    |alert()\n        .crit(lambda: \"v\" > 1.0)\n"
                    "        .id('{{ .TaskName }}-{{ index .Tags \"host\" }}')\n        .topic('probe')\n", "m v=5 1\n")
    event = state.alerts.event_state("probe", "t-")
    assert event is not None and event.message == "t- is CRITICAL"
