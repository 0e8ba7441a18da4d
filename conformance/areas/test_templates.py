"""Templates: vars, tasks built from templates, propagation, rename and errors (api#templates, behaviour §4-§5)."""

from __future__ import annotations

from typing import Any

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap, batch_script, stream_script, template_script

REF = "api#define-a-template"

#: A template with one described var with a default and one without a default.
NO_DEFAULT = (
    "// Which measurement to use\nvar measurement = 'm'\n\nvar field string\n\n"
    "stream\n    |from()\n        .measurement(measurement)\n    |log()\n        .prefix(field)\n"
)


def _get(kap: Kap, op: str, ident: str, **query: str) -> dict[str, Any]:
    ex = kap.call(op, id=ident, query=list(query.items()))
    return kap.json_object(ex, 200, f"{op} {ident!r}", ref=REF)


@check("templates.vars", MUST, "api#vars", mutates=True)
def test_template_vars(kap: Kap) -> None:
    """A template lists its vars with type, default value and the comment above as description."""
    body = kap.create_template(kap.uid("tv-"), script=template_script("cpu"))
    want = {"measurement": {"type": "string", "value": "cpu", "description": "Which measurement to use"}}
    expect_equal(body.get("vars"), want, "created template: vars", ref="api#vars")
    expect_equal(_get(kap, "getTemplate", body["id"]).get("vars"), want, "GET template: vars", ref="api#vars")
    expect_equal(body.get("type"), "stream", "created template: type", ref=REF)


@check("templates.type-inferred", SHOULD, "behaviour §4.4", mutates=True)
def test_template_type_inferred(kap: Kap) -> None:
    """The request `type` is ignored: a stream script makes a stream template."""
    kap.need("createTemplate")
    tid = kap.uid("tti-")
    ex = kap.call("createTemplate", json={"id": tid, "type": "batch", "script": template_script()})
    if ex.status == 200:
        kap.registry.add("template", tid)
    body = kap.json_ok(ex, 200, "create template with a contradicting type", ref="behaviour §4.4")
    expect_equal(body.get("type"), "stream", "template type (inferred from the script)", ref="behaviour §4.4",
                 exchange=ex)


@check("templates.task-vars", MUST, "api#vars", mutates=True)
def test_task_from_template_vars(kap: Kap) -> None:
    """A task from a template takes its script and type; its `vars` echo only the overrides."""
    tpl = kap.create_template(kap.uid("ttv-"))["id"]
    override = {"measurement": {"type": "string", "value": "disk", "description": ""}}
    task = kap.create_task(kap.uid("ttvt-"), template_id=tpl, vars=override)
    got = _get(kap, "getTask", task["id"], **{"script-format": "raw"})
    expect_equal(got.get("vars"), override, "task from template: vars (only the overrides)", ref="api#vars")
    expect_equal(got.get("script"), template_script(), "task from template: script", ref="api#vars")
    expect_equal((got.get("template-id"), got.get("type")), (tpl, "stream"), "task from template: template-id, type",
                 ref="api#vars")


@check("templates.missing-var", SHOULD, "behaviour §3.5", mutates=True)
def test_template_missing_var(kap: Kap) -> None:
    """A task that leaves a default-less template var unset is refused with the exact message."""
    kap.need("createTask")
    tpl = kap.create_template(kap.uid("tmv-"), script=NO_DEFAULT)
    expect_equal(tpl.get("vars", {}).get("field"), {"type": "string", "value": None, "description": ""},
                 "template var without a default", ref="behaviour §4.1")
    tid = kap.uid("tmvt-")
    ex = kap.call("createTask", json={"id": tid, "template-id": tpl["id"],
                                      "dbrps": [{"db": kap.suite.db, "rp": "autogen"}]})
    if ex.status == 200:
        kap.registry.add("task", tid)
    kap.error(ex, 400, 'invalid TICKscript: missing value for var "field".', what="task without a required var",
              ref="behaviour §3.5")
    ok = kap.create_task(kap.uid("tmvt-"), template_id=tpl["id"],
                         vars={"field": {"type": "string", "value": "x"}})
    expect_equal(ok.get("vars", {}).get("field", {}).get("value"), "x", "task var supplied", ref="api#vars")


@check("templates.unknown", SHOULD, "behaviour §3.5", mutates=True)
def test_task_unknown_template(kap: Kap) -> None:
    """A task naming an unknown template is a 400 with the server's message."""
    kap.need("createTask")
    missing, tid = kap.uid("tun-none-"), kap.uid("tunt-")
    ex = kap.call("createTask", json={"id": tid, "template-id": missing,
                                      "dbrps": [{"db": kap.suite.db, "rp": "autogen"}]})
    if ex.status == 200:
        kap.registry.add("task", tid)
    kap.error(ex, 400, f"unknown template {missing}: err: no template exists", what="task from an unknown template",
              ref="behaviour §3.5")


@check("templates.propagation", MUST, "api#update-a-template", mutates=True)
def test_template_propagation(kap: Kap) -> None:
    """A template's new script reaches all of its tasks; unrelated tasks keep theirs."""
    tpl = kap.create_template(kap.uid("tpp-"))["id"]
    tasks = [kap.create_task(kap.uid("tppt-"), template_id=tpl)["id"] for _ in range(2)]
    other = kap.create_task(kap.uid("tppo-"))["id"]
    new = template_script("other")
    kap.json_ok(kap.call("updateTemplate", id=tpl, json={"script": new}), 200, "PATCH template script",
                ref="api#update-a-template")
    expect_equal(_get(kap, "getTemplate", tpl, **{"script-format": "raw"}).get("script"), new,
                 "template script after PATCH", ref="api#update-a-template")
    for tid in tasks:
        got = _get(kap, "getTask", tid, **{"script-format": "raw"})
        expect_equal(got.get("script"), new, f"task {tid} script after its template changed",
                     ref="api#update-a-template")
    expect_equal(_get(kap, "getTask", other, **{"script-format": "raw"}).get("script"), stream_script(),
                 "unrelated task script", ref="api#update-a-template")


@check("templates.rename", SHOULD, "behaviour §4.5", mutates=True)
def test_template_rename(kap: Kap) -> None:
    """A renamed template answers under the new id with the new link; the old id is gone."""
    old = kap.create_template(kap.uid("trn-"))["id"]
    new = kap.uid("trn-new-")
    ex = kap.call("updateTemplate", id=old, json={"id": new})
    kap.registry.rename("template", old, new)
    body = kap.json_ok(ex, 200, "PATCH template id", ref="behaviour §4.5")
    expect_equal((body.get("id"), body.get("link", {}).get("href")), (new, f"{api.V1}/templates/{new}"),
                 "renamed template: id, link", ref="behaviour §4.5", exchange=ex)
    kap.error(kap.call("getTemplate", id=old), 404, "no template exists", what="GET old template id after rename",
              ref="behaviour §4.5")


@check("templates.rename-conflict", SHOULD, "behaviour §4.5", mutates=True)
def test_template_rename_conflict(kap: Kap) -> None:
    """Renaming onto an existing template fails (500) and leaves both templates intact."""
    a = kap.create_template(kap.uid("trc-"), script=template_script("a"))["id"]
    b = kap.create_template(kap.uid("trc-"), script=template_script("b"))["id"]
    ex = kap.call("updateTemplate", id=a, json={"id": b})
    kap.error(ex, 500, "failed to create new template for ID change: template already exists",
              what="rename a template onto an existing id", ref="behaviour §4.5")
    expect_equal(_get(kap, "getTemplate", b, **{"script-format": "raw"}).get("script"), template_script("b"),
                 "target template after a refused rename", ref="behaviour §4.5")
    expect_status(kap.call("getTemplate", id=a), 200, "source template after a refused rename",
                  ref="behaviour §4.5")


@check("templates.delete-keeps-tasks", SHOULD, "behaviour §4.6", mutates=True)
def test_template_delete_orphans(kap: Kap) -> None:
    """Deleting a template keeps its tasks (with their script and template-id)."""
    tpl = kap.create_template(kap.uid("tdo-"))["id"]
    tid = kap.create_task(kap.uid("tdot-"), template_id=tpl)["id"]
    expect_status(kap.call("deleteTemplate", id=tpl), 204, "DELETE template", ref="api#delete-a-template")
    kap.registry.forget("template", tpl)
    got = _get(kap, "getTask", tid, **{"script-format": "raw"})
    expect_equal((got.get("template-id"), got.get("script")), (tpl, template_script()),
                 "orphaned task: template-id, script", ref="behaviour §4.6")


@check("templates.list-vars", SHOULD, "behaviour §2.3", mutates=True)
def test_template_list_vars(kap: Kap) -> None:
    """Template lists leave `vars` out by default and include it when asked with `fields=vars`."""
    tpl = kap.create_template(kap.uid("tlv-"))["id"]
    ex = kap.call("listTemplates", query=[("pattern", tpl)])
    items = kap.json_ok(ex, 200, "list templates", ref="behaviour §2.3").get("templates") or []
    expect(len(items) == 1 and "vars" not in items[0], "template list: default fields exclude vars",
           expected="one item without 'vars'", actual=items, ref="behaviour §2.3", exchange=ex)
    ex = kap.call("listTemplates", query=[("pattern", tpl), ("fields", "vars")])
    items = kap.json_ok(ex, 200, "list templates fields=vars", ref="behaviour §2.3").get("templates") or []
    expect_equal([sorted(i) for i in items], [["id", "link", "vars"]], "template list fields=vars: keys",
                 ref="behaviour §2.3", exchange=ex)
    expect_equal(items[0].get("vars", {}).get("measurement", {}).get("value"), "m", "template list: vars value",
                 ref="behaviour §2.3", exchange=ex)


@check("templates.update-keeps-type", SHOULD, "behaviour §4.5", mutates=True)
def test_template_update_keeps_type(kap: Kap) -> None:
    """An update that names no type builds the new script as the template's own type: a stream
    script in a batch template is refused (400) and the template is unchanged."""
    tid = kap.create_template(kap.uid("tuk-"), script=batch_script(kap.suite.db))["id"]
    ex = kap.call("updateTemplate", id=tid, json={"script": template_script()})
    kap.error(ex, 400, lambda text: text.startswith('invalid TICKscript: name "stream" is undefined. Names in scope: '),
              what="PATCH a batch template with a stream script", ref="behaviour §4.5")
    got = _get(kap, "getTemplate", tid, **{"script-format": "raw"})
    expect_equal((got.get("type"), got.get("script")), ("batch", batch_script(kap.suite.db)),
                 "template after the refused update: type, script", ref="behaviour §4.5")
