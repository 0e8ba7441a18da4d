"""The data plane: enabled stream tasks run on written points (behaviour §3.1, §3.4, §3.10, §8.1).

Optional: points are written only with --allow-writes, into this run's own database, and every
task writes its alerts to `/dev/null`. Expected values are what a real Kapacitor 1.5.7 answers for
the same task and points (point time drives windows and alerts, so the results are exact). A real
server processes points asynchronously, so each check polls the task's stats until the last node
has seen what it should, for at most a few seconds, then judges the final state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from conformance.checks import SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap
from conformance.target import Exchange

T = TypeVar("T")
SEC = 1_000_000_000
T0 = 1_700_000_000 * SEC  # points far in the past of every clock, far from any real data
SETTLE_SECONDS = 5.0
REF_STATS = "behaviour §3.1"
REF_OUT = "behaviour §3.4"
REF_TOPICS = "behaviour §8.1"
REF_DEADMAN = "behaviour §3.10"


def _task(kap: Kap, label: str, script: str) -> str:
    kap.need("createTask", "writePoints", "getTask")
    tid = kap.uid(label)
    kap.create_task(tid, script=script, status="enabled", what=f"create enabled task {tid}")
    return tid


def _write(kap: Kap, lines: list[str]) -> None:
    ex = kap.call("writePoints", query=[("db", kap.suite.db), ("rp", "autogen")], body="".join(lines))
    expect_status(ex, 204, "write points for a running task", ref="api#write-data")


def _stats(kap: Kap, tid: str) -> dict[str, Any]:
    ex = kap.call("getTask", id=tid)
    body = kap.json_ok(ex, 200, f"GET task {tid}", ref="api#get-a-task")
    stats = body.get("stats") or {}
    return stats.get("node-stats") or {}


#: After the awaited count is reached, how long a real server may still take to finish the node's
#: bookkeeping for that message (its other counters move a moment later).
BOOKKEEPING_SECONDS = 0.1


def _pause(delay: float) -> float:
    """Sleep `delay`; the next, longer delay: polls start fast and back off to 50 ms."""
    time.sleep(delay)
    return min(delay * 1.5, 0.05)


def _bookkept(fetch: Callable[[], T], ok: Callable[[T], bool]) -> T:
    """What `fetch()` answers once `ok` (what the check expects), else after `BOOKKEEPING_SECONDS`."""
    grace = time.monotonic() + BOOKKEEPING_SECONDS
    delay = 0.002
    got = fetch()
    while not ok(got):
        if time.monotonic() + delay > grace:
            time.sleep(max(0.0, grace - time.monotonic()))
            return fetch()
        delay = _pause(delay)
        got = fetch()
    return got


def _settled(kap: Kap, tid: str, node: str, key: str, want: int,
             ready: dict[str, int] | None = None, *, then: bool = True) -> dict[str, Any]:
    """Poll until `node`'s `key` reaches `want` (or time is up); the last stats seen.

    Once it is reached, the node's other counters get up to `BOOKKEEPING_SECONDS` more to reach
    `ready` (the values the check expects): a server that is already there is not waited for, one
    that never gets there is judged on what it shows after that time. Without `ready` the whole
    time is waited (what the check reads next, a topic's events, comes after the counters), unless
    `then` is off: the caller waits for what it reads next itself (`_bookkept`)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    delay = 0.002
    while True:
        stats = _stats(kap, tid)
        if stats.get(node, {}).get(key, 0) >= want or time.monotonic() > deadline:
            break
        delay = _pause(delay)
    if ready:
        return _bookkept(lambda: _stats(kap, tid),
                         lambda got: all(got.get(node, {}).get(k) == v for k, v in ready.items()))
    if then:
        time.sleep(BOOKKEEPING_SECONDS)
        return _stats(kap, tid)
    return stats


def _counts(stats: dict[str, Any], node: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: stats.get(node, {}).get(k) for k in keys}


def _line(measurement: str, tags: dict[str, str], value: str, t: int) -> str:
    tag = "".join(f",{k}={v}" for k, v in tags.items())
    return f"{measurement}{tag} v={value} {t}\n"


#: The alert node of ALERT_SCRIPT after a point at 50 then one at 5 (what 1.5.7 answers).
ALERT2_AFTER_TWO = {"collected": 2, "emitted": 0, "errors": 0, "alerts_triggered": 1, "crits_triggered": 1,
                    "warns_triggered": 0, "infos_triggered": 0, "oks_triggered": 0, "working_cardinality": 1}

ALERT_SCRIPT = "stream\n    |from()\n        .measurement('cpu')\n    |alert()\n" \
               "        .crit(lambda: \"v\" < 10)\n        .details('')\n        .log('/dev/null')\n"


@check("dataplane.alert-stats", SHOULD, REF_STATS, mutates=True, requires=("writes",))
def test_alert_counts(kap: Kap) -> None:
    """Two points, one critical: every node counted both, the alert node raised one CRITICAL alert."""
    tid = _task(kap, "dpa-", ALERT_SCRIPT)
    _write(kap, [_line("cpu", {}, "50", T0), _line("cpu", {}, "5", T0 + SEC)])
    stats = _settled(kap, tid, "alert2", "collected", 2, ready=ALERT2_AFTER_TWO)
    for node in ("stream0", "from1"):
        expect_equal(_counts(stats, node, ("collected", "emitted", "errors")),
                     {"collected": 2, "emitted": 2, "errors": 0}, f"node-stats of {node}", ref=REF_STATS)
    expect_equal(_counts(stats, "alert2", tuple(ALERT2_AFTER_TWO)), ALERT2_AFTER_TWO, "node-stats of the alert node",
                 ref=REF_STATS)


@check("dataplane.executing-dot", SHOULD, REF_STATS, mutates=True, requires=("writes",))
def test_executing_dot(kap: Kap) -> None:
    """An executing task's dot carries each edge's processed count and each node's stats."""
    tid = _task(kap, "dpg-", ALERT_SCRIPT)
    _write(kap, [_line("cpu", {}, "50", T0), _line("cpu", {}, "5", T0 + SEC)])
    _settled(kap, tid, "alert2", "collected", 2, ready=ALERT2_AFTER_TWO)
    ex = kap.call("getTask", id=tid)
    dot = kap.json_ok(ex, 200, f"GET task {tid}", ref="api#get-a-task").get("dot", "")
    for fragment in ('stream0 -> from1 [processed="2"];', 'from1 -> alert2 [processed="2"];',
                     'alerts_triggered="1" ', 'crits_triggered="1" ', 'oks_triggered="0" '):
        expect(fragment in dot, "executing dot", expected=f"contains {fragment}", actual=dot, ref=REF_STATS,
               exchange=ex)


@check("dataplane.topic-events", SHOULD, REF_TOPICS, mutates=True, requires=("writes",))
def test_anonymous_topic_events(kap: Kap) -> None:
    """The alert node publishes to `main:<task>:alert2`; the event has the default id and message."""
    kap.need("listTopicEvents")
    tid = _task(kap, "dpt-", ALERT_SCRIPT)
    _write(kap, [_line("cpu", {}, "50", T0), _line("cpu", {}, "5", T0 + SEC), _line("cpu", {}, "70", T0 + 2 * SEC)])
    _settled(kap, tid, "alert2", "collected", 3, then=False)
    topic = f"main:{tid}:alert2"
    want = [{"id": "cpu:nil", "message": "cpu:nil is OK", "details": "", "time": "2023-11-14T22:13:22Z",
             "duration": "1s", "level": "OK"}]

    def events(ex: Exchange) -> list[dict[str, Any]]:
        body = ex.json_or_none() if ex.status == 200 else None
        return [{"id": e.get("id"), **{k: (e.get("state") or {}).get(k) for k in
                                       ("message", "details", "time", "duration", "level")}}
                for e in (body.get("events") or [] if isinstance(body, dict) else [])
                if isinstance(e, dict)]

    ex = _bookkept(lambda: kap.call("listTopicEvents", topic=topic), lambda got: events(got) == want)
    kap.json_ok(ex, 200, f"events of {topic}", ref=REF_TOPICS)
    expect_equal(events(ex), want, f"events of {topic} after CRITICAL then recovery", ref=REF_TOPICS, exchange=ex)


@check("dataplane.httpout-window", SHOULD, REF_OUT, mutates=True, requires=("writes",))
def test_window_mean_http_out(kap: Kap) -> None:
    """window → mean → httpOut: the last window of each group, as compact JSON, in group order."""
    kap.need("getTaskHttpOut")
    script = ("stream\n    |from()\n        .measurement('cpu')\n        .groupBy('host')\n    |window()\n"
              "        .period(10s)\n        .every(10s)\n    |mean('v')\n    |httpOut('out')\n")
    tid = _task(kap, "dpw-", script)
    # A real server registers the route from the node's own goroutine, a moment after the create.
    deadline = time.monotonic() + SETTLE_SECONDS
    ex = kap.call("getTaskHttpOut", id=tid, endpoint="out")
    delay = 0.002
    while ex.status == 404 and time.monotonic() < deadline:
        delay = _pause(delay)
        ex = kap.call("getTaskHttpOut", id=tid, endpoint="out")
    expect_status(ex, 200, "httpOut before any point", ref=REF_OUT)
    expect_equal(ex.body, b'{"series":null}', "httpOut before any point", ref=REF_OUT, exchange=ex)
    lines = [_line("cpu", {"host": h}, str(i), T0 + i * SEC) for i in range(12) for h in ("a", "b")]
    _write(kap, lines)
    _settled(kap, tid, "window2", "collected", len(lines), ready={"emitted": 2})
    stats = _settled(kap, tid, "http_out4", "collected", 2, then=False)
    expect_equal(_counts(stats, "window2", ("collected", "emitted", "working_cardinality")),
                 {"collected": 24, "emitted": 2, "working_cardinality": 2}, "node-stats of the window",
                 ref=REF_STATS)
    rows = ",".join(
        f'{{"name":"cpu","tags":{{"host":"{h}"}},"columns":["time","mean"],'
        f'"values":[["2023-11-14T22:13:30Z",4.5]]}}' for h in ("a", "b"))
    want = f'{{"series":[{rows}]}}'.encode()
    ex = _bookkept(lambda: kap.call("getTaskHttpOut", id=tid, endpoint="out"),
                   lambda got: got.status == 200 and got.body == want)
    expect_status(ex, 200, "httpOut after two windows closed", ref=REF_OUT)
    expect_equal(ex.body, want, "httpOut: the mean of each host's window", ref=REF_OUT, exchange=ex)


@check("dataplane.node-error", SHOULD, REF_STATS, mutates=True, requires=("writes",))
def test_type_error_is_a_node_error(kap: Kap) -> None:
    """A point of the wrong type in a lambda is a node error (counted, the point dropped), not a failure."""
    script = "stream\n    |from()\n        .measurement('cpu')\n    |eval(lambda: \"v\" * 2.0)\n" \
             "        .as('d')\n    |httpOut('out')\n"
    tid = _task(kap, "dpe-", script)
    _write(kap, [_line("cpu", {}, "1", T0), _line("cpu", {}, '"text"', T0 + SEC), _line("cpu", {}, "3", T0 + 2 * SEC)])
    _settled(kap, tid, "eval2", "collected", 3, ready={"emitted": 2, "errors": 1})
    stats = _settled(kap, tid, "http_out3", "collected", 2, then=False)
    expect_equal(_counts(stats, "eval2", ("collected", "emitted", "errors")),
                 {"collected": 3, "emitted": 2, "errors": 1}, "node-stats of eval after a string value",
                 ref=REF_STATS)
    want = b'{"series":[{"name":"cpu","columns":["time","d"],"values":[["2023-11-14T22:13:22Z",6]]}]}'
    ex = _bookkept(lambda: kap.call("getTaskHttpOut", id=tid, endpoint="out"), lambda got: got.body == want)
    expect_equal(ex.body, want, "httpOut after a dropped point", ref=REF_OUT, exchange=ex)


@check("dataplane.disable-drops-state", SHOULD, REF_TOPICS, mutates=True, requires=("writes",))
def test_disable_drops_state(kap: Kap) -> None:
    """Disabling a task removes its anonymous topic; enabling it again starts from zero counts."""
    kap.need("updateTask", "listTopicEvents")
    tid = _task(kap, "dpd-", ALERT_SCRIPT)
    _write(kap, [_line("cpu", {}, "5", T0)])
    _settled(kap, tid, "alert2", "collected", 1)
    expect_status(kap.call("updateTask", id=tid, json={"status": "disabled"}), 200, "disable the task")
    topic = f"main:{tid}:alert2"
    kap.error(kap.call("listTopicEvents", topic=topic), 500,
              f'failed to get topic events: unknown topic "{topic}"', what="events of a disabled task's topic",
              ref=REF_TOPICS)
    expect_status(kap.call("updateTask", id=tid, json={"status": "enabled"}), 200, "enable the task again")
    stats = _stats(kap, tid)
    expect_equal(_counts(stats, "alert2", ("collected", "alerts_triggered")),
                 {"collected": 0, "alerts_triggered": 0}, "alert node-stats after disable and enable",
                 ref=REF_STATS)


DEADMAN_SCRIPT = "stream\n    |from()\n        .measurement('cpu')\n    |deadman(0.0, 1s)\n" \
                 "        .details('')\n        .log('/dev/null')\n"


@check("dataplane.deadman", SHOULD, REF_DEADMAN, mutates=True, requires=("writes",))
def test_deadman_fires_on_a_silent_task(kap: Kap) -> None:
    """`deadman(0.0, 1s)` on a task that receives nothing: the stats node ticks on the server clock
    (a round aligned to the next second, then one per second), the non-negative derivative of
    `emitted` is 0 from the second round on, and the alert goes CRITICAL with the [deadman] default
    id and message. Only what holds however many ticks happened is judged."""
    kap.need("listTopicEvents")
    tid = _task(kap, "dpm-", DEADMAN_SCRIPT)
    stats = _settled(kap, tid, "alert5", "crits_triggered", 1)
    expect_equal(sorted(stats), ["alert5", "derivative4", "from1", "noop3", "stats2", "stream0"],
                 "nodes of a deadman task", ref=REF_DEADMAN)
    ticks = stats.get("stats2", {}).get("emitted", 0)
    expect(ticks >= 2 and stats.get("stats2", {}).get("collected") == 0, "node-stats of the stats node",
           expected="collected 0, emitted ≥ 2 (one point per tick, nothing collected)", actual=stats.get("stats2"),
           ref=REF_DEADMAN)
    alert = _counts(stats, "alert5", ("crits_triggered", "oks_triggered", "warns_triggered", "errors"))
    expect(alert["crits_triggered"] >= 1 and (alert["oks_triggered"], alert["warns_triggered"], alert["errors"])
           == (0, 0, 0), "node-stats of the deadman's alert node", expected="crits_triggered ≥ 1, no OK/WARNING",
           actual=alert, ref=REF_DEADMAN)
    topic = f"main:{tid}:alert5"
    ex = kap.call("listTopicEvents", topic=topic)
    body = kap.json_ok(ex, 200, f"events of {topic}", ref=REF_DEADMAN)
    events = [{"id": e.get("id"), **{k: (e.get("state") or {}).get(k) for k in ("message", "details", "level")}}
              for e in body.get("events") or []]
    event_id = f"nil:from1 for task '{tid}'"
    expect_equal(events, [{"id": event_id, "message": f"{event_id} is dead: 0.000 points/1s.", "details": "",
                           "level": "CRITICAL"}], f"events of {topic} with no point written", ref=REF_DEADMAN,
                 exchange=ex)
