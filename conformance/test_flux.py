"""Flux tasks (optional area: 1.6+ with `[fluxtask] enabled`; api#manage-flux-tasks, behaviour §14)."""

from __future__ import annotations

from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap

FLUX = 'option task = {{name: "{name}", every: 1h}}\n\nfrom(bucket: "{db}") |> range(start: -1m)\n'


@check("flux.crud", MUST, "api#manage-flux-tasks", mutates=True)
def test_flux_crud(kap: Kap) -> None:
    """Create (201), get, update status, list and delete a Flux task."""
    kap.need("createFluxTask", "listFluxTasks")
    name = kap.uid("flux-")
    ex = kap.call("createFluxTask", json={"flux": FLUX.format(name=name, db=kap.suite.db), "status": "inactive"})
    body = ex.json_or_none()
    if ex.status == 201 and isinstance(body, dict) and body.get("id"):
        kap.registry.add("flux-task", body["id"])
    expect_status(ex, 201, "create Flux task", ref="api#create-a-flux-task")
    tid = body["id"]
    expect_equal(body.get("name"), name, "Flux task name (from option task)", ref="behaviour §14")
    got = kap.call("getFluxTask", taskID=tid)
    expect_status(got, 200, "GET Flux task", ref="behaviour §14")
    ex = kap.call("updateFluxTask", taskID=tid, json={"status": "active"})
    expect_status(ex, 200, "PATCH Flux task status", ref="api#update-a-flux-task")
    expect_equal((ex.json_or_none() or {}).get("status"), "active", "PATCH Flux task: status",
                 ref="api#update-a-flux-task", exchange=ex)
    listed = kap.call("listFluxTasks", query=[("name", name)])
    expect_status(listed, 200, "list Flux tasks", ref="api#list-flux-tasks")
    names = [t.get("name") for t in (listed.json_or_none() or {}).get("tasks") or []]
    expect(name in names, "list Flux tasks by name", expected=name, actual=names, ref="api#list-flux-tasks",
           exchange=listed)
    expect_status(kap.call("deleteFluxTask", taskID=tid), 204, "DELETE Flux task", ref="api#delete-a-flux-task")
    kap.registry.forget("flux-task", tid)


@check("flux.limit", SHOULD, "behaviour §14")
def test_flux_limit(kap: Kap) -> None:
    """List limit must be 1..500 (422 per the behaviour reference, 400 in the 1.8 source)."""
    kap.need("listFluxTasks")
    expect_status(kap.call("listFluxTasks", query=[("limit", "501")]), (400, 422), "list Flux tasks limit=501",
                  ref="behaviour §14")
    expect_status(kap.call("listFluxTasks", query=[("limit", "500")]), 200, "list Flux tasks limit=500",
                  ref="behaviour §14")
