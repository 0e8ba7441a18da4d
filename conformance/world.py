"""Shared resources of this run, created lazily on first use and deleted at session end.

Checks that only need "an existing task" (status codes, links, preview) share one instead of each
creating its own. Everything here carries the run's prefix.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from conformance.context import Kap, Suite, batch_script


class World:
    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.kap = Kap(suite, notes=[])
        self._failed: dict[str, str] = {}

    def _make(self, name: str, factory: Any) -> Any:
        if self.suite.settings.read_only:
            pytest.skip("--read-only: this check needs resources the suite would have to create")
        if name in self._failed:
            pytest.fail(f"shared {name} could not be created earlier: {self._failed[name]}", pytrace=False)
        try:
            return factory()
        except pytest.skip.Exception:
            raise
        except BaseException as exc:
            self._failed[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise

    @functools.cached_property
    def task(self) -> str:
        """A disabled stream task."""
        return self._make("task", lambda: self.kap.create_task(self.suite.prefix + "w-task")["id"])

    @functools.cached_property
    def batch_task(self) -> str:
        return self._make("batch task", lambda: self.kap.create_task(
            self.suite.prefix + "w-batch", script=batch_script(self.suite.db))["id"])

    @functools.cached_property
    def template(self) -> str:
        return self._make("template", lambda: self.kap.create_template(self.suite.prefix + "w-template")["id"])

    @functools.cached_property
    def recording(self) -> str:
        """A finished (or failed) query recording."""
        def make() -> str:
            rid = self.kap.create_recording(self.suite.prefix + "w-rec")["id"]
            self.kap.wait_finished("getRecording", rid, ref="api#wait-for-a-recording")
            return rid
        return self._make("recording", make)

    @functools.cached_property
    def replay(self) -> str:
        def make() -> str:
            rid = self.kap.create_replay(self.task, self.recording, self.suite.prefix + "w-replay")["id"]
            self.kap.wait_finished("getReplay", rid, ref="api#wait-for-replays")
            return rid
        return self._make("replay", make)

    @functools.cached_property
    def topic(self) -> str:
        """A topic of this run, created through its handler."""
        _ = self.handler
        return self.suite.prefix + "w-topic"

    @functools.cached_property
    def handler(self) -> str:
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
                prefix = f"/kapacitor/v1/config/{name}/"
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
