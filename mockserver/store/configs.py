"""Config overrides: the real server's sections, how overrides are applied, validated and shown.

The real server keeps one stored override per `<section>/<element>` ID and, on every GET and every
update, re-applies *all* stored overrides (in ID order, the one being changed last if it is new)
to a copy of the file configuration, converting each JSON value into the Go field the way its
reflection-based override code does. Values it reads back from storage are `json.Number`s, not
float64s, so a number that converted fine when it was set can fail later (a fractional `port` is
truncated when set, then no longer parses as an integer): that poisons every later GET (500) and
update (400), exactly as on the real server. The mock keeps that model, so every message it
returns is the one the same sequence of requests gets from Kapacitor.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mockserver.errors import BadRequest, NotFound, ServerError
from mockserver.gotext import go_quote
from mockserver.gotime import go_duration
from mockserver.gotime import parse_go_duration as _parse_go_duration
from mockserver.render import BASE, go_path_join
from mockserver.store import config_sections as cs
from spec.ids import is_valid_id

CONFIG_BASE = BASE + "/config"
_VALID_NAME = re.compile(r"[-A-Za-z0-9_+]+\Z")


# ---- Go value helpers ------------------------------------------------------------------------------


class StoredNumber(str):
    """A JSON number read back from the override store (Go `json.Number`: a string type)."""

    __slots__ = ()


def go_float_text(value: float) -> str:
    """How Go's encoding/json writes a float64."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = repr(value)
        mantissa, _, exp = text.partition("e")
        sign = exp[0] if exp[:1] in "+-" else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        if len(digits) < 2 and sign == "+":
            digits = digits.zfill(2)
        return f"{mantissa}e{sign}{digits}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def float_to_int64(value: float) -> int:
    """Go's float64 → int conversion on amd64: truncation; out of range or NaN gives MinInt64."""
    if math.isnan(value) or not -(2**63) <= value < 2**63:
        return -(2**63)
    return int(value)


def go_type_name(value: Any) -> str:
    """`%T` of a value decoded into `interface{}` (numbers are float64, stored ones json.Number)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, StoredNumber):
        return "json.Number"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def _go_kind(value: Any) -> str:
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, list):
        return "slice"
    return "map"


def parse_go_duration(text: str) -> int | None:
    """Go's `time.ParseDuration`; None where Go returns an error."""
    try:
        return _parse_go_duration(text)
    except ValueError:
        return None


# ---- net/url and net/mail subsets (validation messages) ---------------------------------------------

_HEX = frozenset("0123456789abcdefABCDEF")
_HOST_OK = frozenset("!$&'()*+,;=:[]<>\"-_.~")


def go_url_error(raw: str, *, request_uri: bool = False) -> str | None:
    """The text of Go's `url.Parse` (or `url.ParseRequestURI`) error for `raw`, or None."""
    if request_uri:
        err = _url_parse(raw, True)
        return f"parse {go_quote(raw)}: {err}" if err else None
    head, hash_sign, fragment = raw.partition("#")
    err = _url_parse(head, False)
    if err:
        return f"parse {go_quote(head)}: {err}"
    if hash_sign:
        err = _unescape_error(fragment, host=False)
        if err:
            return f"parse {go_quote(raw)}: {err}"
    return None


def _url_parse(raw: str, via_request: bool) -> str | None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "net/url: invalid control character in URL"
    if raw == "" and via_request:
        return "empty url"
    if raw == "*":
        return None
    scheme, rest = "", raw
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                return "missing protocol scheme"
            scheme, rest = raw[:i], raw[i + 1 :]
        break
    rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        if scheme:
            return None
        if via_request:
            return "invalid URI for request"
        if ":" in rest.partition("/")[0]:
            return "first path segment in URL cannot contain colon"
    if (scheme or (not via_request and not rest.startswith("///"))) and rest.startswith("//"):
        authority = rest[2:]
        slash = authority.find("/")
        if slash >= 0:
            authority, rest = authority[:slash], authority[slash:]
        else:
            rest = ""
        err = _authority_error(authority)
        if err:
            return err
    return _unescape_error(rest, host=False)


def _authority_error(authority: str) -> str | None:
    at = authority.rfind("@")
    host = authority[at + 1 :] if at >= 0 else authority
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            return "missing ']' in host"
        port = host[end + 1 :]
        if not _valid_port(port):
            return f"invalid port {go_quote(port)} after host"
    else:
        colon = host.rfind(":")
        if colon != -1 and not _valid_port(host[colon:]):
            return f"invalid port {go_quote(host[colon:])} after host"
    err = _unescape_error(host, host=True)
    if err:
        return err
    if at >= 0:
        userinfo = authority[:at]
        if any(not (c.isascii() and c.isalnum()) and c not in "-._:~!$&'()*+,;=%@" for c in userinfo):
            return "net/url: invalid userinfo"
        return _unescape_error(userinfo, host=False)
    return None


def _valid_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and all("0" <= c <= "9" for c in port[1:]))


def _unescape_error(text: str, *, host: bool) -> str | None:
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            chunk = text[i : i + 3]
            if len(chunk) < 3 or chunk[1] not in _HEX or chunk[2] not in _HEX:
                return f"invalid URL escape {go_quote(chunk)}"
            if host and int(chunk[1], 16) < 8 and chunk != "%25":
                return f"invalid URL escape {go_quote(chunk)}"
            i += 3
            continue
        if host and ord(c) < 0x80 and not c.isalnum() and c not in _HOST_OK:
            return f"invalid character {go_quote(c)} in host name"
        i += 1
    return None


def mail_address_error(address: str) -> str | None:
    """A subset of Go's `mail.ParseAddress` errors (enough for an obviously bad address)."""
    text = address.strip()
    if not text:
        return "mail: no address"
    if "<" in text:
        inner = text[text.index("<") + 1 :]
        if ">" not in inner:
            return "mail: unclosed angle-addr"
        text = inner[: inner.index(">")]
    if "@" not in text:
        return "mail: missing '@' or angle-addr"
    local, _, domain = text.rpartition("@")
    if not local:
        return "mail: invalid string"
    if not domain:
        return "mail: no domain in addr-spec"
    return None


# ---- value conversion (the server's weakCopyValue) ------------------------------------------------


class ConversionError(Exception):
    pass


_ZERO_VALUE_TYPE = "reflect: call of reflect.Value.Type on zero Value"


def convert(kind: str, current: Any, src: Any) -> Any:
    """Convert a JSON value into an option of `kind`, as the server's override code does."""
    src_kind = _go_kind(src)
    dst_kind = cs.GO_KIND[kind]
    if src_kind == dst_kind:
        if dst_kind == "map":
            elem = cs.ELEMENT_KIND[kind]
            out = {}
            for key, item in src.items():
                try:
                    out[key] = convert(elem, cs.zero_value(elem), item)
                except ConversionError as exc:
                    raise ConversionError(f"failed to copy map value: {exc}") from None
            return out
        if dst_kind == "slice":
            elem = cs.ELEMENT_KIND[kind]
            out_list = []
            for item in src:
                try:
                    out_list.append(convert(elem, cs.zero_value(elem), item))
                except ConversionError as exc:
                    raise ConversionError(f"failed to copy slice value: {exc}") from None
            return out_list
        if isinstance(src, StoredNumber):
            raise ConversionError("cannot copy mismatched types got json.Number exp string")
        return src
    if dst_kind == "ptr":
        # The nil pointer has no addressable target: reflect panics, the server reports the panic.
        raise ConversionError(_ZERO_VALUE_TYPE)
    if kind in cs.TEXT_KINDS:
        if src_kind == "invalid":
            raise ConversionError(_ZERO_VALUE_TYPE)
        if src_kind != "string":
            raise ConversionError(f"cannot unmarshal {src_kind} into {dst_kind}")
        return _unmarshal_text(kind, current, str(src))
    if dst_kind in ("int", "int64"):
        if src_kind == "float64":
            return float_to_int64(float(src))
        if src_kind == "invalid":
            raise ConversionError(_ZERO_VALUE_TYPE)
        if src_kind == "string":
            text = str(src)
            if re.fullmatch(r"[+-]?[0-9]+", text) and -(2**63) <= int(text) < 2**63:
                return int(text)
            raise ConversionError(f"cannot convert string {go_quote(text)} into {dst_kind}")
        raise ConversionError(f"cannot convert {src_kind} into {dst_kind}")
    if dst_kind == "struct" and src_kind == "map":
        if kind == cs.SEVERITY_MAP:
            return _severity_map(current, src)
        return _map_structure(kind, current, src)
    raise ConversionError(f"wrong kind {src_kind}, expected value of kind {dst_kind}: false")


def _unmarshal_text(kind: str, current: Any, text: str) -> Any:
    """Text-unmarshalled options; the server ignores their errors, keeping the current value."""
    if kind == cs.DURATION:
        if text == "":
            return current
        parsed = parse_go_duration(text)
        return current if parsed is None else parsed
    if text in cs.SUBSCRIPTION_MODES:
        return cs.SUBSCRIPTION_MODES.index(text)
    return current


def _severity_map(current: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for key, value in src.items():
        if key not in cs.SEVERITY_KEYS:
            raise ConversionError(f"Unknown field {key} for SeverityMap")
        out[key] = value
    return out


def _go_value_text(value: Any) -> str:
    """`%v` of a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StoredNumber):
        return str(value)
    if isinstance(value, (int, float)):
        return go_float_text(float(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _map_structure(kind: str, current: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    """mapstructure decoding into a struct option (field names matched case-insensitively)."""
    if kind == cs.BASIC_AUTH:
        fields = [(go_name, json_name, cs.STRING) for go_name, json_name in cs.BASIC_AUTH_FIELDS]
        type_name = "*httppost.BasicAuth"
    else:
        fields = [(go_name, go_name, k) for go_name, k in cs.SASL_FIELDS]
        type_name = "*kafka.SASLAuth"
    out = dict(current)
    errors: list[str] = []
    matched: set[str] = set()
    for go_name, key, field_kind in fields:
        found = [k for k in src if k.lower() == go_name.lower()]
        if not found:
            continue
        matched.update(found)
        value = src[found[-1]]
        if value is None:
            continue
        converted, error = _map_field(go_name, field_kind, value)
        if error:
            errors.append(error)
        else:
            out[key] = converted
    unused = sorted(k for k in src if k not in matched)
    if unused:
        errors.append(f"'' has invalid keys: {', '.join(unused)}")
    if errors:
        points = "\n".join(sorted(f"* {e}" for e in errors))
        raise ConversionError(
            f"failed to decode options into {type_name}: {len(errors)} error(s) decoding:\n\n{points}"
        )
    return out


def _map_field(name: str, kind: str, value: Any) -> tuple[Any, str | None]:
    def bad(expected: str) -> tuple[Any, str]:
        return None, (
            f"'{name}' expected type '{expected}', got unconvertible type '{go_type_name(value)}', "
            f"value: '{_go_value_text(value)}'"
        )

    if kind == cs.STRING:
        return (str(value), None) if isinstance(value, str) else bad("string")
    if kind == cs.BOOL:
        return (value, None) if isinstance(value, bool) else bad("bool")
    if kind in ("*int", "time.Duration"):
        if isinstance(value, bool):
            return bad("int" if kind == "*int" else "time.Duration")
        if isinstance(value, (int, float)) and not isinstance(value, StoredNumber):
            return float_to_int64(float(value)), None
        if isinstance(value, str) and kind == "time.Duration" and not isinstance(value, StoredNumber):
            parsed = parse_go_duration(value)
            if parsed is None:
                return None, f"error decoding '{name}': time: invalid duration {go_quote(value)}"
            return parsed, None
        if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value):
            return int(value), None
        return bad("int" if kind == "*int" else "time.Duration")
    if kind == cs.STRINGS:
        if not isinstance(value, list):
            return bad("[]string")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                return None, (
                    f"'{name}[{i}]' expected type 'string', got unconvertible type '{go_type_name(item)}', "
                    f"value: '{_go_value_text(item)}'"
                )
        return [str(v) for v in value], None
    if kind == cs.STRING_MAP:
        if not isinstance(value, dict):
            return bad("map[string]string")
        for key, item in value.items():
            if not isinstance(item, str):
                return None, (
                    f"'{name}[{key}]' expected type 'string', got unconvertible type '{go_type_name(item)}', "
                    f"value: '{_go_value_text(item)}'"
                )
        return {k: str(v) for k, v in value.items()}, None
    return value, None


# ---- validation (the Validate() methods the override code calls) -----------------------------------

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
    if e["subscription-protocol"] not in ("http", "https", "udp"):
        return (
            "invalid subscription protocol, must be one of 'udp', 'http' or 'https', "
            f"got {go_quote(e['subscription-protocol'])}: {_struct_text(e, 'influxdb', legacy)}"
        )
    if e["compression"] not in ("gzip", "none"):
        return f"Invalid compression, must be one of 'gzip' or 'none', got {e['compression']}"
    return None


def _struct_text(e: dict[str, Any], section: str, legacy: bool) -> str:
    """`%v` of a config struct (field values in order, durations via their String method)."""
    parts = []
    for opt in sections_for_legacy(legacy)[section].options:
        value = e[opt.name]
        if opt.kind == cs.DURATION:
            parts.append(go_duration(value))
        elif opt.kind in (cs.STRINGS, cs.STRINGS_MAP, cs.STRING_MAP, cs.URL_VALUES):
            parts.append(_go_value_text(value if value is not None else ([] if opt.kind == cs.STRINGS else {})))
        else:
            parts.append(_go_value_text(value))
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
            return "'sasl-oauth-token-url' cannot be set for service " + s["SASLOAUTHService"]
    else:
        return "service " + s["SASLOAUTHService"] + " not supported"
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


# ---- overrides ---------------------------------------------------------------------------------------


@dataclass
class Override:
    id: str
    options: dict[str, Any]
    create: bool = False


class ApplyError(Exception):
    """An error of the override engine; `str()` is the server's complete message."""


def to_stored(value: Any) -> Any:
    """What a value looks like once the server has saved it and read it back (numbers → json.Number)."""
    if isinstance(value, bool) or value is None or isinstance(value, StoredNumber):
        return value
    if isinstance(value, int):
        return StoredNumber(str(value))
    if isinstance(value, float):
        return StoredNumber(go_float_text(value))
    if isinstance(value, list):
        return [to_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: to_stored(v) for k, v in value.items()}
    return value


def to_float(value: Any) -> Any:
    """A freshly decoded JSON value as Go sees it in `interface{}`: every number is a float64."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [to_float(v) for v in value]
    if isinstance(value, dict):
        return {k: to_float(v) for k, v in value.items()}
    return value


def _from_stored(value: Any) -> Any:
    """JSON-able form of a stored value (json.Number written back as a number)."""
    if isinstance(value, StoredNumber):
        text = str(value)
        return int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)
    if isinstance(value, list):
        return [_from_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_stored(v) for k, v in value.items()}
    return value


def render_value(value: Any) -> Any:
    """A Go-side value as encoding/json writes it (json.Number as its literal, 1.0 as 1)."""
    if isinstance(value, StoredNumber):
        text = str(value)
        try:
            return int(text)
        except ValueError:
            number = float(text)
            return int(number) if number.is_integer() and abs(number) < 1e21 else number
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, list):
        return [render_value(v) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v) for k, v in value.items()}
    return value


def _is_zero(kind: str, value: Any) -> bool:
    if kind == cs.BASIC_AUTH:
        return not value["username"] and not value["password"]
    return value in (None, "", 0, False) and not isinstance(value, list | dict)


def render_option(option: cs.Option, value: Any) -> Any:
    if option.kind == cs.DURATION:
        return go_duration(value)
    if option.kind == cs.SUBSCRIPTION_MODE:
        return cs.SUBSCRIPTION_MODES[value]
    return render_value(value)


class ConfigStore:
    """Stored overrides plus the file configuration they apply to (see the module docstring)."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._overrides: dict[str, Override] = {}
        self._generation = 0
        self._cached: tuple[int, dict[str, list[dict[str, Any]]] | ApplyError] | None = None
        # What each section's service was last given: the config of the last successful update,
        # which may differ from what stored overrides resolve to now (see the module docstring).
        self._services: dict[str, list[dict[str, Any]]] | None = None

    # ---- version-dependent facts ----

    @property
    def legacy(self) -> bool:
        return cs.is_legacy(self.state.config.kapacitor_version)

    @property
    def sections(self) -> dict[str, cs.Section]:
        return cs.sections_for(self.state.config.kapacitor_version)

    def split_id(self, ident: str) -> tuple[str, str]:
        """Section and element of `<section>/<element>`; 1.5 knew no more than two parts."""
        if self.legacy:
            parts = ident.split("/")
            if len(parts) == 1:
                return parts[0], ""
            if len(parts) == 2:
                return parts[0], parts[1]
            return "", ""
        section, _, element = ident.partition("/")
        return section, element

    @staticmethod
    def override_id(section: str, element: str) -> str:
        ident = go_path_join(section, element)
        return ident + "/" if element == "" else ident

    # ---- resolving ----

    def base(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [sec.build(e) for e in sec.elements] for name, sec in self.sections.items()}

    def resolve(self, overrides: list[Override]) -> dict[str, list[dict[str, Any]]]:
        """Apply `overrides` in order to a copy of the file config (the server's OverrideConfig)."""
        config = self.base()
        for ov in overrides:
            section, element = self.split_id(ov.id)
            if ov.create:
                element = ""
            try:
                self._apply(config, section, element, ov.options, ov.create)
            except ApplyError as exc:
                raise ApplyError(f"failed to override configuration {section}/{element}: {exc}") from None
        for name, elements in config.items():
            key = self.sections[name].element_key
            if key is None:
                continue
            seen: set[str] = set()
            for e in elements:
                if e[key] in seen:
                    raise ApplyError(
                        "failed to read sections from configuration object: "
                        f"section {go_quote(name)} has duplicate elements: {go_quote(e[key])}"
                    )
                seen.add(e[key])
        return config

    def _apply(
        self, config: dict[str, list[dict[str, Any]]], section: str, element: str, options: dict[str, Any], create: bool
    ) -> None:
        if section == "":
            raise ApplyError("invalid override: section cannot be empty")
        sec = self.sections.get(section)
        if sec is None:
            if options:
                raise ApplyError(f"unknown options [{' '.join(sorted(options))}] in section {section}")
            raise ApplyError(f"unknown section {section}")
        elements = config[section]
        key = sec.element_key
        used: set[str] = set()
        validate: dict[str, Any] | None
        if key is None:
            targets = list(elements) if element == "" else []
            validate = elements[0]
        else:
            if create:
                if key not in options:
                    raise ApplyError(f"element key {go_quote(key)} not present in options")
                name = options[key]
                if not isinstance(name, str) or isinstance(name, StoredNumber):
                    raise ApplyError(f"type of element key must be a string, got {go_type_name(name)} ")
                new = sec.build(sec.init)
                new[key] = name
                used.add(key)
                elements.append(new)
                element = name
            if element == "":
                targets, validate = list(elements), None
            else:
                targets = [e for e in elements if e[key] == element]
                validate = targets[-1] if targets else None
        for target in targets:
            for option in sec.options:
                name = option.name
                if name not in options:
                    name = name.lower()
                    if name not in options:
                        continue
                if not create and name == key:
                    raise ApplyError(f"cannot override element key {name}")
                try:
                    target[option.name] = convert(option.kind, target[option.name], options[name])
                except ConversionError as exc:
                    raise ApplyError(f"cannot set option {name}: {exc}") from None
                used.add(name)
        unused = sorted(k for k in options if k not in used)
        if unused:
            raise ApplyError(f"unknown options [{' '.join(unused)}] in section {section}")
        if validate is not None:
            check = ELEMENT_VALIDATORS.get(section)
            err = check(validate, self.legacy) if check else None
        else:
            list_check = LIST_VALIDATORS.get(sec.list_type or "")
            err = list_check(elements, self.legacy) if list_check else None
        if err:
            raise ApplyError(f"failed validation: {err}")

    def _stored_list(self) -> list[Override]:
        return [self._overrides[i] for i in sorted(self._overrides)]

    def current(self) -> dict[str, list[dict[str, Any]]]:
        """The resolved configuration; raises ApplyError when stored overrides no longer apply."""
        with self.state.lock:
            cached = self._cached
            if cached is None or cached[0] != self._generation:
                try:
                    result: dict[str, list[dict[str, Any]]] | ApplyError = self.resolve(self._stored_list())
                except ApplyError as exc:
                    result = exc
                cached = self._cached = (self._generation, result)
            if isinstance(cached[1], ApplyError):
                raise cached[1]
            return cached[1]

    def service_config(self, section: str) -> list[dict[str, Any]]:
        """The elements the section's service currently runs with (for service tests)."""
        with self.state.lock:
            if self._services is None:
                try:
                    self._services = copy.deepcopy(self.current())
                except ApplyError:
                    self._services = self.base()
            return self._services.get(section, [])

    # ---- rendering ----

    def _render_element(self, sec: cs.Section, element: dict[str, Any]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        redacted: list[str] = []
        for option in sec.options:
            value = element[option.name]
            if option.redact:
                options[option.name] = not _is_zero(option.kind, value)
                redacted.append(option.name)
            else:
                options[option.name] = render_option(option, value)
        ident = element[sec.element_key] if sec.element_key else ""
        href = go_path_join(CONFIG_BASE, sec.name, ident)
        if ident == "":
            href += "/"
        return {
            "link": {"rel": "self", "href": href},
            "options": {k: options[k] for k in sorted(options)},
            "redacted": redacted or None,
        }

    def _render_section(self, name: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
        sec = self.sections[name]
        key = sec.element_key
        ordered = sorted(elements, key=lambda e: e[key]) if key else elements
        return {
            "link": {"rel": "self", "href": go_path_join(CONFIG_BASE, name)},
            "elements": [self._render_element(sec, e) for e in ordered],
        }

    def _resolved_for_get(self) -> dict[str, list[dict[str, Any]]]:
        try:
            return self.current()
        except ApplyError as exc:
            raise ServerError(
                f"failed to resolve current config:failed to apply configuration overrides: {exc}"
            ) from None

    def get_config(self) -> dict[str, Any]:
        with self.state.lock:
            config = self._resolved_for_get()
            return {
                "link": {"rel": "self", "href": CONFIG_BASE},
                "sections": {name: self._render_section(name, config[name]) for name in sorted(config) if config[name]},
            }

    def check_resolvable(self) -> None:
        """The server resolves the config before it looks at the path (500 wins over 400)."""
        with self.state.lock:
            self._resolved_for_get()

    def get_section(self, section: str) -> dict[str, Any]:
        with self.state.lock:
            config = self._resolved_for_get()
            if not config.get(section):
                raise NotFound(f"unknown section: {section}")
            return self._render_section(section, config[section])

    def get_element(self, section: str, element: str) -> dict[str, Any]:
        with self.state.lock:
            config = self._resolved_for_get()
            if not config.get(section):
                raise NotFound(f"unknown section: {section}")
            sec = self.sections[section]
            key = sec.element_key
            ordered = sorted(config[section], key=lambda e: e[key]) if key else config[section]
            for e in ordered:
                if (key is None and element == "") or (key is not None and e[key] == element):
                    return self._render_element(sec, e)
            raise NotFound(f"unknown section/element: {section}/{element}")

    # ---- updating ----

    def update(self, section: str, element: str, has_element: bool, action: Mapping[str, Any]) -> None:
        """Apply one update action (decoded body) the way the server's handleUpdateSection does."""
        with self.state.lock:
            overrides, save = self._plan(section, element, has_element, action)
            try:
                config = self.resolve(overrides)
            except ApplyError as exc:
                raise BadRequest(str(exc)) from None
            services = self._services if self._services is not None else copy.deepcopy(self._last_good_or_base())
            services[section] = copy.deepcopy(config.get(section, []))
            self._services = services
            save()
            self._generation += 1

    def _last_good_or_base(self) -> dict[str, list[dict[str, Any]]]:
        try:
            return self.current()
        except ApplyError:
            return self.base()

    def _plan(
        self, section: str, element: str, has_element: bool, action: Mapping[str, Any]
    ) -> tuple[list[Override], Callable[[], None]]:
        set_ = to_float(action.get("set") or {})
        delete = action.get("delete") or []
        add = to_float(action.get("add") or {})
        remove = action.get("remove") or []
        err = self._validate_action(section, element, has_element, set_, delete, add, remove)
        if err:
            raise BadRequest(f"failed to apply update: invalid update action: {err}")
        stored = self._stored_list()
        if remove:
            removed = {self.override_id(section, name) for name in remove}

            def save_remove() -> None:
                for ident in removed:
                    self._overrides.pop(ident, None)

            return [o for o in stored if o.id not in removed], save_remove
        if add:
            key = {name: sec.element_key for name, sec in self.sections.items()}.get(section, "missing")
            if key == "missing":
                raise BadRequest(f"failed to apply update: unknown section {go_quote(section)}")
            if key is None:
                raise BadRequest(
                    f"failed to apply update: section {go_quote(section)} is not a list, cannot add new element"
                )
            if key not in add:
                raise BadRequest(f'failed to apply update: missing key {go_quote(key)} in "add" map')
            name = add[key]
            if not isinstance(name, str):
                raise BadRequest(
                    f"failed to apply update: expected {go_quote(key)} key to be a string, got {go_type_name(name)}"
                )
            element = name
        ident = self.override_id(section, element)
        existing = self._overrides.get(ident)
        if existing is not None and add:
            # The real server passes a nil save function here and panics (the connection drops
            # without a response); the stored overrides stay as they were.
            raise ServerError(f"cannot add new override, override already exists for {ident}")
        if add:
            target = Override(ident, dict(add), create=True)
        else:
            target = Override(ident, dict(existing.options) if existing else {}, existing.create if existing else False)
            target.options.update(set_)
            for name in delete:
                target.options.pop(name, None)
        plan = [target if o.id == ident else o for o in stored]
        if existing is None:
            plan.append(target)

        def save() -> None:
            self._overrides[ident] = Override(ident, to_stored(target.options), target.create)

        return plan, save

    @staticmethod
    def _validate_action(
        section: str, element: str, has_element: bool, set_: Any, delete: Any, add: Any, remove: Any
    ) -> str | None:
        if section == "":
            return "must provide section name"
        if not _VALID_NAME.match(section):
            return f"invalid section name {go_quote(section)}"
        if element != "" and not _VALID_NAME.match(element):
            return f"invalid element name {go_quote(element)}"
        if (set_ or delete) and (add or remove):
            return "cannot provide both set/delete and add/remove actions in the same update"
        if add and element != "":
            return "must not provide an element name when adding an a new override"
        if remove and element != "":
            return "must not provide element when removing an override"
        if not remove and not add and not has_element:
            return "element not specified, are you missing a trailing '/'?"
        return None

    # ---- backup ----

    def snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                "overrides": [
                    {"id": o.id, "options": _from_stored(o.options), "create": o.create} for o in self._stored_list()
                ]
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self.state.lock:
            self._overrides = {
                item["id"]: Override(item["id"], to_stored(dict(item.get("options") or {})), bool(item.get("create")))
                for item in data.get("overrides", [])
            }
            self._generation += 1
            self._services = None
