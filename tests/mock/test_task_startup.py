"""Starting a task over HTTP: when the server starts one, what it answers, and the state it leaves.

Facts from a real Kapacitor 1.5.7 (loopback) and services/task_store/service.go: the task is stored
first and started after; a failed start answers 500 with the compile error, and leaves the task
stored with `status: enabled`, `executing: false` and the text as its `error`. Only enabling,
creating enabled, renaming an enabled task and changing the template of an enabled task start it.
"""

from __future__ import annotations

from tests.mock.conftest import Api, error_of

T = "/kapacitor/v1/tasks"
DBRPS = [{"db": "telegraf", "rp": "autogen"}]
BAD_ALERT = "stream|from().measurement('cpu')|alert().crit(lambda: 'usage_idle' < 10)"
GOOD_ALERT = "stream|from().measurement('cpu')|alert().crit(lambda: \"usage_idle\" < 10)"
BAD_EVAL = "stream|from().measurement('cpu')|eval(lambda: \"x\" + 'a' * 2).as('y')"
CRIT_ERROR = (
    "Failed to compile stateful expression for crit: mismatched type to binary operator. "
    "got string < int. see bool(), int(), float(), string(), duration()"
)
EVAL_ERROR = "Failed to compile 0 expression: Failed to handle right node: invalid math operator * for type string"
# The bytes of the real server's 1.5.7 answer (pretty JSON, `<` escaped, no trailing newline).
CRIT_BODY_1_5 = (
    b'{\n    "error": "Failed to compile stateful expression for crit: mismatched type to binary operator. '
    b'got string \\u003c int. see bool(), int(), float(), string(), duration()"\n}'
)


def create(api: Api, task_id: str, script: str, **extra: object) -> object:
    return api.post(T, {"id": task_id, "dbrps": DBRPS, "script": script, **extra})


def state(api: Api, task_id: str) -> tuple[str, bool, str]:
    body = api.get(f"{T}/{task_id}").json
    return body["status"], body["executing"], body["error"]


def test_enabling_answers_the_compile_error_byte_exact(make_api: object) -> None:
    api = make_api(kapacitor_version="1.5.7")  # type: ignore[operator]
    assert create(api, "cpu", BAD_ALERT).status == 200  # accepted: the script parses and builds
    resp = api.patch(f"{T}/cpu", {"status": "enabled"})
    assert resp.status == 500
    assert resp.body == CRIT_BODY_1_5
    assert resp.headers["content-type"] == "application/json; charset=utf-8"


def test_created_enabled_answers_500_and_the_task_stays_stored(api: Api) -> None:
    resp = create(api, "ev", BAD_EVAL, status="enabled")
    assert resp.status == 500 and error_of(resp) == EVAL_ERROR  # type: ignore[attr-defined]
    assert state(api, "ev") == ("enabled", False, EVAL_ERROR)
    body = api.get(f"{T}/ev").json
    assert body["stats"] == {} and body["dot"] == 'digraph ev {\nstream0 -> from1;\nfrom1 -> eval2;\n}'
    assert create(api, "ev", BAD_EVAL).status == 400  # it exists


def test_enable_failure_leaves_status_enabled_not_executing(api: Api) -> None:
    create(api, "cpu", BAD_ALERT)
    assert api.patch(f"{T}/cpu", {"status": "enabled"}).status == 500
    assert state(api, "cpu") == ("enabled", False, CRIT_ERROR)
    listed = api.get(T, params={"fields": ["status", "executing", "error"]}).json["tasks"]
    assert [(t["status"], t["executing"], t["error"]) for t in listed] == [("enabled", False, CRIT_ERROR)]
    # Enabling again changes no status: no start, 200, the error stays.
    again = api.patch(f"{T}/cpu", {"status": "enabled"})
    assert again.status == 200 and again.json["error"] == CRIT_ERROR and again.json["executing"] is False


def test_script_change_of_an_enabled_task_does_not_restart_it(api: Api) -> None:
    create(api, "t", GOOD_ALERT, status="enabled")
    resp = api.patch(f"{T}/t", {"script": BAD_ALERT})
    assert resp.status == 200 and resp.json["executing"] is True and resp.json["error"] == ""


def test_disable_then_fix_then_enable(api: Api) -> None:
    create(api, "cpu", BAD_ALERT, status="enabled")
    assert api.patch(f"{T}/cpu", {"status": "disabled"}).status == 200
    assert state(api, "cpu") == ("disabled", False, CRIT_ERROR)  # the last error is kept
    assert api.patch(f"{T}/cpu", {"script": GOOD_ALERT}).status == 200
    enabled = api.patch(f"{T}/cpu", {"status": "enabled"})
    # The answer shows the task as read before the start cleared its last error; GET shows it cleared.
    assert enabled.status == 200
    assert (enabled.json["executing"], enabled.json["error"]) == (True, CRIT_ERROR)
    assert state(api, "cpu") == ("enabled", True, "")


def test_renaming_an_enabled_task_restarts_it(api: Api) -> None:
    create(api, "old", GOOD_ALERT, status="enabled")
    api.patch(f"{T}/old", {"script": BAD_ALERT})  # no restart: still running the old pipeline
    resp = api.patch(f"{T}/old", {"id": "new"})
    assert resp.status == 500 and error_of(resp) == CRIT_ERROR
    assert api.get(f"{T}/old").status == 404
    assert state(api, "new") == ("enabled", False, CRIT_ERROR)


def test_template_change_reloads_enabled_tasks_and_rolls_back(api: Api) -> None:
    script = "var x = 1\nstream|from()|eval(lambda: x * 2).as('a')"
    assert api.post("/kapacitor/v1/templates", {"id": "tp", "type": "stream", "script": script}).status == 200
    assert api.post(T, {"id": "on", "template-id": "tp", "dbrps": DBRPS, "status": "enabled"}).status == 200
    assert api.post(T, {"id": "off", "template-id": "tp", "dbrps": DBRPS}).status == 200
    bad = "var x = 1\nstream|from()|eval(lambda: x * 2.0).as('a')"
    resp = api.patch("/kapacitor/v1/templates/tp", {"script": bad})
    assert resp.status == 500
    assert error_of(resp) == (
        "error reloading associated task on: Failed to compile 0 expression: mismatched type to binary "
        "operator. got int * float. see bool(), int(), float(), string(), duration()"
    )
    assert api.get(f"{T}/on").json["script"].startswith("var x = 1\n\nstream\n    |from()\n    |eval(lambda: x * 2)")
    assert state(api, "on") == ("enabled", True, "")


def test_enabled_count_follows_status_like_the_servers_counter(api: Api) -> None:
    create(api, "cpu", BAD_ALERT, status="enabled")
    create(api, "ok", GOOD_ALERT, status="enabled")
    assert api.state.tasks.enabled_count == 2
    api.patch(f"{T}/cpu", {"status": "disabled"})
    assert api.state.tasks.enabled_count == 1


def test_restore_starts_enabled_tasks_again(make_api: object) -> None:
    api = make_api()  # type: ignore[operator]
    create(api, "cpu", BAD_ALERT, status="enabled")
    create(api, "ok", GOOD_ALERT, status="enabled")
    snapshot = api.state.tasks.snapshot()
    fresh = make_api()  # type: ignore[operator]
    fresh.state.tasks.restore(snapshot)
    assert state(fresh, "cpu") == ("enabled", False, CRIT_ERROR)
    assert state(fresh, "ok") == ("enabled", True, "")


def test_failed_batch_recordings_report_size_minus_one(make_api: object) -> None:
    """services/replay/service.go: the archive never existed, so `Size()` is -1 (real 1.5.7)."""
    import time

    api = make_api(run_delay=0.0)  # type: ignore[operator]
    create(api, "st", "stream|from()")
    create(api, "bt", "batch|query('select * from d.r.m').every(1m)|eval(lambda: 1 + 'a').as('x')")
    for rid, task in (("r1", "st"), ("r2", "bt")):
        assert api.post("/kapacitor/v1/recordings/batch", {"id": rid, "task": task, "start": "2020-01-01T00:00:00Z"}).status == 201
    time.sleep(0.05)
    r1, r2 = (api.get(f"/kapacitor/v1/recordings/{r}").json for r in ("r1", "r2"))
    assert (r1["status"], r1["error"], r1["size"]) == ("failed", "wrong task type", -1)
    assert (r2["status"], r2["size"]) == ("failed", -1)
    assert r2["error"] == (
        "Failed to compile 0 expression: mismatched type to binary operator. got int + string. "
        "see bool(), int(), float(), string(), duration()"
    )
