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
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable

import spec
from conformance import api, crashers
from conformance.checks import MUST, SHOULD, CheckFailure, check, fail
from conformance.context import Kap
from conformance.target import Exchange
from conformance.world import World

#: Filled in at run time; the ID formats read it so every generated ID carries this run's prefix.
_PREFIX = ["kcf-unset-"]
_SECRET = ["kcf-unset"]
_ID_BODY = st.text(st.sampled_from(list("abcxyz0189-._éж")), min_size=1, max_size=6)


@functools.lru_cache(maxsize=1)
def _sm() -> Any:
    """schemathesis, imported and configured on first use (collection stays fast)."""
    sm = pytest.importorskip("schemathesis")
    for fmt in ("kapacitor-id", "kapacitor-topic-id", "kapacitor-username"):
        sm.openapi.format(fmt, _ID_BODY.map(lambda s: fuzz_prefix(_PREFIX[0]) + s))
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


#: Operations never fuzzed (`x-kapacitor-traits`): they stream forever, take long, exist only while a
#: task defines them, or change the server as a whole in a way that cannot be undone.
_NEVER = api.NOT_FUZZED
_CONFIG_WRITES = {"setLogLevel", "reloadSideload", "updateConfigSection", "updateConfigElement", "runServiceTest",
                  "runStoreAction"}
_WRITES = {"writePoints", "writePointsRoot"}
_PLAIN_TEXT_ERRORS = _WRITES
#: Create operations and the kind of resource their 2xx answer creates (`x-kapacitor-creates`).
_CREATES = {op_id: kind for op_id, kind in api.CREATES.items() if kind != "handler"}
#: POST under a topic creates a handler in it, also through the sub-router's fallback path.
_HANDLER_CREATES = frozenset(op_id for op_id, kind in api.CREATES.items() if kind == "handler")


def _fuzzable(op_id: str, kap: Kap) -> None:
    s = kap.suite.settings
    if op_id in _NEVER:
        pytest.skip(f"{op_id} is not fuzzed (it streams, takes long or cannot be undone)")
    if s.read_only and api.mutates(op_id):
        pytest.skip("--read-only: this operation changes state")
    if op_id in _CONFIG_WRITES and not s.allow_config_writes:
        pytest.skip("server-wide settings are opt-in: pass --allow-config-writes")
    if op_id in _WRITES and not s.allow_writes:
        pytest.skip("writing points is opt-in: pass --allow-writes")
    kap.need(op_id)


#: Server-wide actions are fuzzed against targets no server has: an override of a real config
#: section cannot be undone exactly (secrets read back redacted), a service test would send a
#: real notification, a store action rebuilds real storage. Their error paths are still checked.
_HARMLESS: dict[str, dict[str, str]] = {
    "runStoreAction": {"store": "kcfnosuch"},
    "runServiceTest": {"name": "kcfnosuch"},
    "updateConfigSection": {"section": "kcfnosuch"},
    "updateConfigElement": {"section": "kcfnosuch"},
}
#: Path parameters that name no resource of the run (config sections, service names, profiles).
_NOT_IDS = frozenset({"section", "element", "profile", "store", "endpoint"})
_SERVICE_OPS = frozenset({"getServiceTest", "runServiceTest"})  # there `name` is a service, not a user


#: Sub-prefix of every ID the fuzzer names in a request that changes state. The run's shared
#: fixtures (`world`, `pools`) carry the run prefix but never this one, so no generated or
#: link-followed DELETE, PUT, PATCH or POST can touch them: a later check never finds its fixture
#: gone or changed because of fuzzing (issue: a stateful list-then-delete removed the shared topic).
FUZZ_LABEL = "fz-"


def fuzz_prefix(prefix: str) -> str:
    return prefix + FUZZ_LABEL


def _confine(value: str, prefix: str, writes: bool) -> str:
    """The ID a generated request may name: reads may name anything of this run, writes only
    what lies under the fuzz sub-prefix (anything else is moved under it)."""
    fz = fuzz_prefix(prefix)
    if value.startswith(fz) or (not writes and value.startswith(prefix)):
        return value
    return fz + (value[len(prefix):] if value.startswith(prefix) else value)


def _sanitize(case: Any, prefix: str, own: frozenset[str] = frozenset(), *, fuzz: str = "safe") -> None:
    """Make a generated request safe on a live server.

    Every ID a request could touch gets this run's prefix; a request that changes state may only
    name IDs under the fuzz sub-prefix (`FUZZ_LABEL`). `own` holds IDs this fuzzing test created
    itself without any prefix (server-generated UUIDs and Flux task IDs, registered from the
    create's answer); a link that passes one on is left as it is. Known crash triggers are
    rewritten unless `fuzz` is `aggressive` (conformance/crashers.py)."""
    op_id = case.operation.definition.raw.get("operationId")
    writes = api.mutates(op_id) if isinstance(op_id, str) and api.has_op(op_id) else True
    for name, value in list((case.path_parameters or {}).items()):
        if name in _NOT_IDS or (name == "name" and op_id in _SERVICE_OPS):
            continue
        if isinstance(value, str) and value in own:
            continue
        # Negative cases may put a number or an array where an ID goes: it is sent as text, so it
        # gets the prefix like any other ID. Values arrive percent-encoded or not; the server sees
        # them decoded, so they are decoded here (the client encodes what needs it) and may carry
        # neither `/` nor `%`: the ID the server acts on is then exactly the one registered.
        text = unquote(value if isinstance(value, str) else json.dumps(value)).replace("/", "_").replace("%", "_")
        case.path_parameters[name] = _confine(text, prefix, writes)
    for name, value in _HARMLESS.get(op_id, {}).items():
        case.path_parameters[name] = value
    if op_id in _WRITES:
        # Points go to this run's own database only (tasks of others must never see them), and
        # with a plain retention policy: the server keeps per-db/rp statistics until it restarts,
        # and a non-printable name there turns GET /debug/vars into invalid JSON for everyone.
        query = case.query if isinstance(case.query, dict) else {}
        query["db"], query["rp"] = prefix.rstrip("-").replace("-", "_"), "autogen"
        case.query = query
    body = case.body
    if isinstance(body, dict) and op_id in ("createUser", "updateUser") and isinstance(body.get("password"), str):
        body["password"] = _SECRET[0]  # a user of the run must not be usable by anyone else meanwhile
    if isinstance(body, dict):
        # `id`/`name` name the object created or renamed: confined like a write. `task` and
        # `recording` are only read (a replay or recording of them), so any ID of the run will do.
        for key in ("id", "name", "task", "recording"):
            if key in body and isinstance(body[key], str) and body[key] not in own:
                body[key] = _confine(body[key], prefix, writes and key in ("id", "name"))
    if fuzz != "aggressive":
        crashers.defuse(op_id, case.operation.path, case)


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
    if op_id in ("replaceTopicHandler", "patchTopicHandler") and 200 <= ex.status < 300:  # may rename
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


#: No shrinking: on a live server a smaller example does not replay the same server state, so the
#: first failing exchange is reported exactly as it happened instead.
_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


def _settings(kap: Kap, quick: int, full: int, **extra: Any) -> settings:
    return settings(max_examples=quick if kap.suite.settings.quick else full, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=_PHASES, report_multiple_bugs=False, **extra)


def _explore(run: Callable[[], None], first: list[CheckFailure], what: str) -> None:
    """Run a hypothesis exploration; report the first real failure even if hypothesis calls it flaky.

    The target keeps state between examples, so hypothesis' replay of a failing example may meet a
    different server and end in `Flaky`. The failing exchange seen first is the finding; a `Flaky`
    without any failure is a property of the exploration, not of the target."""
    __tracebackhide__ = True
    try:
        run()
    except Flaky as exc:
        if first:
            raise first[0] from None
        pytest.skip(f"{what}: hypothesis could not replay its exploration on this target "
                    f"({type(exc).__name__}); no request failed")


def _checked(first: list[CheckFailure], validate: Callable[[], None]) -> None:
    try:
        validate()
    except CheckFailure as exc:
        if not first:
            first.append(exc)
        raise


def fuzz_mode(request: pytest.FixtureRequest) -> str:
    """`--fuzz safe` (default) keeps known crash triggers out; `aggressive` sends them too."""
    mode = request.config.getoption("--fuzz", default="safe")
    return mode if mode in crashers.FUZZ_MODES else "safe"


OP_IDS = [op.operation_id for op in spec.operations()]

#: Draws of an operation's cases that may all be discarded before it counts as having nothing to
#: generate. Negative cases of an operation with nothing schemathesis can negate are all rejected:
#: hypothesis would draw ~460 of them before giving up. Operations that do yield cases yield one
#: in ten draws or more, so they never reach this bound and keep every example.
DRAWS_WITHOUT_A_CASE = 120


class _NothingToSend(Exception):
    """No case came out of `DRAWS_WITHOUT_A_CASE` draws: the same finding as hypothesis' Unsatisfiable."""


def _budgeted(strategy: Any, sent: list[int], spent: list[bool]) -> Any:
    """`strategy`, ending the exploration once it has drawn `DRAWS_WITHOUT_A_CASE` times and no
    case was sent yet (`sent[0]`, counted by the test); `spent[0]` then tells why it ended."""
    drawn = [0]

    @st.composite
    def cases(draw: Any) -> Any:
        drawn[0] += 1
        if drawn[0] > DRAWS_WITHOUT_A_CASE and not sent[0]:
            spent[0] = True
            raise _NothingToSend
        return draw(strategy)

    return cases()


def _fuzz(kap: Kap, op_id: str, mode: Any, checks: list[Any], ref: str, quick: int, full: int,
          fuzz: str = "safe") -> None:
    _fuzzable(op_id, kap)
    _PREFIX[0], _SECRET[0] = kap.prefix, kap.suite.secret
    from schemathesis.core.errors import UnsupportedSchema

    operation = _schema().find_operation_by_id(op_id)
    try:
        strategy = operation.as_strategy(generation_mode=mode)
    except Exception as exc:  # an operation schemathesis cannot negate, e.g. nothing to mutate
        pytest.skip(f"no {mode.value} cases for {op_id}: {type(exc).__name__}")

    if op_id in _PLAIN_TEXT_ERRORS:  # behaviour §12: text bodies under a JSON Content-Type
        checks = checks[:1] + checks[2:]  # everything but content_type_conformance

    first: list[CheckFailure] = []
    sent, spent = [0], [False]

    @given(case=_budgeted(strategy, sent, spent))
    @_settings(kap, quick, full)
    def prop(case: Any) -> None:
        sent[0] += 1
        _sanitize(case, kap.prefix, fuzz=fuzz)
        ex = _send(kap, case)
        _register(kap, op_id, case, ex)
        _checked(first, lambda: _validate(case, ex, checks, ref))

    def run() -> None:
        try:
            prop()
        except Exception:  # however hypothesis reports the strategy's exception (error, flaky, ...)
            if spent[0]:
                raise _NothingToSend from None
            raise

    try:
        _explore(run, first, f"{mode.value} cases for {op_id}")
    except (Unsatisfiable, _NothingToSend):
        pytest.skip(f"{op_id} has nothing to generate {mode.value} cases from")
    except UnsupportedSchema as exc:
        pytest.skip(f"schemathesis cannot generate {mode.value} cases for {op_id}: {str(exc).splitlines()[-1]}")
    kap.finish()


@check("schema.positive", MUST, "spec", mutates=True)
@pytest.mark.parametrize("op_id", OP_IDS)
def test_schema_positive(kap: Kap, op_id: str, request: pytest.FixtureRequest, world: World) -> None:
    """Valid generated requests get documented codes and responses that match the spec."""
    from schemathesis import GenerationMode

    if api.mutates(op_id):
        world.disturbed()

    _fuzz(kap, op_id, GenerationMode.POSITIVE, _checks()[0], f"spec {op_id}", 3, 25, fuzz_mode(request))


@check("schema.negative", SHOULD, "spec", mutates=True)
@pytest.mark.parametrize("op_id", OP_IDS)
def test_schema_negative(kap: Kap, op_id: str, request: pytest.FixtureRequest, world: World) -> None:
    """Invalid generated requests still get a documented code and content type (never a crash)."""
    from schemathesis import GenerationMode

    if api.mutates(op_id):
        world.disturbed()

    _fuzz(kap, op_id, GenerationMode.NEGATIVE, _checks()[1], f"spec {op_id}", 2, 12, fuzz_mode(request))


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
                body[key] = kap.uid(FUZZ_LABEL + "sf-")


def _explore_links(explore: Callable[[bool], None], first: list[CheckFailure], note: Callable[[str], None]) -> None:
    """Explore link sequences in schemathesis' mixed mode; fall back to valid requests only if needed.

    Mixed mode also draws invalid requests, and for some of them (a `not` below a request body's
    root, e.g. task vars) schemathesis raises `UnsupportedSchema` in the middle of an exploration,
    depending on which links the seed followed. That says nothing about the target: the first real
    failure seen before it is still the finding; without one, the sequences are explored again with
    valid requests only, and only if even that cannot be generated is the check skipped."""
    __tracebackhide__ = True
    from schemathesis.core.errors import UnsupportedSchema

    try:
        explore(False)
        return
    except UnsupportedSchema as exc:
        if first:
            raise first[0] from None
        reason = str(exc).splitlines()[-1]
    note(f"schema.stateful: schemathesis could not generate an invalid request ({reason}); "
         "the link sequences were explored with valid requests only")
    try:
        explore(True)
    except UnsupportedSchema as exc:
        if first:
            raise first[0] from None
        pytest.skip(f"schemathesis cannot generate stateful sequences: {str(exc).splitlines()[-1]}")


class _Trail:
    """What one stateful scenario did, to judge the links it follows.

    Status codes alone cannot see a create whose link leads nowhere: the 404 is a documented answer
    of most GETs, PUTs and PATCHes. So one that follows a link from a successful create to the object
    itself (the `link.href` the create answered; for a GET, also what holds it, as a handler's topic)
    must find it, unless a later successful PATCH, PUT or DELETE on its path, a parent or a child path
    changed it. Other operations a link leads to are not judged: the alert router's PUT and PATCH of
    `/alerts/topics/{topic}` name no handler and answer 404 on a real server whatever exists."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[str, int, int]] = {}  # case id -> (operationId, status, changes seen)
        self.hrefs: dict[str, str] = {}  # case id of a successful create -> the `link.href` it answered
        self.changes: list[str] = []  # paths of successful PATCH/PUT/DELETE requests, in order

    def record(self, op_id: str, case: Any, ex: Exchange) -> None:
        if case.method.upper() in ("PATCH", "PUT", "DELETE") and 200 <= ex.status < 300:
            self.changes.append(case.formatted_path)
        self.answers[case.id] = (op_id, ex.status, len(self.changes))
        if 200 <= ex.status < 300 and (op_id in _CREATES or op_id in _HANDLER_CREATES):
            try:
                body = ex.json()
            except ValueError:
                return
            link = body.get("link") if isinstance(body, dict) else None
            href = link.get("href") if isinstance(link, dict) else None
            if isinstance(href, str) and href:
                self.hrefs[case.id] = href

    def names_the_object(self, method: str, target: str, href: str) -> bool:
        """The request addresses the created object (or, for a GET, what holds it)."""
        if target == href:
            return True
        return method == "GET" and href.startswith(target.rstrip("/") + "/")

    def check_link(self, step: Any, ex: Exchange) -> None:
        link = step.transition
        if link is None or step.case.method.upper() not in _READS_AND_EDITS or ex.status != 404:
            return
        applied = {name for _, name in step.applied_parameters}
        if not step.case.path_parameters or set(step.case.path_parameters) - applied:
            return  # the link did not name the object: some part of its path was generated
        op_id, status, seen = self.answers.get(link.parent_id, ("", 0, 0))
        if (op_id not in _CREATES and op_id not in _HANDLER_CREATES) or not 200 <= status < 300:
            return
        target = step.case.formatted_path
        href = self.hrefs.get(link.parent_id)
        if href is None or not self.names_the_object(step.case.method.upper(), target, href):
            return
        if any(_related(target, p) for p in self.changes[seen:]):
            return
        fail(f"{step.case.method.upper()} {target} through the link of {op_id}: the object just created",
             expected="found (2xx)",
             actual=f"{ex.status}", ref="spec links", exchange=ex)


#: Methods whose 404 through a create's link means the object is missing (a DELETE of a missing
#: object answers 204 on Kapacitor).
_READS_AND_EDITS = frozenset({"GET", "PUT", "PATCH"})


def _related(a: str, b: str) -> bool:
    """One path is the other or lies under it (a topic and its handlers)."""
    a, b = a.rstrip("/") + "/", b.rstrip("/") + "/"
    return a.startswith(b) or b.startswith(a)


#: The creates a fixed link walk starts from, with a body every Kapacitor accepts: kind -> how to
#: create one (the object's answer and the path parameters of the create request).
_WALK_CREATES: dict[str, Callable[[Kap], tuple[dict[str, Any], dict[str, str]]]] = {
    "createTask": lambda kap: (kap.create_task(kap.uid(FUZZ_LABEL + "lw-")), {}),
    "createTemplate": lambda kap: (kap.create_template(kap.uid(FUZZ_LABEL + "lw-")), {}),
    "recordQuery": lambda kap: (kap.create_recording(kap.uid(FUZZ_LABEL + "lw-")), {}),
    "createTopicHandler": lambda kap: _walk_handler(kap, kap.uid(FUZZ_LABEL + "lw-")),
}


def _walk_handler(kap: Kap, topic: str) -> tuple[dict[str, Any], dict[str, str]]:
    return kap.create_handler(topic, kap.uid(FUZZ_LABEL + "lw-")), {"topic": topic}


def _runtime_value(expression: str, answer: dict[str, Any], request_path: dict[str, str]) -> str | None:
    """The value of an OpenAPI runtime expression the spec's links use (`$response.body#/<pointer>`,
    `$request.path.<name>`); None for any other form."""
    if expression.startswith("$response.body#/"):
        node: Any = answer
        for part in expression[len("$response.body#/"):].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, str) else None
    if expression.startswith("$request.path."):
        return request_path.get(expression[len("$request.path."):])
    return None


def _walk_links(kap: Kap, allowed: list[str]) -> None:
    """One create per kind the suite can make, then a GET of every object its spec links lead to.

    The random sequences follow a given link only on some seeds; this walk makes the rule "a link
    from a create finds what it made" hold on every seed. Only GETs are walked: they change nothing
    and the object must be there for them, while a DELETE of a missing object answers 204 anyway."""
    __tracebackhide__ = True
    for create_op, make in _WALK_CREATES.items():
        if create_op not in allowed:
            continue
        answer, request_path = make(kap)
        for link in spec.response_links(create_op):
            target = spec.operation(link.operation_id)
            if target.method != "GET" or link.operation_id not in allowed:
                continue
            values = {name: _runtime_value(expr, answer, request_path) for name, expr in link.parameters.items()}
            params: dict[str, Any] = {name: v for name, v in values.items() if v is not None}
            if len(params) < len(values):
                fail(f"{create_op}: its answer names what link {link.name} needs ({link.parameters})",
                     expected="every link parameter", actual=answer, ref="spec links")
            ex = kap.call(link.operation_id, **params)
            if not 200 <= ex.status < 300:
                fail(f"GET {ex.path} through link {link.name} of {create_op}: the object just created",
                     expected="found (2xx)", actual=f"{ex.status}", ref="spec links", exchange=ex)


@check("schema.stateful", SHOULD, "spec links", mutates=True)
def test_schema_stateful(kap: Kap, request: pytest.FixtureRequest, world: World) -> None:
    """Sequences that follow the spec's links (create → get/update/delete) get documented codes, and
    a GET, PUT or PATCH through a create's link finds what the create made (a fixed walk of every
    create's GET links first, so that rule does not depend on the seed)."""
    fuzz = fuzz_mode(request)
    world.disturbed()
    if kap.suite.settings.read_only:
        pytest.skip("--read-only: stateful runs create resources")
    _PREFIX[0], _SECRET[0] = kap.prefix, kap.suite.secret
    allowed = [o for o in OP_IDS if o not in _NEVER | _CONFIG_WRITES | _WRITES and kap.suite.served(o)
               and not o.startswith(("listFluxTask", "startFluxTask", "getFluxTaskRun", "cancelFluxTask",
                                     "retryFluxTask"))]
    _walk_links(kap, allowed)
    first: list[CheckFailure] = []

    def explore(positive_only: bool) -> None:
        schema = _schema()
        if positive_only:  # a schema of its own: the cached one keeps both modes for the other checks
            from schemathesis import GenerationMode

            schema = _schema.__wrapped__()
            schema.config.generation.update(modes=[GenerationMode.POSITIVE])
        base = schema.include(operation_id=allowed).as_state_machine()

        class Machine(base):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                super().__init__()
                self._trail = _Trail()

            def call(self, case: Any, **kwargs: Any) -> Any:
                op_id = case.operation.definition.raw.get("operationId")
                _sanitize(case, kap.prefix,
                          frozenset(e.ident for e in kap.registry.registry.entries(kap.registry.owner)), fuzz=fuzz)
                _fresh_ids(kap, op_id, case)
                ex = _send(kap, case)
                _register(kap, op_id, case, ex)
                self._trail.record(op_id, case, ex)
                self._last_ex = ex
                return _response(ex)

            def step(self, input: Any) -> Any:
                output = super().step(input)
                ex = self._last_ex
                _checked(first, lambda: self._trail.check_link(input, ex))
                return output

            def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
                ex = self._last_ex
                _checked(first, lambda: _validate(case, ex, _checks()[1][:1], "spec links"))

        _explore(lambda: Machine.run(settings=_settings(kap, 3, 20, stateful_step_count=5)), first,
                 "stateful sequences")

    try:
        _explore_links(explore, first, kap.note)
    except Exception as exc:  # pragma: no cover - depends on schemathesis internals
        if type(exc).__name__ in ("NoLinksFound", "IncorrectUsage"):
            pytest.skip(f"stateful testing unavailable: {exc}")
        raise
