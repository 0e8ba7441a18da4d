"""Per-group transformations: state tracking, change detection, derivative, sample, shift, union."""

from __future__ import annotations

from collections import deque
from typing import Any

from mockserver.tickscript.graph import PNode

from . import expr
from .expr import EvalError
from .messages import Batch, BatchPoint, Message, Point
from .nodes import SECOND, Node, dur_ns, flag, go_type, list_setting, make_scope, setting


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
            ok = st[0](make_scope(fields, tags, t))
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
                       type=go_type(fields.get(self.field)))
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
