"""The API vocabulary of the suite, read from the spec: operation paths, families, list keys.

Paths and methods come from `spec/kapacitor-v1.yaml` by operationId; nothing here knows how any
particular server is implemented.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import spec
from conformance.target import encode_segment

V1 = "/kapacitor/v1"
PREVIEW = "/kapacitor/v1preview"
_PARAM = re.compile(r"\{([^}]+)\}")


@functools.cache
def op(op_id: str) -> spec.Operation:
    return spec.operation(op_id)


def has_op(op_id: str) -> bool:
    try:
        op(op_id)
    except KeyError:
        return False
    return True


def path_params(op_id: str) -> list[str]:
    return _PARAM.findall(op(op_id).path)


def path_for(op_id: str, *, preview: bool = False, raw: bool = False, **params: Any) -> str:
    """Fill the spec's path template; values are percent-encoded unless `raw` (then sent as given)."""
    template = op(op_id).path

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"{op_id} needs path parameter {name!r}")
        value = str(params[name])
        return value if raw else encode_segment(value)

    path = _PARAM.sub(fill, template)
    if preview:
        path = to_preview(path)
    return path


def to_preview(path: str) -> str:
    if path.startswith(V1 + "/") or path == V1:
        return PREVIEW + path[len(V1):]
    return path


def family_of(op_id: str) -> str | None:
    return op(op_id).raw.get("x-kapacitor-family")


def mutates(op_id: str) -> bool:
    """`x-kapacitor-mutates` when the spec says; otherwise any method but GET/HEAD/OPTIONS."""
    raw = op(op_id).raw
    if "x-kapacitor-mutates" in raw:
        return bool(raw["x-kapacitor-mutates"])
    return op(op_id).method not in ("GET", "HEAD", "OPTIONS")


def documented_codes(op_id: str) -> set[int]:
    codes: set[int] = set()
    for key in op(op_id).response_codes():
        key = str(key)
        if key.isdigit():
            codes.add(int(key))
        elif len(key) == 3 and key[0].isdigit() and key[1:].upper() == "XX":
            codes.update(range(int(key[0]) * 100, int(key[0]) * 100 + 100))
    return codes


def availability(op_id: str) -> dict[str, Any]:
    return op(op_id).availability


@dataclass(frozen=True)
class Family:
    """A listable resource family and the operations that manage one of its items."""

    name: str
    list_op: str
    get_op: str
    delete_op: str
    list_key: str
    kind: str  # singular word used in messages ("task ID must ...")
    create_op: str | None = None
    update_op: str | None = None
    id_ordered: bool = True  # False: newest first (recordings, replays)


FAMILIES: dict[str, Family] = {
    "tasks": Family("tasks", "listTasks", "getTask", "deleteTask", "tasks", "task", "createTask", "updateTask"),
    "templates": Family(
        "templates", "listTemplates", "getTemplate", "deleteTemplate", "templates", "template",
        "createTemplate", "updateTemplate",
    ),
    "recordings": Family(
        "recordings", "listRecordings", "getRecording", "deleteRecording", "recordings", "recording",
        "recordQuery", None, id_ordered=False,
    ),
    "replays": Family(
        "replays", "listReplays", "getReplay", "deleteReplay", "replays", "replay", "createReplay", None,
        id_ordered=False,
    ),
}

#: Pagination/fields semantics differ per family in one spot: a negative limit (behaviour §2.4).
LISTABLE = tuple(FAMILIES)


def spec_errors(op_id: str) -> list[dict[str, Any]]:
    """`x-kapacitor-errors`: the documented error conditions (status + message template)."""
    return list(op(op_id).raw.get("x-kapacitor-errors") or [])


def spec_error_status(op_id: str, message_start: str) -> int:
    """The status the spec gives the error whose message template starts with `message_start`."""
    for err in spec_errors(op_id):
        if str(err.get("message", "")).startswith(message_start):
            return int(err["status"])
    raise KeyError(f"the spec lists no error starting {message_start!r} for {op_id}")


def doc_variants(op_id: str) -> list[dict[str, Any]]:
    """`x-kapacitor-doc-variant`: where the public docs say something else than the server does."""
    return list(op(op_id).raw.get("x-kapacitor-doc-variant") or [])
