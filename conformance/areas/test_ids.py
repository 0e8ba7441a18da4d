"""IDs (api#ids, behaviour §2.1): exactly what Go's `^[-\\._\\p{L}0-9]+$` accepts is accepted.

Validity is decided by `spec.ids` (the Go RE2 predicates shared with the spec); hypothesis draws
letters from many scripts, combining marks, non-ASCII digits, `²`/`Ⅻ`, trailing newlines, `:`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap, stream_script, template_script
from conformance.gostr import go_quote
from conformance.strategies import id_suffixes
from conformance.target import Exchange
from conformance.world import World
from spec import ids as spec_ids

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _create(kap: Kap, world: World, family: str, ident: str | None) -> tuple[Exchange, str, int]:
    """POST a create with `ident` (None = no id); return (exchange, resource kind, success code)."""
    body: dict[str, Any]
    if family == "tasks":
        body = {"script": stream_script(), "dbrps": [{"db": kap.suite.db, "rp": "autogen"}]}
        op, kind, code = "createTask", "task", 200
    elif family == "templates":
        body = {"script": template_script()}
        op, kind, code = "createTemplate", "template", 200
    elif family == "recordings":
        body = {"type": "stream", "query": f'SELECT * FROM "{kap.suite.db}"."autogen"."m"'}
        op, kind, code = "recordQuery", "recording", 201
    elif family == "replays":
        body = {"task": world.task, "recording": world.recording}
        op, kind, code = "createReplay", "replay", 201
    else:
        raise AssertionError(family)
    if ident is not None:
        body["id"] = ident
    kap.need(op)
    ex = kap.call(op, json=body)
    got = ex.json_or_none()
    if 200 <= ex.status < 300 and isinstance(got, dict) and isinstance(got.get("id"), str):
        kap.registry.add(kind, got["id"])
    return ex, kind, code


def _create_handler(kap: Kap, world: World, ident: str) -> Exchange:
    kap.need("createTopicHandler")
    topic = kap.prefix + "ids-topic"
    kap.registry.add("topic", topic)
    ex = kap.call("createTopicHandler", topic=topic, json={"id": ident, "kind": "log",
                                                           "options": {"path": "/dev/null"}})
    if ex.status == 200:
        kap.registry.add("handler", ident, topic=topic)
    return ex


MESSAGES: dict[str, Callable[[str], str]] = {
    "tasks": lambda i: f"task ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(i)}",
    "templates": lambda i: f"template ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(i)}",
    "recordings": lambda i: f"recording ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(i)}",
    "replays": lambda i: f"replay ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(i)}",
    "handlers": lambda i: "invalid handler spec: handler ID must contain only letters, numbers, '-', '.' and "
    f"'_'. {go_quote(i)}",
}
FAMILIES = list(MESSAGES)


def _judge(kap: Kap, world: World, family: str, ident: str) -> None:
    valid = spec_ids.is_valid_id(ident)
    if family == "handlers":
        ex, code = _create_handler(kap, world, ident), 200
    else:
        ex, _, code = _create(kap, world, family, ident)
    what = f"create {family[:-1]} with id {ident!r}"
    if valid:
        expect_status(ex, code, f"{what} (valid per ^[-\\._\\p{{L}}0-9]+$)", ref="api#ids")
        got = ex.json_or_none()
        expect_equal(got.get("id") if isinstance(got, dict) else got, ident, f"{what}: the id is kept",
                     ref="api#ids", exchange=ex)
    else:
        expect_status(ex, 400, f"{what} (invalid per ^[-\\._\\p{{L}}0-9]+$)", ref="api#ids")
    kap.finish()  # keep the server small between examples


@check("ids.accepts", MUST, "api#ids", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_id_rule(kap: Kap, world: World, family: str) -> None:
    """Create accepts an ID exactly when Go's ^[-\\._\\p{L}0-9]+$ matches it."""
    if family == "replays":
        _ = world.task, world.recording
    if family == "handlers":
        kap.need("createTopicHandler")

    @given(suffix=id_suffixes())
    @example(suffix="tásk7")
    @example(suffix="Ωмега中文한글")
    @example(suffix="e\u0301")
    @example(suffix="١٢")
    @example(suffix="x²")
    @example(suffix="Ⅻ")
    @example(suffix="abc\n")
    @example(suffix="a:b")
    @example(suffix="..")
    @example(suffix="task/id7")
    def prop(suffix: str) -> None:
        _judge(kap, world, family, kap.prefix + suffix)

    prop()


@check("ids.message", SHOULD, "behaviour §2.1", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("suffix", ["invalid id", "invalid*id", "tab\there", "é\u0301x\n"])
def test_invalid_id_message(kap: Kap, world: World, family: str, suffix: str) -> None:
    """The invalid-ID error carries the real message with the ID quoted like Go's %q."""
    ident = kap.prefix + suffix
    if family == "handlers":
        ex = _create_handler(kap, world, ident)
    else:
        ex, _, _ = _create(kap, world, family, ident)
    kap.error(ex, 400, MESSAGES[family](ident), what=f"create {family[:-1]} with id {ident!r}",
              ref="behaviour §2.1")


@check("ids.generated", MUST, "api#ids", mutates=True)
@pytest.mark.parametrize("family", ["tasks", "templates", "recordings", "replays"])
def test_generated_id(kap: Kap, world: World, family: str) -> None:
    """Without an id the server picks a random UUID (v4), which is a valid ID that resolves."""
    ex, _, code = _create(kap, world, family, None)
    expect_status(ex, code, f"create {family[:-1]} without id", ref="api#ids")
    body = ex.json_or_none()
    ident = body.get("id") if isinstance(body, dict) else None
    expect(isinstance(ident, str) and UUID4.fullmatch(ident) is not None,
           f"create {family[:-1]} without id: a lowercase UUID v4", expected="xxxxxxxx-xxxx-4xxx-[89ab]xxx-...",
           actual=ident, ref="behaviour §2.1", exchange=ex)
    expect(isinstance(ident, str) and spec_ids.is_valid_id(ident), "generated id is valid", expected=True, actual=ident, ref="api#ids")
    get_op = api.FAMILIES[family].get_op
    expect_status(kap.call(get_op, id=ident), (200, 202), f"GET the generated {family[:-1]}", ref="api#ids")


@check("ids.topic-colon", SHOULD, "behaviour §2.1", mutates=True)
def test_topic_colon(kap: Kap) -> None:
    """Topic IDs also allow `:` (anonymous topics look like main:task:alert2); handler IDs do not."""
    kap.need("createTopicHandler")
    topic = kap.prefix + "a:b:c"
    kap.create_handler(topic, kap.uid("h-"))
    ex = kap.call("getTopic", topic=topic)
    expect_status(ex, 200, f"GET topic {topic!r}", ref="behaviour §2.1")
    bad = kap.prefix + "h:x"
    ex = kap.call("createTopicHandler", topic=kap.prefix + "colon", json={"id": bad, "kind": "log",
                                                                          "options": {"path": "/dev/null"}})
    kap.registry.add("topic", kap.prefix + "colon")
    if ex.status == 200:
        kap.registry.add("handler", bad, topic=kap.prefix + "colon")
    expect_status(ex, 400, f"create handler with id {bad!r}", ref="behaviour §2.1")


#: First characters at the edges of the rule's classes: where its start may sit (`-`, `.`, `_`,
#: digits, letters of any script, titlecase) and what only other ID kinds allow (`:` topics, `@`
#: usernames) or no kind allows (`+`, marks, non-ASCII digits, letter-like numbers).
EDGE_STARTS = ["-", ".", "_", "0", "9", "Z", "é", "ǅ", "中", ":", "@", "+", "\u0301", "١", "Ⅻ", " "]


@check("ids.edges", MUST, "api#ids", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_id_edges(kap: Kap, world: World, family: str) -> None:
    """IDs whose first character sits at an edge of ^[-\\._\\p{L}0-9]+$ are judged by the whole rule."""
    if family == "replays":
        _ = world.task, world.recording
    for start in EDGE_STARTS:
        _judge(kap, world, family, start + kap.prefix + "edge")
