"""Replay handlers: the recording handlers' Go-style decoding, the replay store, the client's shapes."""

from __future__ import annotations

from typing import Any

from mockserver import gojson, gotime
from mockserver.errors import NotFound
from mockserver.operations.common import list_fields, paging, path_id
from mockserver.operations.recordings import (
    Converter,
    boolean,
    decode_request,
    go_time,
    list_document,
    string,
    text_enum,
)
from mockserver.operations.registry import Call, Reply, operation
from mockserver.operations.tasks import NODE_STAT_KEYS
from mockserver.render import BASE, link
from mockserver.store.recordings import Replay, ReplayBatch, ReplayQuery, ReplayRecording

REPLAY_FIELDS = ("link", "id", "recording", "task", "recording-time", "clock", "date", "error", "status", "progress")
#: The client's Replay struct order (single GET and create bodies).
SINGLE_ORDER = (
    "link", "id", "task", "recording", "recording-time", "clock", "date", "error", "status", "progress", "stats",
)  # fmt: skip

CLOCK = text_enum(("fast", "real"), "client.Clock")
CREATE_REPLAY = {"id": string, "recording": string, "task": string, "recording-time": boolean, "clock": CLOCK}
REPLAY_BATCH: dict[str, Converter] = {
    "id": string, "task": string, "start": go_time, "stop": go_time, "recording-time": boolean, "clock": CLOCK,
}  # fmt: skip
REPLAY_QUERY = {
    "id": string, "task": string, "query": string, "cluster": string, "recording-time": boolean, "clock": CLOCK,
}  # fmt: skip


def replay_link(replay_id: str) -> dict[str, str]:
    return link(BASE, "replays", replay_id)


def replay_stats(replay: Replay) -> dict[str, Any]:
    """`{}` unless finished; then the replayed task's execution stats (nothing flowed: zeros)."""
    if replay.status != "finished":
        return {}
    stats: dict[str, Any] = {"task-stats": {"throughput": 0}}
    if replay.node_stats is not None:  # the data plane ran the task over a stream recording
        stats["node-stats"] = replay.node_stats
    elif replay.nodes:
        stats["node-stats"] = {name: dict.fromkeys(NODE_STAT_KEYS, 0) for name in sorted(replay.nodes)}
    return stats


def replay_value(replay: Replay, name: str) -> Any:
    """A list field; `stats` is not one (the server answers `unsupported field "stats"`)."""
    if name == "link":
        return replay_link(replay.id)
    if name == "id":
        return replay.id
    if name == "recording":
        return replay.recording
    if name == "task":
        return replay.task
    if name == "recording-time":
        return replay.recording_time
    if name == "clock":
        return replay.clock
    if name == "date":
        return gotime.format_ns(replay.date)
    if name == "error":
        return replay.error
    if name == "status":
        return replay.status
    if name == "progress":
        return gojson.go_number(replay.progress)
    raise KeyError(name)


def replay_body(replay: Replay) -> dict[str, Any]:
    return {name: replay_stats(replay) if name == "stats" else replay_value(replay, name) for name in SINGLE_ORDER}


@operation("listReplays")
def list_replays(call: Call) -> Reply:
    pattern = call.first("pattern")
    fields = list_fields(call, REPLAY_FIELDS)
    offset, limit = paging(call)
    replays = call.state.recordings.list_replays(pattern, offset, limit)
    return Reply(200, raw=list_document("replays", replays, fields, replay_value))


@operation("getReplay")
def get_replay(call: Call) -> Reply:
    replay = call.state.recordings.get_replay(path_id(call, "id", "replay"))
    if replay is None:
        raise NotFound("could not find replay: no replay exists")
    return Reply(202 if replay.status == "running" else 200, body=replay_body(replay))


@operation("deleteReplay")
def delete_replay(call: Call) -> Reply:
    call.state.recordings.delete_replay(path_id(call, "id", "replay"))
    return Reply(204)


@operation("createReplay")
def create_replay(call: Call) -> Reply:
    req = decode_request(call, "CreateReplayOptions", CREATE_REPLAY)
    return Reply(201, body=replay_body(call.state.recordings.replay_recording(ReplayRecording.of(req))))


@operation("replayBatch")
def replay_batch(call: Call) -> Reply:
    req = decode_request(call, "ReplayBatchOptions", REPLAY_BATCH)
    return Reply(201, body=replay_body(call.state.recordings.replay_batch(ReplayBatch.of(req))))


@operation("replayQuery")
def replay_query(call: Call) -> Reply:
    req = decode_request(call, "ReplayQueryOptions", REPLAY_QUERY)
    return Reply(201, body=replay_body(call.state.recordings.replay_query(ReplayQuery.of(req))))
