"""The stats node: per-group throughput of another node, emitted on the server's clock.

On the real server a stats node is a source that ticks on the wall clock (stats.go): every
interval it sends one point per group that crossed the watched node's first out-edge so far,
named "stats", with the field `emitted` (that edge's cumulative count for the group), the group's
tags and dimensions, timed at the tick. With `.align()` (as `deadman()` sets) it first waits for
the next multiple of the interval, then sends a round with the start time rounded to the
interval, then ticks every interval from there, each time rounded to the interval.

The mock has no timer threads: ticks are replayed lazily, in time order, whenever the task is
touched (a write, a read of its stats, dot, httpOut or of alert topics), against the injectable
clock of the mock state, so a run is deterministic and a test never sleeps. At most
`MAX_TICKS` ticks are replayed at once: after a long quiet spell the oldest pending ticks are
skipped (the watched counts cannot have changed during them, so only how often an alert fired
meanwhile is lost, not what it says next).
"""

from __future__ import annotations

from typing import Any

from mockserver.gotime import go_round, go_truncate
from mockserver.tickscript.graph import PNode

from .messages import Message, Point, group_id
from .nodes import Node, dur_ns, flag

#: The most ticks one observation replays per stats node.
MAX_TICKS = 1000

class EdgeGroups:
    """What crossed a node's first out-edge, per group: the counts a stats node reads."""

    __slots__ = ("groups",)

    def __init__(self) -> None:
        #: group id -> [count, group tags, dimensions, by measurement]
        self.groups: dict[str, list[Any]] = {}

    def count(self, msg: Message) -> None:
        entry = self.groups.get(msg.group)
        n = 1 if isinstance(msg, Point) else len(msg.points)
        if entry is None:
            tags = msg.group_tags() if isinstance(msg, Point) else dict(msg.tags)
            self.groups[msg.group] = [n, tags, msg.dims, msg.by_name]
        else:
            entry[0] += n


class StatsNode(Node):
    """A source node fed by the clock, not by an edge (its `collected` stays 0, as on the server)."""

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.interval = dur_ns(pn.ctor_args[0]) if pn.ctor_args else 0
        self.align = flag(pn, "Align") or flag(pn, "AlignFlag")
        self.watched: EdgeGroups | None = None
        self.started = 0
        #: Ticks already sent (the first one is tick 1).
        self.ticks = 0

    def watch(self, node: Node, now: int) -> None:
        """Start counting `node`'s first out-edge and start the clock at `now`."""
        if node.edge_groups is None:
            node.edge_groups = EdgeGroups()
        self.watched = node.edge_groups
        self.started = now

    def tick_time(self, k: int) -> int:
        """When tick `k` (1-based) happens on the wall clock."""
        if self.align:
            return go_truncate(self.started, self.interval) + k * self.interval
        return self.started + k * self.interval

    def stamp(self, k: int) -> int:
        """The time the points of tick `k` carry."""
        if self.align:
            return go_round(self.started, self.interval) if k == 1 else self.tick_time(k)
        return self.tick_time(k)

    def due(self, now: int) -> int:
        """How many ticks have happened by `now` in all (0 when the node cannot tick)."""
        if self.interval <= 0 or self.watched is None or now < self.tick_time(1):
            return 0
        return 1 + (now - self.tick_time(1)) // self.interval

    def next_time(self) -> int:
        return self.tick_time(self.ticks + 1)

    def skip_to(self, due: int) -> None:
        """Drop the oldest pending ticks so that at most MAX_TICKS remain (keeping the next one,
        which sees whatever changed since the last tick sent)."""
        pending = due - self.ticks
        if pending > MAX_TICKS:
            self.fire()
            self.ticks = due - (MAX_TICKS - 1)

    def fire(self) -> None:
        """Send the next tick's points: one per group seen on the watched edge, else a nil group."""
        self.ticks += 1
        t = self.stamp(self.ticks)
        assert self.watched is not None
        groups = self.watched.groups
        if not groups:
            self.emit(Point("stats", {}, {"emitted": 0}, t))
            return
        for _gid, (count, tags, dims, by_name) in sorted(groups.items()):
            self.emit(Point("stats", dict(tags), {"emitted": count}, t, dims=dims, by_name=by_name,
                            group=group_id("stats", tags, dims, by_name)))

    def process(self, msg: Message) -> None:
        return
