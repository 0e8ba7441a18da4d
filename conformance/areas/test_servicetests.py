"""Service tests: list, get, pattern, default options, refused options (api#test-services, behaviour §10).

Only `services.run-options` runs a test, and only with a body the server must refuse before
sending anything (opt-in all the same: a real test would send a real notification)."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal
from conformance.context import Kap

REF = "api#list-testable-services"
BASE = api.V1 + "/service-tests"


def _list(kap: Kap, pattern: str | None = None) -> tuple[Any, Any]:
    kap.need("listServiceTests")
    ex = kap.call("listServiceTests", query=[("pattern", pattern)] if pattern is not None else [])
    body = kap.json_ok(ex, 200, f"list service tests pattern={pattern!r}", ref=REF)
    return body, ex


@check("services.list", MUST, REF)
def test_service_list(kap: Kap) -> None:
    """The list links to itself; each service has its own link, its name and an options object, by name."""
    body, ex = _list(kap)
    expect_equal(body.get("link"), {"rel": "self", "href": BASE}, "service tests link", ref=REF, exchange=ex)
    services = body.get("services") or []
    if not services:
        pytest.skip("the target lists no service test")
    names = [s.get("name") for s in services]
    expect_equal(names, sorted(names), "service tests sorted by name", ref="behaviour §10", exchange=ex)
    for s in services:
        expect(s.get("link") == {"rel": "self", "href": f"{BASE}/{s.get('name')}"} and isinstance(s.get("options"), dict),
               f"service test {s.get('name')!r}: link and options", expected=f"link {BASE}/<name>, options object",
               actual=s, ref=REF, exchange=ex)


@check("services.get", MUST, REF)
def test_service_get(kap: Kap) -> None:
    """GET of one service answers its list entry (same link, name and option names)."""
    body, _ = _list(kap)
    services = body.get("services") or []
    if not services:
        pytest.skip("the target lists no service test")
    for s in services[:3]:
        got = kap.json_ok(kap.call("getServiceTest", name=s["name"]), 200, f"GET service test {s['name']}", ref=REF)
        # Options may hold the current time (bigpanda's timestamp): compare their keys, not values.
        expect_equal((got.get("link"), got.get("name"), sorted(got.get("options") or {})),
                     (s.get("link"), s.get("name"), sorted(s.get("options") or {})),
                     f"GET service test {s['name']} vs its list entry: link, name, option names", ref=REF)


@check("services.pattern", SHOULD, "behaviour §10")
def test_service_pattern(kap: Kap) -> None:
    """`pattern` filters by name (Go glob); nothing matching lists `"services": null`."""
    body, _ = _list(kap)
    names = [s.get("name") for s in body.get("services") or []]
    sub, ex = _list(kap, "s*")
    expect_equal([s.get("name") for s in sub.get("services") or []], [n for n in names if fnmatch.fnmatchcase(n, "s*")],
                 "service tests matching s*", ref="behaviour §10", exchange=ex)
    none, ex = _list(kap, "kcfnosuch*")
    expect(none.get("services") is None, "service tests matching nothing", expected='"services": null',
           actual=none.get("services"), ref="behaviour §10", exchange=ex)


@check("services.defaults", SHOULD, "behaviour §10")
def test_service_defaults(kap: Kap) -> None:
    """Default test options of smtp and influxdb are the server's."""
    body, _ = _list(kap)
    by_name = {s.get("name"): s.get("options") for s in body.get("services") or []}
    checked = 0
    if "smtp" in by_name:
        opts = by_name["smtp"] or {}
        expect_equal((opts.get("subject"), opts.get("body")), ("test subject", "test body"),
                     "smtp test options: subject, body", ref="behaviour §10")
        checked += 1
    if "influxdb" in by_name:
        expect_equal(by_name["influxdb"], {"cluster": ""}, "influxdb test options", ref="behaviour §10")
        checked += 1
    if not checked:
        pytest.skip("the target lists neither smtp nor influxdb")


@check("services.run-options", SHOULD, "behaviour §10", mutates=True, requires=("config-writes",))
def test_service_run_bad_options(kap: Kap) -> None:
    """Options of the wrong JSON type are refused (400) before any test runs."""
    body, _ = _list(kap)
    names = [s.get("name") for s in body.get("services") or []]
    if "influxdb" not in names:
        pytest.skip("the target lists no influxdb service test")
    ex = kap.call("runServiceTest", name="influxdb", json={"cluster": 5})
    kap.error(ex, 400, lambda m: m.startswith("failed to decode JSON body:json: cannot unmarshal number"),
              what="run influxdb test with a number as cluster", ref="behaviour §10")
