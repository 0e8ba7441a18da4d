"""Templates and template tasks over HTTP: behaviour reference §4, §4.7 and server_test.go flows."""

from __future__ import annotations

import pytest

from tests.mock.conftest import Api, error_of
from tests.mock.spec_check import assert_matches_spec

TPL = "/kapacitor/v1/templates"
T = "/kapacitor/v1/tasks"
DBRPS = [{"db": "mydb", "rp": "myrp"}]
SIMPLE = "var x = 5\n\nstream\n    |from()\n        .measurement('test')\n"
DESCRIBED = "// Configurable measurement\nvar measurement = 'test'\n\nstream\n    |from()\n        .measurement(measurement)\n"
CORRECT = (
    "\nvar field string\nstream\n    |from()\n        .measurement('test')\n    |window()\n"
    "        .period(10s)\n        .every(10s)\n    |count(field)\n    |httpOut('count')\n"
)
NEW_VAR = (
    "\nvar field string\nvar period duration\nstream\n    |from()\n        .measurement('test')\n    |window()\n"
    "        .period(period)\n        .every(period)\n    |count(field)\n    |httpOut('count')\n"
)


def test_create_template(api: Api) -> None:
    # TestServer_CreateTemplate
    resp = api.post(TPL, {"id": "testTemplateID", "type": "stream", "script": SIMPLE})
    assert resp.status == 200
    body = resp.json
    assert list(body) == ["link", "id", "type", "script", "vars", "dot", "error", "created", "modified"]
    assert body["link"]["href"] == "/kapacitor/v1/templates/testTemplateID"
    assert body["dot"] == "digraph testTemplateID {\nstream0 -> from1;\n}"
    assert body["vars"] == {"x": {"type": "int", "value": 5, "description": ""}}
    assert body["script"] == SIMPLE and body["error"] == ""
    assert_matches_spec("createTemplate", 200, resp.body)
    got = api.get(f"{TPL}/testTemplateID")
    assert got.json == body
    assert_matches_spec("getTemplate", 200, got.body)


def test_template_errors(api: Api) -> None:
    api.post(TPL, {"id": "t", "script": SIMPLE})
    dup = api.post(TPL, {"id": "t", "script": SIMPLE})
    assert dup.status == 400 and error_of(dup) == "template t already exists"
    bad_id = api.post(TPL, {"id": "a b", "script": SIMPLE})
    assert bad_id.status == 400
    assert error_of(bad_id) == "template ID must contain only letters, numbers, '-', '.' and '_'. \"a b\""
    # An empty script fails type inference: `must provide TICKscript` is unreachable (§4.4).
    empty = api.post(TPL, {"id": "e"})
    assert empty.status == 400 and error_of(empty) == "invalid task type: invalid"
    assert api.request("POST", TPL, body=b"{").status == 400
    missing = api.get(f"{TPL}/nope")
    assert missing.status == 404 and error_of(missing) == "no template exists"
    assert api.get(f"{TPL}/").status == 400
    assert error_of(api.get(f"{TPL}/")) == "must specify template id on path"
    upd = api.patch(f"{TPL}/nope", {"script": SIMPLE})
    assert upd.status == 404 and error_of(upd) == "template does not exist, cannot update"
    assert api.get(f"{TPL}/t", params={"script-format": "x"}).status == 400
    assert api.delete(f"{TPL}/nope").status == 204


def test_task_from_template_and_descriptions(api: Api) -> None:
    # TestServer_CreateTaskFromTemplate
    tpl = api.post(TPL, {"id": "testTemplateID", "script": DESCRIBED}).json
    assert tpl["vars"] == {"measurement": {"type": "string", "value": "test", "description": "Configurable measurement"}}
    dbrps = [{"db": "mydb", "rp": "myrp"}, {"db": "otherdb", "rp": "default"}]
    overrides = {"measurement": {"type": "string", "value": "another_measurement"}}
    resp = api.post(T, {"id": "taskid", "template-id": "testTemplateID", "dbrps": dbrps, "vars": overrides})
    assert resp.status == 200
    task = resp.json
    assert task["template-id"] == "testTemplateID"
    assert task["type"] == "stream" and task["status"] == "disabled"
    assert task["script"] == DESCRIBED
    assert task["dot"] == "digraph taskid {\nstream0 -> from1;\n}"
    assert task["dbrps"] == dbrps
    assert task["vars"] == {"measurement": {"type": "string", "value": "another_measurement", "description": ""}}
    listed = api.get(T, params={"fields": "template-id"}).json["tasks"]
    assert listed == [{"id": "taskid", "link": task["link"], "template-id": "testTemplateID"}]


def test_missing_template_var(api: Api) -> None:
    api.post(TPL, {"id": "tpl", "script": CORRECT})
    resp = api.post(T, {"id": "t", "template-id": "tpl", "dbrps": DBRPS})
    assert resp.status == 400
    assert error_of(resp) == 'invalid TICKscript: missing value for var "field".'
    unknown = api.post(T, {"id": "t", "template-id": "nope", "dbrps": DBRPS})
    assert unknown.status == 400 and error_of(unknown) == "unknown template nope: err: no template exists"


def test_breaking_template_update_rolls_back_tasks(api: Api) -> None:
    # TestServer_StreamTemplateTask_UpdateTemplate_Rollback
    api.post(TPL, {"id": "testStreamTemplate", "script": CORRECT})
    field = {"field": {"type": "string", "value": "value"}}
    for i in range(5):
        resp = api.post(
            T,
            {"id": f"testStreamTask-{i}", "template-id": "testStreamTemplate", "dbrps": DBRPS, "status": "enabled", "vars": field},
        )
        assert resp.status == 200, resp.text
    resp = api.patch(f"{TPL}/testStreamTemplate", {"script": NEW_VAR})
    assert resp.status == 500
    assert error_of(resp) == 'error reloading associated task testStreamTask-0: missing value for var "period".'
    for i in range(5):
        assert api.get(f"{T}/testStreamTask-{i}", params={"script-format": "raw"}).json["script"] == CORRECT


def test_template_update_reaches_tasks_and_rename(api: Api) -> None:
    api.post(TPL, {"id": "tpl", "script": SIMPLE})
    for i in range(3):
        assert api.post(T, {"id": f"task{i}", "template-id": "tpl", "dbrps": DBRPS}).status == 200
    new_script = "var x = 5\n\nstream\n    |from()\n        .measurement('other')\n"
    resp = api.patch(f"{TPL}/tpl", {"script": new_script, "id": "renamed"})
    assert resp.status == 200
    assert resp.json["link"]["href"] == "/kapacitor/v1/templates/renamed"
    for i in range(3):
        task = api.get(f"{T}/task{i}").json
        assert task["script"] == new_script and task["template-id"] == "renamed"
    conflict_src = api.post(TPL, {"id": "other", "script": SIMPLE})
    assert conflict_src.status == 200
    conflict = api.patch(f"{TPL}/other", {"id": "renamed"})
    assert conflict.status == 500
    assert error_of(conflict) == "failed to create new template for ID change: template already exists"


def test_deleting_a_template_orphans_its_tasks(api: Api) -> None:
    api.post(TPL, {"id": "tpl", "script": SIMPLE})
    api.post(T, {"id": "orphan", "template-id": "tpl", "dbrps": DBRPS})
    assert api.delete(f"{TPL}/tpl").status == 204
    assert api.get(f"{TPL}/tpl").status == 404
    task = api.get(f"{T}/orphan")
    assert task.status == 200 and task.json["template-id"] == "tpl"
    resp = api.patch(f"{T}/orphan", {"status": "enabled"})
    assert resp.status == 400 and error_of(resp) == "unknown template : err: no template exists"


def test_template_list(api: Api) -> None:
    for template_id in ["b", "a", "c"]:
        api.post(TPL, {"id": template_id, "script": SIMPLE})
    resp = api.get(TPL)
    items = resp.json["templates"]
    assert [t["id"] for t in items] == ["a", "b", "c"]
    assert "vars" not in items[0] and set(items[0]) == {"link", "id", "type", "script", "dot", "error", "created", "modified"}
    assert_matches_spec("listTemplates", 200, resp.body)
    with_vars = api.get(TPL, params={"fields": "vars", "limit": "1"}).json["templates"]
    assert with_vars[0]["vars"]["x"]["value"] == 5
    # Templates implement their own listing: a negative limit lists nothing (§2.4).
    assert api.get(TPL, params={"limit": "-1"}).json == {"templates": []}
    assert api.get(TPL, params={"fields": "bogus"}).status == 400


@pytest.mark.parametrize("script_format", ["formatted", "raw"])
def test_template_script_format(api: Api, script_format: str) -> None:
    raw = "var x = 5\nstream|from().measurement('test')"
    api.post(TPL, {"id": "f", "script": raw})
    got = api.get(f"{TPL}/f", params={"script-format": script_format}).json["script"]
    if script_format == "raw":
        assert got == raw
    else:
        assert got == "var x = 5\n\nstream\n    |from()\n        .measurement('test')\n"


def test_an_update_evaluates_the_script_as_the_templates_type(api: Api) -> None:
    """handleUpdateTemplate keeps the template's type unless the update names one, and evaluates
    the new script as that type (as a real 1.5.7 answers)."""
    batch = "var x float\nbatch|query('SELECT mean(v) FROM \"db\".\"rp\".\"cpu\"').period(1m).every(1m)"
    assert api.post("/kapacitor/v1/templates", {"id": "tb", "script": batch}).status == 200
    resp = api.patch("/kapacitor/v1/templates/tb", {"script": "stream|from()"})
    assert (resp.status, resp.json["error"]) == (
        400, 'invalid TICKscript: name "stream" is undefined. Names in scope: time,batch')
    assert api.get("/kapacitor/v1/templates/tb").json["script"].startswith("var x float")
    # naming the type makes the stream script valid
    resp = api.patch("/kapacitor/v1/templates/tb", {"script": "stream|from()", "type": "stream"})
    assert (resp.status, resp.json["type"]) == (200, "stream")
