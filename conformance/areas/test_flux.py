"""Flux tasks (optional area: 1.6+ with `[fluxtask] enabled`; api#manage-flux-tasks, behaviour §14)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status, is_catch_all
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


_HEX16 = re.compile(r"[0-9a-f]{16}")
BASE = api.V1 + "/api/v2/tasks"


def _create(kap: Kap) -> dict[str, Any]:
    kap.need("createFluxTask", "listFluxTasks")
    name = kap.uid("fx-")
    ex = kap.call("createFluxTask", json={"flux": FLUX.format(name=name, db=kap.suite.db), "status": "inactive"})
    body = ex.json_or_none()
    if ex.status == 201 and isinstance(body, dict) and body.get("id"):
        kap.registry.add("flux-task", body["id"])
    expect_status(ex, 201, "create Flux task", ref="api#create-a-flux-task")
    assert isinstance(body, dict)
    return body


@check("flux.shape", SHOULD, "behaviour §14", mutates=True)
def test_flux_shape(kap: Kap) -> None:
    """A Flux task has a 16-hex-digit id, self/runs/logs links and the `every` of its options; lists and
    runs link to themselves."""
    body = _create(kap)
    tid = str(body.get("id"))
    expect(bool(_HEX16.fullmatch(tid)), "Flux task id", expected="16 lower-case hex digits", actual=tid,
           ref="behaviour §14")
    expect_equal(body.get("links"), {"self": f"{BASE}/{tid}", "runs": f"{BASE}/{tid}/runs", "logs": f"{BASE}/{tid}/logs"},
                 "Flux task links", ref="behaviour §14")
    expect_equal((body.get("status"), body.get("every")), ("inactive", "1h"), "Flux task status, every",
                 ref="behaviour §14")
    ex = kap.call("listFluxTasks")
    listed = ex.json_or_none() or {}
    expect_equal(listed.get("links"), {"self": f"{BASE}?limit=100"}, "Flux task list links (default limit 100)",
                 ref="behaviour §14", exchange=ex)
    ex = kap.call("listFluxTaskRuns", taskID=tid)
    runs = ex.json_or_none() or {}
    expect_equal((ex.status, runs.get("links"), runs.get("runs")),
                 (200, {"self": f"{BASE}/{tid}/runs", "task": f"{BASE}/{tid}"}, []), "runs of a new Flux task",
                 ref="behaviour §14", exchange=ex)


@check("flux.errors", SHOULD, "behaviour §14", mutates=True)
def test_flux_errors(kap: Kap) -> None:
    """Flux task errors use the InfluxDB 2 format: {code, message} and X-Platform-Error-Code."""
    kap.need("getFluxTask", "createFluxTask")
    cases = [
        (kap.call("getFluxTask", taskID="0000000000000001"), 404, "not found", "failed to find task",
         "GET missing Flux task"),
        (kap.call("createFluxTask", json={"flux": "kcf"}), 400, "invalid", "", "create Flux task without options"),
    ]
    for ex, status, code, start, what in cases:
        expect_status(ex, status, what, ref="behaviour §14")
        body = ex.json_or_none()
        expect(isinstance(body, dict) and body.get("code") == code and str(body.get("message", "")).startswith(start)
               and bool(body.get("message")), f"{what}: error body", expected={"code": code, "message": start + "..."},
               actual=body, ref="behaviour §14", exchange=ex)
        expect_equal(ex.header("X-Platform-Error-Code"), code, f"{what}: X-Platform-Error-Code", ref="behaviour §14",
                     exchange=ex)


@check("flux.version-gate", SHOULD, "behaviour §14")
def test_flux_version_gate(kap: Kap) -> None:
    """A target older than 1.6 has no Flux task API: its routes are the catch-all 404."""
    if kap.suite.at_least(1, 6):
        pytest.skip(f"Flux tasks may exist on {kap.suite.version_header or 'an unknown version'}")
    ex = kap.client.get(BASE)
    expect(is_catch_all(ex), f"GET {BASE} on {kap.suite.version_header}", expected='404 {"error": "Not Found"}',
           actual=f"{ex.status} {ex.text[:200]}", ref="behaviour §14", exchange=ex)
