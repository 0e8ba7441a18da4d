"""Lifecycles: PATCH really applies, template updates reach tasks, recordings/replays run to completion."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap, stream_script, template_script
from conformance.world import World

REF_TASK = "api#define-or-update-a-task"


def _get_task(kap: Kap, tid: str, **query: str) -> dict[str, Any]:
    ex = kap.call("getTask", id=tid, query=list(query.items()))
    return kap.json_object(ex, 200, f"GET task {tid!r}", ref="api#get-a-task")


@check("lifecycle.task-roundtrip", MUST, REF_TASK, mutates=True)
def test_task_roundtrip(kap: Kap) -> None:
    """What a create stores is what GET returns (id, inferred type, dbrps, status, script, link)."""
    tid = kap.uid("rt-")
    dbrps = [{"db": kap.suite.db, "rp": "autogen"}]
    created = kap.create_task(tid, dbrps=dbrps)
    got = _get_task(kap, tid, **{"script-format": "raw"})
    for key, want in (("id", tid), ("type", "stream"), ("dbrps", dbrps), ("status", "disabled"),
                      ("script", stream_script())):
        expect_equal(got.get(key), want, f"GET task after create: {key}", ref=REF_TASK)
    expect_equal(created.get("link", {}).get("href"), f"{api.V1}/tasks/{tid}", "create task: link href",
                 ref="api#links")


@check("lifecycle.task-status", MUST, REF_TASK, mutates=True)
def test_patch_status(kap: Kap) -> None:
    """PATCH status enables and disables a task (and GET shows it)."""
    tid = kap.create_task(kap.uid("st-"))["id"]
    for status in ("enabled", "disabled"):
        ex = kap.call("updateTask", id=tid, json={"status": status})
        body = kap.json_ok(ex, 200, f"PATCH task status={status}", ref=REF_TASK)
        expect_equal(body.get("status"), status, f"PATCH status={status}: response status", ref=REF_TASK,
                     exchange=ex)
        expect_equal(_get_task(kap, tid).get("status"), status, f"GET after PATCH status={status}", ref=REF_TASK)


@check("lifecycle.task-executing", MUST, "api#get-a-task", mutates=True)
def test_enabled_task_executes(kap: Kap) -> None:
    """An enabled stream task is executing; a disabled one is not (the docs' `executing` property)."""
    tid = kap.create_task(kap.uid("ex-"))["id"]
    expect_status(kap.call("updateTask", id=tid, json={"status": "enabled"}), 200, "enable task")
    expect_equal(_get_task(kap, tid).get("executing"), True, "executing after enable", ref="api#get-a-task")
    expect_status(kap.call("updateTask", id=tid, json={"status": "disabled"}), 200, "disable task")
    expect_equal(_get_task(kap, tid).get("executing"), False, "executing after disable", ref="api#get-a-task")


@check("lifecycle.dot", SHOULD, "behaviour §3.1", mutates=True)
@pytest.mark.parametrize("kind", ["stream", "batch"])
def test_dot(kap: Kap, world: World, kind: str) -> None:
    """A disabled task's `dot` is its pipeline: a stream task starts at `stream0`, a batch task's
    `batch` source emits no edge, so its graph starts at `query1`."""
    tid = world.task if kind == "stream" else world.batch_task
    want = f"digraph {tid} {{\nstream0 -> from1;\n}}" if kind == "stream" else \
        f"digraph {tid} {{\nquery1 -> log2;\n}}"
    ex = kap.call("getTask", id=tid)
    body = kap.json_ok(ex, 200, f"GET {kind} task", ref="api#get-a-task")
    expect_equal(body.get("dot"), want, f"dot of the disabled {kind} task", ref="behaviour §3.1", exchange=ex)


@check("lifecycle.task-script", MUST, REF_TASK, mutates=True)
def test_patch_script(kap: Kap) -> None:
    """PATCH script replaces the script."""
    tid = kap.create_task(kap.uid("sc-"))["id"]
    new = stream_script("other")
    ex = kap.call("updateTask", id=tid, json={"script": new})
    kap.json_ok(ex, 200, "PATCH task script", ref=REF_TASK)
    expect_equal(_get_task(kap, tid, **{"script-format": "raw"}).get("script"), new, "GET after PATCH script",
                 ref=REF_TASK)


@check("lifecycle.task-vars", MUST, "api#vars", mutates=True)
def test_patch_vars(kap: Kap) -> None:
    """PATCH vars replaces the whole var map."""
    script = "var a = 'x'\n\nvar b = 5\n\nstream\n    |from()\n        .measurement(a)\n"
    tid = kap.create_task(kap.uid("vr-"), script=script, vars={"a": {"type": "string", "value": "y"}})["id"]
    ex = kap.call("updateTask", id=tid, json={"vars": {"b": {"type": "int", "value": 7}}})
    kap.json_ok(ex, 200, "PATCH task vars", ref="api#vars")
    got = _get_task(kap, tid).get("vars") or {}
    expect_equal(sorted(got), ["b"], "GET after PATCH vars: var names (the map is replaced)", ref="api#vars")
    expect_equal(got["b"].get("value"), 7, "GET after PATCH vars: value of b", ref="api#vars")


@check("lifecycle.task-rename", MUST, REF_TASK, mutates=True)
def test_rename(kap: Kap) -> None:
    """PATCH id renames: the new ID resolves, the old one is gone, the link follows."""
    old = kap.create_task(kap.uid("rn-"))["id"]
    new = kap.uid("rn-new-")
    ex = kap.call("updateTask", id=old, json={"id": new})
    kap.registry.rename("task", old, new)
    body = kap.json_ok(ex, 200, "PATCH task id", ref=REF_TASK)
    expect_equal(body.get("link", {}).get("href"), f"{api.V1}/tasks/{new}", "renamed task: link",
                 ref="behaviour §3.6", exchange=ex)
    expect_status(kap.call("getTask", id=new), 200, "GET renamed task", ref=REF_TASK)
    expect_status(kap.call("getTask", id=old), 404, "GET old task id after rename", ref=REF_TASK)


@check("lifecycle.template-update", MUST, "api#update-a-template", mutates=True)
def test_template_update_reaches_tasks(kap: Kap) -> None:
    """Updating a template updates the tasks created from it."""
    tpl = kap.create_template(kap.uid("tpl-"))["id"]
    tid = kap.create_task(kap.uid("tt-"), template_id=tpl)["id"]
    expect_equal(_get_task(kap, tid).get("template-id"), tpl, "task created from template: template-id",
                 ref="api#define-or-update-a-task")
    new = template_script("other")
    ex = kap.call("updateTemplate", id=tpl, json={"script": new})
    kap.json_ok(ex, 200, "PATCH template script", ref="api#update-a-template")
    expect_equal(_get_task(kap, tid, **{"script-format": "raw"}).get("script"), new,
                 "task script after its template changed", ref="api#update-a-template")


@check("lifecycle.template-rename", SHOULD, "behaviour §4.5", mutates=True)
def test_template_rename(kap: Kap) -> None:
    """Renaming a template moves its tasks' template-id along."""
    tpl = kap.create_template(kap.uid("tpr-"))["id"]
    tid = kap.create_task(kap.uid("tr-"), template_id=tpl)["id"]
    new = kap.uid("tpr-new-")
    ex = kap.call("updateTemplate", id=tpl, json={"id": new})
    kap.registry.rename("template", tpl, new)
    kap.json_ok(ex, 200, "PATCH template id", ref="behaviour §4.5")
    expect_equal(_get_task(kap, tid).get("template-id"), new, "task template-id after template rename",
                 ref="behaviour §4.5")


@check("lifecycle.recording", MUST, "api#create-a-recording", mutates=True)
def test_recording_lifecycle(kap: Kap) -> None:
    """A recording answers 201 with a link, GET answers 202 while running and 200 when done."""
    rec = kap.create_recording(kap.uid("rl-"))
    href = rec.get("link", {}).get("href")
    expect_equal(href, f"{api.V1}/recordings/{rec['id']}", "recording link", ref="api#create-a-recording")
    final = kap.wait_finished("getRecording", rec["id"], ref="api#wait-for-a-recording")
    body = kap.json_ok(final, 200, "finished recording", ref="api#wait-for-a-recording")
    expect(body.get("status") in ("finished", "failed"), "finished recording: status",
           expected="finished or failed", actual=body.get("status"), ref="behaviour §6.1", exchange=final)


@check("lifecycle.replay", MUST, "api#replay-a-recording", mutates=True)
def test_replay_lifecycle(kap: Kap) -> None:
    """A replay answers 201 with a link and runs to completion (202 while running, then 200)."""
    tid = kap.create_task(kap.uid("rpt-"))["id"]
    rec = kap.create_recording(kap.uid("rpr-"))["id"]
    kap.wait_finished("getRecording", rec)
    rp = kap.create_replay(tid, rec, kap.uid("rp-"))
    expect_equal(rp.get("task"), tid, "replay: task", ref="api#replay-a-recording")
    expect_equal(rp.get("link", {}).get("href"), f"{api.V1}/replays/{rp['id']}", "replay link",
                 ref="api#replay-a-recording")
    final = kap.wait_finished("getReplay", rp["id"], ref="api#wait-for-replays")
    body = kap.json_ok(final, 200, "finished replay", ref="api#wait-for-replays")
    expect(body.get("status") in ("finished", "failed"), "finished replay: status", expected="finished or failed",
           actual=body.get("status"), ref="behaviour §7.1", exchange=final)


@check("lifecycle.duplicate-create", MUST, REF_TASK, mutates=True)
@pytest.mark.parametrize("family", ["tasks", "templates"])
def test_duplicate_create(kap: Kap, family: str) -> None:
    """Creating an ID that exists is a 400 and leaves the existing object as it was (use PATCH)."""
    ident = kap.uid("dup-")
    if family == "tasks":
        kap.create_task(ident, script=stream_script("first"))
        again = {"id": ident, "script": stream_script("second"), "dbrps": [{"db": kap.suite.db, "rp": "autogen"}]}
        op, get_op = "createTask", "getTask"
    else:
        kap.create_template(ident, script=template_script("first"))
        again = {"id": ident, "script": template_script("second")}
        op, get_op = "createTemplate", "getTemplate"
    ex = kap.call(op, json=again)
    expect_status(ex, 400, f"create {family[:-1]} {ident!r} a second time", ref=REF_TASK)
    ex = kap.call(get_op, id=ident, query=[("script-format", "raw")])
    body = kap.json_ok(ex, 200, f"GET {family[:-1]} after the duplicate create", ref=REF_TASK)
    expect("first" in str(body.get("script")) and "second" not in str(body.get("script")),
           f"{family[:-1]} script after a rejected duplicate create", expected="the first script",
           actual=body.get("script"), ref=REF_TASK, exchange=ex)


def _implicit(kap: Kap) -> str:
    return f'dbrp "{kap.suite.db}"."autogen"\n\n' + stream_script()


@check("lifecycle.implicit-dbrp", SHOULD, "behaviour §3.5", mutates=True)
def test_implicit_dbrp(kap: Kap) -> None:
    """`dbrp "db"."rp"` statements in the script are the task's dbrps when none are given."""
    ex = kap.call("createTask", json={"id": kap.uid("idb-"), "script": _implicit(kap)})
    body = ex.json_or_none()
    if isinstance(body, dict) and isinstance(body.get("id"), str) and ex.status == 200:
        kap.registry.add("task", body["id"])
    body = kap.json_ok(ex, 200, "create task with an implicit dbrp and no dbrps", ref="behaviour §3.5")
    expect_equal(body.get("dbrps"), [{"db": kap.suite.db, "rp": "autogen"}], "dbrps from the script",
                 ref="behaviour §3.5", exchange=ex)


@check("lifecycle.batch-dbrps", SHOULD, "behaviour §3.9", mutates=True)
def test_batch_query_outside_dbrps(kap: Kap) -> None:
    """A batch task whose query reads a database the task's dbrps do not list does not start:
    enabling it answers 500 `batch query is not allowed to request data from "<db>"."<rp>"`."""
    db = kap.suite.db
    task = kap.create_task(kap.uid("lbd-"), batch=True, dbrps=[{"db": db + "-other", "rp": "autogen"}])
    ex = kap.call("updateTask", id=task["id"], json={"status": "enabled"})
    kap.error(ex, 500, f'batch query is not allowed to request data from "{db}"."autogen"',
              what="enable a batch task that queries outside its dbrps", ref="behaviour §3.9")
    got = kap.json_object(kap.call("getTask", id=task["id"]), 200, "GET the task", ref="behaviour §3.9")
    expect_equal(got.get("executing"), False, "the task after its refused start: executing", ref="behaviour §3.9")
