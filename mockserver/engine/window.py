"""The window node: time windows (a ring buffer purged from its start, exactly as the real one)
and count windows, one per group; point time alone decides when a window is emitted."""

from __future__ import annotations

from collections import deque
from typing import Any

from mockserver.gotime import go_truncate
from mockserver.tickscript.graph import PNode

from .messages import Batch, BatchPoint, Message, Point
from .nodes import Node, dur_ns, flag, setting


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
                nxt = go_truncate(nxt, every)
                if not nxt > first_period:
                    nxt += every
        else:
            nxt = t + every
            if align:
                nxt = go_truncate(nxt, every)
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
                    self.next_emit = go_truncate(self.next_emit, self.every)
            self.buf.insert(p)
        return msg

    def batch(self, tmax: int) -> Batch:
        pts = [BatchPoint(p.fields, p.tags, p.time) for p in self.buf.points()]
        return Batch(self.name, self.tags, self.dims, self.by_name, self.group, tmax, pts)


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
