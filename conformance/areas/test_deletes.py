"""Deletes: missing resources delete with 204 and no body, deleting twice is 204 twice, and a
deleted resource is gone (GET answers that family's not-found code)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.checks import MUST, SHOULD, check, expect, expect_empty_body, expect_status
from conformance.context import Kap
from conformance.world import World

# family -> (delete op, path params for a missing item, doc reference)
MISSING: dict[str, tuple[str, Callable[[World], dict[str, Any]], str]] = {
    "task": ("deleteTask", lambda w: {"id": w.missing()}, "api#delete-a-task"),
    "template": ("deleteTemplate", lambda w: {"id": w.missing()}, "api#delete-a-template"),
    "recording": ("deleteRecording", lambda w: {"id": w.missing()}, "api#delete-a-recording"),
    "replay": ("deleteReplay", lambda w: {"id": w.missing()}, "api#delete-a-replay"),
    "topic": ("deleteTopic", lambda w: {"topic": w.missing()}, "behaviour §2.7"),
    "handler": ("deleteTopicHandler", lambda w: {"topic": w.missing("t"), "handler": w.missing()},
                "api#remove-a-topic-handler"),
}


@check("deletes.missing-204", MUST, "api#delete-a-task", mutates=True)
@pytest.mark.parametrize("family", list(MISSING))
def test_delete_missing(kap: Kap, world: World, family: str) -> None:
    """Deleting something that does not exist is not an error: 204 without a body."""
    op, params, ref = MISSING[family]
    kap.need(op)
    ex = kap.call(op, **params(world))
    expect_status(ex, 204, f"DELETE missing {family}", ref=ref)
    expect_empty_body(ex, f"DELETE missing {family}", ref=ref)


def _create(kap: Kap, world: World, family: str) -> tuple[str, dict[str, Any], str, dict[str, Any], int]:
    """Create one item; return (delete op, params, get op, get params, not-found code)."""
    if family == "task":
        tid = kap.create_task(kap.uid("d-"))["id"]
        return "deleteTask", {"id": tid}, "getTask", {"id": tid}, 404
    if family == "template":
        tid = kap.create_template(kap.uid("d-"))["id"]
        return "deleteTemplate", {"id": tid}, "getTemplate", {"id": tid}, 404
    if family == "recording":
        rid = kap.create_recording(kap.uid("d-"))["id"]
        kap.wait_finished("getRecording", rid)
        code = 404 if kap.docs_profile else 500
        return "deleteRecording", {"id": rid}, "getRecording", {"id": rid}, code
    if family == "replay":
        rid = kap.create_replay(world.task, world.recording, kap.uid("d-"))["id"]
        kap.wait_finished("getReplay", rid)
        return "deleteReplay", {"id": rid}, "getReplay", {"id": rid}, 404
    if family == "handler":
        topic = kap.uid("dt-")
        hid = kap.uid("dh-")
        kap.create_handler(topic, hid)
        return ("deleteTopicHandler", {"topic": topic, "handler": hid}, "getTopicHandler",
                {"topic": topic, "handler": hid}, 404)
    raise AssertionError(family)


@check("deletes.twice-204", MUST, "api#delete-a-task", mutates=True)
@pytest.mark.parametrize("family", ["task", "template", "recording", "replay", "handler"])
def test_delete_twice(kap: Kap, world: World, family: str) -> None:
    """Deleting an existing item answers 204, and deleting it again answers 204 again."""
    dop, dparams, _, _, _ = _create(kap, world, family)
    for attempt in ("first", "second"):
        ex = kap.call(dop, **dparams)
        expect_status(ex, 204, f"{attempt} DELETE of a {family}", ref="api#delete-a-task")
        expect_empty_body(ex, f"{attempt} DELETE of a {family}")


@check("deletes.gone", MUST, "api#delete-a-task", mutates=True)
@pytest.mark.parametrize("family", ["task", "template", "recording", "replay", "handler"])
def test_get_after_delete(kap: Kap, world: World, family: str) -> None:
    """After a DELETE the item is gone: GET answers the family's not-found code."""
    dop, dparams, gop, gparams, code = _create(kap, world, family)
    expect_status(kap.call(dop, **dparams), 204, f"DELETE {family}")
    ex = kap.call(gop, **gparams)
    if family == "recording":  # disputed: each profile gets its own expectation and reference
        kap.disputed_status(ex, kapacitor=500, docs=404, what="GET deleted recording", ref_real="behaviour §6.5",
                            ref_docs="api#wait-for-a-recording")
    else:
        expect_status(ex, code, f"GET {family} after DELETE", ref="behaviour §2.7")


@check("deletes.topic", SHOULD, "behaviour §8.5", mutates=True)
def test_delete_topic(kap: Kap) -> None:
    """Deleting an existing topic answers 204; the topic is then unknown (404)."""
    topic = kap.uid("tp-")
    kap.create_handler(topic, kap.uid("h-"))
    ex = kap.call("deleteTopic", topic=topic)
    expect_status(ex, 204, "DELETE topic", ref="behaviour §8.5")
    expect_empty_body(ex, "DELETE topic")
    ex = kap.call("getTopic", topic=topic)
    expect_status(ex, 404, "GET topic after DELETE", ref="behaviour §8.5")


#: family -> (list op, list key, query selecting exactly one ID)
_LISTED: dict[str, tuple[str, str]] = {
    "task": ("listTasks", "tasks"), "template": ("listTemplates", "templates"),
    "recording": ("listRecordings", "recordings"), "replay": ("listReplays", "replays"),
    "handler": ("listTopicHandlers", "handlers"),
}


@check("deletes.unlisted", MUST, "api#delete-a-task", mutates=True)
@pytest.mark.parametrize("family", list(_LISTED))
def test_unlisted_after_delete(kap: Kap, world: World, family: str) -> None:
    """A deleted item is listed before the DELETE and no longer after it (not only GET forgets it)."""
    dop, dparams, _, gparams, _ = _create(kap, world, family)
    ident = gparams.get("handler") or gparams["id"]
    lop, key = _LISTED[family]
    extra = {"topic": gparams["topic"]} if family == "handler" else {}

    def listed() -> list[str]:
        ex = kap.call(lop, query=[("pattern", ident)], **extra)
        body = kap.json_ok(ex, 200, f"list {family}s pattern={ident}", ref="api#delete-a-task")
        items = body.get(key) if isinstance(body, dict) else None
        return [str(it.get("id")) for it in items or [] if isinstance(it, dict)]

    expect(listed() == [ident], f"list {family}s before DELETE", expected=[ident], actual=listed(),
           ref="api#delete-a-task")
    expect_status(kap.call(dop, **dparams), 204, f"DELETE {family}")
    after = listed()
    expect(after == [], f"list {family}s pattern={ident} after DELETE", expected=[], actual=after,
           ref="api#delete-a-task")
