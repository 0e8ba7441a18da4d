"""Links (api#links): every `link.href` resolves to the same resource and uses /kapacitor/v1 paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from conformance import api
from conformance.checks import MUST, check, expect, expect_status
from conformance.context import Kap
from conformance.target import Exchange
from conformance.world import World


def links_in(body: Any, where: str = "$") -> Iterator[tuple[str, str, str]]:
    """(json path, rel, href) of every link object ({"rel", "href"}) in a body."""
    if isinstance(body, dict):
        if isinstance(body.get("href"), str) and "rel" in body:
            yield where, str(body.get("rel")), body["href"]
        for key, value in body.items():
            yield from links_in(value, f"{where}.{key}")
    elif isinstance(body, list):
        for i, value in enumerate(body):
            yield from links_in(value, f"{where}[{i}]")


# name -> (operation, params builder). Store links are left out: real Kapacitor serves no GET there.
SOURCES: dict[str, tuple[str, Any]] = {
    "task": ("getTask", lambda w: {"id": w.task}),
    "tasks": ("listTasks", lambda w: {"query": [("pattern", w.task)]}),
    "template": ("getTemplate", lambda w: {"id": w.template}),
    "templates": ("listTemplates", lambda w: {"query": [("pattern", w.template)]}),
    "recording": ("getRecording", lambda w: {"id": w.recording}),
    "recordings": ("listRecordings", lambda w: {"query": [("pattern", w.recording)]}),
    "replay": ("getReplay", lambda w: {"id": w.replay}),
    "replays": ("listReplays", lambda w: {"query": [("pattern", w.replay)]}),
    "topic": ("getTopic", lambda w: {"topic": w.topic}),
    "topics": ("listTopics", lambda w: {"query": [("pattern", w.topic)]}),
    "handler": ("getTopicHandler", lambda w: {"topic": w.topic, "handler": w.handler}),
    "handlers": ("listTopicHandlers", lambda w: {"topic": w.topic}),
    "config": ("getConfig", lambda w: {}),
    "service-tests": ("listServiceTests", lambda w: {}),
}


#: name -> (ID the response must be about, True when the response is that object itself).
_ASKED: dict[str, Any] = {
    "task": lambda w: (w.task, True), "tasks": lambda w: (w.task, False),
    "template": lambda w: (w.template, True), "templates": lambda w: (w.template, False),
    "recording": lambda w: (w.recording, True), "recordings": lambda w: (w.recording, False),
    "replay": lambda w: (w.replay, True), "replays": lambda w: (w.replay, False),
    "topic": lambda w: (w.topic, True), "topics": lambda w: (w.topic, False),
    "handler": lambda w: (w.handler, True), "handlers": lambda w: (w.handler, False),
}


def _ids_in(body: Any) -> Iterator[Any]:
    """Every `id` value of a body, at any depth."""
    if isinstance(body, dict):
        if "id" in body:
            yield body["id"]
        for value in body.values():
            yield from _ids_in(value)
    elif isinstance(body, list):
        for value in body:
            yield from _ids_in(value)


def _follow(kap: Kap, href: str) -> Exchange:
    path, _, query = href.partition("?")
    return kap.client.get(path, raw_query=query or None)


def _same(a: Any, b: Any) -> bool:
    """Same resource: same `id` (or `name`, or self link) when both sides have one."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return True
    for key in ("id", "name"):
        if key in a and key in b:
            return bool(a[key] == b[key])
    return True


@check("links.resolve", MUST, "api#links")
@pytest.mark.parametrize("source", list(SOURCES))
def test_links_resolve(kap: Kap, world: World, source: str) -> None:
    """The response is about the object asked for, and following any of its links (GET href as given)
    reaches that resource."""
    op, params = SOURCES[source]
    kap.need(op)
    ex = kap.call(op, **params(world))
    body = kap.json_ok(ex, (200, 202), f"GET {source}", ref="api#links")
    asked = _ASKED[source](world) if source in _ASKED else None
    if asked is not None:
        ident, single = asked
        ids_ = list(_ids_in(body))
        expect(ident in ids_, f"GET {source}: the response is about {ident!r}, the object asked for",
               expected=ident, actual=ids_[:10] or body, ref="api#links", exchange=ex)
        if single:
            href = body.get("link", {}).get("href") if isinstance(body.get("link"), dict) else None
            last = unquote(str(href).rstrip("/").rpartition("/")[2]) if href else None
            expect(last == ident, f"GET {source}: its self link names {ident!r}", expected=f".../{ident}",
                   actual=href, ref="api#links", exchange=ex)
    found = list(links_in(body))
    expect(bool(found), f"GET {source}: the response has links", expected="at least one link object",
           actual=body, ref="api#links", exchange=ex)
    for where, rel, href in found[:25]:
        expect(href.startswith(api.V1 + "/") or href == api.V1,
               f"GET {source}: {where} uses a /kapacitor/v1 path", expected=api.V1 + "/...", actual=href,
               ref="api#links", exchange=ex)
        target = _follow(kap, href)
        expect_status(target, (200, 202), f"GET {href} ({where} of {source}, rel={rel})", ref="api#links")
        if rel == "self":
            obj = _owner(body, where)
            expect(_same(obj, target.json_or_none()), f"{where} of {source} leads to the same resource",
                   expected=(obj or {}).get("id") if isinstance(obj, dict) else obj,
                   actual=(target.json_or_none() or {}).get("id") if isinstance(target.json_or_none(), dict)
                   else target.text[:200], ref="api#links", exchange=target)


def _owner(body: Any, where: str) -> Any:
    """The object holding the link at `where` (e.g. `$.tasks[0].link` → the task)."""
    parts = where[2:].replace("[", ".[").split(".") if where != "$" else []
    node = body
    for part in parts[:-1]:
        if not part:
            continue
        node = node[int(part[1:-1])] if part.startswith("[") else node.get(part)
    return node


@check("links.preview-v1", MUST, "api#technical-preview")
def test_preview_links_use_v1(kap: Kap, world: World) -> None:
    """Responses fetched through /kapacitor/v1preview still link to /kapacitor/v1 paths."""
    kap.need("getTask")
    ex = kap.call("getTask", id=world.task, preview=True)
    body = kap.json_ok(ex, 200, "GET task via v1preview", ref="api#technical-preview")
    for where, _, href in links_in(body):
        expect(href.startswith(api.V1 + "/"), f"{where} via v1preview", expected=f"{api.V1}/tasks/{world.task}",
               actual=href, ref="behaviour §1.1", exchange=ex)


@check("links.unicode-id", MUST, "api#links", mutates=True)
def test_unicode_link(kap: Kap) -> None:
    """A task whose ID has non-ASCII letters and dots links to itself correctly."""
    tid = kap.create_task(kap.uid("lïnk.é"))["id"]
    ex = kap.call("getTask", id=tid)
    body = kap.json_ok(ex, 200, f"GET task {tid!r}", ref="api#links")
    href = body.get("link", {}).get("href")
    expect(href == f"{api.V1}/tasks/{tid}", "task link", expected=f"{api.V1}/tasks/{tid}", actual=href,
           ref="behaviour §2.2", exchange=ex)
    target = _follow(kap, href)
    expect_status(target, 200, f"GET {href}", ref="api#links")
