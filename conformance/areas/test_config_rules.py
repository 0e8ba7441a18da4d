"""Config overrides, read side and refused updates (api#override-kapacitor-configurations, behaviour §9).

Read-only apart from updates the server must refuse before touching anything: they all name a
section that no server has. The set/delete round-trip is config.override-roundtrip (opt-in).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal
from conformance.context import Kap
from conformance.world import World

REF = "api#retrieve-the-current-configuration"
BASE = api.V1 + "/config"


def _config(kap: Kap) -> dict[str, Any]:
    kap.need("getConfig")
    ex = kap.call("getConfig")
    if ex.status == 403:
        pytest.skip("the target has config overrides disabled (403); see config.disabled")
    body = kap.json_object(ex, 200, "GET config", ref=REF)
    expect(isinstance(body.get("sections"), dict), "GET config: sections object",
           expected='{"link": ..., "sections": {...}}', actual=body, ref=REF, exchange=ex)
    return body


@check("config.shape", MUST, REF)
def test_config_shape(kap: Kap) -> None:
    """GET config: self link, each section links to itself, each element below its section."""
    body = _config(kap)
    expect_equal(body.get("link"), {"rel": "self", "href": BASE}, "config link", ref=REF)
    for name, section in sorted(body["sections"].items()):
        expect_equal((section or {}).get("link"), {"rel": "self", "href": f"{BASE}/{name}"}, f"section {name}: link",
                     ref=REF)
        elements = (section or {}).get("elements")
        expect(isinstance(elements, list) and bool(elements), f"section {name}: elements", expected="a non-empty array",
               actual=elements, ref=REF)
        for el in elements or []:
            href = ((el or {}).get("link") or {}).get("href", "")
            expect(href.startswith(f"{BASE}/{name}/") and isinstance(el.get("options"), dict),
                   f"section {name}: element link and options", expected=f"{BASE}/{name}/<element>, an options object",
                   actual=el, ref=REF)


@check("config.redaction", MUST, REF)
def test_config_redaction(kap: Kap) -> None:
    """Every redacted option reads as a boolean (set or not), never as its value."""
    body = _config(kap)
    seen = 0
    for name, section in sorted(body["sections"].items()):
        for el in (section or {}).get("elements") or []:
            redacted = el.get("redacted")
            expect(redacted is None or isinstance(redacted, list), f"section {name}: redacted",
                   expected="an array of option names or null", actual=redacted, ref=REF)
            for opt in redacted or []:
                seen += 1
                value = (el.get("options") or {}).get(opt)
                expect(isinstance(value, bool), f"config {name} option {opt!r} (redacted)", expected="true or false",
                       actual=value, ref=REF)
    if not seen:
        pytest.skip("the target's configuration redacts no option")


@check("config.section-element", MUST, REF)
def test_config_section_element(kap: Kap, world: World) -> None:
    """GET of a section and of an element answer what GET config shows for them."""
    body = _config(kap)
    sec = world.config_section
    if sec is None:
        pytest.skip("the target lists no config section")
    name, element = sec
    section = kap.json_ok(kap.call("getConfigSection", section=name), 200, f"GET config section {name}", ref=REF)
    expect_equal(section, body["sections"][name], f"GET config/{name} vs GET config", ref=REF)
    el = kap.json_ok(kap.call("getConfigElement", section=name, element=element), 200,
                     f"GET config element {name}/{element}", ref=REF)
    want = next((e for e in section.get("elements") or []
                 if e.get("link", {}).get("href") == f"{BASE}/{name}/{element}"), None)
    expect_equal(el, want, f"GET config/{name}/{element} vs its section", ref=REF)


@check("config.elements-sorted", SHOULD, "behaviour §9.2")
def test_config_elements_sorted(kap: Kap) -> None:
    """Elements of a list section come sorted by element name."""
    body = _config(kap)
    for name, section in sorted(body["sections"].items()):
        hrefs = [((e or {}).get("link") or {}).get("href", "") for e in (section or {}).get("elements") or []]
        expect_equal(hrefs, sorted(hrefs), f"section {name}: element order", ref="behaviour §9.2")


@check("config.trailing-slash", SHOULD, "behaviour §9.3")
def test_config_trailing_slash(kap: Kap) -> None:
    """GET config/ (no section) is a 400 that points at the extra slash."""
    _config(kap)
    kap.error(kap.call("getConfigSection", section=""), 400,
              "section not specified, do you have an extra trailing '/'?", what="GET config/",
              ref="behaviour §9.3")


_BAD_ACTION = "failed to apply update: invalid update action: "


@check("config.update-refused", SHOULD, "behaviour §9.4", mutates=True)
def test_config_update_refused(kap: Kap) -> None:
    """Malformed override actions are refused with the server's messages, before any section lookup."""
    _config(kap)
    kap.need("updateConfigElement", "updateConfigSection")
    sec = "kcfnosuch"
    attempts: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
        ("updateConfigElement", {"section": sec, "element": ""}, {"set": {"x": 1}, "add": {"name": "y"}},
         "cannot provide both set/delete and add/remove actions in the same update"),
        ("updateConfigSection", {"section": sec}, {"set": {"x": 1}},
         "element not specified, are you missing a trailing '/'?"),
        ("updateConfigElement", {"section": sec, "element": "e"}, {"remove": ["e"]},
         "must not provide element when removing an override"),
        ("updateConfigElement", {"section": sec, "element": "e"}, {"add": {"name": "e"}},
         "must not provide an element name when adding an a new override"),
        ("updateConfigElement", {"section": "kcf.no", "element": ""}, {"set": {"x": 1}},
         'invalid section name "kcf.no"'),
    ]
    for op, params, body, message in attempts:
        ex = kap.call(op, json=body, **params)
        kap.error(ex, 400, _BAD_ACTION + message, what=f"POST {ex.path} {body}", ref="behaviour §9.4")


@check("config.disabled", SHOULD, "behaviour §9.1", mutates=True)
def test_config_disabled(kap: Kap) -> None:
    """With overrides disabled, GET and POST config answer 403 with the server's message."""
    kap.need("getConfig")
    ex = kap.call("getConfig")
    if ex.status != 403:
        pytest.skip("config overrides are enabled on the target")
    message = "config override service is not enabled"
    kap.error(ex, 403, message, what="GET config (overrides disabled)", ref="behaviour §9.1")
    kap.error(kap.call("updateConfigElement", section="kcfnosuch", element="", json={"set": {"x": 1}}), 403, message,
              what="POST config (overrides disabled)", ref="behaviour §9.1")
