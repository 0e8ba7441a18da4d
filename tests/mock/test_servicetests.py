"""Service test endpoints of the mock, checked against the real server.

Expected names, option keys and results come from the reference transcript of a real 1.5.9 server
(§26-28, §69), the server's tests (`TestServer_ListServiceTests`, `..._WithPattern`,
`TestServer_DoServiceTest`) and §10 of the behaviour reference.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from falcon.testing import TestClient

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import serve_in_thread
from tests.mock.spec_check import assert_matches_spec

BASE = "/kapacitor/v1/service-tests"
MODERN = "1.8.3"
LEGACY = "1.5.9"

#: Option keys of every service, in the order the real 1.5.9 server lists them (transcript §26).
REAL_159_OPTIONS = {
    "alerta": [
        "resource",
        "event",
        "environment",
        "severity",
        "group",
        "value",
        "message",
        "origin",
        "service",
        "correlate",
        "timeout",
    ],
    "azure": ["id"],
    "bigpanda": ["app_key", "message", "level", "event_data", "timestamp"],
    "consul": ["id"],
    "discord": ["workspace", "message", "level", "username", "avatar-url", "embed-title", "time-val"],
    "dns": ["id"],
    "ec2": ["id"],
    "file-discovery": ["id"],
    "gce": ["id"],
    "hipchat": ["room", "message", "level"],
    "httppost": ["endpoint", "url", "headers", "timeout"],
    "influxdb": ["cluster"],
    "kafka": ["cluster", "topic", "key", "message"],
    "kubernetes": ["id"],
    "marathon": ["id"],
    "mqtt": ["broker-name", "topic", "message", "qos", "retained"],
    "nerve": ["id"],
    "opsgenie": ["teams", "recipients", "message-type", "message", "entity-id"],
    "opsgenie2": ["teams", "recipients", "recovery_action", "message-type", "message", "entity-id"],
    "pagerduty": ["incident-key", "description", "details", "level"],
    "pagerduty2": ["alert_id", "description", "level", "event_data", "timestamp", "links"],
    "pushover": ["user-key", "message", "device", "title", "url", "url-title", "sound", "level"],
    "scraper": ["name"],
    "sensu": ["name", "source", "output", "handlers", "metadata", "level"],
    "serverset": ["id"],
    "servicenow": ["alert_id", "source", "level", "message"],
    "slack": ["workspace", "channel", "message", "level", "username", "icon-emoji"],
    "smtp": ["to", "subject", "body"],
    "snmptrap": ["trap-oid", "data-list"],
    "static-discovery": ["id"],
    "swarm": ["id"],
    "talk": ["title", "text"],
    "teams": ["channel_url", "alert_topic", "alert_id", "message", "level"],
    "telegram": ["chat-id", "parse-mode", "message", "disable-web-page-preview", "disable-notification"],
    "triton": ["id"],
    "victorops": ["routingKey", "messageType", "message", "entityID"],
}

#: What 1.8 lists differently (TestServer_ListServiceTests).
MODERN_DIFFERENCES = {
    "alerta": {"attributes"},
    "bigpanda": {"host", "primary_property", "secondary_property"},
    "servicenow": {"node", "type", "resource", "metric_name", "message_key", "additional_info"},
}
ZENOSS_OPTIONS = {
    "alert_id",
    "level",
    "message",
    "action",
    "method",
    "type",
    "tid",
    "summary",
    "device",
    "component",
    "eventclasskey",
    "eventclass",
    "collector",
    "custom_fields",
}


def make_client(version: str = MODERN) -> TestClient:
    return TestClient(create_app(MockConfig(kapacitor_version=version)))


@pytest.fixture
def client() -> TestClient:
    return make_client()


def call(client: TestClient, method: str, path: str, body: Any = None, status: int = 200, **params: str) -> Any:
    if method == "GET":
        resp = client.simulate_get(path, params=params or None)
    else:
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        resp = client.simulate_post(path, body=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, resp.text
    if status == 200:
        assert resp.text == json.dumps(resp.json, separators=(",", ":"), ensure_ascii=False) + "\n"
    op = "listServiceTests" if path == BASE else ("getServiceTest" if method == "GET" else "runServiceTest")
    assert_matches_spec(op, status, resp.text)
    return resp.json


def run(client: TestClient, name: str, options: Any) -> dict[str, Any]:
    return call(client, "POST", f"{BASE}/{name}", options)


def test_list_matches_the_real_1_5_9_server() -> None:
    body = call(make_client(LEGACY), "GET", BASE)
    assert body["link"] == {"rel": "self", "href": BASE}
    assert [s["name"] for s in body["services"]] == sorted(REAL_159_OPTIONS)
    for service in body["services"]:
        assert service["link"] == {"rel": "self", "href": f"{BASE}/{service['name']}"}
        assert list(service["options"]) == REAL_159_OPTIONS[service["name"]], service["name"]
    by_name = {s["name"]: s["options"] for s in body["services"]}
    # Values the transcript shows (§26), including defaults read from the configuration.
    assert by_name["slack"] == {
        "workspace": "",
        "channel": "",
        "message": "test slack message",
        "level": "CRITICAL",
        "username": "",
        "icon-emoji": "",
    }
    assert by_name["smtp"] == {"to": None, "subject": "test subject", "body": "test body"}
    assert by_name["influxdb"] == {"cluster": ""}
    assert by_name["mqtt"]["broker-name"] == "default" and by_name["mqtt"]["qos"] == "at-most-once"
    assert by_name["opsgenie2"]["recovery_action"] == "notes"
    assert by_name["bigpanda"]["timestamp"] == "1970-01-01T00:00:01Z"
    assert by_name["bigpanda"]["event_data"]["Result"] == {"series": None}
    assert by_name["httppost"] == {
        "endpoint": "example",
        "url": "http://localhost:3000/",
        "headers": {"Auth": "secret"},
        "timeout": 0,
    }


def test_list_1_8_has_zenoss_and_the_newer_options(client: TestClient) -> None:
    services = {s["name"]: s["options"] for s in call(client, "GET", BASE)["services"]}
    assert set(services) == set(REAL_159_OPTIONS) | {"zenoss"}
    assert set(services["zenoss"]) == ZENOSS_OPTIONS
    assert services["zenoss"]["tid"] == 1 and services["zenoss"]["collector"] == "Kapacitor"
    for name, options in REAL_159_OPTIONS.items():
        if name == "servicenow":
            assert set(services[name]) == {"alert_id", "message", "level", "source"} | MODERN_DIFFERENCES[name]
        else:
            assert set(services[name]) == set(options) | MODERN_DIFFERENCES.get(name, set()), name
    assert services["alerta"]["attributes"] == {"testAttributeA": "A", "testAttributeB": True, "testAttributeC": 9001}
    assert services["bigpanda"]["app_key"] == "012345" and services["bigpanda"]["host"] == "serverA"


def test_pattern(client: TestClient) -> None:
    names = [s["name"] for s in call(client, "GET", BASE, pattern="s*")["services"]]
    assert names == [
        "scraper",
        "sensu",
        "serverset",
        "servicenow",
        "slack",
        "smtp",
        "snmptrap",
        "static-discovery",
        "swarm",
    ]
    assert call(client, "GET", BASE, pattern="nothing*")["services"] is None
    assert call(client, "GET", BASE, pattern="[", status=400)["error"] == "bad pattern: syntax error in pattern"
    assert len(call(client, "GET", BASE, pattern="")["services"]) == len(REAL_159_OPTIONS) + 1


def test_get_one(client: TestClient) -> None:
    slack = call(client, "GET", f"{BASE}/slack")
    assert slack == {
        "link": {"rel": "self", "href": f"{BASE}/slack"},
        "name": "slack",
        "options": {
            "workspace": "",
            "channel": "",
            "message": "test slack message",
            "level": "CRITICAL",
            "username": "",
            "icon-emoji": "",
        },
    }
    assert call(client, "GET", f"{BASE}/slack/") == slack  # trailing slashes are trimmed
    assert call(client, "GET", f"{BASE}/", status=400)["error"] == "must provide service name"
    assert call(client, "GET", f"{BASE}/nosuch", status=404)["error"] == 'service "nosuch" not found'


def test_unknown_service_1_5_9_error_body() -> None:
    resp = make_client(LEGACY).simulate_get(f"{BASE}/nosuch")
    assert resp.status_code == 404 and resp.json == {"error": 'service "nosuch" not found'}


# ---- running tests ---------------------------------------------------------------------------------------

NOT_ENABLED = [
    "alerta",
    "bigpanda",
    "hipchat",
    "opsgenie",
    "pagerduty",
    "pagerduty2",
    "pushover",
    "sensu",
    "servicenow",
    "slack",
    "smtp",
    "snmptrap",
    "talk",
    "teams",
    "telegram",
    "victorops",
    "zenoss",
]


@pytest.mark.parametrize("name", NOT_ENABLED)
def test_disabled_services_report_it(client: TestClient, name: str) -> None:
    assert run(client, name, {}) == {"success": False, "message": "service is not enabled"}


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("opsgenie2", {}, "failed to prepare API request: service is not enabled"),
        ("influxdb", {"cluster": "default"}, 'cluster "default" is not enabled or does not exist'),
        ("kubernetes", {"id": "default"}, 'unknown kubernetes cluster "default"'),
        ("mqtt", {"broker-name": "default", "topic": "test"}, 'unknown MQTT broker "default"'),
        ("mqtt", {}, "missing MQTT topic"),  # the default options: no topic, checked first
        ("swarm", {}, 'unknown swarm cluster ""'),
    ],
)
def test_failures_of_the_server_tests(client: TestClient, name: str, options: dict[str, Any], message: str) -> None:
    assert run(client, name, options) == {"success": False, "message": message}


def test_slack_disabled_1_5_9() -> None:
    assert run(make_client(LEGACY), "slack", {}) == {"success": False, "message": "service is not enabled"}


def test_services_enabled_through_overrides_succeed(client: TestClient) -> None:
    def override(path: str, body: dict[str, Any]) -> None:
        resp = client.simulate_post(f"/kapacitor/v1/config/{path}", body=json.dumps(body))
        assert resp.status_code == 204, resp.text

    override("smtp/", {"set": {"enabled": True, "from": "kapacitor@example.com", "to": ["oncall@example.com"]}})
    override("slack/", {"set": {"enabled": True, "url": "https://hooks.slack.com/services/x"}})
    override("influxdb/default", {"set": {"enabled": True}})
    assert run(client, "smtp", {}) == {"success": True, "message": ""}
    assert run(client, "slack", {"channel": "#alerts"}) == {"success": True, "message": ""}
    assert run(client, "influxdb", {"cluster": "default"}) == {"success": True, "message": ""}
    # The configured recipients become the default test options.
    assert call(client, "GET", f"{BASE}/smtp")["options"]["to"] == ["oncall@example.com"]
    override("smtp/", {"delete": ["enabled"]})
    assert run(client, "smtp", {}) == {"success": False, "message": "service is not enabled"}


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("slack", "", "failed to decode JSON body:EOF"),
        (
            "slack",
            "[]",
            "failed to decode JSON body:json: cannot unmarshal array into Go value of type slack.testOptions",
        ),
        (
            "slack",
            '{"channel": 5}',
            "failed to decode JSON body:json: cannot unmarshal number into Go struct field testOptions.channel of type string",
        ),
        (
            "smtp",
            '{"to": "x"}',
            "failed to decode JSON body:json: cannot unmarshal string into Go struct field testOptions.to of type []string",
        ),
        ("slack", '{"level": "nope"}', "failed to decode JSON body:unknown alert level 'nope'"),
        ("slack", "{", "failed to decode JSON body:unexpected EOF"),
    ],
)
def test_decode_errors(client: TestClient, name: str, body: str, message: str) -> None:
    assert call(client, "POST", f"{BASE}/{name}", body, status=400)["error"] == message


def test_run_unknown_and_empty_names(client: TestClient) -> None:
    assert call(client, "POST", f"{BASE}/nosuch", "{}", status=404)["error"] == 'service "nosuch" not found'
    assert call(client, "POST", f"{BASE}/", "{}", status=400)["error"] == "must provide service name"
    # Unknown option keys are ignored; `null` decodes to nothing.
    assert run(client, "slack", {"nosuch": 1})["message"] == "service is not enabled"
    assert run(client, "slack", None)["message"] == "service is not enabled"


@pytest.mark.server
def test_over_real_http() -> None:
    handle = serve_in_thread(create_app(MockConfig()))
    try:
        conn = http.client.HTTPConnection(handle.host, handle.port, timeout=10)
        conn.request("POST", f"{BASE}/slack", body=b"{}", headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
        assert resp.status == 200 and resp.getheader("Content-Type") == "application/json; charset=utf-8"
        assert raw == b'{"success":false,"message":"service is not enabled"}\n'
        conn.request("GET", f"{BASE}?pattern=sl*")
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert [s["name"] for s in body["services"]] == ["slack"]
        assert_matches_spec("listServiceTests", 200, body)
        conn.close()
    finally:
        handle.stop()


@pytest.mark.parametrize(("name", "body", "error"), [
    # a wrong kind is noted and decoding goes on; the level's own UnmarshalText error ends it and wins
    ("pagerduty", '{"incident-key": false, "description": "warning", "level": "warning"}',
     "unknown alert level 'warning'"),
    # two wrong kinds: the first one is reported
    ("httppost", '{"endpoint": "", "headers": true, "timeout": 1.5}',
     "json: cannot unmarshal bool into Go struct field testOptions.headers of type map[string]string"),
])
def test_decode_errors_as_gos_decoder_orders_them(name: str, body: str, error: str) -> None:
    """As a real 1.5.7 answers: Go saves an UnmarshalTypeError and decodes on, but returns any other
    error at once, and that one is reported."""
    resp = make_client("1.5.7").simulate_post(f"{BASE}/{name}", body=body)
    assert (resp.status_code, resp.json) == (400, {"error": f"failed to decode JSON body:{error}"})
