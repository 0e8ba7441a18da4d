"""The Flux task API (1.6+, only with flux tasks on): behaviour reference §14, task/http/task_service.go,
task/kv/task.go, task/options, the analytical run store and TestFluxTasks_Basic."""

from __future__ import annotations

import json
import re

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import serve_in_thread
from mockserver.store.flux_errors import GoError
from mockserver.store.flux_script import edit_task_option, find_task_options, options_from_script
from tests.mock.conftest import Api, Response
from tests.mock.spec_check import assert_matches_spec

B = "/kapacitor/v1/api/v2/tasks"
JSON_TYPE = "application/json; charset=utf-8"
POSTER = (
    'import "http"\noption task = {concurrency: 1, name:"poster", every:1s}\nhttp.post(url: "http://localhost:1")\n'
)
ID16 = re.compile(r"[0-9a-f]{16}\Z")


@pytest.fixture
def flux(make_api) -> Api:  # type: ignore[no-untyped-def]
    return make_api(flux_tasks=True)


def script(name: str = "t", every: str = "1h", extra: str = "") -> str:
    return f'option task = {{name: "{name}", every: {every}{extra}}}\n\nfrom(bucket: "db/rp") |> range(start: -1h)\n'


def create(api: Api, flux: str | None = None, **fields: object) -> Response:
    body = {"flux": flux if flux is not None else script(), **fields}
    return api.post(B, body)


def ok(resp: Response, op_id: str, status: int) -> dict:
    assert resp.status == status, resp.text
    assert resp.headers["content-type"] == JSON_TYPE
    assert resp.body.endswith(b"}\n") and b"\n" not in resp.body[:-1]  # compact + newline
    assert_matches_spec(op_id, status, resp.body)
    return resp.json


def fails(resp: Response, op_id: str, status: int, code: str) -> str:
    assert resp.status == status, resp.text
    assert resp.headers["content-type"] == JSON_TYPE
    assert resp.headers["x-platform-error-code"] == code
    assert not resp.body.endswith(b"\n")  # json.Marshal: no newline
    assert_matches_spec(op_id, status, resp.body)
    body = resp.json
    assert body["code"] == code
    return body["message"]


# ---- availability ---------------------------------------------------------------------------------


@pytest.mark.parametrize("config", [{}, {"flux_tasks": True, "kapacitor_version": "1.5.9"}])
def test_absent_unless_enabled_on_1_6_or_later(make_api, config: dict) -> None:  # type: ignore[no-untyped-def]
    resp = make_api(**config).get(B)
    assert resp.status == 404
    assert resp.json["error"] == "Not Found"


# ---- TestFluxTasks_Basic --------------------------------------------------------------------------


def test_basic_lifecycle(flux: Api) -> None:
    assert flux.get(B).body == b'{"links":{"self":"/kapacitor/v1/api/v2/tasks?limit=100"},"tasks":[]}\n'
    created = ok(create(flux, POSTER, status="active", description="simple post"), "createFluxTask", 201)
    task_id = created["id"]
    assert ID16.match(task_id)
    assert created["orgID"] == ""
    assert created["name"] == "poster"
    assert created["links"] == {
        "self": f"{B}/{task_id}",
        "runs": f"{B}/{task_id}/runs",
        "logs": f"{B}/{task_id}/logs",
    }
    assert created["labels"] is None
    assert created["every"] == "1s"
    assert created["status"] == "active"
    assert created["description"] == "simple post"
    assert created["flux"] == POSTER
    assert created["latestCompleted"] == created["createdAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created["createdAt"])  # RFC 3339, seconds

    ok(flux.post(f"{B}/{task_id}/runs"), "startFluxTaskRun", 201)
    logs = ok(flux.get(f"{B}/{task_id}/logs"), "listFluxTaskLogs", 200)
    assert logs["events"][0]["message"].startswith("Started task from script:")
    runs = ok(flux.get(f"{B}/{task_id}/runs"), "listFluxTaskRuns", 200)
    assert runs["links"] == {"task": f"{B}/{task_id}", "self": f"{B}/{task_id}/runs"}

    ok(flux.patch(f"{B}/{task_id}", {"every": "10m"}), "updateFluxTask", 200)
    assert ok(flux.get(f"{B}/{task_id}"), "getFluxTask", 200)["every"] == "10m"

    deleted = flux.delete(f"{B}/{task_id}")
    assert deleted.status == 204
    assert deleted.body == b""
    assert flux.get(B).body == b'{"links":{"self":"/kapacitor/v1/api/v2/tasks?limit=100"},"tasks":[]}\n'


def test_owner_is_the_request_user(flux: Api) -> None:
    # Without authentication every request runs as the server's anonymous admin user.
    assert ok(create(flux), "createFluxTask", 201)["ownerID"] == "ADMIN_USER"


def test_task_key_order(flux: Api) -> None:
    body = create(flux, script(extra=", offset: 90s"), description="d").json
    assert list(body) == [
        "links", "labels", "id", "ownerID", "orgID", "name", "description", "status", "flux", "every",
        "offset", "latestCompleted", "createdAt",
    ]  # fmt: skip
    assert body["offset"] == "1m30s"


def test_cron_task(flux: Api) -> None:
    body = ok(create(flux, 'option task = {name: "c", cron: "0 * * * *"}\n'), "createFluxTask", 201)
    assert body["cron"] == "0 * * * *"
    assert "every" not in body


# ---- create errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ("", 400, "invalid", "failed to decode request: EOF"),
        ("[]", 400, "invalid", "failed to decode request: json: cannot unmarshal array into Go value of type taskmodel.TaskCreate"),
        ('{"flux": 1}', 400, "invalid", "failed to decode request: json: cannot unmarshal number into Go struct field TaskCreate.flux of type string"),
        ("{}", 400, "invalid", "failed to decode request: missing flux"),
        (json.dumps({"flux": script(), "status": "paused"}), 400, "invalid", 'failed to decode request: invalid task status: "paused"'),
        (json.dumps({"flux": script(), "orgID": "xyz"}), 400, "invalid", "failed to decode request: id must have a length of 16 bytes"),
        (json.dumps({"flux": 'x = 1\n'}), 400, "invalid", "invalid options: no task options defined"),
        (json.dumps({"flux": script() + script()}), 400, "invalid", "invalid options: multiple task options defined"),
        (json.dumps({"flux": "option task = 5"}), 400, "invalid", 'invalid options: task option expected to be object literal, but found "ObjectExpression"'),
        (json.dumps({"flux": "option task = {every: 1h}"}), 400, "invalid", "invalid options: missing required option: name"),
        (json.dumps({"flux": "option task = {name: n, every: 1h}"}), 400, "invalid", "invalid options: failed to parse field 'name' in task options"),
        (json.dumps({"flux": 'option task = {name: "n"}'}), 400, "invalid", "invalid options: missing required option: cron or every"),
        (json.dumps({"flux": 'option task = {name: "n", every: 1h, cron: "* * * * *"}'}), 400, "invalid", "invalid options: cannot use both cron and every in task options"),
        (json.dumps({"flux": 'option task = {name: "n", every: "1h"}'}), 400, "invalid", "invalid options: failed to parse field 'every' in task options"),
        (json.dumps({"flux": 'option task = {name: "", every: 100ms}'}), 400, "invalid", "invalid options: invalid options: name required, every option must be at least 1 second"),
        (json.dumps({"flux": 'option task = {name: "n", every: 1500ms}'}), 400, "invalid", "invalid options: invalid options: every option must be expressible as whole seconds"),
        (json.dumps({"flux": 'option task = {name: "n", every: 1h, concurrency: 0, retry: 11}'}), 400, "invalid", "invalid options: invalid options: concurrency must be at least 1, retry exceeded max of 10"),
        (json.dumps({"flux": 'option task = {name: "n", every: 1h, offset: 1d}'}), 500, "internal error", 'unexpected error parsing time: time: unknown unit "d" in duration "1d"'),
    ],
)  # fmt: skip
def test_create_errors(flux: Api, body: str, status: int, code: str, message: str) -> None:
    assert fails(flux.post(B, body=body), "createFluxTask", status, code) == message


# ---- get / list -----------------------------------------------------------------------------------


def test_get_errors(flux: Api) -> None:
    assert fails(flux.get(f"{B}/zz"), "getFluxTask", 400, "invalid") == (
        "failed to decode request: id must have a length of 16 bytes"
    )
    assert (
        fails(flux.get(f"{B}/000000000000000g"), "getFluxTask", 400, "invalid")
        == "failed to decode request: invalid ID"
    )
    assert (
        fails(flux.get(f"{B}/0000000000000000"), "getFluxTask", 400, "invalid")
        == "failed to decode request: invalid ID"
    )
    assert fails(flux.get(f"{B}/0000000000000001"), "getFluxTask", 404, "not found") == (
        "failed to find task: task not found"
    )


def test_upper_case_ids_name_the_same_task(flux: Api) -> None:
    task_id = create(flux).json["id"]
    assert flux.get(f"{B}/{task_id.upper()}").json["id"] == task_id


def test_list_paging(flux: Api) -> None:
    ids = [create(flux, script(name=f"t{i}")).json["id"] for i in range(3)]
    assert ids == sorted(ids)  # IDs grow with time, the list is in ID order
    page = ok(flux.get(B, params={"limit": "2"}), "listFluxTasks", 200)
    assert [t["id"] for t in page["tasks"]] == ids[:2]
    assert page["links"] == {
        "self": f"{B}?limit=2",
        "next": f"{B}?after={ids[1]}&limit=2",
    }
    rest = ok(flux.get(B, params={"after": ids[1], "limit": "2"}), "listFluxTasks", 200)
    assert [t["id"] for t in rest["tasks"]] == ids[2:]
    assert rest["links"] == {"self": f"{B}?after={ids[1]}&limit=2"}


def test_list_filters(flux: Api) -> None:
    create(flux, script(name="a"))
    create(flux, script(name="b"), status="inactive")
    names = lambda **p: [t["name"] for t in flux.get(B, params=p).json["tasks"]]
    assert names(status="inactive") == ["b"]
    assert names(status="active") == ["a"]
    assert names(status="other") == ["a", "b"]  # other values are ignored
    assert names(name="a") == ["a"]
    assert names(user="ADMIN_USER") == ["a", "b"]
    assert names(user="someone") == []
    links = flux.get(B, params={"user": "x y", "name": "a"}).json["links"]
    assert links == {"self": f"{B}?limit=100&username=x+y"}


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "failed to decode request: limit must be between 1 and 500"),
        ("501", "failed to decode request: limit must be between 1 and 500"),
        ("ten", 'failed to decode request: strconv.Atoi: parsing "ten": invalid syntax'),
    ],
)
def test_list_bad_limit(flux: Api, limit: str, message: str) -> None:
    # The outer "failed to decode request" error carries code `invalid`, so the answer is a 400.
    assert fails(flux.get(B, params={"limit": limit}), "listFluxTasks", 400, "invalid") == message


def test_list_bad_after(flux: Api) -> None:
    assert fails(flux.get(B, params={"after": "1"}), "listFluxTasks", 400, "invalid") == (
        "failed to decode request: id must have a length of 16 bytes"
    )


# ---- update ---------------------------------------------------------------------------------------


def test_update_flux_and_options(flux: Api) -> None:
    task_id = create(flux).json["id"]
    body = ok(flux.patch(f"{B}/{task_id}", {"flux": script(name="renamed", every="2h")}), "updateFluxTask", 200)
    assert (body["name"], body["every"]) == ("renamed", "2h")
    assert "updatedAt" in body
    body = ok(flux.patch(f"{B}/{task_id}", {"name": "n2", "offset": "30s"}), "updateFluxTask", 200)
    assert (body["name"], body["offset"]) == ("n2", "30s")
    assert 'name: "n2"' in body["flux"] and "offset: 30s" in body["flux"]
    body = ok(flux.patch(f"{B}/{task_id}", {"cron": "0 0 * * *"}), "updateFluxTask", 200)
    assert body["cron"] == "0 0 * * *"  # cron replaces every in the option object
    assert "every" not in body
    # A zero offset removes the option, but alone it counts as no content at all.
    body = ok(flux.patch(f"{B}/{task_id}", {"name": "n3", "offset": "0s"}), "updateFluxTask", 200)
    assert "offset" not in body and "offset:" not in body["flux"]
    alone = flux.patch(f"{B}/{task_id}", {"offset": "0s"})
    assert (
        fails(alone, "updateFluxTask", 400, "invalid") == "failed to decode request: cannot update task without content"
    )


def test_update_status_and_description(flux: Api) -> None:
    task_id = create(flux).json["id"]
    body = ok(flux.patch(f"{B}/{task_id}", {"status": "inactive", "description": "x"}), "updateFluxTask", 200)
    assert (body["status"], body["description"]) == ("inactive", "x")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({}, "failed to decode request: cannot update task without content"),
        ({"description": "only"}, "failed to decode request: cannot update task without content"),
        ({"status": "paused"}, 'failed to decode request: invalid task status: "paused"'),
        ({"every": "1h", "cron": "* * * * *"}, "failed to decode request: cannot specify both every and cron"),
        ({"offset": "1d"}, 'failed to decode request: offset: 1d, time: unknown unit "d" in duration "1d" is invalid, the largest unit supported is h'),
        ({"every": "abc"}, "failed to decode request: invalid duration abc"),
        ({"every": 5}, "failed to decode request: json: cannot unmarshal number into Go struct field .every of type options.Duration"),
        ({"flux": 1}, "failed to decode request: json: cannot unmarshal number into Go struct field .flux of type string"),
    ],
)  # fmt: skip
def test_update_decode_errors(flux: Api, patch: dict, message: str) -> None:
    task_id = create(flux).json["id"]
    assert fails(flux.patch(f"{B}/{task_id}", patch), "updateFluxTask", 400, "invalid") == message


def test_update_service_errors(flux: Api) -> None:
    assert fails(flux.patch(f"{B}/0000000000000001", {"status": "active"}), "updateFluxTask", 404, "not found") == (
        "failed to update task: task not found"
    )
    task_id = create(flux).json["id"]
    resp = flux.patch(f"{B}/{task_id}", {"flux": "x = 1"})
    assert (
        fails(resp, "updateFluxTask", 400, "invalid")
        == "failed to update task: invalid options: no task options defined"
    )


def test_delete_missing(flux: Api) -> None:
    assert fails(flux.delete(f"{B}/0000000000000001"), "deleteFluxTask", 404, "not found") == (
        "failed to delete task: task not found"
    )


# ---- runs and logs --------------------------------------------------------------------------------


def test_force_run_and_its_record(flux: Api) -> None:
    task_id = create(flux).json["id"]
    run = ok(flux.post(f"{B}/{task_id}/runs", {"scheduledFor": "2024-01-02T03:00:00Z"}), "startFluxTaskRun", 201)
    run_id = run["id"]
    assert run["status"] == "scheduled"
    assert run["taskID"] == task_id
    assert run["scheduledFor"] == "2024-01-02T03:00:00Z"
    assert "requestedAt" in run and "log" not in run
    assert run["links"] == {
        "logs": f"{B}/{task_id}/runs/{run_id}/logs",
        "retry": f"{B}/{task_id}/runs/{run_id}/retry",
        "self": f"{B}/{task_id}/runs/{run_id}",
        "task": f"{B}/{task_id}",
    }
    # The forced run is executed before the request returns; the finished run stays listed.
    done = ok(flux.get(f"{B}/{task_id}/runs/{run_id}"), "getFluxTaskRun", 200)
    assert done["status"] == "success"
    assert [e["message"] for e in done["log"]][-1] == "Completed(success)"
    assert done["log"][0]["message"] == "Started task from script: " + json.dumps(
        flux.get(f"{B}/{task_id}").json["flux"]
    )
    listed = ok(flux.get(f"{B}/{task_id}/runs"), "listFluxTaskRuns", 200)["runs"]
    assert [r["id"] for r in listed] == [run_id]
    logs = ok(flux.get(f"{B}/{task_id}/runs/{run_id}/logs"), "listFluxTaskRunLogs", 200)["events"]
    assert all(e["runID"] == run_id for e in logs)
    assert ok(flux.get(f"{B}/{task_id}"), "getFluxTask", 200)["lastRunStatus"] == "success"


def test_retry_runs_again_at_the_same_time(flux: Api) -> None:
    task_id = create(flux).json["id"]
    run_id = flux.post(f"{B}/{task_id}/runs", {"scheduledFor": "2024-01-02T03:00:00Z"}).json["id"]
    retried = ok(flux.post(f"{B}/{task_id}/runs/{run_id}/retry"), "retryFluxTaskRun", 200)
    assert retried["id"] != run_id
    assert (retried["status"], retried["scheduledFor"]) == ("scheduled", "2024-01-02T03:00:00Z")
    assert len(flux.get(f"{B}/{task_id}/runs").json["runs"]) == 2


def test_runs_of_a_task_without_runs(flux: Api) -> None:
    task_id = create(flux).json["id"]
    assert ok(flux.get(f"{B}/{task_id}/logs"), "listFluxTaskLogs", 200) == {"events": None}
    assert ok(flux.get(f"{B}/{task_id}/runs"), "listFluxTaskRuns", 200)["runs"] == []
    # Run lists and logs do not look the task up.
    assert ok(flux.get(f"{B}/0000000000000001/runs"), "listFluxTaskRuns", 200)["runs"] == []


def test_run_errors(flux: Api) -> None:
    task_id = create(flux).json["id"]
    missing = "0000000000000002"
    assert fails(flux.post(f"{B}/0000000000000001/runs"), "startFluxTaskRun", 404, "not found") == (
        "failed to force run: task not found"
    )
    assert fails(flux.get(f"{B}/{task_id}/runs/{missing}"), "getFluxTaskRun", 404, "not found") == (
        "failed to find run: run not found"
    )
    assert fails(flux.delete(f"{B}/{task_id}/runs/{missing}"), "cancelFluxTaskRun", 404, "not found") == (
        "failed to cancel run: run not found"
    )
    assert fails(flux.post(f"{B}/{task_id}/runs/{missing}/retry"), "retryFluxTaskRun", 404, "not found") == (
        "failed to retry run: run not found"
    )
    assert fails(flux.post(f"{B}/0000000000000001/runs/{missing}/retry"), "retryFluxTaskRun", 404, "not found") == (
        "failed to retry run: task not found"
    )
    assert fails(flux.get(f"{B}/{task_id}/runs/{missing}/logs"), "listFluxTaskRunLogs", 404, "not found") == (
        "failed to find task logs: run not found"
    )
    assert fails(flux.get(f"{B}/{task_id}/runs/x"), "getFluxTaskRun", 400, "invalid") == (
        "failed to decode request: id must have a length of 16 bytes"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "failed to decode request: run limit is out of bounds, must be between 1 and 500"),
        ({"limit": "x"}, 'failed to decode request: strconv.Atoi: parsing "x": invalid syntax'),
        ({"afterTime": "yesterday"}, 'failed to decode request: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'),
        ({"afterTime": "2024-01-02T00:00:00Z", "beforeTime": "2024-01-01T00:00:00Z"}, "failed to decode request: beforeTime must be later than afterTime"),
    ],
)  # fmt: skip
def test_list_runs_decode_errors(flux: Api, params: dict, message: str) -> None:
    task_id = create(flux).json["id"]
    assert fails(flux.get(f"{B}/{task_id}/runs", params=params), "listFluxTaskRuns", 400, "invalid") == message


def test_list_runs_time_window_and_limit(flux: Api) -> None:
    task_id = create(flux).json["id"]
    for hour in ("01", "02", "03"):
        flux.post(f"{B}/{task_id}/runs", {"scheduledFor": f"2024-01-02T{hour}:00:00Z"})
    runs = flux.get(f"{B}/{task_id}/runs").json["runs"]
    assert [r["scheduledFor"] for r in runs] == [f"2024-01-02T{h}:00:00Z" for h in ("03", "02", "01")]  # newest first
    window = {"afterTime": "2024-01-02T01:00:00Z", "beforeTime": "2024-01-02T03:00:00Z"}
    assert [r["scheduledFor"] for r in flux.get(f"{B}/{task_id}/runs", params=window).json["runs"]] == [
        "2024-01-02T02:00:00Z"
    ]
    assert len(flux.get(f"{B}/{task_id}/runs", params={"limit": "2"}).json["runs"]) == 2


def test_flux_tasks_survive_snapshot_restore(flux: Api, make_api) -> None:  # type: ignore[no-untyped-def]
    task_id = create(flux).json["id"]
    flux.post(f"{B}/{task_id}/runs", {"scheduledFor": "2024-01-02T03:00:00Z"})
    other = make_api(flux_tasks=True)
    other.state.restore(json.loads(json.dumps(flux.state.snapshot())))
    assert other.get(f"{B}/{task_id}").json == flux.get(f"{B}/{task_id}").json
    assert other.get(f"{B}/{task_id}/runs").json == flux.get(f"{B}/{task_id}/runs").json
    assert create(other).json["id"] > task_id  # the ID sequence continues


def test_over_a_real_socket() -> None:
    handle = serve_in_thread(create_app(MockConfig(flux_tasks=True)), threads=2)
    try:
        api = Api(create_app(MockConfig()), handle.url)
        created = api.post(B, {"flux": script()})
        assert created.status == 201
        assert created.headers["content-type"] == JSON_TYPE
        gone = api.delete(f"{B}/{created.json['id']}")
        assert gone.status == 204
        assert "content-type" not in gone.headers
        err = api.get(f"{B}/{created.json['id']}")
        assert err.status == 404
        assert err.headers["x-platform-error-code"] == "not found"
    finally:
        handle.stop()


# ---- the option scanner ---------------------------------------------------------------------------


def test_scanner_ignores_look_alikes() -> None:
    src = (
        '// option task = {name: "comment", every: 1m}\n'
        's = "option task = {name: \\"string\\", every: 1m}"\n'
        "f = () => { return 1 }\n"
        'option task = {name: "real", every: 1h30m, offset: -5m, concurrency: 2}\n'
    )
    opts = options_from_script(src, 0)
    assert (opts.name, opts.every, opts.offset, opts.concurrency) == ("real", [(1, "h"), (30, "m")], [(-5, "m")], 2)
    assert len(find_task_options(src)) == 1


def test_scanner_reports_broken_scripts() -> None:
    with pytest.raises(GoError):
        options_from_script('option task = {name: "x", every: 1h', 0)
    with pytest.raises(GoError):
        options_from_script('option task = {name: "x, every: 1h}', 0)


def test_edit_keeps_the_rest_of_the_script() -> None:
    src = 'import "x"\noption task = {name: "a", cron: "* * * * *"}\nx.y()\n'
    edited = edit_task_option(src, name="", every=[(5, "m")], cron="", offset=None)
    assert edited == 'import "x"\noption task = {name: "a", every: 5m}\nx.y()\n'
    assert edit_task_option(src, name="", every=[], cron="", offset=None) is None
