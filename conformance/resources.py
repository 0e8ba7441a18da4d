"""Safety on live servers: a random per-run prefix, a registry of what this run created, and cleanup.

Every resource the suite creates either carries the run's prefix or is registered from the
response that created it (server-generated UUIDs). Cleanup deletes exactly those, per test and
again at session end (also after a failure or Ctrl-C); nothing else on the target is touched.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance import api
from conformance.target import Client, Exchange

#: Deletion order: dependants first (replays use recordings and tasks, handlers live in topics).
_ORDER = {"replay": 0, "recording": 1, "task": 2, "template": 3, "handler": 4, "topic": 5, "user": 6,
          "flux-task": 7, "undo": 8}
_DELETE_OP = {
    "replay": "deleteReplay",
    "recording": "deleteRecording",
    "task": "deleteTask",
    "template": "deleteTemplate",
    "topic": "deleteTopic",
    "user": "deleteUser",
    "flux-task": "deleteFluxTask",
}



def _item_path(op_id: str, ident: str) -> str:
    """The path of an operation on one item (its only path parameter)."""
    (name,) = api.path_params(op_id)
    params: dict[str, Any] = {name: ident}
    return api.path_for(op_id, **params)


def new_prefix() -> str:
    """`kcf-<UTC minute>-<6 hex>-`: valid in every ID grammar, unlikely to collide, and dated so that
    `kapacitor-conformance cleanup --older-than` can find what killed runs left."""
    from conformance.sweep import prefix_for

    return prefix_for(dt.datetime.now(dt.timezone.utc), secrets.token_hex(3))


@dataclass
class Entry:
    kind: str
    ident: str
    topic: str | None = None
    undo: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    seq: int = 0
    owner: str = "session"


class Registry:
    """What this run created. Thread-safe; cleanup never raises (errors are collected)."""

    def __init__(self, client: Client, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._items: dict[tuple[str, str | None, str], Entry] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self.errors: list[str] = []
        #: Findings about the target made while cleaning up (never problems of the run).
        self.notes: list[str] = []

    def add(self, kind: str, ident: str, *, topic: str | None = None,
            undo: Callable[[], None] | None = None, owner: str = "session") -> Entry:
        with self._lock:
            existing = self._items.get((kind, topic, ident))
            if existing is not None:  # first owner keeps it (a shared topic outlives one test)
                return existing
            self._seq += 1
            entry = Entry(kind, ident, topic, undo, self._seq, owner)
            self._items[(kind, topic, ident)] = entry
            return entry

    def forget(self, kind: str, ident: str, *, topic: str | None = None) -> None:
        with self._lock:
            self._items.pop((kind, topic, ident), None)

    def rename(self, kind: str, old: str, new: str, *, owner: str = "session") -> None:
        with self._lock:
            entry = self._items.pop((kind, None, old), None)
            if entry is not None:
                entry.ident = new
                self._items[(kind, None, new)] = entry
            else:
                self._seq += 1
                self._items[(kind, None, new)] = Entry(kind, new, None, None, self._seq, owner)

    def entries(self, owner: str | None = None) -> list[Entry]:
        with self._lock:
            return [e for e in self._items.values() if owner is None or e.owner == owner]

    def __len__(self) -> int:
        return len(self._items)

    def owned(self, owner: str) -> OwnedRegistry:
        return OwnedRegistry(self, owner)

    def cleanup(self, owner: str | None = None) -> list[str]:
        """Delete what `owner` registered (None = everything), dependants first.

        A leftover is reported only when a fresh look finds it still there; each report carries
        the command that removes it."""
        todo = sorted(self.entries(owner), key=lambda e: (_ORDER.get(e.kind, 9), -e.seq))
        if not todo:
            return []
        # After an interrupt the pooled connection may sit mid-request: start on a fresh one.
        self.client.close()
        gate, self.client.gate = self.client.gate, None  # cleanup runs whatever stopped the checks
        try:
            return self._cleanup(todo)
        finally:
            self.client.gate = gate

    def _cleanup(self, todo: list[Entry]) -> list[str]:
        if not self.client.revive():
            dead = (f"the target does not answer: {len(todo)} object(s) of this run may be left; when it "
                    f"answers again run: {self.sweep_command()}")
            self.errors.append(dead)
            return [dead]
        errors: list[str] = []
        for entry in todo:
            try:
                ex = self._delete(entry)
                if ex is not None and (ex.error or ex.status >= 300):
                    problem = self._judge(entry.kind, entry.ident, ex, topic=entry.topic)
                    if problem:
                        errors.append(problem)
            except Exception as exc:  # cleanup must go on whatever happens
                errors.append(f"{entry.kind} {entry.ident!r}: {type(exc).__name__}: {exc}")
            self.forget(entry.kind, entry.ident, topic=entry.topic)
        self.errors.extend(errors)
        return errors

    def sweep_command(self) -> str:
        return f"kapacitor-conformance cleanup --target {self.client.base_url + self.client.root} --prefix {self.prefix}"

    def _judge(self, kind: str, ident: str, ex: Exchange, *, topic: str | None = None) -> str | None:
        """A failed DELETE: a cleanup problem only if the object is still there.

        A 404 for something already gone is no problem at all. Real Kapacitor deletes a recording's
        metadata before its data file and answers 500 when the file is missing, e.g. for a recording
        that failed before writing any data (behaviour §6.6): gone all the same, so that is a note
        about the target."""
        what = f"{kind} {ident!r}: DELETE answered {ex.status or ex.error}"
        there = self._still_there(kind, ident, topic=topic)
        if there is False:
            if ex.status >= 500:
                body = ex.json_or_none()
                reason = body.get("error") if isinstance(body, dict) else None
                note = f"{what}{f' ({reason})' if reason else ''}, but the {kind} is gone"
                if kind == "recording":
                    note += " (the recording's metadata is deleted before its data file, behaviour §6.6)"
                self.notes.append(note)
            return None
        state = "is still there" if there else "may still be there (a fresh GET could not tell)"
        fresh = Exchange("DELETE", ex.url, [*self.client.default_headers], None)
        return f"{what}; it {state}. Remove it with: {fresh.curl()}"

    def _still_there(self, kind: str, ident: str, *, topic: str | None = None) -> bool | None:
        from conformance.sweep import Leftover, still_there

        return still_there(self.client, Leftover(kind, ident, "", topic))

    def _delete(self, entry: Entry) -> Exchange | None:
        if entry.kind == "undo":
            if entry.undo is not None:
                entry.undo()
            return None
        if entry.kind == "handler":
            path = api.path_for("deleteTopicHandler", topic=entry.topic, handler=entry.ident)
        else:
            path = _item_path(_DELETE_OP[entry.kind], entry.ident)
        ex = self.client.delete(path)
        if ex.status == 404 and entry.kind == "flux-task":
            return None  # the area is not served: nothing to undo
        return ex

    def sweep(self) -> list[str]:
        """Belt and braces: delete anything on the target carrying this run's prefix (all families,
        handlers of this run's topics, users) that the registry did not know of."""
        from conformance.sweep import Matcher, sweep

        if self.client.health.stopped:
            return []  # cleanup() already said what is left and how to remove it
        gate, self.client.gate = self.client.gate, None
        try:
            result = sweep(self.client, Matcher(prefix=self.prefix))
        except Exception as exc:  # never let the sweep break the end of the run
            problem = f"sweep of prefix {self.prefix}: {type(exc).__name__}: {exc}; run: {self.sweep_command()}"
            self.errors.append(problem)
            return [problem]
        finally:
            self.client.gate = gate
        errors = [f"{item.kind} {item.ident!r} is still there. Remove it with: {cmd}" for item, cmd in result.left]
        self.errors.extend(errors)
        return errors


class OwnedRegistry:
    """The registry as one test sees it: what it adds is deleted when that test ends."""

    def __init__(self, registry: Registry, owner: str) -> None:
        self.registry = registry
        self.owner = owner
        self.prefix = registry.prefix

    def add(self, kind: str, ident: str, *, topic: str | None = None,
            undo: Callable[[], None] | None = None) -> Entry:
        return self.registry.add(kind, ident, topic=topic, undo=undo, owner=self.owner)

    def forget(self, kind: str, ident: str, *, topic: str | None = None) -> None:
        self.registry.forget(kind, ident, topic=topic)

    def rename(self, kind: str, old: str, new: str) -> None:
        self.registry.rename(kind, old, new, owner=self.owner)

    def cleanup(self) -> list[str]:
        return self.registry.cleanup(self.owner)
