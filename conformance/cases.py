"""The status-code table: one row per (operation, condition), with the expected code and message.

Expected codes come from the spec's `x-kapacitor-errors` (looked up by message template) or from
its success response; the exact messages come from the behaviour reference. The same rows drive
the status checks (`status.*`), the error-body checks (`errors.*`) and the preview checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance import api
from conformance.checks import MUST, SHOULD
from conformance.context import Kap, stream_script, template_script
from conformance.gostr import go_quote, paging_error
from conformance.world import World

Build = Callable[[Kap, World], dict[str, Any]]
Message = str | Callable[[Kap, World, dict[str, Any]], str] | None

_BAD_JSON = b'{"id": "x", '  # truncated object
_PAST = "2000-01-01T00:00:00Z"
_PAST2 = "2000-01-01T00:01:00Z"


@dataclass(frozen=True)
class Case:
    key: str  # "<operationId>.<condition>"
    status: int | tuple[int, ...] | None  # None: read from the spec by `spec_message`
    level: str
    ref: str
    build: Build
    message: Message = None  # exact error text (string, or built from the request)
    prefix: bool = False  # `message` is only the start of the text
    spec_message: str | None = None
    docs_status: int | None = None  # the docs' code where they disagree with the server
    docs_ref: str = ""
    creates: str | None = None  # kind of resource a 2xx creates (registered for cleanup)
    requires: tuple[str, ...] = ()

    @property
    def op(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def condition(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def safe(self) -> bool:
        """Cannot change server state: a read."""
        return api.op(self.op).method in ("GET", "HEAD")

    def expected(self) -> tuple[int, ...]:
        if self.status is not None:
            return (self.status,) if isinstance(self.status, int) else self.status
        assert self.spec_message is not None
        return (api.spec_error_status(self.op, self.spec_message),)

    def message_for(self, k: Kap, w: World, req: dict[str, Any]) -> str | None:
        if self.message is None or isinstance(self.message, str):
            return self.message
        return self.message(k, w, req)


def _id_msg(kind: str) -> Callable[[Kap, World, dict[str, Any]], str]:
    return lambda k, w, r: f"{kind} ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(r['json']['id'])}"


def _re_msg(kind: str) -> Callable[[Kap, World, dict[str, Any]], str]:
    return lambda k, w, r: f"{kind} ID must match ^[-\\._\\p{{L}}0-9]+$ {go_quote(r['json']['id'])}"


def _dbrps(k: Kap) -> list[dict[str, str]]:
    return [{"db": k.suite.db, "rp": "autogen"}]


def _task_body(k: Kap, **extra: Any) -> dict[str, Any]:
    body = {"id": k.uid("st-"), "script": stream_script(), "dbrps": _dbrps(k)}
    body.update(extra)
    return body


def _implicit_script(k: Kap) -> str:
    return f'dbrp "{k.suite.db}"."autogen"\n\n' + stream_script()


def _bad_id(k: Kap) -> str:
    return k.prefix + "bad id"


def _query(k: Kap) -> str:
    return f'SELECT * FROM "{k.suite.db}"."autogen"."m" WHERE time > now() - 1m'


def _list_cases(op: str, family_ref: str, *, dot: bool = False, fmt: bool = True, world_attr: str = "task",
                paged: bool = True) -> list[Case]:
    out = [Case(f"{op}.ok", 200, MUST, family_ref, lambda k, w: {})]
    if paged:
        out += [
            Case(f"{op}.bad-offset", None, SHOULD, "behaviour §2.4", lambda k, w: {"query": [("offset", "abc")]},
                 message=paging_error("offset", "abc"), spec_message="invalid offset"),
            Case(f"{op}.bad-limit", None, SHOULD, "behaviour §2.4", lambda k, w: {"query": [("limit", "1.5")]},
                 message=paging_error("limit", "1.5"), spec_message="invalid limit"),
            Case(f"{op}.unsupported-field", None, SHOULD, "behaviour §2.3",
                 lambda k, w: {"query": [("pattern", getattr(w, world_attr)), ("fields", "nope")]},
                 message='unsupported field "nope"', spec_message="unsupported field"),
        ]
    if fmt:
        out.append(Case(f"{op}.bad-script-format", None, SHOULD, "behaviour §3.3",
                        lambda k, w: {"query": [("script-format", "nope")]},
                        message='invalid script-format parameter "nope"', spec_message="invalid script-format"))
    if dot:
        out.append(Case(f"{op}.bad-dot-view", None, SHOULD, "behaviour §3.3",
                        lambda k, w: {"query": [("dot-view", "nope")]},
                        message='invalid dot-view parameter "nope"', spec_message="invalid dot-view"))
    return out


def _new_task(k: Kap, w: World) -> dict[str, Any]:
    return {"id": k.create_task(k.uid("del-"))["id"]}


def _new_template(k: Kap, w: World) -> dict[str, Any]:
    return {"id": k.create_template(k.uid("del-"))["id"]}


def _new_recording(k: Kap, w: World) -> dict[str, Any]:
    rid = k.create_recording(k.uid("del-"))["id"]
    k.wait_finished("getRecording", rid)
    return {"id": rid}


def _new_replay(k: Kap, w: World) -> dict[str, Any]:
    rid = k.create_replay(w.task, w.recording, k.uid("del-"))["id"]
    k.wait_finished("getReplay", rid)
    return {"id": rid}


def _new_handler(k: Kap, w: World) -> dict[str, Any]:
    hid = k.uid("h-")
    k.create_handler(w.topic, hid)
    return {"topic": w.topic, "handler": hid}


def _handler_body(hid: str) -> dict[str, Any]:
    return {"id": hid, "kind": "log", "options": {"path": "/dev/null"}}


CASES: list[Case] = [
    # ---------------------------------------------------------------------------------- tasks
    *_list_cases("listTasks", "api#list-tasks", dot=True),
    Case("createTask.ok", 200, MUST, "api#define-or-update-a-task", lambda k, w: {"json": _task_body(k)},
         creates="task"),
    Case("createTask.duplicate", None, SHOULD, "behaviour §3.5", lambda k, w: {"json": _task_body(k, id=w.task)},
         message=lambda k, w, r: f"task {w.task} already exists", spec_message="task <id> already exists"),
    Case("createTask.invalid-id", None, MUST, "api#ids", lambda k, w: {"json": _task_body(k, id=_bad_id(k))},
         message=_id_msg("task"), spec_message="task ID must"),
    Case("createTask.bad-json", None, SHOULD, "behaviour §3.5", lambda k, w: {"body": _BAD_JSON},
         message="invalid JSON", spec_message="invalid JSON"),
    Case("createTask.bad-enum", None, SHOULD, "behaviour §1.7", lambda k, w: {"json": _task_body(k, status="on")},
         message="invalid JSON", spec_message="invalid JSON"),
    Case("createTask.no-script", None, SHOULD, "behaviour §3.5",
         lambda k, w: {"json": {"id": k.uid("st-"), "dbrps": _dbrps(k)}},
         message="must provide TICKscript", spec_message="must provide TICKscript"),
    Case("createTask.no-dbrp", None, SHOULD, "behaviour §3.5",
         lambda k, w: {"json": {"id": k.uid("st-"), "script": stream_script()}},
         message="must specify dbrp", spec_message="must specify dbrp"),
    Case("createTask.both-dbrps", None, SHOULD, "behaviour §3.5",
         lambda k, w: {"json": _task_body(k, script=_implicit_script(k))},
         message="cannot specify dbrp in both implicitly and explicitly", spec_message="cannot specify dbrp in both"),
    Case("updateTask.both-dbrps", None, SHOULD, "behaviour §3.6",
         lambda k, w: {"id": k.create_task(k.uid("db-"))["id"],
                       "json": {"script": _implicit_script(k), "dbrps": _dbrps(k)}},
         message="cannot specify dbrp in implicitly and explicitly", spec_message="cannot specify dbrp in implicitly"),
    Case("createTask.bad-tickscript", None, SHOULD, "behaviour §3.5",
         lambda k, w: {"json": _task_body(k, script="stream\n    |fromm()\n")},
         message="invalid TICKscript: ", prefix=True, spec_message="invalid TICKscript"),
    Case("getTask.ok", 200, MUST, "api#get-a-task", lambda k, w: {"id": w.task}),
    Case("getTask.missing", 404, MUST, "api#get-a-task", lambda k, w: {"id": w.missing()},
         message="no task exists"),
    Case("getTask.empty-id", None, SHOULD, "behaviour §3.2", lambda k, w: {"id": ""},
         message="must specify task id on path", spec_message="must specify task id"),
    Case("getTask.bad-dot-view", None, SHOULD, "behaviour §3.2",
         lambda k, w: {"id": w.task, "query": [("dot-view", "nope")]},
         message='invalid dot-view parameter "nope"', spec_message="invalid dot-view"),
    Case("getTask.bad-script-format", None, SHOULD, "behaviour §3.2",
         lambda k, w: {"id": w.task, "query": [("script-format", "nope")]},
         message='invalid script-format parameter "nope"', spec_message="invalid script-format"),
    Case("updateTask.ok", 200, MUST, "api#define-or-update-a-task",
         lambda k, w: {"id": w.task, "json": {"status": "disabled"}}),
    Case("updateTask.missing", 404, MUST, "api#define-or-update-a-task",
         lambda k, w: {"id": w.missing(), "json": {"status": "disabled"}},
         message="task does not exist, cannot update"),
    Case("updateTask.bad-json", None, SHOULD, "behaviour §3.6", lambda k, w: {"id": w.task, "body": _BAD_JSON},
         message="invalid JSON", spec_message="invalid JSON"),
    Case("updateTask.bad-enum", None, SHOULD, "behaviour §1.7",
         lambda k, w: {"id": w.task, "json": {"status": "on"}}, message="invalid JSON", spec_message="invalid JSON"),
    Case("deleteTask.ok", 204, MUST, "api#delete-a-task", _new_task),
    Case("deleteTask.missing", 204, MUST, "api#delete-a-task", lambda k, w: {"id": w.missing()}),
    # ------------------------------------------------------------------------------ templates
    *_list_cases("listTemplates", "api#list-templates", world_attr="template"),
    Case("createTemplate.ok", 200, MUST, "api#define-a-template",
         lambda k, w: {"json": {"id": k.uid("tp-"), "script": template_script()}}, creates="template"),
    Case("createTemplate.duplicate", None, SHOULD, "behaviour §4.4",
         lambda k, w: {"json": {"id": w.template, "script": template_script()}},
         message=lambda k, w, r: f"template {w.template} already exists", spec_message="template <id> already"),
    Case("createTemplate.invalid-id", None, MUST, "api#ids",
         lambda k, w: {"json": {"id": _bad_id(k), "script": template_script()}},
         message=_id_msg("template"), spec_message="template ID must"),
    Case("createTemplate.bad-json", None, SHOULD, "behaviour §4.4", lambda k, w: {"body": _BAD_JSON},
         message="invalid JSON", spec_message="invalid JSON"),
    Case("createTemplate.bad-tickscript", None, SHOULD, "behaviour §4.4",
         lambda k, w: {"json": {"id": k.uid("tp-"), "script": "stream\n    |fromm()\n"}},
         message="invalid TICKscript: ", prefix=True, spec_message="invalid TICKscript"),
    Case("getTemplate.ok", 200, MUST, "api#get-a-template", lambda k, w: {"id": w.template}),
    Case("getTemplate.missing", 404, MUST, "api#get-a-template", lambda k, w: {"id": w.missing()},
         message="no template exists"),
    Case("getTemplate.empty-id", None, SHOULD, "behaviour §4.2", lambda k, w: {"id": ""},
         message="must specify template id on path", spec_message="must specify template id"),
    Case("getTemplate.bad-script-format", None, SHOULD, "behaviour §4.2",
         lambda k, w: {"id": w.template, "query": [("script-format", "nope")]},
         message='invalid script-format parameter "nope"', spec_message="invalid script-format"),
    Case("updateTemplate.ok", 200, MUST, "api#update-a-template",
         lambda k, w: {"id": w.template, "json": {"script": template_script()}}),
    Case("updateTemplate.missing", 404, MUST, "api#update-a-template",
         lambda k, w: {"id": w.missing(), "json": {"script": template_script()}},
         message="template does not exist, cannot update"),
    Case("updateTemplate.bad-json", None, SHOULD, "behaviour §4.5", lambda k, w: {"id": w.template, "body": _BAD_JSON},
         message="invalid JSON", spec_message="invalid JSON"),
    Case("deleteTemplate.ok", 204, MUST, "api#delete-a-template", _new_template),
    Case("deleteTemplate.missing", 204, MUST, "api#delete-a-template", lambda k, w: {"id": w.missing()}),
    # ----------------------------------------------------------------------------- recordings
    *_list_cases("listRecordings", "api#list-recordings", fmt=False, world_attr="recording"),
    Case("recordQuery.ok", 201, MUST, "api#create-a-recording",
         lambda k, w: {"json": {"id": k.uid("rq-"), "type": "stream", "query": _query(k)}}, creates="recording"),
    Case("recordQuery.invalid-id", None, MUST, "api#ids",
         lambda k, w: {"json": {"id": _bad_id(k), "type": "stream", "query": _query(k)}},
         message=_id_msg("recording"), spec_message="recording ID must"),
    Case("recordQuery.bad-json", 400, SHOULD, "behaviour §6.4", lambda k, w: {"body": _BAD_JSON}),
    Case("recordQuery.bad-enum", 400, SHOULD, "behaviour §6.4",
         lambda k, w: {"json": {"id": k.uid("rq-"), "type": "x", "query": _query(k)}}, message="unknown TaskType x"),
    Case("recordQuery.no-query", None, SHOULD, "behaviour §6.4",
         lambda k, w: {"json": {"id": k.uid("rq-"), "type": "stream"}},
         message="must provide query", spec_message="must provide query"),
    Case("recordQuery.duplicate", None, SHOULD, "behaviour §6.4",
         lambda k, w: {"json": {"id": w.recording, "type": "stream", "query": _query(k)}},
         message="recording already exists", spec_message="recording already exists"),
    Case("recordStream.invalid-id", None, MUST, "api#ids",
         lambda k, w: {"json": {"id": _bad_id(k), "task": w.task, "stop": _PAST}},
         message=_id_msg("recording"), spec_message="recording ID must"),
    Case("recordStream.missing-task", None, SHOULD, "behaviour §6.2",
         lambda k, w: {"json": {"id": k.uid("rs-"), "task": w.missing(), "stop": _PAST}},
         message="no task exists", spec_message="no task exists"),
    Case("recordStream.bad-json", 400, SHOULD, "behaviour §6.2", lambda k, w: {"body": _BAD_JSON}),
    Case("recordBatch.ok", 201, MUST, "api#create-a-recording",
         lambda k, w: {"json": {"id": k.uid("rb-"), "task": w.batch_task, "start": _PAST, "stop": _PAST2}},
         creates="recording"),
    Case("recordBatch.no-start", None, SHOULD, "behaviour §6.3",
         lambda k, w: {"json": {"id": k.uid("rb-"), "task": w.batch_task}},
         message="must provide start time", spec_message="must provide start time"),
    Case("recordBatch.missing-task", None, SHOULD, "behaviour §6.3",
         lambda k, w: {"json": {"id": k.uid("rb-"), "task": w.missing(), "start": _PAST}},
         message="no task exists", spec_message="no task exists"),
    Case("getRecording.ok", (200, 202), MUST, "api#wait-for-a-recording", lambda k, w: {"id": w.recording}),
    Case("getRecording.missing", 500, MUST, "behaviour §6.5", lambda k, w: {"id": w.missing()},
         message="error finding recording: no recording exists", docs_status=404, docs_ref="api#wait-for-a-recording"),
    Case("getRecording.empty-id", None, SHOULD, "behaviour §6.5", lambda k, w: {"id": ""},
         message="must specify recording id on path", spec_message="must specify recording id"),
    Case("deleteRecording.ok", 204, MUST, "api#delete-a-recording", _new_recording),
    Case("deleteRecording.missing", 204, MUST, "api#delete-a-recording", lambda k, w: {"id": w.missing()}),
    # -------------------------------------------------------------------------------- replays
    *_list_cases("listReplays", "api#list-replays", fmt=False, world_attr="replay"),
    Case("createReplay.ok", 201, MUST, "api#replay-a-recording",
         lambda k, w: {"json": {"id": k.uid("rp-"), "task": w.task, "recording": w.recording}}, creates="replay"),
    Case("createReplay.invalid-id", None, MUST, "api#ids",
         lambda k, w: {"json": {"id": _bad_id(k), "task": w.task, "recording": w.recording}},
         message=_id_msg("replay"), spec_message="replay ID must contain"),
    Case("createReplay.bad-json", 400, SHOULD, "behaviour §7.2", lambda k, w: {"body": _BAD_JSON}),
    Case("createReplay.bad-enum", 400, SHOULD, "behaviour §7.2",
         lambda k, w: {"json": {"id": k.uid("rp-"), "task": w.task, "recording": w.recording, "clock": "x"}},
         message="unknown Clock x"),
    Case("createReplay.missing-task", None, SHOULD, "behaviour §7.2",
         lambda k, w: {"json": {"id": k.uid("rp-"), "task": w.missing(), "recording": w.recording}},
         message="task load: no task exists", spec_message="task load"),
    Case("createReplay.missing-recording", None, SHOULD, "behaviour §7.2",
         lambda k, w: {"json": {"id": k.uid("rp-"), "task": w.task, "recording": w.missing()}},
         message="recording not found: no recording exists", spec_message="recording not found"),
    Case("replayBatch.ok", 201, MUST, "api#replay-data-without-recording",
         lambda k, w: {"json": {"id": k.uid("rb-"), "task": w.batch_task, "start": _PAST, "stop": _PAST2}},
         creates="replay"),
    Case("replayBatch.invalid-id", None, MUST, "api#ids",
         lambda k, w: {"json": {"id": _bad_id(k), "task": w.batch_task, "start": _PAST, "stop": _PAST2}},
         message=_re_msg("replay"), spec_message="replay ID must match"),
    Case("replayBatch.stream-task", None, SHOULD, "behaviour §7.3",
         lambda k, w: {"json": {"id": k.uid("rb-"), "task": w.task, "start": _PAST, "stop": _PAST2}},
         message=lambda k, w, r: f"cannot replay batch against stream task: {w.task}", spec_message="cannot replay"),
    Case("replayBatch.missing-task", None, SHOULD, "behaviour §7.3",
         lambda k, w: {"json": {"id": k.uid("rb-"), "task": w.missing(), "start": _PAST, "stop": _PAST2}},
         message="task load: no task exists", spec_message="task load"),
    Case("replayQuery.ok", 201, MUST, "api#replay-data-without-recording",
         lambda k, w: {"json": {"id": k.uid("rq-"), "task": w.task, "query": _query(k)}}, creates="replay"),
    Case("replayQuery.invalid-id", None, MUST, "api#ids",
         lambda k, w: {"json": {"id": _bad_id(k), "task": w.task, "query": _query(k)}},
         message=_re_msg("recording"), spec_message="recording ID must match"),
    Case("replayQuery.no-query", None, SHOULD, "behaviour §7.4",
         lambda k, w: {"json": {"id": k.uid("rq-"), "task": w.task}},
         message="must provide query", spec_message="must provide query"),
    Case("getReplay.ok", (200, 202), MUST, "api#wait-for-replays", lambda k, w: {"id": w.replay}),
    Case("getReplay.missing", 404, MUST, "api#wait-for-replays", lambda k, w: {"id": w.missing()},
         message="could not find replay: no replay exists"),
    Case("getReplay.empty-id", None, SHOULD, "behaviour §7.5", lambda k, w: {"id": ""},
         message="must specify replay id on path", spec_message="must specify replay id"),
    Case("deleteReplay.ok", 204, MUST, "api#delete-a-replay", _new_replay),
    Case("deleteReplay.missing", 204, MUST, "api#delete-a-replay", lambda k, w: {"id": w.missing()}),
    # --------------------------------------------------------------------------------- alerts
    Case("listTopics.ok", 200, MUST, "api#list-topics", lambda k, w: {}),
    Case("listTopics.bad-pattern", None, SHOULD, "behaviour §8.3", lambda k, w: {"query": [("pattern", "[")]},
         message="invalid pattern: syntax error in pattern", spec_message="invalid pattern"),
    Case("listTopics.bad-min-level", 400, SHOULD, "behaviour §8.2", lambda k, w: {"query": [("min-level", "foo")]},
         message="unknown alert level 'FOO'"),
    Case("getTopic.ok", 200, MUST, "api#topic-state", lambda k, w: {"topic": w.topic}),
    Case("getTopic.missing", 404, SHOULD, "behaviour §8.5", lambda k, w: {"topic": w.missing()},
         message=lambda k, w, r: f"unknown topic: {go_quote(r['topic'])}"),
    Case("deleteTopic.missing", 204, MUST, "behaviour §2.7", lambda k, w: {"topic": w.missing()}),
    Case("listTopicEvents.ok", 200, MUST, "api#list-topic-events", lambda k, w: {"topic": w.topic}),
    Case("listTopicEvents.missing", 500, SHOULD, "behaviour §8.5", lambda k, w: {"topic": w.missing()},
         message=lambda k, w, r: f"failed to get topic events: unknown topic {go_quote(r['topic'])}"),
    Case("getTopicEvent.missing", 404, SHOULD, "behaviour §8.5",
         lambda k, w: {"topic": w.topic, "event": w.missing()},
         message=lambda k, w, r: f"unknown event {go_quote(r['event'])} in topic {go_quote(r['topic'])}"),
    Case("listTopicHandlers.ok", 200, MUST, "api#list-topic-handlers", lambda k, w: {"topic": w.topic}),
    Case("listTopicHandlers.missing-topic", 200, SHOULD, "behaviour §8.6", lambda k, w: {"topic": w.missing()}),
    Case("listTopicHandlers.bad-pattern", None, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "query": [("pattern", "[")]},
         message="invalid pattern: syntax error in pattern", spec_message="invalid pattern"),
    Case("createTopicHandler.ok", 200, MUST, "api#create-a-topic-handler",
         lambda k, w: {"topic": w.topic, "json": _handler_body(k.uid("h-"))}, creates="handler"),
    Case("createTopicHandler.duplicate", 500, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "json": _handler_body(w.handler)},
         message=lambda k, w, r: "failed to create handler: cannot register handler, handler with ID "
         f"{go_quote(w.handler)} already exists"),
    Case("createTopicHandler.invalid-id", 400, MUST, "api#ids",
         lambda k, w: {"topic": w.topic, "json": _handler_body(_bad_id(k))},
         message=lambda k, w, r: "invalid handler spec: handler ID must contain only letters, numbers, '-', '.' "
         f"and '_'. {go_quote(r['json']['id'])}"),
    Case("createTopicHandler.bad-json", 400, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "body": _BAD_JSON}, message="invalid handler json: ", prefix=True),
    Case("createTopicHandler.empty-kind", 400, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "json": {"id": k.uid("h-")}},
         message="invalid handler spec: handler Kind must not be empty"),
    Case("getTopicHandler.ok", 200, MUST, "api#get-a-topic-handler",
         lambda k, w: {"topic": w.topic, "handler": w.handler}),
    Case("getTopicHandler.missing", 404, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "handler": w.missing()},
         message=lambda k, w, r: f"unknown handler: {go_quote(r['handler'])}"),
    Case("replaceTopicHandler.ok", 200, MUST, "api#update-a-topic-handler",
         lambda k, w: {"topic": w.topic, "handler": w.handler, "json": _handler_body(w.handler)}),
    Case("replaceTopicHandler.missing", 404, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "handler": w.missing(), "json": _handler_body(w.missing())},
         message=lambda k, w, r: f"unknown handler: {go_quote(r['handler'])}"),
    Case("patchTopicHandler.ok", 200, MUST, "api#update-a-topic-handler",
         lambda k, w: {"topic": w.topic, "handler": w.handler,
                       "json": [{"op": "replace", "path": "/options/path", "value": "/dev/null"}]}),
    Case("patchTopicHandler.missing", 404, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "handler": w.missing(), "json": []},
         message=lambda k, w, r: f"unknown handler: {go_quote(r['handler'])}"),
    Case("patchTopicHandler.bad-patch", 400, SHOULD, "behaviour §8.6",
         lambda k, w: {"topic": w.topic, "handler": w.handler, "body": _BAD_JSON},
         message="invalid patch json: ", prefix=True),
    Case("deleteTopicHandler.ok", 204, MUST, "api#remove-a-topic-handler", _new_handler),
    Case("deleteTopicHandler.missing", 204, MUST, "api#remove-a-topic-handler",
         lambda k, w: {"topic": w.topic, "handler": w.missing()}),
    # --------------------------------------------------------------------------------- config
    Case("getConfig.ok", 200, MUST, "api#retrieve-the-current-configuration", lambda k, w: {}),
    Case("getConfigSection.ok", 200, MUST, "api#retrieve-the-current-configuration",
         lambda k, w: {"section": _section(w)[0]}),
    Case("getConfigSection.unknown", 404, SHOULD, "behaviour §9.3", lambda k, w: {"section": "kcfnosuch"},
         message="unknown section: kcfnosuch"),
    Case("getConfigElement.ok", 200, MUST, "api#retrieve-the-current-configuration",
         lambda k, w: {"section": _section(w)[0], "element": _section(w)[1]}),
    Case("getConfigElement.unknown", 404, SHOULD, "behaviour §9.3",
         lambda k, w: {"section": _section(w)[0], "element": "kcfnosuch"},
         message=lambda k, w, r: f"unknown section/element: {r['section']}/kcfnosuch"),
    Case("updateConfigElement.bad-json", 400, SHOULD, "behaviour §9.4",
         lambda k, w: {"section": _section(w)[0], "element": _section(w)[1], "body": _BAD_JSON},
         message="failed to decode JSON:", prefix=True),
    Case("updateConfigElement.unknown-section", 400, MUST, "behaviour §9.4",
         lambda k, w: {"section": "kcfnosuch", "element": "", "json": {"set": {"x": 1}}},
         docs_status=404, docs_ref="api#override-configuration-values"),
    # --------------------------------------------------------------------------- service tests
    Case("listServiceTests.ok", 200, MUST, "api#list-testable-services", lambda k, w: {}),
    Case("listServiceTests.bad-pattern", 400, SHOULD, "behaviour §10", lambda k, w: {"query": [("pattern", "[")]},
         message="bad pattern: syntax error in pattern"),
    Case("getServiceTest.ok", 200, MUST, "api#list-testable-services", lambda k, w: {"name": _service(w)}),
    Case("getServiceTest.unknown", 404, SHOULD, "behaviour §10", lambda k, w: {"name": "kcfnosuch"},
         message='service "kcfnosuch" not found'),
    Case("runServiceTest.unknown", 404, SHOULD, "behaviour §10", lambda k, w: {"name": "kcfnosuch", "json": {}},
         message='service "kcfnosuch" not found'),
    Case("runServiceTest.bad-json", 400, SHOULD, "behaviour §10",
         lambda k, w: {"name": _service(w), "body": _BAD_JSON}, message="failed to decode JSON body:", prefix=True),
    # -------------------------------------------------------------------------------- storage
    Case("listStores.ok", 200, MUST, "api#stores", lambda k, w: {}),
    Case("runStoreAction.unknown", 404, MUST, "api#stores",
         lambda k, w: {"store": "kcfnosuch", "json": {"action": "rebuild"}},
         message='unknown storage "kcfnosuch"'),
    Case("runStoreAction.bad-action", 400, MUST, "api#stores",
         lambda k, w: {"store": "tasks", "json": {"action": "nope"}},
         message="failed to unmarshal storage action ", prefix=True),
    Case("backupStorage.ok", 200, MUST, "api#back-up-storage", lambda k, w: {}),
    # ----------------------------------------------------------------------------------- misc
    Case("ping.ok", 204, MUST, "api#ping", lambda k, w: {}),
    Case("pingHead.ok", 204, SHOULD, "behaviour §13.1", lambda k, w: {}),
    Case("listRoutes.ok", 200, MUST, "api#routes", lambda k, w: {}),
    Case("debugVars.ok", 200, MUST, "api#debugvars-http-endpoint", lambda k, w: {}),
    Case("pprofIndex.ok", 200, SHOULD, "api#debugpprof-http-endpoints", lambda k, w: {}),
    Case("setLogLevel.bad-level", 400, SHOULD, "behaviour §13.2", lambda k, w: {"json": {"level": "kcfnosuch"}},
         message="invalid log level"),
    Case("setLogLevel.bad-json", 400, SHOULD, "behaviour §13.2", lambda k, w: {"body": _BAD_JSON},
         message="invalid json: ", prefix=True),
    Case("streamLogs.duplicate-param", 400, SHOULD, "behaviour §13.8",
         lambda k, w: {"query": [("task", "a"), ("task", "b")], "read_limit": 4096, "timeout": 5.0},
         message="query params cannot contain duplicate params"),
    Case("reloadSideload.ok", 204, MUST, "api#reload-sideload", lambda k, w: {}, requires=("config-writes",)),
    # Links InfluxDB subscriptions anew (what the server does at start-up): a server-wide action.
    Case("linkSubscriptions.ok", 204, SHOULD, "behaviour §13.9", lambda k, w: {}, requires=("config-writes",)),
]


def _section(w: World) -> tuple[str, str]:
    import pytest

    sec = w.config_section
    if sec is None:
        pytest.skip("the target lists no config section")
    return sec


def _service(w: World) -> str:
    import pytest

    name = w.service_test
    if name is None:
        pytest.skip("the target lists no service test")
    return name


BY_KEY = {c.key: c for c in CASES}


def ids(cases: list[Case]) -> list[str]:
    return [c.key for c in cases]
