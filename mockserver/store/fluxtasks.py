"""Flux tasks, runs and logs (served only with --flux-tasks): the task service stack without HTTP.

Kapacitor serves this API from InfluxDB 2's task code: a key/value task service wrapped by an
"analytical storage" layer (completed runs are kept and listed) and a coordinating middleware
(the task must exist before runs are forced or retried; a forced run is executed before the
request returns). The mock has no Flux engine, so:

* only the `option task = {...}` statement of a script is read (a small scanner, not a parser);
  the rest of the script is stored verbatim and never checked;
* a manual run (POST .../runs, retry) executes at once and always succeeds, with the executor's
  log lines ("Started task from script: ...", "Completed(success)"); scheduled runs are never
  executed;
* an option update rewrites the `option task` object in place instead of reformatting the whole
  script as the Flux formatter does.

Errors are InfluxDB 2 platform errors (code + message chain); the HTTP layer renders them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.gotext import go_quote
from mockserver.gotime import format_ns, now_ns
from mockserver.store.flux_errors import (
    E_INTERNAL,
    E_INVALID,
    OUT_OF_BOUNDS_LIMIT,
    RUN_ALREADY_QUEUED,
    RUN_NOT_FOUND,
    TASK_NOT_FOUND,
    GoError,
    PlatformError,
    encode_id,
)
from mockserver.store.flux_script import (
    Duration,
    Options,
    edit_task_option,
    format_duration,
    go_parse_duration,
    is_zero,
    options_from_script,
)
from mockserver.store.state import StoreState
from spec import parameter_default

DEFAULT_PAGE_SIZE: int = parameter_default("limit", "listFluxTasks")
MAX_PAGE_SIZE = 500
STATUS_ACTIVE = "active"
STATUS_INACTIVE = "inactive"
SYSTEM_TYPE = "system"


# ---- models ---------------------------------------------------------------------------------------


@dataclass
class LogEvent:
    run_id: int
    time: str
    message: str


@dataclass
class FluxRun:
    id: int
    task_id: int
    status: str
    scheduled_for: int  # ns
    started_at: int | None = None
    finished_at: int | None = None
    requested_at: int | None = None
    log: list[LogEvent] = field(default_factory=list)


@dataclass
class FluxTask:
    id: int
    owner: str
    name: str
    description: str
    status: str
    flux: str
    every: str
    cron: str
    offset: int  # ns
    created_at: int  # ns, whole seconds
    updated_at: int | None = None
    latest_completed: int | None = None
    latest_scheduled: int | None = None
    latest_success: int | None = None
    latest_failure: int | None = None
    last_run_status: str = ""
    last_run_error: str = ""
    type: str = SYSTEM_TYPE


@dataclass
class TaskFilter:
    after: int | None = None
    user: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    status: str | None = None
    name: str | None = None


@dataclass
class TaskUpdate:
    flux: str | None = None
    status: str | None = None
    description: str | None = None
    name: str = ""
    cron: str = ""
    every: Duration = field(default_factory=list)
    offset: Duration | None = None
    concurrency: int | None = None
    retry: int | None = None

    def options_zero(self) -> bool:
        return (
            self.name == ""
            and self.cron == ""
            and is_zero(self.every)
            and (self.offset is None or is_zero(self.offset))
            and self.concurrency is None
            and self.retry is None
        )

    def validate(self) -> None:
        """TaskUpdate.Validate: only the first matching rule is checked."""
        every_set = not is_zero(self.every)
        if every_set and self.cron:
            raise GoError("cannot specify both every and cron")
        if every_set:
            return
        if self.offset is not None and not is_zero(self.offset):
            text = format_duration(self.offset)
            try:
                go_parse_duration(text)
            except GoError as exc:
                raise GoError(f"offset: {text}, {exc} is invalid, the largest unit supported is h") from None
            return
        if self.flux is None and self.status is None and self.options_zero():
            raise GoError("cannot update task without content")
        if self.status is not None and self.status not in (STATUS_ACTIVE, STATUS_INACTIVE):
            raise GoError(f"invalid task status: {go_quote(self.status)}")


def _truncate_s(ns: int) -> int:
    return ns - ns % 1_000_000_000


def _quote_flux(text: str) -> str:
    return go_quote(text)


def _task_options(flux: str, now: int) -> tuple[Options, int]:
    """A script's task options and its offset in nanoseconds (0 without one), as create and
    update read them; the errors are the platform's."""
    try:
        opts = options_from_script(flux, now)
    except GoError as exc:
        raise PlatformError(E_INVALID, "invalid options", exc) from None
    if opts.offset is None:
        return opts, 0
    try:
        return opts, go_parse_duration(format_duration(opts.offset))
    except GoError as exc:
        raise PlatformError(E_INTERNAL, "unexpected error parsing time", exc) from None


class FluxTaskStore:
    """Tasks keyed by numeric ID (listed in ID order), manual run queues, runs and run history."""

    def __init__(self, state: StoreState, *, clock: Callable[[], int] | None = None) -> None:
        self.state = state
        self._lock = state.lock
        self._clock: Callable[[], int] = clock or getattr(state, "clock", None) or now_ns
        self.tasks: dict[int, FluxTask] = {}
        self.manual: dict[int, list[FluxRun]] = {}
        self.running: dict[tuple[int, int], FluxRun] = {}
        self.history: dict[int, list[FluxRun]] = {}
        self._last_id = 0

    # ---- ids --------------------------------------------------------------------------------------

    def _next_id(self) -> int:
        """Snowflake-style: milliseconds in the high bits, so IDs grow with time."""
        ms = self._clock() // 1_000_000
        candidate = (ms << 22) & (2**63 - 1)
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    # ---- tasks ------------------------------------------------------------------------------------

    def find_task(self, task_id: int) -> FluxTask:
        task = self.tasks.get(task_id)
        if task is None:
            raise TASK_NOT_FOUND.fresh()
        if task.latest_completed is None:
            return replace(task, latest_completed=task.created_at)
        return task

    def find_tasks(self, f: TaskFilter) -> list[FluxTask]:
        with self._lock:
            out = []
            for task_id in sorted(self.tasks):
                if f.after is not None and task_id <= f.after:
                    continue
                task = self.tasks[task_id]
                if f.name is not None and task.name != f.name:
                    continue
                if f.status is not None and task.status != f.status:
                    continue
                if f.user is not None and task.owner != f.user:
                    continue
                out.append(task)
                if len(out) >= f.limit:
                    break
            return out

    def create_task(self, flux: str, description: str, status: str, owner: str) -> FluxTask:
        with self._lock:
            now = self._clock()
            opts, offset = _task_options(flux, now)
            created = _truncate_s(now)
            task = FluxTask(
                id=self._next_id(),
                owner=owner,
                name=opts.name,
                description=description,
                status=status or STATUS_ACTIVE,
                flux=flux,
                every=format_duration(opts.every),
                cron=opts.cron,
                offset=offset,
                created_at=created,
                latest_completed=created,
                latest_scheduled=created,
            )
            self.tasks[task.id] = task
            self._changed(task.id)
            return task

    def update_task(self, task_id: int, upd: TaskUpdate) -> FluxTask:
        with self._lock:
            task = replace(self.find_task(task_id))
            now = self._clock()
            if not upd.options_zero() or upd.flux is not None:
                base = upd.flux if upd.flux else task.flux
                edited = edit_task_option(base, name=upd.name, every=upd.every, cron=upd.cron, offset=upd.offset)
                # Without overrides the given text is stored as is (even ""), then checked.
                flux = edited if edited is not None else (upd.flux if upd.flux is not None else task.flux)
                opts, task.offset = _task_options(flux, now)
                task.flux = flux
                task.name = opts.name
                task.every = format_duration(opts.every)
                task.cron = opts.cron
                task.updated_at = now
            if upd.description is not None:
                task.description = upd.description
                task.updated_at = now
            if upd.status is not None and task.status != upd.status:
                task.status = upd.status
                task.updated_at = now
                if task.status == STATUS_ACTIVE:
                    task.latest_completed = task.latest_scheduled = _truncate_s(now)
            self.tasks[task_id] = task
            self._changed(task_id)
            return task

    def delete_task(self, task_id: int) -> None:
        """Runs go with the task; completed-run history stays (it lives in InfluxDB on a server)."""
        with self._lock:
            self.find_task(task_id)
            self._changed(task_id)
            del self.tasks[task_id]
            self.manual.pop(task_id, None)
            for key in [k for k in self.running if k[0] == task_id]:
                del self.running[key]

    # ---- runs -------------------------------------------------------------------------------------

    def _current_runs(self, task_id: int) -> list[FluxRun]:
        return [*self.manual.get(task_id, []), *(r for (t, _), r in sorted(self.running.items()) if t == task_id)]

    def find_runs(
        self,
        task_id: int,
        *,
        after: int | None = None,
        limit: int = 0,
        after_time: int | None = None,
        before_time: int | None = None,
    ) -> list[FluxRun]:
        """Open runs (queued, running) first, then completed runs newest first."""
        if limit == 0:
            limit = DEFAULT_PAGE_SIZE
        if limit < 0 or limit > MAX_PAGE_SIZE:
            raise OUT_OF_BOUNDS_LIMIT.fresh()
        with self._lock:
            now = self._clock()
            lower = after_time if after_time is not None else -(2**63)
            upper = before_time if before_time is not None else now
            runs: list[FluxRun] = []
            for run in self._current_runs(task_id):
                if lower < run.scheduled_for < upper:
                    runs.append(run)
                if len(runs) >= limit:
                    return runs
            done = sorted(self.history.get(task_id, []), key=lambda r: (r.scheduled_for, r.id), reverse=True)
            if after is not None:
                done = [r for r in done if r.id > after]
            if after_time is not None or before_time is not None:
                done = [r for r in done if lower < r.scheduled_for < upper]
            done = done[: limit - len(runs)]
            ids = {r.id for r in done}
            return [r for r in runs if r.id not in ids] + done

    def find_run(self, task_id: int, run_id: int) -> FluxRun:
        with self._lock:
            run = self.running.get((task_id, run_id))
            if run is not None:
                return run
            matches = [r for r in self.history.get(task_id, []) if r.id == run_id]
            if not matches:
                raise RUN_NOT_FOUND.fresh()
            return matches[-1]

    def find_logs(self, task_id: int, run_id: int | None) -> list[LogEvent] | None:
        """None stands for Go's nil slice (`"events": null`)."""
        with self._lock:
            if run_id is not None:
                return list(self.find_run(task_id, run_id).log)
            logs: list[LogEvent] | None = None
            for run in self.find_runs(task_id):
                for event in run.log:
                    logs = logs or []
                    logs.append(event)
            return logs

    def force_run(self, task_id: int, scheduled_for_s: int) -> FluxRun:
        with self._lock:
            task = self.find_task(task_id)
            run = self._queue(task_id, scheduled_for_s * 1_000_000_000)
            self._execute(task, run.id)
            self._changed(task_id)
            return run

    def retry_run(self, task_id: int, run_id: int) -> FluxRun:
        with self._lock:
            task = self.find_task(task_id)
            original = self.running.get((task_id, run_id))
            if original is not None and task_id in self.manual:
                run = replace(original, id=self._next_id(), status="scheduled", started_at=None,
                              finished_at=None, requested_at=None, log=list(original.log))  # fmt: skip
                self.manual[task_id].append(run)
            else:
                original = self.find_run(task_id, run_id)
                run = self._queue(task_id, _truncate_s(original.scheduled_for))
            snapshot = replace(run, log=list(run.log))
            self._execute(task, run.id)
            self._changed(task_id)
            return snapshot

    def cancel_run(self, task_id: int, run_id: int) -> None:
        with self._lock:
            run = self.running.get((task_id, run_id))
            if run is None:
                raise RUN_NOT_FOUND.fresh()
            run.status = "canceled"
            self._changed(task_id)

    def _queue(self, task_id: int, scheduled_for: int) -> FluxRun:
        queue = self.manual.setdefault(task_id, [])
        if any(r.scheduled_for == scheduled_for for r in queue):
            raise RUN_ALREADY_QUEUED.fresh()
        run = FluxRun(
            id=self._next_id(),
            task_id=task_id,
            status="scheduled",
            scheduled_for=scheduled_for,
            requested_at=self._clock(),
        )
        queue.append(run)
        return replace(run, log=[])

    def _execute(self, task: FluxTask, run_id: int) -> None:
        """The executor picks the run from the queue, runs it (always successfully) and finishes it."""
        queue = self.manual.get(task.id, [])
        run = next(r for r in queue if r.id == run_id)
        queue.remove(run)
        self.running[(task.id, run.id)] = run
        self._log(run, f"Started task from script: {_quote_flux(task.flux)}")
        run.status = "started"
        run.started_at = self._clock()
        self._log(run, "Completed(success)")
        run.status = "success"
        run.finished_at = self._clock()
        del self.running[(task.id, run.id)]
        current = self.tasks.get(task.id)
        if current is not None:
            if current.latest_completed is None or run.scheduled_for > current.latest_completed:
                current.latest_completed = run.scheduled_for
            if current.latest_success is None or run.scheduled_for > current.latest_success:
                current.latest_success = run.scheduled_for
            current.last_run_status = run.status
            current.last_run_error = ""
        self.history.setdefault(task.id, []).append(run)

    def _log(self, run: FluxRun, message: str) -> None:
        run.log.append(LogEvent(run.id, format_ns(self._clock()), message))

    # ---- backup -----------------------------------------------------------------------------------

    def _changed(self, task_id: int) -> None:
        """Everything a task's change may touch, for the `--data-dir` journal (under the lock)."""
        key = encode_id(task_id)
        touch = self.state.touch
        for section in ("tasks", "manual", "history"):
            touch("flux_tasks", section, key)
        touch("flux_tasks", "last_id", "")
        for task, run in self.running:
            if task == task_id:
                touch("flux_tasks", "running", json.dumps([key, encode_id(run)]))

    def item(self, section: str, key: str) -> Any:
        """One object of the snapshot (None: it is gone)."""
        if section == "last_id":
            return self._last_id
        if section == "running":
            task_key, run_key = json.loads(key)
            run = self.running.get((int(task_key, 16), int(run_key, 16)))
            return None if run is None else _run_to_json(run)
        task_id = int(key, 16)
        if section == "tasks":
            task = self.tasks.get(task_id)
            return None if task is None else _task_to_json(task)
        runs = (self.manual if section == "manual" else self.history).get(task_id)
        return None if runs is None else [_run_to_json(r) for r in runs]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "last_id": self._last_id,
                "tasks": [_task_to_json(t) for _, t in sorted(self.tasks.items())],
                "manual": {encode_id(k): [_run_to_json(r) for r in v] for k, v in sorted(self.manual.items())},
                "running": [_run_to_json(r) for _, r in sorted(self.running.items())],
                "history": {encode_id(k): [_run_to_json(r) for r in v] for k, v in sorted(self.history.items())},
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._last_id = int(data.get("last_id", 0))
            self.tasks = {}
            for raw in data.get("tasks", []):
                task = _task_from_json(raw)
                self.tasks[task.id] = task
            self.manual = {int(k, 16): [_run_from_json(r) for r in v] for k, v in (data.get("manual") or {}).items()}
            self.running = {}
            for raw in data.get("running", []):
                run = _run_from_json(raw)
                self.running[(run.task_id, run.id)] = run
            self.history = {int(k, 16): [_run_from_json(r) for r in v] for k, v in (data.get("history") or {}).items()}


_TASK_KEYS = (
    "owner", "name", "description", "status", "flux", "every", "cron", "offset", "created_at", "updated_at",
    "latest_completed", "latest_scheduled", "latest_success", "latest_failure", "last_run_status",
    "last_run_error", "type",
)  # fmt: skip


def _task_to_json(task: FluxTask) -> dict[str, Any]:
    return {"id": encode_id(task.id), **{k: getattr(task, k) for k in _TASK_KEYS}}


def _task_from_json(raw: dict[str, Any]) -> FluxTask:
    return FluxTask(id=int(raw["id"], 16), **{k: raw[k] for k in _TASK_KEYS if k in raw})


def _run_to_json(run: FluxRun) -> dict[str, Any]:
    return {
        "id": encode_id(run.id),
        "task_id": encode_id(run.task_id),
        "status": run.status,
        "scheduled_for": run.scheduled_for,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "requested_at": run.requested_at,
        "log": [[encode_id(e.run_id), e.time, e.message] for e in run.log],
    }


def _run_from_json(raw: dict[str, Any]) -> FluxRun:
    return FluxRun(
        id=int(raw["id"], 16),
        task_id=int(raw["task_id"], 16),
        status=raw["status"],
        scheduled_for=raw["scheduled_for"],
        started_at=raw.get("started_at"),
        finished_at=raw.get("finished_at"),
        requested_at=raw.get("requested_at"),
        log=[LogEvent(int(r, 16), t, m) for r, t, m in raw.get("log", [])],
    )
