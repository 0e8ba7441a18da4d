"""Tasks over HTTP: behaviour reference §2–§5 and the real-server transcript, in-process and on waitress."""

from __future__ import annotations

import re
import threading
import uuid

import pytest

from tests.mock.conftest import Api, error_of
from tests.mock.spec_check import assert_matches_spec

T = "/kapacitor/v1/tasks"
STREAM = "stream\n    |from()\n        .measurement('cpu')\n"
DBRPS = [{"db": "telegraf", "rp": "autogen"}]
SINGLE_KEYS = [
    "link", "id", "template-id", "type", "dbrps", "script", "vars", "dot", "status", "executing",
    "error", "stats", "created", "modified", "last-enabled",
]  # fmt: skip
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
# TestServer_EnableTask / transcript §12: the dot of a freshly enabled `stream|from()` task.
ENABLED_DOT = (
    "digraph t1 {\n"
    'graph [throughput="0.00 points/s"];\n\n'
    'stream0 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];\n'
    'stream0 -> from1 [processed="0"];\n\n'
    'from1 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];\n}'
)


def create(api: Api, task_id: str | None = "t1", **extra: object) -> object:
    body: dict[str, object] = {"dbrps": DBRPS, "script": STREAM, **extra}
    if task_id is not None:
        body["id"] = task_id
    return api.post(T, body)


def test_create_returns_the_full_task_in_struct_order(api: Api) -> None:
    resp = create(api)
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    assert resp.headers["x-kapacitor-version"]
    body = resp.json
    assert list(body) == SINGLE_KEYS
    assert body["link"] == {"rel": "self", "href": "/kapacitor/v1/tasks/t1"}
    assert body["template-id"] == ""
    assert body["type"] == "stream"
    assert body["dbrps"] == DBRPS
    assert body["script"] == STREAM
    assert body["vars"] == {}
    assert body["dot"] == "digraph t1 {\nstream0 -> from1;\n}"
    assert (body["status"], body["executing"], body["error"], body["stats"]) == ("disabled", False, "", {})
    assert body["last-enabled"] == "0001-01-01T00:00:00Z"
    assert RFC3339.match(body["created"]) and body["created"] == body["modified"]
    assert b"-\\u003e" in resp.body  # Go escapes '>' in JSON strings
    assert resp.body.startswith(b'{\n    "link": {\n        "rel"') and not resp.body.endswith(b"\n")
    assert_matches_spec("createTask", 200, resp.body)
    got = api.get(f"{T}/t1")
    assert got.status == 200 and got.json == body
    assert_matches_spec("getTask", 200, got.body)


def test_duplicate_id_is_400(api: Api) -> None:
    create(api)
    resp = create(api)
    assert resp.status == 400
    assert error_of(resp) == "task t1 already exists"
    assert_matches_spec("createTask", 400, resp.body)


def test_generated_ids_are_uuid4(api: Api) -> None:
    resp = create(api, None)
    assert resp.status == 200
    generated = resp.json["id"]
    assert str(uuid.UUID(generated)) == generated and uuid.UUID(generated).version == 4
    assert resp.json["link"]["href"] == f"/kapacitor/v1/tasks/{generated}"


@pytest.mark.parametrize("task_id", ["invalid id", "invalid*id", "task/id7", "abc\n", "x²", "Ⅻ", "١٢", "a\u0301"])
def test_invalid_ids_are_rejected_with_the_real_message(api: Api, task_id: str) -> None:
    resp = create(api, task_id)
    assert resp.status == 400
    quoted = '"' + task_id.replace("\n", "\\n") + '"'
    assert error_of(resp) == f"task ID must contain only letters, numbers, '-', '.' and '_'. {quoted}"


@pytest.mark.parametrize("task_id", ["task.id7", "tásk7", "ǅ", "_-.", "日本語", "Ωmega"])
def test_unicode_letters_are_valid_ids(api: Api, task_id: str) -> None:
    assert create(api, task_id).status == 200


def test_type_is_inferred_from_the_script(api: Api) -> None:
    resp = create(api, type="batch")
    assert resp.status == 200 and resp.json["type"] == "stream"
    batch = "batch\n    |query('SELECT mean(usage_idle) FROM \"telegraf\".\"autogen\".cpu')\n        .period(5m)\n        .every(5m)\n"
    resp = api.post(T, {"id": "b1", "type": "stream", "dbrps": DBRPS, "script": batch})
    assert resp.status == 200 and resp.json["type"] == "batch"
    # transcript §8: a lone batch source prints no edge.
    assert resp.json["dot"] == "digraph b1 {\n}"


def test_implicit_dbrps(api: Api) -> None:
    script = 'dbrp "telegraf"."autogen"\n\ndbrp "db2"."rp2"\n\nstream\n    |from()\n        .measurement(\'cpu\')\n'
    resp = api.post(T, {"id": "imp", "script": script})
    assert resp.status == 200
    assert resp.json["dbrps"] == [{"db": "telegraf", "rp": "autogen"}, {"db": "db2", "rp": "rp2"}]
    both = api.post(T, {"id": "both", "script": script, "dbrps": DBRPS})
    assert both.status == 400
    assert error_of(both) == "cannot specify dbrp in both implicitly and explicitly"
    none = api.post(T, {"id": "none", "script": STREAM})
    assert none.status == 400 and error_of(none) == "must specify dbrp"


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "t1", "script": ',
        b"",
        b'{"id":"t1","status":"on","dbrps":[{"db":"a","rp":"b"}],"script":"stream|from()"}',
        b'{"id":"t1","status":"","dbrps":[{"db":"a","rp":"b"}],"script":"stream|from()"}',
        b'{"id":"t1","type":"Stream","dbrps":[{"db":"a","rp":"b"}],"script":"stream|from()"}',
        b'{"id": 5}',
        b"[]",
        b"[" * 100_000,
        b'{"id":"t1","dbrps":"nope"}',
    ],
)
def test_undecodable_bodies_are_invalid_json(api: Api, body: bytes) -> None:
    resp = api.request("POST", T, body=body)
    assert resp.status == 400
    assert error_of(resp) == "invalid JSON"
    assert api.get(T).json == {"tasks": []}


def test_go_decoding_quirks_are_accepted(api: Api) -> None:
    body = b'{"ID":"t1","DBRPS":[{"DB":"telegraf","RP":"autogen"}],"SCRIPT":"stream\\n    |from()\\n"} garbage'
    resp = api.request("POST", T, body=body)
    assert resp.status == 200
    assert resp.json["id"] == "t1" and resp.json["dbrps"] == DBRPS


def test_missing_script_and_bad_script(api: Api) -> None:
    resp = api.post(T, {"id": "t1", "dbrps": DBRPS})
    assert resp.status == 400 and error_of(resp) == "must provide TICKscript"
    resp = api.post(T, {"id": "t1", "dbrps": DBRPS, "script": "stream\n    |fromm()\n"})
    assert resp.status == 400
    assert error_of(resp).startswith("invalid TICKscript: ")
    resp = api.post(T, {"id": "t1", "dbrps": DBRPS, "script": "var x = 5\n"})
    assert resp.status == 400 and error_of(resp) == "invalid task type: invalid"


def test_missing_and_empty_ids_on_the_item_routes(api: Api) -> None:
    missing = api.get(f"{T}/nope")
    assert missing.status == 404 and error_of(missing) == "no task exists"
    assert_matches_spec("getTask", 404, missing.body)
    empty = api.get(f"{T}/")
    assert empty.status == 400 and error_of(empty) == "must specify task id on path"
    patch = api.patch(f"{T}/nope", {"status": "enabled"})
    assert patch.status == 404 and error_of(patch) == "task does not exist, cannot update"
    for _ in range(2):
        gone = api.delete(f"{T}/nope")
        assert gone.status == 204 and gone.body == b""


def test_query_parameter_validation(api: Api) -> None:
    create(api)
    resp = api.get(f"{T}/t1", params={"script-format": "pretty"})
    assert resp.status == 400 and error_of(resp) == 'invalid script-format parameter "pretty"'
    resp = api.get(f"{T}/t1", params={"dot-view": "x"})
    assert resp.status == 400 and error_of(resp) == 'invalid dot-view parameter "x"'
    assert api.get(f"{T}/t1", params={"dot-view": "labels", "script-format": "raw"}).status == 200
    resp = api.get(f"{T}/t1", params={"replay-id": "r1"})
    assert resp.status == 400 and error_of(resp) == "no running replay with ID: r1"


def test_enable_disable_executing_dot_and_stats(api: Api) -> None:
    create(api)
    resp = api.patch(f"{T}/t1", {"status": "enabled"})
    assert resp.status == 200
    body = resp.json
    assert body["status"] == "enabled" and body["executing"] is True
    assert body["dot"] == ENABLED_DOT
    assert body["stats"]["task-stats"] == {"throughput": 0}
    assert set(body["stats"]["node-stats"]) == {"stream0", "from1"}
    assert body["last-enabled"] == body["modified"] != "0001-01-01T00:00:00Z"
    assert api.get(T, params={"fields": "executing"}).json["tasks"][0]["executing"] is True
    resp = api.patch(f"{T}/t1", {"status": "disabled"})
    assert resp.json["executing"] is False and resp.json["dot"] == "digraph t1 {\nstream0 -> from1;\n}"
    assert resp.json["stats"] == {}


def test_rename_and_rename_conflict(api: Api) -> None:
    create(api, "a")
    create(api, "b")
    resp = api.patch(f"{T}/a", {"id": "c"})
    assert resp.status == 200
    assert resp.json["link"]["href"] == "/kapacitor/v1/tasks/c"
    assert resp.json["dot"].startswith("digraph c {")
    assert api.get(f"{T}/a").status == 404
    conflict = api.patch(f"{T}/c", {"id": "b"})
    assert conflict.status == 500
    assert error_of(conflict) == "failed to create new task during ID change: object already exists"
    assert api.get(f"{T}/c").status == 200
    # Renames are not validated (behaviour §2.1).
    assert api.patch(f"{T}/c", {"id": "bad id!"}).status == 200


def test_patch_applies_script_and_vars(api: Api) -> None:
    create(api)
    new_script = "stream\n    |from()\n        .measurement('mem')\n"
    resp = api.patch(f"{T}/t1", {"script": new_script})
    assert resp.status == 200 and resp.json["script"] == new_script
    assert api.get(f"{T}/t1").json["script"] == new_script
    bad = api.patch(f"{T}/t1", {"status": "on"})
    assert bad.status == 400 and error_of(bad) == "invalid JSON"


def test_list_defaults_order_and_shapes(api: Api) -> None:
    for task_id in ["testTaskID2", "testTaskID10", "B", "testTaskID1", "a"]:
        assert create(api, task_id).status == 200
    resp = api.get(T)
    assert resp.status == 200
    tasks = resp.json["tasks"]
    assert [t["id"] for t in tasks] == ["B", "a", "testTaskID1", "testTaskID10", "testTaskID2"]
    item = tasks[0]
    assert list(item) == sorted(item)  # map keys, alphabetical
    assert "template-id" not in item  # omitted when empty
    assert item["stats"] is None
    assert_matches_spec("listTasks", 200, resp.body)


def test_list_fields_pattern_offset_limit(api: Api) -> None:
    for i in range(1, 16):
        create(api, f"testTaskID{i}")
    # TestServer_ListTasks_Fields
    resp = api.get(T, params={"pattern": "testTaskID1*", "fields": ["type", "status"], "offset": "1", "limit": "5"})
    tasks = resp.json["tasks"]
    assert [t["id"] for t in tasks] == [f"testTaskID1{i}" for i in range(5)]
    assert all(set(t) == {"id", "link", "type", "status"} for t in tasks)
    assert api.get(T, params={"limit": "0"}).json == {"tasks": []}
    assert api.get(T, params={"offset": "100"}).json == {"tasks": []}
    assert api.get(T, params={"offset": "-5", "limit": "2"}).json["tasks"] == api.get(T, params={"limit": "2"}).json["tasks"]
    # A negative limit returns everything, ignoring pattern and offset (behaviour §2.4).
    everything = api.get(T, params={"limit": "-1", "pattern": "nomatch", "offset": "3", "fields": "id"}).json["tasks"]
    assert len(everything) == 15
    assert api.get(T, params={"pattern": "["}).json == {"tasks": []}


def test_list_parameter_errors(api: Api) -> None:
    resp = api.get(T, params={"offset": "abc"})
    assert resp.status == 400
    assert error_of(resp) == (
        'invalid offset parameter "abc" must be an integer: strconv.ParseInt: parsing "abc": invalid syntax'
    )
    resp = api.get(T, params={"limit": "1.5"})
    assert resp.status == 400 and error_of(resp).startswith('invalid limit parameter "1.5"')
    # Unsupported fields fail only when at least one task is listed (behaviour §2.3).
    assert api.get(T, params={"fields": "bogus"}).json == {"tasks": []}
    create(api)
    resp = api.get(T, params={"fields": "bogus"})
    assert resp.status == 400 and error_of(resp) == 'unsupported field "bogus"'
    resp = api.get(T, params={"fields": ""})
    assert resp.status == 400 and error_of(resp) == 'unsupported field ""'


def test_preview_mirrors_v1_with_v1_links(api: Api) -> None:
    create(api)
    resp = api.get("/kapacitor/v1preview/tasks/t1")
    assert resp.status == 200
    assert resp.json["link"]["href"] == "/kapacitor/v1/tasks/t1"
    assert len(resp.header_lists["x-kapacitor-version"]) == 2


def test_global_http_behaviour(api: Api) -> None:
    for method, path in [("PUT", T), ("POST", "/kapacitor/v1/ping"), ("GET", "/nowhere"), ("POST", "/kapacitor/v1/replays/")]:
        resp = api.request(method, path)
        assert resp.status == 404, (method, path)
        assert error_of(resp) == "Not Found"
        assert resp.headers["x-kapacitor-version"]
    ping = api.get("/kapacitor/v1/ping")
    assert ping.status == 204 and ping.body == b"" and ping.headers["x-kapacitor-version"]
    assert api.request("HEAD", "/kapacitor/v1/ping").status == 204
    options = api.request("OPTIONS", T)
    assert options.status == 200 and options.body == b"" and "x-kapacitor-version" not in options.headers
    moved = api.get("/kapacitor/v1//tasks", params={"a": "1"})
    assert moved.status == 301 and moved.headers["location"] == "/kapacitor/v1/tasks?a=1"
    cors = api.get("/kapacitor/v1/ping", headers={"Origin": "http://x"})
    assert cors.headers["access-control-allow-origin"] == "http://x"


def test_version_1_5_errors_and_list_fields(make_api: object) -> None:
    api = make_api(kapacitor_version="1.5.9")  # type: ignore[operator]
    create(api)
    resp = api.get(f"{T}/nope")
    assert resp.json == {"error": "no task exists"}
    assert resp.headers["x-kapacitor-version"] == "1.5.9"
    resp = api.get(T, params={"fields": "template-id"})
    assert resp.status == 400 and resp.json == {"error": 'unsupported field "template-id"'}


def test_concurrent_creates_of_one_id(api: Api) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        status = create(api, "race").status
        with lock:
            results.append(status)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [400] * 15
    assert [t["id"] for t in api.get(T).json["tasks"]] == ["race"]


def test_large_and_hostile_bodies_never_500(api: Api) -> None:
    big = b'{"id":"big","dbrps":[{"db":"a","rp":"b"}],"script":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    resp = api.request("POST", T, body=big)
    # One huge identifier parses, but names neither stream nor batch (behaviour §3.8).
    assert resp.status == 400 and error_of(resp) == "invalid task type: invalid"
    for body in [b'{"id":"\xff\xfe","script":"stream|from()","dbrps":[{"db":"a","rp":"b"}]}', b'{"id": 1e400}', b"\x00\x01"]:
        resp = api.request("POST", T, body=body)
        assert resp.status in (200, 400), body
