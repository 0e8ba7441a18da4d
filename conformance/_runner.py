"""Run one row of the status table: skip cleanly when it cannot run here, else send it."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.cases import Case
from conformance.checks import fail, is_catch_all
from conformance.context import Kap, is_optional
from conformance.target import Exchange
from conformance.world import World


def run_case(kap: Kap, world: World, case: Case, *, preview: bool = False) -> tuple[Exchange, dict[str, Any]]:
    kap.need(case.op)
    s = kap.suite.settings
    if s.read_only and not case.safe:
        pytest.skip("--read-only: this request could change server state")
    if "config-writes" in case.requires and not s.allow_config_writes:
        pytest.skip("server-wide settings are opt-in: pass --allow-config-writes")
    if "writes" in case.requires and not s.allow_writes:
        pytest.skip("writing points is opt-in: pass --allow-writes")
    req = case.build(kap, world)
    ex = kap.call(case.op, preview=preview, **req)
    if is_catch_all(ex) and 404 not in case.expected():
        if is_optional(case.op):
            pytest.skip(f"target does not serve {case.op} (catch-all 404 Not Found)")
        where = "the v1preview mirror of " if preview else ""
        fail(f"target does not serve {where}{case.op}", expected=f"{ex.method} {ex.path} served",
             actual='the catch-all 404 {"error":"Not Found"}', ref="api", exchange=ex)
    if case.creates and 200 <= ex.status < 300:
        body = ex.json_or_none()
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            topic = req.get("topic") if case.creates == "handler" else None
            kap.registry.add(case.creates, body["id"], topic=topic)
    return ex, req
