"""The data plane of the mock: enabled stream tasks run on written points. No HTTP.

`Engine` (one per `MockState`) keeps a runtime per enabled stream task, routes each written point
to the tasks whose dbrps and measurements match, and exposes what the API shows of a running task:
node stats, the annotated dot, httpOut results; alert events go through the alert store.
"""

from __future__ import annotations

from .engine import Engine, InfluxDBSink
from .runtime import RUNNING_KINDS, TaskRuntime

__all__ = ["RUNNING_KINDS", "Engine", "InfluxDBSink", "TaskRuntime"]
