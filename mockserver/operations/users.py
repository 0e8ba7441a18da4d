"""User handlers (routed only with --auth): decode like Go, apply the auth service's rules, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver import gojson
from mockserver.errors import BadRequest, invalid_json
from mockserver.gotext import go_quote
from mockserver.operations.common import DEFAULT_LIMIT, DEFAULT_OFFSET
from mockserver.operations.registry import Call, Reply, operation
from mockserver.render import BASE, error_body, link
from mockserver.store.listing import parse_int_param
from mockserver.store.users import PERMISSIONS, User
from spec.ids import is_valid_username

USER_FIELDS = ("link", "name", "type", "permissions")
INT64_MAX = 2**63 - 1


def _user_type(item: Any, where: str) -> str:
    if not isinstance(item, str) or item not in ("", "normal", "admin"):
        raise gojson.DecodeError("invalid user type")
    return item


def _permissions(item: Any, where: str) -> list[str]:
    if not isinstance(item, list):
        raise gojson.DecodeError("invalid permissions")
    out = []
    for element in item:
        if element is None:  # null element: the zero Permission, i.e. "none"
            out.append("none")
        elif isinstance(element, str) and element in PERMISSIONS:
            out.append(element)
        else:
            raise gojson.DecodeError("unknown permission")
    return out


USER_REQUEST: dict[str, gojson.Kind] = {
    "name": "string",
    "password": "string",
    "type": _user_type,
    "permissions": _permissions,
}


def _decode(call: Call, struct: str) -> dict[str, Any]:
    try:
        return gojson.decode_struct(call.body(), struct, USER_REQUEST)
    except gojson.DecodeError:
        raise invalid_json() from None


def _username(call: Call) -> str:
    name = call.params.get("name", "")
    if not name:
        raise BadRequest("must specify username on path")
    return name


def render_user(user: User | None) -> dict[str, Any]:
    """The client.User struct; an absent user renders as Go's zero user."""
    if user is None:
        return {"link": link(BASE, "users", ""), "name": "", "type": "normal", "permissions": []}
    return {
        "link": link(BASE, "users", user.name),
        "name": user.name,
        "type": user.type,
        "permissions": user.permissions,
    }


@operation("getUser")
def get_user(call: Call) -> Reply:
    name = _username(call)
    return Reply(200, render_user(call.state.users.get(name)))


@operation("createUser")
def create_user(call: Call) -> Reply:
    req = _decode(call, "CreateUserOptions")
    name = req.get("name", "")
    if name == "":
        raise BadRequest("username is required")
    if not is_valid_username(name):
        raise BadRequest(f"username must contain only letters, numbers, '-', '.', '@' and '_'. {go_quote(name)}")
    password = req.get("password", "")
    if password == "":
        raise BadRequest("password is required")
    user = call.state.users.create(name, password, req.get("type") == "admin", req.get("permissions") or [])
    return Reply(200, render_user(user))


@operation("updateUser")
def update_user(call: Call) -> Reply:
    name = _username(call)
    req = _decode(call, "UpdateUserOptions")
    user_type = req.get("type", "")
    user = call.state.users.update(
        name,
        req.get("password", ""),
        set_type=user_type != "",
        admin=user_type == "admin",
        permissions=req.get("permissions"),
    )
    return Reply(200, render_user(user))


@operation("deleteUser")
def delete_user(call: Call) -> Reply:
    call.state.users.delete(_username(call))
    return Reply(204)


def _lenient_int(call: Call, name: str, default: int, problems: list[str]) -> int:
    """The list handler reports a bad offset/limit but keeps going with ParseInt's fallback value."""
    raw = call.first_as_sent(name)
    try:
        return parse_int_param(name, raw, default)
    except BadRequest as exc:
        problems.append(exc.message)
        if exc.message.endswith("value out of range"):
            return -(2**63) if raw.startswith("-") else INT64_MAX
        return 0


def _item(user: User, fields: list[str]) -> dict[str, Any]:
    values: dict[str, Callable[[], Any]] = {
        "link": lambda: link(BASE, "users", user.name),
        "name": lambda: user.name,
        "type": lambda: user.type,
        "permissions": lambda: user.permissions,
    }
    item = {}
    for name in sorted(set(fields)):
        if name not in values:
            raise KeyError(name)
        item[name] = values[name]()
    return item


@operation("listUsers")
def list_users(call: Call) -> Reply:
    requested = call.all("fields")
    fields = list(USER_FIELDS) if requested is None else [*requested, "name", "link"]
    problems: list[str] = []
    offset = _lenient_int(call, "offset", DEFAULT_OFFSET, problems)
    limit = _lenient_int(call, "limit", DEFAULT_LIMIT, problems)
    users = call.state.users.list_users(call.first("pattern"), min(offset, INT64_MAX), limit)
    with_message = call.config.at_least_1_6
    # Errors are written and the handler carries on: each error body, then the list, end to end.
    parts = [gojson.dumps_pretty(error_body(p, with_message)) for p in problems]
    items = []
    for user in users:
        for name in fields:
            if name not in USER_FIELDS:
                parts.append(gojson.dumps_pretty(error_body(f"unsupported field {go_quote(name)}", with_message)))
                return Reply(400, raw=b"".join(parts))
        items.append(_item(user, fields))
    parts.append(gojson.dumps_pretty({"users": items}))
    return Reply(400 if problems else 200, raw=b"".join(parts))
