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
        if cap.code == 200 and ((p == V1 + "/templates" and method(environ) == "POST") or _TEMPLATE.match(p)):
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
        if (method(environ) == "POST" and p == V1 + "/tasks" and cap.code == 200 and isinstance(body, dict)
                and body.get("template-id")):
            self.tasks.setdefault(body["template-id"], []).append(body["id"])
        return cap


class TemplateListAlwaysVars(Family):
    name = "template-list-vars-default"
    rule = "template lists include `vars` among the default fields"
    kills = ("templates.list-vars",)
    select = ("templates.list-vars",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if (method(environ) == "GET" and path(environ) == V1 + "/templates" and cap.code == 200
                and not any(k == "fields" for k, _ in query(environ))):
            return rewrite(cap, lambda b: [i.setdefault("vars", {}) for i in b.get("templates") or []])
        return cap



# ----------------------------------------------------------------------------------- recordings
def _recording_answer(environ: dict[str, Any]) -> bool:
    p = path(environ)
    return (method(environ) == "POST" and p.startswith(V1 + "/recordings/")) or (
        method(environ) == "GET" and _RECORDING.match(p) is not None)


class RecordingTypeAlwaysStream(Family):
    name = "recording-type-stream"
    rule = "every recording reports type stream (batch recordings included)"
    kills = ("recordings.query", "recordings.batch")
    select = ("recordings.query", "recordings.batch")

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _recording_answer(environ) and cap.code in (200, 201, 202):
            return rewrite(cap, lambda b: b.__setitem__("type", "stream") if isinstance(b, dict) else None)
        return cap


class RecordingProgressStuck(Family):
    name = "recording-progress-stuck"
    rule = "a finished recording still reports progress 0"
    kills = ("recordings.query",)
    select = ("recordings.query",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and _RECORDING.match(path(environ)) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("progress", 0))
        return cap


class RecordingSizeText(Family):
    name = "recording-size-text"
    rule = "a recording's size is a text (\"0B\") instead of a byte count"
    kills = ("recordings.stream",)
    select = ("recordings.stream",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _recording_answer(environ) and cap.code in (200, 201, 202):
            return rewrite(cap, lambda b: b.__setitem__("size", f"{b.get('size')}B") if isinstance(b, dict) else None)
        return cap


class StreamRecordingDoneAtOnce(Family):
    name = "stream-recording-done-at-once"
    rule = "a stream recording claims to be finished the moment it is created"
    kills = ("recordings.stream",)
    select = ("recordings.stream",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "POST" and path(environ) == V1 + "/recordings/stream" and cap.code == 201:
            return rewrite(cap, lambda b: b.update(status="finished", progress=1))
        return cap


class RecordingDateNotRfc3339(Family):
    name = "recording-date-format"
    rule = "recording dates are written `YYYY-MM-DD HH:MM:SS` instead of RFC 3339"
    kills = ("recordings.query",)
    select = ("recordings.query",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _recording_answer(environ) and cap.code in (200, 201, 202):
            return rewrite(cap, lambda b: b.__setitem__("date", str(b.get("date", ""))[:19].replace("T", " ")))
        return cap


class FinishedRecordingError(Family):
    name = "finished-recording-error"
    rule = "a recording reports an error text although it finished"
    kills = ("recordings.query",)
    select = ("recordings.query",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and _RECORDING.match(path(environ)) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("error", "done") if b.get("status") == "finished" else None)
        return cap


# -------------------------------------------------------------------------------------- replays
class ReplayClockIgnored(Family):
    name = "replay-clock-ignored"
    rule = "a replay ignores `clock` and `recording-time`"
    kills = ("replays.options",)
    select = ("replays.options",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "POST" and path(environ) == V1 + "/replays":
            req = json_body(environ)
            if isinstance(req, dict):
                req.pop("clock", None)
                req.pop("recording-time", None)
                set_body(environ, json.dumps(req).encode())
        return call(self.app, environ)


class ReplayDefaultRealClock(Family):
    name = "replay-default-real-clock"
    rule = "a replay without `clock` runs on the real clock (default must be fast)"
    kills = ("replays.recording",)
    select = ("replays.recording",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "POST" and path(environ) == V1 + "/replays":
            req = json_body(environ)
            if isinstance(req, dict) and "clock" not in req:
                req["clock"] = "real"
                set_body(environ, json.dumps(req).encode())
        return call(self.app, environ)


class ReplayBatchNamesRecording(Family):
    name = "replay-batch-recording-field"
    rule = "a batch replay reports its own id as `recording`"
    kills = ("replays.batch",)
    select = ("replays.batch",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "POST" and path(environ) == V1 + "/replays/batch" and cap.code == 201:
            return rewrite(cap, lambda b: b.__setitem__("recording", b.get("id")))
        return cap


class ReplayQueryRecords(Family):
    name = "replay-query-records"
    rule = "a query replay also stores a recording"
    kills = ("replays.query",)
    select = ("replays.query",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "POST" and path(environ) == V1 + "/replays/query":
            req = json_body(environ)
            cap = call(self.app, environ)
            body = cap.json()
            if cap.code == 201 and isinstance(req, dict) and isinstance(body, dict):
                call(self.app, sub(environ, "POST", V1 + "/recordings/query",
                                   {"id": body["id"], "type": "stream", "query": req.get("query")}))
            return cap
        return call(self.app, environ)


class ReplayStatsInList(Family):
    name = "replay-list-stats"
    rule = "replay lists include `stats` among the default fields"
    kills = ("replays.stats",)
    select = ("replays.stats",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if (method(environ) == "GET" and path(environ) == V1 + "/replays" and cap.code == 200
                and not any(k == "fields" for k, _ in query(environ))):
            return rewrite(cap, lambda b: [i.setdefault("stats", {}) for i in b.get("replays") or []])
        return cap


class ReplayTaskBlank(Family):
    name = "replay-task-blank"
    rule = "a replay does not echo its task"
    kills = ("replays.recording",)
    select = ("replays.recording",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if ((_REPLAY.match(path(environ)) or path(environ) == V1 + "/replays") and cap.code in (200, 201, 202)
                and method(environ) != "DELETE"):
            return rewrite(cap, lambda b: b.__setitem__("task", "") if isinstance(b, dict) and "task" in b else None)
        return cap


# --------------------------------------------------- status rows of cases.py, one family rule each
class StatusSwap(Family):
    """Answer `to` instead of the server's code when a request of `verb` on `where` gets an error
    whose text contains `contains` (the row of cases.py named in `select`)."""

    verb: ClassVar[str] = "GET"
    where: ClassVar[str] = ""
    contains: ClassVar[str] = ""
    to: ClassVar[int] = 400

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) != self.verb or not re.fullmatch(self.where, path(environ)):
            return cap
        body = cap.json()
        if cap.code >= 400 and isinstance(body, dict) and self.contains in str(body.get("error", "")):
            reason = {400: "Bad Request", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity"}
            cap.status = f"{self.to} {reason.get(self.to, 'Error')}"
        return cap


def _swap(name: str, rule: str, verb: str, where: str, contains: str, to: int, row: str,
          level: str = "status.server", **extra: Any) -> type[Mutant]:
    attrs = {**extra, "name": name, "rule": rule, "verb": verb, "where": where, "contains": contains, "to": to,
             "kills": (level,), "select": (f"{level}[{row}]",) if row else (level,)}
    return type("Swap_" + re.sub(r"\W", "_", name), (StatusSwap,), attrs)


SWAPS: list[type[Mutant]] = [
    _swap("replay-missing-recording-500", "replaying a missing recording answers 500 (server: 404)", "POST",
          V1 + "/replays", "recording not found", 500, "createReplay.missing-recording"),
    _swap("replay-missing-task-400", "replaying into a missing task answers 400 (server: 404)", "POST",
          V1 + "/replays", "task load", 400, "createReplay.missing-task"),
    _swap("replay-batch-stream-task-500", "a batch replay of a stream task answers 500 (server: 400)", "POST",
          V1 + "/replays/batch", "cannot replay batch", 500, "replayBatch.stream-task"),
    _swap("record-batch-no-start-422", "a batch recording without start answers 422 (server: 400)", "POST",
          V1 + "/recordings/batch", "must provide start time", 422, "recordBatch.no-start"),
    _swap("record-stream-missing-task-400", "recording a missing task answers 400 (server: 404)", "POST",
          V1 + "/recordings/stream", "no task exists", 400, "recordStream.missing-task"),
    _swap("record-query-duplicate-409", "a duplicate recording id answers 409 (server: 500)", "POST",
          V1 + "/recordings/query", "already exists", 409, "recordQuery.duplicate"),
    _swap("get-replay-missing-500", "a missing replay answers 500 (docs and server: 404)", "GET",
          V1 + "/replays/.+", "no replay exists", 500, "getReplay.missing", "status.documented"),
    _swap("topic-events-missing-400", "events of a missing topic answer 400 (server: 500)", "GET",
          V1 + "/alerts/topics/[^/]+/events", "unknown topic", 400, "listTopicEvents.missing"),
    _swap("handler-duplicate-400", "a duplicate handler id answers 400 (server: 500)", "POST",
          V1 + "/alerts/topics/[^/]+/handlers", "already exists", 400, "createTopicHandler.duplicate"),
    _swap("config-section-unknown-400", "an unknown config section answers 400 (server: 404)", "GET",
          V1 + "/config/[^/]+", "unknown section", 400, "getConfigSection.unknown"),
    _swap("service-test-unknown-400", "an unknown service test answers 400 (server: 404)", "GET",
          V1 + "/service-tests/.+", "not found", 400, "getServiceTest.unknown"),
    _swap("store-unknown-400", "an action on an unknown store answers 400 (docs and server: 404)", "POST",
          V1 + "/storage/stores/.+", "unknown storage", 400, "runStoreAction.unknown", "status.documented"),
    _swap("handler-unknown-kind-400", "a handler of an unknown kind answers 400 (server: 500)", "POST",
          V1 + "/alerts/topics/[^/]+/handlers", "unsupported action kind", 400, "", "alerts.handler-errors"),
    _swap("patch-topic-change-400", "a JSON Patch changing the topic answers 400 (server: 500)", "PATCH",
          V1 + "/alerts/topics/[^/]+/handlers/[^/]+", "cannot change topic", 400, "", "alerts.patch-edges"),
    _swap("config-trailing-slash-404", "GET config/ answers 404 (server: 400)", "GET", V1 + "/config/",
          "section not specified", 404, "", "config.trailing-slash"),
    _swap("user-patch-missing-404", "PATCH of a missing user answers 404 (server: 500)", "PATCH", V1 + "/users/.+",
          "no user exists", 404, "", "users.errors", config={"auth": True}, args=("--auth", "admin:admin")),
]



# --------------------------------------------------------------------------------------- alerts
def _handler_answer(environ: dict[str, Any]) -> bool:
    p = path(environ)
    return bool(_HANDLER.match(p) or (_HANDLERS.match(p) and method(environ) == "POST"))


class HandlerOptionsLost(Family):
    name = "handler-options-lost"
    rule = "handlers of kinds other than log lose their options"
    kills = ("alerts.handler-kinds",)
    select = ("alerts.handler-kinds",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _handler_answer(environ) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("options", None) if b.get("kind") != "log" else None)
        return cap


class HandlerMatchMissing(Family):
    name = "handler-match-missing"
    rule = "handler bodies leave out `match`"
    kills = ("alerts.handler-match",)
    select = ("alerts.handler-match",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _handler_answer(environ) and cap.code == 200:
            return rewrite(cap, lambda b: b.pop("match", None))
        return cap


class UnknownOptionsAccepted(Family):
    name = "handler-unknown-options-accepted"
    rule = "unknown handler option keys are silently dropped instead of refused"
    kills = ("alerts.handler-errors",)
    select = ("alerts.handler-errors",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "POST" and _HANDLERS.match(path(environ)):
            req = json_body(environ)
            if isinstance(req, dict) and req.get("kind") == "log" and isinstance(req.get("options"), dict):
                req["options"] = {k: v for k, v in req["options"].items() if k in ("path", "mode")}
                set_body(environ, json.dumps(req).encode())
        return call(self.app, environ)


class PatchTestIgnored(Family):
    name = "patch-test-ignored"
    rule = "JSON Patch `test` operations are skipped instead of enforced"
    kills = ("alerts.patch-edges",)
    select = ("alerts.patch-edges",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "PATCH" and _HANDLER.match(path(environ)):
            req = json_body(environ)
            if isinstance(req, list):
                set_body(environ, json.dumps([op for op in req if not (isinstance(op, dict)
                                                                       and op.get("op") == "test")]).encode())
        return call(self.app, environ)


class PutRenameKeepsOld(Family):
    name = "put-rename-keeps-old"
    rule = "PUT with a new handler id copies the handler instead of renaming it"
    kills = ("alerts.put-rename",)
    select = ("alerts.put-rename",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _HANDLER.match(path(environ))
        if m and method(environ) == "PUT":
            req = json_body(environ)
            if isinstance(req, dict) and req.get("id") and req["id"] != m.group(2):
                return call(self.app, sub(environ, "POST", f"{V1}/alerts/topics/{m.group(1)}/handlers", req))
        return call(self.app, environ)


class DeleteTopicDropsHandlers(Family):
    name = "delete-topic-drops-handlers"
    rule = "deleting a topic deletes its handlers too"
    kills = ("alerts.delete-topic-keeps-handlers",)
    select = ("alerts.delete-topic-keeps-handlers",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _TOPIC.match(path(environ))
        if m and method(environ) == "DELETE":
            listed = call(self.app, sub(environ, "GET", f"{V1}/alerts/topics/{m.group(1)}/handlers")).json() or {}
            for h in listed.get("handlers") or []:
                call(self.app, sub(environ, "DELETE", f"{V1}/alerts/topics/{m.group(1)}/handlers/{h['id']}"))
        return call(self.app, environ)


class MinLevelIgnored(Family):
    name = "min-level-ignored"
    rule = "topic lists ignore `min-level`"
    kills = ("alerts.min-level",)
    select = ("alerts.min-level",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "GET" and path(environ) == V1 + "/alerts/topics":
            environ["QUERY_STRING"] = "&".join(p for p in environ.get("QUERY_STRING", "").split("&")
                                               if not p.startswith("min-level="))
        return call(self.app, environ)


class MinLevelExactNames(Family):
    name = "min-level-exact-names"
    rule = "`min-level` accepts only the exact upper-case level names"
    kills = ("alerts.min-level",)
    select = ("alerts.min-level",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "GET" and path(environ) == V1 + "/alerts/topics":
            for k, v in query(environ):
                if k == "min-level" and v and v not in ("OK", "INFO", "WARNING", "CRITICAL"):
                    return error(400, f"unknown alert level '{v.upper()}'")
        return call(self.app, environ)


class TopicListLinkNoQuery(Family):
    name = "topic-list-link-no-query"
    rule = "list links drop the raw query of the request"
    kills = ("alerts.list-links",)
    select = ("alerts.list-links",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        p = path(environ)
        if method(environ) == "GET" and (p == V1 + "/alerts/topics" or _HANDLERS.match(p)) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("link", {"rel": "self", "href": p}))
        return cap


class EventsNull(Family):
    name = "events-null"
    rule = "a topic without events lists `\"events\": null`"
    kills = ("alerts.events",)
    select = ("alerts.events",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and _EVENTS.match(path(environ)) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("events", b.get("events") or None))
        return cap


class BodyTopicWins(Family):
    name = "body-topic-wins"
    rule = "a `topic` in the handler body overrides the topic of the path"
    kills = ("alerts.path-topic-wins",)
    select = ("alerts.path-topic-wins",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _HANDLERS.match(path(environ))
        if m and method(environ) == "POST":
            req = json_body(environ)
            if isinstance(req, dict) and isinstance(req.get("topic"), str) and req["topic"] != m.group(1):
                environ["PATH_INFO"] = f"{V1}/alerts/topics/{req['topic']}/handlers"
        return call(self.app, environ)


class HandlersUnsorted(Family):
    name = "handlers-unsorted"
    rule = "a topic's handlers are listed in reverse id order"
    kills = ("alerts.handlers-list",)
    select = ("alerts.handlers-list",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and _HANDLERS.match(path(environ)) and cap.code == 200:
            return rewrite(cap, lambda b: (b.get("handlers") or []).reverse())
        return cap


class TopicLevelLowercase(Family):
    name = "topic-level-lowercase"
    rule = "topic levels are written in lower case (`ok`)"
    kills = ("alerts.topic",)
    select = ("alerts.topic",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and _TOPIC.match(path(environ)) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("level", str(b.get("level", "")).lower()))
        return cap



# --------------------------------------------------------------------------------------- config
def _config_get(environ: dict[str, Any]) -> bool:
    return method(environ) == "GET" and (path(environ) == V1 + "/config" or path(environ).startswith(V1 + "/config/"))


def _elements(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    if "sections" in body:
        return [e for s in (body["sections"] or {}).values() for e in (s or {}).get("elements") or []]
    if "elements" in body:
        return list(body["elements"] or [])
    return [body] if "options" in body else []


class ConfigRedactionLeaks(Family):
    name = "config-redaction-leaks"
    rule = "redacted config options read as a masked string instead of a boolean"
    kills = ("config.redaction",)
    select = ("config.redaction",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _config_get(environ) and cap.code == 200:
            def mask(body: Any) -> None:
                for el in _elements(body):
                    for opt in el.get("redacted") or []:
                        el["options"][opt] = "******"
            return rewrite(cap, mask)
        return cap


class ConfigSectionLinkWrong(Family):
    name = "config-section-link"
    rule = "config sections link to /kapacitor/v1/config instead of themselves"
    kills = ("config.shape",)
    select = ("config.shape",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and path(environ) == V1 + "/config" and cap.code == 200:
            return rewrite(cap, lambda b: [sec.__setitem__("link", {"rel": "self", "href": V1 + "/config"})
                                           for sec in (b.get("sections") or {}).values()])
        return cap


class ConfigSectionDiffers(Family):
    name = "config-section-differs"
    rule = "GET of one config section leaves out `redacted`"
    kills = ("config.section-element",)
    select = ("config.section-element",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _config_get(environ) and path(environ).count("/") == 4 and cap.code == 200:
            return rewrite(cap, lambda b: [e.pop("redacted", None) for e in _elements(b)])
        return cap


class ConfigElementsUnsorted(Family):
    name = "config-elements-unsorted"
    rule = "a list section's elements are not sorted by name (an element `0` comes last)"
    kills = ("config.elements-sorted",)
    select = ("config.elements-sorted",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and path(environ) == V1 + "/config" and cap.code == 200:
            def shuffle(b: Any) -> None:
                section = (b.get("sections") or {}).get("influxdb") or {}
                elements = section.get("elements") or []
                if elements:
                    extra = json.loads(json.dumps(elements[0]))
                    extra["link"]["href"] = V1 + "/config/influxdb/0"
                    elements.append(extra)
            return rewrite(cap, shuffle)
        return cap


class ConfigBothActionsApplied(Family):
    name = "config-set-and-add"
    rule = "an override with both set and add is applied (add ignored) instead of refused"
    kills = ("config.update-refused",)
    select = ("config.update-refused",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "POST" and path(environ).startswith(V1 + "/config/"):
            req = json_body(environ)
            if isinstance(req, dict) and "set" in req and "add" in req:
                req.pop("add")
                set_body(environ, json.dumps(req).encode())
        return call(self.app, environ)


class ConfigDisabledMessage(Family):
    name = "config-disabled-404"
    rule = "with overrides disabled, config answers 404 instead of 403"
    kills = ("config.disabled",)
    select = ("config.disabled",)
    config: ClassVar[dict[str, Any]] = {"config_override": False}

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if path(environ).startswith(V1 + "/config") and cap.code == 403 and method(environ) == "POST":
            cap.status = "404 Not Found"
        return cap


# -------------------------------------------------------------------------------- service tests
def _services(environ: dict[str, Any]) -> bool:
    return method(environ) == "GET" and path(environ) == V1 + "/service-tests"


class ServicesUnsorted(Family):
    name = "service-tests-unsorted"
    rule = "service tests are listed in reverse name order"
    kills = ("services.list",)
    select = ("services.list",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _services(environ) and cap.code == 200:
            return rewrite(cap, lambda b: (b.get("services") or []).reverse())
        return cap


class ServiceGetOtherOptions(Family):
    name = "service-test-get-options"
    rule = "GET of one service test answers without its options"
    kills = ("services.get",)
    select = ("services.get",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and path(environ).startswith(V1 + "/service-tests/") and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("options", {}))
        return cap


class ServicesEmptyList(Family):
    name = "service-tests-empty-list"
    rule = "a pattern matching no service test lists [] (server: null)"
    kills = ("services.pattern",)
    select = ("services.pattern",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _services(environ) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("services", b.get("services") or []))
        return cap


class ServicesPatternIgnored(Family):
    name = "service-tests-pattern-ignored"
    rule = "service test lists ignore `pattern`"
    kills = ("services.pattern",)
    select = ("services.pattern",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if _services(environ):
            environ["QUERY_STRING"] = ""
        return call(self.app, environ)


class ServiceDefaultsBlank(Family):
    name = "service-test-defaults-blank"
    rule = "the smtp test's default subject and body are empty"
    kills = ("services.defaults",)
    select = ("services.defaults",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _services(environ) and cap.code == 200:
            def blank(b: Any) -> None:
                for svc in b.get("services") or []:
                    if svc.get("name") == "smtp":
                        svc["options"].update(subject="", body="")
            return rewrite(cap, blank)
        return cap


class ServiceBadOptionsRun(Family):
    name = "service-test-bad-options-run"
    rule = "a service test with options of the wrong type runs instead of being refused"
    kills = ("services.run-options",)
    select = ("services.run-options",)
    args: ClassVar[tuple[str, ...]] = ("--allow-config-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "POST" and path(environ).startswith(V1 + "/service-tests/") and cap.code == 400:
            return Captured("200 OK", [("Content-Type", "application/json; charset=utf-8")],
                            b'{"success":false,"message":"service is not enabled"}\n')
        return cap


# -------------------------------------------------------------------------------------- storage
class StoresLinkless(Family):
    name = "stores-linkless"
    rule = "stores are listed without their own links"
    kills = ("storage.stores",)
    select = ("storage.stores",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and path(environ) == V1 + "/storage/stores" and cap.code == 200:
            return rewrite(cap, lambda b: [st.pop("link", None) for st in b.get("storage") or []])
        return cap


class StoreActionMessageFixed(Family):
    name = "store-action-message"
    rule = "a store action without `action` gets a corrected message (server: \"unkown storage action\")"
    kills = ("storage.actions",)
    select = ("storage.actions",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if cap.code == 400 and isinstance(body, dict) and str(body.get("error", "")).startswith("unkown"):
            return error(400, "action is required")
        return cap


class BackupAsJson(Family):
    name = "backup-json-type"
    rule = "the backup is labelled application/json"
    kills = ("storage.backup",)
    select = ("storage.backup",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if path(environ) == V1 + "/storage/backup":
            cap.headers = [(k, v) for k, v in cap.headers if k.lower() != "content-type"]
            cap.headers.append(("Content-Type", "application/json; charset=utf-8"))
        return cap


class BackupNoDisposition(Family):
    name = "backup-no-disposition"
    rule = "the backup is not offered as the attachment kapacitor.db"
    kills = ("storage.backup",)
    select = ("storage.backup",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if path(environ) == V1 + "/storage/backup":
            cap.headers = [(k, v) for k, v in cap.headers if k.lower() != "content-disposition"]
        return cap



# ---------------------------------------------------------------------------------------- users
class AuthFamily(Family):
    config: ClassVar[dict[str, Any]] = {"auth": True}
    args: ClassVar[tuple[str, ...]] = ("--auth", "admin:admin")


class UserPermissionsSpelledOut(AuthFamily):
    name = "user-permissions-spelled-out"
    rule = "a user with every permission reads back the three names instead of [\"all\"]"
    kills = ("users.permissions",)
    select = ("users.permissions",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if path(environ).startswith(V1 + "/users") and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("permissions", ["api", "config_api", "write_points"])
                           if isinstance(b, dict) and b.get("permissions") == ["all"] else None)
        return cap


class UserPatchClearsPermissions(AuthFamily):
    name = "user-patch-clears-permissions"
    rule = "a user PATCH without `permissions` clears them"
    kills = ("users.permissions",)
    select = ("users.permissions",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "PATCH" and _USER.match(path(environ)):
            req = json_body(environ)
            if isinstance(req, dict) and "permissions" not in req:
                req["permissions"] = []
                set_body(environ, json.dumps(req).encode())
        return call(self.app, environ)


class Unauthenticated403(AuthFamily):
    name = "unauthenticated-403"
    rule = "requests without valid credentials answer 403 instead of 401"
    kills = ("users.authentication",)
    select = ("users.authentication",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if cap.code == 401:
            cap.status = "403 Forbidden"
        return cap


class NoAuthorization(AuthFamily):
    name = "no-authorization"
    rule = "any authenticated user may use every endpoint (permissions are not enforced)"
    kills = ("users.authorization",)
    select = ("users.authorization",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if cap.code == 403 and method(environ) == "GET":
            env = sub(environ, "GET", path(environ), qs=environ.get("QUERY_STRING", ""))
            env["HTTP_AUTHORIZATION"] = "Basic YWRtaW46YWRtaW4="  # admin:admin
            return call(self.app, env)
        return cap



# ----------------------------------------------------------------------------------- Flux tasks
class FluxFamily(Family):
    config: ClassVar[dict[str, Any]] = {"flux_tasks": True}


def _flux(environ: dict[str, Any]) -> bool:
    return _FLUX.match(path(environ)) is not None


class FluxRunsLinkMissing(FluxFamily):
    name = "flux-runs-link-missing"
    rule = "a Flux task has no `runs` link"
    kills = ("flux.shape",)
    select = ("flux.shape",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _flux(environ) and method(environ) == "POST" and cap.code == 201:
            return rewrite(cap, lambda b: (b.get("links") or {}).pop("runs", None))
        return cap


class FluxListLinkNoLimit(FluxFamily):
    name = "flux-list-link-no-limit"
    rule = "the Flux task list links to itself without the limit"
    kills = ("flux.shape",)
    select = ("flux.shape",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "GET" and path(environ) == V1 + "/api/v2/tasks" and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("links", {"self": V1 + "/api/v2/tasks"}))
        return cap


class FluxErrorsKapacitorStyle(FluxFamily):
    name = "flux-errors-v1-format"
    rule = "Flux task errors use the v1 `{\"error\": ...}` body instead of InfluxDB 2's {code, message}"
    kills = ("flux.errors",)
    select = ("flux.errors",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if _flux(environ) and cap.code >= 400 and isinstance(body, dict) and "code" in body:
            cap.set_json({"error": body.get("message"), "message": body.get("message")})
        return cap


class FluxNoPlatformHeader(FluxFamily):
    name = "flux-no-platform-header"
    rule = "Flux task errors lack X-Platform-Error-Code"
    kills = ("flux.errors",)
    select = ("flux.errors",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        cap.headers = [(k, v) for k, v in cap.headers if k.lower() != "x-platform-error-code"]
        return cap


class FluxLimitUnbounded(FluxFamily):
    name = "flux-limit-unbounded"
    rule = "Flux task lists accept a limit above 500"
    kills = ("flux.limit",)
    select = ("flux.limit",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "GET" and path(environ) == V1 + "/api/v2/tasks":
            environ["QUERY_STRING"] = re.sub(r"limit=\d{4,}|limit=50[1-9]|limit=5[1-9]\d|limit=[6-9]\d\d", "limit=500",
                                             environ.get("QUERY_STRING", ""))
        return call(self.app, environ)


class FluxStatusPatchIgnored(FluxFamily):
    name = "flux-status-patch-ignored"
    rule = "PATCH of a Flux task's status answers 200 without changing it"
    kills = ("flux.crud",)
    select = ("flux.crud",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if _flux(environ) and method(environ) == "PATCH":
            req = json_body(environ)
            if isinstance(req, dict):
                req.pop("status", None)
                set_body(environ, json.dumps(req).encode())
        return call(self.app, environ)


class FluxOn15(Family):
    name = "flux-on-1.5"
    rule = "a server claiming 1.5 serves the Flux task API (it came in 1.6)"
    kills = ("flux.version-gate",)
    select = ("flux.version-gate",)
    config: ClassVar[dict[str, Any]] = {"kapacitor_version": "1.5.9"}

    def handle(self, environ: dict[str, Any]) -> Captured:
        if _flux(environ) and method(environ) == "GET":
            return Captured("200 OK", [("Content-Type", "application/json; charset=utf-8"),
                                       ("X-Kapacitor-Version", "1.5.9")],
                            b'{"links":{"self":"/kapacitor/v1/api/v2/tasks?limit=100"},"tasks":[]}\n')
        return call(self.app, environ)


class AlertErrorsMessageOn15(Family):
    name = "alert-errors-message-on-1.5"
    rule = "a server claiming 1.5 adds `message` to alert errors (1.6 added it)"
    kills = ("alerts.error-keys",)
    select = ("alerts.error-keys",)
    config: ClassVar[dict[str, Any]] = {"kapacitor_version": "1.5.9"}

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        body = cap.json()
        if path(environ).startswith(V1 + "/alerts/") and cap.code >= 400 and isinstance(body, dict):
            body["message"] = body.get("error")
            cap.set_json(body)
        return cap


# ---------------------------------------------------------------------------------------- write
def _write(environ: dict[str, Any]) -> bool:
    return method(environ) == "POST" and path(environ) in (V1 + "/write", "/write")


class Write200(Family):
    name = "write-200"
    rule = "writes answer 200 instead of 204"
    kills = ("write.bodiless",)
    select = ("write.bodiless",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _write(environ) and cap.code == 204:
            cap.status = "200 OK"
        return cap


class WriteDbFirst(Family):
    name = "write-db-before-parse"
    rule = "a write without db is refused for the db before its lines are parsed"
    kills = ("write.parse-first",)
    select = ("write.parse-first",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if _write(environ) and not any(k == "db" and v for k, v in query(environ)):
            return Captured("400 Bad Request", [("Content-Type", "application/json; charset=utf-8")],
                            b"database is required\n")
        return call(self.app, environ)


class WriteFirstErrorOnly(Family):
    name = "write-first-error-only"
    rule = "a write with several bad lines reports only the first"
    kills = ("write.parse-first",)
    select = ("write.parse-first",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _write(environ) and cap.code == 400:
            cap.body = cap.body.split(b"\n")[0] + b"\n"
        return cap


class WriteErrorsAsJson(Family):
    name = "write-errors-json"
    rule = "write errors are JSON error objects instead of plain text lines"
    kills = ("write.errors",)
    select = ("write.errors",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if _write(environ) and cap.code == 400:
            cap.set_json({"error": cap.body.decode().strip()})
        return cap


class WritePrecisionSecondsOnly(Family):
    name = "write-precision-seconds-only"
    rule = "writes accept only precision s (needs --allow-writes to be seen)"
    kills = ("write.precision",)
    select = ("write.precision",)
    args: ClassVar[tuple[str, ...]] = ("--allow-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if _write(environ) and any(k == "precision" and v not in ("s", "") for k, v in query(environ)):
            return Captured("400 Bad Request", [("Content-Type", "application/json; charset=utf-8")],
                            b"invalid precision\n")
        return call(self.app, environ)



# ----------------------------------------------------- family rules held by the older checks
class UserDeleteKeeps(AuthFamily):
    name = "user-delete-keeps"
    rule = "DELETE of a user answers 204 but the user stays"
    kills = ("users.crud",)
    select = ("users.crud",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "DELETE" and _USER.match(path(environ)):
            return Captured("204 No Content", [("Content-Type", "application/json; charset=utf-8")], b"")
        return call(self.app, environ)


class WritePointsFail(Family):
    name = "write-points-500"
    rule = "writing points fails with 500 (needs --allow-writes to be seen)"
    kills = ("write.points",)
    select = ("write.points",)
    args: ClassVar[tuple[str, ...]] = ("--allow-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if _write(environ) and int(environ.get("CONTENT_LENGTH") or 0) > 0 and "=1 " in read_body(environ).decode():
            return Captured("500 Internal Server Error", [("Content-Type", "application/json; charset=utf-8")],
                            b"write failed\n")
        return call(self.app, environ)


class ConfigSetIgnored(Family):
    name = "config-set-ignored"
    rule = "a config override `set` answers 204 but changes nothing (needs --allow-config-writes)"
    kills = ("config.override-roundtrip",)
    select = ("config.override-roundtrip",)
    args: ClassVar[tuple[str, ...]] = ("--allow-config-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "POST" and path(environ).startswith(V1 + "/config/"):
            req = json_body(environ)
            if isinstance(req, dict) and "set" in req:
                return Captured("204 No Content", [("Content-Type", "application/json; charset=utf-8")], b"")
        return call(self.app, environ)


class DeleteTopicNoop(Family):
    name = "delete-topic-noop"
    rule = "DELETE of a topic answers 204 but the topic stays"
    kills = ("deletes.topic",)
    select = ("deletes.topic",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if method(environ) == "DELETE" and _TOPIC.match(path(environ)):
            return Captured("204 No Content", [("Content-Type", "application/json; charset=utf-8")], b"")
        return call(self.app, environ)


class RecordingLinkWrong(Family):
    name = "recording-link-wrong"
    rule = "a new recording links to /kapacitor/v1/recording/<id> (singular)"
    kills = ("lifecycle.recording",)
    select = ("lifecycle.recording",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "POST" and path(environ).startswith(V1 + "/recordings/") and cap.code == 201:
            cap.body = cap.body.replace(b"/kapacitor/v1/recordings/", b"/kapacitor/v1/recording/")
        return cap


class ReplayLinkWrong(Family):
    name = "replay-link-wrong"
    rule = "a new replay links to /kapacitor/v1/replay/<id> (singular)"
    kills = ("lifecycle.replay",)
    select = ("lifecycle.replay",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if method(environ) == "POST" and path(environ) == V1 + "/replays" and cap.code == 201:
            cap.body = cap.body.replace(b"/kapacitor/v1/replays/", b"/kapacitor/v1/replay/")
        return cap


class TemplateRenameTasksStay(Family):
    name = "template-rename-tasks-stay"
    rule = "tasks keep the old template-id after their template is renamed"
    kills = ("lifecycle.template-rename",)
    select = ("lifecycle.template-rename",)
    renamed: ClassVar[dict[str, str]] = {}

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _TEMPLATE.match(path(environ))
        if m and method(environ) == "PATCH":
            req = json_body(environ)
            if isinstance(req, dict) and req.get("id"):
                self.renamed[req["id"]] = m.group(1)
        cap = call(self.app, environ)
        if method(environ) == "GET" and _TASK.match(path(environ)) and cap.code == 200:
            return rewrite(cap, lambda b: b.__setitem__("template-id", self.renamed[b["template-id"]])
                           if b.get("template-id") in self.renamed else None)
        return cap


class TemplateUpdateInfersType(Family):
    """Builds an updated template's script as whatever type the script is, as a create does."""

    name = "template-update-infers-type"
    rule = "a template update takes the new script's type instead of building it as the template's own"
    kills = ("templates.update-keeps-type",)
    select = ("templates.update-keeps-type",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _TEMPLATE.match(path(environ))
        req = json_body(environ) if m and method(environ) == "PATCH" else None
        cap = call(self.app, environ)
        if m and isinstance(req, dict) and cap.code == 400 and "is undefined. Names in scope" in cap.body.decode():
            kind = "stream" if "stream" in str(req.get("script", "")) else "batch"
            return call(self.app, sub(environ, "PATCH", path(environ), {**req, "type": kind}))
        return cap


class BatchDbrpsUnchecked(Family):
    """Starts batch tasks whatever databases their queries read."""

    name = "batch-dbrps-unchecked"
    rule = "a batch task whose query reads outside its dbrps starts"
    kills = ("lifecycle.batch-dbrps",)
    select = ("lifecycle.batch-dbrps",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        m = _TASK.match(path(environ))
        cap = call(self.app, environ)
        if m and method(environ) == "PATCH" and cap.code == 500 and b"batch query is not allowed" in cap.body:
            return call(self.app, sub(environ, "GET", path(environ)))
        return cap


MUTANTS: list[type[Mutant]] = [
    TemplateUpdateInfersType, BatchDbrpsUnchecked, TemplateVarsDropped, TemplateTypeFromRequest, TaskTemplateVarsLost, MissingVarMessage, UnknownTemplate404,
    TemplateNotPropagated, TemplateRenameKeepsOld, TemplateRenameOverwrites, TemplateDeleteCascades,
    TemplateListAlwaysVars,
    RecordingTypeAlwaysStream, RecordingProgressStuck, RecordingSizeText, StreamRecordingDoneAtOnce,
    RecordingDateNotRfc3339, FinishedRecordingError,
    ReplayClockIgnored, ReplayDefaultRealClock, ReplayBatchNamesRecording, ReplayQueryRecords, ReplayStatsInList,
    ReplayTaskBlank,
    *SWAPS,
    HandlerOptionsLost, HandlerMatchMissing, UnknownOptionsAccepted, PatchTestIgnored, PutRenameKeepsOld,
    DeleteTopicDropsHandlers, MinLevelIgnored, MinLevelExactNames, TopicListLinkNoQuery, EventsNull, BodyTopicWins,
    HandlersUnsorted, TopicLevelLowercase,
    ConfigRedactionLeaks, ConfigSectionLinkWrong, ConfigSectionDiffers, ConfigBothActionsApplied, ConfigDisabledMessage,
    ConfigElementsUnsorted,
    ServicesUnsorted, ServiceGetOtherOptions, ServicesEmptyList, ServicesPatternIgnored, ServiceDefaultsBlank,
    ServiceBadOptionsRun, StoresLinkless, StoreActionMessageFixed, BackupAsJson, BackupNoDisposition,
    UserPermissionsSpelledOut, UserPatchClearsPermissions, Unauthenticated403, NoAuthorization,
    FluxRunsLinkMissing, FluxListLinkNoLimit, FluxErrorsKapacitorStyle, FluxNoPlatformHeader, FluxLimitUnbounded,
    FluxStatusPatchIgnored, FluxOn15, AlertErrorsMessageOn15,
    Write200, WriteDbFirst, WriteFirstErrorOnly, WriteErrorsAsJson, WritePrecisionSecondsOnly,
    UserDeleteKeeps, WritePointsFail, ConfigSetIgnored, DeleteTopicNoop, RecordingLinkWrong, ReplayLinkWrong,
    TemplateRenameTasksStay,
]
