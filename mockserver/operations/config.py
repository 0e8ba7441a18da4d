"""Config override handlers: `GET /config[/<section>[/<element>]]` and `POST /config/<section>[/...]`.

The real server serves all of these from two prefix handlers that re-split the raw path, so the
handlers here work from `call.path` too: whether the path ends in `/` matters (a section path
without it cannot `set`), and 1.5 split the remainder differently from 1.8.
"""

from __future__ import annotations

from typing import Any

from mockserver import gojson
from mockserver.errors import BadRequest, Forbidden
from mockserver.gotime import go_duration
from mockserver.operations.registry import Call, Reply, operation
from mockserver.render import BASE, go_path_join
from mockserver.store import config_sections as cs
from mockserver.store.config_values import StoredNumber

CONFIG_BASE = BASE + "/config"
CONFIG_PREFIX = CONFIG_BASE + "/"
DISABLED = "config override service is not enabled"


# ---- rendering ------------------------------------------------------------------------------------


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


def render_element(sec: cs.Section, element: dict[str, Any]) -> dict[str, Any]:
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


def render_section(sec: cs.Section, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "link": {"rel": "self", "href": go_path_join(CONFIG_BASE, sec.name)},
        "elements": [render_element(sec, e) for e in elements],
    }


# ---- handlers -------------------------------------------------------------------------------------


def _locate(call: Call) -> tuple[bool, str, str, bool]:
    """(has_section, section, element, has_element) as the server derives them from the path."""
    if not call.path.startswith(CONFIG_PREFIX):
        return False, "", "", False
    section, element = call.state.configs.split_id(call.path[len(CONFIG_PREFIX) :])
    has_element = element != "" or (section != "" and call.path.endswith("/"))
    return True, section, element, has_element


def _check_enabled(call: Call) -> None:
    if not call.config.config_override:
        raise Forbidden(DISABLED)


@operation("getConfig")
@operation("getConfigSection")
@operation("getConfigElement")
def get_config(call: Call) -> Reply:
    _check_enabled(call)
    has_section, section, element, has_element = _locate(call)
    store = call.state.configs
    store.check_resolvable()
    if has_section and section == "":
        raise BadRequest("section not specified, do you have an extra trailing '/'?")
    if not has_section:
        sections = store.get_config()
        body = {"link": {"rel": "self", "href": CONFIG_BASE}, "sections": {s.name: render_section(s, e) for s, e in sections}}
    elif has_element:
        body = render_element(*store.get_element(section, element))
    else:
        body = render_section(*store.get_section(section))
    return Reply(200, body=body, pretty=False)


def _object(item: Any, where: str) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    struct, _, name = where.rpartition(".")
    raise gojson.type_error(item, struct, name, "map[string]interface {}")


def _strings(item: Any, where: str) -> list[str]:
    struct, _, name = where.rpartition(".")
    if not isinstance(item, list):
        raise gojson.type_error(item, struct, name, "[]string")
    out = []
    for element in item:
        if element is None:
            out.append("")  # null leaves a Go string at its zero value
        elif isinstance(element, str):
            out.append(element)
        else:
            raise gojson.type_error(element, struct, name, "string")
    return out


UPDATE_ACTION = {"set": _object, "delete": _strings, "add": _object, "remove": _strings}


def decode_update(body: bytes) -> dict[str, Any]:
    """The server's `updateAction` decode; errors carry Go's wording."""
    try:
        return gojson.decode_struct(body, "updateAction", UPDATE_ACTION, go_type="config.updateAction")
    except gojson.DecodeError as exc:
        raise BadRequest(f"failed to decode JSON:{exc}") from None


@operation("updateConfigSection")
@operation("updateConfigElement")
def update_config(call: Call) -> Reply:
    _check_enabled(call)
    _has_section, section, element, has_element = _locate(call)
    action = decode_update(call.body())
    call.state.configs.update(section, element, has_element, action)
    return Reply(204)
