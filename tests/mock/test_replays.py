"""Replays over HTTP: behaviour reference §2 and §7, the real-server transcript and server_test.go."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.gotime import format_ns
from mockserver.server import serve_in_thread
from tests.mock.conftest import Api, Response
from tests.mock.spec_check import assert_matches_spec
from tests.mock.test_recordings import (
    BATCH_TICK,
    SEC,
    START,
    STREAM_TICK,
    Clock,
    R,
    T,
    W,
    clocked_api,
    error_of,
    make_task,
    poll,
    record_stream,
    write,
)

#: A query a real server sends on to InfluxDB (one fully qualified measurement).
QUALIFIED = 'SELECT mean(value) FROM "mydb"."myrp"."test"'
P = "/kapacitor/v1/replays"
REPLAY_KEYS = [
    "link", "id", "task", "recording", "recording-time", "clock", "date", "error", "status", "progress", "stats",
]  # fmt: skip
LIST_KEYS = sorted(REPLAY_KEYS[:-1])
ID_RULE = r"^[-\._\p{L}0-9]+$"
NODE_STAT_KEYS = ["avg_exec_time_ns", "collected", "emitted", "errors", "working_cardinality"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def capi(clock: Clock) -> Api:
    """A stream task with a finished stream recording, a batch task with a finished batch recording."""
    api = clocked_api(clock)
    make_task(api, "stream_task", STREAM_TICK)
    make_task(api, "batch_task", BATCH_TICK)
    assert api.post(R + "/query", {"id": "srec", "query": QUALIFIED, "type": "stream"}).status == 201
    assert api.post(R + "/query", {"id": "brec", "query": QUALIFIED, "type": "batch"}).status == 201
    clock.advance(2)
    return api


def replay(
    api: Api,
    rep_id: str | None = "rp",
    task: str = "stream_task",
    recording: str = "srec",
    options: dict[str, Any] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"task": task, "recording": recording, **(options or {}), **extra}
    if rep_id is not None:
        body["id"] = rep_id
    resp = api.post(P, body)
    assert_matches_spec("createReplay", resp.status, resp.body)
    return resp


def test_replay_a_recording(capi: Api, clock: Clock) -> None:
    resp = replay(capi, "replayid")
    assert resp.status == 201
    assert_matches_spec("createReplay", 201, resp.body)
    body = resp.json
    assert list(body) == REPLAY_KEYS
    assert body["link"] == {"rel": "self", "href": "/kapacitor/v1/replays/replayid"}
    assert (body["task"], body["recording"], body["recording-time"], body["clock"]) == (
        "stream_task",
        "srec",
        False,
        "fast",
    )
    assert (body["status"], body["progress"], body["error"], body["stats"]) == ("running", 0, "", {})
    running = capi.get(P + "/replayid")
    assert running.status == 202
    assert_matches_spec("getReplay", 202, running.body)
    clock.advance(1)
    done = capi.get(P + "/replayid")
    assert done.status == 200
    assert_matches_spec("getReplay", 200, done.body)
    body = done.json
    assert (body["status"], body["progress"], body["error"]) == ("finished", 1, "")
    assert body["date"] == format_ns(START + 3 * SEC)
    # Finished replays carry the replayed task's execution stats: one entry per pipeline node,
    # named `<node><id>` (stream0 -> from1 for `stream|from()`), keys in map order.
    assert body["stats"]["task-stats"] == {"throughput": 0}
    assert list(body["stats"]["node-stats"]) == ["from1", "stream0"]
    assert list(body["stats"]["node-stats"]["from1"]) == NODE_STAT_KEYS


def test_options_are_echoed(capi: Api) -> None:
    body = replay(capi, clock="real", options={"recording-time": True}).json
    assert (body["clock"], body["recording-time"]) == ("real", True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "EOF"),
        (b"[1]", "json: cannot unmarshal array into Go value of type client.CreateReplayOptions"),
        (b'{"clock": "slow"}', "unknown Clock slow"),
        (b'{"clock": ""}', "unknown Clock "),
        (b'{"clock": 1}', "json: cannot unmarshal number into Go struct field CreateReplayOptions.clock of type client.Clock"),
        (b'{"recording-time": "yes"}', "json: cannot unmarshal string into Go struct field CreateReplayOptions.recording-time of type bool"),
    ],
)  # fmt: skip
def test_decode_errors(capi: Api, body: bytes, message: str) -> None:
    resp = capi.request("POST", P, body=body)
    assert (resp.status, error_of(resp)) == (400, message)
    assert_matches_spec("createReplay", 400, resp.body)


def test_null_clock_keeps_the_default(capi: Api) -> None:
    assert replay(capi, clock=None).json["clock"] == "fast"


@pytest.mark.parametrize(
    ("rep_id", "quoted"),
    [("invalid id", '"invalid id"'), ("invalid*id", '"invalid*id"'), ("replay/id7", '"replay/id7"')],
)
def test_invalid_ids(capi: Api, rep_id: str, quoted: str) -> None:
    resp = replay(capi, rep_id)
    assert error_of(resp) == f"replay ID must contain only letters, numbers, '-', '.' and '_'. {quoted}"
    resp = capi.post(P + "/batch", {"id": rep_id, "task": "batch_task"})
    assert error_of(resp) == f"replay ID must match {ID_RULE} {quoted}"
    resp = capi.post(P + "/query", {"id": rep_id, "task": "batch_task", "query": "q"})
    assert error_of(resp) == f"recording ID must match {ID_RULE} {quoted}"  # sic: "recording"


@pytest.mark.parametrize("rep_id", ["replay_id", "replay.id7", "replay-id7", "réplay7"])
def test_valid_ids(capi: Api, rep_id: str) -> None:
    assert replay(capi, rep_id).status == 201
    assert capi.get(f"{P}/{rep_id}").json["id"] == rep_id


def test_missing_task_and_recording(capi: Api) -> None:
    resp = replay(capi, task="nope", recording="nope")
    assert (resp.status, error_of(resp)) == (404, "task load: no task exists")
    assert_matches_spec("createReplay", 404, resp.body)
    resp = replay(capi, recording="nope")
    assert (resp.status, error_of(resp)) == (404, "recording not found: no recording exists")


def test_trailing_slash_is_not_routed(capi: Api) -> None:
    resp = capi.post(P + "/", {"task": "stream_task", "recording": "srec"})
    assert (resp.status, error_of(resp)) == (404, "Not Found")


def test_a_running_recording_can_be_replayed(capi: Api) -> None:
    record_stream(capi, "live", task="stream_task")
    assert capi.get(R + "/live").status == 202
    assert replay(capi, recording="live").status == 201


@pytest.mark.parametrize(
    ("task", "recording", "error"),
    [
        ("stream_task", "brec", "running replay: data source open: gzip: invalid header"),
        ("batch_task", "srec", "running replay: data source open: zip: not a valid zip file"),
    ],
)
def test_mismatched_types_fail_asynchronously(capi: Api, clock: Clock, task: str, recording: str, error: str) -> None:
    assert replay(capi, task=task, recording=recording).status == 201
    clock.advance(1)
    body = capi.get(P + "/rp").json
    assert (body["status"], body["error"], body["progress"], body["stats"]) == ("failed", error, 1, {})


def test_replay_of_a_recording_without_data_fails(capi: Api, clock: Clock) -> None:
    capi.post(R + "/query", {"id": "untyped", "query": QUALIFIED})
    clock.advance(1)
    assert replay(capi, recording="untyped").status == 201
    clock.advance(1)
    body = capi.get(P + "/rp").json
    assert body["status"] == "failed" and body["error"].startswith("load data source: ")


def test_a_real_clock_replay_runs_as_long_as_its_points_span(capi: Api, clock: Clock) -> None:
    """A 1.5.7 replaying a stream recording with `clock: real` paces the points by their times:
    points 0s..5s apart keep the replay running ~5s; `fast` finishes at once."""
    record_stream(capi, "paced", task="stream_task", stop="1970-01-01T00:00:05Z")
    write(capi, "test value=1 0\ntest value=2 2\ntest value=3 5\ntest value=4 6\n")
    clock.advance(1)
    assert capi.get(R + "/paced").json["status"] == "finished"
    assert replay(capi, "slow", recording="paced", clock="real").status == 201
    assert replay(capi, "quick", recording="paced", clock="fast").status == 201
    clock.advance(1)  # this suite's mock finishes a run 1s after it starts
    assert (capi.get(P + "/slow").json["status"], capi.get(P + "/quick").json["status"]) == ("running", "finished")
    clock.advance(5)
    assert capi.get(P + "/slow").json["status"] == "finished"


def test_duplicate_replay_id_is_accepted_and_replaced_when_done(capi: Api, clock: Clock) -> None:
    assert replay(capi, "dup").status == 201
    clock.advance(1)
    first = capi.get(P + "/dup").json
    assert first["status"] == "finished" and first["clock"] == "fast"
    again = replay(capi, "dup", clock="real")
    assert again.status == 201 and again.json["clock"] == "real" and again.json["status"] == "running"
    # The old record stays until the new replay completes and replaces it.
    assert capi.get(P + "/dup").json == first
    clock.advance(1)
    assert capi.get(P + "/dup").json["clock"] == "real"


# ---- batch and query replays -------------------------------------------------------------------------


def test_replay_batch(capi: Api, clock: Clock) -> None:
    resp = capi.post(P + "/batch", {"id": "b", "task": "batch_task", "start": "2020-01-01T00:00:00Z", "clock": "real"})
    assert resp.status == 201
    assert_matches_spec("replayBatch", 201, resp.body)
    assert (resp.json["recording"], resp.json["clock"]) == ("", "real")
    clock.advance(1)
    assert capi.get(P + "/b").json["status"] == "finished"
    # No recording is made (TestServer_ReplayBatch).
    assert sorted(r["id"] for r in capi.get(R).json["recordings"]) == ["brec", "srec"]


def test_replay_batch_errors(capi: Api) -> None:
    resp = capi.post(P + "/batch", {"task": "stream_task"})
    assert (resp.status, error_of(resp)) == (400, "cannot replay batch against stream task: stream_task")
    resp = capi.post(P + "/batch", {"task": "nope"})
    assert (resp.status, error_of(resp)) == (404, "task load: no task exists")
    assert capi.post(P + "/batch", {"id": "b", "task": "batch_task"}).status == 201
    resp = capi.post(P + "/batch", {"id": "b", "task": "batch_task"})
    assert (resp.status, error_of(resp)) == (500, "replay already exists")
    assert_matches_spec("replayBatch", 500, resp.body)
    assert error_of(capi.post(P + "/batch", {"task": "batch_task", "clock": "x"})) == "unknown Clock x"


def test_replay_query(capi: Api, clock: Clock) -> None:
    resp = capi.post(P + "/query", {"id": "q", "task": "stream_task", "query": QUALIFIED, "recording-time": True})
    assert resp.status == 201
    assert_matches_spec("replayQuery", 201, resp.body)
    assert (resp.json["recording"], resp.json["recording-time"], resp.json["clock"]) == ("", True, "fast")
    clock.advance(1)
    assert capi.get(P + "/q").json["status"] == "finished"


def test_replay_query_errors(capi: Api) -> None:
    resp = capi.post(P + "/query", {"task": "nope"})
    assert (resp.status, error_of(resp)) == (400, "must provide query")  # checked before the task
    resp = capi.post(P + "/query", {"task": "nope", "query": "q"})
    assert (resp.status, error_of(resp)) == (404, "task load: no task exists")
    assert capi.post(P + "/query", {"id": "q", "task": "batch_task", "query": "q"}).status == 201
    resp = capi.post(P + "/query", {"id": "q", "task": "batch_task", "query": "q"})
    assert (resp.status, error_of(resp)) == (500, "replay already exists")


# ---- get / delete / list ---------------------------------------------------------------------------


def test_get_missing_and_empty_id(api: Api) -> None:
    resp = api.get(P + "/nope")
    assert (resp.status, error_of(resp)) == (404, "could not find replay: no replay exists")
    assert_matches_spec("getReplay", 404, resp.body)
    assert error_of(api.get(P + "/")) == "must specify replay id on path"


def test_delete_is_always_204(capi: Api, clock: Clock) -> None:
    replay(capi, "r1")
    resp = capi.delete(P + "/r1")
    assert resp.status == 204 and resp.body == b""
    assert_matches_spec("deleteReplay", 204, resp.body)
    clock.advance(5)
    assert capi.get(P + "/r1").status == 404
    assert capi.delete(P + "/r1").status == 204
    assert error_of(capi.delete(P + "/")) == "must specify replay id on path"


def list_ids(api: Api, **params: Any) -> list[str]:
    resp = api.get(P, params=params)
    assert resp.status == 200, resp.text
    assert_matches_spec("listReplays", 200, resp.body)
    return [item["id"] for item in resp.json["replays"]]


def test_list(capi: Api, clock: Clock) -> None:
    assert list_ids(capi) == []
    for name in ("a", "b", "c"):
        replay(capi, name)
        clock.advance(0.1)  # all finish within one second: ties by ID descending
    clock.advance(5)
    replay(capi, "z")
    assert list_ids(capi) == ["z", "c", "b", "a"]
    (item, *_) = capi.get(P).json["replays"]
    assert list(item) == LIST_KEYS
    assert list_ids(capi, pattern="[ab]") == ["b", "a"]
    assert list_ids(capi, offset="1", limit="2") == ["c", "b"]
    assert list_ids(capi, limit="-1", pattern="nothing", offset="9") == ["z", "c", "b", "a"]
    assert list_ids(capi, pattern="[") == []


def test_list_fields(capi: Api) -> None:
    replay(capi, "a")
    (item,) = capi.get(P, params={"fields": "clock"}).json["replays"]
    assert list(item) == ["clock", "id", "link"]
    # `stats` is in the single-replay body but is not a list field.
    resp = capi.get(P, params={"fields": "stats"})
    assert (resp.status, error_of(resp)) == (400, 'unsupported field "stats"')
    assert_matches_spec("listReplays", 400, resp.body)
    assert capi.get(P, params={"fields": "stats", "pattern": "none"}).json == {"replays": []}


def test_snapshot_restore(capi: Api, clock: Clock) -> None:
    replay(capi, "done")
    clock.advance(1)
    replay(capi, "running")
    other = clocked_api(clock)
    other.state.recordings.restore(capi.state.recordings.snapshot())
    assert other.get(P + "/done").json == capi.get(P + "/done").json
    failed = other.get(P + "/running").json
    assert (failed["status"], failed["error"], failed["stats"]) == ("failed", "unexpected Kapacitor shutdown", {})


@pytest.mark.server
def test_record_and_replay_on_waitress() -> None:
    """TestServer_RecordReplayStream's flow against a real socket with wall time."""
    app = create_app(MockConfig(run_delay=0.05, stream_timeout=5.0))
    handle = serve_in_thread(app)
    try:
        api = Api(app, handle.url)
        make_task(api, "testStreamTask", STREAM_TICK)
        assert record_stream(api, "recordingid", task="testStreamTask").status == 201
        lines = "".join(f"test value=1 {t:010d}\n" for t in range(13))
        assert api.post(W, params={"db": "mydb", "rp": "myrp", "precision": "s"}, body=lines).status == 204
        recording = poll(api, R + "/recordingid").json
        assert (recording["status"], recording["error"]) == ("finished", "")
        resp = replay(
            api,
            "replayid",
            task="testStreamTask",
            recording="recordingid",
            clock="fast",
            options={"recording-time": True},
        )
        assert resp.status == 201 and resp.json["link"]["href"] == "/kapacitor/v1/replays/replayid"
        done = poll(api, P + "/replayid")
        assert_matches_spec("getReplay", 200, done.body)
        assert (done.json["status"], done.json["error"], done.json["task"]) == ("finished", "", "testStreamTask")
        assert [r["id"] for r in api.get(R).json["recordings"]] == ["recordingid"]
        assert api.delete(R + "/recordingid").status == 204
        assert api.get(R).json["recordings"] == []
        assert list_ids(api) == ["replayid"]
        assert api.delete(P + "/replayid").status == 204
        assert list_ids(api) == []
    finally:
        handle.stop()


def test_a_replay_runs_its_task_outside_the_shared_lock(clock: Clock) -> None:
    """While the data plane runs a task over a recording, other requests are answered (the global
    lock is free) and the replay reads `running`, even past its deadline; it finishes with the
    stats of that run once the work is done."""
    import threading

    api = clocked_api(clock)
    make_task(api, "st", STREAM_TICK)
    assert record_stream(api, "rec", task="st").status == 201
    write(api, "".join(f"test value={t} {t:010d}\n" for t in range(12)))
    assert api.get(R + "/rec").json["status"] == "finished"

    engine = api.state.engine
    real_replay = engine.replay
    entered, release = threading.Event(), threading.Event()

    def slow_replay(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10), "the test never released the replay"
        return real_replay(*args, **kwargs)

    engine.replay = slow_replay  # type: ignore[method-assign]
    answers: list[Response] = []
    worker = threading.Thread(target=lambda: answers.append(replay(api, "rp", task="st", recording="rec")))
    worker.start()
    try:
        assert entered.wait(10)
        clock.advance(5)  # past the run's deadline
        assert api.get("/kapacitor/v1/ping").status == 204
        assert [t["id"] for t in api.get(T + "?fields=id").json["tasks"]] == ["st"]
        running = api.get(P + "/rp")
        assert (running.status, running.json["status"]) == (202, "running")
    finally:
        release.set()
        worker.join(10)
    assert not worker.is_alive() and answers[0].status == 201
    done = api.get(P + "/rp").json
    assert (done["status"], done["error"]) == ("finished", "")
    assert done["stats"]["node-stats"]["stream0"]["collected"] == 11  # the points up to `stop` (10s)
