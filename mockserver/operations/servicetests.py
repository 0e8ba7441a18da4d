"""Service test handlers: list, options of one service, run one test (compact JSON + newline)."""

from __future__ import annotations

from mockserver.operations.registry import Call, Reply, operation


@operation("listServiceTests")
def list_service_tests(call: Call) -> Reply:
    return Reply(200, body=call.state.service_tests.list_services(call.first("pattern")), pretty=False)


@operation("getServiceTest")
def get_service_test(call: Call) -> Reply:
    return Reply(200, body=call.state.service_tests.get(call.params.get("name", "")), pretty=False)


@operation("runServiceTest")
def run_service_test(call: Call) -> Reply:
    result = call.state.service_tests.run(call.params.get("name", ""), call.body())
    return Reply(200, body=result, pretty=False)
