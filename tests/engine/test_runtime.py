"""The engine without HTTP: windows, aggregates, alert states, templates, stats and locking."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mockserver.engine import gotemplate
from mockserver.engine.messages import Point
from mockserver.engine.window import _TimeBuffer
from mockserver.store import MockState
from mockserver.store.lineprotocol import parse_points

SEC = 1_000_000_000


def _state(script: str, task_id: str = "t") -> MockState:
    state = MockState()
    state.tasks.create_task({"id": task_id, "script": script, "dbrps": [("db", "rp")], "status": "enabled"})
    return state


def _write(state: MockState, body: str, db: str = "db", rp: str = "rp") -> None:
    state.engine.write(db, rp, parse_points(body.encode(), 0, "n"))


def _stats(state: MockState, task_id: str = "t") -> dict[str, Any]:
    return state.engine.stats(state.tasks.get_task(task_id))["node-stats"]


def test_time_buffer_purges_from_its_start_like_the_ring_buffer() -> None:
    buf = _TimeBuffer()
    for t in (1, 2, 3, 4):
        buf.insert(Point("m", {}, {}, t))
    buf.purge(3, True)
    assert [p.time for p in buf.points()] == [3, 4]
    for t in (5, 6, 7):  # wraps around inside the ring
        buf.insert(Point("m", {}, {}, t))
    buf.purge(6, False)
    assert [p.time for p in buf.points()] == [7]


def test_window_count_and_stats() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n    |window()\n        .period(3s)\n"
                   "        .every(3s)\n    |count('v')\n    |httpOut('o')\n")
    _write(state, "".join(f"m v=1 {t * SEC}\n" for t in range(7)))
    stats = _stats(state)
    assert stats["window2"]["collected"] == 7
    assert stats["window2"]["emitted"] == 2
    assert state.engine.http_out("t", "o") == (
        b'{"series":[{"name":"m","columns":["time","count"],"values":[["1970-01-01T00:00:06Z",3]]}]}')


def test_aligned_windows_and_truncation_follow_go_time_not_the_epoch() -> None:
    """Go truncates on the clock since year 1: for 7s it differs from the epoch's multiples of 7s.
    The points and the answer are an exchange with a real 1.5.7 (window end 22:13:59, not :56)."""
    state = _state("stream\n    |from()\n        .measurement('m')\n        .truncate(7s)\n    |window()\n"
                   "        .period(7s)\n        .every(7s)\n        .align()\n    |count('value')\n    |httpOut('out')\n")
    _write(state, "".join(f"m value={i} {(1_700_000_000 + i) * SEC}\n" for i in range(0, 40, 3)))
    assert state.engine.http_out("t", "out") == (
        b'{"series":[{"name":"m","columns":["time","count"],"values":[["2023-11-14T22:13:59Z",2]]}]}')


def test_points_reach_only_tasks_of_their_dbrp_and_measurement() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n    |log()\n")
    _write(state, "m v=1 1\nother v=1 2\n")
    _write(state, "m v=1 3\n", rp="x")
    assert _stats(state)["stream0"]["collected"] == 1


def test_a_task_with_an_all_measurements_from_gets_every_point_once_per_fork_key() -> None:
    script = ("var a = stream\n    |from()\n        .measurement('m')\n\nvar b = stream\n    |from()\n\n"
              "a\n    |log()\n\nb\n    |log()\n")
    state = _state(script)
    _write(state, "m v=1 1\nother v=1 2\n")
    assert _stats(state)["stream0"]["collected"] == 3  # `m` matches two fork keys, `other` one


def test_alert_state_changes_only_and_durations() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n    |alert()\n        .warn(lambda: \"v\" > 5)\n"
                   "        .stateChangesOnly()\n        .topic('named')\n")
    _write(state, "".join(f"m v={v} {i * SEC}\n" for i, v in enumerate([6, 7, 8, 1, 9])))
    alert = _stats(state)["alert2"]
    assert (alert["warns_triggered"], alert["oks_triggered"], alert["alerts_triggered"]) == (2, 1, 3)
    event = state.alerts.event_state("named", "m:nil")
    assert event is not None and event.level == 2 and event.time == 4 * SEC and event.duration == 0


def test_runtime_errors_are_counted_per_node() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n    |where(lambda: \"v\" > 1)\n    |log()\n")
    _write(state, 'm v="x" 1\nm v=2 2\nm other=1 3\n')
    where = _stats(state)["where2"]
    assert (where["collected"], where["emitted"], where["errors"]) == (3, 1, 2)


def test_update_restarts_and_disable_stops() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n    |log()\n")
    _write(state, "m v=1 1\n")
    state.tasks.update_task("t", {"status": "enabled"})  # an update restarts the task: fresh state
    assert _stats(state)["stream0"]["collected"] == 0
    state.tasks.update_task("t", {"status": "disabled"})
    assert state.engine.stats(state.tasks.get_task("t")) is None


def test_concurrent_writes_count_every_point() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n        .groupBy('w')\n    |window()\n"
                   "        .period(1s)\n        .every(1s)\n    |count('v')\n")
    per_thread, threads = 400, 6

    def writer(w: int) -> None:
        for i in range(0, per_thread, 50):
            _write(state, "".join(f"m,w={w} v=1 {(i + j) * SEC}\n" for j in range(50)))

    workers = [threading.Thread(target=writer, args=(w,)) for w in range(threads)]
    for th in workers:
        th.start()
    for th in workers:
        th.join()
    stats = _stats(state)
    assert stats["from1"]["emitted"] == per_thread * threads
    assert stats["window2"]["working_cardinality"] == threads
    assert stats["window2"]["emitted"] == (per_thread - 1) * threads


@pytest.mark.parametrize(
    ("template", "data", "want"),
    [
        ("{{ .ID }} is {{ .Level }}", {"ID": "cpu:nil", "Level": "OK"}, "cpu:nil is OK"),
        ('{{ index .Tags "host" }}', {"Tags": {"host": "a"}}, "a"),
        ("{{ .Tags.host }}/{{ .Fields.v }}", {"Tags": {"host": "a"}, "Fields": {"v": 1e6}}, "a/1e+06"),
        ('{{ if eq .Level "OK" }}fine{{ else }}bad{{ end }}', {"Level": "CRITICAL"}, "bad"),
        ("{{- .A -}} x", {"A": "1"}, "1x"),
        ("{{ .Time }}", {"Time": gotemplate.GoTime(1_500_000_000)}, "1970-01-01 00:00:01.5 +0000 UTC"),
        ("{{ .Duration }}", {"Duration": gotemplate.GoDuration(90 * SEC)}, "1m30s"),
        ("{{ .Tags }}", {"Tags": {"b": "2", "a": "1"}}, "map[a:1 b:2]"),
    ],
)
def test_go_templates(template: str, data: dict[str, Any], want: str) -> None:
    assert gotemplate.execute(gotemplate.parse(template), data) == want


def test_details_are_html_escaped_json() -> None:
    out = gotemplate.execute(gotemplate.parse("{{ json . }}"), {"A": "<b>", "N": 1.5}, html=True)
    assert out == "{&#34;A&#34;:&#34;\\u003cb\\u003e&#34;,&#34;N&#34;:1.5}\n"


def test_bad_template_is_an_error() -> None:
    with pytest.raises(gotemplate.TemplateError):
        gotemplate.parse("{{ if .A }}no end")


def test_simple_selectors_emit_the_selected_point_with_all_its_fields_and_tags() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n        .groupBy('dc')\n    |window()\n"
                   "        .period(2s)\n        .every(2s)\n    |max('v')\n    |httpOut('o')\n")
    _write(state, "m,dc=eu,host=a v=3,w=1 0\nm,dc=eu,host=b v=5,w=2 1000000000\nm,dc=eu,host=c v=1 2000000000\n")
    assert state.engine.http_out("t", "o") == (
        b'{"series":[{"name":"m","tags":{"dc":"eu","host":"b"},"columns":["time","max","w"],'
        b'"values":[["1970-01-01T00:00:02Z",5,2]]}]}')


def test_printf_verbs() -> None:
    tmpl = gotemplate.parse('{{ printf "%0.1f|%5.2f|%d|%s|%q|%-4s|" .F .F .I .S .S .S }}')
    assert gotemplate.execute(tmpl, {"F": 2.25, "I": 7, "S": "ab"}) == '2.2| 2.25|7|ab|"ab"|ab  |'


def test_writes_racing_enable_disable_and_reads_never_fail() -> None:
    state = _state("stream\n    |from()\n        .measurement('m')\n    |alert()\n        .crit(lambda: \"v\" > 0)\n"
                   "        .log('/dev/null')\n")
    errors: list[BaseException] = []

    def guarded(fn: Any) -> Any:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)
        return run

    def writer() -> None:
        for i in range(60):
            _write(state, f"m v={i % 3} {i * SEC}\n")

    def toggler() -> None:
        for i in range(30):
            state.tasks.update_task("t", {"status": "disabled" if i % 2 else "enabled"})
            state.engine.reconcile()

    def reader() -> None:
        for _ in range(60):
            task = state.tasks.get_task("t")
            state.engine.stats(task)
            state.engine.dot(task, labels=False)

    threads = [threading.Thread(target=guarded(f)) for f in (writer, writer, toggler, reader)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    state.tasks.update_task("t", {"status": "disabled"})
    state.engine.reconcile()
    assert state.engine.runtimes == {}
    assert state.alerts.topic_state("main:t:alert2") is None


JOIN = ("var a = stream\n    |from()\n        .measurement('a')\n\nvar b = stream\n    |from()\n        .measurement('b')\n\n"
        "a\n    |join(b)\n        .as('a', 'b')\n        .tolerance(1s)\n    |httpOut('o')\n")


def test_join_pairs_points_within_the_tolerance_and_waits_for_every_parent() -> None:
    state = _state(JOIN)
    _write(state, "a v=1 0\nb v=2 200000000\n")  # 0.2s rounds to 0s: a complete set
    first = b'{"series":[{"name":"a","columns":["time","a.v","b.v"],"values":[["1970-01-01T00:00:00Z",1,2]]}]}'
    assert state.engine.http_out("t", "o") == first
    _write(state, "a v=3 1000000000\n")  # b has no point at 1s yet: nothing to join
    assert state.engine.http_out("t", "o") == first
    _write(state, "b v=4 1400000000\n")
    assert state.engine.http_out("t", "o") == first.replace(b"00:00:00Z\",1,2", b"00:00:01Z\",3,4")


def test_union_releases_points_in_time_order_up_to_the_low_water_mark() -> None:
    script = JOIN.replace("|join(b)\n        .as('a', 'b')\n        .tolerance(1s)", "|union(b)\n        .rename('u')")
    state = _state(script)
    _write(state, "a v=1 0\na v=2 1\n")
    assert _stats(state)["union4"]["emitted"] == 0  # b has not reported yet
    _write(state, "b v=3 1\n")
    assert _stats(state)["union4"]["emitted"] == 3
