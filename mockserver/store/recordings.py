"""Recordings and replays: the replay service of the real server, without HTTP or files.

Both run asynchronously on Kapacitor: a create answers `running` and a client polls until the
object is `finished` or `failed`. Here nothing runs in the background. Each create registers a
*run* with a deadline (or, for stream recordings, a filter over written points); every access
first *settles* the runs that are due, in deadline order, exactly as if they had completed at
their deadline. So the lifecycle a client observes is the real one, there are no threads to leak,
and tests can drive it with an injected clock. A replay of a stream recording runs its task on the
data plane in the create request, outside the shared lock (the one piece of work here that grows
with the data, up to `MAX_RECORDED_POINTS`); its run does not finish before that work is done.

Choices where the mock cannot do what the server does:
* There is no InfluxDB behind the mock, so batch and query recordings, and batch/query replays,
  **finish successfully** (a server without InfluxDB fails them with `InfluxDB not configured,
  cannot record batch query`): clients need the success path. Their size is that of the empty
  container Kapacitor writes (an empty zip for batch data, an empty gzip stream for stream data).
  A query that is not one fully qualified measurement fails at once with the server's own error,
  as it does before any InfluxDB is asked (`store/influxql_source.py`).
* A stream recording records the points written through /write that its task would receive and
  finishes at the first such point after `stop`, as on the server; it also finishes by itself after
  `MockConfig.stream_timeout` seconds, but never before `stop` (a live feed would have ended it
  there), so a client that writes no points still sees it end.
  Its size counts the uncompressed recording lines (the server reports the gzip file size).
* Deleting a recording or replay drops its pending run (the server lets it run to completion and
  then fails to save the result, which is observably the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, TypeVar

from sortedcontainers import SortedList

from mockserver import tickscript
from mockserver.config import version_tuple
from mockserver.errors import BadRequest, NotFound, ServerError, must_provide_query, replay_exists
from mockserver.gotext import go_quote
from mockserver.gotime import format_seconds
from mockserver.store.influxql_source import query_error
from mockserver.store.lineprotocol import Point
from mockserver.store.listing import GlobSyntaxError, compile_glob
from mockserver.store.state import StoreState
from mockserver.store.tasks import batch_dbrps_error, start_error
from mockserver.tickscript.dot import node_names
from spec.ids import ID_PATTERN, is_valid_id

RUNNING, FINISHED, FAILED = "running", "finished", "failed"
#: Sizes of the empty data files Kapacitor writes: a zip archive without entries (batch data) and
#: a gzip stream without content (stream data).
EMPTY_BATCH_SIZE = 22
EMPTY_STREAM_SIZE = 23
#: `time.Time{}` in Unix nanoseconds; Go's IsZero() is true for it.
ZERO_TIME_NS = -62135596800 * 1_000_000_000
SHUTDOWN_ERROR = "unexpected Kapacitor shutdown"
#: Points a stream recording keeps for replays (the size still counts every point recorded).
MAX_RECORDED_POINTS = 20_000


# ---- request inputs (built by the operations layer from the decoded body) ---------------------------

_I = TypeVar("_I", bound="_Input")


@dataclass(frozen=True)
class _Input:
    id: str = ""

    @classmethod
    def of(cls: type[_I], decoded: Mapping[str, Any]) -> _I:
        """From the decoded field map: JSON `recording-time` is the field `recording_time`."""
        return cls(**{f.name: decoded[key] for f in fields(cls) if (key := f.name.replace("_", "-")) in decoded})


@dataclass(frozen=True)
class RecordStream(_Input):
    task: str = ""
    stop: int | None = None  # ns; None or Go's zero time: no stop asked for


@dataclass(frozen=True)
class RecordBatch(_Input):
    task: str = ""
    start: int = ZERO_TIME_NS
    stop: int | None = None


@dataclass(frozen=True)
class RecordQuery(_Input):
    query: str = ""
    type: str = "invalid"  # the decoder's zero TaskType
    cluster: str = ""


@dataclass(frozen=True)
class _ReplayInput(_Input):
    task: str = ""
    recording_time: bool = False
    clock: str = "fast"


@dataclass(frozen=True)
class ReplayRecording(_ReplayInput):
    recording: str = ""


@dataclass(frozen=True)
class ReplayBatch(_ReplayInput):
    start: int = ZERO_TIME_NS
    stop: int | None = None


@dataclass(frozen=True)
class ReplayQuery(_ReplayInput):
    query: str = ""
    cluster: str = ""


# ---- models -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    id: str
    type: str  # stream | batch
    date: int  # ns: creation while running, completion once done
    status: str = RUNNING
    error: str = ""
    size: int = 0
    progress: float = 0.0
    #: False for a query recording without a valid type: the server gives it no data file.
    has_data: bool = True


@dataclass(frozen=True)
class Replay:
    id: str
    task: str
    recording: str
    recording_time: bool
    clock: str
    date: int
    status: str = RUNNING
    error: str = ""
    progress: float = 0.0
    #: Node names of the replayed task's pipeline; stats are reported once the replay finished.
    nodes: tuple[str, ...] = ()
    #: The replayed task's node-stats, when the data plane ran it over a stream recording.
    node_stats: dict[str, Any] | None = None


@dataclass
class _RecordingRun:
    recording: Recording
    deadline: int
    error: str = ""
    base_size: int = 0
    stream: bool = False
    dbrps: frozenset[tuple[str, str]] = frozenset()
    measurements: frozenset[str] = frozenset()
    stop: int | None = None
    recorded: int = 0
    #: The recorded points (db, rp, point), one per fork key matched, up to MAX_RECORDED_POINTS.
    points: list[tuple[str, str, Point]] | None = None


@dataclass
class _ReplayRun:
    replay: Replay
    deadline: int
    error: str = ""
    seq: int = 0
    #: True while the data plane runs the task over the recording, outside the shared lock: the
    #: run does not finish before that work is done, whatever its deadline.
    computing: bool = False
    #: The replayed task's node-stats, once the data plane ran it.
    node_stats: dict[str, Any] | None = None


class _DateIndex:
    """Newest-first order of the server's `date` index: key `<RFC 3339 seconds>/<id>` path-joined.

    Go's path.Join cleans the key, so ID `.` sorts as the bare date and ID `..` falls outside the
    index directory (stored, never listed).
    """

    def __init__(self) -> None:
        self._keys: SortedList = SortedList()
        self._by_id: dict[str, tuple[str, str]] = {}

    def put(self, item_id: str, date: int) -> None:
        self.discard(item_id)
        if item_id == "..":
            return
        stamp = format_seconds(date)
        entry = (stamp if item_id == "." else f"{stamp}/{item_id}", item_id)
        self._keys.add(entry)
        self._by_id[item_id] = entry

    def discard(self, item_id: str) -> None:
        entry = self._by_id.pop(item_id, None)
        if entry is not None:
            self._keys.remove(entry)

    def clear(self) -> None:
        self._keys.clear()
        self._by_id.clear()

    def window(self, pattern: str, offset: int, limit: int) -> list[str]:
        """The IndexedStore listing: a negative limit returns everything, ignoring pattern and offset."""
        newest_first = (entry[1] for entry in reversed(self._keys))
        if limit < 0:
            return list(newest_first)
        if limit == 0:
            return []
        offset = max(offset, 0)
        if pattern:
            try:
                match = compile_glob(pattern)
            except GlobSyntaxError:
                return []
            newest_first = (i for i in newest_first if match(i))
        out: list[str] = []
        for position, item_id in enumerate(newest_first):
            if position < offset:
                continue
            out.append(item_id)
            if len(out) == limit:
                break
        return out


def invalid_recording_id(recording_id: str) -> BadRequest:
    return BadRequest(f"recording ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(recording_id)}")


class RecordingStore:
    """Recordings and replays behind the mock state's shared lock; see the module docstring."""

    def __init__(self, state: StoreState) -> None:
        self.state = state
        self.recordings: dict[str, Recording] = {}
        self.replays: dict[str, Replay] = {}
        self._recording_index = _DateIndex()
        self._replay_index = _DateIndex()
        self._recording_runs: dict[str, _RecordingRun] = {}
        self._replay_runs: list[_ReplayRun] = []
        self._seq = 0
        #: Points of finished stream recordings, for replays (not part of a backup: the real server
        #: keeps them in files beside its database).
        self.recorded_points: dict[str, tuple[tuple[str, str, Point], ...]] = {}

    # ---- time ---------------------------------------------------------------------------------------

    def _now(self) -> int:
        now = self.state.clock()
        self._settle(now)
        return now

    def _delay(self) -> int:
        return int(self.state.config.run_delay * 1_000_000_000)

    def _settle(self, now: int) -> None:
        """Complete every run whose deadline has passed, in deadline order, at its deadline."""
        due: list[tuple[int, int, Any]] = [
            (run.deadline, 0, run) for run in self._recording_runs.values() if run.deadline <= now
        ]
        due.extend((run.deadline, 1, run) for run in self._replay_runs if run.deadline <= now and not run.computing)
        if not due:
            return
        due.sort(key=lambda item: (item[0], item[1], getattr(item[2], "seq", 0)))
        for deadline, kind, run in due:
            if kind == 0:
                self._finish_recording(run, deadline)
            else:
                self._finish_replay(run, deadline)

    # ---- recordings -----------------------------------------------------------------------------

    def get_recording(self, recording_id: str) -> Recording | None:
        with self.state.lock:
            self._now()
            return self.recordings.get(recording_id)

    def list_recordings(self, pattern: str, offset: int, limit: int) -> list[Recording]:
        with self.state.lock:
            self._now()
            return [self.recordings[i] for i in self._recording_index.window(pattern, offset, limit)]

    def delete_recording(self, recording_id: str) -> None:
        with self.state.lock:
            self._now()
            recording = self.recordings.pop(recording_id, None)
            if recording is not None:
                self._recording_index.discard(recording_id)
                self.state.touch("recordings", "recordings", recording_id)
            self._recording_runs.pop(recording_id, None)
            self.recorded_points.pop(recording_id, None)
            if recording is not None and recording.size == -1:
                # The entry is gone, but removing the archive that was never written fails
                # (fileSource.Remove compares with os.ErrNotExist, never equal to a *PathError);
                # the path is under the default `[replay] dir = "./replay"`.
                ext = "brpl" if recording.type == "batch" else "srpl"
                raise ServerError(f"remove replay/{recording_id}.{ext}: no such file or directory")

    def record_stream(self, req: RecordStream) -> Recording:
        with self.state.lock:
            now = self._now()
            recording_id = self._new_recording_id(req)
            task = self.state.tasks.get_task(req.task)
            stop = req.stop
            deadline = now + int(self.state.config.stream_timeout * 1_000_000_000)
            if stop is not None and stop != ZERO_TIME_NS:
                # `kapacitor record stream -duration 1m` asks for a minute: never end before `stop`.
                deadline = max(deadline, stop)
            run = _RecordingRun(
                recording=Recording(recording_id, "stream", now),
                deadline=deadline,
                base_size=EMPTY_STREAM_SIZE,
                stream=True,
                dbrps=frozenset((db, rp) for db, rp in task.dbrps),
                measurements=_stream_measurements(task),
                stop=None if stop is None or stop == ZERO_TIME_NS else stop,
                points=[],
            )
            return self._start_recording(run)

    def record_batch(self, req: RecordBatch) -> Recording:
        """No InfluxDB, so the data is empty."""
        with self.state.lock:
            now = self._now()
            recording_id = self._new_recording_id(req)
            if req.start == ZERO_TIME_NS:
                raise BadRequest("must provide start time")
            task = self.state.tasks.get_task(req.task)
            # The server builds the task (compiling its lambdas) before it checks its type; either
            # failure comes before the archive exists, and a missing file's size is -1.
            pipeline = task.analysis().pipeline
            error = start_error(pipeline, task.dbrps) if pipeline is not None else ""
            if not error and task.type != "batch":
                error = "wrong task type"
            run = _RecordingRun(
                recording=Recording(recording_id, "batch", now),
                deadline=now if error else now + self._delay(),  # these fail at once on the server
                error=error,
                base_size=-1 if error else EMPTY_BATCH_SIZE,
            )
            return self._start_recording(run)

    def record_query(self, req: RecordQuery) -> Recording:
        """A type other than stream/batch makes a
        stream recording without a data file, which then fails (it cannot be written)."""
        with self.state.lock:
            now = self._now()
            recording_id = self._new_recording_id(req)
            if not req.query:
                raise must_provide_query()
            kind = req.type
            has_data = kind in ("stream", "batch")
            recording = Recording(recording_id, kind if has_data else "stream", now, has_data=has_data)
            # The query is parsed before InfluxDB is asked: one that is not fully qualified fails
            # at once, before anything is written (size 0).
            refused = query_error(req.query, self._version()) if has_data else None
            run = _RecordingRun(
                recording=recording,
                deadline=now if refused else now + self._delay(),
                error=refused or ("" if has_data else "unsupported data source scheme "),
                base_size=0 if refused or not has_data else (EMPTY_BATCH_SIZE if kind == "batch" else EMPTY_STREAM_SIZE),
            )
            return self._start_recording(run)

    def _new_recording_id(self, req: _Input) -> str:
        recording_id = req.id or self.state.new_id()
        if not is_valid_id(recording_id):
            raise invalid_recording_id(recording_id)
        return recording_id

    def _start_recording(self, run: _RecordingRun) -> Recording:
        recording = run.recording
        if recording.id in self.recordings:
            raise ServerError("recording already exists")
        self.recordings[recording.id] = recording
        self._recording_index.put(recording.id, recording.date)
        self._recording_runs[recording.id] = run
        self.state.touch("recordings", "recordings", recording.id)
        return recording

    def _finish_recording(self, run: _RecordingRun, when: int) -> None:
        recording_id = run.recording.id
        if self._recording_runs.get(recording_id) is not run:
            return
        del self._recording_runs[recording_id]
        if recording_id not in self.recordings:
            return
        done = replace(
            run.recording,
            status=FAILED if run.error else FINISHED,
            error=run.error,
            date=when,
            progress=1.0,
            size=run.base_size + run.recorded,
        )
        self.recordings[recording_id] = done
        self._recording_index.put(recording_id, when)
        self.state.touch("recordings", "recordings", recording_id)
        if run.points is not None and not run.error:
            self.recorded_points[recording_id] = tuple(run.points)

    def feed(self, db: str, rp: str, points: list[Point]) -> None:
        """Points written to the task master reach the stream recordings whose task would get them."""
        with self.state.lock:
            now = self._now()
            for run in list(self._recording_runs.values()):
                if run.stream and (db, rp) in run.dbrps:
                    self._record(run, db, rp, points, now)

    def _record(self, run: _RecordingRun, db: str, rp: str, points: list[Point], now: int) -> None:
        header = len(db) + len(rp) + 2
        for point in points:
            # One copy per fork key the point matches: its measurement, and "" (all measurements).
            copies = (point.measurement in run.measurements) + ("" in run.measurements)
            for _ in range(copies):
                if run.stop is None or point.time > run.stop:
                    self._finish_recording(run, now)
                    return
                run.recorded += header + len(point.line()) + 1
                if run.points is not None and len(run.points) < MAX_RECORDED_POINTS:
                    run.points.append((db, rp, point))

    # ---- replays ---------------------------------------------------------------------------------

    def get_replay(self, replay_id: str) -> Replay | None:
        with self.state.lock:
            self._now()
            return self.replays.get(replay_id)

    def list_replays(self, pattern: str, offset: int, limit: int) -> list[Replay]:
        with self.state.lock:
            self._now()
            return [self.replays[i] for i in self._replay_index.window(pattern, offset, limit)]

    def delete_replay(self, replay_id: str) -> None:
        with self.state.lock:
            self._now()
            if self.replays.pop(replay_id, None) is not None:
                self._replay_index.discard(replay_id)
                self.state.touch("recordings", "replays", replay_id)
            self._replay_runs = [run for run in self._replay_runs if run.replay.id != replay_id]

    def replay_recording(self, req: ReplayRecording) -> Replay:
        """Start a replay of a recording; the data plane runs the task over a stream recording's
        points before the answer, as the real server starts the replay at once, but outside the
        shared lock: other requests go on meanwhile (the replay reads `running` until it is done)."""
        replay, run, work = self._begin_replay(req)
        if work is not None:
            task, points = work
            stats: dict[str, Any] | None = None
            try:
                stats = self.state.engine.replay(task, points, recording_time=replay.recording_time,
                                                 now=replay.date, replay_id=replay.id)
            finally:
                with self.state.lock:  # one step: a settle in between would finish it without stats
                    run.node_stats = stats
                    run.computing = False
                    self._now()
        return replay

    def _begin_replay(self, req: ReplayRecording) -> tuple[Replay, _ReplayRun, tuple[Any, Any] | None]:
        with self.state.lock:
            now = self._now()
            replay_id = req.id or self.state.new_id()
            if not is_valid_id(replay_id):
                raise BadRequest(
                    f"replay ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(replay_id)}"
                )
            task = self._load_task(req)
            recording = self.recordings.get(req.recording)
            if recording is None:
                raise NotFound("recording not found: no recording exists")
            if not recording.has_data:
                error = "load data source: unsupported data source scheme "
            elif task.type == "stream" and recording.type == "batch":
                error = "running replay: data source open: gzip: invalid header"
            elif task.type == "batch" and recording.type == "stream":
                error = "running replay: data source open: zip: not a valid zip file"
            else:
                error = ""
            replay = self._new_replay(replay_id, task, recording.id, req, now)
            # The server ignores the store's "already exists" here: the 201 describes the new
            # replay, the old record stays visible until the new run replaces it.
            if replay_id not in self.replays:
                self._show_replay(replay)
            self._start_replay(replay, now, error, self._real_clock_span(replay, error))
            run = self._replay_runs[-1]
            points = self.recorded_points.get(recording.id) if not error else None
            if points is None or task.type != "stream":
                return replay, run, None
            run.computing = True
            return replay, run, (task, points)

    def replay_batch(self, req: ReplayBatch) -> Replay:
        with self.state.lock:
            now = self._now()
            replay_id = req.id or self.state.new_id()
            if not is_valid_id(replay_id):
                raise BadRequest(f"replay ID must match {ID_PATTERN} {go_quote(replay_id)}")
            task = self._load_task(req)
            if task.type == "stream":
                raise BadRequest(f"cannot replay batch against stream task: {req.task}")
            replay = self._new_replay(replay_id, task, "", req, now)
            pipeline = task.analysis().pipeline
            refused = batch_dbrps_error(pipeline, task.dbrps) if pipeline is not None else ""
            if not refused:
                return self._create_replay(replay, now)
            if replay.id in self.replays:
                raise replay_exists()
            self._show_replay(replay)
            return self._start_replay(replay, now, f"running replay: {refused}")

    def replay_query(self, req: ReplayQuery) -> Replay:
        with self.state.lock:
            now = self._now()
            replay_id = req.id or self.state.new_id()
            if not is_valid_id(replay_id):
                raise BadRequest(f"recording ID must match {ID_PATTERN} {go_quote(replay_id)}")
            if not req.query:
                raise must_provide_query()
            task = self._load_task(req)
            replay = self._new_replay(replay_id, task, "", req, now)
            refused = query_error(req.query, self._version())
            if refused is None:
                return self._create_replay(replay, now)
            if replay.id in self.replays:
                raise replay_exists()
            self._show_replay(replay)
            self._seq += 1
            self._replay_runs.append(_ReplayRun(replay, now, f"running replay: {refused}", self._seq))
            return replay

    def _version(self) -> tuple[int, ...]:
        return version_tuple(self.state.config.kapacitor_version)

    def _load_task(self, req: _ReplayInput) -> Any:
        try:
            return self.state.tasks.get_task(req.task)
        except NotFound as exc:
            raise NotFound(f"task load: {exc.message}") from None

    def _new_replay(self, replay_id: str, task: Any, recording_id: str, req: _ReplayInput, now: int) -> Replay:
        return Replay(
            id=replay_id,
            task=req.task,
            recording=recording_id,
            recording_time=req.recording_time,
            clock=req.clock,
            date=now,
            nodes=_node_names(task),
        )

    def _create_replay(self, replay: Replay, now: int) -> Replay:
        if replay.id in self.replays:
            raise replay_exists()
        self._show_replay(replay)
        return self._start_replay(replay, now, "")

    def _show_replay(self, replay: Replay) -> None:
        self.replays[replay.id] = replay
        self._replay_index.put(replay.id, replay.date)
        self.state.touch("recordings", "replays", replay.id)

    def _start_replay(self, replay: Replay, now: int, error: str, span: int = 0) -> Replay:
        self._seq += 1
        self._replay_runs.append(_ReplayRun(replay, now + self._delay() + span, error, self._seq))
        return replay

    def _real_clock_span(self, replay: Replay, error: str) -> int:
        """How long a `clock: real` replay of a stream recording runs: its points are paced by
        their times, first to last (a 1.5.7 replaying points 5s apart finishes after ~5s)."""
        points = self.recorded_points.get(replay.recording) if replay.clock == "real" and not error else None
        if not points:
            return 0
        return max(0, max(p.time for _db, _rp, p in points) - points[0][2].time)

    def _finish_replay(self, run: _ReplayRun, when: int) -> None:
        self._replay_runs = [r for r in self._replay_runs if r is not run]
        if run.replay.id not in self.replays:
            return  # deleted meanwhile: the server's final Replace fails the same way
        done = replace(run.replay, status=FAILED if run.error else FINISHED, error=run.error, date=when, progress=1.0)
        if not run.error:
            done = replace(done, node_stats=run.node_stats)
        self._show_replay(done)

    # ---- backup -------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            self._now()
            return {
                "recordings": [_to_json(r) for r in self.recordings.values()],
                "replays": [_to_json(r) for r in self.replays.values()],
            }

    def item(self, section: str, key: str) -> dict[str, Any] | None:
        """One recording or replay of the snapshot (None: it is gone)."""
        return _item(self.recordings if section == "recordings" else self.replays, key)

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot as a restarted server does: whatever was running failed with the shutdown."""
        with self.state.lock:
            self.recordings.clear()
            self.replays.clear()
            self._recording_index.clear()
            self._replay_index.clear()
            self._recording_runs.clear()
            self._replay_runs.clear()
            for item in data.get("recordings", []):
                recording = Recording(**item)
                if recording.status == RUNNING:
                    recording = replace(recording, status=FAILED, error=SHUTDOWN_ERROR)
                self.recordings[recording.id] = recording
                self._recording_index.put(recording.id, recording.date)
            for item in data.get("replays", []):
                replay = Replay(**{**item, "nodes": tuple(item.get("nodes", ()))})
                if replay.status == RUNNING:
                    replay = replace(replay, status=FAILED, error=SHUTDOWN_ERROR)
                self._show_replay(replay)


def _item(objects: dict[str, Any], key: str) -> dict[str, Any] | None:
    obj = objects.get(key)
    return None if obj is None else _to_json(obj)


def _to_json(obj: Recording | Replay) -> dict[str, Any]:
    out = asdict(obj)
    if "nodes" in out:
        out["nodes"] = list(out["nodes"])
    return out


def _pipeline(task: Any) -> Any:
    analysis = task.analysis() if hasattr(task, "analysis") else None
    return getattr(analysis, "pipeline", None)


def _node_names(task: Any) -> tuple[str, ...]:
    pipeline = _pipeline(task)
    if pipeline is None:
        return ()
    return tuple(node_names(pipeline))


def _stream_measurements(task: Any) -> frozenset[str]:
    """The measurements of the task's `from()` nodes ("" = every measurement), as `Task.Measurements`.

    A task without `from()` nodes (a batch task) listens to nothing, so its stream recording only
    ends by the timeout.
    """
    pipeline = _pipeline(task)
    return frozenset() if pipeline is None else tickscript.stream_measurements(pipeline)
