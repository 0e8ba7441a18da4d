"""Runtime nodes of an executing stream task, one class per pipeline node kind that runs.

Each node receives whole messages (a point or a buffered batch) and forwards what it emits to its
children synchronously, so a write is fully processed when it returns and point time alone drives
windows and alerts: a run is deterministic. Counters follow the real edges: `collected` counts
messages received, a node's `emitted` is the sum over its out-edges (a batch counts once).
"""

from __future__ import annotations

import time as _time
from collections import deque
from typing import Any

from mockserver.tickscript.graph import PNode

from . import expr
from .expr import EvalError, Scope
from .messages import Batch, BatchPoint, Message, Point, group_id

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


def _scope(fields: dict[str, Any], tags: dict[str, str], t: int) -> Scope:
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
                ok = self.where(_scope(p.fields, p.tags, p.time))
                if not isinstance(ok, bool):
                    raise EvalError(f"expression returned unexpected type {expr.type_name(ok)}")
            except EvalError as exc:
                self.error("failed to evaluate WHERE expression", exc)
                return
            if not ok:
                return
        t = p.time
        if self.truncate:
            t -= t % self.truncate
        if self.round:
            t = _go_round(t, self.round)
        dims = tuple(sorted(p.tags)) if self.all_dims else self.dims
        self.emit(p.copy(time=t, dims=dims, by_name=self.by_name))


def _go_round(t: int, d: int) -> int:
    r = t % d
    return t - r + d if r + r >= d else t - r


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
            ok = fn(_scope(fields, tags, t))
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
                v = fn(_scope(scope_fields, tags, t))
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
                        raise EvalError(f"result of a tag expression must be of type string, got {_go_type(v)}")
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


def _go_type(v: Any) -> str:
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


# ---- window -------------------------------------------------------------------------------------


class _TimeBuffer:
    """windowTimeBuffer: a ring buffer purged from its start, exactly as the real one."""

    def __init__(self) -> None:
        self.window: list[Point] = []
        self.cap = 0
        self.start = 0
        self.stop = 0
        self.size = 0

    def insert(self, p: Point) -> None:
        if self.size == self.cap:
            c = 2 * (self.size + 1)
            if self.size == 0:
                w: list[Point] = []
            elif self.stop > self.start:
                w = self.window[self.start:self.stop]
            else:
                w = self.window[self.start:] + self.window[:self.stop]
            w.append(None)  # type: ignore[arg-type]  # Go's make(len size+1)
            self.window = w
            self.cap = c
            self.start = 0
            self.stop = self.size
        if len(self.window) == self.cap and self.stop == len(self.window):
            self.stop = 0
        if self.stop == len(self.window):
            self.window.append(p)
        else:
            self.window[self.stop] = p
        self.size += 1
        self.stop += 1

    def purge(self, oldest: int, inclusive: bool) -> None:
        def include(t: int) -> bool:
            return t >= oldest if inclusive else t > oldest

        n = len(self.window)
        if n == 0:
            return
        if self.start < self.stop:
            while self.start < self.stop and not include(self.window[self.start].time):
                self.start += 1
            self.size = self.stop - self.start
        else:
            if include(self.window[n - 1].time):
                while self.start < n and not include(self.window[self.start].time):
                    self.start += 1
                self.size = n - self.start + self.stop
            else:
                self.start = 0
                while self.start < self.stop and not include(self.window[self.start].time):
                    self.start += 1
                self.size = self.stop - self.start

    def points(self) -> list[Point]:
        if self.size == 0:
            return []
        if self.stop > self.start:
            return self.window[self.start:self.stop]
        return self.window[self.start:] + self.window[:self.stop]


class _WindowByTime:
    def __init__(self, first: Point, period: int, every: int, align: bool, fill: bool) -> None:
        self.name = first.name
        self.tags = first.group_tags()
        self.dims, self.by_name, self.group = first.dims, first.by_name, first.group
        self.period, self.every, self.align = period, every, align
        t = first.time
        if fill:
            nxt = t + period
            if align:
                first_period = nxt
                nxt = _truncate(nxt, every)
                if not nxt > first_period:
                    nxt += every
        else:
            nxt = t + every
            if align:
                nxt = _truncate(nxt, every)
        self.next_emit = nxt
        self.buf = _TimeBuffer()

    def point(self, p: Point) -> Batch | None:
        msg = None
        if self.every == 0:
            self.buf.insert(p)
            if not p.time < self.next_emit:
                self.buf.purge(p.time - self.period, False)
                msg = self.batch(p.time)
                self.next_emit = p.time
        else:
            if not p.time < self.next_emit:
                self.buf.purge(self.next_emit - self.period, True)
                msg = self.batch(self.next_emit)
                self.next_emit = p.time + self.every
                if self.align:
                    self.next_emit = _truncate(self.next_emit, self.every)
            self.buf.insert(p)
        return msg

    def batch(self, tmax: int) -> Batch:
        pts = [BatchPoint(p.fields, p.tags, p.time) for p in self.buf.points()]
        return Batch(self.name, self.tags, self.dims, self.by_name, self.group, tmax, pts)


def _truncate(t: int, d: int) -> int:
    if d <= 0:
        return t
    return t - t % d


class _WindowByCount:
    def __init__(self, first: Point, period: int, every: int, fill: bool) -> None:
        self.name = first.name
        self.tags = first.group_tags()
        self.dims, self.by_name, self.group = first.dims, first.by_name, first.group
        self.period = period
        self.every = every
        self.next_emit = period if fill else every
        self.buf: deque[Point] = deque(maxlen=period)
        self.count = 0

    def point(self, p: Point) -> Batch | None:
        self.buf.append(p)
        self.count += 1
        if self.count >= self.next_emit:
            self.next_emit += self.every
            pts = [BatchPoint(q.fields, q.tags, q.time) for q in self.buf]
            return Batch(self.name, self.tags, self.dims, self.by_name, self.group, p.time, pts)
        return None


class WindowNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.period = dur_ns(setting(pn, "Period", 0))
        self.every = dur_ns(setting(pn, "Every", 0))
        self.align = flag(pn, "Align") or flag(pn, "AlignFlag")
        self.fill = flag(pn, "FillPeriod") or flag(pn, "FillPeriodFlag")
        self.period_count = int(setting(pn, "PeriodCount", 0) or 0)
        self.every_count = int(setting(pn, "EveryCount", 0) or 0)
        self.windows: dict[str, Any] = {}

    def process(self, msg: Message) -> None:
        if not isinstance(msg, Point):
            self.error("error while processing batch", "window does not support batch data")
            return
        w = self.windows.get(msg.group)
        if w is None:
            if self.period:
                w = _WindowByTime(msg, self.period, self.every, self.align, self.fill)
            else:
                w = _WindowByCount(msg, self.period_count, self.every_count, self.fill)
            self.windows[msg.group] = w
        out = w.point(msg)
        if out is not None:
            self.emit(out)


# ---- state tracking, change detection, derivative ---------------------------------------------


class StateNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode, *, duration: bool) -> None:
        super().__init__(task, pn)
        self.duration = duration
        self.lam = pn.ctor_args[0]
        self.as_name = str(setting(pn, "As", "state_duration" if duration else "state_count"))
        self.unit = dur_ns(setting(pn, "Unit", SECOND)) or SECOND
        self.groups_state: dict[str, list[Any]] = {}

    def _track(self, st: list[Any], fields: dict[str, Any], tags: dict[str, str], t: int) -> dict[str, Any] | None:
        try:
            ok = st[0](_scope(fields, tags, t))
            if not isinstance(ok, bool):
                raise EvalError(f"expression returned unexpected type {expr.type_name(ok)}")
        except EvalError as exc:
            self.error("error while evaluating expression", exc)
            return None
        out = dict(fields)
        if self.duration:
            if not ok:
                st[1] = None
                out[self.as_name] = -1.0
            else:
                if st[1] is None:
                    st[1] = t
                out[self.as_name] = (t - st[1]) / self.unit
        else:
            if not ok:
                st[1] = 0
                out[self.as_name] = -1
            else:
                st[1] = (st[1] or 0) + 1
                out[self.as_name] = st[1]
        return out

    def process(self, msg: Message) -> None:
        st = self.groups_state.get(msg.group)
        if st is None:
            st = self.groups_state[msg.group] = [expr.compile_lambda(self.lam), None]
        if isinstance(msg, Point):
            f = self._track(st, msg.fields, msg.tags, msg.time)
            if f is not None:
                self.emit(msg.copy(fields=f))
            return
        st[1] = None
        pts = []
        for bp in msg.points:
            f = self._track(st, bp.fields, bp.tags, bp.time)
            if f is not None:
                pts.append(BatchPoint(f, bp.tags, bp.time))
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))


class ChangeDetectNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.names = [str(a) for a in pn.ctor_args] or [str(a) for a in list_setting(pn, "Fields")]
        self.previous: dict[str, dict[str, Any] | None] = {}

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            prev = self.previous.get(msg.group)
            if prev is None or any(prev.get(n) != msg.fields.get(n) for n in self.names):
                self.previous[msg.group] = msg.fields
                self.emit(msg)
            return
        prev = None
        pts = []
        for bp in msg.points:
            if prev is None or any(prev.get(n) != bp.fields.get(n) for n in self.names):
                prev = bp.fields
                pts.append(bp)
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))


def _num_to_float(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


class DerivativeNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.field = str(pn.ctor_args[0]) if pn.ctor_args else str(setting(pn, "Field", ""))
        self.as_name = str(setting(pn, "As", self.field))  # the real default: the field's own name
        self.unit = dur_ns(setting(pn, "Unit", SECOND)) or SECOND
        self.non_negative = flag(pn, "NonNegative") or flag(pn, "NonNegativeFlag")
        self.previous: dict[str, tuple[dict[str, Any], int] | None] = {}

    def _derive(self, prev: tuple[dict[str, Any], int] | None, fields: dict[str, Any], t: int) -> tuple[Any, bool, bool]:
        f1 = _num_to_float(fields.get(self.field))
        if f1 is None:
            self.error("cannot perform derivative", "field is the wrong type", field=self.field,
                       type=_go_type(fields.get(self.field)))
            return 0.0, False, False
        f0 = _num_to_float(prev[0].get(self.field)) if prev is not None else None
        if f0 is None:
            return 0.0, True, False
        elapsed = t - prev[1]  # type: ignore[index]
        if elapsed == 0:
            self.error("cannot perform derivative", "elaspsed time was 0")
            return 0.0, True, False
        diff = f1 - f0
        if self.non_negative and diff < 0:
            return 0.0, True, False
        return diff / (elapsed / self.unit), True, True

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            prev = self.previous.get(msg.group)
            value, store, emit = self._derive(prev, msg.fields, msg.time)
            if store:
                self.previous[msg.group] = (msg.fields, msg.time)
            if emit:
                fields = dict(msg.fields)
                fields[self.as_name] = value
                self.emit(msg.copy(fields=fields))
            return
        prev_b: tuple[dict[str, Any], int] | None = None
        pts = []
        for bp in msg.points:
            value, store, emit = self._derive(prev_b, bp.fields, bp.time)
            if store:
                prev_b = (bp.fields, bp.time)
            if emit:
                fields = dict(bp.fields)
                fields[self.as_name] = value
                pts.append(BatchPoint(fields, bp.tags, bp.time))
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))


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


class SampleNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        arg = pn.ctor_args[0] if pn.ctor_args else 1
        self.duration = dur_ns(arg) if hasattr(arg, "ns") else 0
        self.n = 0 if self.duration else max(1, int(arg))
        self.counts: dict[str, int] = {}

    def _keep(self, count: int, t: int) -> bool:
        if self.duration:
            return t % self.duration == 0
        return count % self.n == 0

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            count = self.counts.get(msg.group, 0)
            self.counts[msg.group] = count + 1
            if self._keep(count, msg.time):
                self.emit(msg)
            return
        pts = [bp for i, bp in enumerate(msg.points) if self._keep(i, bp.time)]
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))


class ShiftNode(Node):
    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.shift = dur_ns(pn.ctor_args[0]) if pn.ctor_args else 0

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            self.emit(msg.copy(time=msg.time + self.shift))
            return
        pts = [BatchPoint(bp.fields, bp.tags, bp.time + self.shift) for bp in msg.points]
        self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time + self.shift, pts))


class UnionNode(Node):
    """Messages of all parents in time order: each parent's queue is released up to the lowest
    time every parent has reached (the real low-water mark), so a lone parent's points wait."""

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.rename = str(setting(pn, "Rename", "") or "")
        self.parents: list[Node] = []
        self.queues: list[deque[Message]] = []
        self.low_marks: list[int | None] = []

    def link_parent(self, parent: Node) -> None:
        self.parents.append(parent)
        self.queues.append(deque())
        self.low_marks.append(None)

    def process(self, msg: Message) -> None:
        idx = next((i for i, p in enumerate(self.parents) if p is self.source), 0)
        if self.rename:
            if isinstance(msg, Point):
                msg = msg.copy(name=self.rename)
            else:
                msg = Batch(self.rename, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, msg.points)
        self.queues[idx].append(msg)
        self._emit_ready()

    def _emit_ready(self) -> None:
        emitted = True
        while emitted:
            emitted = False
            mark: int | None = None
            valid = 0
            for i, queue in enumerate(self.queues):
                source_mark = self.low_marks[i]
                if queue:
                    t = queue[0].time
                    if mark is None or t < mark:
                        mark = t
                    source_mark = t
                self.low_marks[i] = source_mark
                if source_mark is not None:
                    valid += 1
                    if mark is None or source_mark < mark:
                        mark = source_mark
            if valid != len(self.queues) or mark is None:
                return
            for queue in self.queues:
                while queue and not queue[0].time > mark:
                    self.emit(queue.popleft())
                    emitted = True


class NoopNode(Node):
    """A node kind the engine does not run (join, union, deadman, UDFs, ...): it counts what it
    receives and emits nothing, so no result downstream of it is ever invented."""

    def process(self, msg: Message) -> None:
        return
