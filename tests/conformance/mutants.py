"""Broken servers: the mock wrapped in WSGI middlewares that each break exactly one rule.

The mock itself stays correct; every mutant rewrites the request on its way in or the response on
its way out. Each mutant names the check that must catch it and the narrow selection of checks
the suite runs against it (so each run takes seconds).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from spec import ids as spec_ids

WSGIApp = Callable[..., Iterable[bytes]]

V1 = "/kapacitor/v1"
_LISTS = re.compile(r"^/kapacitor/v1(preview)?/(tasks|templates|recordings|replays)$")
_ITEM = re.compile(r"^/kapacitor/v1/(tasks|templates|recordings|replays)/(.+)$")
_TASK_ITEM = re.compile(r"^/kapacitor/v1/tasks/(.+)$")
_HANDLER = re.compile(r"^/kapacitor/v1/alerts/topics/([^/]+)/handlers/(.+)$")


@dataclass
class Captured:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split()[0])

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value, indent=4).encode("utf-8")


def call(app: WSGIApp, environ: dict[str, Any]) -> Captured:
    """Run the wrapped app and capture its whole answer."""
    box: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        box["status"], box["headers"] = status, list(headers)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return Captured(box["status"], box["headers"], body)


def reply(start_response: Callable[..., Any], cap: Captured) -> list[bytes]:
    headers = [(k, v) for k, v in cap.headers if k.lower() != "content-length"]
    if cap.code != 204 and cap.code >= 200:
        headers.append(("Content-Length", str(len(cap.body))))
    start_response(cap.status, headers)
    return [cap.body]


def error(code: int, message: str, version: str = "1.8.3") -> Captured:
    reason = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}.get(code, "Error")
    return Captured(f"{code} {reason}", [("Content-Type", "application/json; charset=utf-8"),
                                         ("X-Kapacitor-Version", version)],
                    json.dumps({"error": message, "message": message}, indent=4).encode())


def read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def set_body(environ: dict[str, Any], data: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))


def query(environ: dict[str, Any]) -> list[tuple[str, str]]:
    return parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def set_query(environ: dict[str, Any], items: list[tuple[str, str]]) -> None:
    environ["QUERY_STRING"] = urlencode(items)


def path(environ: dict[str, Any]) -> str:
    raw = environ.get("PATH_INFO", "")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


class Mutant:
    """A middleware; subclasses override `handle` (default: pass through)."""

    name = "identity"
    rule = ""
    kills: tuple[str, ...] = ()  # check-id globs one of which must fail
    select: tuple[str, ...] = ()  # --check globs for the run

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return reply(start_response, self.handle(environ))

    def handle(self, environ: dict[str, Any]) -> Captured:
        return call(self.app, environ)

    def is_list(self, environ: dict[str, Any], family: str | None = None) -> bool:
        m = _LISTS.match(path(environ))
        return environ["REQUEST_METHOD"] == "GET" and m is not None and (family is None or m.group(2) == family)


class DeleteMissing404(Mutant):
    name = "delete-missing-404"
    rule = "DELETE of a missing resource answers 404 instead of 204"
    kills = ("deletes.missing-204",)
    select = ("deletes.missing-204",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        p = path(environ)
        if environ["REQUEST_METHOD"] == "DELETE" and (_ITEM.match(p) or _HANDLER.match(p)):
            probe = dict(environ, REQUEST_METHOD="GET", QUERY_STRING="")
            probe["wsgi.input"] = io.BytesIO(b"")
            probe["CONTENT_LENGTH"] = "0"
            if call(self.app, probe).code not in (200, 202):
                return error(404, "does not exist")
        return call(self.app, environ)


class OffsetIgnored(Mutant):
    name = "offset-ignored"
    rule = "list endpoints ignore offset"
    kills = ("pagination.windows",)
    select = ("pagination.windows[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            set_query(environ, [(k, v) for k, v in query(environ) if k != "offset"])
        return call(self.app, environ)


class LimitOffByOne(Mutant):
    name = "limit-off-by-one"
    rule = "list endpoints return limit+1 items"
    kills = ("pagination.windows", "pagination.limit-zero")
    select = ("pagination.windows[tasks]", "pagination.limit-zero[tasks]")

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            items = []
            for k, v in query(environ):
                if k == "limit" and re.fullmatch(r"\d+", v):
                    v = str(int(v) + 1)
                items.append((k, v))
            set_query(environ, items)
        return call(self.app, environ)


class DefaultLimitWrong(Mutant):
    name = "default-limit-wrong"
    rule = "the default limit is 50 instead of 100"
    kills = ("pagination.default-limit",)
    select = ("pagination.default-limit[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ) and not any(k == "limit" for k, _ in query(environ)):
            set_query(environ, [*query(environ), ("limit", "50")])
        return call(self.app, environ)


def _body_id(environ: dict[str, Any]) -> tuple[dict[str, Any] | None, bytes]:
    data = read_body(environ)
    try:
        body = json.loads(data.decode("utf-8"))
    except ValueError:
        return None, data
    return (body if isinstance(body, dict) else None), data


class AsciiOnlyIds(Mutant):
    name = "ascii-only-ids"
    rule = "IDs with non-ASCII letters are rejected"
    kills = ("ids.accepts",)
    select = ("ids.accepts[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks":
            body, _ = _body_id(environ)
            ident = body.get("id") if body else None
            if isinstance(ident, str) and not ident.isascii():
                return error(400, f"task ID must contain only letters, numbers, '-', '.' and '_'. {ident!r}")
        return call(self.app, environ)


class InvalidIdsAccepted(Mutant):
    name = "invalid-ids-accepted"
    rule = "invalid task IDs are accepted (stored under a cleaned-up ID)"
    kills = ("ids.accepts",)
    select = ("ids.accepts[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks":
            body, _ = _body_id(environ)
            ident = body.get("id") if body else None
            if body is not None and isinstance(ident, str) and ident and not spec_ids.is_valid_id(ident):
                body["id"] = re.sub(r"[^-._0-9A-Za-z]", "_", ident)
                set_body(environ, json.dumps(body).encode())
        return call(self.app, environ)


class MissingVersionHeader(Mutant):
    name = "missing-version-header"
    rule = "responses lack X-Kapacitor-Version (except ping)"
    kills = ("headers.version",)
    select = ("headers.version",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if not path(environ).endswith("/ping"):
            cap.headers = [(k, v) for k, v in cap.headers if k.lower() != "x-kapacitor-version"]
        return cap


class ErrorWithoutErrorKey(Mutant):
    name = "error-without-error"
    rule = "error bodies carry only `message`, no `error`"
    kills = ("errors.body",)
    select = ("errors.body",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code >= 400 and isinstance(body, dict) and "error" in body:
            cap.set_json({"message": body["error"]})
        return cap


class LinksWrong(Mutant):
    name = "links-wrong"
    rule = "task links point to /kapacitor/v1/task/<id> (singular)"
    kills = ("links.resolve",)
    select = ("links.resolve[task]", "links.resolve[tasks]")

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        cap.body = cap.body.replace(b'"/kapacitor/v1/tasks/', b'"/kapacitor/v1/task/')
        return cap


class PreviewMissing(Mutant):
    name = "v1preview-missing"
    rule = "/kapacitor/v1preview is not served"
    kills = ("preview.same",)
    select = ("preview.same[getTask*]", "preview.same[listTasks*]")

    def handle(self, environ: dict[str, Any]) -> Captured:
        if path(environ).startswith("/kapacitor/v1preview/"):
            return error(404, "Not Found")
        return call(self.app, environ)


class PatchIgnored(Mutant):
    name = "patch-ignored"
    rule = "PATCH of a task answers 200 with the unchanged task"
    kills = ("lifecycle.task-status", "lifecycle.task-script", "lifecycle.task-vars", "lifecycle.task-rename")
    select = ("lifecycle.task-*",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "PATCH" and _TASK_ITEM.match(path(environ)):
            read_body(environ)
            set_body(environ, b"")
            probe = dict(environ, REQUEST_METHOD="GET", QUERY_STRING="")
            return call(self.app, probe)
        return call(self.app, environ)


class ListOrderWrong(Mutant):
    name = "list-order-wrong"
    rule = "the task list comes in reverse ID order"
    kills = ("pagination.order",)
    select = ("pagination.order[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if self.is_list(environ, "tasks") and isinstance(body, dict) and isinstance(body.get("tasks"), list):
            body["tasks"].reverse()
            cap.set_json(body)
        return cap


class FieldsIgnored(Mutant):
    name = "fields-ignored"
    rule = "list endpoints ignore `fields`"
    kills = ("fields.projection", "fields.id-link")
    select = ("fields.projection[tasks]", "fields.id-link[tasks]")

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            set_query(environ, [(k, v) for k, v in query(environ) if k != "fields"])
        return call(self.app, environ)


class PatternIgnored(Mutant):
    name = "pattern-ignored"
    rule = "list endpoints ignore `pattern`"
    kills = ("pattern.glob",)
    select = ("pattern.glob[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            set_query(environ, [(k, v) for k, v in query(environ) if k != "pattern"])
        return call(self.app, environ)


class CreateReturns201(Mutant):
    name = "create-201"
    rule = "creating a task answers 201 instead of 200"
    kills = ("status.documented",)
    select = ("status.documented[createTask*]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks" and cap.code == 200:
            cap.status = "201 Created"
        return cap


class DuplicateConflict(Mutant):
    name = "duplicate-409"
    rule = "a duplicate task ID answers 409 instead of 400"
    kills = ("status.server",)
    select = ("status.server[createTask.duplicate]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code == 400 and isinstance(body, dict) and str(body.get("error", "")).endswith("already exists"):
            cap.status = "409 Conflict"
        return cap


class MessageKeyMissing(Mutant):
    name = "message-missing"
    rule = "a server claiming 1.8 sends error bodies without `message`"
    kills = ("errors.body",)
    select = ("errors.body[getTask*]", "errors.body[createTask*]")

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code >= 400 and isinstance(body, dict):
            body.pop("message", None)
            cap.set_json(body)
        return cap


class NegativeOffsetRejected(Mutant):
    name = "negative-offset-400"
    rule = "a negative offset is rejected instead of counting as 0"
    kills = ("pagination.negative-offset",)
    select = ("pagination.negative-offset[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ) and any(k == "offset" and v.startswith("-") for k, v in query(environ)):
            return error(400, "invalid offset")
        return call(self.app, environ)


class NonNumericAccepted(Mutant):
    name = "non-numeric-accepted"
    rule = "a non-numeric offset is silently treated as 0"
    kills = ("pagination.non-numeric",)
    select = ("pagination.non-numeric[tasks-offset]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            set_query(environ, [(k, v) for k, v in query(environ)
                                if not (k == "offset" and not re.fullmatch(r"[+-]?\d+", v))])
        return call(self.app, environ)


class MalformedPattern400(Mutant):
    name = "malformed-pattern-400"
    rule = "a malformed pattern is a 400 instead of an empty list"
    kills = ("pattern.malformed",)
    select = ("pattern.malformed[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ) and any(k == "pattern" and v.endswith(("[", "\\", "[]", "[a-]"))
                                         for k, v in query(environ)):
            return error(400, "bad pattern")
        return call(self.app, environ)


class HandlerPatchIgnored(Mutant):
    name = "handler-patch-ignored"
    rule = "JSON Patch of a handler answers 200 without applying"
    kills = ("alerts.handler-crud",)
    select = ("alerts.handler-crud",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "PATCH" and _HANDLER.match(path(environ)):
            read_body(environ)
            set_body(environ, b"")
            return call(self.app, dict(environ, REQUEST_METHOD="GET"))
        return call(self.app, environ)


class GeneratedIdNotUuid(Mutant):
    name = "generated-id-not-uuid"
    rule = "a task created without an ID gets a sequential ID instead of a UUID v4"
    kills = ("ids.generated",)
    select = ("ids.generated[tasks]",)
    counter = 0

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks":
            body, _ = _body_id(environ)
            if body is not None and not body.get("id"):
                GeneratedIdNotUuid.counter += 1
                body["id"] = f"task{GeneratedIdNotUuid.counter}"
                set_body(environ, json.dumps(body).encode())
        return call(self.app, environ)


class ErrorNotJson(Mutant):
    name = "error-content-type"
    rule = "error bodies are sent as text/plain"
    kills = ("errors.body",)
    select = ("errors.body[getTask*]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if cap.code >= 400:
            cap.headers = [(k, v) for k, v in cap.headers if k.lower() != "content-type"]
            cap.headers.append(("Content-Type", "text/plain; charset=utf-8"))
        return cap


class NoContentUnlabelled(Mutant):
    name = "no-content-unlabelled"
    rule = "204 answers carry no Content-Type (what WSGI validators prefer, not the server)"
    kills = ("headers.content-type-204",)
    select = ("headers.content-type-204[deleteTask*]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if cap.code == 204:
            cap.headers = [(k, v) for k, v in cap.headers if k.lower() != "content-type"]
        return cap


MUTANTS: list[type[Mutant]] = [
    DeleteMissing404, OffsetIgnored, LimitOffByOne, DefaultLimitWrong, AsciiOnlyIds, InvalidIdsAccepted,
    MissingVersionHeader, ErrorWithoutErrorKey, LinksWrong, PreviewMissing, PatchIgnored, ListOrderWrong,
    FieldsIgnored, PatternIgnored, CreateReturns201, DuplicateConflict, MessageKeyMissing, NegativeOffsetRejected,
    NonNumericAccepted, MalformedPattern400, HandlerPatchIgnored, GeneratedIdNotUuid, ErrorNotJson,
    NoContentUnlabelled,
]
