"""Broken servers for the resource families: templates, recordings, replays, alerts, config,
service tests, storage, users, Flux tasks and write. Same middleware style as mutants.py: each
breaks exactly one rule of real Kapacitor and names the check that must catch it.

Optional class attributes (see catalogue.py): `config` for the mock (a 1.5 target, auth, config
overrides off) and `args` for the suite (`--auth`, `--allow-writes`).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, ClassVar

from tests.conformance.mutants import Captured, Mutant, call, error, path, query, read_body, set_body

V1 = "/kapacitor/v1"
_TEMPLATE = re.compile(r"^/kapacitor/v1/templates/(.+)$")
_TASK = re.compile(r"^/kapacitor/v1/tasks/(.+)$")
_RECORDING = re.compile(r"^/kapacitor/v1/recordings/(.+)$")
_REPLAY = re.compile(r"^/kapacitor/v1/replays/(.+)$")
_TOPIC = re.compile(r"^/kapacitor/v1/alerts/topics/([^/]+)$")
_HANDLERS = re.compile(r"^/kapacitor/v1/alerts/topics/([^/]+)/handlers$")
_HANDLER = re.compile(r"^/kapacitor/v1/alerts/topics/([^/]+)/handlers/([^/]+)$")
_EVENTS = re.compile(r"^/kapacitor/v1/alerts/topics/([^/]+)/events$")
_USER = re.compile(r"^/kapacitor/v1/users/(.+)$")
_FLUX = re.compile(r"^/kapacitor/v1/api/v2/tasks(/.*)?$")


def sub(environ: dict[str, Any], method: str, target: str, body: Any = None, qs: str = "") -> dict[str, Any]:
    """A fresh request to the wrapped mock, carrying the original's connection details."""
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    env = dict(environ, REQUEST_METHOD=method, PATH_INFO=target, QUERY_STRING=qs, CONTENT_LENGTH=str(len(data)))
    env["wsgi.input"] = io.BytesIO(data)
    for key in ("RAW_URI", "REQUEST_URI"):
        env.pop(key, None)
    return env


def json_body(environ: dict[str, Any]) -> Any:
    try:
        return json.loads(read_body(environ).decode("utf-8"))
    except ValueError:
        return None


def method(environ: dict[str, Any]) -> str:
    return str(environ["REQUEST_METHOD"])


def rewrite(cap: Captured, fn: Any) -> Captured:
    """Apply `fn` to the JSON body (in place) and re-encode it."""
    body = cap.json()
    if body is not None:
        fn(body)
        cap.set_json(body)
    return cap


class Family(Mutant):
    config: ClassVar[dict[str, Any]] = {}
    args: ClassVar[tuple[str, ...]] = ()


# ------------------------------------------------------------------------------------ templates
class TemplateVarsDropped(Family):
    name = "template-vars-dropped"
    rule = "templates report no vars"
    kills = ("templates.vars",)
    select = ("templates.vars",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        p = path(environ)
        if cap.code == 200 and (p == V1 + "/templates" and method(environ) == "POST" or _TEMPLATE.match(p)):
            return rewrite(cap, lambda b: b.__setitem__("vars", {}) if isinstance(b, dict) else None)
        return cap


class TemplateTypeFromRequest(Family):
    name = "template-type-from-request"
    rule = "a template takes the request's `type` instead of inferring it from the script"
    kills = ("templates.type-inferred",)
    select = ("templates.type-inferred",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "POST" and path(environ) == V1 + "/templates":
            req = json_body(environ)
            cap = call(self.app, environ)
            if cap.code == 200 and isinstance(req, dict) and req.get("type"):
                return rewrite(cap, lambda b: b.__setitem__("type", req["type"]))
            return cap
        return call(self.app, environ)


class TaskTemplateVarsLost(Family):
    name = "task-template-vars-lost"
    rule = "a task created from a template does not keep its var overrides"
    kills = ("templates.task-vars",)
    select = ("templates.task-vars",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and _TASK.match(path(environ)) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("vars", {}) if b.get("template-id") else None)
        return cap


class MissingVarMessage(Family):
    name = "missing-var-message"
    rule = "a task missing a template var is refused with another message"
    kills = ("templates.missing-var",)
    select = ("templates.missing-var",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code == 400 and isinstance(body, dict) and "missing value for var" in str(body.get("error")):
            return error(400, "template var is missing")
        return cap


class UnknownTemplate404(Family):
    name = "unknown-template-404"
    rule = "a task naming an unknown template answers 404"
    kills = ("templates.unknown",)
    select = ("templates.unknown",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code == 400 and isinstance(body, dict) and str(body.get("error", "")).startswith("unknown template"):
            cap.status = "404 Not Found"
        return cap


class TemplateNotPropagated(Family):
    name = "template-not-propagated"
    rule = "a template's new script does not reach the tasks created from it"
    kills = ("templates.propagation", "lifecycle.template-update")
    select = ("templates.propagation", "lifecycle.template-update")
    scripts: ClassVar[dict[str, str]] = {}

    def handle(self, environ: dict[str, Any]) -> Captured:
        p = path(environ)
        cap = call(self.app, environ)
        body = cap.json()
        if not isinstance(body, dict) or cap.code != 200:
            return cap
        if method(environ) == "POST" and p == V1 + "/tasks" and body.get("template-id"):
            raw = call(self.app, sub(environ, "GET", f"{V1}/tasks/{body['id']}", qs="script-format=raw")).json()
            self.scripts[body["id"]] = raw["script"]
        elif method(environ) == "GET" and (m := _TASK.match(p)) and m.group(1) in self.scripts:
            body["script"] = self.scripts[m.group(1)]
            cap.set_json(body)
        return cap


class TemplateRenameKeepsOld(Family):
    name = "template-rename-keeps-old"
    rule = "a renamed template still answers under its old id"
    kills = ("templates.rename",)
    select = ("templates.rename",)
    renamed: ClassVar[dict[str, str]] = {}

    def handle(self, environ: dict[str, Any]) -> Captured:
        p = path(environ)
        m = _TEMPLATE.match(p)
        if m and method(environ) == "GET" and m.group(1) in self.renamed:
            return call(self.app, sub(environ, "GET", f"{V1}/templates/{self.renamed[m.group(1)]}"))
        if m and method(environ) == "PATCH":
            req = json_body(environ)
            cap = call(self.app, environ)
            if cap.code == 200 and isinstance(req, dict) and req.get("id"):
                self.renamed[m.group(1)] = req["id"]
            return cap
        return call(self.app, environ)


class TemplateRenameOverwrites(Family):
    name = "template-rename-overwrites"
    rule = "renaming a template onto an existing id replaces that template"
    kills = ("templates.rename-conflict",)
    select = ("templates.rename-conflict",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _TEMPLATE.match(path(environ))
        if m and method(environ) == "PATCH":
            req = json_body(environ)
            if isinstance(req, dict) and req.get("id") and req["id"] != m.group(1):
                call(self.app, sub(environ, "DELETE", f"{V1}/templates/{req['id']}"))
        return call(self.app, environ)


class TemplateDeleteCascades(Family):
    name = "template-delete-cascades"
    rule = "deleting a template deletes the tasks created from it"
    kills = ("templates.delete-keeps-tasks",)
    select = ("templates.delete-keeps-tasks",)
    tasks: ClassVar[dict[str, list[str]]] = {}

    def handle(self, environ: dict[str, Any]) -> Captured:
        p = path(environ)
        m = _TEMPLATE.match(p)
        if m and method(environ) == "DELETE":
            for tid in self.tasks.pop(m.group(1), []):
                call(self.app, sub(environ, "DELETE", f"{V1}/tasks/{tid}"))
        cap = call(self.app, environ)
        body = cap.json()
        if method(environ) == "POST" and p == V1 + "/tasks" and cap.code == 200 and isinstance(body, dict):
            if body.get("template-id"):
                self.tasks.setdefault(body["template-id"], []).append(body["id"])
        return cap


class TemplateListAlwaysVars(Family):
    name = "template-list-vars-default"
    rule = "template lists include `vars` among the default fields"
    kills = ("templates.list-vars",)
    select = ("templates.list-vars",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and path(environ) == V1 + "/templates" and cap.code == 200:
            if not any(k == "fields" for k, _ in query(environ)):
                return rewrite(cap, lambda b: [i.setdefault("vars", {}) for i in b.get("templates") or []])
        return cap


MUTANTS: list[type[Mutant]] = [
    TemplateVarsDropped, TemplateTypeFromRequest, TaskTemplateVarsLost, MissingVarMessage, UnknownTemplate404,
    TemplateNotPropagated, TemplateRenameKeepsOld, TemplateRenameOverwrites, TemplateDeleteCascades,
    TemplateListAlwaysVars,
]
