"""`fields` projection of list items (api#list-tasks; behaviour §2.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap
from conformance.world import World

DEFAULTS = {
    "tasks": ["link", "id", "type", "dbrps", "script", "dot", "status", "executing", "error", "stats", "created",
              "modified", "last-enabled", "vars", "template-id"],
    "templates": ["link", "id", "type", "script", "dot", "error", "created", "modified"],
    "recordings": ["link", "id", "type", "size", "date", "error", "status", "progress"],
    "replays": ["link", "id", "recording", "task", "recording-time", "clock", "date", "error", "status", "progress"],
}
SELECTABLE = {f: [x for x in names if x not in ("id", "link", "template-id")] for f, names in DEFAULTS.items()}
FAMILIES = list(DEFAULTS)


def _item_id(world: World, family: str) -> str:
    return {"tasks": lambda: world.task, "templates": lambda: world.template,
            "recordings": lambda: world.recording, "replays": lambda: world.replay}[family]()


def _items(kap: Kap, family: str, ident: str, fields: list[str] | None) -> tuple[Any, list[dict[str, Any]]]:
    fam = api.FAMILIES[family]
    query: list[tuple[str, Any]] = [("pattern", ident)]
    query += [("fields", f) for f in fields or []]
    ex = kap.call(fam.list_op, query=query)
    body = kap.json_ok(ex, 200, f"list {family} fields={fields}", ref="api#list-tasks")
    items = body.get(fam.list_key) if isinstance(body, dict) else None
    expect(isinstance(items, list) and len(items) == 1, f"list {family} pattern={ident!r}: one item",
           expected="exactly one item", actual=items, ref="api#list-tasks", exchange=ex)
    return ex, items  # type: ignore[return-value]


@check("fields.projection", MUST, "api#list-tasks")
@pytest.mark.parametrize("family", FAMILIES)
def test_projection(kap: Kap, world: World, family: str) -> None:
    """Listed items hold exactly the requested fields plus `id` and `link`."""
    kap.need(api.FAMILIES[family].list_op)
    ident = _item_id(world, family)

    @given(fields=st.lists(st.sampled_from(SELECTABLE[family]), min_size=1, max_size=4))
    def prop(fields: list[str]) -> None:
        ex, items = _items(kap, family, ident, fields)
        expect_equal(sorted(items[0]), sorted(set(fields) | {"id", "link"}),
                     f"list {family} fields={fields}: keys of the item", ref="api#list-tasks", exchange=ex)
        expect_equal(items[0]["id"], ident, f"list {family}: the item's id", ref="api#list-tasks", exchange=ex)

    prop()


@check("fields.id-link", MUST, "api#list-tasks")
@pytest.mark.parametrize("family", FAMILIES)
def test_id_and_link_always(kap: Kap, world: World, family: str) -> None:
    """`id` and `link` are always returned, whatever `fields` asks for."""
    kap.need(api.FAMILIES[family].list_op)
    ident = _item_id(world, family)
    ex, items = _items(kap, family, ident, [SELECTABLE[family][0]])
    item = items[0]
    expect("id" in item and "link" in item, f"list {family} fields={SELECTABLE[family][0]}: id and link present",
           expected=["id", "link", SELECTABLE[family][0]], actual=sorted(item), ref="api#list-tasks", exchange=ex)


@check("fields.defaults", SHOULD, "behaviour §2.3")
@pytest.mark.parametrize("family", FAMILIES)
def test_default_fields(kap: Kap, world: World, family: str) -> None:
    """Without `fields` items carry the default field set (task `template-id` omitted when empty)."""
    kap.need(api.FAMILIES[family].list_op)
    ident = _item_id(world, family)
    ex, items = _items(kap, family, ident, None)
    want = [f for f in DEFAULTS[family] if f != "template-id"]
    expect_equal(sorted(items[0]), sorted(want), f"list {family} without fields: keys", ref="behaviour §2.3",
                 exchange=ex)


@check("fields.unknown-rejected", MUST, "api#list-tasks")
@pytest.mark.parametrize("family", FAMILIES)
def test_unknown_field_rejected(kap: Kap, world: World, family: str) -> None:
    """A field the list does not have is an error (400), not silently dropped or answered in full."""
    fam = api.FAMILIES[family]
    kap.need(fam.list_op)
    ident = _item_id(world, family)
    ex = kap.call(fam.list_op, query=[("pattern", ident), ("fields", "kcfnope")])
    expect_status(ex, 400, f"list {family} fields=kcfnope (one item listed)", ref="api#list-tasks")


@check("fields.unsupported", SHOULD, "behaviour §2.3")
@pytest.mark.parametrize("family", FAMILIES)
def test_unsupported_field(kap: Kap, world: World, family: str) -> None:
    """An unknown field is a 400 `unsupported field "x"`, but only when some item is listed."""
    fam = api.FAMILIES[family]
    kap.need(fam.list_op)
    ident = _item_id(world, family)
    ex = kap.call(fam.list_op, query=[("pattern", ident), ("fields", "kcfnope")])
    kap.error(ex, 400, 'unsupported field "kcfnope"', what=f"list {family} fields=kcfnope", ref="behaviour §2.3")
    ex = kap.call(fam.list_op, query=[("pattern", kap.prefix + "none-*"), ("fields", "kcfnope")])
    body = kap.json_ok(ex, 200, f"list {family} fields=kcfnope matching nothing", ref="behaviour §2.3")
    expect_equal(body.get(fam.list_key), [], f"list {family} fields=kcfnope matching nothing",
                 ref="behaviour §2.3", exchange=ex)


@check("fields.template-id", SHOULD, "behaviour §2.3")
def test_template_id_field(kap: Kap, world: World) -> None:
    """`fields=template-id` is a task list field from 1.6.2 on; 1.5 answers 400 unsupported field."""
    kap.need("listTasks")
    q = [("pattern", world.task), ("fields", "template-id")]
    ex = kap.call("listTasks", query=q)
    if kap.suite.lists_template_id:
        body = kap.json_ok(ex, 200, "list tasks fields=template-id", ref="behaviour §2.3")
        expect_equal(sorted(body["tasks"][0]), ["id", "link"], "list tasks fields=template-id (empty is omitted)",
                     ref="behaviour §2.3", exchange=ex)
    else:
        kap.error(ex, 400, 'unsupported field "template-id"', what="list tasks fields=template-id (1.5)",
                  ref="transcript: version deltas")
