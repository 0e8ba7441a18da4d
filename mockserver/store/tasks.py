"""Tasks and templates: the task store of the real server, without HTTP.

Every rule of the real `task_store` service that a client can observe lives here, in the order
the server applies it, so that a request with several faults gets the same error as on Kapacitor.
Tasks and templates share one module because templates propagate into their tasks.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from mockserver import tickscript
from mockserver.errors import (
    BadRequest,
    NotFound,
    ServerError,
    invalid_task_type,
    invalid_tickscript,
    must_specify_dbrp,
    no_task,
    no_template,
    unknown_template,
)
from mockserver.gotext import go_quote as _q
from mockserver.gotime import now_ns
from mockserver.store.cache import Cached, RenderCache
from mockserver.store.influxql_source import query_dbrps
from mockserver.store.listing import SortedIndex
from mockserver.tickscript.typecheck import StartupError, check_pipeline
from spec.ids import is_valid_id

DBRP = tuple[str, str]
_MISSING = object()


def _parse(script: str) -> Any:
    """Parse, reporting failures as the API does (400 `invalid TICKscript: ...`)."""
    try:
        return tickscript.parse(script)
    except tickscript.TickscriptError as exc:
        raise invalid_tickscript(exc) from None


def _build(program: Any, task_vars: dict[str, tickscript.Var] | None, *, template: bool = False,
           kind: str | None = None) -> Any:
    try:
        return tickscript.build(program, task_vars, template=template, kind=kind)
    except tickscript.TickscriptError as exc:
        raise invalid_tickscript(exc) from None


_TF = TypeVar("_TF", bound="TaskFields")
_PF = TypeVar("_PF", bound="TemplateFields")


# ---- request inputs (built by the operations layer from the decoded body) ---------------------------


@dataclass(frozen=True)
class TaskFields:
    """A task body as decoded: None is a field the client left out (or sent as null)."""

    id: str | None = None
    template_id: str | None = None
    dbrps: tuple[DBRP, ...] | None = None
    script: str | None = None
    status: str | None = None
    #: Decoded vars, or the conversion error the server reports only when it reaches the vars.
    vars: dict[str, tickscript.Var] | tickscript.VarError | None = None

    @classmethod
    def of(cls: type[_TF], fields: Mapping[str, Any]) -> _TF:
        """From the decoded field map (JSON names); in-process callers may pass one to the store."""
        dbrps = fields.get("dbrps")
        return cls(
            id=fields.get("id"),
            template_id=fields.get("template-id"),
            dbrps=None if dbrps is None else tuple((str(db), str(rp)) for db, rp in dbrps),
            script=fields.get("script"),
            status=fields.get("status"),
            vars=fields.get("vars"),
        )


class TaskCreate(TaskFields):
    """`POST /tasks`."""


class TaskUpdate(TaskFields):
    """`PATCH /tasks/{id}`: absent fields keep the task's values."""


@dataclass(frozen=True)
class TemplateFields:
    id: str | None = None
    type: str | None = None
    script: str | None = None

    @classmethod
    def of(cls: builtins.type[_PF], fields: Mapping[str, Any]) -> _PF:
        return cls(id=fields.get("id"), type=fields.get("type"), script=fields.get("script"))


class TemplateCreate(TemplateFields):
    """`POST /templates`."""


class TemplateUpdate(TemplateFields):
    """`PATCH /templates/{id}`: absent (or empty) fields keep the template's values."""


# ---- models -------------------------------------------------------------------------------------------

_S = TypeVar("_S", bound="_Scripted")


class _Scripted(Cached):
    """A task or a template: a script whose analysis is made once and which is formatted from it."""

    script: str

    def analysis(self) -> Analysis:
        raise NotImplementedError

    def formatted(self) -> str:
        """The script as `tick.Format` writes it, from the program the analysis parsed."""
        return self.rendered("formatted", lambda: self.analysis().formatted(self.script))

    def analysed(self: _S, analysis: Analysis) -> _S:
        """This object, knowing its analysis already (the store has just parsed and built it)."""
        self._cache["analysis"] = analysis
        return self


@dataclass
class Template(_Scripted):
    id: str
    type: str
    script: str
    created: int
    modified: int
    tasks: set[str] = field(default_factory=set)
    _cache: RenderCache = field(default_factory=RenderCache, init=False, repr=False, compare=False)

    def analysis(self) -> Analysis:
        return self.rendered("analysis", lambda: Analysis.of(self.script, None, template=True))


@dataclass
class Task(_Scripted):
    id: str
    template_id: str
    type: str
    dbrps: list[DBRP]
    script: str
    vars: dict[str, tickscript.Var]
    status: str
    error: str
    created: int
    modified: int
    last_enabled: int | None
    #: The last start failed: the server keeps `status: enabled`, does not execute the task and
    #: shows the start error as its `error` until the next start.
    start_failed: bool = False
    _cache: RenderCache = field(default_factory=RenderCache, init=False, repr=False, compare=False)

    @property
    def enabled(self) -> bool:
        return self.status == "enabled"

    @property
    def executing(self) -> bool:
        return self.status == "enabled" and not self.start_failed

    def analysis(self) -> Analysis:
        return self.rendered("analysis", lambda: Analysis.of(self.script, self.vars))


@dataclass
class Analysis:
    """What the engine derives from a script; `pipeline` is None when it cannot be built."""

    program: Any
    pipeline: Any
    build_error: str

    @classmethod
    def of(cls, script: str, overrides: dict[str, tickscript.Var] | None, *, template: bool = False) -> Analysis:
        try:
            program = tickscript.parse(script)
        except tickscript.TickscriptError as exc:
            return cls(None, None, str(exc))
        try:
            pipeline = tickscript.build(program, overrides, template=template)
        except tickscript.TickscriptError as exc:
            return cls(program, None, str(exc))
        return cls(program, pipeline, "")

    def formatted(self, script: str) -> str:
        """`tick.Format` of the parsed program; a script that does not parse stays as written."""
        return script if self.program is None else tickscript.format_program(self.program)


def start_error(pipeline: Any, dbrps: Iterable[tuple[str, ...]] | None = None) -> str:
    """What starting the task answers (`TaskMaster.StartTask`, then `StartBatching`): "" or the
    500 text. Lambdas are compiled with the real static type rules, then a batch task's queries are
    checked against its dbrps; batch tasks then start (the mock has no InfluxDB to miss)."""
    try:
        check_pipeline(pipeline)
    except StartupError as exc:
        return str(exc)
    return batch_dbrps_error(pipeline, dbrps) if dbrps is not None else ""


def batch_dbrps_error(pipeline: Any, dbrps: Iterable[tuple[str, ...]]) -> str:
    """task.go checkDBRPs: a batch task's queries may only read the task's own dbrps ("" if so)."""
    if pipeline.kind != "batch":
        return ""
    allowed = {(d[0], d[1]) for d in dbrps}
    for node in pipeline.sorted():
        if node.gotype != "QueryNode" or not node.ctor_args:
            continue
        for db, rp in query_dbrps(str(node.ctor_args[0])) or ():
            if (db, rp) not in allowed:
                return f"batch query is not allowed to request data from {_q(db)}.{_q(rp)}"
    return ""


class TaskStore:
    """Tasks and templates behind one lock shared with the rest of the mock state."""

    def __init__(
        self,
        lock: Any,
        *,
        clock: Callable[[], int] = now_ns,
        new_id: Callable[[], str] | None = None,
        touch: Callable[[str, str, str], None] | None = None,
    ):
        self._lock = lock
        #: Told (under the lock) which task or template changed, for `--data-dir`.
        self._touch = touch or (lambda family, section, key: None)
        self._clock = clock
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self.tasks: dict[str, Task] = {}
        self.task_index = SortedIndex()
        self.templates: dict[str, Template] = {}
        self.template_index = SortedIndex()
        #: Observers told about (num_tasks, num_enabled_tasks) changes, e.g. /debug/vars.
        self.enabled_count = 0

    # ---- tasks ------------------------------------------------------------------------------------

    def get_task(self, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise no_task()
        return task

    def create_task(self, request: TaskCreate | Mapping[str, Any]) -> Task:
        req = request if isinstance(request, TaskFields) else TaskCreate.of(request)
        with self._lock:
            task_id = req.id or self._new_id()
            if not is_valid_id(task_id):
                raise BadRequest(f"task ID must contain only letters, numbers, '-', '.' and '_'. {_q(task_id)}")
            if task_id in self.tasks:
                raise BadRequest(f"task {task_id} already exists")
            template_id = req.template_id or ""
            if template_id:
                template = self.templates.get(template_id)
                if template is None:
                    raise unknown_template(template_id)
                script = template.script
            else:
                template = None
                script = req.script or ""
                if not script:
                    raise BadRequest("must provide TICKscript")
            explicit = list(req.dbrps or ())
            status = "disabled" if req.status is None else req.status
            task_vars = tickscript_vars(req.vars)
            program = _parse(script)
            task_type = tickscript.task_type(program)
            if task_type not in ("stream", "batch"):
                raise invalid_task_type()
            pipeline = _build(program, task_vars)
            implicit = [tuple(d) for d in tickscript.dbrps(program)]
            if not implicit and not explicit:
                raise must_specify_dbrp()
            if implicit and explicit:
                raise BadRequest("cannot specify dbrp in both implicitly and explicitly")
            now = self._clock()
            # The task is stored first, then started; a failed start leaves it stored and enabled.
            failure = start_error(pipeline, implicit or explicit) if status == "enabled" else ""
            task = Task(
                id=task_id,
                template_id=template_id,
                type=task_type,
                dbrps=implicit or explicit,  # type: ignore[arg-type]
                script=script,
                vars=task_vars,
                status=status,
                error=failure,
                start_failed=bool(failure),
                created=now,
                modified=now,
                last_enabled=now if status == "enabled" else None,
            )
            task.analysed(Analysis(program, pipeline, ""))
            self.tasks[task_id] = task
            self.task_index.add(task_id)
            self._changed(task_id)
            if template is not None:
                template.tasks.add(task_id)
                self._changed_template(template.id)
            if task.enabled:
                self.enabled_count += 1
            if failure:
                raise ServerError(failure)
            return task

    def update_task(self, task_id: str, request: TaskUpdate | Mapping[str, Any]) -> Task:
        req = request if isinstance(request, TaskFields) else TaskUpdate.of(request)
        with self._lock:
            old = self.tasks.get(task_id)
            if old is None:
                raise NotFound("task does not exist, cannot update")
            new_id = req.id or old.id
            req_template = req.template_id or ""
            template_id = req_template or old.template_id
            dbrps = list(old.dbrps)
            if template_id:
                template = self.templates.get(template_id)
                if template is None:
                    raise unknown_template(req_template)
                script = template.script
            else:
                template = None
                old_program = _parse(old.script)
                script = old.script
                if req.script:
                    script = req.script
                    new_program = _parse(script)
                    if tickscript.dbrps(old_program) and not tickscript.dbrps(new_program) and not req.dbrps:
                        raise must_specify_dbrp()
            program = _parse(script)
            implicit = [tuple(d) for d in tickscript.dbrps(program)]
            if implicit and req.dbrps:
                raise BadRequest("cannot specify dbrp in implicitly and explicitly")
            if implicit:
                dbrps = implicit  # type: ignore[assignment]
            elif req.dbrps:
                dbrps = list(req.dbrps)
            status = old.status if req.status is None else req.status
            task_vars = old.vars
            new_vars = tickscript_vars(req.vars)
            if new_vars:
                task_vars = new_vars
            task_type = tickscript.task_type(program)
            if task_type not in ("stream", "batch"):
                raise invalid_task_type()
            pipeline = _build(program, task_vars)
            now = self._clock()
            # Started again only on enabling, or on renaming an enabled task (service.go); other
            # changes to an enabled task leave the running one (and any start error) as it is.
            starts = status == "enabled" and (old.status != "enabled" or new_id != old.id)
            failure = start_error(pipeline, dbrps) if starts else ""
            task = replace(
                old,
                error=failure if starts else old.error,
                start_failed=bool(failure) if starts else old.start_failed,
                id=new_id,
                template_id=template_id,
                type=task_type,
                dbrps=dbrps,
                script=script,
                vars=task_vars,
                status=status,
                modified=now,
                last_enabled=now if status == "enabled" and old.status != "enabled" else old.last_enabled,
            ).analysed(Analysis(program, pipeline, ""))
            if new_id != old.id:
                if new_id in self.tasks:
                    raise ServerError("failed to create new task during ID change: object already exists")
                del self.tasks[old.id]
                self.task_index.discard(old.id)
                self.task_index.add(new_id)
                if template is not None:
                    template.tasks.discard(old.id)
                    template.tasks.add(new_id)
                    self._changed_template(template.id)
                self._changed(old.id)
            self.tasks[new_id] = task
            self._changed(new_id)
            self.enabled_count += int(task.enabled) - int(old.enabled)
            if failure:
                raise ServerError(failure)
            if starts and old.error:
                # The answer renders the task as read before the start cleared its last error.
                return replace(task, error=old.error).analysed(task.analysis())
            return task

    def delete_task(self, task_id: str) -> None:
        with self._lock:
            task = self.tasks.pop(task_id, None)
            if task is None:
                return
            self.task_index.discard(task_id)
            self._changed(task_id)
            template = self.templates.get(task.template_id) if task.template_id else None
            if template is not None:
                template.tasks.discard(task_id)
                self._changed_template(template.id)
            if task.enabled:
                self.enabled_count -= 1

    def list_tasks(self, pattern: str, offset: int, limit: int) -> list[Task]:
        """Negative limit: every task, ignoring pattern and offset (the IndexedStore quirk)."""
        with self._lock:
            if limit < 0:
                return [self.tasks[i] for i in self.task_index]
            window = self.task_index.deferred(pattern, offset, limit)
        ids = window()  # glob matching outside the lock; IDs deleted meanwhile drop out below
        with self._lock:
            return [self.tasks[i] for i in ids if i in self.tasks]

    # ---- backup ---------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "tasks": [_snapshot_task(t) for t in self.tasks.values()],
                "templates": [_snapshot_template(t) for t in self.templates.values()],
            }

    def item(self, section: str, key: str) -> dict[str, Any] | None:
        """One task or template of the snapshot (None: it is gone)."""
        if section == "tasks":
            task = self.tasks.get(key)
            return None if task is None else _snapshot_task(task)
        template = self.templates.get(key)
        return None if template is None else _snapshot_template(template)

    def _changed(self, task_id: str) -> None:
        self._touch("tasks", "tasks", task_id)

    def _changed_template(self, template_id: str) -> None:
        self._touch("tasks", "templates", template_id)

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the store's content with a snapshot (tasks keep their stored status)."""
        with self._lock:
            self.tasks.clear()
            self.templates.clear()
            self.task_index = SortedIndex()
            self.template_index = SortedIndex()
            for raw in data.get("templates", []):
                template = Template(
                    id=raw["id"],
                    type=raw["type"],
                    script=raw["script"],
                    created=raw["created"],
                    modified=raw["modified"],
                    tasks=set(raw.get("tasks", [])),
                )
                self.templates[template.id] = template
                self.template_index.add(template.id)
            for raw in data.get("tasks", []):
                task = Task(
                    id=raw["id"],
                    template_id=raw.get("template_id", ""),
                    type=raw["type"],
                    dbrps=[(d[0], d[1]) for d in raw.get("dbrps", [])],
                    script=raw["script"],
                    vars=tickscript.decode_vars(raw.get("vars") or {}),
                    status=raw["status"],
                    error=raw.get("error", ""),
                    created=raw["created"],
                    modified=raw["modified"],
                    last_enabled=raw.get("last_enabled"),
                )
                if task.enabled:
                    # A restarted server starts its enabled tasks again (service.go Open).
                    pipeline = task.analysis().pipeline
                    if pipeline is None:
                        task.start_failed = True
                    else:
                        task.error = start_error(pipeline, task.dbrps)
                        task.start_failed = bool(task.error)
                self.tasks[task.id] = task
                self.task_index.add(task.id)
            self.enabled_count = sum(1 for t in self.tasks.values() if t.enabled)

    # ---- templates --------------------------------------------------------------------------------

    def get_template(self, template_id: str) -> Template:
        template = self.templates.get(template_id)
        if template is None:
            raise no_template()
        return template

    def create_template(self, req: TemplateCreate) -> Template:
        with self._lock:
            template_id = req.id or self._new_id()
            if not is_valid_id(template_id):
                raise BadRequest(
                    f"template ID must contain only letters, numbers, '-', '.' and '_'. {_q(template_id)}"
                )
            if template_id in self.templates:
                raise BadRequest(f"template {template_id} already exists")
            script = req.script or ""
            program = _parse(script)
            template_type = tickscript.task_type(program)
            if template_type not in ("stream", "batch"):
                raise invalid_task_type()
            pipeline = _build(program, None, template=True)
            now = self._clock()
            template = Template(id=template_id, type=template_type, script=script, created=now, modified=now)
            template.analysed(Analysis(program, pipeline, ""))
            self.templates[template_id] = template
            self.template_index.add(template_id)
            self._changed_template(template_id)
            return template

    def update_template(self, template_id: str, req: TemplateUpdate) -> Template:
        with self._lock:
            old = self.templates.get(template_id)
            if old is None:
                raise NotFound("template does not exist, cannot update")
            new_id = req.id or old.id
            # The type is the template's own unless the update names one; the script is evaluated
            # as that type (a stream script in a batch template: `name "stream" is undefined`).
            template_type = req.type if req.type in ("stream", "batch") else old.type
            script = req.script or old.script
            program = _parse(script)
            pipeline = _build(program, None, template=True, kind=template_type)
            now = self._clock()
            template = Template(
                id=new_id,
                type=template_type,
                script=script,
                created=old.created,
                modified=now,
                tasks=set(old.tasks),
            )
            template.analysed(Analysis(program, pipeline, ""))
            if new_id != old.id:
                if new_id in self.templates:
                    raise ServerError("failed to create new template for ID change: template already exists")
                del self.templates[old.id]
                self.template_index.discard(old.id)
                self.template_index.add(new_id)
                self._changed_template(old.id)
            self.templates[new_id] = template
            self._changed_template(new_id)
            for task_id in template.tasks:  # propagation (or its rollback) rewrites them
                self._changed(task_id)
            self._propagate(old, template, program)
            return template

    def _propagate(self, old: Template, template: Template, program: Any) -> None:
        """Push a template change into its tasks; on the first failure roll the tasks back (only)."""
        old_implicit = bool(tickscript.dbrps(tickscript.parse(old.script)))
        new_implicit = [tuple(d) for d in tickscript.dbrps(program)]
        done: list[Task] = []
        for task_id in sorted(template.tasks):
            task = self.tasks.get(task_id)
            if task is None:
                self._rollback(done)
                raise ServerError(f"error retrieving associated task {task_id}: no task exists")
            dbrps = new_implicit if (old_implicit or new_implicit) else task.dbrps
            updated = replace(
                task,
                template_id=template.id,
                script=template.script,
                type=template.type,
                dbrps=list(dbrps),  # type: ignore[arg-type]
            )
            if updated.enabled:
                # Enabled tasks are restarted with the new script: built, then started.
                reason = ""
                try:
                    pipeline = tickscript.build(program, updated.vars)
                    updated.analysed(Analysis(program, pipeline, ""))
                except tickscript.TickscriptError as exc:
                    reason = str(exc)
                if not reason and not updated.dbrps:
                    reason = "must specify dbrp"
                if not reason:
                    analysis = updated.analysis()
                    reason = start_error(analysis.pipeline)
                    updated = replace(updated, error="", start_failed=False).analysed(analysis)
                if reason:
                    self._rollback(done)
                    raise ServerError(f"error reloading associated task {task_id}: {reason}")
            done.append(task)
            self.tasks[task_id] = updated

    def _rollback(self, originals: list[Task]) -> None:
        for task in originals:
            self.tasks[task.id] = task

    def delete_template(self, template_id: str) -> None:
        """Tasks of a deleted template stay, orphaned, with their script and template-id."""
        with self._lock:
            if self.templates.pop(template_id, None) is not None:
                self.template_index.discard(template_id)
                self._changed_template(template_id)

    def list_templates(self, pattern: str, offset: int, limit: int) -> list[Template]:
        """Templates implement their own listing: a negative limit gives an empty list."""
        with self._lock:
            window = self.template_index.deferred(pattern, offset, limit)
        ids = window()  # glob matching outside the lock
        with self._lock:
            return [self.templates[i] for i in ids if i in self.templates]


def tickscript_vars(value: dict[str, tickscript.Var] | tickscript.VarError | None) -> dict[str, tickscript.Var]:
    """Vars were decoded with the request body; a VarError found then is reported at this step."""
    if isinstance(value, tickscript.VarError):
        raise BadRequest(f"invalid var {value.name}: {value.reason}")
    return dict(value) if value else {}



def _snapshot_template(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "type": template.type,
        "script": template.script,
        "created": template.created,
        "modified": template.modified,
        "tasks": sorted(template.tasks),
    }


def _snapshot_task(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "template_id": task.template_id,
        "type": task.type,
        "dbrps": [list(d) for d in task.dbrps],
        "script": task.script,
        "vars": tickscript.encode_vars(task.vars),
        "status": task.status,
        "error": task.error,
        "created": task.created,
        "modified": task.modified,
        "last_enabled": task.last_enabled,
    }
