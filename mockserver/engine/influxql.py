"""InfluxQL aggregates, selectors and stream transformations (the real `influxql.go` node).

A batch reduces to one point (aggregates, most selectors) or to a batch (top, bottom, distinct);
a stream is grouped by identical timestamps. Stream transformations (difference, movingAverage,
cumulativeSum, elapsed) emit one value per point from state kept across points.
"""

from __future__ import annotations

import math
from typing import Any

from mockserver.tickscript.graph import PNode

from .gotemplate import go_v
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


_GO_TYPES = {"int": "int64", "float": "float64", "string": "string", "bool": "bool"}
_NUMERIC_ONLY = frozenset(("mean", "median", "sum", "spread", "stddev", "percentile", "difference",
                           "movingAverage", "cumulativeSum", "derivative", "max", "min", "top", "bottom"))


def _reduce(method: str, kind: str, vals: list[tuple[int, Any, Any]], args: tuple[Any, ...]
            ) -> list[tuple[int | None, Any, Any]]:
    """Reduce (time, value, source point) triples; a result time of None means "the batch time",
    a source of None "no point of its own" (aggregates)."""
    if not vals:
        if method == "count":
            return [(None, 0, None)]
        if method == "sum":  # the reducer starts from a 0 point: an empty batch sums to 0
            return [(None, 0 if kind == "int" else 0.0, None)]
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
        # FloatStddevReduceSlice: fewer than two points give a Nil point, which Kapacitor emits
        # as 0; the mean is the running one (mean += (v-mean)/count), not sum/n.
        n = len(values)
        if n < 2:
            return [(None, 0.0, None)]
        mean = 0.0
        for i, v in enumerate(values, 1):
            mean += (float(v) - mean) / i
        var = 0.0
        for v in values:
            var += math.pow(float(v) - mean, 2)
        return [(None, math.sqrt(var / (n - 1)), None)]
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
        # The reducer keeps the first point aggregated for each value (arrival order, not the
        # earliest time), then sorts them by time, equal times by value (floatPoints.Less).
        seen: dict[Any, int] = {}
        for t, v, _tags in vals:
            if v not in seen:
                seen[v] = t
        return [(t, v, None) for v, t in sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))]
    if method in ("top", "bottom"):
        n = int(args[0]) if args else 1
        if len(args) > 1:
            vals = _unique_by(method, vals, [str(a) for a in args[1:]])
        ordered = sorted(vals, key=lambda x: ((-x[1] if method == "top" else x[1]), x[0]))[:n]
        ordered.sort(key=lambda x: x[0])
        return [(t, v, tags) for t, v, tags in ordered]
    raise ReduceError(f"unsupported influxql function {method}")


def _fmt_s(v: Any) -> str:
    """fmt's %s of an Aux value: strings as they are, other types as %!s(type=value)."""
    if isinstance(v, str):
        return v
    if v is None:
        return "%!s(<nil>)"
    return f"%!s({_GO_TYPES.get(_kind(v), 'invalid')}={go_v(v)})"


def _unique_by(method: str, vals: list[tuple[int, Any, Any]], names: list[str]) -> list[tuple[int, Any, Any]]:
    """filter<Type>ByUniqueTags: top/bottom with extra fields or tags keep one point per distinct
    combination of their values (a field of that name first, else the tag, else ""): the higher
    (top) or lower (bottom) value, on a tie the earlier time."""
    best: dict[str, tuple[int, Any, Any]] = {}
    for item in vals:
        src = item[2]
        fields = src.fields if src is not None else {}
        tags = src.tags if src is not None else {}
        key = ",".join(_fmt_s(fields[name]) if name in fields else tags.get(name, "") for name in names)
        cur = best.get(key)
        if cur is None:
            best[key] = item
            continue
        better = item[1] > cur[1] if method == "top" else item[1] < cur[1]
        if better or (item[1] == cur[1] and item[0] < cur[0]):
            best[key] = item
    return list(best.values())


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
            self.args: tuple[Any, ...] = (args[0], *args[2:])  # n, then the fields and tags
        else:
            self.field = str(args[0]) if args else ""
            self.args = tuple(args[1:])
        self.as_name = str(setting(pn, "As", self.method))
        self.point_times = flag(pn, "UsePointTimes") or flag(pn, "PointTimes") or self.method in TRANSFORMS
        self.provides_batch = pn.provides == "batch"
        #: per group: [time, name, values list] for stream grouping by time; transform state.
        self.stream_state: dict[str, list[Any]] = {}
        self.transform_state: dict[str, _TransformState] = {}

    # ---- helpers

    def _value(self, fields: dict[str, Any], kind: str | None = None) -> Any:
        """The field's value. With `kind` (the reduce context is realized for that type, from an
        earlier point) a point without the field or with another type is an error, as the typed
        convert<Kind>Point of influxql.gen.go rejects it."""
        if kind is not None:
            if self.field not in fields:
                raise ReduceError(f"field {self.field} missing from point cannot aggregate")
            v = fields[self.field]
            if _kind(v) != kind:
                raise ReduceError(f"field {self.field} has wrong type: got {_GO_TYPES.get(_kind(v), 'invalid')} "
                                  f"exp {_GO_TYPES.get(kind, 'invalid')}")
            return v
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
                    v = self._value(bp.fields, kind)
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
            st = self.stream_state[msg.group] = [msg.time, msg.name, msg, [], None]
        try:
            v = self._value(msg.fields, st[4])
            if st[4] is None:
                st[4] = _kind(v)
            st[3].append((msg.time, v, msg))
        except ReduceError as exc:
            self.error("failed to realize reduce context from fields" if st[4] is None else
                       "failed to aggregate point", exc)
        if out is not None:
            self._emit_result(out[1], out[2], out[0], _reduce(self.method, out[4], out[3], self.args))

    def _transform(self, msg: Message) -> None:
        if isinstance(msg, Batch):
            state = _TransformState(self.method, self.args)  # the reduce context is reset per batch
            pts = []
            for bp in msg.points:
                r = self._step(state, bp.fields, bp.time, "failed to aggregate batch point")
                if r is not None:
                    pts.append(BatchPoint({self.as_name: r[1]}, msg.tags, r[0]))
            self.emit(Batch(msg.name, msg.tags, msg.dims, msg.by_name, msg.group, msg.time, pts))
            return
        st = self.transform_state.get(msg.group)
        if st is None:
            st = self.transform_state[msg.group] = _TransformState(self.method, self.args)
        r = self._step(st, msg.fields, msg.time, "failed to aggregate point")
        if r is not None:
            self.emit(Point(msg.name, msg.group_tags(), {self.as_name: r[1]}, r[0], dims=msg.dims,
                            by_name=msg.by_name, group=msg.group))

    def _step(self, st: _TransformState, fields: dict[str, Any], t: int, label: str) -> tuple[int, Any] | None:
        """influxqlStreamingTransformGroup: the first point realizes the reduce context (on error
        the point is skipped); later points that fail to aggregate are logged, and the reducer is
        asked to emit all the same (cumulativeSum, movingAverage and elapsed then repeat their
        last result, at its time)."""
        if st.kind is None:
            try:
                v = self._value(fields)
            except ReduceError as exc:
                self.error("failed to realize reduce context from fields", exc)
                return None
            st.kind = _kind(v)
            st.aggregate(v, t)
        else:
            try:
                st.aggregate(self._value(fields, st.kind), t)
            except ReduceError as exc:
                self.error(label, exc)
        return st.emit()


def _go_div(a: int, b: int) -> int:
    """Go's integer division: truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


class _TransformState:
    """The InfluxQL reducers behind the stream transformations (difference, cumulativeSum,
    movingAverage, elapsed), state for state."""

    def __init__(self, method: str, args: tuple[Any, ...]) -> None:
        self.method = method
        self.kind: str | None = None
        self.prev: tuple[Any, int] | None = None  # None: Nil (or, for difference, read)
        self.curr: tuple[Any, int] | None = None
        self.window = max(1, int(args[0])) if (method == "movingAverage" and args) else 1
        self.buf: list[Any] = []
        self.pos = 0
        self.total: Any = 0
        self.unit = (dur_ns(args[0]) if args else SECOND) or 1

    def aggregate(self, v: Any, t: int) -> None:
        if self.method == "difference":
            if self.curr is not None and self.curr[1] == t:
                return  # a point that does not advance the stream is skipped
            self.prev, self.curr = self.curr, (v, t)
        elif self.method == "cumulativeSum":
            base = self.curr[0] if self.curr is not None else (0 if self.kind == "int" else 0.0)
            self.curr = (base + v, t)
        elif self.method == "movingAverage":
            if len(self.buf) != self.window:
                self.buf.append(v)
            else:
                self.total -= self.buf[self.pos]
                self.buf[self.pos] = v
            self.total += v
            self.curr = (None, t)
            self.pos += 1
            if self.pos >= self.window:
                self.pos = 0
        else:  # elapsed
            self.prev, self.curr = self.curr, (v, t)

    def emit(self) -> tuple[int, Any] | None:
        if self.curr is None:
            return None
        t = self.curr[1]
        if self.method == "difference":
            if self.prev is None:
                return None
            value = self.curr[0] - self.prev[0]
            self.prev = None  # marked read
            return t, value
        if self.method == "cumulativeSum":
            return t, self.curr[0]
        if self.method == "movingAverage":
            if len(self.buf) != self.window:
                return None
            return t, float(self.total) / len(self.buf)
        if self.prev is None:
            return None
        return t, _go_div(t - self.prev[1], self.unit)
