"""Points written through /write: counted, kept briefly, and fed to running stream recordings."""

from __future__ import annotations

import uuid
from collections import deque
from typing import Any

from mockserver.store.lineprotocol import Point
from mockserver.store.state import StoreState

#: How many recent points the store keeps (for inspection); older ones are dropped.
RECENT_POINTS = 1000
#: Distinct db/rp/measurement ingress counters kept; points of further series are not counted.
MAX_INGRESS_SERIES = 10_000


class PointStore:
    """The mock's task master input: no task executes data, but stream recordings listen here."""

    def __init__(self, state: StoreState, *, keep: int = RECENT_POINTS) -> None:
        self.state = state
        self.written = 0
        self.recent: deque[tuple[str, str, Point]] = deque(maxlen=keep)
        #: The task master's `ingress` statistics: (db, rp, measurement) -> [stat key, points].
        self.ingress: dict[tuple[str, str, str], list[Any]] = {}

    def write(self, db: str, rp: str, points: list[Point]) -> None:
        """Accept parsed points for `db`/`rp` (`rp` as given: the server's default policy is empty)."""
        with self.state.lock:
            self.written += len(points)
            self.recent.extend((db, rp, p) for p in points)
            for point in points:
                counter = self.ingress.get((db, rp, point.measurement))
                if counter is None:
                    if len(self.ingress) >= MAX_INGRESS_SERIES:
                        continue
                    counter = self.ingress[(db, rp, point.measurement)] = [str(uuid.uuid4()), 0]
                counter[1] += 1
            self.state.recordings.feed(db, rp, points)

    def snapshot(self) -> dict[str, Any]:
        """Points are a stream, not stored state: a backup of the real server has none either."""
        return {}

    def restore(self, data: dict[str, Any]) -> None:
        pass
