"""Recording handlers: decode like Go (raw decoder errors are the 400 text), store, render.

The replay service reports a body it cannot decode with the decoder's own error text, so the
decoding here reproduces what a client can see of Go's `encoding/json`: type mismatches are
remembered and decoding goes on (the first one is reported), while errors raised by a field's own
unmarshaller (times, `type`, `clock`) stop decoding at once and win.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mockserver import gojson, gotime
from mockserver.errors import BadRequest, ServerError, unsupported_field
from mockserver.gojson import DecodeError, json_kind
from mockserver.operations.common import list_fields, paging, path_id
from mockserver.operations.registry import Call, Reply, operation
from mockserver.render import BASE, link
from mockserver.store.recordings import RecordBatch, Recording, RecordQuery, RecordStream

RECORDING_FIELDS = ("link", "id", "type", "size", "date", "error", "status", "progress")

# ---- Go-style struct decoding -------------------------------------------------------------------

Converter = Callable[[Any, str, str], Any] | gojson.RawText


class TypeMismatch(gojson.UnmarshalTypeError):
    """A JSON value of the wrong kind for a field: Go notes it and keeps decoding."""


def _mismatch(value: Any, struct: str, name: str, go_type: str) -> TypeMismatch:
    return TypeMismatch(f"json: cannot unmarshal {json_kind(value)} into Go struct field {struct}.{name} of type {go_type}")


def string(value: Any, struct: str, name: str) -> str:
    if isinstance(value, str):
        return value
    raise _mismatch(value, struct, name, "string")


def boolean(value: Any, struct: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _mismatch(value, struct, name, "bool")


def _unmarshal_time(value: Any, raw: str) -> int | None:
    try:
        return gotime.unmarshal_time(raw)
    except ValueError as exc:
        raise DecodeError(str(exc)) from None


#: `time.Time`'s own UnmarshalJSON, given the value's JSON text as sent: Parse(`"`+RFC3339+`"`, text),
#: whatever kind of value it is; its error is fatal.
go_time = gojson.RawText(_unmarshal_time)


def text_enum(values: tuple[str, ...], go_type: str) -> Converter:
    """A client enum with UnmarshalText: unknown text is fatal, a non-string is a type mismatch."""
    short = go_type.rpartition(".")[2]

    def convert(value: Any, struct: str, name: str) -> str:
        if not isinstance(value, str):
            raise _mismatch(value, struct, name, go_type)
        if value not in values:
            raise DecodeError(f"unknown {short} {value}")
        return value

    return convert


def _fold(key: str) -> str:
    # Go matches keys case-insensitively with Unicode simple folding: `ſ` is an `s`, `K` (Kelvin) a `k`.
    return key.replace("\u017f", "s").lower()


def decode(body: bytes, struct: str, fields: Mapping[str, Converter]) -> dict[str, Any]:
    """Decode `body` into the named `client.<struct>` fields; raise DecodeError with Go's text."""
    value = gojson.decode_document(body)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DecodeError(f"json: cannot unmarshal {json_kind(value)} into Go value of type client.{struct}")
    folded = {_fold(name): name for name in fields}
    out: dict[str, Any] = {}
    saved: TypeMismatch | None = None
    for key, item, raw in gojson.object_members(body):
        name = key if key in fields else folded.get(_fold(key))
        if name is None or item is None:
            continue
        convert = fields[name]
        if isinstance(convert, gojson.RawText):
            out[name] = convert.convert(gojson.field_value(item), raw)
            continue
        try:
            out[name] = convert(gojson.field_value(item), struct, name)
        except TypeMismatch as exc:
            saved = saved or exc
    if saved is not None:
        raise saved
    return out


def decode_request(call: Call, struct: str, fields: Mapping[str, Converter]) -> dict[str, Any]:
    try:
        return decode(call.body(), struct, fields)
    except DecodeError as exc:
        raise BadRequest(str(exc)) from None


TASK_TYPE = text_enum(("stream", "batch", "invalid"), "client.TaskType")

RECORD_STREAM: dict[str, Converter] = {"id": string, "task": string, "stop": go_time}
RECORD_BATCH: dict[str, Converter] = {"id": string, "task": string, "start": go_time, "stop": go_time}
RECORD_QUERY = {"id": string, "query": string, "type": TASK_TYPE, "cluster": string}


# ---- rendering ------------------------------------------------------------------------------------


def recording_link(recording_id: str) -> dict[str, str]:
    return link(BASE, "recordings", recording_id)


def recording_value(recording: Recording, name: str) -> Any:
    if name == "link":
        return recording_link(recording.id)
    if name == "id":
        return recording.id
    if name == "type":
        return recording.type
    if name == "size":
        return recording.size
    if name == "date":
        return gotime.format_ns(recording.date)
    if name == "error":
        return recording.error
    if name == "status":
        return recording.status
    if name == "progress":
        return gojson.go_number(recording.progress)
    raise KeyError(name)


def recording_body(recording: Recording) -> dict[str, Any]:
    return {name: recording_value(recording, name) for name in RECORDING_FIELDS}


def list_document(key: str, items: list[Any], fields: tuple[str, ...], value: Callable[[Any, str], Any]) -> bytes:
    """Items as Go maps (keys sorted); an unknown field fails on the first item, so never when empty."""
    fragments = []
    for item in items:
        obj: dict[str, Any] = {}
        for name in fields:
            try:
                obj[name] = value(item, name)
            except KeyError:
                raise unsupported_field(name) from None
        fragments.append(gojson.pretty_fragment(dict(sorted(obj.items()))))
    return gojson.pretty_list_document(key, fragments)


# ---- handlers ---------------------------------------------------------------------------------


@operation("listRecordings")
def list_recordings(call: Call) -> Reply:
    pattern = call.first("pattern")
    fields = list_fields(call, RECORDING_FIELDS)
    offset, limit = paging(call)
    recordings = call.state.recordings.list_recordings(pattern, offset, limit)
    return Reply(200, raw=list_document("recordings", recordings, fields, recording_value))


@operation("getRecording")
def get_recording(call: Call) -> Reply:
    recording_id = path_id(call, "id", "recording")
    recording = call.state.recordings.get_recording(recording_id)
    if recording is None:
        raise ServerError("error finding recording: no recording exists")
    return Reply(202 if recording.status == "running" else 200, body=recording_body(recording))


@operation("deleteRecording")
def delete_recording(call: Call) -> Reply:
    call.state.recordings.delete_recording(path_id(call, "id", "recording"))
    return Reply(204)


@operation("recordStream")
def record_stream(call: Call) -> Reply:
    req = decode_request(call, "RecordStreamOptions", RECORD_STREAM)
    return Reply(201, body=recording_body(call.state.recordings.record_stream(RecordStream.of(req))))


@operation("recordBatch")
def record_batch(call: Call) -> Reply:
    req = decode_request(call, "RecordBatchOptions", RECORD_BATCH)
    return Reply(201, body=recording_body(call.state.recordings.record_batch(RecordBatch.of(req))))


@operation("recordQuery")
def record_query(call: Call) -> Reply:
    req = decode_request(call, "RecordQueryOptions", RECORD_QUERY)
    return Reply(201, body=recording_body(call.state.recordings.record_query(RecordQuery.of(req))))
