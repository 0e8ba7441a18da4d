"""Recordings: each kind, with the status/progress/size fields (api#recordings, behaviour §6).

List order is pagination.order; status codes and error texts are in cases.py."""

from __future__ import annotations

from typing import Any

from conformance import api
from conformance.checks import MUST, check, expect, expect_equal, fail
from conformance.context import Kap
from conformance.gostr import _RFC3339
from conformance.world import World

REF = "api#create-a-recording"
#: `running` is what real Kapacitor says; the docs call it `recording` (behaviour §16.4): both pass.
STATUSES = ("running", "recording", "finished", "failed")
RUNNING = ("running", "recording")


def _query(kap: Kap) -> str:
    return f'SELECT * FROM "{kap.suite.db}"."autogen"."m" WHERE time > now() - 1m'


def _record(kap: Kap, op: str, body: dict[str, Any], what: str) -> dict[str, Any]:
    kap.need(op)
    ex = kap.call(op, json=body)
    return kap._created(ex, "recording", what, status=201, ref=REF)


def shape(rec: Any, what: str, *, kind: str, ref: str = "behaviour §6.1") -> None:
    """The fields every recording carries, with values of the right kind."""
    expect(isinstance(rec, dict), f"{what}: a recording object", expected="an object", actual=rec, ref=ref)
    expect_equal(rec.get("type"), kind, f"{what}: type", ref=REF)
    expect(rec.get("status") in STATUSES, f"{what}: status", expected=" | ".join(STATUSES), actual=rec.get("status"),
           ref=ref, hint="the docs call a running recording 'recording'; real Kapacitor says 'running'")
    size, progress = rec.get("size"), rec.get("progress")
    # A recording that failed before it wrote its data reports size -1 on a real server (1.5.7 does so
    # for query recordings without an InfluxDB, depending on when the failure lands).
    lowest = -1 if rec.get("status") == "failed" else 0
    expect(isinstance(size, int) and not isinstance(size, bool) and size >= lowest, f"{what}: size",
           expected="an integer >= 0 (-1 once failed)" if lowest else "an integer >= 0", actual=size, ref=ref)
    expect(isinstance(progress, int | float) and not isinstance(progress, bool) and 0 <= progress <= 1,
           f"{what}: progress", expected="a number in [0, 1]", actual=progress, ref=ref)
    expect(isinstance(rec.get("error"), str), f"{what}: error", expected="a string", actual=rec.get("error"), ref=ref)
    if not _RFC3339.fullmatch(str(rec.get("date"))):
        fail(f"{what}: date", expected="an RFC 3339 time", actual=rec.get("date"), ref=ref)


def finished(kap: Kap, rid: str, what: str, *, kind: str) -> dict[str, Any]:
    """Poll until done, then the final fields: finished ⇒ progress 1 and no error; failed ⇒ an error."""
    ex = kap.wait_finished("getRecording", rid, ref="api#wait-for-a-recording")
    body = kap.json_object(ex, 200, what, ref="api#wait-for-a-recording")
    shape(body, what, kind=kind)
    expect(body["status"] not in RUNNING, f"{what}: status once GET answers 200", expected="finished or failed",
           actual=body["status"], ref="behaviour §6.5", exchange=ex)
    if body["status"] == "finished":
        expect_equal((body.get("progress"), body.get("error")), (1, ""), f"{what}: progress, error when finished",
                     ref="behaviour §6.1", exchange=ex)
    else:
        expect(bool(body.get("error")), f"{what}: a failed recording says why", expected="a non-empty error",
               actual=body.get("error"), ref="behaviour §6.1", exchange=ex)
    return body


@check("recordings.query", MUST, REF, mutates=True)
def test_record_query(kap: Kap) -> None:
    """A query recording of either type answers 201 running, then 200 with its final fields."""
    for kind in ("stream", "batch"):
        rid = kap.uid(f"rq{kind[0]}-")
        body = _record(kap, "recordQuery", {"id": rid, "type": kind, "query": _query(kap)}, f"record query ({kind})")
        expect_equal((body.get("id"), body.get("link", {}).get("href")), (rid, f"{api.V1}/recordings/{rid}"),
                     f"query recording ({kind}): id, link", ref=REF)
        shape(body, f"query recording ({kind}) as created", kind=kind)
        finished(kap, rid, f"query recording ({kind}) when done", kind=kind)


@check("recordings.batch", MUST, REF, mutates=True)
def test_record_batch(kap: Kap, world: World) -> None:
    """A batch recording of a batch task answers 201 and ends finished or failed (no InfluxDB: failed)."""
    rid = kap.uid("rbt-")
    body = _record(kap, "recordBatch", {"id": rid, "task": world.batch_task, "start": "2000-01-01T00:00:00Z",
                                        "stop": "2000-01-01T00:01:00Z"}, "record batch")
    shape(body, "batch recording as created", kind="batch")
    finished(kap, rid, "batch recording when done", kind="batch")


@check("recordings.stream", MUST, REF, mutates=True)
def test_record_stream(kap: Kap, world: World) -> None:
    """A stream recording answers 201, running, size 0 and progress 0 until points arrive."""
    rid = kap.uid("rst-")
    body = _record(kap, "recordStream", {"id": rid, "task": world.task, "stop": "2000-01-01T00:00:00Z"},
                   "record stream")
    shape(body, "stream recording as created", kind="stream")
    expect(body.get("status") in RUNNING and (body.get("size"), body.get("progress")) == (0, 0),
           "stream recording as created: status, size, progress", expected="running, 0, 0",
           actual=[body.get("status"), body.get("size"), body.get("progress")], ref="behaviour §6.2")
