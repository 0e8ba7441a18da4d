"""Flux task handlers (1.6+, only with --flux-tasks): InfluxDB 2 style requests, bodies and errors.

Each handler follows the server's own steps: decode the request (any failure is wrapped as
`invalid` / `failed to decode request: ...`), call the task service, wrap its error with the
handler's message (`failed to find task: ...`), and encode the answer compactly with a trailing
newline. Error bodies are `{"code", "message"}` without a newline, plus `X-Platform-Error-Code`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote_plus, urlencode

from mockserver import auth, gojson
from mockserver.gotext import go_quote
from mockserver.gotime import format_ns, format_seconds, parse_rfc3339
from mockserver.operations.registry import Call, Reply, operation
from mockserver.store.flux_errors import (
    E_INVALID,
    E_NOT_FOUND,
    E_UNPROCESSABLE,
    NO_RUNS_FOUND,
    OUT_OF_BOUNDS_LIMIT,
    RUN_NOT_FOUND,
    TASK_NOT_FOUND,
    GoError,
    PlatformError,
    decode_id,
    encode_id,
)
from mockserver.store.flux_script import parse_signed_duration, render_offset
from mockserver.store.fluxtasks import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    STATUS_ACTIVE,
    STATUS_INACTIVE,
    FluxRun,
    FluxTask,
    FluxTaskStore,
    LogEvent,
    TaskFilter,
    TaskUpdate,
)

TASKS_PATH = "/kapacitor/v1/api/v2/tasks"
JSON_TYPE = "application/json; charset=utf-8"

#: reflect's name of the anonymous struct TaskUpdate decodes into (it appears in type errors).
_UPDATE_STRUCT = (
    'struct { Flux *string "json:\\"flux,omitempty\\""; Status *string "json:\\"status,omitempty\\""; '
    'Name string "json:\\"name,omitempty\\""; Description *string "json:\\"description,omitempty\\""; '
    'Cron string "json:\\"cron,omitempty\\""; Every options.Duration "json:\\"every,omitempty\\""; '
    'Offset *options.Duration "json:\\"offset,omitempty\\""; Concurrency *int64 "json:\\"concurrency,omitempty\\""; '
    'Retry *int64 "json:\\"retry,omitempty\\"" }'
)
_RUN_REQUEST_STRUCT = 'struct { ScheduledFor string "json:\\"scheduledFor\\"" }'


# ---- replies --------------------------------------------------------------------------------------


def _store(call: Call) -> FluxTaskStore:
    return call.state.flux_tasks


def _ok(status: int, body: Any) -> Reply:
    return Reply(status, body, pretty=False, content_type=JSON_TYPE)


def _decode_failure(err: Exception) -> PlatformError:
    return PlatformError(E_INVALID, "failed to decode request", err)


def _service_failure(msg: str, err: Exception, *not_found: PlatformError) -> PlatformError:
    """The handler's wrap: it adds the not-found code only for the sentinels it knows."""
    known = isinstance(err, PlatformError) and any(err.is_(s) for s in not_found)
    return PlatformError(E_NOT_FOUND if known else "", msg, err)


# ---- rendering ------------------------------------------------------------------------------------


def render_task(task: FluxTask) -> dict[str, Any]:
    tid = encode_id(task.id)
    body: dict[str, Any] = {
        "links": {
            "self": f"{TASKS_PATH}/{tid}",
            "runs": f"{TASKS_PATH}/{tid}/runs",
            "logs": f"{TASKS_PATH}/{tid}/logs",
        },
        "labels": None,
        "id": tid,
        "ownerID": task.owner,
        "orgID": "",
        "name": task.name,
    }
    if task.description:
        body["description"] = task.description
    body["status"] = task.status
    body["flux"] = task.flux
    optional = (
        ("every", task.every),
        ("cron", task.cron),
        ("offset", render_offset(task.offset) if task.offset else ""),
        ("latestCompleted", format_seconds(task.latest_completed) if task.latest_completed else ""),
        ("lastRunStatus", task.last_run_status),
        ("lastRunError", task.last_run_error),
        ("createdAt", format_seconds(task.created_at) if task.created_at else ""),
        ("updatedAt", format_seconds(task.updated_at) if task.updated_at else ""),
    )
    for key, value in optional:
        if value:
            body[key] = value
    return body


def render_log(event: LogEvent) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if event.run_id:
        body["runID"] = encode_id(event.run_id)
    body["time"] = event.time
    body["message"] = event.message
    return body


def render_run(run: FluxRun) -> dict[str, Any]:
    tid, rid = encode_id(run.task_id), encode_id(run.id)
    body: dict[str, Any] = {
        "links": {
            "logs": f"{TASKS_PATH}/{tid}/runs/{rid}/logs",
            "retry": f"{TASKS_PATH}/{tid}/runs/{rid}/retry",
            "self": f"{TASKS_PATH}/{tid}/runs/{rid}",
            "task": f"{TASKS_PATH}/{tid}",
        },
        "id": rid,
        "taskID": tid,
        "status": run.status,
        "scheduledFor": format_ns(run.scheduled_for),
    }
    for key, value in (
        ("startedAt", run.started_at),
        ("finishedAt", run.finished_at),
        ("requestedAt", run.requested_at),
    ):
        if value:
            body[key] = format_ns(value)
    if run.log:
        body["log"] = [render_log(e) for e in run.log]
    return body


# ---- request decoding -----------------------------------------------------------------------------


def go_atoi(text: str) -> int:
    body = text[1:] if text[:1] in "+-" else text
    if not body or not all("0" <= c <= "9" for c in body):
        raise GoError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise GoError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return value


def go_time_parse(text: str) -> int:
    """time.Parse(time.RFC3339, s) of a plain string (query parameter or decoded field)."""
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise GoError(str(exc)) from None


def _path_id(call: Call, param: str, missing: str) -> int:
    value = call.params.get(param, "")
    if value == "":
        raise _decode_failure(PlatformError(E_INVALID, missing))
    try:
        return decode_id(value)
    except PlatformError as exc:
        raise _decode_failure(exc) from None


def _object(body: bytes, go_type: str) -> dict[str, Any]:
    value = gojson.decode_first(body)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise gojson.DecodeError(f"json: cannot unmarshal {gojson.json_kind(value)} into Go value of type {go_type}")
    return value


def _org_id(item: Any, where: str) -> int:
    if not isinstance(item, str):
        struct, _, name = where.rpartition(".")
        raise gojson.type_error(item, struct, name, "platform.ID")
    try:
        return decode_id(item)
    except PlatformError as exc:
        raise _Wrapped(exc) from None


class _Wrapped(gojson.DecodeError):
    """A decode step that fails with a platform error (IDs) rather than a JSON error."""

    def __init__(self, err: PlatformError) -> None:
        super().__init__(str(err))
        self.err = err


def _duration(item: Any, where: str) -> list[tuple[int, str]]:
    if not isinstance(item, str):
        struct, _, name = where.rpartition(".")
        raise gojson.type_error(item, struct, name, "options.Duration")
    try:
        return parse_signed_duration(item)
    except GoError as exc:
        raise gojson.DecodeError(str(exc)) from None


def _decode_body(call: Call, go_type: str, struct: str, fields: dict[str, Any]) -> dict[str, Any]:
    try:
        return gojson.decode_struct(_object(call.body(), go_type), struct, fields, raw=True)
    except _Wrapped as exc:
        raise _decode_failure(exc.err) from None
    except gojson.DecodeError as exc:
        raise _decode_failure(GoError(str(exc))) from None


# ---- tasks ----------------------------------------------------------------------------------------


@operation("listFluxTasks")
def list_tasks(call: Call) -> Reply:
    f = TaskFilter()
    params: list[tuple[str, str]] = []
    try:
        after = call.first("after")
        if after:
            f.after = decode_id(after)
            params.append(("after", encode_id(f.after)))
        user = call.first("user")
        if user:
            f.user = user
            params.append(("username", user))
        raw_limit = call.first("limit")
        if raw_limit:
            limit = go_atoi(raw_limit)
            if not 1 <= limit <= MAX_PAGE_SIZE:
                raise PlatformError(E_UNPROCESSABLE, f"limit must be between 1 and {MAX_PAGE_SIZE}")
            f.limit = limit
        else:
            f.limit = DEFAULT_PAGE_SIZE
    except (PlatformError, GoError) as exc:
        raise _decode_failure(exc) from None
    status = call.first("status")
    if status in (STATUS_ACTIVE, STATUS_INACTIVE):
        f.status = status
    name = call.first("name")
    if name:
        f.name = name
    params.append(("limit", str(f.limit)))
    tasks = _store(call).find_tasks(f)
    links = {"self": _url(sorted(params))}
    if len(tasks) >= f.limit:
        links["next"] = _url(
            sorted([p for p in params if p[0] != "after"] + [("after", encode_id(tasks[f.limit - 1].id))])
        )
    return _ok(200, {"links": links, "tasks": [render_task(t) for t in tasks]})


def _url(params: list[tuple[str, str]]) -> str:
    query = urlencode(params, quote_via=quote_plus)
    return f"{TASKS_PATH}?{query}" if query else TASKS_PATH


CREATE_FIELDS = {
    "type": "string",
    "flux": "string",
    "description": "string",
    "status": "string",
    "orgID": _org_id,
    "org": "string",
}


@operation("createFluxTask")
def create_task(call: Call) -> Reply:
    req = _decode_body(call, "taskmodel.TaskCreate", "TaskCreate", CREATE_FIELDS)
    flux = req.get("flux", "")
    status = req.get("status", "")
    if flux == "":
        raise _decode_failure(GoError("missing flux"))
    if status not in ("", STATUS_ACTIVE, STATUS_INACTIVE):
        raise _decode_failure(GoError(f"invalid task status: {go_quote(status)}"))
    owner = auth.request_user(call.req, call.state, call.config).name
    try:
        task = _store(call).create_task(flux, req.get("description", ""), status, owner)
    except GoError as exc:
        raise PlatformError("internal error", "failed to create task", exc) from None
    return _ok(201, render_task(task))


@operation("getFluxTask")
def get_task(call: Call) -> Reply:
    task_id = _path_id(call, "taskID", "url missing id")
    try:
        task = _store(call).find_task(task_id)
    except PlatformError as exc:
        raise PlatformError(E_NOT_FOUND, "failed to find task", exc) from None
    return _ok(200, render_task(task))


UPDATE_FIELDS = {
    "flux": "string",
    "status": "string",
    "name": "string",
    "description": "string",
    "cron": "string",
    "every": _duration,
    "offset": _duration,
    "concurrency": "int64",
    "retry": "int64",
}


@operation("updateFluxTask")
def update_task(call: Call) -> Reply:
    task_id = _path_id(call, "taskID", "you must provide a task ID")
    req = _decode_body(call, _UPDATE_STRUCT, "", UPDATE_FIELDS)
    upd = TaskUpdate(
        flux=req.get("flux"),
        status=req.get("status"),
        description=req.get("description"),
        name=req.get("name", ""),
        cron=req.get("cron", ""),
        every=req.get("every", []),
        offset=req.get("offset"),
        concurrency=req.get("concurrency"),
        retry=req.get("retry"),
    )
    try:
        upd.validate()
    except GoError as exc:
        raise _decode_failure(exc) from None
    try:
        task = _store(call).update_task(task_id, upd)
    except (PlatformError, GoError) as exc:
        raise _service_failure("failed to update task", exc, TASK_NOT_FOUND) from None
    return _ok(200, render_task(task))


@operation("deleteFluxTask")
def delete_task(call: Call) -> Reply:
    task_id = _path_id(call, "taskID", "you must provide a task ID")
    try:
        _store(call).delete_task(task_id)
    except (PlatformError, GoError) as exc:
        raise _service_failure("failed to delete task", exc, TASK_NOT_FOUND) from None
    return Reply(204, content_type=None)


# ---- logs and runs --------------------------------------------------------------------------------


def _logs(call: Call, with_run: bool) -> Reply:
    task_id = _path_id(call, "taskID", "you must provide a task ID")
    run_id = None
    if with_run and call.params.get("runID", ""):
        try:
            run_id = decode_id(call.params["runID"])
        except PlatformError as exc:
            raise _decode_failure(exc) from None
    try:
        events = _store(call).find_logs(task_id, run_id)
    except (PlatformError, GoError) as exc:
        raise _service_failure("failed to find task logs", exc, TASK_NOT_FOUND, NO_RUNS_FOUND) from None
    return _ok(200, {"events": None if events is None else [render_log(e) for e in events]})


@operation("listFluxTaskLogs")
def list_task_logs(call: Call) -> Reply:
    return _logs(call, with_run=False)


@operation("listFluxTaskRunLogs")
def list_run_logs(call: Call) -> Reply:
    return _logs(call, with_run=True)


@operation("listFluxTaskRuns")
def list_runs(call: Call) -> Reply:
    task_id = _path_id(call, "taskID", "you must provide a task ID")
    kwargs: dict[str, Any] = {}
    try:
        after = call.first("after")
        if after:
            kwargs["after"] = decode_id(after)
        raw_limit = call.first("limit")
        if raw_limit:
            limit = go_atoi(raw_limit)
            if not 1 <= limit <= MAX_PAGE_SIZE:
                raise OUT_OF_BOUNDS_LIMIT.fresh()
            kwargs["limit"] = limit
        after_time = call.first("afterTime")
        if after_time:
            kwargs["after_time"] = go_time_parse(after_time)
        before_time = call.first("beforeTime")
        if before_time:
            kwargs["before_time"] = go_time_parse(before_time)
        if after_time and before_time and not kwargs["before_time"] > kwargs["after_time"]:
            raise PlatformError(E_UNPROCESSABLE, "beforeTime must be later than afterTime")
    except (PlatformError, GoError) as exc:
        raise _decode_failure(exc) from None
    try:
        runs = _store(call).find_runs(task_id, **kwargs)
    except (PlatformError, GoError) as exc:
        raise _service_failure("failed to find runs", exc, TASK_NOT_FOUND, NO_RUNS_FOUND) from None
    tid = encode_id(task_id)
    links = {"self": f"{TASKS_PATH}/{tid}/runs", "task": f"{TASKS_PATH}/{tid}"}
    return _ok(200, {"links": links, "runs": [render_run(r) for r in runs]})


def _has_body(call: Call) -> bool:
    """Go reads the body when ContentLength is unknown (chunked) or between 1 and 999."""
    length = call.req.content_length
    if length is None:
        return "chunked" in (call.req.get_header("Transfer-Encoding") or "").lower()
    return 0 < length < 1000


@operation("startFluxTaskRun")
def start_run(call: Call) -> Reply:
    task_id = _path_id(call, "taskID", "you must provide a task ID")
    scheduled_for = ""
    if _has_body(call):
        req = _decode_body(call, _RUN_REQUEST_STRUCT, "", {"scheduledFor": "string"})
        scheduled_for = req.get("scheduledFor", "")
    if scheduled_for:
        try:
            when = go_time_parse(scheduled_for) // 1_000_000_000
        except GoError as exc:
            raise _decode_failure(exc) from None
    else:
        when = call.state.clock() // 1_000_000_000
    try:
        run = _store(call).force_run(task_id, when)
    except (PlatformError, GoError) as exc:
        raise _service_failure("failed to force run", exc, TASK_NOT_FOUND) from None
    return _ok(201, render_run(run))


def _run_ids(call: Call, run_first: bool = False) -> tuple[int, int]:
    checks = [("taskID", "you must provide a task ID"), ("runID", "you must provide a run ID")]
    for param, missing in reversed(checks) if run_first else checks:
        if call.params.get(param, "") == "":
            raise _decode_failure(PlatformError(E_INVALID, missing))
    ids = {}
    for param, _missing in reversed(checks) if run_first else checks:
        try:
            ids[param] = decode_id(call.params[param])
        except PlatformError as exc:
            raise _decode_failure(exc) from None
    return ids["taskID"], ids["runID"]


_T = TypeVar("_T")


def _on_run(call: Call, what: str, action: Callable[[FluxTaskStore, int, int], _T], *, run_first: bool = False) -> _T:
    """Apply a store action to the run the path names; its failures read `failed to <what> run`."""
    task_id, run_id = _run_ids(call, run_first=run_first)
    try:
        return action(_store(call), task_id, run_id)
    except (PlatformError, GoError) as exc:
        raise _service_failure(f"failed to {what} run", exc, TASK_NOT_FOUND, RUN_NOT_FOUND) from None


@operation("getFluxTaskRun")
def get_run(call: Call) -> Reply:
    return _ok(200, render_run(_on_run(call, "find", FluxTaskStore.find_run)))


@operation("cancelFluxTaskRun")
def cancel_run(call: Call) -> Reply:
    _on_run(call, "cancel", FluxTaskStore.cancel_run, run_first=True)
    return Reply(200, content_type=None)


@operation("retryFluxTaskRun")
def retry_run(call: Call) -> Reply:
    return _ok(200, render_run(_on_run(call, "retry", FluxTaskStore.retry_run)))
