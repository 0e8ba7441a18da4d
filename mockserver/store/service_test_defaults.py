"""The testable services and their test options, as data.

Each service's options are listed in the order of its Go `testOptions` struct (the JSON order of
GET /service-tests), with the Go type the request body is decoded into and the default. Some
defaults are read from the service's current configuration (`FromConfig`), e.g. smtp's `to` is the
configured recipients; `DEFAULT_BROKER` and `FromDefaultWorkspace` follow the mqtt and
slack/discord services' notion of their default element; `NOW` is the time of the request.

1.5 differs in alerta (no `attributes`), bigpanda (another app key, a fixed timestamp, no
host/properties), servicenow (four options) and has no zenoss.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from mockserver.store.config_sections import before_1_5_8, is_legacy

# Decode kinds: the Go type of the testOptions field.
STRING = "string"
BOOL = "bool"
STRINGS = "[]string"
ANY_MAP = "map[string]interface {}"
STRING_MAP = "map[string]string"
LEVEL = "alert.Level"
TIME = "time.Time"
DURATION = "time.Duration"
INT64 = "int64"
QOS = "mqtt.QoSLevel"
EVENT_DATA = "alert.EventData"
LINKS = "[]pagerduty2.LinkTemplate"
DATA_LIST = "[]snmptrap.Data"


@dataclass(frozen=True)
class FromConfig:
    """Default taken from an option of the (single) config section."""

    section: str
    option: str


@dataclass(frozen=True)
class FromDefaultWorkspace:
    """Default taken from the default workspace of slack or discord."""

    section: str
    option: str


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NOW = _Marker("NOW")
DEFAULT_BROKER = _Marker("DEFAULT_BROKER")


@dataclass(frozen=True)
class TestOption:
    name: str
    kind: str
    default: Any


@dataclass(frozen=True)
class Service:
    name: str
    #: The Go package of the service (its testOptions type is `<package>.testOptions`).
    package: str
    options: tuple[TestOption, ...]


def _event_data(name: str) -> dict[str, Any]:
    return {
        "Name": name,
        "TaskName": "",
        "Category": "",
        "Group": "",
        "Tags": {},
        "Fields": {},
        "Recoverable": False,
        "Result": {"series": None},
    }


def _discovery(name: str, package: str) -> Service:
    return Service(name, package, (TestOption("id", STRING, ""),))


def _t(name: str, kind: str, default: Any) -> TestOption:
    return TestOption(name, kind, default)


def _modern() -> list[Service]:
    return [
        Service(
            "alerta",
            "alerta",
            (
                _t("resource", STRING, "testResource"),
                _t("event", STRING, "testEvent"),
                _t("environment", STRING, FromConfig("alerta", "environment")),
                _t("severity", STRING, "critical"),
                _t("group", STRING, "testGroup"),
                _t("value", STRING, "testValue"),
                _t("message", STRING, "test alerta message"),
                _t("origin", STRING, FromConfig("alerta", "origin")),
                _t("service", STRINGS, ["testServiceA", "testServiceB"]),
                _t("correlate", STRINGS, ["testServiceX", "testServiceY"]),
                _t("attributes", ANY_MAP, {"testAttributeA": "A", "testAttributeB": True, "testAttributeC": 9001}),
                _t("timeout", STRING, "24h0m0s"),
            ),
        ),
        _discovery("azure", "azure"),
        Service(
            "bigpanda",
            "bigpanda",
            (
                _t("app_key", STRING, "012345"),
                _t("message", STRING, "test bigpanda message"),
                _t("level", LEVEL, "CRITICAL"),
                _t("event_data", EVENT_DATA, _event_data("testBigPanda")),
                _t("timestamp", TIME, NOW),
                _t("host", STRING, "serverA"),
                _t("primary_property", STRING, ""),
                _t("secondary_property", STRING, ""),
            ),
        ),
        _discovery("consul", "consul"),
        Service(
            "discord",
            "discord",
            (
                _t("workspace", STRING, FromDefaultWorkspace("discord", "workspace")),
                _t("message", STRING, "test discord message"),
                _t("level", LEVEL, "INFO"),
                _t("username", STRING, "Kapacitor"),
                _t(
                    "avatar-url",
                    STRING,
                    "https://influxdata.github.io/branding/img/downloads/influxdata-logo--symbol--pool-alpha.png",
                ),
                _t("embed-title", STRING, "Kapacitor Alert"),
                _t("time-val", TIME, "1970-01-01T00:00:01Z"),
            ),
        ),
        _discovery("dns", "dns"),
        _discovery("ec2", "ec2"),
        _discovery("file-discovery", "file_discovery"),
        _discovery("gce", "gce"),
        Service(
            "hipchat",
            "hipchat",
            (
                _t("room", STRING, FromConfig("hipchat", "room")),
                _t("message", STRING, "test hipchat message"),
                _t("level", LEVEL, "CRITICAL"),
            ),
        ),
        Service(
            "httppost",
            "httppost",
            (
                _t("endpoint", STRING, "example"),
                _t("url", STRING, "http://localhost:3000/"),
                _t("headers", STRING_MAP, {"Auth": "secret"}),
                _t("timeout", DURATION, 0),
            ),
        ),
        Service("influxdb", "influxdb", (_t("cluster", STRING, ""),)),
        Service(
            "kafka",
            "kafka",
            (
                _t("cluster", STRING, "example"),
                _t("topic", STRING, "test"),
                _t("key", STRING, "key"),
                _t("message", STRING, "test kafka message"),
            ),
        ),
        _discovery("kubernetes", "k8s"),
        _discovery("marathon", "marathon"),
        Service(
            "mqtt",
            "mqtt",
            (
                _t("broker-name", STRING, DEFAULT_BROKER),
                _t("topic", STRING, ""),
                _t("message", STRING, "test MQTT message"),
                _t("qos", QOS, "at-most-once"),
                _t("retained", BOOL, False),
            ),
        ),
        _discovery("nerve", "nerve"),
        Service(
            "opsgenie",
            "opsgenie",
            (
                _t("teams", STRINGS, FromConfig("opsgenie", "teams")),
                _t("recipients", STRINGS, FromConfig("opsgenie", "recipients")),
                _t("message-type", STRING, "CRITICAL"),
                _t("message", STRING, "test opsgenie message"),
                _t("entity-id", STRING, "testEntityID"),
            ),
        ),
        Service(
            "opsgenie2",
            "opsgenie2",
            (
                _t("teams", STRINGS, FromConfig("opsgenie2", "teams")),
                _t("recipients", STRINGS, FromConfig("opsgenie2", "recipients")),
                _t("recovery_action", STRING, FromConfig("opsgenie2", "recovery_action")),
                _t("message-type", STRING, "CRITICAL"),
                _t("message", STRING, "test opsgenie message"),
                _t("entity-id", STRING, "testEntityID"),
            ),
        ),
        Service(
            "pagerduty",
            "pagerduty",
            (
                _t("incident-key", STRING, "testIncidentKey"),
                _t("description", STRING, "test pagerduty message"),
                _t("details", STRING, ""),
                _t("level", LEVEL, "CRITICAL"),
            ),
        ),
        Service(
            "pagerduty2",
            "pagerduty2",
            (
                _t("alert_id", STRING, "testAlertID"),
                _t("description", STRING, "test pagerduty2 message"),
                _t("level", LEVEL, "CRITICAL"),
                _t("event_data", EVENT_DATA, _event_data("testPagerDuty2")),
                _t("timestamp", TIME, "2014-11-12T11:45:26.371Z"),
                _t(
                    "links",
                    LINKS,
                    [{"href": "https://example.com/a", "text": "a"}, {"href": "https://example.com/b", "text": "b"}],
                ),
            ),
        ),
        Service(
            "pushover",
            "pushover",
            (
                _t("user-key", STRING, FromConfig("pushover", "user-key")),
                _t("message", STRING, "test pushover message"),
                _t("device", STRING, ""),
                _t("title", STRING, ""),
                _t("url", STRING, ""),
                _t("url-title", STRING, ""),
                _t("sound", STRING, ""),
                _t("level", LEVEL, "CRITICAL"),
            ),
        ),
        Service("scraper", "scraper", (_t("name", STRING, ""),)),
        Service(
            "sensu",
            "sensu",
            (
                _t("name", STRING, "testName"),
                _t("source", STRING, "Kapacitor"),
                _t("output", STRING, "testOutput"),
                _t("handlers", STRINGS, []),
                _t("metadata", ANY_MAP, {}),
                _t("level", LEVEL, "CRITICAL"),
            ),
        ),
        _discovery("serverset", "serverset"),
        Service(
            "servicenow",
            "servicenow",
            (
                _t("alert_id", STRING, "1001"),
                _t("message", STRING, "test servicenow message"),
                _t("level", LEVEL, "CRITICAL"),
                _t("source", STRING, "Kapacitor"),
                _t("node", STRING, ""),
                _t("type", STRING, ""),
                _t("resource", STRING, ""),
                _t("metric_name", STRING, ""),
                _t("message_key", STRING, ""),
                _t("additional_info", ANY_MAP, {}),
            ),
        ),
        Service(
            "slack",
            "slack",
            (
                _t("workspace", STRING, FromDefaultWorkspace("slack", "workspace")),
                _t("channel", STRING, FromDefaultWorkspace("slack", "channel")),
                _t("message", STRING, "test slack message"),
                _t("level", LEVEL, "CRITICAL"),
                _t("username", STRING, ""),
                _t("icon-emoji", STRING, ""),
            ),
        ),
        Service(
            "smtp",
            "smtp",
            (
                _t("to", STRINGS, FromConfig("smtp", "to")),
                _t("subject", STRING, "test subject"),
                _t("body", STRING, "test body"),
            ),
        ),
        Service(
            "snmptrap",
            "snmptrap",
            (
                _t("trap-oid", STRING, "1.1.1.1"),
                _t("data-list", DATA_LIST, [{"oid": "1.1.1.1.2", "type": "s", "value": "test snmptrap message"}]),
            ),
        ),
        _discovery("static-discovery", "static_discovery"),
        _discovery("swarm", "swarm"),
        Service("talk", "talk", (_t("title", STRING, "testTitle"), _t("text", STRING, "test talk text"))),
        Service(
            "teams",
            "teams",
            (
                _t("channel_url", STRING, FromConfig("teams", "channel-url")),
                _t("alert_topic", STRING, "test kapacitor alert topic"),
                _t("alert_id", STRING, "foo/bar/bat"),
                _t("message", STRING, "test teams message"),
                _t("level", LEVEL, "CRITICAL"),
            ),
        ),
        Service(
            "telegram",
            "telegram",
            (
                _t("chat-id", STRING, FromConfig("telegram", "chat-id")),
                _t("parse-mode", STRING, FromConfig("telegram", "parse-mode")),
                _t("message", STRING, "test telegram message"),
                _t("disable-web-page-preview", BOOL, FromConfig("telegram", "disable-web-page-preview")),
                _t("disable-notification", BOOL, FromConfig("telegram", "disable-notification")),
            ),
        ),
        _discovery("triton", "triton"),
        Service(
            "victorops",
            "victorops",
            (
                _t("routingKey", STRING, FromConfig("victorops", "routing-key")),
                _t("messageType", STRING, "CRITICAL"),
                _t("message", STRING, "test victorops message"),
                _t("entityID", STRING, "testEntityID"),
            ),
        ),
        Service(
            "zenoss",
            "zenoss",
            (
                _t("alert_id", STRING, "1001"),
                _t("level", LEVEL, "CRITICAL"),
                _t("message", STRING, "test zenoss message"),
                _t("action", STRING, FromConfig("zenoss", "action")),
                _t("method", STRING, FromConfig("zenoss", "method")),
                _t("type", STRING, FromConfig("zenoss", "type")),
                _t("tid", INT64, FromConfig("zenoss", "tid")),
                _t("summary", STRING, ""),
                _t("device", STRING, ""),
                _t("component", STRING, ""),
                _t("eventclasskey", STRING, ""),
                _t("eventclass", STRING, ""),
                _t("collector", STRING, FromConfig("zenoss", "collector")),
                _t("custom_fields", ANY_MAP, {}),
            ),
        ),
    ]


#: 1.5 services whose options differ from 1.8.
_LEGACY_OPTIONS: dict[str, tuple[TestOption, ...]] = {
    "bigpanda": (
        _t("app_key", STRING, "my-app-key-123456"),
        _t("message", STRING, "test bigpanda message"),
        _t("level", LEVEL, "CRITICAL"),
        _t("event_data", EVENT_DATA, _event_data("testBigPanda")),
        _t("timestamp", TIME, "1970-01-01T00:00:01Z"),
    ),
    "servicenow": (
        _t("alert_id", STRING, "id"),
        _t("source", STRING, "Kapacitor"),
        _t("level", LEVEL, "CRITICAL"),
        _t("message", STRING, "test servicenow alert"),
    ),
}


def _legacy(version: str = "1.5.9") -> list[Service]:
    out = []
    early = before_1_5_8(version)  # no bigpanda service, no alerta `correlate` before 1.5.8
    for service in _modern():
        if service.name == "zenoss" or (early and service.name == "bigpanda"):
            continue
        options = _LEGACY_OPTIONS.get(service.name, service.options)
        if service.name == "alerta":
            options = tuple(o for o in options if o.name != "attributes" and not (early and o.name == "correlate"))
        out.append(Service(service.name, service.package, options))
    return out


@functools.lru_cache(maxsize=4)
def services_for(version: str) -> dict[str, Service]:
    """Every testable service of `version`, by name."""
    return {s.name: s for s in (_legacy(version) if is_legacy(version) else _modern())}
