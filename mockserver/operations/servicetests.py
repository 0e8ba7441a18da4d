"""Service test handlers: list, options of one service, run one test (compact JSON + newline)."""

from __future__ import annotations

from typing import Any

from mockserver.operations.config import render_value
from mockserver.operations.registry import Call, Reply, operation
from mockserver.render import BASE, go_path_join

TESTS_BASE = BASE + "/service-tests"


def _entry(name: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"link": {"rel": "self", "href": go_path_join(TESTS_BASE, name)}, "name": name, "options": render_value(options)}


@operation("listServiceTests")
def list_service_tests(call: Call) -> Reply:
    entries = [_entry(*service) for service in call.state.service_tests.list_services(call.first("pattern"))]
    return Reply(200, body={"link": {"rel": "self", "href": TESTS_BASE}, "services": entries or None}, pretty=False)


@operation("getServiceTest")
def get_service_test(call: Call) -> Reply:
    return Reply(200, body=_entry(*call.state.service_tests.get(call.params.get("name", ""))), pretty=False)


@operation("runServiceTest")
def run_service_test(call: Call) -> Reply:
    failure = call.state.service_tests.run(call.params.get("name", ""), call.body())
    return Reply(200, body={"success": failure is None, "message": failure or ""}, pretty=False)
