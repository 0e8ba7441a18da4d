"""Routing: unknown paths and wrong methods (behaviour §1.1-§1.4).

Real Kapacitor has one mux per method and a catch-all `/` for each, so an unknown path *and* a
known path with a method it does not serve both get `404 {"error": "Not Found"}`; there is no 405
anywhere. Every request here names only IDs of this run that do not exist, and whatever a wrong
server might create from them is registered for cleanup.
"""

from __future__ import annotations

import pytest

from conformance import api
from conformance.checks import MUST, SHOULD, check, error_body, expect, expect_empty_body, expect_status
from conformance.context import Kap
from conformance.world import World

V1 = api.V1


@check("methods.unknown-route", MUST, "api#http-response-codes")
@pytest.mark.parametrize("where", ["kcfnosuch", "tasks-kcfnosuch", "alerts/kcfnosuch", "kcfnosuch/tasks"])
def test_unknown_route(kap: Kap, where: str) -> None:
    """A path the API does not have answers 404 with a JSON error body (`Not Found`)."""
    ex = kap.client.get(f"{V1}/{where}")
    expect_status(ex, 404, f"GET {V1}/{where}", ref="api#http-response-codes")
    err = error_body(ex, with_message=kap.suite.error_has_message, what=f"GET {V1}/{where}")
    expect(err == "Not Found", f"GET {V1}/{where}: the router's catch-all text", expected="Not Found",
           actual=err, ref="behaviour §1.2", exchange=ex)


#: (method, path under /kapacitor/v1 with {m} = a missing ID of this run, kind registered for cleanup)
WRONG = [
    ("PUT", "/tasks", None), ("DELETE", "/tasks", None), ("PUT", "/tasks/{m}", "task"),
    ("POST", "/tasks/{m}", "task"), ("PUT", "/templates/{m}", "template"), ("DELETE", "/templates", None),
    ("POST", "/recordings", None), ("PATCH", "/recordings/{m}", "recording"), ("PATCH", "/replays/{m}", "replay"),
    ("POST", "/replays/", None), ("DELETE", "/ping", None), ("PUT", "/alerts/topics", None),
    ("DELETE", "/storage/stores", None),
]


@check("methods.no-405", SHOULD, "behaviour §1.2", mutates=True)
@pytest.mark.parametrize("method,path,kind", WRONG, ids=[f"{m} {p}" for m, p, _ in WRONG])
def test_wrong_method(kap: Kap, world: World, method: str, path: str, kind: str | None) -> None:
    """A known path with a method it does not serve hits the catch-all: 404 `Not Found`, never 405."""
    missing = world.missing("wm")
    if kind is not None:
        kap.registry.add(kind, missing)  # a wrong server might create it; DELETE of a missing ID is harmless
    full = V1 + path.format(m=missing)
    ex = kap.client.request(method, full, body=b"{}" if method in ("PUT", "POST", "PATCH") else None,
                            headers={"Content-Type": "application/json"})
    expect_status(ex, 404, f"{method} {full}", ref="behaviour §1.2",
                  hint="Kapacitor's router has no 405: every unserved method falls through to its catch-all")
    err = error_body(ex, with_message=kap.suite.error_has_message, what=f"{method} {full}")
    expect(err == "Not Found", f"{method} {full}: the catch-all text", expected="Not Found", actual=err,
           ref="behaviour §1.2", exchange=ex)


@check("methods.options", SHOULD, "behaviour §1.4")
@pytest.mark.parametrize("path", ["/tasks", "/tasks/{m}", "/kcfnosuch", "/ping"])
def test_options(kap: Kap, world: World, path: str) -> None:
    """OPTIONS on any path answers 200 with an empty body (the CORS wrapper returns before routing)."""
    full = V1 + path.format(m=world.missing("opt"))
    ex = kap.client.request("OPTIONS", full)
    expect_status(ex, 200, f"OPTIONS {full}", ref="behaviour §1.4")
    expect_empty_body(ex, f"OPTIONS {full}", ref="behaviour §1.4")
