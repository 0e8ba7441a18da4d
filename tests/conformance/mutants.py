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


# ------------------------------------------------------------------------------------------------
# Core rule classes: routing, JSON decoding, IDs, pagination, patterns, deletes, lifecycle, fields,
# version deltas. Each breaks one rule of real Kapacitor; several are only visible on a 1.5 target.
# ------------------------------------------------------------------------------------------------
_V1_PATH = re.compile(r"^/kapacitor/v1/(tasks|templates|recordings|replays|alerts|ping|storage|config)(/|$)")


def _is_catch_all(cap: Captured) -> bool:
    body = cap.json()
    return cap.code == 404 and isinstance(body, dict) and body.get("error") == "Not Found"


def _mock_15(app: WSGIApp) -> WSGIApp:
    """A fresh mock imitating Kapacitor 1.5.9 (the harness serves the default version)."""
    from mockserver.app import create_app
    from mockserver.config import MockConfig

    return create_app(MockConfig(kapacitor_version="1.5.9"))  # type: ignore[no-any-return]


def _rewrite_json(cap: Captured, change: Callable[[Any], Any]) -> None:
    body = cap.json()
    if body is not None:
        cap.set_json(change(body))


def _walk(value: Any, change: Callable[[dict[str, Any]], None]) -> Any:
    if isinstance(value, dict):
        change(value)
        for v in value.values():
            _walk(v, change)
    elif isinstance(value, list):
        for v in value:
            _walk(v, change)
    return value


class VersionHeaderString(Mutant):
    name = "version-header-string"
    rule = "X-Kapacitor-Version carries a placeholder (`string`), not a version"
    kills = ("headers.version-value",)
    select = ("headers.version-value",)
    args = ("--force",)  # the preflight refuses a target whose ping carries no version

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        cap.headers = [(k, "string" if k.lower() == "x-kapacitor-version" else v) for k, v in cap.headers]
        return cap


class WrongMethod405(Mutant):
    name = "wrong-method-405"
    rule = "a known path with an unserved method answers 405 instead of the catch-all 404"
    kills = ("methods.no-405",)
    select = ("methods.no-405",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _is_catch_all(cap) and _V1_PATH.match(path(environ)):
            return Captured("405 Method Not Allowed", cap.headers, b'{"error": "method not allowed"}')
        return cap


class WrongMethodServedAsGet(Mutant):
    name = "wrong-method-as-get"
    rule = "PUT/DELETE on a list path is answered like GET"
    kills = ("methods.no-405",)
    select = ("methods.no-405",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] in ("PUT", "DELETE") and _LISTS.match(path(environ)):
            return call(self.app, dict(environ, REQUEST_METHOD="GET"))
        return call(self.app, environ)


class UnknownRoute400(Mutant):
    name = "unknown-route-400"
    rule = "an unknown path answers 400 instead of 404"
    kills = ("methods.unknown-route",)
    select = ("methods.unknown-route",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if environ["REQUEST_METHOD"] == "GET" and _is_catch_all(cap):
            return error(400, "unknown path")
        return cap


class UnknownRouteText(Mutant):
    name = "unknown-route-text"
    rule = "an unknown path answers Go's default text `404 page not found`"
    kills = ("methods.unknown-route",)
    select = ("methods.unknown-route",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _is_catch_all(cap):
            return Captured("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                              ("X-Kapacitor-Version", "1.8.3")], b"404 page not found\n")
        return cap


class Options204(Mutant):
    name = "options-204"
    rule = "OPTIONS answers 204 (the ServeOptions handler) instead of the CORS wrapper's empty 200"
    kills = ("methods.options",)
    select = ("methods.options",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if environ["REQUEST_METHOD"] == "OPTIONS":
            cap.status = "204 No Content"
        return cap


def _json_body(environ: dict[str, Any]) -> tuple[Any, bytes]:
    data = read_body(environ)
    try:
        return json.loads(data.decode("utf-8")), data
    except ValueError:
        return None, data


class TrailingDataRejected(Mutant):
    name = "json-trailing-rejected"
    rule = "a body with bytes after the JSON value is rejected (strict parser)"
    kills = ("json.trailing-data",)
    select = ("json.trailing-data",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] in ("POST", "PATCH"):
            body, data = _json_body(environ)
            if body is None and data.strip():
                try:
                    json.JSONDecoder().raw_decode(data.decode("utf-8"))
                except ValueError:
                    pass
                else:
                    return error(400, "invalid JSON")
        return call(self.app, environ)


class PythonSyntaxErrors(Mutant):
    """Decodes bodies the way Python's json module does: it names the first byte of a value it
    could not read, reads `1.x` as the number 1, and knows no `unexpected EOF`."""

    name = "json-python-syntax-errors"
    rule = "a malformed body fails with the words of a value-level parser, not Go's byte-level scanner"
    kills = ("json.syntax-errors",)
    select = ("json.syntax-errors",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/replays":
            body, data = _json_body(environ)
            if body is None and data.strip():
                try:
                    json.JSONDecoder().raw_decode(data.decode("utf-8", "replace").lstrip())
                except json.JSONDecodeError as exc:
                    where = data.decode("utf-8", "replace").lstrip()[exc.pos:exc.pos + 1] or " "
                    return error(400, f"invalid character {where!r} looking for beginning of value")
                else:
                    return error(400, "json: cannot unmarshal number into Go value of type client.CreateReplayOptions")
        return call(self.app, environ)


class GzipIgnored(Mutant):
    """Never compresses: `Accept-Encoding` is dropped before the handlers see it."""

    name = "gzip-ignored"
    rule = "answers are not compressed when the client accepts gzip"
    kills = ("headers.gzip",)
    select = ("headers.gzip",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        environ.pop("HTTP_ACCEPT_ENCODING", None)
        return call(self.app, environ)


class KeysCaseSensitive(Mutant):
    name = "json-keys-case-sensitive"
    rule = "request keys must be spelled in lower case (others are ignored)"
    kills = ("json.key-case",)
    select = ("json.key-case",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks":
            body, _ = _json_body(environ)
            if isinstance(body, dict):
                set_body(environ, json.dumps({k: v for k, v in body.items() if k == k.lower()}).encode())
        return call(self.app, environ)


class EnumCaseInsensitive(Mutant):
    name = "json-enum-case-insensitive"
    rule = "enum strings are matched ignoring case and spaces (`Enabled` is accepted)"
    kills = ("json.enum-values",)
    select = ("json.enum-values",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] in ("POST", "PATCH") and path(environ).startswith(V1 + "/tasks"):
            body, _ = _json_body(environ)
            if isinstance(body, dict) and isinstance(body.get("status"), str) and body["status"].strip():
                body["status"] = body["status"].strip().lower()
                set_body(environ, json.dumps(body).encode())
        return call(self.app, environ)


class EmptyEnumAsAbsent(Mutant):
    name = "json-empty-enum-absent"
    rule = "an empty enum string (`status: \"\"`) counts as absent instead of a decode error"
    kills = ("json.enum-values",)
    select = ("json.enum-values",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] in ("POST", "PATCH") and path(environ).startswith(V1 + "/tasks"):
            body, _ = _json_body(environ)
            if isinstance(body, dict) and body.get("status") == "":
                del body["status"]
                set_body(environ, json.dumps(body).encode())
        return call(self.app, environ)


class EnumNullRejected(Mutant):
    name = "json-enum-null-rejected"
    rule = "`null` for an enum field is a decode error instead of no value"
    kills = ("json.enum-null",)
    select = ("json.enum-null",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks":
            body, _ = _json_body(environ)
            if isinstance(body, dict) and "status" in body and body["status"] is None:
                return error(400, "invalid JSON")
        return call(self.app, environ)


class DuplicateKeyFirstWins(Mutant):
    name = "json-duplicate-first-wins"
    rule = "of a key given twice, the first value wins (Go: the last)"
    kills = ("json.duplicate-keys",)
    select = ("json.duplicate-keys",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks":
            data = read_body(environ)

            def first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
                out: dict[str, Any] = {}
                for k, v in pairs:
                    out.setdefault(k, v)
                return out

            try:
                body = json.loads(data.decode("utf-8"), object_pairs_hook=first)
            except ValueError:
                return call(self.app, environ)
            set_body(environ, json.dumps(body).encode())
        return call(self.app, environ)


class RequestTypeHonoured(Mutant):
    name = "request-type-honoured"
    rule = "a task's `type` is taken from the request instead of inferred from the script"
    kills = ("json.type-inferred",)
    select = ("json.type-inferred[tasks]",)
    family = "/tasks"

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + self.family:
            body, _ = _json_body(environ)
            cap = call(self.app, environ)
            if isinstance(body, dict) and body.get("type") in ("stream", "batch") and cap.code == 200:
                _rewrite_json(cap, lambda b: {**b, "type": body["type"]} if isinstance(b, dict) else b)
            return cap
        return call(self.app, environ)


class TemplateTypeHonoured(RequestTypeHonoured):
    name = "template-type-honoured"
    rule = "a template's `type` is taken from the request instead of inferred from the script"
    select = ("json.type-inferred[templates]",)
    family = "/templates"


def _create_id(environ: dict[str, Any], where: str) -> tuple[dict[str, Any] | None, str | None]:
    if environ["REQUEST_METHOD"] != "POST" or not re.fullmatch(where, path(environ)):
        return None, None
    body, _ = _json_body(environ)
    ident = body.get("id") if isinstance(body, dict) else None
    return (body if isinstance(body, dict) else None), (ident if isinstance(ident, str) else None)


class IdMustStartAlnum(Mutant):
    name = "id-start-alnum"
    rule = "task IDs must start with a letter or digit (`-x`, `.x`, `_x` are rejected)"
    kills = ("ids.edges",)
    select = ("ids.edges[tasks]",)
    where = V1 + "/tasks"
    kind = "task"

    def handle(self, environ: dict[str, Any]) -> Captured:
        _, ident = _create_id(environ, re.escape(self.where))
        if ident and ident[0] in "-._":
            return error(400, f"{self.kind} ID must contain only letters, numbers, '-', '.' and '_'. {ident!r}")
        return call(self.app, environ)


class RecordingIdMustStartAlnum(IdMustStartAlnum):
    name = "recording-id-start-alnum"
    rule = "recording IDs must start with a letter or digit"
    select = ("ids.edges[recordings]",)
    where = V1 + "/recordings/query"
    kind = "recording"


class ReplayIdMustStartAlnum(IdMustStartAlnum):
    name = "replay-id-start-alnum"
    rule = "replay IDs must start with a letter or digit"
    select = ("ids.edges[replays]",)
    where = V1 + "/replays"
    kind = "replay"


class TemplateIdMustStartLetter(Mutant):
    name = "template-id-start-letter"
    rule = "template IDs must start with a letter (`0x`, `9x` are rejected)"
    kills = ("ids.edges",)
    select = ("ids.edges[templates]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        _, ident = _create_id(environ, re.escape(V1 + "/templates"))
        if ident and ident[0].isdigit():
            return error(400, f"template ID must contain only letters, numbers, '-', '.' and '_'. {ident!r}")
        return call(self.app, environ)


class TaskIdAllows(Mutant):
    """Accept a character other ID kinds allow: stored under a stand-in, answered under the original."""

    name = "task-id-allows-colon"
    rule = "task IDs accept `:` (only topic IDs do)"
    kills = ("ids.edges",)
    select = ("ids.edges[tasks]",)
    extra = ":"

    def handle(self, environ: dict[str, Any]) -> Captured:
        body, ident = _create_id(environ, re.escape(V1 + "/tasks"))
        if body is not None and ident and self.extra in ident:
            stand_in = ident.replace(self.extra, "_")
            body["id"] = stand_in
            set_body(environ, json.dumps(body).encode())
            cap = call(self.app, environ)
            cap.body = cap.body.replace(stand_in.encode(), ident.encode())
            return cap
        return call(self.app, environ)


class TaskIdAllowsAt(TaskIdAllows):
    name = "task-id-allows-at"
    rule = "task IDs accept `@` (only usernames do)"
    extra = "@"


class HandlerIdAsciiStart(Mutant):
    name = "handler-id-ascii-start"
    rule = "handler IDs must start with an ASCII character"
    kills = ("ids.edges",)
    select = ("ids.edges[handlers]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        _, ident = _create_id(environ, r"/kapacitor/v1/alerts/topics/[^/]+/handlers")
        if ident and not ident[0].isascii():
            return error(400, "invalid handler spec: handler ID must contain only letters, numbers, '-', '.' and "
                         f"'_'. {ident!r}")
        return call(self.app, environ)


class TopicRejectsColon(Mutant):
    name = "topic-rejects-colon"
    rule = "topic IDs reject `:` like handler IDs"
    kills = ("ids.topic-colon",)
    select = ("ids.topic-colon",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = re.match(r"^/kapacitor/v1/alerts/topics/([^/]+)", path(environ))
        if m and ":" in m.group(1):
            return error(400, "invalid topic ID")
        return call(self.app, environ)


def _map_paging(environ: dict[str, Any], change: Callable[[str], str | None]) -> None:
    items = []
    for k, v in query(environ):
        if k in ("offset", "limit"):
            new = change(v)
            if new is None:
                continue
            v = new
        items.append((k, v))
    set_query(environ, items)


class PagingLenient(Mutant):
    name = "paging-lenient"
    rule = "offset/limit are parsed leniently (Python int(): spaces and `_` allowed; junk ignored)"
    kills = ("pagination.strict-int",)
    select = ("pagination.strict-int[tasks-offset]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            def lenient(v: str) -> str | None:
                try:
                    return str(int(v))
                except ValueError:
                    return None
            _map_paging(environ, lenient)
        return call(self.app, environ)


class LimitFloatTruncated(Mutant):
    name = "limit-float-truncated"
    rule = "a decimal limit is truncated (`1.5` → 1) instead of rejected"
    kills = ("pagination.strict-int",)
    select = ("pagination.strict-int[templates-limit]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            _map_paging(environ, lambda v: str(int(float(v))) if re.fullmatch(r"\d+\.\d+", v) else v)
        return call(self.app, environ)


class PlusSignRejected(Mutant):
    name = "paging-plus-rejected"
    rule = "offset/limit with a sign or leading zeros (`+1`, `001`) are rejected"
    kills = ("pagination.int-syntax",)
    select = ("pagination.int-syntax[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ) and any(k in ("offset", "limit") and (v.startswith("+") or re.fullmatch(r"0\d+", v))
                                         for k, v in query(environ)):
            return error(400, "invalid offset")
        return call(self.app, environ)


def _utf16_key(s: str) -> bytes:
    return s.encode("utf-16-be")


class ListOrderUtf16(Mutant):
    name = "list-order-utf16"
    rule = "task lists are sorted in UTF-16 order (astral characters before U+FF5A)"
    kills = ("pagination.order-astral",)
    select = ("pagination.order-astral[tasks]",)
    family = "tasks"

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if self.is_list(environ, self.family) and isinstance(body, dict) and isinstance(body.get(self.family), list):
            body[self.family].sort(key=lambda it: _utf16_key(str(it.get("id", ""))))
            cap.set_json(body)
        return cap


class TemplateOrderUtf16(ListOrderUtf16):
    name = "template-order-utf16"
    rule = "template lists are sorted in UTF-16 order"
    select = ("pagination.order-astral[templates]",)
    family = "templates"


class ListOrderCaseless(ListOrderUtf16):
    name = "list-order-caseless"
    rule = "task lists are sorted ignoring case"
    kills = ("pagination.order",)
    select = ("pagination.order[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if self.is_list(environ, "tasks") and isinstance(body, dict) and isinstance(body.get("tasks"), list):
            body["tasks"].sort(key=lambda it: str(it.get("id", "")).casefold())
            cap.set_json(body)
        return cap


def _rune_glob(pattern: str) -> re.Pattern[str] | None:
    """The glob as a regex over characters (not bytes): what a Python port usually does."""
    out, i = [], 0
    try:
        while i < len(pattern):
            c = pattern[i]
            if c == "*":
                out.append("[^/]*")
            elif c == "?":
                out.append("[^/]")
            elif c == "\\":
                i += 1
                out.append(re.escape(pattern[i]))
            elif c == "[":
                j = pattern.index("]", i + 1)
                inner = pattern[i + 1:j]
                neg = inner.startswith("^")
                inner = inner[1:] if neg else inner
                out.append("[" + ("^" if neg else "") + inner.replace("\\", "\\\\") + "]")
                i = j
            else:
                out.append(re.escape(c))
            i += 1
        return re.compile("".join(out) + r"\Z")
    except (ValueError, IndexError, re.error):
        return None


class _Relist(Mutant):
    """Answers a filtered task list with its own matcher instead of Go's path.Match."""

    kills = ("pattern.glob",)
    select = ("pattern.glob[tasks]",)

    def matches(self, pattern: str, ident: str) -> bool:
        raise NotImplementedError

    def handle(self, environ: dict[str, Any]) -> Captured:
        q = query(environ)
        pattern = next((v for k, v in q if k == "pattern"), "")
        if not (self.is_list(environ, "tasks") and pattern):
            return call(self.app, environ)
        offset = next((int(v) for k, v in q if k == "offset" and re.fullmatch(r"\d+", v)), 0)
        limit = next((int(v) for k, v in q if k == "limit" and re.fullmatch(r"\d+", v)), 100)
        set_query(environ, [(k, v) for k, v in q if k not in ("pattern", "offset", "limit")] + [("limit", "1000000")])
        cap = call(self.app, environ)
        body = cap.json()
        if isinstance(body, dict) and isinstance(body.get("tasks"), list):
            kept = [it for it in body["tasks"] if self.matches(pattern, str(it.get("id", "")))]
            body["tasks"] = kept[offset:offset + limit]
            cap.set_json(body)
        return cap


def _go_match(pattern: str, ident: str) -> bool:
    """Go's path.Match, a malformed pattern matching nothing (as the task store lists)."""
    from conformance.gomatch import BadPattern, go_path_match

    try:
        return go_path_match(pattern, ident)
    except BadPattern:
        return False


class PatternBangNegates(_Relist):
    name = "pattern-bang-negates"
    rule = "`[!a]` negates a class (shell style); in Go `!` is literal and only `[^a]` negates"

    def matches(self, pattern: str, ident: str) -> bool:
        return _go_match(pattern.replace("[!", "[^"), ident)


class PatternRuneStar(_Relist):
    name = "pattern-rune-star"
    rule = "`*` and `?` work on characters, not on UTF-8 bytes (a star never stops inside a rune)"

    def matches(self, pattern: str, ident: str) -> bool:
        rx = _rune_glob(pattern)
        return bool(rx and rx.match(ident))


class PatternBackslashLiteral(_Relist):
    name = "pattern-backslash-literal"
    rule = "a backslash in a pattern is a literal character instead of an escape"

    def matches(self, pattern: str, ident: str) -> bool:
        return _go_match(pattern.replace("\\", "\\\\"), ident)


class PatternCaseless(_Relist):
    name = "pattern-caseless"
    rule = "patterns match ignoring case"

    def matches(self, pattern: str, ident: str) -> bool:
        return _go_match(pattern.lower(), ident.lower())


class DeleteLeavesListed(Mutant):
    """DELETE answers 204 and GET forgets the item, but the list still shows it."""

    name = "delete-leaves-listed"
    rule = "a deleted task is still listed"
    kills = ("deletes.unlisted",)
    select = ("deletes.unlisted[task]",)
    family = "tasks"
    deleted: set[str]

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.deleted = set()

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _ITEM.match(path(environ))
        if environ["REQUEST_METHOD"] == "DELETE" and m and m.group(1) == self.family:
            self.deleted.add(m.group(2))
        cap = call(self.app, environ)
        body = cap.json()
        if self.is_list(environ, self.family) and isinstance(body, dict) and isinstance(body.get(self.family), list):
            from conformance.gomatch import BadPattern, go_path_match

            pattern = next((v for k, v in query(environ) if k == "pattern"), "")
            for ident in sorted(self.deleted):
                try:
                    hit = not pattern or go_path_match(pattern, ident)
                except BadPattern:
                    hit = False
                if hit:
                    body[self.family].append({"id": ident, "link": {"rel": "self",
                                                                    "href": f"{V1}/{self.family}/{ident}"}})
            cap.set_json(body)
        return cap


class RecordingDeleteLeavesListed(DeleteLeavesListed):
    name = "recording-delete-leaves-listed"
    rule = "a deleted recording is still listed"
    select = ("deletes.unlisted[recording]",)
    family = "recordings"


class ExecutingAlwaysFalse(Mutant):
    name = "executing-false"
    rule = "`executing` is false even for an enabled task"
    kills = ("lifecycle.task-executing",)
    select = ("lifecycle.task-executing",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if path(environ).startswith(V1 + "/tasks") and b'"executing"' in cap.body:
            _rewrite_json(cap, lambda b: _walk(b, lambda d: d.update(executing=False) if "executing" in d else None))
        return cap


class BatchDotFromSource(Mutant):
    name = "batch-dot-source"
    rule = "a batch task's dot starts at a `batch0` node (real: the batch source emits no edge)"
    kills = ("lifecycle.dot",)
    select = ("lifecycle.dot[batch]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        cap.body = cap.body.replace(b"{\\nquery1 -\\u003e", b"{\\nbatch0 -\\u003e query1;\\nquery1 -\\u003e")
        cap.body = cap.body.replace(b"{\\nquery1 ->", b"{\\nbatch0 -> query1;\\nquery1 ->")
        return cap


class StreamDotLabels(Mutant):
    name = "stream-dot-unnumbered"
    rule = "node names in a task's dot lack their global index (`stream -> from`)"
    kills = ("lifecycle.dot",)
    select = ("lifecycle.dot[stream]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        cap.body = re.sub(rb"stream0 -(\\u003e|>) from1", rb"stream -\1 from", cap.body)
        return cap


class UnknownFieldIgnored(Mutant):
    name = "unknown-field-ignored"
    rule = "an unknown `fields` name is silently dropped"
    kills = ("fields.unknown-rejected",)
    select = ("fields.unknown-rejected[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            set_query(environ, [(k, v) for k, v in query(environ) if not (k == "fields" and v.startswith("kcf"))])
        return call(self.app, environ)


class DuplicateCreateOverwrites(Mutant):
    name = "duplicate-create-overwrites"
    rule = "creating an existing task ID replaces it (200) instead of a 400"
    kills = ("lifecycle.duplicate-create",)
    select = ("lifecycle.duplicate-create[tasks]",)
    family = "tasks"

    def handle(self, environ: dict[str, Any]) -> Captured:
        _, ident = _create_id(environ, re.escape(f"{V1}/{self.family}"))
        if ident:
            probe = dict(environ, REQUEST_METHOD="GET", QUERY_STRING="", PATH_INFO=f"{V1}/{self.family}/{ident}")
            probe["wsgi.input"], probe["CONTENT_LENGTH"] = io.BytesIO(b""), "0"
            if call(self.app, probe).code == 200:
                call(self.app, dict(probe, REQUEST_METHOD="DELETE"))
        return call(self.app, environ)


class DuplicateTemplateOverwrites(DuplicateCreateOverwrites):
    name = "duplicate-template-overwrites"
    rule = "creating an existing template ID replaces it"
    select = ("lifecycle.duplicate-create[templates]",)
    family = "templates"


class BothDbrpsAccepted(Mutant):
    name = "both-dbrps-accepted"
    rule = "a task with implicit and explicit dbrps is accepted (explicit ones dropped)"
    kills = ("status.server", "errors.message")
    select = ("status.server[createTask.both-dbrps]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        body, _ = _create_id(environ, re.escape(V1 + "/tasks"))
        if body is not None and "dbrp " in str(body.get("script", "")) and body.get("dbrps"):
            body.pop("dbrps")
            set_body(environ, json.dumps(body).encode())
        return call(self.app, environ)


class ImplicitDbrpIgnored(Mutant):
    name = "implicit-dbrp-ignored"
    rule = "`dbrp` statements in the script are ignored (a task without `dbrps` is rejected)"
    kills = ("lifecycle.implicit-dbrp",)
    select = ("lifecycle.implicit-dbrp",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        body, _ = _create_id(environ, re.escape(V1 + "/tasks"))
        if body is not None and "dbrp " in str(body.get("script", "")) and not body.get("dbrps"):
            return error(400, "must specify dbrp")
        return call(self.app, environ)


class Message15(Mutant):
    name = "message-on-1.5"
    rule = "a server claiming 1.5.9 sends `message` in error bodies (added only in 1.6)"
    kills = ("versions.error-keys",)
    select = ("versions.error-keys",)

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(_mock_15(app))

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code >= 400 and isinstance(body, dict) and "error" in body and "message" not in body:
            cap.set_json({"error": body["error"], "message": body["error"]})
        return cap


class ErrorKeysSwapped(Mutant):
    name = "error-keys-swapped"
    rule = "error bodies put `message` before `error`"
    kills = ("versions.error-keys",)
    select = ("versions.error-keys",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code >= 400 and isinstance(body, dict) and "message" in body:
            cap.set_json({"message": body["message"], "error": body["error"]})
        return cap


class ErrorCompact(Mutant):
    name = "error-compact"
    rule = "error bodies are compact JSON with a newline (json.Encoder), not MarshalIndent"
    kills = ("versions.error-format",)
    select = ("versions.error-format",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code >= 400 and isinstance(body, dict):
            cap.body = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        return cap


class GenericErrorTexts(Mutant):
    name = "generic-error-texts"
    rule = "every error says `bad request` instead of the real message"
    kills = ("errors.message",)
    select = ("errors.message[getTask*]", "errors.message[createTask*]")

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code >= 400 and isinstance(body, dict) and "error" in body:
            cap.set_json({k: "bad request" for k in body})
        return cap


class TemplateIdField15(Mutant):
    name = "template-id-field-on-1.5"
    rule = "a server claiming 1.5.9 lists the task field `template-id` (added in 1.6.2)"
    kills = ("fields.template-id",)
    select = ("fields.template-id",)

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(_mock_15(app))

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ, "tasks"):
            set_query(environ, [(k, v) for k, v in query(environ) if not (k == "fields" and v == "template-id")])
            cap = call(self.app, environ)
            _rewrite_json(cap, lambda b: {"tasks": [{"id": t.get("id"), "link": t.get("link")}
                                                    for t in b.get("tasks", [])]} if isinstance(b, dict) else b)
            return cap
        return call(self.app, environ)


class DeletedTopicStillServed(Mutant):
    name = "topic-delete-ignored"
    rule = "DELETE of a topic answers 204 but the topic stays"
    kills = ("deletes.topic",)
    select = ("deletes.topic",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "DELETE" and re.fullmatch(r"/kapacitor/v1/alerts/topics/[^/]+", path(environ)):
            return Captured("204 No Content", [("Content-Type", "application/json; charset=utf-8"),
                                               ("X-Kapacitor-Version", "1.8.3")], b"")
        return call(self.app, environ)


class VersionHeaderPlaceholderEverywhere(VersionHeaderString):
    """The same broken server, caught by the per-route rows instead of the single value check."""

    name = "version-header-placeholder-rows"
    rule = "every response (ping too) carries the same placeholder X-Kapacitor-Version, not a version"
    kills = ("headers.version",)
    select = ("headers.version",)


class GetTaskWrongId(Mutant):
    name = "get-task-wrong-id"
    rule = "GET of a task answers an object whose `id` is not the task asked for (its link still resolves)"
    kills = ("links.resolve",)
    select = ("links.resolve[task]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if environ["REQUEST_METHOD"] == "GET" and _TASK_ITEM.fullmatch(path(environ)) and isinstance(body, dict):
            body["id"] = f"other-{body.get('id')}"
            cap.set_json(body)
        return cap


class CreateAnswersCannedId(Mutant):
    name = "create-answers-canned-id"
    rule = "creating a task answers a canned object (id `string`), not the task created under the ID asked for"
    kills = ("deletes.twice-204",)
    select = ("deletes.twice-204[task]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks" and isinstance(body, dict):
            body["id"] = "string"
            cap.set_json(body)
        return cap


class SuccessUndocumentedStatus(Mutant):
    name = "success-undocumented-status"
    rule = ("a create, and a GET of the object it made (where its links lead), answer 203 instead of 200: "
            "a code the spec never documents")
    kills = ("schema.stateful",)
    select = ("schema.stateful",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        p, method = path(environ), environ["REQUEST_METHOD"]
        item = _ITEM.match(p) or _HANDLER.match(p)
        create = method == "POST" and (_LISTS.match(p) or p.endswith("/handlers"))
        if cap.code == 200 and ((method == "GET" and item) or create):
            cap.status = "203 Non-Authoritative Information"
        return cap


MUTANTS.extend([
    VersionHeaderString, WrongMethod405, WrongMethodServedAsGet, UnknownRoute400, UnknownRouteText, Options204,
    TrailingDataRejected, KeysCaseSensitive, EnumCaseInsensitive, EmptyEnumAsAbsent, EnumNullRejected,
    DuplicateKeyFirstWins, RequestTypeHonoured, TemplateTypeHonoured, IdMustStartAlnum, RecordingIdMustStartAlnum,
    ReplayIdMustStartAlnum, TemplateIdMustStartLetter, TaskIdAllows, TaskIdAllowsAt, HandlerIdAsciiStart,
    TopicRejectsColon, PagingLenient, LimitFloatTruncated, PlusSignRejected, ListOrderUtf16, TemplateOrderUtf16,
    ListOrderCaseless, PatternBangNegates, PatternRuneStar, PatternBackslashLiteral, PatternCaseless,
    DeleteLeavesListed, RecordingDeleteLeavesListed, ExecutingAlwaysFalse, BatchDotFromSource, StreamDotLabels,
    UnknownFieldIgnored, DuplicateCreateOverwrites, DuplicateTemplateOverwrites, BothDbrpsAccepted,
    ImplicitDbrpIgnored, Message15, ErrorKeysSwapped, ErrorCompact, GenericErrorTexts, TemplateIdField15,
    DeletedTopicStillServed, VersionHeaderPlaceholderEverywhere, GetTaskWrongId,
    CreateAnswersCannedId, SuccessUndocumentedStatus,
])


class DeleteServesCache(Mutant):
    """A read cache the DELETE does not invalidate: the item answers GET after its 204."""

    name = "delete-serves-cache"
    rule = "GET of a deleted task still answers the task (a read cache not invalidated on DELETE)"
    kills = ("deletes.gone",)
    select = ("deletes.gone[task]",)
    cached: dict[str, Captured]

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.cached = {}

    def handle(self, environ: dict[str, Any]) -> Captured:
        p = path(environ)
        if _TASK_ITEM.match(p) and environ["REQUEST_METHOD"] == "DELETE":
            probe = dict(environ, REQUEST_METHOD="GET", QUERY_STRING="", CONTENT_LENGTH="0")
            probe["wsgi.input"] = io.BytesIO(b"")
            before = call(self.app, probe)
            cap = call(self.app, environ)
            if cap.code == 204 and before.code == 200:
                self.cached[p] = before
            return cap
        if _TASK_ITEM.match(p) and environ["REQUEST_METHOD"] == "GET" and p in self.cached:
            return self.cached[p]
        return call(self.app, environ)


class DefaultFieldsIdLink(Mutant):
    name = "default-fields-id-link"
    rule = "a list without `fields` answers only id and link (as if an empty `fields` selected nothing)"
    kills = ("fields.defaults",)
    select = ("fields.defaults[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ) and not any(k == "fields" for k, _ in query(environ)):
            set_query(environ, [*query(environ), ("fields", "id")])
        return call(self.app, environ)


class UnknownFieldAlwaysRejected(Mutant):
    """Validates `fields` before listing: the real server only meets a bad field on an item."""

    name = "unknown-field-always-rejected"
    rule = "an unknown field is a 400 even when no item is listed (validated up front)"
    kills = ("fields.unsupported",)
    select = ("fields.unsupported[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        fields = [(k, v) for k, v in query(environ) if k == "fields"]
        body = cap.json()
        if self.is_list(environ) and fields and cap.code == 200 and isinstance(body, dict) \
                and not any(isinstance(v, list) and v for v in body.values()):
            probe = dict(environ, QUERY_STRING=urlencode(fields))
            answer = call(self.app, probe)
            if answer.code == 400:
                return answer
        return cap


class ContentTypeNoCharset(Mutant):
    name = "content-type-no-charset"
    rule = "successful JSON answers are labelled `application/json` without the charset"
    kills = ("headers.content-type",)
    select = ("headers.content-type[listTasks*]", "headers.content-type[getTask*]")

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if cap.code < 400:
            cap.headers = [(k, "application/json" if k.lower() == "content-type" else v) for k, v in cap.headers]
        return cap


class RequestIdCounter(Mutant):
    name = "request-id-counter"
    rule = "Request-Id is a per-process counter, not a UUID"
    kills = ("headers.request-id",)
    select = ("headers.request-id[listTasks*]", "headers.request-id[getTask*]")
    served: int

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.served = 0

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        self.served += 1
        cap.headers = [(k, str(self.served) if k.lower() == "request-id" else v) for k, v in cap.headers]
        return cap


class IdQuotedRaw(Mutant):
    """Formats the invalid ID with `"%s"` instead of Go's `%q`: control characters go out unescaped."""

    name = "id-quoted-raw"
    rule = "the invalid-ID error quotes the ID without escaping it"
    kills = ("ids.message",)
    select = ("ids.message[*-tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if environ["REQUEST_METHOD"] == "POST" and cap.code == 400 and isinstance(body, dict):
            def raw(m: re.Match[str]) -> str:
                try:
                    return '"' + str(json.loads(m.group(0))) + '"'
                except ValueError:
                    return m.group(0)

            for key in ("error", "message"):
                if isinstance(body.get(key), str):
                    body[key] = re.sub(r'"(?:[^"\\]|\\.)*"', raw, body[key])
            cap.set_json(body)
        return cap


class TaskEnabledByDefault(Mutant):
    name = "task-enabled-by-default"
    rule = "a task created without `status` starts enabled"
    kills = ("lifecycle.task-roundtrip",)
    select = ("lifecycle.task-roundtrip",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and path(environ) == V1 + "/tasks":
            body, _ = _body_id(environ)
            if body is not None and "status" not in body:
                set_body(environ, json.dumps({**body, "status": "enabled"}).encode())
        return call(self.app, environ)


class PreviewLinksPreview(Mutant):
    name = "preview-links-preview"
    rule = "answers through /kapacitor/v1preview link to /kapacitor/v1preview paths (links built from the request)"
    kills = ("links.preview-v1",)
    select = ("links.preview-v1",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if path(environ).startswith("/kapacitor/v1preview/"):
            cap.body = cap.body.replace(b'"/kapacitor/v1/', b'"/kapacitor/v1preview/')
        return cap


class LinksPercentEncoded(Mutant):
    name = "links-percent-encoded"
    rule = "link hrefs percent-encode non-ASCII ID characters"
    kills = ("links.unicode-id",)
    select = ("links.unicode-id",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        from urllib.parse import quote

        cap = call(self.app, environ)
        body = cap.json()
        if isinstance(body, dict) and isinstance(body.get("link"), dict) and isinstance(body["link"].get("href"), str):
            body["link"]["href"] = quote(body["link"]["href"])
            cap.set_json(body)
        return cap


class NegativeLimitEmpty(Mutant):
    name = "negative-limit-empty"
    rule = "a negative limit counts as 0 (an empty page) on every list"
    kills = ("pagination.negative-limit",)
    select = ("pagination.negative-limit[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if self.is_list(environ):
            set_query(environ, [(k, "0" if k == "limit" and v.startswith("-") else v) for k, v in query(environ)])
        return call(self.app, environ)


class EmptyListNull(Mutant):
    """A Go re-implementation that encodes a nil slice: an empty window comes out as `null`."""

    name = "empty-list-null"
    rule = "a list window with no items answers `null` instead of `[]`"
    kills = ("pagination.past-end",)
    select = ("pagination.past-end[tasks]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if self.is_list(environ) and cap.code == 200 and isinstance(body, dict):
            body = {k: (None if v == [] else v) for k, v in body.items()}
            cap.set_json(body)
        return cap


class EmptyListNullSchema(EmptyListNull):
    name = "empty-list-null-schema"
    rule = "the task list answers `tasks: null` when nothing matches (the spec's TaskList needs an array)"
    kills = ("schema.positive",)
    select = ("schema.positive[listTasks]",)


class InvalidBody422(Mutant):
    name = "invalid-body-422"
    rule = "a request body the server refuses answers 422 Unprocessable Entity instead of 400"
    kills = ("schema.negative",)
    select = ("schema.negative[createTask]",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if environ["REQUEST_METHOD"] in ("POST", "PATCH", "PUT") and cap.code == 400:
            cap.status = "422 Unprocessable Entity"
        return cap


class HandlerNotYetVisible(Mutant):
    """Registers new handlers (and the topic they create) asynchronously: the create answers before
    either can be found. A GET of a missing topic or handler answers a documented 404, so only a
    check that follows the create's links sees it."""

    name = "handler-not-yet-visible"
    rule = "a handler create answers before the handler and its topic are stored: the first request to either answers 404"
    kills = ("schema.stateful",)
    select = ("schema.stateful",)
    #: path -> the methods that would find the object there (the handler: read and edit; its
    #: topic: read; a PUT or PATCH of the topic path is the router's fallback, 404 anyway)
    pending: dict[str, frozenset[str]]

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.pending = {}

    def handle(self, environ: dict[str, Any]) -> Captured:
        p = path(environ)
        if environ["REQUEST_METHOD"] in self.pending.get(p, ()):
            del self.pending[p]
            return error(404, "no such object")
        cap = call(self.app, environ)
        body = cap.json()
        link = body.get("link") if isinstance(body, dict) else None
        href = link.get("href") if isinstance(link, dict) else None
        m = _HANDLER.match(href) if isinstance(href, str) else None
        if environ["REQUEST_METHOD"] == "POST" and cap.code == 200 and m and isinstance(href, str):
            self.pending[href] = frozenset({"GET", "PUT", "PATCH"})
            self.pending[f"{V1}/alerts/topics/{m.group(1)}"] = frozenset({"GET"})
        return cap


MUTANTS.extend([
    PythonSyntaxErrors, GzipIgnored, DeleteServesCache, DefaultFieldsIdLink, UnknownFieldAlwaysRejected, ContentTypeNoCharset, RequestIdCounter,
    IdQuotedRaw, TaskEnabledByDefault, PreviewLinksPreview, LinksPercentEncoded, NegativeLimitEmpty, EmptyListNull,
    EmptyListNullSchema, InvalidBody422, HandlerNotYetVisible,
])
