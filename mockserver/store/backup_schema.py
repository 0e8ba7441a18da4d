"""The shape every object of a mock snapshot must have before it may be restored.

A backup (`--restore`, `POST /mock/seed`) or a `--data-dir` file is outside input: a field of the
wrong type would otherwise surface later, as a traceback at start-up or as a 500 on every list
that renders the object. So the whole snapshot is checked first, field by field, plus the
invariants the stores rely on (unique IDs, scripts that parse), and the first problem is reported as one line naming the object and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from mockserver import tickscript
from mockserver.errors import MockError
from mockserver.store.alerts import LEVEL_NAMES
from spec.ids import is_valid_id, is_valid_topic_id, is_valid_username

#: A field check: None when the value is acceptable, else what is wrong with it.
Check = Callable[[Any], "str | None"]

_INT64 = (-(2**63), 2**63 - 1)
#: Go's time.Time marshals years 0001–9999 only (Unix ns of 0001-01-01 and 9999-12-31T23:59:59.999999999).
_TIME = (-62135596800 * 10**9, 253402300800 * 10**9 - 1)
_FLUX_ID = re.compile(r"[0-9a-f]{16}\Z")
_HEX = re.compile(r"(?:[0-9a-f]{2})*\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
#: A bcrypt hash in its modular crypt form (what Kapacitor stores), accepted besides salted SHA-256.
_BCRYPT = re.compile(r"\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}\Z")
#: `<section>/<element>` (element names added through `add` may hold any character).
_CONFIG_ID = re.compile(r"[-A-Za-z0-9_+]+(?:/.*)?\Z", re.DOTALL)
#: Objects per snapshot and nesting of free-form values: a backup is bounded input too.
MAX_OBJECTS = 1_000_000
MAX_DEPTH = 64


class InvalidSnapshot(MockError, ValueError):
    """The snapshot cannot be restored; the message names the object and the field."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}" if len(repr(value)) <= 24 else "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _type(ok: Callable[[Any], bool], what: str) -> Check:
    return lambda v: None if ok(v) else f"expected {what}, got {_kind(v)}"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int_in(low: int, high: int, what: str) -> Check:
    return _type(lambda v: _is_int(v) and low <= v <= high, what)


STR = _type(lambda v: isinstance(v, str), "a string")
BOOL = _type(lambda v: isinstance(v, bool), "a boolean")
INT64 = _int_in(*_INT64, "an integer (64-bit)")
COUNT = _int_in(0, _INT64[1], "a non-negative integer")
TIME = _int_in(*_TIME, "a time in Unix nanoseconds (years 1-9999)")
PROGRESS = _type(
    lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1, "a number from 0 to 1"
)
ID = _type(is_valid_id, "an ID of letters, digits, '-', '.' and '_'")
TOPIC_ID = _type(is_valid_topic_id, "a topic ID")
FLUX_ID = _type(lambda v: isinstance(v, str) and _FLUX_ID.match(v) is not None, "a 16-digit lower-case hex ID")


def optional(check: Check) -> Check:
    return lambda v: None if v is None else check(v)


def one_of(*values: str) -> Check:
    return lambda v: (
        None if isinstance(v, str) and v in values else f"expected one of {', '.join(values)}, got {_kind(v)}"
    )


def list_of(check: Check) -> Check:
    def run(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"expected a list, got {_kind(value)}"
        for i, item in enumerate(value):
            problem = check(item)
            if problem:
                return f"item {i}: {problem}"
        return None

    return run


def _depth_ok(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _depth_ok(v, depth + 1) for k, v in value.items())
    return True


OBJECT = _type(lambda v: isinstance(v, dict) and _depth_ok(v), f"an object (nested at most {MAX_DEPTH} deep)")


def _tickscript(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected a TICKscript string, got {_kind(value)}"
    try:
        tickscript.parse(value)
    except tickscript.TickscriptError as exc:
        return f"the TICKscript does not parse: {exc}"
    except RecursionError:
        return "the TICKscript is nested too deeply"
    return None


def _vars(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not _depth_ok(value):
        return f"expected an object of task vars, got {_kind(value)}"
    try:
        tickscript.decode_vars(value)
    except Exception as exc:  # any failure of the decoder means a bad var
        return f"invalid task vars: {exc}"
    return None


def _dbrp(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(x, str) for x in value):
        return None
    return f"expected a [database, retention policy] pair of strings, got {_kind(value)}"


def _privileges(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"expected an object of resource privileges, got {_kind(value)}"
    for resource, privilege in value.items():
        if not resource.startswith("/"):
            return f"resource {resource!r} is not a path"
        if privilege not in ("all", "none"):
            return f"privilege of {resource!r}: expected all or none, got {_kind(privilege)}"
    return None


def _log_entry(value: Any) -> str | None:
    if (
        isinstance(value, list)
        and len(value) == 3
        and FLUX_ID(value[0]) is None
        and all(isinstance(x, str) for x in value[1:])
    ):
        return None
    return f"expected a [run ID, time, message] triple, got {_kind(value)}"


EVENT = {
    "id": (_type(lambda v: isinstance(v, str) and v != "", "a non-empty string"), True),
    "message": (STR, False),
    "details": (STR, False),
    "time": (optional(TIME), False),
    "duration": (INT64, False),
    "level": (one_of(*LEVEL_NAMES), False),
}
TASK = {
    "id": (ID, True),
    "template_id": (_type(lambda v: v == "" or is_valid_id(v), "a template ID or the empty string"), False),
    "type": (one_of("stream", "batch"), True),
    "dbrps": (list_of(_dbrp), False),
    "script": (_tickscript, True),
    "vars": (_vars, False),
    "status": (one_of("enabled", "disabled"), True),
    "error": (STR, False),
    "created": (TIME, True),
    "modified": (TIME, True),
    "last_enabled": (optional(TIME), False),
}
TEMPLATE = {
    "id": (ID, True),
    "type": (one_of("stream", "batch"), True),
    "script": (_tickscript, True),
    "created": (TIME, True),
    "modified": (TIME, True),
    "tasks": (list_of(ID), False),
}
RECORDING = {
    "id": (ID, True),
    "type": (one_of("stream", "batch"), True),
    "date": (TIME, True),
    "status": (one_of("running", "finished", "failed"), False),
    "error": (STR, False),
    "size": (COUNT, False),
    "progress": (PROGRESS, False),
    "has_data": (BOOL, False),
}
REPLAY = {
    "id": (ID, True),
    "task": (STR, True),
    "recording": (STR, True),
    "recording_time": (BOOL, True),
    "clock": (one_of("fast", "real"), True),
    "date": (TIME, True),
    "status": (one_of("running", "finished", "failed"), False),
    "error": (STR, False),
    "progress": (PROGRESS, False),
    "nodes": (list_of(STR), False),
}
TOPIC = {"id": (TOPIC_ID, True), "collected": (COUNT, False), "events": (list_of(OBJECT), False)}
HANDLER = {
    "id": (ID, True),
    "topic": (TOPIC_ID, True),
    "kind": (_type(lambda v: isinstance(v, str) and v != "", "a handler kind"), True),
    "options": (optional(OBJECT), False),
    "match": (STR, False),
}
OVERRIDE = {
    "id": (
        _type(lambda v: isinstance(v, str) and _CONFIG_ID.match(v) is not None, "a <section>/<element> override ID"),
        True,
    ),
    "options": (optional(OBJECT), False),
    "create": (BOOL, False),
}
USER = {
    "name": (_type(is_valid_username, "a user name"), True),
    "admin": (BOOL, False),
    "salt": (
        _type(lambda v: isinstance(v, str) and _HEX.match(v) is not None, "an even-length lower-case hex string"),
        False,
    ),
    "hash": (
        _type(lambda v: isinstance(v, str) and (_SHA256.match(v) or _BCRYPT.match(v)) is not None, "a password hash"),
        True,
    ),
    "privileges": (optional(_privileges), False),
}
FLUX_TASK = {
    "id": (FLUX_ID, True),
    "owner": (STR, True),
    "name": (STR, True),
    "description": (STR, True),
    "status": (one_of("active", "inactive"), True),
    "flux": (STR, True),
    "every": (STR, True),
    "cron": (STR, True),
    "offset": (INT64, True),
    "created_at": (TIME, True),
    "updated_at": (optional(TIME), False),
    "latest_completed": (optional(TIME), False),
    "latest_scheduled": (optional(TIME), False),
    "latest_success": (optional(TIME), False),
    "latest_failure": (optional(TIME), False),
    "last_run_status": (STR, False),
    "last_run_error": (STR, False),
    "type": (STR, False),
}
FLUX_RUN = {
    "id": (FLUX_ID, True),
    "task_id": (FLUX_ID, True),
    "status": (STR, True),
    "scheduled_for": (TIME, True),
    "started_at": (optional(TIME), False),
    "finished_at": (optional(TIME), False),
    "requested_at": (optional(TIME), False),
    "log": (list_of(_log_entry), False),
}


def _name(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("id", "name"):
            if isinstance(item.get(key), str):
                return f" ({key} {item[key]!r})"
    return ""


def _object(where: str, item: Any, fields: dict[str, tuple[Check, bool]]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InvalidSnapshot(f"{where}: expected an object, got {_kind(item)}")
    label = where + _name(item)
    for key in item:
        if key not in fields:
            raise InvalidSnapshot(f"{label}: unknown field {key!r}")
    for key, (check, required) in fields.items():
        if key not in item:
            if required:
                raise InvalidSnapshot(f"{label}: missing field {key!r}")
            continue
        problem = check(item[key])
        if problem:
            raise InvalidSnapshot(f"{label}: field {key!r}: {problem}")
    return item


def _items(where: str, value: Any, fields: dict[str, tuple[Check, bool]], key: str = "id") -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidSnapshot(f"{where}: expected a list, got {_kind(value)}")
    if len(value) > MAX_OBJECTS:
        raise InvalidSnapshot(f"{where}: more than {MAX_OBJECTS} objects")
    seen: set[Any] = set()
    out = []
    for i, item in enumerate(value):
        _object(f"{where}[{i}]", item, fields)
        ident = item[key]
        if ident in seen:
            raise InvalidSnapshot(f"{where}[{i}]{_name(item)}: duplicate {key}")
        seen.add(ident)
        out.append(item)
    return out


def _family(snapshot: dict[str, Any], name: str, sections: Iterable[str]) -> dict[str, Any]:
    if name not in snapshot:
        return {}
    data = snapshot[name]
    if not isinstance(data, dict):
        raise InvalidSnapshot(f"{name}: expected an object, got {_kind(data)}")
    for key in data:
        if key not in sections:
            raise InvalidSnapshot(f"{name}: unknown section {key!r}")
    return data


def check_snapshot(snapshot: Any) -> None:
    """Raise InvalidSnapshot for the first object that cannot be restored as it is."""
    if not isinstance(snapshot, dict):
        raise InvalidSnapshot(f"the state is {_kind(snapshot)}, not an object")
    families = ("tasks", "recordings", "alerts", "configs", "users", "flux_tasks")
    for name in snapshot:
        if name not in families:
            raise InvalidSnapshot(f"unknown state family {name!r}")
    _check_tasks(_family(snapshot, "tasks", ("tasks", "templates")))
    recordings = _family(snapshot, "recordings", ("recordings", "replays"))
    _items("recordings.recordings", recordings.get("recordings", []), RECORDING)
    _items("recordings.replays", recordings.get("replays", []), REPLAY)
    _check_alerts(_family(snapshot, "alerts", ("topics", "handlers")))
    _items("configs.overrides", _family(snapshot, "configs", ("overrides",)).get("overrides", []), OVERRIDE)
    users = _items("users.users", _family(snapshot, "users", ("users",)).get("users", []), USER, key="name")
    for i, user in enumerate(users):
        if _SHA256.match(user["hash"]) and "salt" not in user:
            raise InvalidSnapshot(f"users.users[{i}]{_name(user)}: missing field 'salt' (a SHA-256 hash needs one)")
    _check_flux(_family(snapshot, "flux_tasks", ("last_id", "tasks", "manual", "running", "history")))


def _check_tasks(data: dict[str, Any]) -> None:
    # A template's task list may name tasks that are gone or moved to another template: the
    # server keeps such entries (and fails a later template update on them), so only IDs are checked.
    _items("tasks.tasks", data.get("tasks", []), TASK)
    _items("tasks.templates", data.get("templates", []), TEMPLATE)


def _check_alerts(data: dict[str, Any]) -> None:
    for i, topic in enumerate(_items("alerts.topics", data.get("topics", []), TOPIC)):
        where = f"alerts.topics[{i}] (id {topic['id']!r}).events"
        _items(where, topic.get("events", []), EVENT)
    seen: set[tuple[str, str]] = set()
    handlers = data.get("handlers", [])
    if not isinstance(handlers, list):
        raise InvalidSnapshot(f"alerts.handlers: expected a list, got {_kind(handlers)}")
    for i, handler in enumerate(handlers):
        _object(f"alerts.handlers[{i}]", handler, HANDLER)
        key = (handler["topic"], handler["id"])
        if key in seen:
            raise InvalidSnapshot(f"alerts.handlers[{i}]{_name(handler)}: duplicate id on topic {key[0]!r}")
        seen.add(key)


def _check_flux(data: dict[str, Any]) -> None:
    if "last_id" in data and (problem := COUNT(data["last_id"])):
        raise InvalidSnapshot(f"flux_tasks.last_id: {problem}")
    _items("flux_tasks.tasks", data.get("tasks", []), FLUX_TASK)
    running = data.get("running", [])
    if not isinstance(running, list):
        raise InvalidSnapshot(f"flux_tasks.running: expected a list, got {_kind(running)}")
    for i, run in enumerate(running):
        _object(f"flux_tasks.running[{i}]", run, FLUX_RUN)
    for section in ("manual", "history"):
        runs = data.get(section, {})
        if not isinstance(runs, dict):
            raise InvalidSnapshot(f"flux_tasks.{section}: expected an object of task ID → runs, got {_kind(runs)}")
        for task_id, items in runs.items():
            if FLUX_ID(task_id):
                raise InvalidSnapshot(f"flux_tasks.{section}: key {task_id!r} is not a 16-digit hex task ID")
            if not isinstance(items, list):
                raise InvalidSnapshot(f"flux_tasks.{section}[{task_id!r}]: expected a list, got {_kind(items)}")
            for i, run in enumerate(items):
                _object(f"flux_tasks.{section}[{task_id!r}][{i}]", run, FLUX_RUN)
