"""Schema conformance: schemathesis-generated requests over every operation of the spec.

Checks are chosen for Kapacitor's real semantics: the response code must be one the spec documents
(so a duplicate create may be 400 and a missing delete 204), responses must match the documented
content type, schema and headers. Requests go through the suite's own client: every ID the
generator produces carries the run's prefix, and whatever a create answers with is registered for
cleanup, so fuzzing is safe on a shared server. A stateful run follows the spec's links.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

import spec
from conformance import api
from conformance.checks import MUST, SHOULD, check, fail
from conformance.context import Kap
from conformance.target import Exchange

#: Filled in at run time; the ID formats read it so every generated ID carries this run's prefix.
_PREFIX = ["kcf-unset-"]
_ID_BODY = st.text(st.sampled_from(list("abcxyz0189-._éж")), min_size=1, max_size=6)


@functools.lru_cache(maxsize=1)
def _sm() -> Any:
    """schemathesis, imported and configured on first use (collection stays fast)."""
    sm = pytest.importorskip("schemathesis")
    for fmt in ("kapacitor-id", "kapacitor-topic-id", "kapacitor-username"):
        sm.openapi.format(fmt, _ID_BODY.map(lambda s: _PREFIX[0] + s))
    sm.openapi.format("kapacitor-config-name", st.sampled_from(["smtp", "kcfnosuch", "influxdb", "slack"]))
    return sm


@functools.lru_cache(maxsize=1)
def _schema() -> Any:
    doc = copy.deepcopy(spec.load_spec())
    doc.pop("x-fragments", None)
    return _sm().openapi.from_dict(doc)


def _checks() -> tuple[list[Any], list[Any]]:
    from schemathesis.specs.openapi import checks as oa

    positive = [oa.status_code_conformance, oa.content_type_conformance, oa.response_schema_conformance,
                oa.response_headers_conformance]
    return positive, [oa.status_code_conformance, oa.content_type_conformance]


#: Operations never fuzzed: they stream forever, take long, or act on the server as a whole.
_NEVER = {"streamLogs", "pprofProfile", "getTaskHttpOut"}
_CONFIG_WRITES = {"setLogLevel", "reloadSideload", "updateConfigSection", "updateConfigElement", "runServiceTest",
                  "runStoreAction"}
_WRITES = {"writePoints", "writePointsRoot"}
_PLAIN_TEXT_ERRORS = _WRITES
#: Create operations and the kind of resource their 2xx answer creates.
_CREATES = {"createTask": "task", "createTemplate": "template", "recordStream": "recording",
            "recordBatch": "recording", "recordQuery": "recording", "createReplay": "replay", "replayBatch": "replay",
            "replayQuery": "replay", "createUser": "user", "createFluxTask": "flux-task"}
#: POST under a topic creates a handler in it, also through the sub-router's fallback path.
_HANDLER_CREATES = ("createTopicHandler", "createTopicHandlerFallback")


def _fuzzable(op_id: str, kap: Kap) -> None:
    s = kap.suite.settings
    if op_id in _NEVER:
        pytest.skip(f"{op_id} is not fuzzed (streams or takes long)")
    if s.read_only and api.mutates(op_id):
        pytest.skip("--read-only: this operation changes state")
    if op_id in _CONFIG_WRITES and not s.allow_config_writes:
        pytest.skip("server-wide settings are opt-in: pass --allow-config-writes")
    if op_id in _WRITES and not s.allow_writes:
        pytest.skip("writing points is opt-in: pass --allow-writes")
    kap.need(op_id)


#: Path parameters that name no resource of the run (config sections, service names, profiles).
_NOT_IDS = frozenset({"section", "element", "profile", "store", "endpoint"})
_SERVICE_OPS = frozenset({"getServiceTest", "runServiceTest"})  # there `name` is a service, not a user


def _sanitize(case: Any, prefix: str, own: frozenset[str] = frozenset()) -> None:
    """Make a generated request safe on a live server.

    Every ID a request could touch gets this run's prefix. `own` holds IDs this run created without
    its prefix (server-generated UUIDs and Flux task IDs, registered from the create's answer); a
    link that passes one on is left as it is. Handler specs never ask for an `aggregate` handler:
    Kapacitor starts its ticker when the handler is created and a missing or non-positive
    `interval` panics the whole server (services/alert/handlers.go, unchanged up to 1.8)."""
    op_id = case.operation.definition.raw.get("operationId")
    for name, value in list((case.path_parameters or {}).items()):
        if not isinstance(value, str) or value in own or value.startswith(prefix):
            continue
        if name in _NOT_IDS or (name == "name" and op_id in _SERVICE_OPS):
            continue
        case.path_parameters[name] = prefix + value.replace("/", "_")
    if op_id in ("runStoreAction",):
        case.path_parameters["store"] = "kcfnosuch"
    body = case.body
    if isinstance(body, dict):
        for key in ("id", "name", "task", "recording"):
            if key in body and isinstance(body[key], str) and not body[key].startswith(prefix) \
                    and body[key] not in own:
                body[key] = prefix + body[key]
    if "/alerts/" in case.operation.path:
        case.body = _defuse(case.body)


def _defuse(value: Any) -> Any:
    """Replace the handler kind `aggregate` anywhere in a body (specs, JSON patches, raw bytes)."""
    if isinstance(value, str):
        return "log" if value == "aggregate" else value
    if isinstance(value, bytes):
        return value.replace(b"aggregate", b"log")
    if isinstance(value, dict):
        return {k: _defuse(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_defuse(v) for v in value]
    return value


def _send(kap: Kap, case: Any) -> Exchange:
    path = case.formatted_path
    query: list[tuple[str, Any]] = []
    for k, v in (case.query or {}).items():
        if isinstance(v, list):
            query += [(k, x) for x in v]
        else:
            query.append((k, v))
    headers = {k: str(v) for k, v in (case.headers or {}).items()}
    body: bytes | None = None
    from schemathesis.core import NotSet

    if not isinstance(case.body, NotSet):
        media = case.media_type or "application/json"
        if isinstance(case.body, bytes):
            body = case.body
        elif "json" in media:
            body = json.dumps(case.body, default=str).encode()
        else:
            body = str(case.body).encode()
        headers.setdefault("Content-Type", media)
    return kap.client.request(case.method.upper(), path, query=query, body=body, headers=headers, timeout=10.0)


def _register(kap: Kap, op_id: str, case: Any, ex: Exchange) -> None:
    kind = _CREATES.get(op_id)
    if op_id in _HANDLER_CREATES and 200 <= ex.status < 300:
        topic = case.path_parameters.get("topic")
        body = ex.json_or_none()
        kap.registry.add("topic", topic)
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            kap.registry.add("handler", body["id"], topic=topic)
        return
    if kind and 200 <= ex.status < 300:
        body = ex.json_or_none()
        key = "name" if kind == "user" else "id"
        if isinstance(body, dict) and isinstance(body.get(key), str) and body[key]:
            kap.registry.add(kind, body[key])
    if op_id in ("updateTask", "updateTemplate") and 200 <= ex.status < 300:
        body = ex.json_or_none()
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            kap.registry.add(op_id.replace("update", "").lower(), body["id"])
    if op_id == "replaceTopicHandler" and 200 <= ex.status < 300:
        body = ex.json_or_none()
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            kap.registry.add("handler", body["id"], topic=case.path_parameters.get("topic"))


def _response(ex: Exchange) -> Any:
    import requests

    req = requests.Request(ex.method, ex.url, headers=dict(ex.request_headers), data=ex.request_body).prepare()
    headers: dict[str, list[str]] = {}
    for k, v in ex.response_headers:
        headers.setdefault(k.lower(), []).append(v)
    return _sm().Response(status_code=ex.status, headers=headers, content=ex.body, request=req,
                                 elapsed=ex.elapsed, verify=True, message=ex.reason)


def _validate(case: Any, ex: Exchange, checks: list[Any], ref: str) -> None:
    if ex.error:
        fail(f"{case.method} {case.path}: the target answers", expected="an HTTP response", actual=ex.error,
             ref=ref, exchange=ex)
    try:
        case.validate_response(_response(ex), checks=checks)
    except AssertionError as exc:
        text = str(exc).strip().splitlines()
        fail(f"{case.method} {case.path}: response conforms to the spec", expected="see the spec for "
             f"{case.operation.definition.raw.get('operationId')}", actual="\n".join(text[:12]), ref=ref,
             exchange=ex)


def _settings(kap: Kap, quick: int, full: int) -> settings:
    return settings(max_examples=quick if kap.suite.settings.quick else full, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


OP_IDS = [op.operation_id for op in spec.operations()]


def _fuzz(kap: Kap, op_id: str, mode: Any, checks: list[Any], ref: str, quick: int, full: int) -> None:
    _fuzzable(op_id, kap)
    _PREFIX[0] = kap.prefix
    from schemathesis.core.errors import UnsupportedSchema

    operation = _schema().find_operation_by_id(op_id)
    try:
        strategy = operation.as_strategy(generation_mode=mode)
    except Exception as exc:  # an operation schemathesis cannot negate, e.g. nothing to mutate
        pytest.skip(f"no {mode.value} cases for {op_id}: {type(exc).__name__}")

    if op_id in _PLAIN_TEXT_ERRORS:  # behaviour §12: text bodies under a JSON Content-Type
        checks = checks[:1] + checks[2:]  # everything but content_type_conformance

    @given(case=strategy)
    @_settings(kap, quick, full)
    def prop(case: Any) -> None:
        _sanitize(case, kap.prefix)
        ex = _send(kap, case)
        _register(kap, op_id, case, ex)
        _validate(case, ex, checks, ref)

    try:
        prop()
    except Unsatisfiable:
        pytest.skip(f"{op_id} has nothing to generate {mode.value} cases from")
    except UnsupportedSchema as exc:
        pytest.skip(f"schemathesis cannot generate {mode.value} cases for {op_id}: {str(exc).splitlines()[-1]}")
    kap.finish()


@check("schema.positive", MUST, "spec", mutates=True)
@pytest.mark.parametrize("op_id", OP_IDS)
def test_schema_positive(kap: Kap, op_id: str) -> None:
    """Valid generated requests get documented codes and responses that match the spec."""
    from schemathesis import GenerationMode

    _fuzz(kap, op_id, GenerationMode.POSITIVE, _checks()[0], f"spec {op_id}", 3, 25)


@check("schema.negative", SHOULD, "spec", mutates=True)
@pytest.mark.parametrize("op_id", OP_IDS)
def test_schema_negative(kap: Kap, op_id: str) -> None:
    """Invalid generated requests still get a documented code and content type (never a crash)."""
    from schemathesis import GenerationMode

    _fuzz(kap, op_id, GenerationMode.NEGATIVE, _checks()[1], f"spec {op_id}", 2, 12)


def _fresh_ids(kap: Kap, op_id: str, case: Any) -> None:
    """Give every create of a stateful run an ID never used before in this run.

    The server keeps what earlier examples created, so a regenerated ID would collide (400/500
    "already exists"), the create would feed no link, and the same choices would lead to different
    rules: hypothesis then reports the exploration itself as flaky, which says nothing about the
    target. Unique IDs make each scenario independent of the ones before it."""
    if op_id not in _CREATES and op_id not in _HANDLER_CREATES:
        return
    body = case.body
    if isinstance(body, dict):
        for key in ("id", "name"):
            if isinstance(body.get(key), str) and body[key]:
                body[key] = kap.uid("sf-")


@check("schema.stateful", SHOULD, "spec links", mutates=True)
def test_schema_stateful(kap: Kap) -> None:
    """Sequences that follow the spec's links (create → get/update/delete) stay conformant."""
    if kap.suite.settings.read_only:
        pytest.skip("--read-only: stateful runs create resources")
    _PREFIX[0] = kap.prefix
    allowed = [o for o in OP_IDS if o not in _NEVER | _CONFIG_WRITES | _WRITES and kap.suite.served(o)
               and not o.startswith(("listFluxTask", "startFluxTask", "getFluxTaskRun", "cancelFluxTask",
                                     "retryFluxTask"))]
    base = _schema().include(operation_id=allowed).as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            import os, sys
            if os.environ.get("KCF_DEBUG"):
                print("SETUP", file=sys.stderr)

        def call(self, case: Any, **kwargs: Any) -> Any:
            op_id = case.operation.definition.raw.get("operationId")
            _sanitize(case, kap.prefix, frozenset(e.ident for e in kap.registry.registry.entries()))
            _fresh_ids(kap, op_id, case)
            ex = _send(kap, case)
            _register(kap, op_id, case, ex)
            self._last_ex = ex
            import os, sys
            if os.environ.get("KCF_DEBUG"):
                print("CALL", op_id, ex.method, ex.path[:90], ex.status, (ex.request_body or b"")[:150], file=sys.stderr)
            return _response(ex)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            _validate(case, self._last_ex, _checks()[1][:1], "spec links")

    n = 3 if kap.suite.settings.quick else 20
    try:
        Machine.run(settings=settings(max_examples=n, stateful_step_count=5, deadline=None, database=None,
                                      suppress_health_check=list(HealthCheck)))
    except Exception as exc:  # pragma: no cover - depends on schemathesis internals
        if type(exc).__name__ in ("NoLinksFound", "IncorrectUsage"):
            pytest.skip(f"stateful testing unavailable: {exc}")
        raise
