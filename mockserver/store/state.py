"""What a family store may use of the state it belongs to (`MockState` satisfies it).

A store gets the whole state so that cross-family rules (a recording reads a task, a replay runs
the data plane, points feed running recordings) take the one lock; typing it as this Protocol
keeps that contract visible and checked without the store importing `MockState` (a cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mockserver.config import MockConfig
    from mockserver.store.configs import ConfigStore
    from mockserver.store.recordings import RecordingStore
    from mockserver.store.tasks import TaskStore


class Replayer(Protocol):
    """The data plane as a replay sees it."""

    def replay(self, task: Any, points: Any, *, recording_time: bool, now: int,
               replay_id: str = "") -> dict[str, Any] | None: ...


class StoreState(Protocol):
    @property
    def config(self) -> MockConfig: ...

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """The state's re-entrant lock: every read-modify-write across families runs under it."""

    @property
    def clock(self) -> Callable[[], int]: ...

    @property
    def new_id(self) -> Callable[[], str]: ...

    def touch(self, family: str, section: str, key: str = "") -> None:
        """Mark one object changed, for `--data-dir` (under the lock)."""

    @property
    def tasks(self) -> TaskStore: ...

    @property
    def recordings(self) -> RecordingStore: ...

    @property
    def configs(self) -> ConfigStore: ...

    @property
    def engine(self) -> Replayer: ...
