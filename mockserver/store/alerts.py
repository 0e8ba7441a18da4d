"""Alert topics, their events, and topic handler specs: the alert service of the real server, without HTTP.

Observable quirks are kept on purpose because clients and conformance checks see them:

* A topic's level is the level of the first entry of its event list as the server keeps it, sorted
  after every new event or level change with Go's `sort.Sort` and the server's comparator, which is
  not a strict order ("higher level first, *or* smaller ID first"). With several events the topic
  level is therefore not always the maximum, and `min-level` filtering stops at the first event
  below the level. The Go sort algorithms are reproduced so the order matches the real server.
* Deleting a topic drops its events but keeps its handler specs (they are listed afterwards).
* Handler specs are patched with a port of the JSON Patch library the server uses (evanphx
  json-patch v4.9.0), whose semantics differ from RFC 6902 in places (`replace` of a missing
  object key adds it, arrays accept negative indices) and whose error texts clients see verbatim.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mockserver import gojson
from mockserver.config import version_tuple
from mockserver.errors import BadRequest, KapacitorError, MockError, ServerError
from mockserver.gotext import go_quote
from mockserver.store import handler_kinds
from mockserver.store.gosort import GoSort
from mockserver.store.jsonpatch import (
    SPEC_STRUCT,
    PatchError,
    PatchPanic,
    decode_patch,
    from_raw,
    library_for,
    to_raw,
)
from mockserver.store.listing import GlobSyntaxError, SortedIndex, compile_glob
from mockserver.store.state import StoreState
from spec.ids import is_valid_id, is_valid_topic_id

# ---- levels ---------------------------------------------------------------------------------------

OK, INFO, WARNING, CRITICAL = range(4)
LEVEL_NAMES = ("OK", "INFO", "WARNING", "CRITICAL")
_LEVEL_TEXT = "OKINFOWARNINGCRITICAL"
_LEVEL_OFFSETS = (0, 2, 6, 13)


def go_upper(text: str) -> str:
    """strings.ToUpper: simple (one-to-one) case mapping, so `ß` stays `ß`."""
    out = []
    for ch in text:
        up = ch.upper()
        out.append(up if len(up) == 1 else ch)
    return "".join(out)


def parse_level(text: str) -> int:
    """alert.ParseLevel: the upper-cased text must occur in "OKINFOWARNINGCRITICAL" (first occurrence)
    exactly where a level name starts, so `""`, `w`, `crit` and even `OKINFO` are accepted."""
    upper = go_upper(text)
    idx = _LEVEL_TEXT.find(upper)
    if idx in _LEVEL_OFFSETS:
        return _LEVEL_OFFSETS.index(idx)
    raise BadRequest(f"unknown alert level '{upper}'")


# ---- models ---------------------------------------------------------------------------------------


@dataclass
class EventState:
    id: str
    message: str = ""
    details: str = ""
    time: int | None = None  # ns since the epoch; None is Go's zero time
    duration: int = 0  # ns
    level: int = OK

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "message": self.message, "details": self.details, "time": self.time,
                "duration": self.duration, "level": LEVEL_NAMES[self.level]}  # fmt: skip


def _event_less(a: EventState, b: EventState) -> bool:
    """The server's comparator, verbatim in effect: not a strict weak order."""
    if a.level > b.level:
        return True
    return a.id < b.id


@dataclass
class Topic:
    id: str
    events: dict[str, EventState] = field(default_factory=dict)
    #: The server's `sorted` slice: events in the order its (quirky) sorting left them.
    sorted: list[EventState] = field(default_factory=list)
    collected: int = 0

    @property
    def level(self) -> int:
        return self.sorted[0].level if self.sorted else OK

    def update_event(self, state: EventState, legacy_sort: bool) -> None:
        cur = self.events.get(state.id)
        need_sort = cur is None
        if cur is None:
            cur = EventState(state.id)
            self.events[state.id] = cur
            self.sorted.append(cur)
        need_sort = need_sort or cur.level != state.level
        cur.message, cur.details, cur.time = state.message, state.details, state.time
        cur.duration, cur.level = state.duration, state.level
        if need_sort:
            GoSort(self.sorted, _event_less).sort(legacy_sort)

    def event_states(self, min_level: int) -> list[EventState]:
        out = []
        for event in self.sorted:
            if event.level < min_level:
                break
            out.append(event)
        return out


@dataclass
class HandlerSpec:
    id: str
    topic: str
    kind: str
    options: dict[str, Any] | None
    match: str

    def marshal(self) -> dict[str, Any]:
        """`json.Marshal(HandlerSpec)`: the document a PATCH applies to."""
        return {"id": self.id, "topic": self.topic, "kind": self.kind, "options": self.options, "match": self.match}


# ---- decoding handler specs -----------------------------------------------------------------------



def go_json_number(value: int | float) -> int | float:
    """A JSON number as it comes back out of Go after a float64 round trip (`1.0` → `1`, big ints rounded)."""
    f = float(value)
    if f.is_integer() and abs(f) < 1e21:
        return int(Decimal(repr(f)))
    return f


def normalize_json(value: Any) -> Any:
    """A value as Go re-encodes `interface{}`: float64 numbers, object keys sorted."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return go_json_number(value)
    if isinstance(value, list):
        return [normalize_json(v) for v in value]
    return {k: normalize_json(value[k]) for k in sorted(value)}


def _check_finite(value: Any) -> None:
    """Numbers beyond float64 fail to decode into interface{} on the server."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            finite = abs(float(value)) != float("inf")
        except OverflowError:
            finite = False
        if not finite:
            raise gojson.UnmarshalTypeError(
                f"json: cannot unmarshal number into Go struct field {SPEC_STRUCT}.options of type float64"
            )
    if isinstance(value, list):
        for v in value:
            _check_finite(v)
    elif isinstance(value, dict):
        for v in value.values():
            _check_finite(v)


def _options(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise gojson.type_error(item, SPEC_STRUCT, "options", "map[string]interface {}")
    _check_finite(item)
    normalized: dict[str, Any] = normalize_json(item)
    return normalized


SPEC_FIELDS: dict[str, gojson.Kind] = {
    "id": "string", "topic": "string", "kind": "string", "options": _options, "match": "string",
}  # fmt: skip


def decode_spec(body: bytes | Any, *, raw: bool = False) -> dict[str, Any]:
    """Decode a HandlerSpec body like `json.NewDecoder(r).Decode(&HandlerSpec{})`; raises DecodeError."""
    return gojson.decode_struct(body, SPEC_STRUCT, SPEC_FIELDS, raw=raw, go_type="alert.HandlerSpec")


def validate_spec(spec: HandlerSpec) -> None:
    """HandlerSpec.Validate; the topic message prints the handler ID (a real server bug)."""
    if not is_valid_topic_id(spec.topic):
        raise BadRequest(
            f"invalid handler spec: handler topic must contain only letters, numbers, '-', '.' and '_'. {go_quote(spec.id)}"
        )
    if not is_valid_id(spec.id):
        raise BadRequest(
            f"invalid handler spec: handler ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(spec.id)}"
        )
    if spec.kind == "":
        raise BadRequest("invalid handler spec: handler Kind must not be empty")


def _match_error(match: str) -> str | None:
    """Errors of `newMatchHandler`: the lambda must parse and use only the level identifiers."""
    try:
        from mockserver.tickscript.parser import ParseError, parse_lambda
    except ImportError:  # pragma: no cover - the engine is optional for this check
        return None
    try:
        lam = parse_lambda(match)
    except ParseError as exc:
        return f"invalid match expression: {exc}"
    except Exception:  # pragma: no cover - an engine bug must not fail handler creation
        return None
    for ident in _identifiers(lam):
        if ident not in LEVEL_NAMES:
            return f"unknown identifier {go_quote(ident)}"
    return None


def _identifiers(node: Any) -> Iterator[str]:
    from mockserver.tickscript import ast

    if isinstance(node, ast.Identifier):
        yield node.ident
    if isinstance(node, list):
        for item in node:
            yield from _identifiers(item)
        return
    if not isinstance(node, ast.Node):
        return
    for cls in type(node).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot in ("comment", "pos"):
                continue
            child = getattr(node, slot, None)
            if isinstance(child, (ast.Node, list)):
                yield from _identifiers(child)


# ---- the store ------------------------------------------------------------------------------------


class ConcurrentChange(MockError):
    """The handler spec changed between reading it and committing an update computed from it."""


class AlertStore:
    """Topics (events, levels) and handler specs, behind the mock state's lock."""

    def __init__(self, state: StoreState) -> None:
        self.state = state
        self._lock = state.lock
        self.topics: dict[str, Topic] = {}
        self.topic_index = SortedIndex()
        #: topic → handler ID → spec; survives topic deletion, as on the real server.
        self.handlers: dict[str, dict[str, HandlerSpec]] = {}

    # ---- configuration

    @property
    def _version(self) -> tuple[int, int, int]:
        return version_tuple(self.state.config.kapacitor_version)

    @property
    def _legacy_sort(self) -> bool:
        """Releases before 1.7 were built with a Go whose sort.Sort predates pdqsort."""
        return self._version < (1, 7)

    # ---- topics

    def _ensure_topic(self, topic_id: str) -> Topic:
        topic = self.topics.get(topic_id)
        if topic is None:
            topic = self.topics[topic_id] = Topic(topic_id)
            self.topic_index.add(topic_id)
            self._touch_topic(topic_id)
        return topic

    def _touch_topic(self, topic_id: str) -> None:
        self.state.touch("alerts", "topics", topic_id)

    def _touch_handler(self, topic_id: str, handler_id: str) -> None:
        self.state.touch("alerts", "handlers", json.dumps([topic_id, handler_id], ensure_ascii=False))

    def list_topics(self, pattern: str, min_level: int) -> list[tuple[str, int, int]]:
        """(id, level, collected) of matching topics at or above `min_level`, sorted by ID."""
        with self._lock:
            window = self.topic_index.deferred(pattern, 0, len(self.topic_index))
        ids = window()  # glob matching outside the lock
        with self._lock:
            out = []
            for topic_id in ids:
                topic = self.topics.get(topic_id)
                if topic is not None and topic.level >= min_level:
                    out.append((topic_id, topic.level, topic.collected))
            return out

    def topic_state(self, topic_id: str) -> tuple[int, int] | None:
        with self._lock:
            topic = self.topics.get(topic_id)
            return None if topic is None else (topic.level, topic.collected)

    def event_states(self, topic_id: str, min_level: int) -> list[EventState]:
        with self._lock:
            topic = self.topics.get(topic_id)
            if topic is None:
                raise ServerError(f"failed to get topic events: unknown topic {go_quote(topic_id)}")
            return [copy.copy(e) for e in topic.event_states(min_level)]

    def event_state(self, topic_id: str, event_id: str) -> EventState | None:
        with self._lock:
            topic = self.topics.get(topic_id)
            event = topic.events.get(event_id) if topic is not None else None
            return copy.copy(event) if event is not None else None

    def delete_topic(self, topic_id: str) -> None:
        """Events and state go; handler specs stay (and are listed under the topic afterwards)."""
        with self._lock:
            if self.topics.pop(topic_id, None) is not None:
                self.topic_index.discard(topic_id)
                self._touch_topic(topic_id)

    def collect(self, topic_id: str, event: EventState) -> EventState:
        """An alert event arriving on a topic (creates the topic, counts it, re-sorts)."""
        with self._lock:
            topic = self._ensure_topic(topic_id)
            topic.update_event(event, self._legacy_sort)
            topic.collected += 1
            self._touch_topic(topic_id)
            return copy.copy(topic.events[event.id])

    def restore_events(self, topic_id: str, events: list[EventState]) -> None:
        """RestoreTopic: a restarted alert node's topic comes back with its saved event states
        (not counted as collected)."""
        with self._lock:
            topic = self._ensure_topic(topic_id)
            for event in events:
                topic.update_event(copy.copy(event), self._legacy_sort)

    # ---- handler specs

    def handler_specs(self, topic_id: str, pattern: str) -> list[HandlerSpec]:
        with self._lock:
            specs = list(self.handlers.get(topic_id, {}).items())
        if not pattern:
            chosen = [s for _hid, s in specs]
        else:  # glob matching outside the lock (specs are immutable once stored)
            try:
                match = compile_glob(pattern)
            except GlobSyntaxError:
                chosen = []
            else:
                chosen = [s for hid, s in specs if match(hid)]
        return sorted(chosen, key=lambda s: s.id)

    def handler_spec(self, topic_id: str, handler_id: str) -> HandlerSpec | None:
        with self._lock:
            return self.handlers.get(topic_id, {}).get(handler_id)

    def _build(self, spec: HandlerSpec) -> str | None:
        """createHandlerFromSpec: the error text, or None when the handler can be built."""
        try:
            handler_kinds.build_handler(spec.kind, spec.options, self._version)
        except handler_kinds.HandlerBuildError as exc:
            return str(exc)
        if spec.match:
            return _match_error(spec.match)
        return None

    def register_handler(self, spec: HandlerSpec) -> HandlerSpec:
        validate_spec(spec)
        error = self._build(spec)
        if error is not None:
            raise ServerError(f"failed to create handler: {error}")
        with self._lock:
            if spec.id in self.handlers.get(spec.topic, {}):
                raise ServerError(
                    f"failed to create handler: cannot register handler, handler with ID {go_quote(spec.id)} already exists"
                )
            self.handlers.setdefault(spec.topic, {})[spec.id] = spec
            self._touch_handler(spec.topic, spec.id)
            self._ensure_topic(spec.topic)
            return spec

    def update_handler(self, old: HandlerSpec, new: HandlerSpec, *, unchanged: bool = False) -> HandlerSpec:
        """UpdateHandlerSpec; a new ID renames (silently replacing a handler that had that ID).

        `unchanged=True` commits only if `old` is still the stored spec (ConcurrentChange if not):
        callers compute `new` outside the lock and retry."""
        validate_spec(new)
        if new.topic != old.topic:
            raise ServerError("failed to update handler: cannot change topic in update")
        error = self._build(new)
        if error is not None:
            raise ServerError(f"failed to update handler: {error}")
        with self._lock:
            if unchanged and self.handlers.get(old.topic, {}).get(old.id) is not old:
                raise ConcurrentChange(old.id)
            specs = self.handlers.setdefault(new.topic, {})
            specs.pop(old.id, None)
            specs[new.id] = new
            self._touch_handler(new.topic, old.id)
            self._touch_handler(new.topic, new.id)
            self._ensure_topic(new.topic)
            return new

    def patch_handler(self, old: HandlerSpec, body: bytes) -> HandlerSpec:
        """PATCH after the existence check, in the server's order of failures. The patch runs
        outside the lock on a copy; the commit fails with ConcurrentChange if `old` was replaced."""
        library = library_for(self._version)
        try:
            ops = decode_patch(body, library)
        except gojson.DecodeError as exc:
            raise BadRequest(f"invalid patch json: {exc}") from None
        try:
            patched = library.apply(to_raw(old.marshal()), ops)
        except PatchError as exc:
            raise BadRequest(f"failed to apply patch: {exc}") from None
        except PatchPanic as exc:
            raise KapacitorError(f"failed to apply patch: {exc}", 500) from None
        try:
            ordered = {k: from_raw(patched[k]) for k in sorted(patched)}
            fields = decode_spec(ordered, raw=True)
        except gojson.DecodeError as exc:
            raise ServerError(f"failed to unmarshal patched json: {exc}") from None
        new = HandlerSpec(
            id=fields.get("id", ""),
            topic=fields.get("topic", old.topic),
            kind=fields.get("kind", ""),
            options=fields.get("options"),
            match=fields.get("match", ""),
        )
        validate_spec(new)
        return self.update_handler(old, new, unchanged=True)

    def deregister_handler(self, topic_id: str, handler_id: str) -> None:
        with self._lock:
            specs = self.handlers.get(topic_id)
            if specs is not None:
                if specs.pop(handler_id, None) is not None:
                    self._touch_handler(topic_id, handler_id)
                if not specs:  # one dict per topic ever seen would leak
                    del self.handlers[topic_id]

    # ---- backup

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "topics": [_topic_json(self.topics[i]) for i in self.topic_index],
                "handlers": [
                    s.marshal()
                    for topic in sorted(self.handlers)
                    for s in sorted(self.handlers[topic].values(), key=lambda s: s.id)
                ],
            }

    def item(self, section: str, key: str) -> dict[str, Any] | None:
        """One topic (with its events) or handler spec of the snapshot (None: it is gone)."""
        if section == "topics":
            topic = self.topics.get(key)
            return None if topic is None else _topic_json(topic)
        topic_id, handler_id = json.loads(key)
        spec = self.handlers.get(topic_id, {}).get(handler_id)
        return None if spec is None else spec.marshal()

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.topics.clear()
            self.topic_index = SortedIndex()
            self.handlers.clear()
            for item in data.get("topics", []):
                topic = self._ensure_topic(item["id"])
                topic.collected = int(item.get("collected", 0))
                for e in item.get("events", []):
                    event = EventState(
                        id=e["id"],
                        message=e.get("message", ""),
                        details=e.get("details", ""),
                        time=e.get("time"),
                        duration=int(e.get("duration", 0)),
                        level=LEVEL_NAMES.index(e.get("level", "OK")),
                    )
                    topic.events[event.id] = event
                    topic.sorted.append(event)
            for s in data.get("handlers", []):
                spec = HandlerSpec(s["id"], s["topic"], s["kind"], s.get("options"), s.get("match", ""))
                self.handlers.setdefault(spec.topic, {})[spec.id] = spec


def _topic_json(topic: Topic) -> dict[str, Any]:
    return {"id": topic.id, "collected": topic.collected, "events": [e.to_dict() for e in topic.sorted]}
