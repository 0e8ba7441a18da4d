"""The runtime node base (stats, errors, forwarding) and the stateless-per-point node kinds.

Each node receives whole messages (a point or a buffered batch) and forwards what it emits to its
children synchronously, so a write is fully processed when it returns and point time alone drives
windows and alerts: a run is deterministic. Counters follow the real edges: `collected` counts
messages received, a node's `emitted` is the sum over its out-edges (a batch counts once).
Windows live in `window.py`, per-group transformations in `transforms.py`, aggregates in
`influxql.py`, join in `join.py`, alert in `alert.py`, outputs in `outputs.py`.
"""

from __future__ import annotations

import time as _time
from typing import TYPE_CHECKING, Any

from mockserver.gotime import go_round, go_truncate
from mockserver.tickscript.graph import PNode

from . import expr
from .expr import EvalError, Scope
from .messages import Batch, BatchPoint, Message, Point, group_id

if TYPE_CHECKING:
    from .stats import EdgeGroups

SECOND = 1_000_000_000


def setting(pn: PNode, name: str, default: Any = None) -> Any:
    """A property's value: a set field, else the last call's first argument, else `default`."""
    if name in pn.fields:
        return pn.fields[name]
    calls = pn.settings.get(name)
    if calls:
        args = calls[-1]
        return args[0] if args else True
    return default


def flag(pn: PNode, name: str) -> bool:
    return bool(pn.fields.get(name)) or bool(pn.settings.get(name))


def list_setting(pn: PNode, name: str) -> list[Any]:
    out: list[Any] = []
    if name in pn.fields and isinstance(pn.fields[name], list):
        out.extend(pn.fields[name])
    for args in pn.settings.get(name, []):
        out.extend(args)
    return out


def dur_ns(v: Any) -> int:
    return int(getattr(v, "ns", v) or 0)


class Node:
    """Base runtime node: stats, error reporting, forwarding."""

    #: Extra integer stats this kind reports (beyond the base ones).
    extra_stats: tuple[str, ...] = ()
    grouped = False

    def __init__(self, task: Any, pn: PNode) -> None:
        self.task = task
        self.pn = pn
        self.name = pn.get_name()
        self.children: list[Node] = []
        self.outs: list[int] = []
        self.collected = 0
        self.errors = 0
        self.groups: set[str] = set()
        self.exec_ns = 0.0
        self.stats: dict[str, int] = dict.fromkeys(self.extra_stats, 0)
        #: The parent whose message is being processed (None for the task's source).
        self.source: Node | None = None
        #: Per-group counts of the first out-edge, kept only for a node a stats node watches.
        self.edge_groups: EdgeGroups | None = None
        if flag(pn, "Quiet"):  # any node's .quiet() silences its error log lines (node.go)
            self.quiet = True

    # ---- plumbing

    def receive(self, msg: Message, parent: Node | None = None) -> None:
        self.collected += 1
        self.source = parent
        if self.grouped:
            self.groups.add(msg.group)
        start = _time.perf_counter_ns()
        try:
            self.process(msg)
        except RecursionError:
            raise
        except Exception as exc:
            self.error("error processing message", f"{type(exc).__name__}: {exc}")
        finally:
            # A moving average of the execution time, as the real timer reports it (approximately).
            elapsed = _time.perf_counter_ns() - start
            self.exec_ns = elapsed if not self.exec_ns else self.exec_ns * 0.9 + elapsed * 0.1

    def emit(self, msg: Message) -> None:
        if self.edge_groups is not None and self.children:
            self.edge_groups.count(msg)
        for i, child in enumerate(self.children):
            self.outs[i] += 1
            child.receive(msg, self)

    def error(self, message: str, err: object, **ctx: Any) -> None:
        """nodeDiagnostic.Error: count it and log one line shaped like the server's."""
        self.errors += 1
        if self.quiet:
            return
        fields = [("service", "kapacitor"), ("task_master", "main"), ("task", self.task.id), ("node", self.name),
                  ("err", str(err)), *((k, str(v)) for k, v in ctx.items())]
        self.task.engine.log("error", message, fields)

    quiet = False

    @property
    def emitted(self) -> int:
        return sum(self.outs)

    def node_stats(self) -> dict[str, int]:
        out = {
            "avg_exec_time_ns": int(self.exec_ns),
            "collected": self.collected,
            "emitted": self.emitted,
            "errors": self.errors,
            "working_cardinality": len(self.groups),
        }
        out.update(self.stats)
        return out

    def process(self, msg: Message) -> None:
        self.emit(msg)

    def stop(self) -> None:
        """Release what the node registered outside the task (routes, topics)."""


def make_scope(fields: dict[str, Any], tags: dict[str, str], t: int) -> Scope:
    return Scope(fields, tags, t)


class StreamNode(Node):
    pass


def _dimensions(names: list[Any]) -> tuple[bool, tuple[str, ...]]:
    """determineTagNames: a `*` anywhere means every tag of each point; names are sorted."""
    star = False
    tags: list[str] = []
    for n in names:
        if not isinstance(n, str):
            star = True
        else:
            tags.append(n)
    return star, tuple(sorted(set(tags)))


class FromNode(Node):
    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.db = setting(pn, "Database", "") or ""
        self.rp = setting(pn, "RetentionPolicy", "") or ""
        self.measurement = setting(pn, "Measurement", "") or ""
        where = setting(pn, "Where")
        self.where = expr.compile_lambda(where) if where is not None else None
        self.truncate = dur_ns(setting(pn, "Truncate", 0))
        self.round = dur_ns(setting(pn, "Round", 0))
        self.all_dims, self.dims = _dimensions(list_setting(pn, "GroupBy") or list_setting(pn, "Dimensions"))
        self.by_name = flag(pn, "GroupByMeasurement") or flag(pn, "GroupByMeasurementFlag")

    def process(self, msg: Message) -> None:
        if not isinstance(msg, Point):
            return
        p = msg
        if (self.db and p.db != self.db) or (self.rp and p.rp != self.rp):
            return
        if self.measurement and p.name != self.measurement:
            return
        if self.where is not None:
            try:
                ok = self.where(make_scope(p.fields, p.tags, p.time))
                if not isinstance(ok, bool):
                    raise EvalError(f"expression returned unexpected type {expr.type_name(ok)}")
            except EvalError as exc:
                self.error("failed to evaluate WHERE expression", exc)
                return
            if not ok:
                return
        t = p.time
        if self.truncate:
            t = go_truncate(t, self.truncate)
        if self.round:
            t = go_round(t, self.round)
        dims = tuple(sorted(p.tags)) if self.all_dims else self.dims
        self.emit(p.copy(time=t, dims=dims, by_name=self.by_name))


class WhereNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.lam = pn.ctor_args[0] if pn.ctor_args else setting(pn, "Lambda")
        self.per_group: dict[str, expr.Fn] = {}

    def process(self, msg: Message) -> None:
        fn = self.per_group.get(msg.group)
        if fn is None:
            fn = self.per_group[msg.group] = expr.compile_lambda(self.lam)
        if isinstance(msg, Point):
            if self._passes(fn, msg.fields, msg.tags, msg.time):
                self.emit(msg)
            return
        kept = [bp for bp in msg.points if self._passes(fn, bp.fields, bp.tags, bp.time)]
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, kept))

    def _passes(self, fn: expr.Fn, fields: dict[str, Any], tags: dict[str, str], t: int) -> bool:
        try:
            ok = fn(make_scope(fields, tags, t))
            if not isinstance(ok, bool):
                raise EvalError(f"expression returned unexpected type {expr.type_name(ok)}")
            return ok
        except EvalError as exc:
            self.error("error while evaluating expression", exc)
            return False


class EvalNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.lambdas = list(pn.ctor_args)
        self.as_names = [str(a) for a in list_setting(pn, "As")]
        self.tag_names = {str(a) for a in list_setting(pn, "Tags")}
        self.keep = flag(pn, "Keep")
        self.keep_list = [str(a) for a in list_setting(pn, "Keep")]
        self.quiet = flag(pn, "Quiet")
        self.per_group: dict[str, list[expr.Fn]] = {}

    def process(self, msg: Message) -> None:
        fns = self.per_group.get(msg.group)
        if fns is None:
            fns = self.per_group[msg.group] = [expr.compile_lambda(lam) for lam in self.lambdas]
        if isinstance(msg, Point):
            out = self._eval(fns, msg.fields, msg.tags, msg.time)
            if out is not None:
                self.emit(msg.copy(fields=out[0], tags=out[1]))
            return
        points = []
        for bp in msg.points:
            out = self._eval(fns, bp.fields, bp.tags, bp.time)
            if out is not None:
                points.append(BatchPoint(out[0], out[1], bp.time))
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, points))

    def _eval(self, fns: list[expr.Fn], fields: dict[str, Any], tags: dict[str, str],
              t: int) -> tuple[dict[str, Any], dict[str, str]] | None:
        scope_fields = dict(fields)
        results: dict[str, Any] = {}
        try:
            for fn, name in zip(fns, self.as_names, strict=False):
                v = fn(make_scope(scope_fields, tags, t))
                results[name] = v
                scope_fields[name] = v
            if self.keep:
                if self.keep_list:
                    new_fields = {}
                    for f in self.keep_list:
                        if f in results:
                            new_fields[f] = results[f]
                        elif f in fields:
                            new_fields[f] = fields[f]
                        else:
                            raise EvalError(f'cannot keep field "{f}", field does not exist')
                else:
                    new_fields = dict(fields)
                    new_fields.update(results)
            else:
                new_fields = {k: v for k, v in results.items() if k not in self.tag_names}
            new_tags = tags
            if self.tag_names:
                new_tags = dict(tags)
                for name in self.tag_names:
                    v = results.get(name)
                    if not isinstance(v, str):
                        raise EvalError(f"result of a tag expression must be of type string, got {go_type(v)}")
                    new_tags[name] = v
            for v in new_fields.values():
                if isinstance(v, (expr.Time,)):
                    raise EvalError("invalid field value type time")
            return {k: _plain(v) for k, v in new_fields.items()}, new_tags
        except EvalError as exc:
            if not self.quiet:
                self.error("error evaluating expression", exc)
            return None


def _plain(v: Any) -> Any:
    if isinstance(v, expr.Duration):
        return int(v)
    return v


def go_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "float64"
    return "<nil>" if v is None else type(v).__name__


class DefaultNode(Node):
    extra_stats = ("fields_defaulted", "tags_defaulted")

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.fields = [(a[0], a[1]) for a in pn.settings.get("Field", [])]
        self.tags = [(a[0], a[1]) for a in pn.settings.get("Tag", [])]

    def _apply(self, fields: dict[str, Any], tags: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        nf, nt = fields, tags
        for k, v in self.fields:
            if k not in nf:
                if nf is fields:
                    nf = dict(fields)
                nf[k] = getattr(v, "ns", v)
                self.stats["fields_defaulted"] += 1
        for k, v in self.tags:
            if k not in nt:
                if nt is tags:
                    nt = dict(tags)
                nt[k] = v
                self.stats["tags_defaulted"] += 1
        return nf, nt

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            f, t = self._apply(msg.fields, msg.tags)
            self.emit(msg.copy(fields=f, tags=t))
            return
        pts = []
        for bp in msg.points:
            f, t = self._apply(bp.fields, bp.tags)
            pts.append(BatchPoint(f, t, bp.time))
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))


class DeleteNode(Node):
    extra_stats = ("fields_deleted", "tags_deleted")

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.fields = [str(a) for a in list_setting(pn, "Field")]
        self.tags = [str(a) for a in list_setting(pn, "Tag")]

    def _apply(self, fields: dict[str, Any], tags: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        nf, nt = fields, tags
        for k in self.fields:
            if k in nf:
                if nf is fields:
                    nf = dict(fields)
                del nf[k]
                self.stats["fields_deleted"] += 1
        for k in self.tags:
            if k in nt:
                if nt is tags:
                    nt = dict(tags)
                del nt[k]
                self.stats["tags_deleted"] += 1
        return nf, nt

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            f, t = self._apply(msg.fields, msg.tags)
            self.emit(msg.copy(fields=f, tags=t))
            return
        pts = []
        for bp in msg.points:
            f, t = self._apply(bp.fields, bp.tags)
            pts.append(BatchPoint(f, t, bp.time))
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))


class GroupByNode(Node):
    grouped = False

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.all_dims, self.dims = _dimensions(list(pn.ctor_args) + list_setting(pn, "Dimensions"))
        self.by_name = flag(pn, "ByMeasurement") or flag(pn, "ByMeasurementFlag")

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            dims = tuple(sorted(msg.tags)) if self.all_dims else self.dims
            self.emit(msg.copy(dims=dims, by_name=self.by_name))
            return
        # Batches are split into one batch per new group, in first-seen order.
        groups: dict[str, Batch] = {}
        for bp in msg.points:
            dims = tuple(sorted(bp.tags)) if self.all_dims else self.dims
            tags = {d: bp.tags.get(d, "") for d in dims}
            gid = group_id(msg.name, bp.tags, dims, self.by_name)
            b = groups.get(gid)
            if b is None:
                b = groups[gid] = Batch(msg.name, tags, dims, self.by_name, gid, msg.time, [])
            b.points.append(bp)
        for b in groups.values():
            self.emit(b)

class LogNode(Node):
    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.level = str(setting(pn, "Level", "INFO"))
        self.prefix = str(setting(pn, "Prefix", ""))

    def process(self, msg: Message) -> None:
        kind = "point" if isinstance(msg, Point) else "batch"
        self.task.engine.log(self.level.lower(), kind, [
            ("service", "kapacitor"), ("task_master", "main"), ("task", self.task.id), ("node", self.name),
            ("prefix", self.prefix), ("group", msg.group)])
        self.emit(msg)

class NoopNode(Node):
    """A node kind the engine does not run (join, union, deadman, UDFs, ...): it counts what it
    receives and emits nothing, so no result downstream of it is ever invented."""

    def process(self, msg: Message) -> None:
        return
