"""More-than-a-page pools of this run's own resources, for pagination, pattern and fields checks.

Each pool holds POOL_SIZE (> the spec's default limit, 100) items whose IDs share a pool prefix, so a
list filtered with `pattern=<pool prefix>*` sees exactly this run's items on any server.
"""

from __future__ import annotations

import functools

import pytest

import spec
from conformance import api
from conformance.context import Kap, Suite
from conformance.world import World

#: A few more than the largest default page (`limit`'s default in the spec), so one page never holds all.
POOL_SIZE = max(int(spec.parameter_default("limit", f.list_op)) for f in api.FAMILIES.values()) + 5
#: Suffixes chosen so byte order differs from naive orders (case, digits, punctuation, non-ASCII).
_SEEDS = ["A", "B", "Z", "a", "b", "z", "_x", "-x", ".x", "0", "1", "10", "11", "2", "9", "é", "ж", "中", "Ω", "ß"]


def pool_suffixes(n: int = POOL_SIZE) -> list[str]:
    out = list(_SEEDS)
    i = 0
    while len(out) < n:
        out.append(f"n{i:03d}")
        i += 1
    return out[:n]


class Pools:
    def __init__(self, suite: Suite, world: World) -> None:
        self.suite = suite
        self.kap = Kap(suite, notes=[])
        self.world = world  # replays need the run's task and recording

    def prefix(self, family: str) -> str:
        return f"{self.suite.prefix}pg{family[:3]}-"

    def _guard(self) -> None:
        if self.suite.settings.read_only:
            pytest.skip("--read-only: pagination pools would have to be created")

    @functools.cached_property
    def tasks(self) -> list[str]:
        self._guard()
        p = self.prefix("tasks")
        return [self.kap.create_task(p + s)["id"] for s in pool_suffixes()]

    @functools.cached_property
    def templates(self) -> list[str]:
        self._guard()
        p = self.prefix("templates")
        return [self.kap.create_template(p + s)["id"] for s in pool_suffixes()]

    @functools.cached_property
    def recordings(self) -> list[str]:
        self._guard()
        p = self.prefix("recordings")
        ids = [self.kap.create_recording(p + s)["id"] for s in pool_suffixes()]
        for rid in ids:
            self.kap.wait_finished("getRecording", rid)
        return ids

    @functools.cached_property
    def replays(self) -> list[str]:
        self._guard()
        p = self.prefix("replays")
        ids = [self.kap.create_replay(self.world.task, self.world.recording, p + s)["id"] for s in pool_suffixes()]
        for rid in ids:
            self.kap.wait_finished("getReplay", rid)
        return ids

    def get(self, family: str) -> list[str]:
        ids: list[str] = getattr(self, family)
        return ids
