"""Run-wide state (`Suite`) and the per-test helper (`Kap`) that every check uses.

`Suite` knows the target: URL, version (from `X-Kapacitor-Version`), profile and opt-in flags, and
which operations the target serves. `Kap` sends requests by operationId, builds this run's
resources (always prefixed or registered) and offers the expectation helpers that depend on the
target's version and the chosen profile.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import api
from conformance.checks import (
    answered,
    error_body,
    expect,
    expect_json,
    expect_json_content_type,
    expect_status,
    fail,
    is_catch_all,
)
from conformance.resources import OwnedRegistry, Registry
from conformance.target import _NO_JSON, Client, Exchange

PROFILES = ("kapacitor", "docs")


def is_optional(op_id: str) -> bool:
    """Only operations the spec gates on a server setting may be absent (users, Flux tasks)."""
    return bool(api.availability(op_id).get("requires"))
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(header: str | None) -> tuple[int, int, int] | None:
    """`1.5.9` → (1, 5, 9); anything else (e.g. `testServer`) is unknown → newest expectations."""
    if not header:
        return None
    m = _VERSION.match(header.strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


@dataclass
class Settings:
    target: str | None = None
    profile: str = "kapacitor"
    read_only: bool = False
    quick: bool = False
    allow_writes: bool = False
    allow_config_writes: bool = False
    areas: frozenset[str] | None = None
    checks: tuple[str, ...] = ()
    seed: int = 0
    mock_version: str | None = None
    deviations_file: str | None = None
    report_json: str | None = None
    report_html: str | None = None


# -- TICKscripts (canonical form, as in Kapacitor's own server tests) ------------------------------
def stream_script(measurement: str = "m") -> str:
    return f"stream\n    |from()\n        .measurement('{measurement}')\n"


def batch_script(db: str, measurement: str = "m") -> str:
    """A batch task the server can really run: without `every` (or `cron`) its queries cannot be
    scheduled, so a batch recording of it fails before writing any data on every server."""
    return (f"batch\n    |query('SELECT * from {db}.autogen.{measurement}')\n        .period(1m)\n"
            "        .every(1m)\n    |log()\n")


def template_script(measurement: str = "m") -> str:
    return (
        f"// Which measurement to use\nvar measurement = '{measurement}'\n\n"
        "stream\n    |from()\n        .measurement(measurement)\n"
    )


@dataclass
class Suite:
    """What the whole run shares. Created once per session by the plugin."""

    settings: Settings
    client: Client
    registry: Registry
    prefix: str
    embedded: bool
    version_header: str | None = None
    version: tuple[int, int, int] | None = None
    #: Password of every user this run creates: random, so nobody can log in with one meanwhile.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _served: dict[str, Exchange] = field(default_factory=dict)
    _counter: Iterable[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def db(self) -> str:
        """A database name of this run: points or queries of the suite never touch real data."""
        return self.prefix.rstrip("-").replace("-", "_")

    @property
    def url(self) -> str:
        return self.client.base_url + self.client.root

    @property
    def docs_profile(self) -> bool:
        return self.settings.profile == "docs"

    def at_least(self, *version: int) -> bool:
        """Version gate; an unknown version gets the newest expectations."""
        if self.version is None:
            return True
        want = tuple(version) + (0,) * (3 - len(version))
        return self.version >= want

    @property
    def error_has_message(self) -> bool:
        """1.6 added `message` (same text as `error`) to error bodies (transcript: version deltas)."""
        return self.at_least(1, 6)

    @property
    def errors_set_json_type(self) -> bool:
        """From 1.6 an error answer sets its JSON Content-Type itself; in 1.5 it relied on the route
        wrapper, so on the routes that skip it (behaviour §1.3: pprof, backup, preview logs) Go
        sniffed the JSON text as `text/plain; charset=utf-8` (services/httpd/handler.go HttpError)."""
        return self.at_least(1, 6)

    @property
    def lists_template_id(self) -> bool:
        """`template-id` became a task list field in 1.6.2 (source diff; 1.5.9 answers 400)."""
        return self.at_least(1, 6, 2)

    def next_id(self, label: str = "") -> str:
        return f"{self.prefix}{label}{next(self._counter)}"  # type: ignore[call-overload]

    def probe_version(self) -> Exchange:
        ex = self.client.get(api.path_for("ping"))
        if ex.error:
            return ex
        self.version_header = ex.header("X-Kapacitor-Version")
        self.version = parse_version(self.version_header)
        return ex

    def served(self, op_id: str) -> bool:
        """Does the target serve this operation? One safe GET decides: the operation itself when it
        is a GET, else a GET of the same family. A catch-all `404 Not Found` (or no answer at all)
        means "not served"; `Kap.need` tells those two apart."""
        ex = self.probe(op_id)
        return api.has_op(op_id) and (ex is None or (not ex.error and not is_catch_all(ex)))

    def probe(self, op_id: str) -> Exchange | None:
        """The probe GET that decides whether `op_id` is served (None: nothing to ask). A good answer
        is kept for the run; a transport error is asked again next time."""
        if not api.has_op(op_id):
            return None
        path = self._probe_for(op_id)
        if path is None:
            return None
        if path not in self._served:
            ex = self.client.get(path)
            if ex.error:
                return ex
            self._served[path] = ex
        return self._served[path]

    def _probe_for(self, op_id: str) -> str | None:
        fam = api.family_of(op_id)
        own = api.op(op_id)
        if own.method == "GET" and op_id not in api.NO_PROBE:
            names = api.path_params(op_id)
            return api.path_for(op_id, **self._probe_params(names))
        candidates = [o.operation_id for o in _ops() if fam and api.family_of(o.operation_id) == fam]
        for cand in candidates:
            o = api.op(cand)
            if o.method == "GET" and not api.path_params(cand) and cand not in api.NO_PROBE:
                return api.path_for(cand)
        for cand in candidates:
            o = api.op(cand)
            if o.method == "GET" and cand not in api.NO_PROBE:
                names = api.path_params(cand)
                return api.path_for(cand, **self._probe_params(names))
        return None

    def _probe_params(self, names: list[str]) -> dict[str, Any]:
        return {n: f"{self.prefix}probe" for n in names}


def bulk_request(method: str, path: str) -> bool:
    """Is this request one of `api.BULK` (under the base path or the preview mirror)?

    Their answers grow with the server's data (a backup of a busy server is easily over
    --max-body): the checks need their status and headers, so only the head of the body is read,
    never judged as "response too large"."""
    if method != "GET":
        return False
    bare = path.split("?", 1)[0]
    return any(bare in (api.path_for(o), api.path_for(o, preview=True)) for o in api.BULK)



def _ops() -> tuple[Any, ...]:
    import spec

    return spec.operations()


class Kap:
    """Per-test helper: requests by operationId, this run's resources, expectation helpers."""

    def __init__(self, suite: Suite, notes: list[str], owner: str = "session") -> None:
        self.suite = suite
        self.client = suite.client
        self.prefix = suite.prefix
        self.notes = notes
        self.registry: OwnedRegistry = suite.registry.owned(owner)

    @property
    def docs_profile(self) -> bool:
        return self.suite.docs_profile

    def uid(self, label: str = "") -> str:
        return self.suite.next_id(label)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def finish(self) -> list[str]:
        """Delete what this test created (session-owned helpers never call it)."""
        return self.registry.cleanup()

    def need(self, *op_ids: str) -> None:
        """Skip cleanly when an operation is optional and the target does not serve it (or predates
        it); fail when a core operation is not served or the target does not answer the probe.

        Optional means the spec gates it on a server setting (`x-kapacitor-availability.requires`:
        users need `[auth]`, Flux tasks `[fluxtask]`); everything else every Kapacitor 1.x serves."""
        __tracebackhide__ = True
        for op_id in op_ids:
            if not api.has_op(op_id):
                pytest.skip(f"the spec has no operation {op_id}")
            avail = api.availability(op_id)
            since = avail.get("since")
            if since and not self.suite.at_least(*[int(p) for p in str(since).split(".")]):
                pytest.skip(f"{op_id} exists only from Kapacitor {since} (target: {self.suite.version_header})")
            ex = self.suite.probe(op_id)
            if ex is None:
                continue
            if ex.error:
                answered(ex, "api")  # a transport error is a failure of this check, never "not served"
            if not is_catch_all(ex):
                continue
            family = api.family_of(op_id) or op_id
            if is_optional(op_id):
                pytest.skip(f"target does not serve {op_id} (catch-all 404 Not Found); it needs "
                            f"{avail['requires']} to be enabled")
            fail(f"target does not serve {family} ({op_id})", expected=f"{ex.method} {ex.path} served: every "
                 f"Kapacitor 1.x serves {family}", actual='the catch-all 404 {"error":"Not Found"}',
                 ref="api", exchange=ex)

    def call(
        self,
        op_id: str,
        *,
        preview: bool = False,
        query: Any = None,
        raw_query: str | None = None,
        json: Any = _NO_JSON,
        body: bytes | str | None = None,
        headers: Any = None,
        raw_path: bool = False,
        timeout: float | None = None,
        read_limit: int | None = None,
        **params: Any,
    ) -> Exchange:
        o = api.op(op_id)
        path = api.path_for(op_id, preview=preview, raw=raw_path, **params)
        return self.client.request(o.method, path, query=query, raw_query=raw_query, json_body=json, body=body,
                                   headers=headers, timeout=timeout, read_limit=read_limit)

    # -- expectations -------------------------------------------------------------------------
    def error(self, ex: Exchange, status: int | Iterable[int], message: str | Callable[[str], bool] | None = None,
              *, what: str = "", ref: str = "", message_ref: str = "") -> str:
        """Status, then a JSON error body with `error` (+ `message` on 1.6+), with the exact text if given."""
        __tracebackhide__ = True
        expect_status(ex, status, what, ref=ref)
        err = error_body(ex, with_message=self.suite.error_has_message, what=what, ref=ref or "api#errors")
        if message is not None:
            ok = message(err) if callable(message) else err == message
            expect(ok, f"{what or ex.method + ' ' + ex.path}: error message",
                   expected=message if isinstance(message, str) else "a matching message", actual=err,
                   ref=message_ref or ref, exchange=ex)
        return err

    def disputed_status(self, ex: Exchange, *, kapacitor: int, docs: int, what: str, ref_real: str,
                        ref_docs: str) -> None:
        """Docs and real server disagree: profile `kapacitor` accepts the real code (and notes the
        docs' variant); profile `docs` requires the letter of the docs."""
        __tracebackhide__ = True
        if self.docs_profile:
            expect_status(ex, docs, what, ref=ref_docs,
                          hint=f"real Kapacitor answers {kapacitor} ({ref_real})")
            return
        expect_status(ex, (kapacitor, docs), what, ref=ref_real)
        if ex.status == kapacitor:
            self.note(f"{what}: {kapacitor} like real Kapacitor ({ref_real}); the docs say {docs} ({ref_docs})")
        else:
            self.note(f"{what}: target follows the docs ({docs}, {ref_docs}); real Kapacitor answers "
                      f"{kapacitor} ({ref_real})")

    def json_ok(self, ex: Exchange, status: int | Iterable[int] = 200, what: str = "", *, ref: str = "") -> Any:
        __tracebackhide__ = True
        expect_status(ex, status, what, ref=ref)
        body = expect_json(ex, what, ref=ref)
        expect_json_content_type(ex, what, ref=ref or "behaviour §1.3")
        return body

    def json_object(self, ex: Exchange, status: int | Iterable[int] = 200, what: str = "", *,
                    ref: str = "") -> dict[str, Any]:
        """`json_ok` for answers that must be one JSON object (every get, create and update)."""
        __tracebackhide__ = True
        body = self.json_ok(ex, status, what, ref=ref)
        if not isinstance(body, dict):
            fail(f"{what or ex.method + ' ' + ex.path}: body is a JSON object", expected="{...}", actual=body,
                 ref=ref, exchange=ex)
        return body

    # -- this run's resources -----------------------------------------------------------------
    def create_task(self, ident: str | None = None, *, script: str | None = None, batch: bool = False,
                    dbrps: list[dict[str, str]] | None = None, status: str | None = None,
                    template_id: str | None = None, vars: dict[str, Any] | None = None,
                    what: str = "create task") -> dict[str, Any]:
        self.need("createTask")
        body: dict[str, Any] = {}
        if ident is not None:
            body["id"] = ident
        if template_id is not None:
            body["template-id"] = template_id
        else:
            body["script"] = script if script is not None else (
                batch_script(self.suite.db) if batch else stream_script())
        body["dbrps"] = dbrps if dbrps is not None else [{"db": self.suite.db, "rp": "autogen"}]
        if status is not None:
            body["status"] = status
        if vars is not None:
            body["vars"] = vars
        ex = self.call("createTask", json=body)
        return self._created(ex, "task", what, ref="api#define-or-update-a-task", asked=ident)

    def create_template(self, ident: str | None = None, *, script: str | None = None,
                        what: str = "create template") -> dict[str, Any]:
        self.need("createTemplate")
        body: dict[str, Any] = {"script": script if script is not None else template_script()}
        if ident is not None:
            body["id"] = ident
        ex = self.call("createTemplate", json=body)
        return self._created(ex, "template", what, ref="api#define-a-template", asked=ident)

    def create_recording(self, ident: str | None = None, *, what: str = "create recording") -> dict[str, Any]:
        """A query recording against this run's own (absent) database: finishes quickly everywhere."""
        self.need("recordQuery")
        body: dict[str, Any] = {"type": "stream",
                                "query": f'SELECT * FROM "{self.suite.db}"."autogen"."m" WHERE time > now() - 1m'}
        if ident is not None:
            body["id"] = ident
        ex = self.call("recordQuery", json=body)
        return self._created(ex, "recording", what, status=201, ref="api#create-a-recording", asked=ident)

    def create_replay(self, task_id: str, recording_id: str, ident: str | None = None, *,
                      what: str = "create replay") -> dict[str, Any]:
        self.need("createReplay")
        body: dict[str, Any] = {"task": task_id, "recording": recording_id}
        if ident is not None:
            body["id"] = ident
        ex = self.call("createReplay", json=body)
        return self._created(ex, "replay", what, status=201, ref="api#replay-a-recording", asked=ident)

    def create_handler(self, topic: str, ident: str, *, kind: str = "log",
                       options: dict[str, Any] | None = None, what: str = "create handler") -> dict[str, Any]:
        self.need("createTopicHandler")
        body = {"id": ident, "kind": kind, "options": options if options is not None else {"path": "/dev/null"}}
        self.registry.add("topic", topic)
        ex = self.call("createTopicHandler", topic=topic, json=body)
        if ex.status == 200:
            self.registry.add("handler", ident, topic=topic)
        body = self.json_object(ex, 200, f"{what} {ident!r} in topic {topic!r}", ref="api#create-a-topic-handler")
        got = body.get("id")
        expect(got == ident, f"{what}: the answer is the handler created, with the ID asked for", expected=ident,
               actual=got, ref="api#create-a-topic-handler", exchange=ex)
        return body

    def _created(self, ex: Exchange, kind: str, what: str, *, status: int = 200, ref: str = "",
                 asked: str | None = None) -> dict[str, Any]:
        """The create answer, which must name the new object: the ID asked for, when one was given."""
        __tracebackhide__ = True
        body = ex.json_or_none()
        if isinstance(body, dict) and isinstance(body.get("id"), str) and 200 <= ex.status < 300:
            self.registry.add(kind, body["id"])
        expect_status(ex, status, what, ref=ref)
        answer = expect_json(ex, what, ref=ref)
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            fail(f"{what}: response carries the new {kind}'s id", expected="an object with a string 'id'",
                 actual=answer, ref=ref, exchange=ex)
        created: dict[str, Any] = answer
        if asked is not None:
            expect(created["id"] == asked, f"{what}: the answer is the {kind} created, with the ID asked for",
                   expected=asked, actual=created["id"], ref=ref, exchange=ex)
        return created

    def wait_finished(self, op_id: str, ident: str, *, timeout: float = 15.0, ref: str = "") -> Exchange:
        """Poll like the Go client: 202 while running, 200 once finished or failed.

        Polls start a few milliseconds apart and back off to 0.25 s: a short recording or replay is
        seen finished as soon as it is, a long one costs a poll every quarter second."""
        __tracebackhide__ = True
        (name,) = api.path_params(op_id)
        deadline = time.monotonic() + timeout
        delay = 0.005
        params: dict[str, Any] = {name: ident}
        while True:
            ex = self.call(op_id, **params)
            expect_status(ex, (200, 202), f"poll {op_id} {ident!r}", ref=ref)
            if ex.status == 200:
                return ex
            if time.monotonic() > deadline:
                fail(f"{op_id} {ident!r} finishes", expected=f"200 within {timeout:.0f}s", actual="still 202",
                     ref=ref, exchange=ex)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def list_ids(self, family: str, *, query: list[tuple[str, Any]] | None = None, what: str = "",
                 ref: str = "") -> list[str]:
        fam = api.FAMILIES[family]
        ex = self.call(fam.list_op, query=query or [])
        body = self.json_ok(ex, 200, what or f"list {family}", ref=ref)
        items = body.get(fam.list_key) if isinstance(body, dict) else None
        expect(isinstance(items, list), f"{what or 'list ' + family}: '{fam.list_key}' is an array",
               expected=f'{{"{fam.list_key}": [...]}}', actual=body, ref=ref, exchange=ex)
        assert isinstance(items, list)
        return [str(it.get("id")) if isinstance(it, dict) else str(it) for it in items]
