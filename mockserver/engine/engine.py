"""The task master's data plane: enabled stream tasks, fed by written points.

Runtimes follow the task store lazily: whenever points arrive or a task's stats are read, the
engine reconciles its runtimes with the stored tasks (an enabled stream task whose stored object
changed was updated: it restarts with fresh state, as the real server restarts it; a disabled or
deleted task's runtime stops and its anonymous topics go). Locks: the engine's own lock guards the
runtime table and is never held while points are processed; each runtime's lock serializes its
processing; the mock state's lock is taken only for short reads and alert-store calls.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from .messages import Point
from .runtime import TaskRuntime

if TYPE_CHECKING:
    from mockserver.store.lineprotocol import Point as LinePoint

log = logging.getLogger("kapacitor-mock.engine")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}

#: Points of one sink (db, rp) the mock keeps for `/mock/influxdb/...`; older ones are dropped.
SINK_KEEP = 10_000


class InfluxDBSink:
    """What influxDBOut nodes wrote, per (database, retention policy), most recent last."""

    def __init__(self, keep: int = SINK_KEEP) -> None:
        self._lock = threading.Lock()
        self.keep = keep
        self.points: dict[tuple[str, str], deque[dict[str, Any]]] = {}

    def write(self, db: str, rp: str, measurement: str, tags: dict[str, str], fields: dict[str, Any],
              t: int) -> None:
        with self._lock:
            bucket = self.points.get((db, rp))
            if bucket is None:
                bucket = self.points[(db, rp)] = deque(maxlen=self.keep)
            bucket.append({"measurement": measurement, "tags": dict(sorted(tags.items())),
                           "fields": dict(sorted(fields.items())), "time": t})

    def read(self, db: str, rp: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            out: list[dict[str, Any]] = []
            for (d, r), bucket in sorted(self.points.items()):
                if d == db and (rp is None or r == rp):
                    out.extend(bucket)
            return out

    def clear(self) -> None:
        with self._lock:
            self.points.clear()


class Engine:
    def __init__(self, state: Any) -> None:
        self.state = state
        self._lock = threading.Lock()
        self.runtimes: dict[str, TaskRuntime] = {}
        self.sink = InfluxDBSink()
        self.hostname = "localhost"
        self._server_info: dict[str, str] | None = None
        #: Event states of the anonymous topics of stopped tasks, restored when they start again.
        self.saved_events: dict[str, list[Any]] = {}

    @property
    def alerts(self) -> Any:
        return self.state.alerts

    def now(self) -> int:
        """The server's wall clock (the mock state's, injectable), which drives stats nodes."""
        return int(self.state.clock())

    def advance(self) -> None:
        """Replay the clock-driven ticks (stats, deadman) of every running task up to now: called
        whenever the data plane is observed or fed, so what a reader sees is what a real server
        ticking on its own would show at that moment."""
        now = self.now()
        for rt in self.reconcile():
            rt.advance(now)

    def server_info(self) -> dict[str, str]:
        """Hostname and the server's cluster/server IDs (those /debug/vars shows), for alert templates."""
        if self._server_info is not None:
            return self._server_info
        info = {"Hostname": self.hostname, "ClusterID": "", "ServerID": ""}
        system = sys.modules.get("mockserver.operations.system")  # loaded by the HTTP layer, if any
        if system is not None:
            rt = system.runtime(self.state)
            info.update(ClusterID=rt.cluster_id, ServerID=rt.server_id)
            self._server_info = info
        return info

    def log(self, level: str, msg: str, fields: list[tuple[str, str]]) -> None:
        """A task log line, shaped like the server's: to Python logging and the live /logs sessions."""
        text = " ".join(f"{k}={_logfmt(v)}" for k, v in [("lvl", level), ("msg", msg), *fields])
        log.log(_LEVELS.get(level, logging.INFO), "%s", text)
        system = sys.modules.get("mockserver.operations.system")
        if system is not None:
            system.publish(self.state, level, msg, *fields)

    # ---- lifecycle

    def start_error(self, task: Any) -> str:
        """Why the real task master would fail to start `task` ("" when it starts).

        Without an InfluxDB (the default) influxDBOut cannot get a client, as on a server whose
        only [[influxdb]] section is disabled."""
        if task.status != "enabled" or self.state.config.influxdb_sink:
            return ""
        def build() -> str:
            pipeline = task.analysis().pipeline
            for node in pipeline.sorted() if pipeline is not None else ():
                if node.gotype == "InfluxDBOutNode":
                    cluster = node.fields.get("Cluster") or next(iter(node.settings.get("Cluster", [])), ("",))[0]
                    return f"failed to get InfluxDB client: no such InfluxDB config {cluster or ''}"
            return ""

        return str(task.rendered("dataplane-start-error", build))

    def _wanted(self) -> dict[str, Any]:
        with self.state.lock:
            tasks = [t for t in self.state.tasks.tasks.values() if t.executing and t.type == "stream"]
        return {t.id: t for t in tasks if not self.start_error(t)}

    def reconcile(self) -> list[TaskRuntime]:
        """Bring runtimes in line with the stored tasks; returns the running ones."""
        wanted = self._wanted()
        stale: list[TaskRuntime] = []
        with self._lock:
            for tid, rt in list(self.runtimes.items()):
                if wanted.get(tid) is not rt.task:
                    stale.append(self.runtimes.pop(tid))
            for rt in stale:
                rt.stop()
                if rt.id not in self.state.tasks.tasks:  # deleted: its topics' states go too
                    prefix = f"main:{rt.id}:"
                    for topic in [t for t in self.saved_events if t.startswith(prefix)]:
                        del self.saved_events[topic]
            for tid, task in wanted.items():
                if tid in self.runtimes:
                    continue
                pipeline = task.analysis().pipeline
                if pipeline is None:
                    continue
                self.runtimes[tid] = TaskRuntime(self, task, pipeline)
            return list(self.runtimes.values())

    def runtime(self, task_id: str, task: Any = None) -> TaskRuntime | None:
        """The running form of a task; `task` (the stored object) skips the reconcile when current."""
        with self._lock:
            rt = self.runtimes.get(task_id)
        if rt is not None and task is not None and rt.task is task:
            return rt
        self.reconcile()
        with self._lock:
            return self.runtimes.get(task_id)

    # ---- data

    def write(self, db: str, rp: str, points: list[LinePoint]) -> None:
        """Points written to the task master (rp as given; the server's default policy is empty)."""
        running = self.reconcile()
        now = self.now()
        for rt in running:
            rt.advance(now)
        runtimes = [rt for rt in running if (db, rp) in rt.dbrps]
        if not runtimes or not points:
            return
        for rt in runtimes:
            self.feed(rt, db, rp, points)

    def feed(self, rt: TaskRuntime, db: str, rp: str, points: list[LinePoint]) -> None:
        chunk: list[Point] = []
        for lp in points:
            copies = rt.copies(lp.measurement)
            if not copies:
                continue
            p = Point(lp.measurement, dict(lp.tags), lp.fields, lp.time, db=db, rp=rp)
            chunk.extend([p] * copies)
            if len(chunk) >= 1024:
                rt.feed(chunk)
                chunk = []
        if chunk:
            rt.feed(chunk)

    def replay(self, task: Any, points: Any, *, recording_time: bool, now: int,
               replay_id: str = "") -> dict[str, Any] | None:
        """Run a fresh copy of `task` over recorded (db, rp, point) triples; its node-stats.

        Without `recording-time` the points move so that the first one happens at `now`, as the
        replay's clock starts there. With a `replay_id` the run is the replay's own task master,
        as on a real 1.5.7: its alerts reach the `.topic()` topics and the handlers (through an
        anonymous topic `<replay id>:<task>:<node>` that goes when the replay ends); without one
        they reach nothing."""
        pipeline = task.analysis().pipeline
        if pipeline is None:
            return None
        rt = TaskRuntime(self, task, pipeline, publish=bool(replay_id), master=replay_id or "main")
        shift = 0
        if points and not recording_time:
            shift = now - points[0][2].time
        chunk: list[Point] = []
        for db, rp, lp in points:
            chunk.append(Point(lp.measurement, dict(lp.tags), lp.fields, lp.time + shift, db=db, rp=rp))
        rt.feed(chunk)
        rt.stop()
        node_stats: dict[str, Any] | None = rt.stats()["node-stats"]
        return node_stats

    # ---- observation

    def stats(self, task: Any) -> dict[str, Any] | None:
        rt = self.runtime(task.id, task)
        if rt is None:
            return None
        rt.advance(self.now())
        return rt.stats()

    def dot(self, task: Any, *, labels: bool) -> str | None:
        rt = self.runtime(task.id, task)
        if rt is None:
            return None
        rt.advance(self.now())
        return rt.dot(labels=labels)

    def http_out(self, task_id: str, endpoint: str) -> bytes | None:
        rt = self.runtime(task_id)
        if rt is None:
            return None
        rt.advance(self.now())
        node = rt.http_outs.get(endpoint)
        return None if node is None else node.result()


def _logfmt(value: str) -> str:
    if value and all(c.isalnum() or c in "-_.:/" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
