"""One executing stream task: its runtime nodes, its input routing, its stats and annotated dot."""

from __future__ import annotations

import threading
from typing import Any

from mockserver.gotime import go_duration
from mockserver.tickscript.graph import Pipeline, PNode

from . import nodes as n
from . import transforms as t
from .alert import AlertNode
from .influxql import InfluxQLNode
from .join import JoinNode
from .messages import Point
from .nodes import SECOND
from .outputs import HTTPOutNode, InfluxDBOutNode
from .stats import StatsNode
from .window import WindowNode

_KINDS: dict[str, Any] = {
    "StreamNode": n.StreamNode,
    "FromNode": n.FromNode,
    "WhereNode": n.WhereNode,
    "EvalNode": n.EvalNode,
    "DefaultNode": n.DefaultNode,
    "DeleteNode": n.DeleteNode,
    "WindowNode": WindowNode,
    "GroupByNode": n.GroupByNode,
    "InfluxQLNode": InfluxQLNode,
    "DerivativeNode": t.DerivativeNode,
    "ChangeDetectNode": t.ChangeDetectNode,
    "LogNode": n.LogNode,
    "SampleNode": t.SampleNode,
    "ShiftNode": t.ShiftNode,
    "UnionNode": t.UnionNode,
    "JoinNode": JoinNode,
    "AlertNode": AlertNode,
    "HTTPOutNode": HTTPOutNode,
    "InfluxDBOutNode": InfluxDBOutNode,
    "StatsNode": StatsNode,
}

#: Node kinds that run; every other kind builds and forwards its input unchanged.
RUNNING_KINDS = frozenset((*_KINDS, "StateDurationNode", "StateCountNode", "NoOpNode"))


def _make(task: TaskRuntime, pn: PNode) -> n.Node:
    if pn.gotype == "StateDurationNode":
        return t.StateNode(task, pn, duration=True)
    if pn.gotype == "StateCountNode":
        return t.StateNode(task, pn, duration=False)
    cls = _KINDS.get(pn.gotype, n.NoopNode)
    node: n.Node = cls(task, pn)
    return node


class TaskRuntime:
    """The executing form of one enabled stream task; processing is serialized by `lock`."""

    def __init__(self, engine: Any, task: Any, pipeline: Pipeline, *, publish: bool = True,
                 master: str = "main") -> None:
        self.engine = engine
        #: False: alerts reach no topic and no handler (a run nobody may observe).
        self.publish = publish
        #: The task master's ID: "main", or a replay's ID (its alerts' anonymous topics carry it).
        self.master = master
        self.task = task
        self.id: str = task.id
        self.lock = threading.Lock()
        self.stopped = False
        self.dbrps = {(db, rp) for db, rp in task.dbrps}
        self.measurements = frozenset(
            str(p.fields.get("Measurement", "") or "") for p in pipeline.sorted() if p.gotype == "FromNode"
        )
        self.kind = pipeline.kind
        self.order = pipeline.sorted()
        self.nodes: list[n.Node] = []
        by_id: dict[int, n.Node] = {}
        for pn in self.order:
            node = _make(self, pn)
            by_id[id(pn)] = node
            self.nodes.append(node)
        # Children in walk order, as the executing task links them.
        for pn in self.order:
            for parent in pn.parents:
                p = by_id[id(parent)]
                child = by_id[id(pn)]
                p.children.append(child)
                p.outs.append(0)
                if isinstance(child, (t.UnionNode, JoinNode)):
                    child.link_parent(p)
        self.source = self.nodes[0]
        self.http_outs = {node.endpoint: node for node in self.nodes if isinstance(node, HTTPOutNode)}
        self.clocked = [node for node in self.nodes if isinstance(node, StatsNode)]
        now = engine.now()
        for node in self.clocked:
            node.watch(by_id[id(node.pn.ctor_args[1])], now)
        # The task's throughput: every second since the start, what its source collected in that
        # second (task.go calcThroughput); replayed lazily like the stats ticks.
        self.started = now
        self.throughput_ticks = 0
        self.throughput_count = 0
        self.throughput = 0.0
        for node in self.nodes:
            start = getattr(node, "start", None)
            if start is not None:
                start()

    def copies(self, measurement: str) -> int:
        """How many fork keys a point of `measurement` matches: its name, and "" (all)."""
        return (measurement in self.measurements) + ("" in self.measurements)

    def feed(self, points: list[Point]) -> None:
        with self.lock:
            if self.stopped:
                return
            source = self.source
            for p in points:
                source.receive(p)

    def advance(self, now: int) -> None:
        """Replay the clock-driven ticks due by `now`, in time order (at most MAX_TICKS per node)."""
        with self.lock:
            if self.stopped:
                return
            self._throughput(now)
            if not self.clocked:
                return
            pending = []
            for node in self.clocked:
                due = node.due(now)
                if due > node.ticks:
                    node.skip_to(due)
                    pending.append((node, due))
            while pending:
                node, due = min(pending, key=lambda item: item[0].next_time())
                node.fire()
                if node.ticks >= due:
                    pending = [item for item in pending if item[0] is not node]

    def _throughput(self, now: int) -> None:
        due = (now - self.started) // SECOND
        if due <= self.throughput_ticks:
            return
        count = self.source.collected
        # Points arrive only between observations, so when more than one second went by the
        # last second saw none of them.
        delta = count - self.throughput_count if due - self.throughput_ticks == 1 else 0
        self.throughput = float(delta)
        self.throughput_ticks = due
        self.throughput_count = count

    def stop(self) -> None:
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
            for node in self.nodes:
                node.stop()

    # ---- observation

    def stats(self) -> dict[str, Any]:
        node_stats = {node.name: dict(sorted(node.node_stats().items())) for node in self.nodes}
        return {"task-stats": {"throughput": self.throughput}, "node-stats": dict(sorted(node_stats.items()))}

    def dot(self, *, labels: bool) -> str:
        unit = "batches" if self.kind == "batch" else "points"
        out = ["digraph ", self.id, " {\n"]
        if labels:
            out.append(f'graph [label="Throughput: {self.throughput:0.2f} {unit}/s" forcelabels=true pad="0.8,0.5"];\n')
        else:
            out.append(f'graph [throughput="{self.throughput:0.2f} {unit}/s"];\n')
        for node in self.nodes:
            stats = node.node_stats()
            stats.pop("collected", None)
            stats.pop("emitted", None)
            items = sorted(stats.items())
            values = [(k, go_duration(v) if k == "avg_exec_time_ns" else str(v)) for k, v in items]
            if labels:
                body = "\\r".join(f"{k}={v}" for k, v in values)
                out.append(f'\n{node.name} [xlabel="{body}"];\n')
                out.extend(f'{node.name} -> {c.name} [label="processed={node.outs[i]}"];\n'
                           for i, c in enumerate(node.children))
            else:
                body = "".join(f'{k}="{v}" ' for k, v in values)
                out.append(f"\n{node.name} [{body}];\n")
                out.extend(f'{node.name} -> {c.name} [processed="{node.outs[i]}"];\n'
                           for i, c in enumerate(node.children))
        out.append("}")
        return "".join(out)
