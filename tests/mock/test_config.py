"""Config override endpoints of the mock, checked against what the real server does.

Expected values come from the reference transcript of a real 1.5.9 server (section/option names,
default values, redaction, messages), from the server's own tests (`TestServer_UpdateConfig`:
influxdb and slack add/set, alerta durations) and from the override code's messages (§9 of the
behaviour reference). Every response is validated against the spec.
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
from mockserver.store import MockState
from tests.mock.conftest import Api
from tests.mock.spec_check import assert_matches_spec

BASE = "/kapacitor/v1/config"
MODERN = "1.8.3"
LEGACY = "1.5.9"


def make_client(version: str = MODERN, **kwargs: Any) -> TestClient:
    return TestClient(create_app(MockConfig(kapacitor_version=version, **kwargs)))


@pytest.fixture
def client() -> TestClient:
    return make_client()


def _op(method: str, path: str) -> str:
    rest = path[len(BASE) :]
    if method == "GET":
        if rest == "":
            return "getConfig"
        return "getConfigSection" if "/" not in rest[1:] else "getConfigElement"
    return "updateConfigSection" if "/" not in rest[1:] else "updateConfigElement"


def get(client: TestClient, path: str, status: int = 200) -> Any:
    resp = client.simulate_get(path)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    if status == 200:
        # Compact JSON plus a newline, as Go's json.Encoder writes it.
        assert resp.text.endswith("\n") and "\n" not in resp.text[:-1]
        assert resp.text == json.dumps(resp.json, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert_matches_spec(_op("GET", path), status, resp.text)
    return resp.json


def post(client: TestClient, path: str, body: Any, status: int = 204) -> Any:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    resp = client.simulate_post(path, body=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, resp.text
    if status == 204:
        assert resp.content == b""
        assert_matches_spec(_op("POST", path), 204, None)
        return None
    assert_matches_spec(_op("POST", path), status, resp.text)
    return resp.json


def error(client: TestClient, method: str, path: str, body: Any = None, status: int = 400) -> str:
    out = get(client, path, status) if method == "GET" else post(client, path, body, status)
    return out["error"]


# ---- shapes, compared with the real 1.5.9 server --------------------------------------------------

#: Sections of the real 1.5.9 GET /config (transcript §22): element link suffix and option names.
REAL_159_SECTIONS = {
    "alerta": (
        "alerta/",
        {"enabled", "environment", "insecure-skip-verify", "origin", "timeout", "token", "token-prefix", "url"},
    ),
    "bigpanda": (
        "bigpanda/",
        {"app-key", "enabled", "global", "insecure-skip-verify", "state-changes-only", "token", "url"},
    ),
    "discord": (
        "discord/",
        {
            "avatar-url",
            "default",
            "embed-title",
            "enabled",
            "global",
            "insecure-skip-verify",
            "ssl-ca",
            "ssl-cert",
            "ssl-key",
            "state-changes-only",
            "timestamp",
            "url",
            "username",
            "workspace",
        },
    ),
    "hipchat": ("hipchat/", {"enabled", "global", "room", "state-changes-only", "token", "url"}),
    "httppost": (
        "httppost/example",
        {
            "alert-template",
            "alert-template-file",
            "basic-auth",
            "endpoint",
            "headers",
            "row-template",
            "row-template-file",
            "url",
        },
    ),
    "influxdb": (
        "influxdb/default",
        {
            "compression",
            "default",
            "disable-subscriptions",
            "enabled",
            "excluded-subscriptions",
            "http-port",
            "insecure-skip-verify",
            "kapacitor-hostname",
            "name",
            "password",
            "ssl-ca",
            "ssl-cert",
            "ssl-key",
            "startup-timeout",
            "subscription-mode",
            "subscription-path",
            "subscription-protocol",
            "subscriptions",
            "subscriptions-sync-interval",
            "timeout",
            "udp-bind",
            "udp-buffer",
            "udp-read-buffer",
            "urls",
            "username",
        },
    ),
    "kafka": (
        "kafka/default",
        {
            "batch-size",
            "batch-timeout",
            "brokers",
            "enabled",
            "id",
            "insecure-skip-verify",
            "ssl-ca",
            "ssl-cert",
            "ssl-key",
            "timeout",
            "use-ssl",
        },
    ),
    "mqtt": (
        "mqtt/default",
        {
            "client-id",
            "default",
            "enabled",
            "insecure-skip-verify",
            "name",
            "password",
            "ssl-ca",
            "ssl-cert",
            "ssl-key",
            "url",
            "username",
        },
    ),
    "opsgenie": ("opsgenie/", {"api-key", "enabled", "global", "recipients", "recovery_url", "teams", "url"}),
    "opsgenie2": (
        "opsgenie2/",
        {"api-key", "details", "enabled", "global", "recipients", "recovery_action", "teams", "url"},
    ),
    "pagerduty": ("pagerduty/", {"enabled", "global", "service-key", "url"}),
    "pagerduty2": ("pagerduty2/", {"enabled", "global", "routing-key", "url"}),
    "pushover": ("pushover/", {"enabled", "token", "url", "user-key"}),
    "sensu": ("sensu/", {"addr", "enabled", "handlers", "source"}),
    "servicenow": ("servicenow/", {"enabled", "global", "password", "source", "state-changes-only", "url", "username"}),
    "slack": (
        "slack/",
        {
            "channel",
            "default",
            "enabled",
            "global",
            "icon-emoji",
            "insecure-skip-verify",
            "ssl-ca",
            "ssl-cert",
            "ssl-key",
            "state-changes-only",
            "url",
            "username",
            "workspace",
        },
    ),
    "smtp": (
        "smtp/",
        {
            "enabled",
            "from",
            "global",
            "host",
            "idle-timeout",
            "no-verify",
            "password",
            "port",
            "state-changes-only",
            "to",
            "username",
        },
    ),
    "snmptrap": ("snmptrap/", {"addr", "community", "enabled", "retries"}),
    "talk": ("talk/", {"author_name", "enabled", "url"}),
    "teams": ("teams/", {"channel-url", "enabled", "global", "state-changes-only"}),
    "telegram": (
        "telegram/",
        {
            "chat-id",
            "disable-notification",
            "disable-web-page-preview",
            "enabled",
            "global",
            "parse-mode",
            "state-changes-only",
            "token",
            "url",
        },
    ),
    "victorops": ("victorops/", {"api-key", "enabled", "global", "json-data", "routing-key", "url"}),
}

#: `redacted` lists of the real 1.5.9 server (transcript §22).
REAL_159_REDACTED = {
    "alerta": ["token"],
    "bigpanda": ["token"],
    "discord": None,
    "hipchat": ["token"],
    "httppost": ["basic-auth"],
    "influxdb": ["password"],
    "kafka": None,
    "mqtt": ["password"],
    "opsgenie": ["api-key"],
    "opsgenie2": ["api-key"],
    "pagerduty": ["service-key"],
    "pagerduty2": ["routing-key"],
    "pushover": ["token", "user-key"],
    "sensu": None,
    "servicenow": ["password"],
    "slack": ["url"],
    "smtp": ["password"],
    "snmptrap": ["community"],
    "talk": ["url"],
    "teams": None,
    "telegram": ["token"],
    "victorops": ["api-key"],
}

#: The real 1.5.9 `GET /config/smtp/` options (transcript §23).
REAL_159_SMTP = {
    "enabled": False,
    "from": "",
    "global": False,
    "host": "localhost",
    "idle-timeout": "30s",
    "no-verify": False,
    "password": False,
    "port": 25,
    "state-changes-only": False,
    "to": None,
    "username": "",
}

#: The real 1.5.9 `GET /config/slack/` options (transcript §24).
REAL_159_SLACK = {
    "channel": "",
    "default": True,
    "enabled": False,
    "global": False,
    "icon-emoji": "",
    "insecure-skip-verify": False,
    "ssl-ca": "",
    "ssl-cert": "",
    "ssl-key": "",
    "state-changes-only": False,
    "url": False,
    "username": "kapacitor",
    "workspace": "",
}


def test_get_config_has_the_real_sections_options_and_redaction_1_5_9() -> None:
    body = get(make_client(LEGACY), BASE)
    assert body["link"] == {"rel": "self", "href": BASE}
    assert list(body["sections"]) == sorted(REAL_159_SECTIONS)
    for name, (suffix, options) in REAL_159_SECTIONS.items():
        section = body["sections"][name]
        assert section["link"] == {"rel": "self", "href": f"{BASE}/{name}"}
        [element] = section["elements"]
        assert element["link"]["href"] == f"{BASE}/{suffix}"
        assert set(element["options"]) == options, name
        assert list(element["options"]) == sorted(options)
        assert element["redacted"] == REAL_159_REDACTED[name], name
        for secret in element["redacted"] or ():
            assert isinstance(element["options"][secret], bool)
    # The discovery and scraper lists are empty by default, so they are not listed.
    assert "scraper" not in body["sections"] and "kubernetes" not in body["sections"]


def test_get_config_1_8_adds_the_newer_options() -> None:
    sections = get(make_client(MODERN), BASE)["sections"]
    assert set(sections) == set(REAL_159_SECTIONS) | {"zenoss"}
    influx = sections["influxdb"]["elements"][0]
    assert {"token", "http-shared-secret"} <= set(influx["options"])
    assert influx["redacted"] == ["password", "token"]  # TestServer_UpdateConfig
    assert influx["options"]["http-shared-secret"] is False
    slack = sections["slack"]["elements"][0]
    assert slack["redacted"] == ["url", "token"] and slack["options"]["token"] is False
    assert sections["bigpanda"]["elements"][0]["options"]["auto-attributes"] == "tags,fields"
    assert sections["smtp"]["elements"][0]["options"]["to-templates"] is None
    zenoss = sections["zenoss"]["elements"][0]
    assert zenoss["redacted"] == ["password"]
    assert zenoss["options"]["severity-map"] == {
        "ok": "Clear",
        "info": "Info",
        "warning": "Warning",
        "critical": "Critical",
    }


@pytest.mark.parametrize("version", [LEGACY, MODERN])
def test_smtp_section_and_its_empty_element(version: str) -> None:
    client = make_client(version)
    expected = dict(REAL_159_SMTP, **({"to-templates": None} if version == MODERN else {}))
    section = get(client, f"{BASE}/smtp")
    assert section == {
        "link": {"rel": "self", "href": f"{BASE}/smtp"},
        "elements": [{"link": {"rel": "self", "href": f"{BASE}/smtp/"}, "options": expected, "redacted": ["password"]}],
    }
    assert get(client, f"{BASE}/smtp/") == section["elements"][0]


def test_slack_default_workspace_is_the_empty_element_1_5_9() -> None:
    element = get(make_client(LEGACY), f"{BASE}/slack/")
    assert element == {
        "link": {"rel": "self", "href": f"{BASE}/slack/"},
        "options": REAL_159_SLACK,
        "redacted": ["url"],
    }


def test_influxdb_cluster_values_of_the_reference_server() -> None:
    options = get(make_client(LEGACY), f"{BASE}/influxdb/default")["options"]
    assert options["excluded-subscriptions"] == {"_kapacitor": ["autogen"]}
    assert options["startup-timeout"] == "5m0s" and options["subscriptions-sync-interval"] == "1m0s"
    assert options["timeout"] == "0s" and options["subscription-mode"] == "cluster" and options["udp-buffer"] == 1000
    assert options["enabled"] is False and options["password"] is False and options["subscriptions"] is None


# ---- paths and lookups ----------------------------------------------------------------------------------


def test_path_rules(client: TestClient) -> None:
    assert error(client, "GET", f"{BASE}/") == "section not specified, do you have an extra trailing '/'?"
    assert error(client, "GET", f"{BASE}/nosuch", status=404) == "unknown section: nosuch"
    assert error(client, "GET", f"{BASE}/influxdb/nosuch", status=404) == "unknown section/element: influxdb/nosuch"
    # A list section's empty element is the one whose key is empty: influxdb has none.
    assert error(client, "GET", f"{BASE}/influxdb/", status=404) == "unknown section/element: influxdb/"
    assert error(client, "GET", f"{BASE}/smtp/x", status=404) == "unknown section/element: smtp/x"
    # Empty list sections are not sections of the resolved config.
    assert error(client, "GET", f"{BASE}/scraper", status=404) == "unknown section: scraper"
    # 1.8 splits at the first slash after the section.
    assert error(client, "GET", f"{BASE}/slack/a/b", status=404) == "unknown section/element: slack/a/b"
    # POST is only routed below /config/.
    assert client.simulate_post(BASE, body="{}").status_code == 404


def test_three_part_path_is_a_400_in_1_5_9() -> None:
    client = make_client(LEGACY)
    assert error(client, "GET", f"{BASE}/slack/a/b") == "section not specified, do you have an extra trailing '/'?"
    resp = client.simulate_get(f"{BASE}/nosuch")
    assert resp.json == {"error": "unknown section: nosuch"}  # 1.5 error bodies have no `message`


@pytest.mark.parametrize("version", [LEGACY, MODERN])
def test_disabled_override_service_answers_403_first(version: str) -> None:
    client = make_client(version, config_override=False)
    for method, path, body in (
        ("GET", BASE, None),
        ("GET", f"{BASE}/", None),
        ("GET", f"{BASE}/smtp/", None),
        ("POST", f"{BASE}/smtp/", "not json"),
        ("POST", f"{BASE}/", "{}"),
    ):
        assert error(client, method, path, body, status=403) == "config override service is not enabled"


# ---- update validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "failed to decode JSON:EOF"),
        ("[]", "failed to decode JSON:json: cannot unmarshal array into Go value of type config.updateAction"),
        (
            '{"set": [1]}',
            "failed to decode JSON:json: cannot unmarshal array into Go struct field updateAction.set of type "
            "map[string]interface {}",
        ),
        (
            '{"delete": "port"}',
            "failed to decode JSON:json: cannot unmarshal string into Go struct field updateAction.delete of type []string",
        ),
        ("{not json", "failed to decode JSON:invalid character 'n' looking for beginning of object key string"),
    ],
)
def test_decode_errors(client: TestClient, body: str, message: str) -> None:
    assert error(client, "POST", f"{BASE}/smtp/", body) == message


PREFIX = "failed to apply update: invalid update action: "


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (f"{BASE}/", {"set": {"a": 1}}, PREFIX + "must provide section name"),
        (f"{BASE}/a.b/", {"set": {"a": 1}}, PREFIX + 'invalid section name "a.b"'),
        (f"{BASE}/smtp/x.y", {"set": {"a": 1}}, PREFIX + 'invalid element name "x.y"'),
        (
            f"{BASE}/influxdb/",
            {"set": {"a": 1}, "add": {"name": "x"}},
            PREFIX + "cannot provide both set/delete and add/remove actions in the same update",
        ),
        (
            f"{BASE}/influxdb/",
            {"delete": ["a"], "remove": ["x"]},
            PREFIX + "cannot provide both set/delete and add/remove actions in the same update",
        ),
        (
            f"{BASE}/influxdb/default",
            {"add": {"name": "x"}},
            PREFIX + "must not provide an element name when adding an a new override",
        ),
        (f"{BASE}/influxdb/default", {"remove": ["x"]}, PREFIX + "must not provide element when removing an override"),
        (f"{BASE}/smtp", {"set": {"port": 26}}, PREFIX + "element not specified, are you missing a trailing '/'?"),
        (f"{BASE}/smtp", {}, PREFIX + "element not specified, are you missing a trailing '/'?"),
        (f"{BASE}/foo", {"add": {"id": "x"}}, 'failed to apply update: unknown section "foo"'),
        (
            f"{BASE}/smtp",
            {"add": {"host": "x"}},
            'failed to apply update: section "smtp" is not a list, cannot add new element',
        ),
        (
            f"{BASE}/influxdb",
            {"add": {"urls": ["http://x"]}},
            'failed to apply update: missing key "name" in "add" map',
        ),
        (f"{BASE}/slack", {"add": {"channel": "#x"}}, 'failed to apply update: missing key "workspace" in "add" map'),
        (
            f"{BASE}/influxdb",
            {"add": {"name": 5}},
            'failed to apply update: expected "name" key to be a string, got float64',
        ),
    ],
)
def test_invalid_update_actions(client: TestClient, path: str, body: Any, message: str) -> None:
    assert error(client, "POST", path, body) == message


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            f"{BASE}/smtp/",
            {"set": {"nosuch": 1}},
            "failed to override configuration smtp/: unknown options [nosuch] in section smtp",
        ),
        (
            f"{BASE}/smtp/",
            {"set": {"port": "bob"}},
            'failed to override configuration smtp/: cannot set option port: cannot convert string "bob" into int',
        ),
        (
            f"{BASE}/smtp/",
            {"set": {"enabled": "yes"}},
            "failed to override configuration smtp/: cannot set option enabled: wrong kind string, expected value of kind bool: false",
        ),
        (
            f"{BASE}/smtp/",
            {"set": {"idle-timeout": 5}},
            "failed to override configuration smtp/: cannot set option idle-timeout: cannot unmarshal float64 into int64",
        ),
        (
            f"{BASE}/smtp/",
            {"set": {"to": [1]}},
            "failed to override configuration smtp/: cannot set option to: failed to copy slice value: wrong kind float64, expected value of kind string: false",
        ),
        (
            f"{BASE}/smtp/",
            {"set": {"enabled": True}},
            "failed to override configuration smtp/: failed validation: must provide a 'from' address",
        ),
        (
            f"{BASE}/smtp/",
            {"set": {"port": 0}},
            "failed to override configuration smtp/: failed validation: invalid port 0",
        ),
        (
            f"{BASE}/foo/",
            {"set": {"x": 1}},
            "failed to override configuration foo/: unknown options [x] in section foo",
        ),
        (f"{BASE}/foo/", {"set": {}}, "failed to override configuration foo/: unknown section foo"),
        (
            f"{BASE}/influxdb/default",
            {"set": {"name": "other"}},
            "failed to override configuration influxdb/default: cannot override element key name",
        ),
        (
            f"{BASE}/influxdb/nosuch",
            {"set": {"enabled": True}},
            "failed to override configuration influxdb/nosuch: unknown options [enabled] in section influxdb",
        ),
        (
            f"{BASE}/influxdb/default",
            {"set": {"urls": []}},
            "failed to override configuration influxdb/default: failed validation: must specify at least one InfluxDB URL",
        ),
    ],
)
def test_override_errors(client: TestClient, path: str, body: Any, message: str) -> None:
    assert error(client, "POST", path, body) == message
    # A rejected update stores nothing.
    assert get(client, f"{BASE}/smtp/")["options"]["port"] == 25


def test_override_errors_1_5_9_have_only_error() -> None:
    client = make_client(LEGACY)
    resp = client.simulate_post(f"{BASE}/smtp/", body='{"set":{"nosuch":true}}')
    assert resp.status_code == 400
    assert resp.json == {"error": "failed to override configuration smtp/: unknown options [nosuch] in section smtp"}
    # 1.5.9 splits paths in at most two parts; three parts leave no section.
    assert error(client, "POST", f"{BASE}/slack/a/b", {"set": {"x": 1}}) == PREFIX + "must provide section name"


# ---- set / delete --------------------------------------------------------------------------------------------


def test_set_then_delete_reverts_to_the_file_value(client: TestClient) -> None:
    post(
        client,
        f"{BASE}/smtp/",
        {"set": {"enabled": True, "from": "kapacitor@example.com", "port": 587, "password": "s3cret"}},
    )
    options = get(client, f"{BASE}/smtp/")["options"]
    assert (options["enabled"], options["from"], options["port"], options["password"]) == (
        True,
        "kapacitor@example.com",
        587,
        True,
    )
    # `set` merges: other overridden options stay.
    post(client, f"{BASE}/smtp/", {"set": {"host": "smtp.example.com"}, "delete": ["port"]})
    options = get(client, f"{BASE}/smtp/")["options"]
    assert (options["host"], options["port"], options["password"]) == ("smtp.example.com", 25, True)
    post(client, f"{BASE}/smtp/", {"delete": ["enabled", "from", "host", "password", "never-set"]})
    assert get(client, f"{BASE}/smtp/")["options"] == dict(REAL_159_SMTP, **{"to-templates": None})


def test_delete_wins_over_set_of_the_same_key(client: TestClient) -> None:
    post(client, f"{BASE}/smtp/", {"set": {"port": 2525}, "delete": ["port"]})
    assert get(client, f"{BASE}/smtp/")["options"]["port"] == 25


def test_values_are_converted_like_the_server_does(client: TestClient) -> None:
    # Durations from strings (TestServer_UpdateConfig: alerta timeout "3h" → "3h0m0s").
    post(client, f"{BASE}/alerta/", {"set": {"token": "token", "origin": "kapacitor", "timeout": "3h"}})
    options = get(client, f"{BASE}/alerta/")["options"]
    assert (options["timeout"], options["token"], options["origin"]) == ("3h0m0s", True, "kapacitor")
    # Integers from numeric strings; lists and maps element by element.
    post(client, f"{BASE}/smtp/", {"set": {"port": "2525", "idle-timeout": "90s", "to": ["a@example.com"]}})
    options = get(client, f"{BASE}/smtp/")["options"]
    assert (options["port"], options["idle-timeout"], options["to"]) == (2525, "1m30s", ["a@example.com"])
    post(
        client,
        f"{BASE}/influxdb/default",
        {"set": {"subscriptions": {"_internal": ["monitor"]}, "subscription-mode": "server"}},
    )
    options = get(client, f"{BASE}/influxdb/default")["options"]
    assert options["subscriptions"] == {"_internal": ["monitor"]} and options["subscription-mode"] == "server"


def test_redaction_booleans(client: TestClient) -> None:
    post(client, f"{BASE}/pushover/", {"set": {"token": "abc"}})
    element = get(client, f"{BASE}/pushover/")
    assert element["redacted"] == ["token", "user-key"]
    assert element["options"]["token"] is True and element["options"]["user-key"] is False
    post(client, f"{BASE}/pushover/", {"set": {"token": ""}})
    assert get(client, f"{BASE}/pushover/")["options"]["token"] is False
    # Secrets are never echoed, and a section without secrets has `redacted: null`.
    assert "abc" not in client.simulate_get(BASE).text
    assert get(client, f"{BASE}/sensu/")["redacted"] is None


# ---- add / remove ----------------------------------------------------------------------------------------------


def test_add_and_remove_an_influxdb_cluster(client: TestClient) -> None:
    post(client, f"{BASE}/influxdb", {"add": {"name": "new", "urls": ["http://influxdb.example.com:8086"]}})
    section = get(client, f"{BASE}/influxdb")
    assert [e["link"]["href"] for e in section["elements"]] == [f"{BASE}/influxdb/default", f"{BASE}/influxdb/new"]
    new = get(client, f"{BASE}/influxdb/new")
    assert new == section["elements"][1]
    # A new element starts from the type's defaults, not from the file element (TestServer_UpdateConfig).
    options = new["options"]
    assert (options["name"], options["enabled"], options["password"], options["startup-timeout"]) == (
        "new",
        False,
        False,
        "5m0s",
    )
    assert options["urls"] == ["http://influxdb.example.com:8086"] and options["udp-buffer"] == 1000
    assert options["excluded-subscriptions"] == {"_kapacitor": ["autogen"]} and options["compression"] == "gzip"
    # An added element can be updated through its own path.
    post(client, f"{BASE}/influxdb/new", {"set": {"default": True}})
    assert get(client, f"{BASE}/influxdb/new")["options"]["default"] is True
    # `remove` drops added elements; elements of the file cannot be removed; unknown names are ignored.
    post(client, f"{BASE}/influxdb/", {"remove": ["new", "default", "never-added"]})
    assert [e["options"]["name"] for e in get(client, f"{BASE}/influxdb")["elements"]] == ["default"]
    assert error(client, "GET", f"{BASE}/influxdb/new", status=404) == "unknown section/element: influxdb/new"


def test_add_slack_workspaces_like_the_server_tests(client: TestClient) -> None:
    post(
        client,
        f"{BASE}/slack",
        {
            "add": {
                "workspace": "company_private",
                "enabled": True,
                "global": False,
                "channel": "#general",
                "username": "kapacitor",
                "url": "http://slack.example.com/secret-token",
                "token": "my_other_secret",
            }
        },
    )
    post(
        client,
        f"{BASE}/slack/",
        {
            "add": {
                "workspace": "company_public",
                "enabled": True,
                "channel": "#general",
                "username": "kapacitor",
                "url": "http://slack.example.com/secret-token",
            }
        },
    )
    post(client, f"{BASE}/slack/company_public", {"set": {"enabled": False, "username": "testbot"}})
    section = get(client, f"{BASE}/slack")
    hrefs = [e["link"]["href"] for e in section["elements"]]
    assert hrefs == [f"{BASE}/slack/", f"{BASE}/slack/company_private", f"{BASE}/slack/company_public"]
    private, public = section["elements"][1]["options"], section["elements"][2]["options"]
    assert (private["url"], private["token"], private["default"], private["enabled"]) == (True, True, False, True)
    assert (public["url"], public["token"], public["enabled"], public["username"]) == (True, False, False, "testbot")
    assert all(e["redacted"] == ["url", "token"] for e in section["elements"])
    post(client, f"{BASE}/slack", {"remove": ["company_private", "company_public"]})
    assert len(get(client, f"{BASE}/slack")["elements"]) == 1


def test_add_an_element_to_an_empty_list_section(client: TestClient) -> None:
    post(client, f"{BASE}/scraper", {"add": {"name": "s1", "db": "telegraf", "rp": "autogen"}})
    element = get(client, f"{BASE}/scraper/s1")
    assert element["redacted"] == ["password", "bearer-token"]
    assert element["options"]["scrape-interval"] == "1m0s" and element["options"]["type"] == "prometheus"
    assert "scraper" in get(client, BASE)["sections"]


def test_adding_a_name_the_file_already_has_is_a_duplicate(client: TestClient) -> None:
    message = error(client, "POST", f"{BASE}/influxdb", {"add": {"name": "default"}})
    assert (
        message
        == 'failed to read sections from configuration object: section "influxdb" has duplicate elements: "default"'
    )


# ---- state ------------------------------------------------------------------------------------------------------


def test_snapshot_and_restore_keep_the_overrides() -> None:
    config = MockConfig()
    client = TestClient(create_app(config))
    post(client, f"{BASE}/smtp/", {"set": {"port": 2525}})
    post(client, f"{BASE}/influxdb", {"add": {"name": "extra", "urls": ["http://x:8086"]}})
    snapshot = json.loads(json.dumps(client.app.mock_state.configs.snapshot()))
    state = MockState(config)
    state.configs.restore(snapshot)
    restored = TestClient(create_app(config, state))
    assert get(restored, f"{BASE}/smtp/")["options"]["port"] == 2525
    assert get(restored, f"{BASE}/influxdb/extra")["options"]["urls"] == ["http://x:8086"]
    assert get(restored, BASE) == get(client, BASE)


def test_a_truncated_number_poisons_the_stored_overrides(client: TestClient) -> None:
    # Set as float64 (truncated to 2), stored as the json.Number "2.5", which no longer parses as int.
    post(client, f"{BASE}/smtp/", {"set": {"port": 2.5}})
    message = error(client, "GET", BASE, status=500)
    assert message == (
        "failed to resolve current config:failed to apply configuration overrides: failed to override configuration "
        'smtp/: cannot set option port: cannot convert string "2.5" into int'
    )
    post(client, f"{BASE}/smtp/", {"delete": ["port"]})
    assert get(client, f"{BASE}/smtp/")["options"]["port"] == 25


# ---- a real HTTP server -------------------------------------------------------------------------------------------


@pytest.mark.server
def test_over_real_http() -> None:
    handle = serve_in_thread(create_app(MockConfig()))
    try:
        conn = http.client.HTTPConnection(handle.host, handle.port, timeout=10)
        conn.request(
            "POST", f"{BASE}/smtp/", body=b'{"set":{"port":2525}}', headers={"Content-Type": "application/json"}
        )
        resp = conn.getresponse()
        assert resp.status == 204 and resp.read() == b""
        conn.request("GET", f"{BASE}/smtp")
        resp = conn.getresponse()
        raw = resp.read()
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "application/json; charset=utf-8"
        assert raw.endswith(b"}\n") and b"\n" not in raw[:-1]
        body = json.loads(raw)
        assert body["elements"][0]["options"]["port"] == 2525
        assert_matches_spec("getConfigSection", 200, body)
        conn.close()
    finally:
        handle.stop()


@pytest.mark.parametrize(("options", "error"), [
    ({"ssl-ca": "/nonexistent-ca.pem"}, "Could not load TLS CA: open /nonexistent-ca.pem: no such file or directory"),
    ({"ssl-ca": "/"}, "Could not load TLS CA: read /: is a directory"),
    ({"ssl-cert": "/nonexistent.crt", "ssl-key": "/nonexistent.key"},
     "Could not load TLS client key/certificate: open /nonexistent.crt: no such file or directory"),
    ({"ssl-cert": "x.crt"}, "Must provide both key and cert files: only cert file provided."),
    ({"ssl-key": "x.key"}, "Must provide both key and cert files: only key file provided."),
])
def test_influxdb_tls_files_are_validated_even_when_disabled(options: dict[str, str], error: str) -> None:
    """services/influxdb Config.Validate runs getTLSConfig for every URL, enabled or not (as a real
    1.5.7 answers; the files are looked up on the server's machine)."""
    api = Api(create_app(MockConfig(kapacitor_version="1.5.7")))
    resp = api.post("/kapacitor/v1/config/influxdb/default", {"set": options})
    assert resp.status == 400
    assert resp.json == {"error": f"failed to override configuration influxdb/default: failed validation: {error}"}
    assert api.post("/kapacitor/v1/config/influxdb/default", {"set": {"ssl-ca": ""}}).status == 204
