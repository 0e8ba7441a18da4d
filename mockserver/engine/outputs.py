"""Output nodes: httpOut (the last row of each group, served over HTTP) and influxDBOut."""

from __future__ import annotations

from typing import Any

from mockserver import gojson
from mockserver.tickscript.graph import PNode

from .messages import Batch, Message, Point
from .nodes import Node, setting
from .rows import batch_row, point_row


class HTTPOutNode(Node):
    grouped = True

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.endpoint = str(pn.ctor_args[0]) if pn.ctor_args else str(setting(pn, "Endpoint", ""))
        self.index: dict[str, int] = {}
        self.series: list[dict[str, Any] | None] = []

    def process(self, msg: Message) -> None:
        idx = self.index.get(msg.group)
        if idx is None:
            idx = self.index[msg.group] = len(self.series)
            self.series.append(None)
        if isinstance(msg, Point):
            self.series[idx] = point_row(msg.name, msg.tags, msg.fields, msg.time)
        else:
            self.series[idx] = batch_row(msg)
        self.emit(msg)

    def result(self) -> bytes:
        """json.Marshal(models.Result): compact, no trailing newline; `null` before any data."""
        series = None if not self.series else list(self.series)
        return gojson.dumps_compact({"series": series}).rstrip(b"\n")


class InfluxDBOutNode(Node):
    """Writes go to the mock's sink (`--influxdb-sink`): kept per database, retention policy."""

    extra_stats = ("points_written", "write_errors")

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.database = str(setting(pn, "Database", "") or "")
        self.retention = str(setting(pn, "RetentionPolicy", "") or "")
        self.measurement = str(setting(pn, "Measurement", "") or "")
        self.tags = {str(a[0]): str(a[1]) for a in pn.settings.get("Tag", []) if len(a) >= 2}

    def process(self, msg: Message) -> None:
        points = []
        if isinstance(msg, Point):
            points.append((msg.name, msg.tags, msg.fields, msg.time))
        elif isinstance(msg, Batch):
            for bp in msg.points:
                tags = dict(msg.tags)
                tags.update(bp.tags)
                points.append((msg.name, tags, bp.fields, bp.time))
        sink = self.task.engine.sink
        for name, tags, fields, t in points:
            all_tags = dict(tags)
            all_tags.update(self.tags)
            sink.write(self.database, self.retention, self.measurement or name, all_tags, fields, t)
            self.stats["points_written"] += 1
        self.emit(msg)
