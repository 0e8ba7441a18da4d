"""Config overrides (api#override-kapacitor-configurations): set/delete round-trip, opt-in only."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import MUST, check, expect_equal
from conformance.context import Kap
from conformance.world import World


def _element(kap: Kap, section: str, element: str) -> dict[str, Any]:
    ex = kap.call("getConfigElement", section=section, element=element)
    return kap.json_ok(ex, 200, f"GET config {section}/{element}", ref="api#retrieve-the-current-configuration")


@check("config.override-roundtrip", MUST, "api#override-configuration-values", mutates=True,
       requires=("config-writes",))
def test_override_roundtrip(kap: Kap, world: World) -> None:
    """`set` changes an option, `delete` reverts it; GET shows both (204 real / 200 docs)."""
    kap.need("updateConfigElement")
    sec = world.config_section
    if sec is None:
        pytest.skip("the target lists no config section")
    section, element = sec
    before = _element(kap, section, element)
    options = before.get("options") or {}
    redacted = set(before.get("redacted") or [])
    name = next((k for k, v in sorted(options.items()) if isinstance(v, str) and k not in redacted), None)
    if name is None:
        pytest.skip(f"config {section}/{element} has no plain string option to override")
    original = options[name]

    def undo() -> None:
        kap.call("updateConfigElement", section=section, element=element, json={"delete": [name]})
        if _element(kap, section, element).get("options", {}).get(name) != original:
            kap.call("updateConfigElement", section=section, element=element, json={"set": {name: original}})

    kap.registry.add("undo", f"config {section}/{element} {name}", undo=undo)
    value = f"{original}kcf" if original else "kcf-override"
    ex = kap.call("updateConfigElement", section=section, element=element, json={"set": {name: value}})
    kap.disputed_status(ex, kapacitor=204, docs=200, what="POST config set", ref_real="behaviour §9.4",
                        ref_docs="api#override-configuration-values")
    expect_equal(_element(kap, section, element)["options"].get(name), value, f"{section}/{element} {name} after set",
                 ref="api#override-configuration-values")
    ex = kap.call("updateConfigElement", section=section, element=element, json={"delete": [name]})
    kap.disputed_status(ex, kapacitor=204, docs=200, what="POST config delete", ref_real="behaviour §9.4",
                        ref_docs="api#override-configuration-values")
    expect_equal(_element(kap, section, element)["options"].get(name), original,
                 f"{section}/{element} {name} after delete", ref="api#override-configuration-values")
