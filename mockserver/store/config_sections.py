"""The overridable configuration sections of a Kapacitor server, as data.

Each section lists its options in the order of the Go struct fields (that order decides which
error a bad update reports first and the order of the `redacted` list), the Go kind of every
option (it decides how an override value is converted), the option's value in the configuration
file the mock imitates, and, for list sections, the defaults a newly added element starts from.

The imitated file is `kapacitord`'s built-in defaults (`NewConfig()` of each service, e.g.
services/influxdb/config.go: `urls = ["http://localhost:8086"]`, subscriptions on) with the one
setting a server needs to run without an InfluxDB: `[[influxdb]] enabled = false`. Values are kept "Go side": durations are integer
nanoseconds, the InfluxDB subscription mode is its integer constant, and `None` is a nil slice or
map (rendered `null`, and counted as empty for redaction).

1.8 added the `zenoss` section and the options `bigpanda.auto-attributes`, `influxdb.token`,
`influxdb.http-shared-secret`, `slack.token`, `smtp.to-templates` and kafka's embedded SASL
settings, and dropped `marathon.timeout`; versions before 1.6 get the 1.5 layout.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.config import version_tuple

SECOND = 1_000_000_000
MINUTE = 60 * SECOND

# Option kinds: how the server's override code sees the Go field.
BOOL = "bool"
STRING = "string"
INT = "int"
INT64 = "int64"
DURATION = "duration"  # toml.Duration: int64 that unmarshals from text
SUBSCRIPTION_MODE = "subscription-mode"  # influxdb.SubscriptionMode: int that unmarshals from text
STRINGS = "[]string"
STRING_MAP = "map[string]string"
STRINGS_MAP = "map[string][]string"
URL_VALUES = "url.Values"
URL_POINTER = "*url.URL"
BASIC_AUTH = "httppost.BasicAuth"
SEVERITY_MAP = "zenoss.SeverityMap"
SASL_AUTH = "kafka.SASLAuth"

#: Go reflect kind name of each option kind (used verbatim in the server's conversion errors).
GO_KIND = {
    BOOL: "bool",
    STRING: "string",
    INT: "int",
    INT64: "int64",
    DURATION: "int64",
    SUBSCRIPTION_MODE: "int",
    STRINGS: "slice",
    STRING_MAP: "map",
    STRINGS_MAP: "map",
    URL_VALUES: "map",
    URL_POINTER: "ptr",
    BASIC_AUTH: "struct",
    SEVERITY_MAP: "struct",
    SASL_AUTH: "struct",
}

#: Element kind of slice and map kinds.
ELEMENT_KIND = {STRINGS: STRING, STRING_MAP: STRING, STRINGS_MAP: STRINGS, URL_VALUES: STRINGS}

#: Kinds whose Go type unmarshals itself from text (conversion errors are swallowed).
TEXT_KINDS = frozenset({DURATION, SUBSCRIPTION_MODE})

SUBSCRIPTION_MODES = ("cluster", "server")

#: kafka.SASLAuth fields in struct order: (Go field name, kind). JSON uses the Go field names.
SASL_FIELDS: tuple[tuple[str, str], ...] = (
    ("SASLUsername", STRING),
    ("SASLPassword", STRING),
    ("SASLExtensions", STRING_MAP),
    ("SASLMechanism", STRING),
    ("SASLVersion", "*int"),
    ("SASLGSSAPIServiceName", STRING),
    ("SASLGSSAPIAuthType", STRING),
    ("SASLGSSAPIDisablePAFXFAST", BOOL),
    ("SASLGSSAPIKerberosConfigPath", STRING),
    ("SASLGSSAPIKeyTabPath", STRING),
    ("SASLGSSAPIRealm", STRING),
    ("SASLOAUTHService", STRING),
    ("SASLOAUTHClientID", STRING),
    ("SASLOAUTHClientSecret", STRING),
    ("SASLOAUTHTokenURL", STRING),
    ("SASLOAUTHScopes", STRINGS),
    ("SASLOAUTHParams", STRING_MAP),
    ("SASLOAUTHExpiryMargin", "time.Duration"),
    ("SASLAccessToken", STRING),
    ("SASLOAUTHTenant", STRING),
)

#: httppost.BasicAuth fields: (Go field name, JSON name).
BASIC_AUTH_FIELDS = (("Username", "username"), ("Password", "password"))

#: zenoss.SeverityMap JSON keys in struct order.
SEVERITY_KEYS = ("ok", "info", "warning", "critical")


def zero_value(kind: str) -> Any:
    """The Go zero value of an option kind, Go side."""
    if kind == BOOL:
        return False
    if kind == STRING:
        return ""
    if kind in (INT, INT64, DURATION, SUBSCRIPTION_MODE, "time.Duration"):
        return 0
    if kind == BASIC_AUTH:
        return {"username": "", "password": ""}
    if kind == SEVERITY_MAP:
        return dict.fromkeys(SEVERITY_KEYS)
    if kind == SASL_AUTH:
        return {name: zero_value(k) for name, k in SASL_FIELDS}
    return None  # slices, maps, pointers


@dataclass(frozen=True)
class Option:
    """One overridable field: `name` is its `override` tag (or the Go field name if untagged)."""

    name: str
    kind: str
    redact: bool = False
    #: True when the field has no `override` tag, so the server also accepts the lower-cased name.
    untagged: bool = False


@dataclass(frozen=True)
class Section:
    name: str
    #: The option naming a list element (`element-key=`); None for single sections.
    element_key: str | None
    options: tuple[Option, ...]
    #: Elements of the imitated file, as option → value changes from the zero values.
    elements: tuple[Mapping[str, Any], ...]
    #: Changes from zero for an element created by `add` (the Go type's Init()); None if it has none.
    init: Mapping[str, Any] | None = None
    #: Name of the Go list type when it validates the whole list (e.g. `slack.Configs`).
    list_type: str | None = None
    by_name: Mapping[str, Option] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {o.name: o for o in self.options})

    def zero_element(self) -> dict[str, Any]:
        return {o.name: zero_value(o.kind) for o in self.options}

    def build(self, changes: Mapping[str, Any] | None) -> dict[str, Any]:
        element = self.zero_element()
        for name, value in (changes or {}).items():
            element[name] = _copy(value)
        return element


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _o(name: str, kind: str = STRING, redact: bool = False) -> Option:
    return Option(name, kind, redact)


def _ssl(*, server_name: bool = False) -> tuple[Option, ...]:
    opts = [_o("ssl-ca"), _o("ssl-cert"), _o("ssl-key")]
    if server_name:
        opts.append(_o("ssl-server-name"))
    return (*opts, _o("insecure-skip-verify", BOOL))


def _modern() -> list[Section]:
    """The 1.8 sections in the order of `server.Config`."""
    influx_init = {
        "name": "default",
        "urls": ["http://localhost:8086"],
        "excluded-subscriptions": {"_kapacitor": ["autogen"]},
        "udp-buffer": 1000,
        "startup-timeout": 5 * MINUTE,
        "subscription-protocol": "http",
        "subscriptions-sync-interval": MINUTE,
        "subscription-mode": 0,
        "subscription-path": "",
        "compression": "gzip",
    }
    influx_file = {**influx_init, "enabled": False}
    sasl_file = zero_value(SASL_AUTH)
    sasl_file["SASLOAUTHExpiryMargin"] = 10 * SECOND
    return [
        Section(
            "influxdb",
            "name",
            (
                _o("enabled", BOOL),
                _o("name"),
                _o("default", BOOL),
                _o("urls", STRINGS),
                _o("username"),
                _o("password", redact=True),
                _o("token", redact=True),
                _o("http-shared-secret", BOOL),
                *_ssl(),
                _o("timeout", DURATION),
                _o("disable-subscriptions", BOOL),
                _o("subscription-protocol"),
                _o("subscription-mode", SUBSCRIPTION_MODE),
                _o("subscriptions", STRINGS_MAP),
                _o("excluded-subscriptions", STRINGS_MAP),
                _o("kapacitor-hostname"),
                _o("http-port", INT),
                _o("udp-bind"),
                _o("udp-buffer", INT),
                _o("udp-read-buffer", INT),
                _o("startup-timeout", DURATION),
                _o("subscriptions-sync-interval", DURATION),
                _o("subscription-path"),
                _o("compression"),
            ),
            (influx_file,),
            init=influx_init,
        ),
        Section(
            "alerta",
            None,
            (
                _o("enabled", BOOL),
                _o("url"),
                _o("insecure-skip-verify", BOOL),
                _o("token", redact=True),
                _o("token-prefix"),
                _o("environment"),
                _o("origin"),
                _o("timeout", DURATION),
            ),
            ({},),
        ),
        Section(
            "bigpanda",
            None,
            (
                _o("enabled", BOOL),
                _o("global", BOOL),
                _o("app-key"),
                _o("token", redact=True),
                _o("state-changes-only", BOOL),
                _o("insecure-skip-verify", BOOL),
                _o("url"),
                _o("auto-attributes"),
            ),
            ({"url": "https://api.bigpanda.io/data/v2/alerts", "auto-attributes": "tags,fields"},),
        ),
        Section(
            "discord",
            "workspace",
            (
                _o("enabled", BOOL),
                _o("default", BOOL),
                _o("workspace"),
                _o("url"),
                _o("timestamp", BOOL),
                _o("username"),
                _o("avatar-url"),
                _o("embed-title"),
                _o("global", BOOL),
                _o("state-changes-only", BOOL),
                *_ssl(),
            ),
            ({"default": True},),
            list_type="discord.Configs",
        ),
        Section(
            "hipchat",
            None,
            (
                _o("enabled", BOOL),
                _o("url"),
                _o("token", redact=True),
                _o("room"),
                _o("global", BOOL),
                _o("state-changes-only", BOOL),
            ),
            ({},),
        ),
        Section(
            "kafka",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("brokers", STRINGS),
                _o("timeout", DURATION),
                _o("batch-size", INT),
                _o("batch-timeout", DURATION),
                _o("use-ssl", BOOL),
                *_ssl(),
                Option("SASLAuth", SASL_AUTH, untagged=True),
            ),
            ({"id": "default", "SASLAuth": sasl_file},),
            list_type="kafka.Configs",
        ),
        Section(
            "mqtt",
            "name",
            (
                _o("enabled", BOOL),
                _o("name"),
                _o("default", BOOL),
                _o("url"),
                *_ssl(),
                _o("client-id"),
                _o("username"),
                _o("password", redact=True),
            ),
            ({"name": "default"},),
            list_type="mqtt.Configs",
        ),
        Section(
            "opsgenie",
            None,
            (
                _o("enabled", BOOL),
                _o("api-key", redact=True),
                _o("teams", STRINGS),
                _o("recipients", STRINGS),
                _o("url"),
                _o("recovery_url"),
                _o("global", BOOL),
            ),
            (
                {
                    "url": "https://api.opsgenie.com/v1/json/alert",
                    "recovery_url": "https://api.opsgenie.com/v1/json/alert/note",
                },
            ),
        ),
        Section(
            "opsgenie2",
            None,
            (
                _o("enabled", BOOL),
                _o("api-key", redact=True),
                _o("teams", STRINGS),
                _o("recipients", STRINGS),
                _o("url"),
                _o("recovery_action"),
                _o("global", BOOL),
                _o("details", BOOL),
            ),
            ({"url": "https://api.opsgenie.com/v2/alerts", "recovery_action": "notes"},),
        ),
        Section(
            "pagerduty",
            None,
            (_o("enabled", BOOL), _o("url"), _o("service-key", redact=True), _o("global", BOOL)),
            ({"url": "https://events.pagerduty.com/generic/2010-04-15/create_event.json"},),
        ),
        Section(
            "pagerduty2",
            None,
            (_o("enabled", BOOL), _o("url"), _o("routing-key", redact=True), _o("global", BOOL)),
            ({"url": "https://events.pagerduty.com/v2/enqueue"},),
        ),
        Section(
            "pushover",
            None,
            (_o("enabled", BOOL), _o("token", redact=True), _o("user-key", redact=True), _o("url")),
            ({"url": "https://api.pushover.net/1/messages.json"},),
        ),
        Section(
            "httppost",
            "endpoint",
            (
                _o("endpoint"),
                _o("url"),
                _o("headers", STRING_MAP),
                _o("basic-auth", BASIC_AUTH, redact=True),
                _o("alert-template"),
                _o("alert-template-file"),
                _o("row-template"),
                _o("row-template-file"),
            ),
            ({"endpoint": "example", "url": "http://example.com"},),
            list_type="httppost.Configs",
        ),
        Section(
            "smtp",
            None,
            (
                _o("enabled", BOOL),
                _o("host"),
                _o("port", INT),
                _o("username"),
                _o("password", redact=True),
                _o("no-verify", BOOL),
                _o("global", BOOL),
                _o("state-changes-only", BOOL),
                _o("from"),
                _o("to", STRINGS),
                _o("to-templates", STRINGS),
                _o("idle-timeout", DURATION),
            ),
            ({"host": "localhost", "port": 25, "idle-timeout": 30 * SECOND},),
        ),
        Section(
            "snmptrap",
            None,
            (_o("enabled", BOOL), _o("addr"), _o("community", redact=True), _o("retries", INT)),
            ({"addr": "localhost:162", "community": "kapacitor", "retries": 1},),
        ),
        Section(
            "sensu",
            None,
            (_o("enabled", BOOL), _o("addr"), _o("source"), _o("handlers", STRINGS)),
            ({"source": "Kapacitor"},),
        ),
        Section(
            "servicenow",
            None,
            (
                _o("enabled", BOOL),
                _o("url"),
                _o("source"),
                _o("username"),
                _o("password", redact=True),
                _o("global", BOOL),
                _o("state-changes-only", BOOL),
            ),
            ({"url": "https://instance.service-now.com/api/global/em/jsonv2"},),
        ),
        Section(
            "slack",
            "workspace",
            (
                _o("enabled", BOOL),
                _o("default", BOOL),
                _o("workspace"),
                _o("url", redact=True),
                _o("token", redact=True),
                _o("channel"),
                _o("username"),
                _o("icon-emoji"),
                _o("global", BOOL),
                _o("state-changes-only", BOOL),
                *_ssl(),
            ),
            ({"default": True, "username": "kapacitor"},),
            list_type="slack.Configs",
        ),
        Section("talk", None, (_o("enabled", BOOL), _o("url", redact=True), _o("author_name")), ({},)),
        Section(
            "teams",
            None,
            (_o("enabled", BOOL), _o("channel-url"), _o("global", BOOL), _o("state-changes-only", BOOL)),
            ({},),
        ),
        Section(
            "telegram",
            None,
            (
                _o("enabled", BOOL),
                _o("url"),
                _o("token", redact=True),
                _o("chat-id"),
                _o("parse-mode"),
                _o("disable-web-page-preview", BOOL),
                _o("disable-notification", BOOL),
                _o("global", BOOL),
                _o("state-changes-only", BOOL),
            ),
            ({"url": "https://api.telegram.org/bot"},),
        ),
        Section(
            "victorops",
            None,
            (
                _o("enabled", BOOL),
                _o("api-key", redact=True),
                _o("routing-key"),
                _o("url"),
                _o("global", BOOL),
                _o("json-data", BOOL),
            ),
            ({"url": "https://alert.victorops.com/integrations/generic/20131114/alert"},),
        ),
        Section(
            "zenoss",
            None,
            (
                _o("enabled", BOOL),
                _o("url"),
                _o("username"),
                _o("password", redact=True),
                _o("action"),
                _o("method"),
                _o("type"),
                _o("tid", INT64),
                _o("collector"),
                _o("severity-map", SEVERITY_MAP),
                _o("global", BOOL),
                _o("state-changes-only", BOOL),
            ),
            (
                {
                    "url": "https://tenant.zenoss.io:8080/zport/dmd/evconsole_router",
                    "action": "EventsRouter",
                    "method": "add_event",
                    "type": "rpc",
                    "tid": 1,
                    "collector": "Kapacitor",
                    "severity-map": {"ok": "Clear", "info": "Info", "warning": "Warning", "critical": "Critical"},
                },
            ),
        ),
        Section(
            "scraper",
            "name",
            (
                _o("enabled", BOOL),
                _o("name"),
                _o("type"),
                _o("db"),
                _o("rp"),
                _o("scheme"),
                _o("metrics-path"),
                _o("params", URL_VALUES),
                _o("scrape-interval", DURATION),
                _o("scrape-timeout", DURATION),
                _o("username"),
                _o("password", redact=True),
                *_ssl(server_name=True),
                _o("bearer-token", redact=True),
                _o("proxy-url", URL_POINTER),
                _o("discoverer-id"),
                _o("discoverer-service"),
                _o("blacklist", STRINGS),
            ),
            (),
            init={
                "type": "prometheus",
                "scrape-interval": MINUTE,
                "scrape-timeout": 10 * SECOND,
                "metrics-path": "/metrics",
                "scheme": "http",
            },
        ),
        Section(
            "azure",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("port", INT),
                _o("subscription-id"),
                _o("tenant-id"),
                _o("client-id"),
                _o("client-secret", redact=True),
                _o("refresh-interval", DURATION),
            ),
            (),
            init={"port": 80, "refresh-interval": 5 * MINUTE},
        ),
        Section(
            "consul",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("address"),
                _o("token", redact=True),
                _o("datacenter"),
                _o("tag-separator"),
                _o("scheme"),
                _o("username"),
                _o("password", redact=True),
                _o("services", STRINGS),
                *_ssl(server_name=True),
            ),
            (),
            init={"address": "127.0.0.1:8500", "tag-separator": ",", "scheme": "http"},
        ),
        Section(
            "dns",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("record-names", STRINGS),
                _o("refresh-interval", DURATION),
                _o("type"),
                _o("port", INT),
            ),
            (),
            init={"type": "SRV", "refresh-interval": 30 * SECOND},
        ),
        Section(
            "ec2",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("region"),
                _o("access-key"),
                _o("secret-key", redact=True),
                _o("profile"),
                _o("refresh-interval", DURATION),
                _o("port", INT),
            ),
            (),
            init={"port": 80, "refresh-interval": MINUTE},
        ),
        Section(
            "file-discovery",
            "id",
            (_o("enabled", BOOL), _o("id"), _o("files", STRINGS), _o("refresh-interval", DURATION)),
            (),
            init={"refresh-interval": 5 * MINUTE},
        ),
        Section(
            "gce",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("project"),
                _o("zone"),
                _o("filter"),
                _o("refresh-interval", DURATION),
                _o("port", INT),
                _o("tag-separator"),
            ),
            (),
            init={"port": 80, "tag-separator": ",", "refresh-interval": MINUTE},
        ),
        Section(
            "marathon",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("servers", STRINGS),
                _o("refresh-interval", DURATION),
                _o("bearer-token", redact=True),
                *_ssl(server_name=True),
            ),
            (),
            init={"refresh-interval": 30 * SECOND},
        ),
        Section(
            "nerve",
            "id",
            (_o("enabled", BOOL), _o("id"), _o("servers", STRINGS), _o("paths", STRINGS), _o("timeout", DURATION)),
            (),
            init={"timeout": 10 * SECOND},
        ),
        Section(
            "serverset",
            "id",
            (_o("enabled", BOOL), _o("id"), _o("servers", STRINGS), _o("paths", STRINGS), _o("timeout", DURATION)),
            (),
            init={"timeout": 10 * SECOND},
        ),
        Section(
            "static-discovery",
            "id",
            (_o("enabled", BOOL), _o("id"), _o("targets", STRINGS), _o("labels", STRING_MAP)),
            (),
            init={"targets": [], "labels": {}},
        ),
        Section(
            "triton",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("account"),
                _o("dns-suffix"),
                _o("endpoint"),
                _o("port", INT),
                _o("refresh-interval", DURATION),
                _o("version", INT),
                *_ssl(server_name=True),
            ),
            (),
            init={"port": 9163, "refresh-interval": MINUTE, "version": 1},
        ),
        Section(
            "kubernetes",
            "id",
            (
                _o("enabled", BOOL),
                _o("id"),
                _o("in-cluster", BOOL),
                _o("api-servers", STRINGS),
                _o("token", redact=True),
                _o("ca-path"),
                _o("namespace"),
                _o("resource"),
            ),
            (),
            list_type="k8s.Configs",
        ),
        Section(
            "swarm",
            "id",
            (_o("enabled", BOOL), _o("id"), _o("servers", STRINGS), *_ssl()),
            (),
            list_type="swarm.Configs",
        ),
    ]


#: Options 1.8 added, by section (absent before 1.6).
ADDED_IN_1_8 = {
    "bigpanda": ("auto-attributes",),
    "influxdb": ("token", "http-shared-secret"),
    "slack": ("token",),
    "smtp": ("to-templates",),
    "kafka": ("SASLAuth",),
}


#: Options 1.5.8 added, by section (the `bigpanda` section is new in 1.5.8 too).
ADDED_IN_1_5_8 = {
    "influxdb": ("subscription-path", "compression"),
    "opsgenie2": ("details",),
}


def before_1_5_8(version: str) -> bool:
    return version_tuple(version) < (1, 5, 8)


def _legacy(version: str = "1.5.9") -> list[Section]:
    """The 1.5 layout: the 1.8 table minus what 1.8 added, plus `marathon.timeout`; before 1.5.8
    also without bigpanda and 1.5.8's options, and with no ServiceNow URL default."""
    out = []
    early = before_1_5_8(version)
    for section in _modern():
        if section.name == "zenoss" or (early and section.name == "bigpanda"):
            continue
        dropped = ADDED_IN_1_8.get(section.name, ()) + (ADDED_IN_1_5_8.get(section.name, ()) if early else ())
        options = tuple(o for o in section.options if o.name not in dropped)
        init = section.init
        if section.name == "marathon":
            # 1.5 had `timeout` right after `servers`, defaulting to 30s.
            idx = [o.name for o in options].index("servers") + 1
            options = (*options[:idx], _o("timeout", DURATION), *options[idx:])
            init = {"timeout": 30 * SECOND, **(init or {})}
        elements = tuple({k: v for k, v in e.items() if k not in dropped} for e in section.elements)
        if init is not None and dropped:
            init = {k: v for k, v in init.items() if k not in dropped}
        if early and section.name == "servicenow":
            elements = tuple({k: v for k, v in e.items() if k != "url"} for e in elements)
        out.append(Section(section.name, section.element_key, options, elements, init, section.list_type))
    return out


def is_legacy(version: str) -> bool:
    """Versions before 1.6 use the 1.5 layout (and 1.5's config path splitting)."""
    return version_tuple(version) < (1, 6)


@functools.lru_cache(maxsize=4)
def sections_for(version: str) -> dict[str, Section]:
    """Every overridable section of `version`, by name (including empty list sections)."""
    table = _legacy(version) if is_legacy(version) else _modern()
    return {s.name: s for s in table}
