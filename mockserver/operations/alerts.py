"""Alert topic, event and handler endpoints, dispatched the way the server's topic sub-router does it.

The real server routes everything under `/alerts/topics/` to one handler per method that re-parses
the path with Go's `path` package: GET of an unknown sub-path returns the first segment's topic,
POST anywhere creates a handler, DELETE of anything but `handlers/<id>` deletes the topic. Every
handler here therefore recomputes the target from the request path instead of trusting which spec
operation matched, so each quirk holds whatever route the spec's paths select.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import unquote_to_bytes

from mockserver import gojson
from mockserver.errors import BadRequest, KapacitorError, NotFound
from mockserver.gotext import go_bytes, go_quote
from mockserver.gotime import format_ns, go_duration, parse_go_duration, parse_rfc3339
from mockserver.operations.registry import Call, Handler, Reply, control, operation
from mockserver.render import BASE, link, raw_link
from mockserver.store.alerts import (
    LEVEL_NAMES,
    ConcurrentChange,
    EventState,
    HandlerSpec,
    decode_spec,
    parse_level,
    validate_spec,
)
from mockserver.store.listing import GlobSyntaxError, compile_glob
from spec import operations as spec_operations
from spec.ids import is_valid_topic_id

TOPICS = BASE + "/alerts/topics"
_PREFIX = TOPICS + "/"

# ---- Go's path package, as the sub-router uses it -------------------------------------------------


def _go_clean(p: str) -> str:
    if p == "":
        return "."
    cleaned = posixpath.normpath(p)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def _go_split(p: str) -> tuple[str, str]:
    i = p.rfind("/")
    return p[: i + 1], p[i + 1 :]


def _go_dir(p: str) -> str:
    return _go_clean(_go_split(p)[0])


def _go_base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p[p.rfind("/") + 1 :]


def topic_id_from_path(p: str) -> str:
    """The outermost directory of the sub-path: `foo/bar/baz` → `foo`, `` → ``."""
    topic = p
    d = p
    while d != ".":
        topic = d
        parent = _go_dir(d)
        if parent == d:  # a rooted path; cleaning makes it unreachable on the real mux
            break
        d = parent
    return topic


def handler_id_from_path(p: str) -> tuple[str, bool]:
    """The last segment when its directory ends in `handlers/`, else `("", False)`."""
    directory, handler = _go_split(p)
    if not directory.endswith("handlers/"):
        return "", False
    return handler, True


_EVENTS = compile_glob("*/events")
_EVENT = compile_glob("*/events/*")
_HANDLERS = compile_glob("*/handlers")
_HANDLER = compile_glob("*/handlers/*")


def _sub_path(call: Call) -> str:
    return call.path[len(_PREFIX) :] if call.path.startswith(_PREFIX) else ""


# ---- request URI (list self links) ----------------------------------------------------------------

_PATH_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+,/:;=@")
_ENCODED_OK = _PATH_SAFE | frozenset(b"!'()*[]%")


def _escape_path(path: str) -> str:
    """url.PathEscape-like escaping of url.URL.EscapedPath for a decoded path."""
    return "".join(chr(b) if b in _PATH_SAFE else f"%{b:02X}" for b in go_bytes(path))


def request_uri(call: Call) -> str:
    """`r.URL.String()`: the path as the client encoded it (when that encoding is valid and still
    names the routed path) plus `?` and the raw query."""
    env = call.req.env
    raw = env.get("REQUEST_URI") or env.get("RAW_URI") or ""
    raw_path, sep, _ = raw.partition("?")
    path = _escape_path(call.path)
    if raw_path:
        raw_bytes = raw_path.encode("latin-1", "replace")
        if all(b in _ENCODED_OK for b in raw_bytes) and unquote_to_bytes(raw_bytes) == go_bytes(call.path):
            path = raw_path
    query = call.raw_query
    if query or sep:
        return f"{path}?{query}"
    return path


# ---- rendering ------------------------------------------------------------------------------------


def topic_body(topic_id: str, level: int, collected: int) -> dict[str, Any]:
    return {
        "link": link(TOPICS, topic_id),
        "id": topic_id,
        "level": LEVEL_NAMES[level],
        "collected": collected,
        "events-link": link(TOPICS, topic_id, "events", rel="events"),
        "handlers-link": link(TOPICS, topic_id, "handlers", rel="handlers"),
    }


def event_body(topic_id: str, event: EventState) -> dict[str, Any]:
    return {
        "link": link(TOPICS, topic_id, "events", event.id),
        "id": event.id,
        "state": {
            "message": event.message,
            "details": event.details,
            "time": format_ns(event.time),
            "duration": go_duration(event.duration),
            "level": LEVEL_NAMES[event.level],
        },
    }


def handler_body(spec: HandlerSpec) -> dict[str, Any]:
    return {
        "link": link(TOPICS, spec.topic, "handlers", spec.id),
        "id": spec.id,
        "kind": spec.kind,
        "options": spec.options,
        "match": spec.match,
    }


def _validate_pattern(pattern: str) -> None:
    try:
        compile_glob(pattern)
    except GlobSyntaxError as exc:
        raise BadRequest(f"invalid pattern: {exc}") from None


# ---- topics ---------------------------------------------------------------------------------------


@operation("listTopics")
def list_topics(call: Call) -> Reply:
    pattern = call.first("pattern")
    _validate_pattern(pattern)
    min_level = parse_level(call.first("min-level"))
    call.state.engine.advance()  # clock-driven alerts (deadman) due by now reach their topics first
    topics = call.state.alerts.list_topics(pattern, min_level)
    body = {"link": raw_link(request_uri(call)), "topics": [topic_body(*t) for t in topics]}
    return Reply(200, body=body)


def _get_topic(call: Call, topic_id: str) -> Reply:
    state = call.state.alerts.topic_state(topic_id)
    if state is None:
        raise NotFound(f"unknown topic: {go_quote(topic_id)}")
    return Reply(200, body=topic_body(topic_id, *state))


def _list_events(call: Call, topic_id: str) -> Reply:
    min_level = parse_level(call.first("min-level"))
    events = call.state.alerts.event_states(topic_id, min_level)
    body = {
        "link": link(TOPICS, topic_id, "events"),
        "topic": topic_id,
        "events": [event_body(topic_id, e) for e in events],
    }
    return Reply(200, body=body)


def _get_event(call: Call, topic_id: str, event_id: str) -> Reply:
    event = call.state.alerts.event_state(topic_id, event_id)
    if event is None:
        raise NotFound(f"unknown event {go_quote(event_id)} in topic {go_quote(topic_id)}")
    return Reply(200, body=event_body(topic_id, event))


def _list_handlers(call: Call, topic_id: str) -> Reply:
    pattern = call.first("pattern")
    _validate_pattern(pattern)
    specs = call.state.alerts.handler_specs(topic_id, pattern)
    body = {"link": raw_link(request_uri(call)), "topic": topic_id, "handlers": [handler_body(s) for s in specs]}
    return Reply(200, body=body)


def _lookup_handler(call: Call, topic_id: str, handler_id: str) -> HandlerSpec:
    spec = call.state.alerts.handler_spec(topic_id, handler_id)
    if spec is None:
        raise NotFound(f"unknown handler: {go_quote(handler_id)}")
    return spec


@operation("getTopic")
@operation("listTopicEvents")
@operation("getTopicEvent")
@operation("listTopicHandlers")
@operation("getTopicHandler")
def route_get(call: Call) -> Reply:
    p = _sub_path(call)
    topic_id = topic_id_from_path(p)
    call.state.engine.advance()  # clock-driven alerts (deadman) due by now reach their topics first
    if _EVENTS(p):
        return _list_events(call, topic_id)
    if _EVENT(p):
        return _get_event(call, topic_id, _go_base(p))
    if _HANDLERS(p):
        return _list_handlers(call, topic_id)
    if _HANDLER(p):
        handler_id, _ = handler_id_from_path(p)
        return Reply(200, body=handler_body(_lookup_handler(call, topic_id, handler_id)))
    return _get_topic(call, topic_id)


@operation("deleteTopic")
@operation("deleteTopicHandler")
def route_delete(call: Call) -> Reply:
    p = _sub_path(call)
    topic_id = topic_id_from_path(p)
    handler_id, is_handler = handler_id_from_path(p)
    if is_handler:
        call.state.alerts.deregister_handler(topic_id, handler_id)
    else:
        call.state.alerts.delete_topic(topic_id)
    return Reply(204)


# ---- handlers -------------------------------------------------------------------------------------


def _spec_from(fields: dict[str, Any], topic_id: str) -> HandlerSpec:
    """The body's `topic` is decoded (type errors count) but the path's topic wins."""
    return HandlerSpec(
        id=fields.get("id", ""),
        topic=topic_id,
        kind=fields.get("kind", ""),
        options=fields.get("options"),
        match=fields.get("match", ""),
    )


def route_post(call: Call) -> Reply:
    topic_id = topic_id_from_path(_sub_path(call))
    try:
        fields = decode_spec(call.body())
    except gojson.DecodeError as exc:
        raise BadRequest(f"invalid handler json: {exc}") from None
    spec = _spec_from(fields, topic_id)
    validate_spec(spec)
    call.state.alerts.register_handler(spec)
    return Reply(200, body=handler_body(spec))


def route_put(call: Call) -> Reply:
    p = _sub_path(call)
    topic_id = topic_id_from_path(p)
    handler_id, _ = handler_id_from_path(p)
    _lookup_handler(call, topic_id, handler_id)  # a missing handler wins over a bad body
    try:
        fields = decode_spec(call.body())  # decoding a large body never holds the lock
    except gojson.DecodeError as exc:
        raise BadRequest(f"failed to unmarshal JSON: {exc}") from None
    new = _spec_from(fields, topic_id)
    validate_spec(new)
    with call.state.lock:
        old = _lookup_handler(call, topic_id, handler_id)
        call.state.alerts.update_handler(old, new)
    return Reply(200, body=handler_body(new))


def route_patch(call: Call) -> Reply:
    p = _sub_path(call)
    topic_id = topic_id_from_path(p)
    handler_id, _ = handler_id_from_path(p)
    # The patch runs outside the global lock; a concurrent change of the same handler retries it.
    for _attempt in range(_PATCH_ATTEMPTS):
        old = _lookup_handler(call, topic_id, handler_id)
        try:
            new = call.state.alerts.patch_handler(old, call.body())
        except ConcurrentChange:
            continue
        return Reply(200, body=handler_body(new))
    raise KapacitorError(f"handler {go_quote(handler_id)} kept changing while it was patched; retry", 409)


_PATCH_ATTEMPTS = 8


operation("createTopicHandler")(route_post)
operation("replaceTopicHandler")(route_put)
operation("patchTopicHandler")(route_patch)

#: POST/PUT/PATCH on `/alerts/topics/<anything>` reach the same sub-router on the real server. The
#: spec expresses them as extra operations on the rest-parameter path; bind them when it has them.
FALLBACK_OPERATIONS: dict[str, Handler] = {
    "createTopicHandlerFallback": route_post,
    "replaceTopicHandlerFallback": route_put,
    "patchTopicHandlerFallback": route_patch,
}
_spec_ids = {op.operation_id for op in spec_operations()}
for _op_id, _handler in FALLBACK_OPERATIONS.items():
    if _op_id in _spec_ids:
        operation(_op_id)(_handler)


# ---- mock-only event injection --------------------------------------------------------------------


def _level(item: Any, where: str) -> int:
    if not isinstance(item, str):
        raise gojson.DecodeError(f"level must be a string, one of {', '.join(LEVEL_NAMES)}")
    try:
        return parse_level(item)
    except BadRequest as exc:
        raise gojson.DecodeError(exc.message) from None


def _time(item: Any, where: str) -> int:
    if not isinstance(item, str):
        raise gojson.DecodeError("time must be an RFC 3339 string")
    try:
        return parse_rfc3339(item)
    except ValueError as exc:
        raise gojson.DecodeError(str(exc)) from None


def _duration(item: Any, where: str) -> int:
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    if not isinstance(item, str):
        raise gojson.DecodeError("duration must be a Go duration string (e.g. 5m0s) or integer nanoseconds")
    try:
        return parse_go_duration(item)
    except ValueError as exc:
        raise gojson.DecodeError(str(exc)) from None


EVENT_FIELDS: dict[str, gojson.Kind] = {
    "id": "string", "message": "string", "details": "string", "time": _time, "duration": _duration, "level": _level,
}  # fmt: skip


@control("POST", "/mock/alerts/topics/{topic}/events")
def inject_event(call: Call) -> Reply:
    """Collect an event on a topic as an alert node would (creates the topic, counts, re-sorts).

    Body: {"id", "message", "details", "time" (RFC 3339, default now), "duration" (Go duration
    string or ns, default 0), "level" (OK/INFO/WARNING/CRITICAL, default OK)}. Answers the event as
    `GET .../topics/<topic>/events/<id>` would.
    """
    topic_id = call.params.get("topic", "")
    if not is_valid_topic_id(topic_id):
        raise BadRequest(f"invalid topic ID {go_quote(topic_id)}")
    try:
        fields = gojson.decode_struct(call.body(), "Event", EVENT_FIELDS)
    except gojson.DecodeError as exc:
        raise BadRequest(f"invalid event json: {exc}") from None
    event_id = fields.get("id", "")
    if not event_id:
        raise BadRequest("event id must not be empty")
    event = EventState(
        id=event_id,
        message=fields.get("message", ""),
        details=fields.get("details", ""),
        time=fields["time"] if "time" in fields else call.state.clock(),
        duration=fields.get("duration", 0),
        level=fields.get("level", 0),
    )
    stored = call.state.alerts.collect(topic_id, event)
    return Reply(200, body=event_body(topic_id, stored))
