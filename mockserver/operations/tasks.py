"""Task handlers: decode like Go, delegate to the task store, render the client's JSON shapes."""

from __future__ import annotations

import functools
from typing import Any

from mockserver import gojson, tickscript
from mockserver.errors import BadRequest, ServerError, invalid_json, unsupported_field
from mockserver.gotime import format_ns
from mockserver.operations.common import dot_view, list_fields, paging, path_id, script_format
from mockserver.operations.registry import Call, Reply, control, operation
from mockserver.render import BASE, link
from mockserver.store.tasks import Task, TaskCreate, TaskUpdate
from mockserver.tickscript.dot import node_stats

TASK_FIELDS = (
    "link", "id", "type", "dbrps", "script", "dot", "status", "executing", "error", "stats",
    "created", "modified", "last-enabled", "vars", "template-id",
)  # fmt: skip
NODE_STAT_KEYS = ("avg_exec_time_ns", "collected", "emitted", "errors", "working_cardinality")


def _dbrp(item: Any, where: str) -> tuple[str, str]:
    fields = gojson.decode_struct(item, "DBRP", {"db": "string", "rp": "string"}, raw=True)
    return fields.get("db", ""), fields.get("rp", "")


def _dbrps(item: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(item, list):
        struct, _, name = where.rpartition(".")
        raise gojson.type_error(item, struct, name, "[]client.DBRP")
    return [_dbrp(d, where) for d in item if d is not None]


def _vars(item: Any, where: str) -> Any:
    try:
        return tickscript.decode_vars(item)
    except tickscript.VarDecodeError as exc:
        raise gojson.DecodeError(str(exc)) from None
    except tickscript.VarError as exc:
        return exc  # reported later, at the step where the server converts vars


TASK_REQUEST: dict[str, gojson.Kind] = {
    "id": "string",
    "template-id": "string",
    "type": gojson.enum(("stream", "batch", "invalid"), "TaskType"),
    "dbrps": _dbrps,
    "script": "string",
    "status": gojson.enum(("enabled", "disabled"), "TaskStatus"),
    "vars": _vars,
}


def decode_task_request(call: Call, struct: str) -> dict[str, Any]:
    try:
        return gojson.decode_struct(call.body(), struct, TASK_REQUEST)
    except gojson.DecodeError:
        raise invalid_json() from None


# ---- rendering ------------------------------------------------------------------------------------


def task_link(task_id: str) -> dict[str, str]:
    return link(BASE, "tasks", task_id)


def _stats(task: Task, engine: Any = None) -> dict[str, Any]:
    live: dict[str, Any] | None = engine.stats(task) if engine is not None else None
    if live is not None:
        return live
    pipeline = task.analysis().pipeline
    return {"task-stats": {"throughput": 0}, "node-stats": node_stats(pipeline) if pipeline is not None else {}}


def _dot(task: Task, view: str, engine: Any = None) -> str | None:
    executing = _executing(task, engine)
    if engine is not None and executing:
        live: str | None = engine.dot(task, labels=view == "labels")
        if live is not None:
            return live
    pipeline = task.analysis().pipeline
    if pipeline is None:
        return None
    return tickscript.dot(pipeline, task.id, executing=executing, labels=view == "labels")


def _runs(task: Task) -> bool:
    """An enabled task has live stats and dot, or a start failure (never cached)."""
    return task.executing


def _executing(task: Task, engine: Any) -> bool:
    return task.executing and not (engine is not None and engine.start_error(task))


def _value(task: Task, name: str, view: str, fmt: str, *, in_list: bool, engine: Any = None) -> Any:
    if name == "id":
        return task.id
    if name == "link":
        return task_link(task.id)
    if name == "template-id":
        return task.template_id
    if name == "type":
        return task.type
    if name == "dbrps":
        return [{"db": db, "rp": rp} for db, rp in task.dbrps]
    if name == "script":
        return task.formatted() if fmt == "formatted" else task.script
    if name == "vars":
        return tickscript.encode_vars(task.vars)
    if name == "dot":
        dot = _dot(task, view, engine)
        return dot if (dot is not None or in_list) else ""
    if name == "status":
        return task.status
    if name == "executing":
        return _executing(task, engine)
    if name == "error":
        return task.error or task.analysis().build_error or (engine.start_error(task) if engine is not None else "")
    if name == "stats":
        if _executing(task, engine):
            return _stats(task, engine)
        return None if in_list else {}
    if name == "created":
        return format_ns(task.created)
    if name == "modified":
        return format_ns(task.modified)
    if name == "last-enabled":
        return format_ns(task.last_enabled)
    raise KeyError(name)


SINGLE_ORDER = (
    "link", "id", "template-id", "type", "dbrps", "script", "vars", "dot", "status", "executing",
    "error", "stats", "created", "modified", "last-enabled",
)  # fmt: skip


def task_body(task: Task, view: str = "attributes", fmt: str = "formatted", engine: Any = None) -> bytes:
    if engine is not None and _runs(task):
        obj = {name: _value(task, name, view, fmt, in_list=False, engine=engine) for name in SINGLE_ORDER}
        return gojson.dumps_pretty(obj)
    return task.rendered(
        ("single", view, fmt),
        lambda: gojson.dumps_pretty({name: _value(task, name, view, fmt, in_list=False) for name in SINGLE_ORDER}),
    )


# ---- handlers -------------------------------------------------------------------------------------


def _start(call: Call, task: Task) -> None:
    """Start, restart or stop the task's data plane now, as the server does after storing it; a
    task that cannot start stays stored (enabled, not executing) and the request answers 500."""
    call.state.engine.reconcile()
    error = call.state.engine.start_error(task)
    if error:
        raise ServerError(error)


@operation("getTask")
def get_task(call: Call) -> Reply:
    task_id = path_id(call, "id", "task")
    task = call.state.tasks.get_task(task_id)
    fmt = script_format(call)
    view = dot_view(call)
    replay_id = call.first("replay-id")
    if replay_id and replay_id != "main":
        raise BadRequest(f"no running replay with ID: {replay_id}")
    return Reply(200, raw=task_body(task, view, fmt, call.state.engine))


@operation("getTaskHttpOut")
def get_task_http_out(call: Call) -> Reply:
    """A running task's httpOut result (compact JSON); without such a route the path is a task ID."""
    result = call.state.engine.http_out(call.params["id"], call.params["endpoint"])
    if result is not None:
        return Reply(200, raw=result)
    call.params = {"id": f"{call.params['id']}/{call.params['endpoint']}"}
    return get_task(call)


@operation("createTask")
def create_task(call: Call) -> Reply:
    task = call.state.tasks.create_task(TaskCreate.of(decode_task_request(call, "CreateTaskOptions")))
    _start(call, task)
    return Reply(200, raw=task_body(task, engine=call.state.engine))


@operation("updateTask")
def update_task(call: Call) -> Reply:
    task_id = path_id(call, "id", "task")
    task = call.state.tasks.update_task(task_id, TaskUpdate.of(decode_task_request(call, "UpdateTaskOptions")))
    _start(call, task)
    return Reply(200, raw=task_body(task, engine=call.state.engine))


@operation("deleteTask")
def delete_task(call: Call) -> Reply:
    call.state.tasks.delete_task(path_id(call, "id", "task"))
    call.state.engine.reconcile()  # a deleted task stops; its anonymous topics go
    return Reply(204)


@operation("listTasks")
def list_tasks(call: Call) -> Reply:
    pattern = call.first("pattern")
    defaults = TASK_FIELDS if call.config.lists_template_id else TASK_FIELDS[:-1]
    fields = list_fields(call, defaults)
    fmt = script_format(call)
    view = dot_view(call)
    offset, limit = paging(call)
    tasks = call.state.tasks.list_tasks(pattern, offset, limit)
    allowed = frozenset(defaults)
    for name in fields:
        if name not in allowed and tasks:
            raise unsupported_field(name)
    # Only the default projection is cached: `fields` combinations are client-chosen and unbounded.
    key = ("list", view, fmt) if call.all("fields") is None else None
    ordered = sorted(set(fields))
    engine = call.state.engine

    def fragment(task: Task, live: bool) -> bytes:
        item: dict[str, Any] = {}
        for name in ordered:
            if name == "template-id" and not task.template_id:
                continue
            item[name] = _value(task, name, view, fmt, in_list=True, engine=engine if live else None)
        return gojson.pretty_fragment(item)

    fragments = []
    for task in tasks:
        if _runs(task):
            fragments.append(fragment(task, True))
        elif key is None:
            fragments.append(fragment(task, False))
        else:
            fragments.append(task.rendered(key, functools.partial(fragment, task, False)))
    return Reply(200, raw=gojson.pretty_list_document("tasks", fragments))


@control("GET", "/mock/influxdb/{db}")
def influxdb_sink_points(call: Call) -> Reply:
    """What influxDBOut nodes wrote to `db` with `--influxdb-sink` (optionally one `rp`), oldest first.

    Body: {"database", "points": [{"measurement", "tags", "fields", "time" (RFC 3339)}]}; the sink
    keeps the last 10,000 points per database and retention policy."""
    db = call.params.get("db", "")
    rp = call.first("rp") or None
    points = [
        {**p, "time": format_ns(p["time"])} for p in call.state.engine.sink.read(db, rp)
    ]
    return Reply(200, body={"database": db, "points": points})
