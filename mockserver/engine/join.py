"""The join node, ported from the real `join.go`: sets of one message per parent, keyed by time
rounded to the tolerance, emitted oldest first once every parent has moved past them; `on()`
joins points of more specific groups with the matching less specific group."""

from __future__ import annotations

from typing import Any

from mockserver.tickscript.graph import PNode

from .messages import Batch, BatchPoint, Message, Point, group_id
from .nodes import Node, dur_ns, list_setting, setting

_NO_FILL, _NULL_FILL, _NUMBER_FILL = range(3)


def _round(t: int, d: int) -> int:
    """time.Time.Round: halfway values round up (away from zero for positive times)."""
    if d <= 0:
        return t
    r = t % d
    return t - r + d if r + r >= d else t - r


class _JoinSet:
    def __init__(self, node: JoinNode, t: int) -> None:
        self.node = node
        self.name = node.stream_name
        self.time = t
        self.values: list[Message | None] = [None] * node.expected
        self.size = 0
        self.first = node.expected

    def ready(self) -> bool:
        return self.size == self.node.expected

    def set(self, i: int, m: Message) -> None:
        self.first = min(self.first, i)
        self.values[i] = m
        self.size += 1

    def first_value(self) -> Message:
        value = self.values[self.first]
        assert value is not None
        return value

    def _fill(self, fields: dict[str, Any], i: int, names: Any) -> bool:
        n = self.node
        if n.fill == _NO_FILL:
            return False
        for k in names:
            fields[n.prefixes[i] + n.delimiter + k] = None if n.fill == _NULL_FILL else n.fill_value
        return True

    def into_point(self) -> Point | None:
        first = self.first_value()
        if not isinstance(first, Point):
            raise ValueError(f"unexpected type of first value {type(first).__name__}")
        fields: dict[str, Any] = {}
        for i, v in enumerate(self.values):
            if v is None:
                if not self._fill(fields, i, first.fields):
                    return None
            else:
                for k, x in v.fields.items():  # type: ignore[union-attr]
                    fields[self.node.prefixes[i] + self.node.delimiter + k] = x
        return Point(self.name, first.group_tags(), fields, self.time, dims=first.dims, by_name=first.by_name)

    def into_batch(self) -> Batch:
        first = self.first_value()
        assert isinstance(first, Batch)
        n = self.node
        points: list[BatchPoint] = []
        expected = n.expected
        empty = [False] * expected
        empty_count = 0
        indexes = [0] * expected
        field_names: list[str] | None = None
        while empty_count < expected:
            chosen: list[BatchPoint | None] = [None] * expected
            set_time: int | None = None
            count = 0
            for i, batch in enumerate(self.values):
                if empty[i]:
                    continue
                if batch is None or not isinstance(batch, Batch) or indexes[i] == len(batch.points):
                    empty_count += 1
                    empty[i] = True
                    continue
                bp = batch.points[indexes[i]]
                t = _round(bp.time, n.tolerance)
                if set_time is None:
                    set_time = t
                if t < set_time:
                    set_time = t
                    for j in range(expected):
                        if chosen[j] is not None:
                            indexes[j] -= 1
                        chosen[j] = None
                    chosen[i] = bp
                    indexes[i] += 1
                    count = 1
                elif t == set_time:
                    if field_names is None:
                        field_names = list(bp.fields)
                    chosen[i] = bp
                    indexes[i] += 1
                    count += 1
            if count == 0 or set_time is None:
                continue
            fields: dict[str, Any] = {}
            complete = True
            for i, picked in enumerate(chosen):
                if picked is None:
                    if not self._fill(fields, i, field_names or []):
                        complete = False
                        break
                else:
                    for k, x in picked.fields.items():
                        fields[n.prefixes[i] + n.delimiter + k] = x
            if complete:
                points.append(BatchPoint(fields, first.tags, set_time))
        dims = tuple(sorted(first.tags))
        gid = group_id(self.name, first.tags, dims, first.by_name)
        return Batch(self.name, first.tags, dims, first.by_name, gid, self.time, points)


class _JoinGroup:
    def __init__(self, node: JoinNode) -> None:
        self.node = node
        self.sets: dict[int, list[_JoinSet]] = {}
        self.head: list[int | None] = [None] * node.expected
        self.oldest: int | None = None

    def collect(self, src: int, m: Message) -> None:
        t = _round(m.time, self.node.tolerance)
        if self.oldest is None or t < self.oldest:
            self.oldest = t
        sets = self.sets.setdefault(t, [])
        target = next((s for s in sets if s.values[src] is None), None)
        if target is None:
            target = _JoinSet(self.node, t)
            sets.append(target)
        target.set(src, m)
        self.head[src] = t
        self.emit(self._only_ready())

    def _only_ready(self) -> bool:
        # Go's zero time is before every point time: a parent not heard from yet holds sets back.
        return any(h is None or self.oldest is None or not h > self.oldest for h in self.head)

    def emit(self, only_ready: bool) -> None:
        while True:
            if not self.sets or self.oldest is None:
                return
            sets = self.sets.get(self.oldest, [])
            i = 0
            while i < len(sets):
                if sets[i].ready() or not only_ready:
                    self.node.emit_set(sets[i])
                    i += 1
                else:
                    break
            if i == len(sets):
                self.sets.pop(self.oldest, None)
            else:
                self.sets[self.oldest] = sets[i:]
            self.oldest = min(self.sets) if self.sets else None
            if only_ready:
                return
            only_ready = self._only_ready()


class JoinNode(Node):
    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.parents: list[Node] = []
        self.prefixes = [str(a) for a in list_setting(pn, "As")]
        self.expected = len(self.prefixes)
        self.delimiter = str(setting(pn, "Delimiter", "."))
        self.tolerance = dur_ns(setting(pn, "Tolerance", 0))
        self.stream_name = str(setting(pn, "StreamName", "") or "")
        self.on = tuple(str(a) for a in list_setting(pn, "On"))
        fill = setting(pn, "Fill", None)
        self.fill, self.fill_value = _NO_FILL, None
        if fill == "null":
            self.fill = _NULL_FILL
        elif isinstance(fill, (int, float)) and not isinstance(fill, bool):
            self.fill, self.fill_value = _NUMBER_FILL, fill
        self.join_groups: dict[str, _JoinGroup] = {}
        self.match_buffer: dict[str, list[tuple[int, Message]]] = {}
        self.specific_buffer: dict[str, list[tuple[int, Message]]] = {}
        self.low_marks: dict[tuple[int, str], int] = {}
        self.reported: set[int] = set()

    def link_parent(self, parent: Node) -> None:
        self.parents.append(parent)

    def node_stats(self) -> dict[str, int]:
        out = super().node_stats()
        out["working_cardinality"] = len(self.join_groups)
        return out

    def process(self, msg: Message) -> None:
        src = next((i for i, p in enumerate(self.parents) if p is self.source), 0)
        if self.on:
            self._match(src, msg)
        else:
            self._group(msg.group).collect(src, msg)

    def _group(self, gid: str) -> _JoinGroup:
        g = self.join_groups.get(gid)
        if g is None:
            g = self.join_groups[gid] = _JoinGroup(self)
        return g

    def _send_specific(self, item: tuple[int, Message]) -> None:
        self._group(item[1].group).collect(item[0], item[1])

    def _send_match(self, specific: tuple[int, Message], matched: tuple[int, Message]) -> None:
        m = matched[1]
        s = specific[1]
        stags = s.group_tags() if isinstance(s, Point) else s.tags
        if isinstance(m, Point):
            new: Message = m.copy(tags=stags, dims=s.dims)
        else:
            new = Batch(m.name, stags, m.dims, m.by_name, m.group, m.time, m.points)
        g = self._group(s.group)
        g.collect(specific[0], s)
        g.collect(matched[0], new)

    def _match(self, src: int, msg: Message) -> None:
        all_reported = len(self.reported) == len(self.parents)
        if not all_reported:
            self.reported.add(src)
            all_reported = len(self.reported) == len(self.parents)
        t = _round(msg.time, self.tolerance)
        tags = msg.group_tags() if isinstance(msg, Point) else msg.tags
        gid = group_id(msg.name, tags, self.on, msg.by_name)
        self.low_marks[(src, gid)] = t
        low: int | None = None
        if all_reported:
            for s in range(len(self.parents)):
                lm = self.low_marks.get((s, gid))
                if low is None or lm is None or lm < low:
                    low = lm
        if all_reported:
            buf = self.specific_buffer.get(gid, [])
            i = 0
            while i < len(buf) and low is not None and _round(buf[i][1].time, self.tolerance) < low:
                self._send_specific(buf[i])
                i += 1
            self.specific_buffer[gid] = buf[i:]
        item = (src, msg)
        if len(msg.dims) > len(self.on):
            matches = self.match_buffer.get(gid, [])
            matched = False
            i = 0
            while i < len(matches):
                pt = _round(matches[i][1].time, self.tolerance)
                if pt == t:
                    self._send_match(item, matches[i])
                    matched = True
                if low is None or not pt < low:
                    break
                i += 1
            if all_reported:
                self.match_buffer[gid] = matches[i:]
            if not matched:
                if all_reported and low is not None and t < low:
                    self._send_specific(item)
                else:
                    self.specific_buffer.setdefault(gid, []).append(item)
        else:
            self.match_buffer.setdefault(gid, []).append(item)
            buf = self.specific_buffer.get(gid, [])
            i = 0
            while i < len(buf) and _round(buf[i][1].time, self.tolerance) == t:
                self._send_match(buf[i], item)
                i += 1
            self.specific_buffer[gid] = buf[i:]

    def emit_set(self, js: _JoinSet) -> None:
        if not js.name:
            js.name = js.first_value().name
        try:
            out: Message | None = js.into_batch() if self.pn.provides == "batch" else js.into_point()
        except ValueError as exc:
            self.error("failed to join", exc)
            return
        if out is not None:
            self.emit(out)
