"""InfluxQL aggregates, selectors and stream transformations (the real `influxql.go` node).

A batch reduces to one point (aggregates, most selectors) or to a batch (top, bottom, distinct);
a stream is grouped by identical timestamps. Stream transformations (difference, movingAverage,
cumulativeSum, elapsed) emit one value per point from state kept across points.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from mockserver.tickscript.graph import PNode

from .messages import Batch, BatchPoint, Message, Point
from .nodes import SECOND, Node, dur_ns, flag, setting

TRANSFORMS = frozenset(("difference", "movingAverage", "cumulativeSum", "elapsed"))
#: Selectors whose output is the selected point itself: its tags and all its fields (pipeline's
#: IsSimpleSelector), the field renamed to the node's `as`.
SIMPLE_SELECTORS = frozenset(("first", "last", "min", "max", "percentile"))
EMPTY_OK = frozenset(("count", "sum"))


class ReduceError(Exception):
    pass


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "invalid"


_NUMERIC_ONLY = frozenset(("mean", "median", "sum", "spread", "stddev", "percentile", "difference",
                           "movingAverage", "cumulativeSum", "derivative", "max", "min", "top", "bottom"))


def _reduce(method: str, kind: str, vals: list[tuple[int, Any, Any]], args: tuple[Any, ...]
            ) -> list[tuple[int | None, Any, Any]]:
    """Reduce (time, value, source point) triples; a result time of None means "the batch time",
    a source of None "no point of its own" (aggregates)."""
    if not vals:
        if method == "count":
            return [(None, 0, None)]
        return []
    values = [v for _, v, _ in vals]
    if method == "count":
        return [(None, len(values), None)]
    if method == "sum":
        total = sum(values)
        return [(None, total if kind == "int" else float(total), None)]
    if method == "mean":
        return [(None, float(sum(values)) / len(values), None)]
    if method == "median":
        s = sorted(values)
        n = len(s)
        if n % 2:
            return [(None, float(s[n // 2]) if kind == "int" else s[n // 2], None)]
        lo, hi = s[n // 2 - 1], s[n // 2]
        return [(None, float(lo) + float(hi - lo) / 2, None)]
    if method == "spread":
        return [(None, max(values) - min(values), None)]
    if method == "stddev":
        n = len(values)
        if n < 2:
            return []
        mean = float(sum(values)) / n
        var = sum((float(v) - mean) ** 2 for v in values) / (n - 1)
        return [(None, math.sqrt(var), None)]
    if method == "mode":
        counts: dict[Any, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        best = max(counts.values())
        return [(None, min(v for v, c in counts.items() if c == best), None)]
    if method in ("first", "last"):
        # InfluxQL's reducers: earliest (latest) time; a tie goes to the greater value.
        chosen = vals[0]
        for item in vals[1:]:
            earlier = item[0] < chosen[0] if method == "first" else item[0] > chosen[0]
            if earlier or (item[0] == chosen[0] and _greater(item[1], chosen[1])):
                chosen = item
        return [(chosen[0], chosen[1], chosen[2])]
    if method in ("max", "min"):
        pick = vals[0]
        for item in vals[1:]:
            better = item[1] > pick[1] if method == "max" else item[1] < pick[1]
            if better or (item[1] == pick[1] and item[0] < pick[0]):
                pick = item
        return [(pick[0], pick[1], pick[2])]
    if method == "percentile":
        pct = float(args[0]) if args else 0.0
        s = sorted(vals, key=lambda x: x[1])
        i = math.floor(len(s) * pct / 100.0 + 0.5) - 1
        if i < 0 or i >= len(s):
            return []
        return [(s[i][0], s[i][1], s[i][2])]
    if method == "distinct":
        # The reducer keeps each value's first point, then sorts them by time.
        seen: dict[Any, int] = {}
        for t, v, _tags in vals:
            if v not in seen or t < seen[v]:
                seen[v] = t
        return [(t, v, None) for v, t in sorted(seen.items(), key=lambda kv: kv[1])]
    if method in ("top", "bottom"):
        n = int(args[0]) if args else 1
        ordered = sorted(vals, key=lambda x: ((-x[1] if method == "top" else x[1]), x[0]))[:n]
        ordered.sort(key=lambda x: x[0])
        return [(t, v, tags) for t, v, tags in ordered]
    raise ReduceError(f"unsupported influxql function {method}")


def _greater(a: Any, b: Any) -> bool:
    if isinstance(a, bool):
        return a and not b
    try:
        return bool(a > b)
    except TypeError:
        return False


class InfluxQLNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.method = pn.desc
        args = list(pn.ctor_args)
        if self.method == "top" or self.method == "bottom":
            self.field = str(args[1]) if len(args) > 1 else ""
            self.args: tuple[Any, ...] = (args[0],)
        else:
            self.field = str(args[0]) if args else ""
            self.args = tuple(args[1:])
        self.as_name = str(setting(pn, "As", self.method))
        self.point_times = flag(pn, "UsePointTimes") or flag(pn, "PointTimes") or self.method in TRANSFORMS
        self.provides_batch = pn.provides == "batch"
        #: per group: [time, name, values list] for stream grouping by time; transform state.
        self.stream_state: dict[str, list[Any]] = {}

    # ---- helpers

    def _value(self, fields: dict[str, Any]) -> Any:
        if self.field not in fields:
            raise ReduceError(f'field "{self.field}" missing from point')
        v = fields[self.field]
        k = _kind(v)
        if self.method in _NUMERIC_ONLY and k not in ("int", "float"):
            raise ReduceError(
                f"invalid influxql func {self.method} with field {self.field}: "
                f"unsupported {self.method} type {k}")
        return v

    def _emit_result(self, name: str, template: Point | Batch, t_batch: int,
                     results: list[tuple[int | None, Any, Any]]) -> None:
        if isinstance(template, Point):
            gtags, dims, by_name, group = template.group_tags(), template.dims, template.by_name, template.group
        else:
            gtags, dims, by_name, group = template.tags, template.dims, template.by_name, template.group
        if self.provides_batch:
            pts = []
            begin = t_batch
            for t, v, src in results:
                pt = t if (self.point_times and t is not None) else t_batch
                tags = {**gtags, **src.tags} if src is not None and src.tags else gtags
                pts.append(BatchPoint({self.as_name: v}, tags, pt))
                begin = max(begin, pt)
            self.emit(Batch(name, gtags, dims, by_name, group, begin, pts))
            return
        if len(results) != 1:
            return
        t, v, src = results[0]
        pt = t if (self.point_times and t is not None) else t_batch
        if self.method in SIMPLE_SELECTORS and src is not None:
            fields = src.fields
            if self.as_name != self.field:
                fields = {k: x for k, x in fields.items() if k != self.field}
                fields[self.as_name] = src.fields[self.field]
            self.emit(Point(name, src.tags, fields, pt, dims=dims, by_name=by_name, group=group))
            return
        self.emit(Point(name, gtags, {self.as_name: v}, pt, dims=dims, by_name=by_name, group=group))

    # ---- processing

    def process(self, msg: Message) -> None:
        if self.method in TRANSFORMS:
            self._transform(msg)
            return
        if isinstance(msg, Batch):
            vals = []
            kind = None
            for bp in msg.points:
                try:
                    v = self._value(bp.fields)
                except ReduceError as exc:
                    label = "failed to realize reduce context from fields" if kind is None else \
                        "failed to aggregate point in batch"
                    self.error(label, exc)
                    continue
                if kind is None:
                    kind = _kind(v)
                vals.append((bp.time, v, bp))
            if not msg.points and self.method not in EMPTY_OK:
                return
            self._emit_result(msg.name, msg, msg.time, _reduce(self.method, kind or "float", vals, self.args))
            return
        st = self.stream_state.get(msg.group)
        out = None
        if st is None or st[0] != msg.time:
            if st is not None and st[3]:
                out = st
            st = self.stream_state[msg.group] = [msg.time, msg.name, msg, []]
        try:
            st[3].append((msg.time, self._value(msg.fields), msg))
        except ReduceError as exc:
            self.error("failed to aggregate point", exc)
        if out is not None:
            kind = _kind(out[3][0][1])
            self._emit_result(out[1], out[2], out[0], _reduce(self.method, kind, out[3], self.args))

    def _transform(self, msg: Message) -> None:
        if isinstance(msg, Batch):
            window = int(self.args[0]) if (self.method == "movingAverage" and self.args) else 1
            state: list[Any] = [None, deque(maxlen=max(1, window)), None]
            pts = []
            for bp in msg.points:
                r = self._step(state, bp.fields, bp.time)
                if r is not None:
                    pts.append(BatchPoint({self.as_name: r}, msg.tags, bp.time))
            self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))
            return
        st = self.stream_state.get(msg.group)
        if st is None:
            window = int(self.args[0]) if (self.method == "movingAverage" and self.args) else 1
            st = self.stream_state[msg.group] = [None, deque(maxlen=max(1, window)), None]
        r = self._step(st, msg.fields, msg.time)
        if r is not None:
            self.emit(Point(msg.name, msg.group_tags(), {self.as_name: r}, msg.time, dims=msg.dims,
                            by_name=msg.by_name, group=msg.group))

    def _step(self, st: list[Any], fields: dict[str, Any], t: int) -> Any:
        try:
            v = self._value(fields)
        except ReduceError as exc:
            self.error("failed to aggregate point", exc)
            return None
        if self.method == "difference":
            prev, st[0] = st[0], v
            return None if prev is None else v - prev
        if self.method == "cumulativeSum":
            st[0] = v if st[0] is None else st[0] + v
            return st[0]
        if self.method == "movingAverage":
            st[1].append(v)
            if len(st[1]) < (st[1].maxlen or 1):
                return None
            return float(sum(st[1])) / len(st[1])
        # elapsed
        unit = dur_ns(self.args[0]) if self.args else SECOND
        prev_t, st[2] = st[2], t
        if prev_t is None:
            return None
        return (t - prev_t) // (unit or 1)
