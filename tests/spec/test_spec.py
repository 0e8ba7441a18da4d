"""Structural tests of spec/kapacitor-v1.yaml.

The expectations below are written from the public API docs (endpoint list) and from the
behavioural reference of the real server (status codes, shapes), not from the document itself,
so a regression in the document fails here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from spec import load_spec, operation, operations
from spec.ids import FORMATS

SPEC_URN = "urn:kapacitor-spec"
V1 = "/kapacitor/v1"
FLUX = V1 + "/api/v2/tasks"

# (method, path, operationId) for every endpoint the public docs list, in doc order.
DOCUMENTED = [
    # Write data
    ("POST", V1 + "/write", "writePoints"),
    ("POST", "/write", "writePointsRoot"),
    # Manage tasks
    ("POST", V1 + "/tasks", "createTask"),
    ("PATCH", V1 + "/tasks/{id}", "updateTask"),
    ("GET", V1 + "/tasks/{id}", "getTask"),
    ("DELETE", V1 + "/tasks/{id}", "deleteTask"),
    ("GET", V1 + "/tasks", "listTasks"),
    ("GET", V1 + "/tasks/{id}/{endpoint}", "getTaskHttpOut"),
    # Manage templates
    ("POST", V1 + "/templates", "createTemplate"),
    ("PATCH", V1 + "/templates/{id}", "updateTemplate"),
    ("GET", V1 + "/templates/{id}", "getTemplate"),
    ("DELETE", V1 + "/templates/{id}", "deleteTemplate"),
    ("GET", V1 + "/templates", "listTemplates"),
    # Manage recordings
    ("POST", V1 + "/recordings/stream", "recordStream"),
    ("POST", V1 + "/recordings/batch", "recordBatch"),
    ("POST", V1 + "/recordings/query", "recordQuery"),
    ("GET", V1 + "/recordings/{id}", "getRecording"),
    ("DELETE", V1 + "/recordings/{id}", "deleteRecording"),
    ("GET", V1 + "/recordings", "listRecordings"),
    # Manage replays (the docs' trailing slash on POST /replays/ is a doc error, see PROVENANCE)
    ("POST", V1 + "/replays", "createReplay"),
    ("POST", V1 + "/replays/batch", "replayBatch"),
    ("POST", V1 + "/replays/query", "replayQuery"),
    ("GET", V1 + "/replays/{id}", "getReplay"),
    ("DELETE", V1 + "/replays/{id}", "deleteReplay"),
    ("GET", V1 + "/replays", "listReplays"),
    # Manage alerts
    ("DELETE", V1 + "/alerts/topics/{topic}", "deleteTopic"),
    ("GET", V1 + "/alerts/topics", "listTopics"),
    ("GET", V1 + "/alerts/topics/{topic}", "getTopic"),
    ("GET", V1 + "/alerts/topics/{topic}/events", "listTopicEvents"),
    ("GET", V1 + "/alerts/topics/{topic}/events/{event}", "getTopicEvent"),
    ("GET", V1 + "/alerts/topics/{topic}/handlers", "listTopicHandlers"),
    ("GET", V1 + "/alerts/topics/{topic}/handlers/{handler}", "getTopicHandler"),
    ("POST", V1 + "/alerts/topics/{topic}/handlers", "createTopicHandler"),
    ("PUT", V1 + "/alerts/topics/{topic}/handlers/{handler}", "replaceTopicHandler"),
    ("PATCH", V1 + "/alerts/topics/{topic}/handlers/{handler}", "patchTopicHandler"),
    ("DELETE", V1 + "/alerts/topics/{topic}/handlers/{handler}", "deleteTopicHandler"),
    # Override configurations
    ("GET", V1 + "/config", "getConfig"),
    ("GET", V1 + "/config/{section}", "getConfigSection"),
    ("GET", V1 + "/config/{section}/{element}", "getConfigElement"),
    ("POST", V1 + "/config/{section}", "updateConfigSection"),
    ("POST", V1 + "/config/{section}/{element}", "updateConfigElement"),
    # Manage storage
    ("GET", V1 + "/storage/backup", "backupStorage"),
    ("POST", V1 + "/storage/stores/{store}", "runStoreAction"),
    # Users
    ("GET", V1 + "/users", "listUsers"),
    ("POST", V1 + "/users", "createUser"),
    ("PATCH", V1 + "/users/{name}", "updateUser"),
    ("DELETE", V1 + "/users/{name}", "deleteUser"),
    # Manage Flux tasks
    ("POST", FLUX, "createFluxTask"),
    ("GET", FLUX, "listFluxTasks"),
    ("PATCH", FLUX + "/{taskID}", "updateFluxTask"),
    ("DELETE", FLUX + "/{taskID}", "deleteFluxTask"),
    ("GET", FLUX + "/{taskID}/runs", "listFluxTaskRuns"),
    ("POST", FLUX + "/{taskID}/runs/{runID}/retry", "retryFluxTaskRun"),
    ("GET", FLUX + "/{taskID}/logs", "listFluxTaskLogs"),
    ("GET", FLUX + "/{taskID}/runs/{runID}/logs", "listFluxTaskRunLogs"),
    # Logging (technical preview)
    ("GET", "/kapacitor/v1preview/logs", "streamLogs"),
    # Test services
    ("GET", V1 + "/service-tests", "listServiceTests"),
    ("GET", V1 + "/service-tests/{name}", "getServiceTest"),
    ("POST", V1 + "/service-tests/{name}", "runServiceTest"),
    # Miscellaneous
    ("GET", V1 + "/ping", "ping"),
    ("POST", V1 + "/sideload/reload", "reloadSideload"),
    ("POST", V1 + "/subscriptions", "linkSubscriptions"),
    ("GET", V1 + "/debug/vars", "debugVars"),
    ("GET", V1 + "/debug/pprof/", "pprofIndex"),
    ("GET", V1 + "/debug/pprof/{profile}", "pprofProfile"),
    ("GET", V1 + "/:routes", "listRoutes"),
]

# Real routes the docs do not list (server source / Go client).
UNDOCUMENTED = [
    ("HEAD", V1 + "/ping", "pingHead"),
    ("POST", V1 + "/loglevel", "setLogLevel"),
    ("GET", V1 + "/storage/stores", "listStores"),
    ("GET", V1 + "/users/{name}", "getUser"),
    ("GET", FLUX + "/{taskID}", "getFluxTask"),
    ("POST", FLUX + "/{taskID}/runs", "startFluxTaskRun"),
    ("GET", FLUX + "/{taskID}/runs/{runID}", "getFluxTaskRun"),
    ("DELETE", FLUX + "/{taskID}/runs/{runID}", "cancelFluxTaskRun"),
    # The alert sub-router's quirks (behaviour §8.4), spelled out so clients and the suite see them.
    ("POST", V1 + "/alerts/topics/{topic}", "createTopicHandlerFallback"),
    ("PUT", V1 + "/alerts/topics/{topic}", "replaceTopicHandlerFallback"),
    ("PATCH", V1 + "/alerts/topics/{topic}", "patchTopicHandlerFallback"),
]

# Statuses the real server answers with (behaviour reference), per operation.
REQUIRED_STATUSES = {
    "createTask": {200, 400, 500},
    "getTask": {200, 400, 404, 500},
    "updateTask": {200, 400, 404, 500},
    "deleteTask": {204, 400},
    "listTasks": {200, 400},
    "createTemplate": {200, 400, 500},
    "getTemplate": {200, 400, 404},
    "deleteTemplate": {204, 400},
    "recordStream": {201, 400, 404, 500},
    "recordBatch": {201, 400, 404, 500},
    "recordQuery": {201, 400, 500},
    "getRecording": {200, 202, 400, 500},
    "deleteRecording": {204, 400},
    "createReplay": {201, 400, 404},
    "replayBatch": {201, 400, 404, 500},
    "getReplay": {200, 202, 400, 404},
    "deleteReplay": {204, 400},
    "listTopics": {200, 400},
    "getTopic": {200, 404},
    "deleteTopic": {204},
    "listTopicEvents": {200, 400, 500},
    "getTopicEvent": {200, 404},
    "listTopicHandlers": {200, 400},
    "createTopicHandler": {200, 400, 500},
    "replaceTopicHandler": {200, 400, 404, 500},
    "patchTopicHandler": {200, 400, 404, 500},
    "deleteTopicHandler": {204},
    "getConfig": {200, 403},
    "getConfigSection": {200, 400, 403, 404, 500},
    "getConfigElement": {200, 403, 404, 500},
    "updateConfigSection": {204, 400, 403, 500},
    "updateConfigElement": {204, 400, 403, 500},
    "listServiceTests": {200, 400},
    "getServiceTest": {200, 400, 404},
    "runServiceTest": {200, 400, 404},
    "runStoreAction": {204, 400, 404, 500},
    "getUser": {200, 400, 404},
    "updateUser": {200, 400, 500},
    "writePoints": {204, 400, 401, 500},
    "writePointsRoot": {204, 400, 401, 500},
    "ping": {204},
    "pingHead": {204},
    "setLogLevel": {204, 400},
    "reloadSideload": {204, 500},
    "linkSubscriptions": {204, 500},
    "streamLogs": {200, 400},
    "listFluxTasks": {200, 400},
    "createFluxTask": {201, 400},
    "getFluxTask": {200, 404},
    "deleteFluxTask": {204, 404},
}

# Statuses the docs mention but the real server never sends for that operation.
FORBIDDEN_STATUSES = {
    "getRecording": {404},  # missing recording is a 500
    "createTask": {404, 409},  # duplicate is 400
    "createTemplate": {404, 409},
    "updateConfigSection": {200, 404},  # success is 204, unknown section 400
    "updateConfigElement": {200, 404},
    "createTopicHandler": {201},
    "deleteTask": {404},
    "deleteTemplate": {404},
    "deleteRecording": {404},
    "deleteReplay": {404},
    "deleteTopic": {404},
    "deleteTopicHandler": {404},
    "deleteUser": {404},
}

REST_PARAM_PATHS = {
    V1 + "/tasks/{id}",
    V1 + "/templates/{id}",
    V1 + "/recordings/{id}",
    V1 + "/replays/{id}",
    V1 + "/users/{name}",
    V1 + "/service-tests/{name}",
    V1 + "/config/{section}/{element}",
    V1 + "/debug/pprof/{profile}",
    V1 + "/alerts/topics/{topic}",
    V1 + "/storage/stores/{store}",  # any POST under /storage/ reaches the store-action handler
}

FAMILIES = {
    "tasks",
    "templates",
    "recordings",
    "replays",
    "alerts",
    "config",
    "service-tests",
    "storage",
    "users",
    "write",
    "misc",
    "flux-tasks",
}


# ------------------------------------------------------------------------------------ helpers
def _doc() -> dict[str, Any]:
    return load_spec()


def _resolve(node: Any) -> Any:
    """Follow local `$ref`s until a concrete object is reached."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = _doc()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (SPEC_URN + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    for name, predicate in FORMATS.items():
        checker.checks(name)(predicate)
    return checker


def _validator(schema: dict[str, Any]) -> OAS30Validator:
    registry = Registry().with_resource(SPEC_URN, Resource(contents=_doc(), specification=DRAFT4))
    return OAS30Validator(_rebase(schema), registry=registry, format_checker=_format_checker())


def _errors(schema: dict[str, Any], value: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in _validator(schema).iter_errors(value)
    ]


def _media_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example value) for every media-type example in the document."""
    for op in operations():
        where = f"{op.operation_id}"
        body = _resolve(op.raw.get("requestBody")) or {}
        sources = [(f"{where} request", body)]
        for status, resp in op.raw.get("responses", {}).items():
            sources.append((f"{where} {status}", _resolve(resp)))
        for label, holder in sources:
            for ctype, media in (holder.get("content") or {}).items():
                schema = media.get("schema")
                if "example" in media:
                    yield f"{label} {ctype}", schema, media["example"]
                for name, ex in (media.get("examples") or {}).items():
                    yield f"{label} {ctype} [{name}]", schema, _resolve(ex)["value"]
        for param in list(op.path_item.get("parameters", [])) + list(op.raw.get("parameters", [])):
            param = _resolve(param)
            if "example" in param:
                yield f"{where} param {param['name']}", param["schema"], param["example"]


def _schema_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    for name, schema in _doc()["components"]["schemas"].items():
        if "example" in schema:
            yield f"schemas/{name}", {"$ref": f"#/components/schemas/{name}"}, schema["example"]


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")


# -------------------------------------------------------------------------------------- tests
def test_document_is_valid_openapi_303() -> None:
    doc = copy.deepcopy(_doc())
    assert doc["openapi"] == "3.0.3"
    validate(doc)


def test_server_and_full_paths() -> None:
    doc = _doc()
    assert doc["servers"] == [{"url": "http://localhost:9092"}]
    for path in doc["paths"]:
        assert path == "/write" or path.startswith(("/kapacitor/v1/", "/kapacitor/v1preview/")), path


@pytest.mark.parametrize(("method", "path", "op_id"), DOCUMENTED + UNDOCUMENTED)
def test_endpoint_present_with_fixed_operation_id(method: str, path: str, op_id: str) -> None:
    item = _doc()["paths"].get(path)
    assert item is not None, f"path {path} missing"
    op = item.get(method.lower())
    assert op is not None, f"{method} {path} missing"
    assert op["operationId"] == op_id


def test_documented_table_is_large_enough_and_spec_has_nothing_else() -> None:
    assert len(DOCUMENTED) >= 65
    expected = {(m, p) for m, p, _ in DOCUMENTED + UNDOCUMENTED}
    actual = {(op.method, op.path) for op in operations()}
    assert actual == expected, f"extra: {actual - expected}, missing: {expected - actual}"


def test_operation_ids_unique() -> None:
    ids = [op.operation_id for op in operations()]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes


def test_no_default_responses_and_no_405() -> None:
    for op in operations():
        codes = op.response_codes()
        assert "default" not in codes, op.operation_id
        assert "405" not in codes, op.operation_id
        assert all(re.fullmatch(r"[1-5][0-9][0-9]", c) for c in codes), (op.operation_id, codes)


@pytest.mark.parametrize("op_id", sorted(REQUIRED_STATUSES))
def test_statuses_of_the_real_server_are_documented(op_id: str) -> None:
    declared = {int(c) for c in operation(op_id).response_codes()}
    missing = REQUIRED_STATUSES[op_id] - declared
    assert not missing, f"{op_id} lacks {sorted(missing)}"


@pytest.mark.parametrize("op_id", sorted(FORBIDDEN_STATUSES))
def test_doc_only_statuses_are_not_in_the_spec(op_id: str) -> None:
    declared = {int(c) for c in operation(op_id).response_codes()}
    assert not (FORBIDDEN_STATUSES[op_id] & declared)


def test_doc_variants_recorded_where_docs_disagree() -> None:
    def variant_statuses(op_id: str) -> set[int]:
        return {v["status"] for v in operation(op_id).raw.get("x-kapacitor-doc-variant", [])}

    assert 404 in variant_statuses("getRecording")
    assert {200, 404} <= variant_statuses("updateConfigElement")
    assert {200, 404} <= variant_statuses("updateConfigSection")
    for op in operations():
        for variant in op.raw.get("x-kapacitor-doc-variant", []):
            assert set(variant) == {"status", "note"} and variant["note"], op.operation_id


def test_listed_error_messages_use_declared_statuses() -> None:
    for op in operations():
        declared = {int(c) for c in op.response_codes()}
        for err in op.raw.get("x-kapacitor-errors", []):
            assert err["status"] in declared, (op.operation_id, err)
            assert isinstance(err["message"], str) and err["message"]


def test_every_response_declares_version_header() -> None:
    for op in operations():
        for status, resp in op.raw["responses"].items():
            headers = _resolve(resp).get("headers", {})
            assert "X-Kapacitor-Version" in headers, (op.operation_id, status)
            assert _resolve(headers["X-Kapacitor-Version"])["schema"]["type"] == "string"


def test_error_responses_reference_the_error_schema() -> None:
    error_ref = "#/components/schemas/Error"
    for op in operations():
        family = op.raw["x-kapacitor-family"]
        for status, resp in op.raw["responses"].items():
            if int(status) < 400:
                continue
            content = _resolve(resp).get("content", {})
            where = (op.operation_id, status)
            if family == "flux-tasks" and status == "404":
                # A platform `not found`, or the catch-all 404 when the service is off (no `code`).
                assert content["application/json"]["schema"] == {"anyOf": [
                    {"$ref": "#/components/schemas/InfluxError"}, {"$ref": error_ref}]}, where
            elif family == "flux-tasks" and status not in {"401", "403"}:
                assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/InfluxError"}
            elif family == "write" and status != "403":
                assert content["text/plain"]["schema"]["type"] == "string", where
            elif op.operation_id == "pprofProfile" and status == "404":
                assert "text/plain" in content, where
            else:
                assert content["application/json"]["schema"] == {"$ref": error_ref}, where


def test_error_schema_shape() -> None:
    error = _doc()["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]  # 1.5 sends no "message"
    assert set(error["properties"]) == {"error", "message"}
    assert not _errors({"$ref": "#/components/schemas/Error"}, {"error": "Not Found"})
    assert not _errors({"$ref": "#/components/schemas/Error"}, {"error": "x", "message": "x"})
    assert _errors({"$ref": "#/components/schemas/Error"}, {"message": "x"})


def test_all_examples_validate_against_their_schema() -> None:
    examples = list(_media_examples()) + list(_schema_examples())
    assert len(examples) > 60
    failures = []
    for where, schema, value in examples:
        if schema is None:
            continue
        failures += [f"{where}: {e}" for e in _errors(schema, value)]
    assert not failures, "\n".join(failures)


def test_every_request_body_and_main_success_response_has_an_example() -> None:
    missing = []
    for op in operations():
        body = _resolve(op.raw.get("requestBody"))
        if body:
            for ctype, media in body["content"].items():
                if "example" not in media and "examples" not in media:
                    missing.append(f"{op.operation_id} request {ctype}")
        for status, resp in op.raw["responses"].items():
            media = _resolve(resp).get("content", {}).get("application/json")
            if status.startswith("2") and media is not None and not ("example" in media or "examples" in media):
                missing.append(f"{op.operation_id} {status}")
    assert not missing


def test_format_checker_is_really_applied() -> None:
    task_id = {"$ref": "#/components/schemas/KapacitorId"}
    assert not _errors(task_id, "tásk7")
    assert not _errors(task_id, "task.id7")
    for bad in ("invalid id", "invalid*id", "task/id7", "abc\n", "x²"):
        assert _errors(task_id, bad), bad
    assert not _errors({"$ref": "#/components/schemas/TopicId"}, "main:task:alert2")
    assert _errors({"$ref": "#/components/schemas/KapacitorId"}, "main:task:alert2")
    assert not _errors({"$ref": "#/components/schemas/Username"}, "bob@example.com")
    assert _errors({"$ref": "#/components/schemas/ConfigName"}, "séction")
    assert _errors({"$ref": "#/components/schemas/Timestamp"}, "2020-01-01")


def test_id_schemas_keep_re2_pattern_out_of_json_schema_pattern() -> None:
    schemas = _doc()["components"]["schemas"]
    expected = {
        "KapacitorId": ("kapacitor-id", r"^[-\._\p{L}0-9]+$"),
        "TopicId": ("kapacitor-topic-id", r"^[-:\._\p{L}0-9]+$"),
        "Username": ("kapacitor-username", r"^[-\._\p{L}0-9@]+$"),
        "ConfigName": ("kapacitor-config-name", r"^[-\w+]+$"),
    }
    for name, (fmt, re2) in expected.items():
        assert schemas[name]["format"] == fmt
        assert schemas[name]["x-re2-pattern"] == re2
    for where, node in _walk(_doc()):
        if isinstance(node, dict) and isinstance(node.get("pattern"), str):
            assert r"\p" not in node["pattern"], where


def test_common_parameters() -> None:
    params = _doc()["components"]["parameters"]
    assert params["offset"]["schema"] == {"type": "integer", "format": "int64", "default": 0}
    assert params["limit"]["schema"]["type"] == "integer"
    assert params["limit"]["schema"]["default"] == 100
    assert params["pattern"]["schema"]["type"] == "string"
    fields = params["fields"]
    assert fields["style"] == "form" and fields["explode"] is True
    assert fields["schema"] == {"type": "array", "items": {"type": "string"}}
    assert params["dot-view"]["schema"]["enum"] == ["attributes", "labels"]
    assert params["dot-view"]["schema"]["default"] == "attributes"
    assert params["script-format"]["schema"]["enum"] == ["formatted", "raw"]
    assert params["script-format"]["schema"]["default"] == "formatted"
    assert params["min-level"]["schema"]["type"] == "string"
    assert params["replay-id"]["in"] == "query"
    assert params["write-precision"]["schema"]["enum"] == ["n", "u", "ms", "s", "m", "h"]
    assert params["write-db"]["required"] is False


def test_rest_param_marks_exactly_the_prefix_routes() -> None:
    marked = {p for p, item in _doc()["paths"].items() if item.get("x-kapacitor-rest-param")}
    assert marked == REST_PARAM_PATHS
    assert not _doc()["paths"][V1 + "/tasks/{id}/{endpoint}"].get("x-kapacitor-rest-param")


def test_operation_extensions() -> None:
    for op in operations():
        raw = op.raw
        family = raw.get("x-kapacitor-family")
        assert family in FAMILIES, op.operation_id
        assert op.tags == (family,), op.operation_id
        assert isinstance(raw.get("x-kapacitor-mutates"), bool), op.operation_id
        if op.method in {"GET", "HEAD"}:
            assert raw["x-kapacitor-mutates"] is False, op.operation_id
        if op.method in {"DELETE", "PATCH", "PUT"}:
            assert raw["x-kapacitor-mutates"] is True, op.operation_id
        if family == "flux-tasks":
            assert op.availability == {"since": "1.6", "requires": "fluxtask"}, op.operation_id
        elif family == "users":
            assert op.availability == {"requires": "auth"}, op.operation_id
        elif op.operation_id == "streamLogs":
            assert op.availability == {"preview-only": True}
        else:
            assert op.availability == {}, op.operation_id


EXPECTED_LINKS = [
    ("createTask", "200", {"getTask", "updateTask", "deleteTask"}, {"id": "$response.body#/id"}),
    ("createTemplate", "200", {"getTemplate", "updateTemplate", "deleteTemplate"}, {"id": "$response.body#/id"}),
    ("recordStream", "201", {"getRecording", "deleteRecording"}, {"id": "$response.body#/id"}),
    ("recordBatch", "201", {"getRecording", "deleteRecording"}, {"id": "$response.body#/id"}),
    ("recordQuery", "201", {"getRecording", "deleteRecording"}, {"id": "$response.body#/id"}),
    ("createReplay", "201", {"getReplay", "deleteReplay"}, {"id": "$response.body#/id"}),
    ("replayBatch", "201", {"getReplay", "deleteReplay"}, {"id": "$response.body#/id"}),
    ("replayQuery", "201", {"getReplay", "deleteReplay"}, {"id": "$response.body#/id"}),
    (
        "createTopicHandler",
        "200",
        {"getTopicHandler", "patchTopicHandler", "replaceTopicHandler", "deleteTopicHandler"},
        {"topic": "$request.path.topic", "handler": "$response.body#/id"},
    ),
    ("createUser", "200", {"getUser", "updateUser", "deleteUser"}, {"name": "$response.body#/name"}),
    ("createFluxTask", "201", {"getFluxTask", "updateFluxTask", "deleteFluxTask"}, {"taskID": "$response.body#/id"}),
]


@pytest.mark.parametrize(("op_id", "status", "targets", "params"), EXPECTED_LINKS)
def test_links_from_create_operations(op_id: str, status: str, targets: set[str], params: dict[str, str]) -> None:
    links = _resolve(operation(op_id).raw["responses"][status]).get("links", {})
    by_target = {link["operationId"]: link for link in links.values()}
    assert targets <= set(by_target), f"{op_id} links to {sorted(by_target)}"
    for target in targets:
        assert by_target[target]["parameters"] == params, (op_id, target)


def test_link_parameters_name_path_parameters_of_the_target() -> None:
    for op in operations():
        for resp in op.raw["responses"].values():
            for link in (_resolve(resp).get("links") or {}).values():
                target = operation(link["operationId"])
                names = {
                    _resolve(p)["name"]
                    for p in list(target.path_item.get("parameters", [])) + list(target.raw.get("parameters", []))
                    if _resolve(p)["in"] == "path"
                }
                assert set(link.get("parameters", {})) <= names, (op.operation_id, link["operationId"])


def test_task_shapes_follow_the_real_server() -> None:
    schemas = _doc()["components"]["schemas"]
    task_keys = [
        "link",
        "id",
        "template-id",
        "type",
        "dbrps",
        "script",
        "vars",
        "dot",
        "status",
        "executing",
        "error",
        "stats",
        "created",
        "modified",
        "last-enabled",
    ]
    assert list(schemas["Task"]["properties"]) == task_keys
    assert set(schemas["Task"]["required"]) == set(task_keys)
    assert set(schemas["TaskListItem"]["properties"]) == set(task_keys)
    for item in ("TaskListItem", "RecordingListItem", "ReplayListItem"):
        assert set(schemas[item]["required"]) == {"id", "link"}, item
    assert not schemas["TemplateListItem"].get("required")  # unbuildable templates list as {}
    list_item = {"$ref": "#/components/schemas/TaskListItem"}
    assert not _errors(
        list_item, {"id": "t", "link": {"rel": "self", "href": "/kapacitor/v1/tasks/t"}, "stats": None, "dot": None}
    )
    assert _errors(list_item, {"id": "t", "link": {"rel": "self", "href": "/x"}, "bogus": 1})
    assert _errors({"$ref": "#/components/schemas/Task"}, {"id": "t"})
    assert schemas["RunStatus"]["enum"] == ["running", "finished", "failed"]


# ------------------------------------------------------------------- suite-facing extensions
#: The kinds of resource a create can make; each is a cleanup kind of the suite's registry.
CREATE_KINDS = {"task", "template", "recording", "replay", "user", "flux-task", "handler"}
#: The traits an operation can carry and what they mean (PROVENANCE.md, "Extensions").
TRAITS = {"streams", "slow", "bulk", "dynamic", "irreversible"}


def test_base_paths_are_the_prefix_of_every_path() -> None:
    import spec

    assert spec.base_path() == V1
    assert spec.preview_base_path() == V1 + "preview"
    for path in _doc()["paths"]:
        assert path == "/write" or path.startswith((spec.base_path() + "/", spec.preview_base_path() + "/")), path


def test_creates_extension_marks_the_create_operations() -> None:
    for op in operations():
        kind = op.raw.get("x-kapacitor-creates")
        if kind is None:
            continue
        assert kind in CREATE_KINDS, op.operation_id
        assert op.method == "POST" and op.raw["x-kapacitor-mutates"] is True, op.operation_id
    # Every operation the document links from a create is marked as one, and only the kind it makes.
    linked = {op_id for op_id, *_ in EXPECTED_LINKS}
    marked = {op.operation_id for op in operations() if op.raw.get("x-kapacitor-creates")}
    assert linked <= marked
    assert marked - linked == {"createTopicHandlerFallback"}  # the sub-router's POST, not linked


def test_traits_extension_uses_the_known_vocabulary() -> None:
    for op in operations():
        traits = op.raw.get("x-kapacitor-traits")
        if traits is None:
            continue
        assert isinstance(traits, list) and traits and set(traits) <= TRAITS, op.operation_id
        if "streams" in traits or "bulk" in traits or "dynamic" in traits:
            assert op.method == "GET", op.operation_id
        if "irreversible" in traits:
            assert op.raw["x-kapacitor-mutates"] is True, op.operation_id


def test_order_extension_on_every_paginated_list() -> None:
    doc = _doc()
    for op in operations():
        names = set()
        for p in op.raw.get("parameters", []):
            if "$ref" in p:
                p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
            names.add(p["name"])
        paginated = op.method == "GET" and {"offset", "limit"} <= names
        order = op.raw.get("x-kapacitor-order")
        assert (order is not None) == paginated, op.operation_id
        if order is not None:
            assert order in {"id", "newest-first"}, op.operation_id
            assert ("Newest first" in op.raw["description"]) == (order == "newest-first"), op.operation_id


def test_response_links_resolve_components_and_name_real_operations() -> None:
    from spec import operation, response_links

    links = {link.name: link for link in response_links("createTopicHandler")}
    assert links["GetTopicHandler"].operation_id == "getTopicHandler"
    assert links["GetTopicHandler"].parameters == {"topic": "$request.path.topic", "handler": "$response.body#/id"}
    assert links["GetTopic"].status == "200"
    for op in operations():
        for link in response_links(op.operation_id):
            target = operation(link.operation_id)  # KeyError if a link names no operation
            assert set(link.parameters) <= set(re.findall(r"{([^}]+)}", target.path)), (op.operation_id, link.name)
