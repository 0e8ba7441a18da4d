"""Config and service-test defaults are the real `NewConfig()` values of the imitated version."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mock.conftest import Api


def element(api: Api, section: str) -> dict[str, Any]:
    return api.get(f"/kapacitor/v1/config/{section}").json["elements"][0]["options"]


@pytest.mark.parametrize("version", ["1.5.7", "1.5.9", "1.8.3"])
def test_influxdb_defaults(make_api: Any, version: str) -> None:
    """services/influxdb/config.go Init: localhost, subscriptions on; disabled to run without InfluxDB."""
    options = element(make_api(kapacitor_version=version), "influxdb")
    assert options["urls"] == ["http://localhost:8086"]
    assert options["disable-subscriptions"] is False and options["enabled"] is False
    assert ("compression" in options) == (version != "1.5.7")  # added in 1.5.8
    assert ("subscription-path" in options) == (version != "1.5.7")


def test_before_1_5_8(make_api: Any) -> None:
    """Measured on a real 1.5.7: no bigpanda, no opsgenie2 `details`, no ServiceNow URL default,
    no alerta `correlate` test option."""
    old, new = make_api(kapacitor_version="1.5.7"), make_api(kapacitor_version="1.5.9")
    assert "bigpanda" not in old.get("/kapacitor/v1/config").json["sections"]
    assert "bigpanda" in new.get("/kapacitor/v1/config").json["sections"]
    assert element(old, "servicenow")["url"] == ""
    assert element(new, "servicenow")["url"] == "https://instance.service-now.com/api/global/em/jsonv2"
    assert "details" not in element(old, "opsgenie2") and "details" in element(new, "opsgenie2")
    tests = {s["name"]: s["options"] for s in old.get("/kapacitor/v1/service-tests").json["services"]}
    assert "bigpanda" not in tests and "correlate" not in tests["alerta"]


def test_added_influxdb_element_starts_from_the_versions_defaults(make_api: Any) -> None:
    api = make_api(kapacitor_version="1.5.7")
    resp = api.post("/kapacitor/v1/config/influxdb", {"add": {"name": "second"}})
    assert resp.status == 204
    added = next(e["options"] for e in api.get("/kapacitor/v1/config/influxdb").json["elements"]
             if e["options"]["name"] == "second")
    assert "compression" not in added and added["urls"] == ["http://localhost:8086"]
