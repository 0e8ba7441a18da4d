"""Recordings over HTTP: behaviour reference §2 and §6, the real-server transcript and server_test.go.

Lifecycle tests drive the mock with an injected clock, so the running → finished transition is
observed deterministically; one test runs the whole flow on a real waitress with wall time, polling
like the Go client.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.gotime import format_ns
from mockserver.server import serve_in_thread
from mockserver.store import MockState
from tests.mock.conftest import Api, Response, error_of
from tests.mock.spec_check import assert_matches_spec

#: A query a real server sends on to InfluxDB (one fully qualified measurement).
QUALIFIED = 'SELECT mean(value) FROM "mydb"."myrp"."test"'
R = "/kapacitor/v1/recordings"
T = "/kapacitor/v1/tasks"
W = "/kapacitor/v1/write"
SEC = 1_000_000_000
START = 1_700_000_000 * SEC + 250_000_000
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
STREAM_TICK = "stream\n    |from()\n        .measurement('test')\n"
BATCH_TICK = 'batch\n    |query(\'SELECT mean(value) FROM "mydb"."myrp"."test"\')\n        .period(10s)\n        .every(10s)\n    |log()\n'
RECORDING_KEYS = ["link", "id", "type", "size", "date", "error", "status", "progress"]
OPS = {"stream": "recordStream", "batch": "recordBatch", "query": "recordQuery"}
INVALID_ID = "recording ID must contain only letters, numbers, '-', '.' and '_'. {}"


class Clock:
    """A settable clock for the mock state (nanoseconds)."""

    def __init__(self, now: int = START) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * SEC)


def clocked_api(clock: Clock, **config: Any) -> Api:
    cfg = MockConfig(**{"run_delay": 1.0, "stream_timeout": 60.0, **config})
    return Api(create_app(cfg, MockState(cfg, clock=clock)))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def capi(clock: Clock) -> Api:
    return clocked_api(clock)


def make_task(
    api: Api, task_id: str = "task_id", script: str = STREAM_TICK, db: str = "mydb", rp: str = "myrp"
) -> None:
    resp = api.post(T, {"id": task_id, "dbrps": [{"db": db, "rp": rp}], "script": script, "status": "disabled"})
    assert resp.status == 200, resp.text


def record_stream(
    api: Api, rec_id: str | None = "rec", task: str = "task_id", stop: str | None = "1970-01-01T00:00:10Z"
) -> Response:
    body: dict[str, Any] = {"task": task}
    if rec_id is not None:
        body["id"] = rec_id
    if stop is not None:
        body["stop"] = stop
    resp = api.post(R + "/stream", body)
    assert_matches_spec("recordStream", resp.status, resp.body)
    return resp


def write(api: Api, lines: str, db: str = "mydb", rp: str = "myrp", precision: str = "s") -> None:
    assert api.post(W, params={"db": db, "rp": rp, "precision": precision}, body=lines).status == 204


# ---- create -------------------------------------------------------------------------------------


def test_record_stream_starts_running(capi: Api) -> None:
    make_task(capi)
    resp = record_stream(capi, "recordingid")
    assert resp.status == 201
    assert_matches_spec("recordStream", 201, resp.body)
    body = resp.json
    assert list(body) == RECORDING_KEYS
    assert body["link"] == {"rel": "self", "href": "/kapacitor/v1/recordings/recordingid"}
    assert (body["id"], body["type"], body["size"], body["error"], body["status"], body["progress"]) == (
        "recordingid", "stream", 0, "", "running", 0,
    )  # fmt: skip
    assert body["date"] == format_ns(START)


def test_generated_id_is_a_uuid4(capi: Api) -> None:
    make_task(capi)
    body = record_stream(capi, None).json
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", body["id"])


@pytest.mark.parametrize("rec_id", ["recording_id", "recording_id7", "recording.id7", "recording-id7", "récording7"])
def test_valid_ids(capi: Api, rec_id: str) -> None:
    make_task(capi)
    assert record_stream(capi, rec_id).status == 201
    assert capi.get(f"{R}/{rec_id}").json["id"] == rec_id


@pytest.mark.parametrize(
    ("rec_id", "quoted"),
    [("invalid id", '"invalid id"'), ("invalid*id", '"invalid*id"'), ("recording/id7", '"recording/id7"')],
)
@pytest.mark.parametrize("kind", ["stream", "batch", "query"])
def test_invalid_ids(capi: Api, rec_id: str, quoted: str, kind: str) -> None:
    body = {"id": rec_id, "task": "nope", "start": "2020-01-01T00:00:00Z", "query": QUALIFIED, "type": "batch"}
    resp = capi.post(f"{R}/{kind}", body)
    assert resp.status == 400
    assert error_of(resp) == INVALID_ID.format(quoted)
    assert_matches_spec(OPS[kind], 400, resp.body)


@pytest.mark.parametrize("kind", ["stream", "batch"])
def test_missing_task_is_404(capi: Api, kind: str) -> None:
    resp = capi.post(f"{R}/{kind}", {"task": "nope", "start": "2020-01-01T00:00:00Z"})
    assert (resp.status, error_of(resp)) == (404, "no task exists")


def test_duplicate_id_is_500(capi: Api) -> None:
    make_task(capi)
    assert record_stream(capi).status == 201
    resp = capi.post(R + "/query", {"id": "rec", "query": QUALIFIED, "type": "stream"})
    assert (resp.status, error_of(resp)) == (500, "recording already exists")
    assert_matches_spec("recordQuery", 500, resp.body)


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("stream", b"", "EOF"),
        ("batch", b"   ", "EOF"),
        ("stream", b"[]", "json: cannot unmarshal array into Go value of type client.RecordStreamOptions"),
        ("query", b'"x"', "json: cannot unmarshal string into Go value of type client.RecordQueryOptions"),
        (
            "stream",
            b'{"task": 5}',
            "json: cannot unmarshal number into Go struct field RecordStreamOptions.task of type string",
        ),
        ("query", b'{"query": "q", "type": "x"}', "unknown TaskType x"),
        ("query", b'{"query": "q", "type": ""}', "unknown TaskType "),
        (
            "query",
            b'{"query": "q", "type": 1}',
            "json: cannot unmarshal number into Go struct field RecordQueryOptions.type of type client.TaskType",
        ),
        # A field's own unmarshaller stops decoding at once and wins over an earlier type mismatch.
        ("query", b'{"id": 1, "type": "x"}', "unknown TaskType x"),
        ("stream", b'{"task": "t", "stop": "2020-01-01"}', None),
        ("stream", b'{"task": "t", "stop": 5}', None),
        ("stream", b'{"task": "t"', "unexpected EOF"),
    ],
)
def test_decode_errors_are_400_with_the_raw_go_text(capi: Api, kind: str, body: bytes, message: str | None) -> None:
    resp = capi.request("POST", f"{R}/{kind}", body=body)
    assert resp.status == 400
    assert_matches_spec(OPS[kind], 400, resp.body)
    if message is None:
        assert error_of(resp).startswith("parsing time ")
    else:
        assert error_of(resp) == message


def test_json_keys_are_case_insensitive_and_trailing_data_ignored(capi: Api) -> None:
    make_task(capi)
    resp = capi.request("POST", R + "/stream", body=b'{"ID": "r1", "TASK": "task_id"} trailing')
    assert resp.status == 201 and resp.json["id"] == "r1"


def test_batch_needs_a_start_time(capi: Api) -> None:
    make_task(capi, script=BATCH_TICK)
    for body in ({"task": "task_id"}, {"task": "task_id", "start": "0001-01-01T00:00:00Z"}):
        resp = capi.post(R + "/batch", body)
        assert (resp.status, error_of(resp)) == (400, "must provide start time")
    # The start check comes before the task lookup.
    resp = capi.post(R + "/batch", {"task": "nope"})
    assert error_of(resp) == "must provide start time"


def test_query_needs_a_query(capi: Api) -> None:
    for body in ({"type": "stream"}, {"query": "", "type": "batch"}):
        resp = capi.post(R + "/query", body)
        assert (resp.status, error_of(resp)) == (400, "must provide query")


# ---- lifecycle ------------------------------------------------------------------------------------


def test_batch_recording_runs_then_finishes(capi: Api, clock: Clock) -> None:
    make_task(capi, script=BATCH_TICK)
    created = capi.post(R + "/batch", {"id": "b", "task": "task_id", "start": "2020-01-01T00:00:00Z"})
    assert created.status == 201 and created.json["type"] == "batch"
    running = capi.get(R + "/b")
    assert running.status == 202
    assert_matches_spec("getRecording", 202, running.body)
    assert running.json == created.json
    clock.advance(1.5)
    done = capi.get(R + "/b")
    assert done.status == 200
    assert_matches_spec("getRecording", 200, done.body)
    body = done.json
    assert (body["status"], body["error"], body["progress"]) == ("finished", "", 1)
    assert body["size"] > 0
    # The date is overwritten with the completion time (the run's deadline).
    assert body["date"] == format_ns(START + SEC)


@pytest.mark.parametrize("kind", ["stream", "batch"])
def test_query_recordings_finish(capi: Api, clock: Clock, kind: str) -> None:
    resp = capi.post(R + "/query", {"id": "q", "query": QUALIFIED, "type": kind})
    assert resp.status == 201 and resp.json["type"] == kind
    clock.advance(1)
    body = capi.get(R + "/q").json
    assert (body["status"], body["type"], body["progress"]) == ("finished", kind, 1)
    assert body["size"] > 0


@pytest.mark.parametrize("body", [{"query": QUALIFIED}, {"query": QUALIFIED, "type": "invalid"}])
def test_query_recording_without_a_type_fails_asynchronously(capi: Api, clock: Clock, body: dict[str, Any]) -> None:
    resp = capi.post(R + "/query", {"id": "q", **body})
    assert resp.status == 201 and resp.json["type"] == "stream" and resp.json["status"] == "running"
    clock.advance(1)
    done = capi.get(R + "/q")
    assert done.status == 200
    assert done.json["status"] == "failed" and done.json["error"] and done.json["progress"] == 1


def test_batch_recording_of_a_stream_task_fails(capi: Api, clock: Clock) -> None:
    make_task(capi)
    assert capi.post(R + "/batch", {"id": "b", "task": "task_id", "start": "2020-01-01T00:00:00Z"}).status == 201
    clock.advance(1)
    body = capi.get(R + "/b").json
    assert (body["status"], body["error"]) == ("failed", "wrong task type")
    assert_matches_spec("getRecording", 200, body)


# TestServer_RecordReplayStream: points up to `stop` are recorded, the first later one ends it.
POINTS = "\n".join(f"test value=1 {t}" for t in (0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10, 11, 12)) + "\n"


def test_stream_recording_finishes_on_a_point_after_stop(capi: Api, clock: Clock) -> None:
    make_task(capi)
    record_stream(capi, "recordingid")
    write(capi, "test value=1 5\n")
    running = capi.get(R + "/recordingid")
    assert (running.status, running.json["status"], running.json["size"]) == (202, "running", 0)
    clock.advance(0.5)
    write(capi, POINTS)
    done = capi.get(R + "/recordingid")
    assert done.status == 200
    body = done.json
    assert (body["status"], body["error"], body["progress"]) == ("finished", "", 1)
    assert body["date"] == format_ns(START + SEC // 2)
    assert body["size"] > 0


def test_stream_recording_records_only_its_tasks_data(clock: Clock) -> None:
    sizes = {}
    for name, extra in (
        ("base", ""),
        ("noise", "test value=1 1\nother value=1 1\n"),
        ("more", "test value=1 2\ntest value=2 3\n"),
    ):
        api = clocked_api(clock)
        make_task(api)
        record_stream(api, "r")
        write(api, "test value=1 1\n")
        write(api, "test value=1 1\n", db="otherdb")  # other DBRPs and measurements are not recorded
        write(api, "test value=1 1\n", rp="")
        if name == "noise":
            write(api, extra.split("\n")[1] + "\n")
        elif name == "more":
            write(api, extra)
        write(api, "test value=1 99\n")
        body = api.get(R + "/r").json
        assert body["status"] == "finished"
        sizes[name] = body["size"]
    assert sizes["noise"] == sizes["base"]
    assert sizes["more"] > sizes["base"]


def test_stream_recording_without_stop_ends_at_the_first_point(capi: Api) -> None:
    make_task(capi)
    record_stream(capi, "r", stop=None)
    write(capi, "other value=1 1\n")  # not for this task: ignored
    assert capi.get(R + "/r").status == 202
    write(capi, "test value=1 -5\n")
    assert capi.get(R + "/r").json["status"] == "finished"


def test_stream_recording_times_out(clock: Clock) -> None:
    api = clocked_api(clock, stream_timeout=2.0)
    make_task(api)
    record_stream(api, "r")
    clock.advance(1.9)
    assert api.get(R + "/r").status == 202
    clock.advance(0.2)
    resp = api.get(R + "/r")
    assert resp.status == 200 and resp.json["status"] == "finished"
    assert resp.json["date"] == format_ns(START + 2 * SEC)


def test_stream_recording_runs_until_its_stop_time(clock: Clock) -> None:
    """`kapacitor record stream -duration 30s` sets stop 30 s ahead: a real server keeps it running
    at least that long (until a point past stop); the mock's timeout does not cut it short."""
    api = clocked_api(clock, stream_timeout=2.0)
    make_task(api)
    record_stream(api, "r", stop=format_ns(START + 30 * SEC))
    clock.advance(29)
    assert api.get(R + "/r").status == 202
    clock.advance(1.5)
    resp = api.get(R + "/r")
    assert resp.status == 200 and resp.json["status"] == "finished"
    assert resp.json["date"] == format_ns(START + 30 * SEC)


def test_stream_recording_of_a_batch_task_gets_no_data(capi: Api) -> None:
    make_task(capi, script=BATCH_TICK)
    record_stream(capi, "r")
    write(capi, "test value=1 99\n")
    assert capi.get(R + "/r").status == 202


# ---- get / delete ---------------------------------------------------------------------------------


def test_get_missing_is_500(api: Api) -> None:
    resp = api.get(R + "/nope")
    assert (resp.status, error_of(resp)) == (500, "error finding recording: no recording exists")
    assert_matches_spec("getRecording", 500, resp.body)
    # `stream` on GET is just an ID.
    assert api.get(R + "/stream").status == 500


def test_get_without_id(api: Api) -> None:
    resp = api.get(R + "/")
    assert (resp.status, error_of(resp)) == (400, "must specify recording id on path")


def test_delete(capi: Api) -> None:
    make_task(capi)
    record_stream(capi, "r")
    resp = capi.delete(R + "/r")
    assert resp.status == 204 and resp.body == b""
    assert_matches_spec("deleteRecording", 204, resp.body)
    assert capi.get(R + "/r").status == 500
    assert capi.delete(R + "/r").status == 204
    assert capi.delete(R + "/never").status == 204
    assert error_of(capi.delete(R + "/")) == "must specify recording id on path"


def test_a_deleted_running_recording_does_not_come_back(capi: Api, clock: Clock) -> None:
    capi.post(R + "/query", {"id": "q", "query": QUALIFIED, "type": "batch"})
    capi.delete(R + "/q")
    clock.advance(5)
    assert capi.get(R + "/q").status == 500
    assert capi.get(R).json == {"recordings": []}


# ---- list -----------------------------------------------------------------------------------------


def ids(resp: Response) -> list[str]:
    assert resp.status == 200, resp.text
    assert_matches_spec("listRecordings", 200, resp.body)
    return [item["id"] for item in resp.json["recordings"]]


def seed(api: Api, clock: Clock, names: list[str], gap: float = 1.0) -> None:
    for name in names:
        resp = api.post(R + "/query", {"id": name, "query": QUALIFIED, "type": "stream"})
        assert resp.status == 201
        assert_matches_spec("recordQuery", 201, resp.body)
        clock.advance(gap)


def test_list_is_newest_first_with_default_fields(capi: Api, clock: Clock) -> None:
    seed(capi, clock, ["a", "b", "c"], gap=0.1)  # finished in the same second: ties by ID descending
    clock.advance(10)
    seed(capi, clock, ["x"])
    resp = capi.get(R)
    assert_matches_spec("listRecordings", 200, resp.body)
    assert ids(resp) == ["x", "c", "b", "a"]
    item = resp.json["recordings"][0]
    assert list(item) == sorted(RECORDING_KEYS)
    assert item["link"] == {"rel": "self", "href": "/kapacitor/v1/recordings/x"}
    assert RFC3339.match(item["date"])


def test_list_order_follows_the_completion_date(capi: Api, clock: Clock) -> None:
    make_task(capi)
    record_stream(capi, "stream-first")  # finishes later, on data
    clock.advance(1)
    seed(capi, clock, ["query-second"], gap=3)
    assert ids(capi.get(R)) == ["query-second", "stream-first"]
    write(capi, "test value=1 99\n")
    assert ids(capi.get(R)) == ["stream-first", "query-second"]


def test_list_fields(capi: Api, clock: Clock) -> None:
    seed(capi, clock, ["a"])
    resp = capi.get(R, params=[("fields", "status"), ("fields", "size")])
    assert_matches_spec("listRecordings", 200, resp.body)
    (item,) = resp.json["recordings"]
    assert list(item) == ["id", "link", "size", "status"]
    resp = capi.get(R, params={"fields": "nope"})
    assert (resp.status, error_of(resp)) == (400, 'unsupported field "nope"')
    assert error_of(capi.get(R, params={"fields": ""})) == 'unsupported field ""'
    # Checked per listed item: with nothing listed there is nothing to complain about.
    assert capi.get(R, params={"fields": "nope", "pattern": "zzz"}).json == {"recordings": []}


def test_list_pattern_offset_limit(capi: Api, clock: Clock) -> None:
    seed(capi, clock, ["r1", "r2", "r3", "s1", "s2"])
    assert ids(capi.get(R, params={"pattern": "r*"})) == ["r3", "r2", "r1"]
    assert ids(capi.get(R, params={"pattern": "?2"})) == ["s2", "r2"]
    assert ids(capi.get(R, params={"offset": "1", "limit": "2"})) == ["s1", "r3"]
    assert ids(capi.get(R, params={"pattern": "r*", "offset": "1"})) == ["r2", "r1"]
    assert ids(capi.get(R, params={"offset": "-3", "limit": "1"})) == ["s2"]
    assert ids(capi.get(R, params={"limit": "0"})) == []
    assert ids(capi.get(R, params={"offset": "10"})) == []
    # A negative limit returns everything, ignoring pattern and offset.
    assert ids(capi.get(R, params={"limit": "-1", "pattern": "r1", "offset": "3"})) == ["s2", "s1", "r3", "r2", "r1"]
    # A malformed pattern matches nothing.
    assert ids(capi.get(R, params={"pattern": "["})) == []


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("offset", "abc", 'invalid offset parameter "abc" must be an integer: strconv.ParseInt: parsing "abc": invalid syntax'),
        ("limit", "1.5", 'invalid limit parameter "1.5" must be an integer: strconv.ParseInt: parsing "1.5": invalid syntax'),
        ("limit", "99999999999999999999", 'invalid limit parameter "99999999999999999999" must be an integer: strconv.ParseInt: parsing "99999999999999999999": value out of range'),
    ],
)  # fmt: skip
def test_list_bad_paging(api: Api, param: str, value: str, message: str) -> None:
    resp = api.get(R, params={param: value})
    assert (resp.status, error_of(resp)) == (400, message)
    assert_matches_spec("listRecordings", 400, resp.body)


def test_dot_ids_and_the_date_index(capi: Api, clock: Clock) -> None:
    """Index keys are path-joined: `.` is listed, `..` is stored but never listed."""
    seed(capi, clock, [".", ".."])
    assert ids(capi.get(R)) == ["."]
    assert ".." in capi.state.recordings.recordings


# ---- backup -------------------------------------------------------------------------------------


def test_snapshot_restore_fails_running_recordings(capi: Api, clock: Clock) -> None:
    make_task(capi)
    record_stream(capi, "running")
    seed(capi, clock, ["done"], gap=2)
    snap = capi.state.recordings.snapshot()
    other = clocked_api(clock)
    other.state.recordings.restore(snap)
    done = other.get(R + "/done")
    assert (done.status, done.json["status"]) == (200, "finished")
    assert done.json == capi.get(R + "/done").json
    failed = other.get(R + "/running")
    assert failed.status == 200
    assert (failed.json["status"], failed.json["error"]) == ("failed", "unexpected Kapacitor shutdown")
    assert ids(other.get(R)) == ids(capi.get(R))


# ---- over a real socket, with wall time -------------------------------------------------------------


def poll(api: Api, path: str, timeout: float = 5.0) -> Response:
    """Like the Go client: 202 while running, 200 once finished or failed."""
    deadline = time.monotonic() + timeout
    op_id = "getReplay" if "/replays/" in path else "getRecording"
    while True:
        resp = api.get(path)
        assert resp.status in (200, 202), resp.text
        assert_matches_spec(op_id, resp.status, resp.body)
        if resp.status == 200:
            return resp
        assert time.monotonic() < deadline, "recording never finished"
        time.sleep(0.01)


@pytest.mark.server
def test_lifecycle_on_waitress() -> None:
    app = create_app(MockConfig(run_delay=0.05, stream_timeout=0.3))
    handle = serve_in_thread(app)
    try:
        api = Api(app, handle.url)
        make_task(api)
        make_task(api, "batch_task", BATCH_TICK)
        assert record_stream(api, "s").status == 201
        assert api.post(R + "/batch", {"id": "b", "task": "batch_task", "start": "2020-01-01T00:00:00Z"}).status == 201
        assert api.post(R + "/query", {"id": "q", "query": QUALIFIED, "type": "batch"}).status == 201
        write(api, POINTS)
        for rec in ("s", "b", "q"):
            done = poll(api, f"{R}/{rec}")
            assert_matches_spec("getRecording", 200, done.body)
            assert done.json["status"] == "finished" and done.json["progress"] == 1 and done.json["size"] > 0
        assert sorted(ids(api.get(R))) == ["b", "q", "s"]
        # A stream recording nobody feeds ends by the timeout.
        assert record_stream(api, "idle").status == 201
        assert poll(api, R + "/idle").json["status"] == "finished"
        assert api.delete(R + "/s").status == 204
        assert sorted(ids(api.get(R))) == ["b", "idle", "q"]
    finally:
        handle.stop()


#: Measured on a real 1.5.7 (no InfluxDB configured): the query is parsed before InfluxDB is asked,
#: and a query that is not one fully qualified measurement fails the recording at once, size 0.
NOT_QUALIFIED = "could not determine database and retention policy. Is the query fully qualified?"
EXPECTED = "SELECT, DELETE, SHOW, CREATE, DROP, GRANT, REVOKE, ALTER, SET, KILL"
REFUSED_QUERIES = [
    ("SELECT * FROM cpu", NOT_QUALIFIED),
    ("SELECT * FROM telegraf..cpu", NOT_QUALIFIED),
    ("SELECT * FROM a.b", NOT_QUALIFIED),
    ("SELECT * FROM a.b.c, d.e.f", NOT_QUALIFIED),
    ("SELECT * FROM /c.*/", NOT_QUALIFIED),
    ("SHOW DATABASES", NOT_QUALIFIED),
    ("SELEC x", f"found SELEC, expected {EXPECTED} at line 1, char 1"),
    (" \n  foo", f"found foo, expected {EXPECTED} at line 2, char 3"),
    ("SELECT 1", "found EOF, expected FROM at line 1, char 9"),
    ("SELECT * FROM (SELECT * FROM a.b.c)", "found (, expected identifier at line 1, char 15"),
]


@pytest.mark.parametrize(("query", "error"), REFUSED_QUERIES)
def test_query_recording_refused_before_influxdb(clock: Clock, query: str, error: str) -> None:
    api = clocked_api(clock, kapacitor_version="1.5.7")
    resp = api.post(R + "/query", {"id": "q", "query": query, "type": "stream"})
    assert resp.status == 201 and resp.json["status"] == "running"
    body = api.get(R + "/q").json
    assert (body["status"], body["error"], body["size"], body["progress"]) == ("failed", error, 0, 1)


@pytest.mark.parametrize("query", [QUALIFIED, 'select "from" from t."a b"./x/', "SELECT * FROM a.b.c WHERE x = 'FROM y'"])
def test_qualified_query_recording_keeps_the_success_path(capi: Api, clock: Clock, query: str) -> None:
    assert capi.post(R + "/query", {"id": "q", "query": query, "type": "batch"}).status == 201
    clock.advance(1)
    assert capi.get(R + "/q").json["status"] == "finished"


@pytest.mark.parametrize(("query", "error"), REFUSED_QUERIES)
def test_query_replay_refused_before_influxdb(clock: Clock, query: str, error: str) -> None:
    api = clocked_api(clock, kapacitor_version="1.5.7")
    make_task(api, "bt", BATCH_TICK)
    resp = api.post("/kapacitor/v1/replays/query", {"id": "p", "task": "bt", "query": query})
    assert resp.status == 201 and resp.json["status"] == "running"
    body = api.get("/kapacitor/v1/replays/p").json
    assert (body["status"], body["error"]) == ("failed", f"running replay: {error}")
