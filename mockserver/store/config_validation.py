"""The `Validate()` methods of each config section, as the override code calls them after applying
an update: their messages reach clients as `failed validation: <msg>`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from mockserver.gotext import go_quote
from mockserver.gotime import go_duration
from mockserver.store import config_sections as cs
from mockserver.store.config_values import go_value_text
from mockserver.store.gonet import go_url_error, mail_address_error
from spec.ids import is_valid_id

Validator = Callable[[dict[str, Any], bool], "str | None"]


def _url_wrap(url: str, label: str = "invalid url", *, request_uri: bool = False) -> str | None:
    err = go_url_error(url, request_uri=request_uri)
    return f"{label} {go_quote(url)}: {err}" if err else None


def _v_enabled_url(option: str, missing: str, label: str = "invalid url") -> Validator:
    def check(e: dict[str, Any], legacy: bool) -> str | None:
        if e["enabled"] and e[option] == "":
            return missing
        return _url_wrap(e[option], label)

    return check


def _v_required_url(label: str = "invalid URL") -> Validator:
    def check(e: dict[str, Any], legacy: bool) -> str | None:
        if e["url"] == "":
            return "url cannot be empty"
        return _url_wrap(e["url"], label)

    return check


#: How much of a certificate file is read to look for PEM data (Go reads it whole).
_PEM_READ_LIMIT = 1 << 20


def _go_file_error(op: str, path: str, exc: OSError) -> str:
    """An *os.PathError's text: `open x: no such file or directory` (Go's errno strings are lower case)."""
    text = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"{op} {path}: {text[:1].lower()}{text[1:]}"


def _read_pem_file(path: str) -> tuple[bytes | None, str | None]:
    """os.ReadFile, bounded: the bytes read, or the Go error text."""
    try:
        with open(path, "rb") as fh:
            try:
                return fh.read(_PEM_READ_LIMIT), None
            except OSError as exc:
                return None, _go_file_error("read", path, exc)
    except IsADirectoryError as exc:  # Go opens a directory and fails to read it
        return None, _go_file_error("read", path, exc)
    except OSError as exc:
        return None, _go_file_error("open", path, exc)


def tls_config_error(ca: str, cert: str, key: str) -> str | None:
    """The InfluxDB service's getTLSConfig, as its Validate() runs it for every URL: the client key
    pair must come together and load, the CA file must be readable (its content is not judged).
    Files are looked up on the mock's own machine, as a server looks them up on its own."""
    if cert and key:
        for path, what in ((cert, "certificate"), (key, "key")):
            data, err = _read_pem_file(path)
            if err is None and data is not None and b"-----BEGIN" not in data:
                err = f"tls: failed to find any PEM data in {what} input"
            if err is not None:
                return f"Could not load TLS client key/certificate: {err}"
    elif cert:
        return "Must provide both key and cert files: only cert file provided."
    elif key:
        return "Must provide both key and cert files: only key file provided."
    if ca:
        _, err = _read_pem_file(ca)
        if err is not None:
            return f"Could not load TLS CA: {err}"
    return None


def _v_influxdb(e: dict[str, Any], legacy: bool) -> str | None:
    if e["name"] == "":
        return "influxdb cluster must be given a name"
    if not is_valid_id(e["name"]):
        return "influxdb cluster name must contain only numbers, letters or '.', '-', and '_' characters"
    if not e["urls"]:
        return "must specify at least one InfluxDB URL"
    for url in e["urls"]:
        err = go_url_error(url)
        if err:
            return err
        err = tls_config_error(e.get("ssl-ca", ""), e.get("ssl-cert", ""), e.get("ssl-key", ""))
        if err:
            return err
    if e["subscription-protocol"] not in ("http", "https", "udp"):
        return (
            "invalid subscription protocol, must be one of 'udp', 'http' or 'https', "
            f"got {go_quote(e['subscription-protocol'])}: {_struct_text(e, 'influxdb', legacy)}"
        )
    if e.get("compression", "gzip") not in ("gzip", "none"):  # no such option before 1.5.8
        return f"Invalid compression, must be one of 'gzip' or 'none', got {e['compression']}"
    return None


def _struct_text(e: dict[str, Any], section: str, legacy: bool) -> str:
    """`%v` of a config struct (field values in order, durations via their String method)."""
    parts = []
    for opt in sections_for_legacy(legacy)[section].options:
        if opt.name not in e:
            continue  # a field the imitated patch release does not have yet
        value = e[opt.name]
        if opt.kind == cs.DURATION:
            parts.append(go_duration(value))
        elif opt.kind in (cs.STRINGS, cs.STRINGS_MAP, cs.STRING_MAP, cs.URL_VALUES):
            parts.append(go_value_text(value if value is not None else ([] if opt.kind == cs.STRINGS else {})))
        else:
            parts.append(go_value_text(value))
    return "{" + " ".join(parts) + "}"


def sections_for_legacy(legacy: bool) -> dict[str, cs.Section]:
    return cs.sections_for("1.5.9" if legacy else "1.8.3")


def _v_bigpanda(e: dict[str, Any], legacy: bool) -> str | None:
    if e["enabled"] and e["url"] == "":
        return "must specify the BigPanda webhook URL"
    if e["enabled"] and e["app-key"] == "":
        return "must specify BigPanda app-key"
    err = _url_wrap(e["url"])
    if err:
        return err
    if e["enabled"] and e["token"] == "":
        return "must specify BigPanda token"
    return None


def _v_discord(e: dict[str, Any], legacy: bool) -> str | None:
    if e["enabled"] and e["url"] == "":
        return "Must specify the Discord channel webhook URL"
    err = _url_wrap(e["url"])
    if err:
        return err
    if e["avatar-url"]:
        return _url_wrap(e["avatar-url"])
    return None


def _v_kafka(e: dict[str, Any], legacy: bool) -> str | None:
    if not e["enabled"]:
        return None
    if e["id"] == "":
        return "id must not be empty"
    if not e["brokers"]:
        return "no brokers specified, must provide at least one broker URL"
    if legacy:
        return None
    return _v_sasl(e["SASLAuth"])


def _v_sasl(s: dict[str, Any]) -> str | None:
    mechanism = s["SASLMechanism"]
    if mechanism in ("", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "PLAIN"):
        return None
    if mechanism != "OAUTHBEARER":
        return "invalid sasl-mechanism"
    if s["SASLAccessToken"] and (s["SASLOAUTHService"] or s["SASLOAUTHTokenURL"]):
        return "cannot set 'sasl-access-token' with 'sasl-oauth-service' and 'sasl-oauth-token-url'"
    if not s["SASLOAUTHClientID"] or not s["SASLOAUTHClientSecret"]:
        return "'sasl-oauth-client-id' and 'sasl-oauth-client-secret' are required"
    service = s["SASLOAUTHService"].lower()
    if service in ("", "custom"):
        if not s["SASLOAUTHTokenURL"]:
            return "'sasl-oauth-token-url' required for custom service"
    elif service == "auth0":
        if not s["SASLOAUTHTokenURL"]:
            return "'sasl-oauth-token-url' required for Auth0"
        if not (s["SASLOAUTHParams"] or {}).get("audience"):
            return "'audience' parameter is required for Auth0"
    elif service == "azuread":
        if not s["SASLOAUTHTenant"]:
            return "'sasl-oauth-tenant-id' required for AzureAD"
        if s["SASLOAUTHTokenURL"]:
            service_name: str = s["SASLOAUTHService"]
            return "'sasl-oauth-token-url' cannot be set for service " + service_name
    else:
        service_name = s["SASLOAUTHService"]
        return "service " + service_name + " not supported"
    return None


def _v_mqtt(e: dict[str, Any], legacy: bool) -> str | None:
    if e["name"] == "":
        return "must specify a name for the mqtt broker"
    if e["enabled"] and e["url"] == "":
        return "must specify a url for mqtt service"
    return None


def _v_opsgenie(e: dict[str, Any], legacy: bool) -> str | None:
    if e["url"] == "":
        return "url cannot be empty"
    if e["recovery_url"] == "":
        return "recovery_url cannot be empty"
    err = _url_wrap(e["url"], "invalid URL")
    if err:
        return err
    if go_url_error(e["recovery_url"]):
        return f"invalid recovery_url {go_quote(e['url'])}: {go_url_error(e['recovery_url'])}"
    if e["enabled"] and e["api-key"] == "":
        return "api-key cannot be empty"
    return None


def _v_opsgenie2(e: dict[str, Any], legacy: bool) -> str | None:
    if e["url"] == "":
        return "url cannot be empty"
    if e["recovery_action"] == "":
        return "recovery_action cannot be empty"
    err = _url_wrap(e["url"], "invalid URL")
    if err:
        return err
    if e["enabled"] and e["api-key"] == "":
        return "api-key cannot be empty"
    return None


def _v_pushover(e: dict[str, Any], legacy: bool) -> str | None:
    if not e["enabled"]:
        return None
    if e["token"] == "":
        return "must specify token"
    if e["user-key"] == "":
        return "must specify user key"
    if e["url"] == "":
        return "must specify url"
    return _url_wrap(e["url"], "invalid URL")


def _v_httppost(e: dict[str, Any], legacy: bool) -> str | None:
    if e["endpoint"] == "":
        return "must specify endpoint name"
    if e["url"] == "":
        return "must specify url"
    if "{{" not in e["url"]:
        err = _url_wrap(e["url"], "invalid URL")
        if err:
            return err
    for kind in ("alert", "row"):
        inline, path = e[f"{kind}-template"], e[f"{kind}-template-file"]
        if inline and path:
            return f"must specify only one of {kind}-template and {kind}-template-file"
        if path and not path.startswith("/"):
            return f"must use an absolute path for {kind}-template-file"
    return None


def _v_smtp(e: dict[str, Any], legacy: bool) -> str | None:
    if e["host"] == "":
        return "host cannot be empty"
    if e["port"] <= 0:
        return f"invalid port {e['port']}"
    if e["idle-timeout"] < 0:
        return "idle timeout must be positive"
    if e["enabled"] and e["from"] == "":
        return "must provide a 'from' address"
    if legacy:
        if e["from"] and "@" not in e["from"]:
            return f"invalid from email address: {go_quote(e['from'])}"
        for to in e["to"] or ():
            if "@" not in to:
                return f"invalid to email address: {go_quote(to)}"
        return None
    if e["from"]:
        err = mail_address_error(e["from"])
        if err:
            return f"invalid from email address: {go_quote(e['from'])}, {err}"
    for to in e["to"] or ():
        err = mail_address_error(to)
        if err:
            return f"invalid to email address: {go_quote(to)}, {err}"
    return None


def _v_enabled_requires(option: str, message: str) -> Validator:
    def check(e: dict[str, Any], legacy: bool) -> str | None:
        return message if e["enabled"] and e[option] == "" else None

    return check


def _v_telegram(e: dict[str, Any], legacy: bool) -> str | None:
    if e["enabled"]:
        if e["url"] == "":
            return "must specify url"
        if e["token"] == "":
            return "must specify token"
    return _url_wrap(e["url"])


def _v_zenoss(e: dict[str, Any], legacy: bool) -> str | None:
    if e["enabled"] and e["url"] == "":
        return "must specify events URL"
    err = _url_wrap(e["url"], request_uri=True)
    if err:
        return err
    if any(e["severity-map"].get(k) is None for k in cs.SEVERITY_KEYS):
        return "invalid severity mapping"
    return None


def _v_id(message: str) -> Validator:
    def check(e: dict[str, Any], legacy: bool) -> str | None:
        return message if e["id"] == "" else None

    return check


def _v_paths(id_message: str, path_message: str) -> Validator:
    def check(e: dict[str, Any], legacy: bool) -> str | None:
        if e["id"] == "":
            return id_message
        for path in e["paths"] or ():
            if not path.startswith("/"):
                return f"{path_message}: {path}"
        return None

    return check


def _v_consul(e: dict[str, Any], legacy: bool) -> str | None:
    if e["id"] == "":
        return "consul discovery must be given a ID"
    if e["address"].strip() == "":
        return "consul discovery requires a server address"
    return None


def _v_dns(e: dict[str, Any], legacy: bool) -> str | None:
    if e["id"] == "":
        return "dns discovery must be given a ID"
    kind = e["type"].upper()
    if kind == "SRV":
        return None
    if kind in ("A", "AAAA"):
        return f"Port required for dns discovery type {e['type']}" if e["port"] == 0 else None
    return f"invalid dns discovery records type {e['type']}"


def _v_ec2(e: dict[str, Any], legacy: bool) -> str | None:
    if e["id"] == "":
        return "ec2 discovery must be given a ID"
    if e["region"] == "":
        return f"ec2 discovery, {e['id']}, requires a region"
    return None


_FILE_RE = re.compile(r"[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)\Z")


def _v_file(e: dict[str, Any], legacy: bool) -> str | None:
    if e["id"] == "":
        return "file discovery must be given a ID"
    for name in e["files"] or ():
        if not _FILE_RE.match(name):
            return f"path name {go_quote(name)} is not valid for file discovery"
    return None


def _v_kubernetes(e: dict[str, Any], legacy: bool) -> str | None:
    if not e["enabled"]:
        return None
    if e["in-cluster"]:
        for option, label in (
            ("api-servers", "api-servers"),
            ("token", "token"),
            ("ca-path", "ca-path"),
            ("namespace", "namespace"),
        ):
            if e[option]:
                return f"in-cluster specified, cannot also specify {label}"
    elif not e["api-servers"]:
        return "no api-servers specified, must provide at least one server URL"
    else:
        for server in e["api-servers"]:
            err = go_url_error(server)
            if err:
                return err
    if e["resource"] and e["resource"] not in ("node", "pod", "service", "endpoint"):
        return "Resource must be one of node, pod, service, or endpoints"
    return None


def _v_swarm(e: dict[str, Any], legacy: bool) -> str | None:
    if e["enabled"] and not e["servers"]:
        return "no api-servers specified, must provide at least one server URL"
    return None


#: Element validators, for Go types whose Validate has a value receiver (scraper's has a pointer
#: receiver, so the override code never calls it).
ELEMENT_VALIDATORS: dict[str, Validator] = {
    "influxdb": _v_influxdb,
    "alerta": _v_enabled_url("url", "must specify url"),
    "bigpanda": _v_bigpanda,
    "discord": _v_discord,
    "hipchat": _v_enabled_url("url", "must specify url"),
    "kafka": _v_kafka,
    "mqtt": _v_mqtt,
    "opsgenie": _v_opsgenie,
    "opsgenie2": _v_opsgenie2,
    "pagerduty": _v_required_url(),
    "pagerduty2": _v_required_url(),
    "pushover": _v_pushover,
    "httppost": _v_httppost,
    "smtp": _v_smtp,
    "snmptrap": _v_enabled_requires("addr", "must specify addr"),
    "sensu": _v_enabled_requires("addr", "must specify client address"),
    "servicenow": _v_enabled_url("url", "must specify events URL"),
    "slack": _v_enabled_url("url", "must specify url"),
    "talk": _v_enabled_url("url", "must specify url"),
    "teams": _v_enabled_url("channel-url", "must specify Teams channel webhook URL"),
    "telegram": _v_telegram,
    "victorops": _v_required_url(),
    "zenoss": _v_zenoss,
    "azure": _v_id("azure discovery must be given a ID"),
    "consul": _v_consul,
    "dns": _v_dns,
    "ec2": _v_ec2,
    "file-discovery": _v_file,
    "gce": _v_id("gce discovery must be given a ID"),
    "marathon": _v_id("marathon discovery must be given an ID"),
    "nerve": _v_paths("nerve discovery must be given a ID", "nerve discovery paths must begin with '/'"),
    "serverset": _v_paths(
        "server set discovery must be given a ID", "serverset discovery config paths must begin with '/'"
    ),
    "static-discovery": _v_id("static discovery must be given a ID"),
    "triton": _v_id("triton discovery must be given an ID"),
    "kubernetes": _v_kubernetes,
    "swarm": _v_swarm,
}


def _v_workspaces(label: str) -> Callable[[list[dict[str, Any]], bool], str | None]:
    def check(elements: list[dict[str, Any]], legacy: bool) -> str | None:
        has_default = len(elements) == 1
        element_check = ELEMENT_VALIDATORS["discord" if label == "Discord" else "slack"]
        for e in elements:
            err = element_check(e, legacy)
            if err:
                return err
            if len(elements) > 1 and e["workspace"] == "":
                return "id must not be empty"
            has_default = has_default or e["default"]
            if e["global"] and not e["default"]:
                return "only the default config may be assigned as global"
            if e["state-changes-only"] and (not e["default"] or not e["global"]):
                return "stateChangesOnly may only be assigned when the config is both default and global"
        if elements and not has_default:
            return f"at least one {label} config must be set as default"
        return None

    return check


def _v_each(section: str) -> Callable[[list[dict[str, Any]], bool], str | None]:
    def check(elements: list[dict[str, Any]], legacy: bool) -> str | None:
        for e in elements:
            err = ELEMENT_VALIDATORS[section](e, legacy)
            if err:
                return err
        return None

    return check


def _v_mqtt_list(elements: list[dict[str, Any]], legacy: bool) -> str | None:
    defaults = 0
    for e in elements:
        defaults += bool(e["default"])
        err = _v_mqtt(e, legacy)
        if err:
            return err
    if defaults > 1:
        return "more than one configuration is marked as the default"
    if defaults == 0 and len(elements) > 1:
        return "no configuration is marked as the default"
    return None


def _v_kubernetes_list(elements: list[dict[str, Any]], legacy: bool) -> str | None:
    for e in elements:
        err = _v_kubernetes(e, legacy)
        if err:
            return err
        if len(elements) > 1 and e["id"] == "":
            return "id must not be empty"
    return None


#: Validators of the named list types (`slack.Configs` ...); plain slices have none.
LIST_VALIDATORS: dict[str, Callable[[list[dict[str, Any]], bool], str | None]] = {
    "discord.Configs": _v_workspaces("Discord"),
    "slack.Configs": _v_workspaces("Slack"),
    "kafka.Configs": _v_each("kafka"),
    "mqtt.Configs": _v_mqtt_list,
    "httppost.Configs": _v_each("httppost"),
    "k8s.Configs": _v_kubernetes_list,
    "swarm.Configs": _v_each("swarm"),
}
