"""All state of one mock server, framework-free; one re-entrant lock guards cross-family rules.

Every family store takes the `MockState` (for the lock, the clock, the ID generator and the other
stores) and implements `snapshot()`/`restore()` so `/storage/backup` and `--restore` cover it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from mockserver.config import MockConfig
from mockserver.engine import Engine
from mockserver.gotime import now_ns
from mockserver.store.alerts import AlertStore
from mockserver.store.configs import ConfigStore
from mockserver.store.fluxtasks import FluxTaskStore
from mockserver.store.points import PointStore
from mockserver.store.recordings import RecordingStore
from mockserver.store.servicetests import ServiceTestStore
from mockserver.store.tasks import TaskStore
from mockserver.store.users import UserStore


class MockState:
    def __init__(
        self,
        config: MockConfig | None = None,
        *,
        clock: Callable[[], int] = now_ns,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.config = config or MockConfig()
        self.lock = threading.RLock()
        self.clock = clock
        self.new_id = new_id or (lambda: str(uuid.uuid4()))
        self.tasks = TaskStore(self.lock, clock=clock, new_id=self.new_id)
        self.recordings = RecordingStore(self)
        self.alerts = AlertStore(self)
        self.configs = ConfigStore(self)
        self.service_tests = ServiceTestStore(self)
        self.users = UserStore(self)
        self.flux_tasks = FluxTaskStore(self)
        self.points = PointStore(self)
        #: The data plane: enabled stream tasks run on written points.
        self.engine = Engine(self)
        #: Unhandled exceptions the HTTP layer caught (always a mock bug; tests require zero).
        self.internal_errors = 0

    def families(self) -> dict[str, Any]:
        """The stores a backup covers, by the name used in snapshots."""
        return {
            "tasks": self.tasks,
            "recordings": self.recordings,
            "alerts": self.alerts,
            "configs": self.configs,
            "users": self.users,
            "flux_tasks": self.flux_tasks,
        }

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {name: store.snapshot() for name, store in self.families().items()}

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            for name, store in self.families().items():
                if name in data:
                    store.restore(data[name])
