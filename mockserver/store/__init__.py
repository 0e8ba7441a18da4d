"""All state of one mock server, framework-free; one re-entrant lock guards cross-family rules.

Every family store takes the `MockState` (for the lock, the clock, the ID generator and the other
stores) and implements `snapshot()`/`restore()` so `/storage/backup` and `--restore` cover it, and
`item(section, key)`: one object of its snapshot, for the journal of `--data-dir`.

Durability without the stores knowing about files: a store calls `state.touch(family, section,
key)` (under the lock) when it changed an object; `commit()`, called by the HTTP layer before it
answers, writes the touched objects' current snapshot form to the attached `Journal` as one
atomic batch. Writes are grouped: a commit carries every change made before it gathered, so
concurrent requests share one fsync.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

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

#: (family, section, key, value or None for "gone"): one object of a family's snapshot.
Row = tuple[str, str, str, Any]

#: Layout of a snapshot section: a single value, a JSON object (one row per key), or — given as a
#: function — a list of objects, one row each, whose key the function derives from the object.
VALUE = "value"
MAP = "map"


def compound_key(*parts: str) -> str:
    """The row key of an object addressed by several IDs (a handler: topic and ID)."""
    return json.dumps(list(parts), ensure_ascii=False)


def _by_id(item: dict[str, Any]) -> str:
    return str(item["id"])


LAYOUT: dict[str, dict[str, Any]] = {
    "tasks": {"tasks": _by_id, "templates": _by_id},
    "recordings": {"recordings": _by_id, "replays": _by_id},
    "alerts": {"topics": _by_id, "handlers": lambda h: compound_key(h["topic"], h["id"])},
    "configs": {"overrides": _by_id},
    "users": {"users": lambda u: str(u["name"])},
    "flux_tasks": {
        "last_id": VALUE,
        "tasks": _by_id,
        "manual": MAP,
        "running": lambda r: compound_key(r["task_id"], r["id"]),
        "history": MAP,
    },
}


class Journal(Protocol):
    """Where committed rows go (`mockserver.persistence.DataDir`)."""

    def write(self, rows: Sequence[Row]) -> None: ...

    def replace_all(self, rows: Sequence[Row]) -> None: ...


def rows_of(snapshot: dict[str, Any]) -> Iterator[Row]:
    """A (validated) snapshot as journal rows."""
    for family, sections in LAYOUT.items():
        data = snapshot.get(family) or {}
        for section, layout in sections.items():
            if section not in data:
                continue
            value = data[section]
            if layout == VALUE:
                yield family, section, "", value
            elif layout == MAP:
                for key, item in (value or {}).items():
                    yield family, section, str(key), item
            else:
                for item in value or ():
                    yield family, section, layout(item), item


def snapshot_of(rows: Sequence[Row]) -> dict[str, Any]:
    """Journal rows back to the snapshot form `restore()` takes; ValueError for an unknown address."""
    snapshot: dict[str, dict[str, Any]] = {}
    for family, section, key, value in rows:
        layout = LAYOUT.get(family, {}).get(section)
        if layout is None:
            raise ValueError(f"unknown object kind {family}/{section}")
        data = snapshot.setdefault(family, {})
        if layout == VALUE:
            data[section] = value
        elif layout == MAP:
            data.setdefault(section, {})[key] = value
        else:
            data.setdefault(section, []).append(value)
    return snapshot


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
        self._journal: Journal | None = None
        self._dirty: dict[tuple[str, str, str], None] = {}
        self._seq = 0  # changes touched so far
        self._durable = 0  # changes known to be on disk
        self._commit_lock = threading.Lock()
        self._mine = threading.local()  # the last change this thread touched
        self.tasks = TaskStore(self.lock, clock=clock, new_id=self.new_id, touch=self.touch)
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

    # ---- whole-state replacement (HTTP /mock/reset and /mock/seed, the pytest fixture) ---------

    def replace(self, data: dict[str, Any]) -> None:
        """Make the state exactly `data` (a validated snapshot; `{}` empties it), durably."""
        with self._commit_lock, self.lock:
            for name, store in self.families().items():
                store.restore(data.get(name) or {})
            self.points.restore({})
            if self._journal is not None:
                self._dirty.clear()
                self._journal.replace_all(list(rows_of(self.snapshot())))
                self._durable = self._seq

    def reset(self) -> None:
        self.replace({})

    # ---- durability ------------------------------------------------------------------------------

    def attach(self, journal: Journal) -> None:
        """Journal every later change to `journal`, starting from a full copy of the state now."""
        with self._commit_lock, self.lock:
            journal.replace_all(list(rows_of(self.snapshot())))
            self._journal = journal
            self._dirty.clear()
            self._durable = self._seq

    def touch(self, family: str, section: str, key: str = "") -> None:
        """A store changed one object (call under the lock); a no-op without a journal."""
        if self._journal is not None:
            self._dirty[(family, section, key)] = None
            self._seq += 1
            self._mine.seq = self._seq

    def commit(self) -> None:
        """Make every change this thread made durable (group commit; raises on I/O failure)."""
        target = getattr(self._mine, "seq", 0)
        if self._durable >= target:
            return
        with self._commit_lock:
            if self._durable >= target or self._journal is None:
                return
            with self.lock:
                keys, self._dirty = list(self._dirty), {}
                upto = self._seq
                families = self.families()
                rows = [(f, s, k, families[f].item(s, k)) for f, s, k in keys]
            try:
                self._journal.write(rows)
            except BaseException:
                with self.lock:
                    for key in keys:
                        self._dirty.setdefault(key, None)
                raise
            self._durable = upto
