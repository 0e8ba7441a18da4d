"""Shared resources of this run, created lazily on first use and deleted at session end.

Checks that only need "an existing task" (status codes, links, preview) share one instead of each
creating its own. Everything here carries the run's prefix, never the fuzz sub-prefix, so the
fuzzing and stateful phases cannot change or delete it (conformance/areas/test_schema.py `_confine`).

Belt and braces: a phase that changes state beyond its own objects calls `disturbed()`; the next
use of each fixture then checks that it still exists and recreates it if not, with a warning
that names the fixture. A vanished fixture is a problem of the run, never a target failure.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from conformance import api
from conformance.context import Kap, Suite, batch_script


class World:
    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.kap = Kap(suite, notes=[])
        self._failed: dict[str, str] = {}
        self._epoch = 0
        self._verified: dict[str, int] = {}
        #: Fixtures found gone and recreated (suite events, reported as warnings).
        self.recreated: list[str] = []

    def disturbed(self) -> None:
        """Something may have touched shared objects: verify each fixture on its next use."""
        self._epoch += 1

    def _alive(self, name: str, exists: Callable[[], bool], recreate: Callable[[], None]) -> None:
        if self._verified.get(name, 0) >= self._epoch:
            return
        self._verified[name] = self._epoch
        if exists():
            return
        self.recreated.append(name)
        warnings.warn(f"kapacitor-conformance: the shared {name} of this run was gone; it was recreated",
                      stacklevel=2)
        recreate()

    def _exists(self, op_id: str, **params: Any) -> bool:
        ex = self.kap.call(op_id, **params)
        return ex.status in (200, 202)

    def _make(self, name: str, factory: Callable[[], object]) -> str:
        """The ID `factory` creates (the create helpers have checked it is a string)."""
        if self.suite.settings.read_only:
            pytest.skip("--read-only: this check needs resources the suite would have to create")
        if name in self._failed:
            pytest.fail(f"shared {name} could not be created earlier: {self._failed[name]}", pytrace=False)
        try:
            ident = factory()
        except pytest.skip.Exception:
            raise
        except BaseException as exc:
            self._failed[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise
        assert isinstance(ident, str), f"shared {name}: the create helper returned {ident!r}, not an ID"
        return ident

    @property
    def task(self) -> str:
        """A disabled stream task."""
        tid = self._task
        self._alive("task", lambda: self._exists("getTask", id=tid), lambda: self._redo("_task"))
        return tid

    @functools.cached_property
    def _task(self) -> str:
        return self._make("task", lambda: self.kap.create_task(self.suite.prefix + "w-task")["id"])

    @property
    def batch_task(self) -> str:
        tid = self._batch_task
        self._alive("batch task", lambda: self._exists("getTask", id=tid), lambda: self._redo("_batch_task"))
        return tid

    @functools.cached_property
    def _batch_task(self) -> str:
        return self._make("batch task", lambda: self.kap.create_task(
            self.suite.prefix + "w-batch", script=batch_script(self.suite.db))["id"])

    @property
    def template(self) -> str:
        tid = self._template
        self._alive("template", lambda: self._exists("getTemplate", id=tid), lambda: self._redo("_template"))
        return tid

    @functools.cached_property
    def _template(self) -> str:
        return self._make("template", lambda: self.kap.create_template(self.suite.prefix + "w-template")["id"])

    def _redo(self, attr: str) -> None:
        """Create a vanished fixture again under the same ID."""
        self.__dict__.pop(attr, None)
        getattr(self, attr)

    @property
    def recording(self) -> str:
        rid = self._recording
        self._alive("recording", lambda: self._exists("getRecording", id=rid), lambda: self._redo("_recording"))
        return rid

    @functools.cached_property
    def _recording(self) -> str:
        """A finished (or failed) query recording."""
        def make() -> str:
            rid: str = self.kap.create_recording(self.suite.prefix + "w-rec")["id"]
            self.kap.wait_finished("getRecording", rid, ref="api#wait-for-a-recording")
            return rid
        return self._make("recording", make)

    @property
    def replay(self) -> str:
        rid = self._replay
        self._alive("replay", lambda: self._exists("getReplay", id=rid), lambda: self._redo("_replay"))
        return rid

    @functools.cached_property
    def _replay(self) -> str:
        def make() -> str:
            rid: str = self.kap.create_replay(self.task, self.recording, self.suite.prefix + "w-replay")["id"]
            self.kap.wait_finished("getReplay", rid, ref="api#wait-for-replays")
            return rid
        return self._make("replay", make)

    @property
    def topic(self) -> str:
        """A topic of this run, created through its handler."""
        _ = self.handler
        return self.suite.prefix + "w-topic"

    @property
    def handler(self) -> str:
        """A log handler in the run's topic. Deleting a topic keeps its handlers' specs but not the
        topic, so both are verified; recreating deletes the handler and creates it again."""
        topic = self.suite.prefix + "w-topic"
        hid = self._handler

        def redo() -> None:
            self.kap.call("deleteTopicHandler", topic=topic, handler=hid)
            self._redo("_handler")

        self._alive("handler", lambda: self._exists("getTopic", topic=topic)
                    and self._exists("getTopicHandler", topic=topic, handler=hid), redo)
        return hid

    @functools.cached_property
    def _handler(self) -> str:
        topic = self.suite.prefix + "w-topic"
        return self._make("handler", lambda: self.kap.create_handler(topic, self.suite.prefix + "w-handler")["id"])

    def missing(self, label: str = "missing") -> str:
        """An ID that no server has: this run's prefix plus a label never used for creation."""
        return f"{self.suite.prefix}{label}-none"

    @functools.cached_property
    def config_section(self) -> tuple[str, str] | None:
        """(section, element) of some existing config element, from the target's own GET /config."""
        ex = self.kap.call("getConfig")
        body = ex.json_or_none() if ex.status == 200 else None
        sections = body.get("sections") if isinstance(body, dict) else None
        if not isinstance(sections, dict) or not sections:
            return None
        for name in sorted(sections):
            elements = (sections[name] or {}).get("elements") or []
            for el in elements:
                href = ((el or {}).get("link") or {}).get("href", "")
                prefix = f"{api.V1}/config/{name}/"
                if href.startswith(prefix) and href != prefix:
                    return name, href[len(prefix):]
        name = sorted(sections)[0]
        return name, ""

    @functools.cached_property
    def service_test(self) -> str | None:
        ex = self.kap.call("listServiceTests")
        body = ex.json_or_none() if ex.status == 200 else None
        services = body.get("services") if isinstance(body, dict) else None
        if not services:
            return None
        names = [s.get("name") for s in services if isinstance(s, dict)]
        return names[0] if names else None
