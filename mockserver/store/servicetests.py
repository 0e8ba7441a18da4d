"""Service tests: the real server's testable services, their options and plausible results.

A test never leaves the mock. The result is what the real server answers before it would touch the
network: a service whose configuration (file plus overrides, as last given to the service) is
disabled answers `service is not enabled`, a named cluster/broker/workspace that does not exist is
reported as the real service reports it, and option checks that precede the enabled check (alerta's
required resource/event, sensu's name pattern, opsgenie2's level) run first. Past that point the
real server would send a notification; the mock reports success, except for the few services whose
remaining checks are local (smtp recipients, telegram parse mode, snmptrap data types) and httppost,
which never checks enablement and whose POST goes nowhere.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlsplit

from mockserver import gojson
from mockserver.errors import BadRequest, NotFound
from mockserver.gotext import go_quote
from mockserver.gotime import format_ns, unmarshal_time
from mockserver.store import service_test_defaults as std
from mockserver.store.listing import GlobSyntaxError, compile_glob
from mockserver.store.state import StoreState

LEVELS = "OKINFOWARNINGCRITICAL"
LEVEL_OFFSETS = (0, 2, 6, 13)
QOS_TEXTS = ("at-most-once", "at-least-once", "exactly-one")  # what the server's UnmarshalText accepts
_SENSU_NAME = re.compile(r"[\w.-]+\Z", re.ASCII)
_NOT_ENABLED = "service is not enabled"
DISCOVERY = frozenset(
    {
        "azure",
        "consul",
        "dns",
        "ec2",
        "file-discovery",
        "gce",
        "marathon",
        "nerve",
        "serverset",
        "static-discovery",
        "triton",
    }
)


def parse_level(text: str) -> str | None:
    """alert.Level's UnmarshalText: any substring of the level table starting at a level."""
    idx = LEVELS.find(text)
    if idx not in LEVEL_OFFSETS:
        return None
    return ("OK", "INFO", "WARNING", "CRITICAL")[LEVEL_OFFSETS.index(idx)]


def _split(where: str) -> tuple[str, str]:
    struct, _, name = where.rpartition(".")
    return struct, name


def _string(item: Any, where: str) -> str:
    if isinstance(item, str):
        return item
    raise gojson.type_error(item, *_split(where), "string")


def _strings(item: Any, where: str) -> list[str]:
    if not isinstance(item, list):
        raise gojson.type_error(item, *_split(where), "[]string")
    return ["" if v is None else _string(v, where) for v in item]


def _any_map(item: Any, where: str) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    raise gojson.type_error(item, *_split(where), "map[string]interface {}")


def _string_map(item: Any, where: str) -> dict[str, str]:
    if not isinstance(item, dict):
        raise gojson.type_error(item, *_split(where), "map[string]string")
    return {k: "" if v is None else _string(v, where) for k, v in item.items()}


def _level(item: Any, where: str) -> str:
    if not isinstance(item, str):
        raise gojson.type_error(item, *_split(where), "alert.Level")
    level = parse_level(item)
    if level is None:
        raise gojson.DecodeError(f"unknown alert level '{item}'")
    return level


def _qos(item: Any, where: str) -> str:
    if not isinstance(item, str):
        raise gojson.type_error(item, *_split(where), "mqtt.QoSLevel")
    if item not in QOS_TEXTS:
        raise gojson.DecodeError("invalid QoS")
    return item


def _unmarshal_time(item: Any, raw: str) -> str:
    try:
        unmarshal_time(raw)
    except ValueError as exc:
        raise gojson.DecodeError(str(exc)) from None
    return str(item)


#: time.Time's UnmarshalJSON reads the value's text as sent, whatever its kind.
_time = gojson.RawText(_unmarshal_time)


def _duration(item: Any, where: str) -> int:
    if isinstance(item, int) and not isinstance(item, bool) and -(2**63) <= item < 2**63:
        return item
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        struct, name = _split(where)
        raise gojson.UnmarshalTypeError(
            f"json: cannot unmarshal number {item!r} into Go struct field {struct}.{name} of type time.Duration"
        )
    raise gojson.type_error(item, *_split(where), "time.Duration")


def _int64(item: Any, where: str) -> int:
    if isinstance(item, int) and not isinstance(item, bool) and -(2**63) <= item < 2**63:
        return item
    raise gojson.type_error(item, *_split(where), "int64")


def _bool(item: Any, where: str) -> bool:
    if isinstance(item, bool):
        return item
    raise gojson.type_error(item, *_split(where), "bool")


_EVENT_DATA_FIELDS = {
    "Name": _string,
    "TaskName": _string,
    "Category": _string,
    "Group": _string,
    "Tags": _string_map,
    "Fields": _any_map,
    "Recoverable": _bool,
    "Result": _any_map,
}


def _event_data(item: Any, where: str) -> Any:
    if not isinstance(item, dict):
        raise gojson.type_error(item, *_split(where), "alert.EventData")
    return gojson.decode_struct(item, where, _EVENT_DATA_FIELDS, raw=True)


def _struct_list(go_type: str, fields: tuple[str, ...]) -> Any:
    def convert(item: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(item, list):
            raise gojson.type_error(item, *_split(where), "[]" + go_type)
        out = []
        for element in item:
            if element is None:
                out.append(dict.fromkeys(fields, ""))
                continue
            if not isinstance(element, dict):
                raise gojson.type_error(element, *_split(where), go_type)
            decoded = gojson.decode_struct(element, where, dict.fromkeys(fields, _string), raw=True)
            out.append({f: decoded.get(f, "") for f in fields})
        return out

    return convert


DECODERS = {
    std.STRING: _string,
    std.BOOL: _bool,
    std.STRINGS: _strings,
    std.ANY_MAP: _any_map,
    std.STRING_MAP: _string_map,
    std.LEVEL: _level,
    std.TIME: _time,
    std.DURATION: _duration,
    std.INT64: _int64,
    std.QOS: _qos,
    std.EVENT_DATA: _event_data,
    std.LINKS: _struct_list("pagerduty2.LinkTemplate", ("href", "text")),
    std.DATA_LIST: _struct_list("snmptrap.Data", ("oid", "type", "value")),
}


class ServiceTestStore:
    """Reads the services' configuration from the ConfigStore; holds no state of its own."""

    def __init__(self, state: StoreState) -> None:
        self.state = state

    @property
    def services(self) -> dict[str, std.Service]:
        return std.services_for(self.state.config.kapacitor_version)

    # ---- options ----

    def _elements(self, section: str) -> list[dict[str, Any]]:
        return self.state.configs.service_config(section)

    def _single(self, section: str) -> dict[str, Any]:
        elements = self._elements(section)
        return elements[0] if elements else {}

    def _workspace(self, section: str, wid: str) -> dict[str, Any] | None:
        """The slack/discord service's workspace table: by name, "" for the default one."""
        elements = self._elements(section)
        table: dict[str, dict[str, Any]] = {}
        for e in elements:
            table[e["workspace"]] = e
            if (e["default"] or len(elements) == 1) and e["workspace"] != "":
                table[""] = e
        return table.get(wid)

    def _default_broker(self) -> str:
        elements = self._elements("mqtt")
        if len(elements) == 1:
            name: str = elements[0]["name"]
            return name
        name = ""
        for e in elements:
            if e["default"]:
                name = e["name"]
        return name

    def _default(self, option: std.TestOption) -> Any:
        value = option.default
        if isinstance(value, std.FromConfig):
            return copy.deepcopy(self._single(value.section).get(value.option))
        if isinstance(value, std.FromDefaultWorkspace):
            ws = self._workspace(value.section, "")
            return ws[value.option] if ws else ""
        if value is std.DEFAULT_BROKER:
            return self._default_broker()
        if value is std.NOW:
            return format_ns(self.state.clock())
        return copy.deepcopy(value)

    def _defaults(self, service: std.Service) -> dict[str, Any]:
        return {o.name: self._default(o) for o in service.options}


    # ---- API ----

    def list_services(self, pattern: str) -> list[tuple[str, dict[str, Any]]]:
        """(name, default test options) of the services matching `pattern`, by name."""
        try:
            match = compile_glob(pattern or "*")
        except GlobSyntaxError as exc:
            raise BadRequest(f"bad pattern: {exc}") from None
        with self.state.lock:
            return [(n, self._defaults(self.services[n])) for n in sorted(self.services) if match(n)]

    def _lookup(self, name: str) -> std.Service:
        name = name.rstrip("/")
        if name == "":
            raise BadRequest("must provide service name")
        service = self.services.get(name)
        if service is None:
            raise NotFound(f"service {go_quote(name)} not found")
        return service

    def get(self, name: str) -> tuple[str, dict[str, Any]]:
        """(name, default test options) of one service."""
        service = self._lookup(name)
        with self.state.lock:
            return service.name, self._defaults(service)

    def run(self, name: str, body: bytes) -> str | None:
        """Run one service's test with the body's options over its defaults: None on success,
        else the failure's message."""
        service = self._lookup(name)
        with self.state.lock:
            options = self._defaults(service)
            options.update(self._decode(service, body))
            return self._test(service.name, options)

    @staticmethod
    def _decode(service: std.Service, body: bytes) -> dict[str, Any]:
        try:
            fields = {o.name: DECODERS[o.kind] for o in service.options}
            return gojson.decode_struct(body, "testOptions", fields, go_type=f"{service.package}.testOptions")
        except gojson.DecodeError as exc:
            raise BadRequest(f"failed to decode JSON body:{exc}") from None

    # ---- results ----

    def _test(self, name: str, o: dict[str, Any]) -> str | None:
        """The error the real test reports, or None for success."""
        if name == "influxdb":
            found = any(e["enabled"] and e["name"] == o["cluster"] for e in self._elements("influxdb"))
            return None if found else f"cluster {go_quote(o['cluster'])} is not enabled or does not exist"
        if name == "kafka":
            found = any(e["id"] == o["cluster"] for e in self._elements("kafka"))
            return None if found else f"unknown cluster {go_quote(o['cluster'])}"
        if name == "mqtt":  # services/mqtt Service.Alert: the topic is checked before the broker
            if not o.get("topic"):
                return "missing MQTT topic"
            broker = o["broker-name"] or self._default_broker()
            found = any(e["enabled"] and e["name"] == broker for e in self._elements("mqtt"))
            return None if found else f"unknown MQTT broker {go_quote(broker)}"
        if name in ("kubernetes", "swarm"):
            matches = [e for e in self._elements(name) if e["id"] == o["id"]]
            if not matches:
                return f"unknown {name} cluster {go_quote(o['id'])}"
            return None if matches[-1]["enabled"] else f"failed to get client: {_NOT_ENABLED}"
        if name in DISCOVERY:
            found = any(e["enabled"] and e["id"] == o["id"] for e in self._elements(name))
            return None if found else f"discoverer {go_quote(o['id'])} is not enabled or does not exist"
        if name == "scraper":
            return None
        if name == "httppost":
            return _httppost_result(o["url"])
        if name in ("slack", "discord"):
            if not self._elements(name):
                return f"no {name} configuration found"
            ws = self._workspace(name, o["workspace"])
            if ws is None:
                return "workspace id not found"
            return None if ws["enabled"] else _NOT_ENABLED
        if name == "alerta" and (o["resource"] == "" or o["event"] == ""):
            return "Resource and Event are required to send an alert"
        if name == "sensu" and not _SENSU_NAME.match(o["name"]):
            return f"invalid name {go_quote(o['name'])} for sensu alert. Must match ^[\\w\\.-]+$"
        if name == "opsgenie2":
            kind = o["message-type"]
            if kind != "RECOVERY" and parse_level(kind.upper()) is None:
                return f"unknown alert level '{kind.upper()}'"
        config = self._single(name)
        if not config.get("enabled"):
            return f"failed to prepare API request: {_NOT_ENABLED}" if name == "opsgenie2" else _NOT_ENABLED
        return _after_enabled(name, o, config)


def _after_enabled(name: str, o: dict[str, Any], config: dict[str, Any]) -> str | None:
    """Checks an enabled service makes locally before it would send anything."""
    if name == "smtp" and not (o["to"] or config["to"]):
        return "not sending email, no recipients defined"
    if name == "telegram":
        mode = o["parse-mode"] or config["parse-mode"]
        if mode and mode.lower() not in ("markdown", "html"):
            return f"parseMode {mode} is not valid, please use 'Markdown' or 'HTML'"
    if name == "snmptrap":
        unsupported = {
            "a": "IP address",
            "d": "Decimal string",
            "o": "Object ID",
            "u": "Unsigned integer",
            "x": "Hexadecimal string",
        }
        for data in o["data-list"] or ():
            kind = data["type"]
            if kind in unsupported:
                return f"Snmptrap Datatype '{unsupported[kind]}' not supported"
            if kind in ("c", "i", "t") and not re.fullmatch(r"[+-]?[0-9]+", data["value"]):
                return f"strconv.ParseInt: parsing {go_quote(data['value'])}: invalid syntax"
            if kind not in ("c", "i", "t", "n", "s"):
                return f"Snmptrap Datatype not known: {kind}"
    return None


def _httppost_result(url: str) -> str:
    """httppost posts to the given URL whatever the configuration; nothing listens in the mock."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"failed to POST alert data: Post {go_quote(url)}: unsupported protocol scheme {go_quote(parts.scheme)}"
    host = parts.hostname or ""
    if host == "localhost":
        host = "127.0.0.1"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 80
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"failed to POST alert data: Post {go_quote(url)}: dial tcp {address}: connect: connection refused"
