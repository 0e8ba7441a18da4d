"""Broken data planes: the mock behind middlewares that drop written points or miscount them.

Same shape as `mutants.py`: each mutant names the rule it breaks, the checks that must catch it
and the narrow selection the suite runs against it.
"""

from __future__ import annotations

import io
import re
from typing import Any

from tests.conformance.mutants import Captured, Mutant, WSGIApp, call, path, read_body, set_body

_WRITE = re.compile(r"^(/kapacitor/v1)?/write$")
_TASK = re.compile(r"^/kapacitor/v1/tasks/[^/]+$")
_TASKS = re.compile(r"^/kapacitor/v1/tasks$")
SELECT = ("dataplane.*",)


class DropsLastPoint(Mutant):
    name = "dataplane-drops-last-point"
    rule = "the data plane loses the last point of every write"
    kills = ("dataplane.alert-stats", "dataplane.topic-events", "dataplane.httpout-window", "dataplane.node-error",
             "dataplane.executing-dot")
    select = SELECT
    args = ("--allow-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and _WRITE.match(path(environ)):
            lines = read_body(environ).splitlines(keepends=True)
            set_body(environ, b"".join(lines[:-1]) if len(lines) > 1 else b"")
            if len(lines) <= 1:
                return Captured("204 No Content", [("X-Kapacitor-Version", "1.8.3")], b"")
        return call(self.app, environ)


class MiscountsAlerts(Mutant):
    name = "dataplane-miscounts-alerts"
    rule = "node-stats count one alert too many at the CRITICAL level"
    kills = ("dataplane.alert-stats",)
    select = SELECT
    args = ("--allow-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if environ["REQUEST_METHOD"] == "GET" and _TASK.match(path(environ)) and cap.code == 200:
            body = cap.json()
            nodes = ((body or {}).get("stats") or {}).get("node-stats") or {}
            for stats in nodes.values():
                if "crits_triggered" in stats:
                    stats["crits_triggered"] += 1
            cap.set_json(body)
        return cap


class CollectedOffByOne(Mutant):
    name = "dataplane-collected-off-by-one"
    rule = "node-stats report one point fewer collected than the node received"
    kills = ("dataplane.alert-stats", "dataplane.node-error")
    select = SELECT
    args = ("--allow-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        cap = call(self.app, environ)
        if environ["REQUEST_METHOD"] == "GET" and _TASK.match(path(environ)) and cap.code == 200:
            body = cap.json()
            nodes = ((body or {}).get("stats") or {}).get("node-stats") or {}
            for stats in nodes.values():
                if stats.get("collected"):
                    stats["collected"] -= 1
            cap.set_json(body)
        return cap


class DeadmanNeverTicks(Mutant):
    name = "dataplane-deadman-never-ticks"
    rule = "a deadman's stats node does not tick on the server clock (a silent task never alerts)"
    kills = ("dataplane.deadman",)
    select = ("dataplane.deadman",)
    args = ("--allow-writes",)

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "POST" and _TASKS.match(path(environ)):
            body = read_body(environ)
            set_body(environ, re.sub(rb"\|deadman\(([^,]*), *[0-9]+s\)", rb"|deadman(\1, 24h)", body))
        return call(self.app, environ)


class DisableKeepsCounts(Mutant):
    """Counters kept on the task instead of on its running pipeline survive a disable."""

    name = "dataplane-disable-keeps-counts"
    rule = "node-stats carry their counts over a disable and enable instead of starting from zero"
    kills = ("dataplane.disable-drops-state",)
    select = ("dataplane.disable-drops-state",)
    args = ("--allow-writes",)
    kept: dict[str, dict[str, Any]]

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.kept = {}

    def handle(self, environ: dict[str, Any]) -> Captured:
        p = path(environ)
        if environ["REQUEST_METHOD"] == "PATCH" and _TASK.match(p) and b'"disabled"' in read_body(environ):
            probe = dict(environ, REQUEST_METHOD="GET", QUERY_STRING="", CONTENT_LENGTH="0")
            probe["wsgi.input"] = io.BytesIO(b"")
            before = call(self.app, probe).json()
            self.kept[p] = ((before or {}).get("stats") or {}).get("node-stats") or {}
        cap = call(self.app, environ)
        if environ["REQUEST_METHOD"] == "GET" and p in self.kept and cap.code == 200:
            body = cap.json()
            nodes = ((body or {}).get("stats") or {}).get("node-stats") or {}
            for node, stats in nodes.items():
                for key, value in self.kept[p].get(node, {}).items():
                    if isinstance(value, int) and isinstance(stats.get(key), int):
                        stats[key] += value
            cap.set_json(body)
        return cap


MUTANTS: list[type[Mutant]] = [DropsLastPoint, MiscountsAlerts, CollectedOffByOne, DeadmanNeverTicks,
                                DisableKeepsCounts]
