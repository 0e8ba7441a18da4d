"""Replays: each kind, options echoed, final fields (api#replays, behaviour §7).

List order is pagination.order; status codes and error texts (missing task/recording) are in cases.py."""

from __future__ import annotations

from typing import Any

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal
from conformance.context import Kap
from conformance.world import World

REF = "api#replay-a-recording"
REF_NOREC = "api#replay-data-without-recording"
_PAST, _PAST2 = "2000-01-01T00:00:00Z", "2000-01-01T00:01:00Z"


def _replay(kap: Kap, op: str, body: dict[str, Any], what: str, ref: str) -> dict[str, Any]:
    kap.need(op)
    return kap._created(kap.call(op, json=body), "replay", what, status=201, ref=ref)


def _final(kap: Kap, rid: str, what: str) -> dict[str, Any]:
    ex = kap.wait_finished("getReplay", rid, ref="api#wait-for-replays")
    body = kap.json_object(ex, 200, what, ref="api#wait-for-replays")
    expect(body.get("status") in ("finished", "failed"), f"{what}: status", expected="finished or failed",
           actual=body.get("status"), ref="behaviour §7.1", exchange=ex)
    if body.get("status") == "finished":
        expect_equal((body.get("progress"), body.get("error")), (1, ""), f"{what}: progress, error when finished",
                     ref="behaviour §7.1", exchange=ex)
    return body


@check("replays.recording", MUST, REF, mutates=True)
def test_replay_recording(kap: Kap, world: World) -> None:
    """A replay of a recording: 201 running, defaults clock=fast and recording-time=false, then done."""
    rid = kap.uid("rpr-")
    body = _replay(kap, "createReplay", {"id": rid, "task": world.task, "recording": world.recording},
                   "replay a recording", REF)
    expect_equal((body.get("task"), body.get("recording"), body.get("link", {}).get("href")),
                 (world.task, world.recording, f"{api.V1}/replays/{rid}"), "replay: task, recording, link", ref=REF)
    expect_equal((body.get("clock"), body.get("recording-time")), ("fast", False),
                 "replay defaults: clock, recording-time", ref=REF)
    final = _final(kap, rid, "replay when done")
    expect_equal((final.get("task"), final.get("recording")), (world.task, world.recording),
                 "finished replay: task, recording", ref=REF)


@check("replays.options", MUST, REF, mutates=True)
def test_replay_options(kap: Kap, world: World) -> None:
    """`clock` and `recording-time` given on create are kept."""
    rid = kap.uid("rpo-")
    body = _replay(kap, "createReplay", {"id": rid, "task": world.task, "recording": world.recording,
                                         "clock": "real", "recording-time": True}, "replay clock=real", REF)
    expect_equal((body.get("clock"), body.get("recording-time")), ("real", True), "replay: clock, recording-time",
                 ref=REF)
    final = _final(kap, rid, "replay clock=real when done")
    expect_equal((final.get("clock"), final.get("recording-time")), ("real", True),
                 "finished replay: clock, recording-time", ref=REF)


@check("replays.batch", MUST, REF_NOREC, mutates=True)
def test_replay_batch(kap: Kap, world: World) -> None:
    """A batch replay runs the batch task's queries: no recording named, none created."""
    rid = kap.uid("rpb-")
    body = _replay(kap, "replayBatch", {"id": rid, "task": world.batch_task, "start": _PAST, "stop": _PAST2},
                   "replay batch", REF_NOREC)
    expect_equal((body.get("task"), body.get("recording")), (world.batch_task, ""), "batch replay: task, recording",
                 ref="behaviour §7.1")
    _final(kap, rid, "batch replay when done")
    expect_equal(kap.list_ids("recordings", query=[("pattern", f"{rid}*")]), [], "recordings made by a batch replay",
                 ref="behaviour §7.3")


@check("replays.query", MUST, REF_NOREC, mutates=True)
def test_replay_query(kap: Kap, world: World) -> None:
    """A query replay runs a query into the task: no recording named, none created."""
    rid = kap.uid("rpq-")
    query = f'SELECT * FROM "{kap.suite.db}"."autogen"."m" WHERE time > now() - 1m'
    body = _replay(kap, "replayQuery", {"id": rid, "task": world.task, "query": query}, "replay query", REF_NOREC)
    expect_equal((body.get("task"), body.get("recording")), (world.task, ""), "query replay: task, recording",
                 ref="behaviour §7.1")
    _final(kap, rid, "query replay when done")
    expect_equal(kap.list_ids("recordings", query=[("pattern", f"{rid}*")]), [], "recordings made by a query replay",
                 ref="behaviour §7.4")


@check("replays.stats", SHOULD, "behaviour §7.1", mutates=True)
def test_replay_stats(kap: Kap, world: World) -> None:
    """A replay carries `stats` (an object) and lists leave it out by default."""
    rid = kap.uid("rps-")
    _replay(kap, "createReplay", {"id": rid, "task": world.task, "recording": world.recording}, "replay", REF)
    final = _final(kap, rid, "replay when done")
    expect(isinstance(final.get("stats"), dict), "finished replay: stats", expected="an object",
           actual=final.get("stats"), ref="behaviour §7.1")
    ex = kap.call("listReplays", query=[("pattern", rid)])
    items = kap.json_ok(ex, 200, "list replays", ref="api#list-replays").get("replays") or []
    expect(len(items) == 1 and "stats" not in items[0], "replay list: default fields exclude stats",
           expected="one item without 'stats'", actual=items, ref="behaviour §2.3", exchange=ex)
