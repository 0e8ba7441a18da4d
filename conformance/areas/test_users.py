"""Users (optional area: only with `[auth] enabled`; api#users, behaviour §13.7)."""

from __future__ import annotations

from typing import Any

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect_equal, expect_status
from conformance.context import Kap
from conformance.target import Client, Exchange


@check("users.crud", MUST, "api#users", mutates=True)
def test_user_crud(kap: Kap) -> None:
    """Create, get, update, list and delete a user."""
    kap.need("createUser")
    name = kap.uid("u-")
    ex = kap.call("createUser", json={"name": name, "password": kap.suite.secret, "type": "normal",
                                      "permissions": ["api"]})
    if ex.status == 200:
        kap.registry.add("user", name)
    body = kap.json_ok(ex, 200, "create user", ref="api#create-a-user")
    expect_equal(body.get("name"), name, "created user: name", ref="api#create-a-user")
    got = kap.json_ok(kap.call("getUser", name=name), 200, "GET user", ref="api#users")
    expect_equal(got.get("permissions"), ["api"], "GET user: permissions", ref="api#users")
    kap.json_ok(kap.call("updateUser", name=name, json={"permissions": ["api", "write_points"]}), 200,
                "PATCH user", ref="api#update-a-user")
    listed = kap.json_ok(kap.call("listUsers", query=[("pattern", name)]), 200, "list users", ref="api#list-all-users")
    expect_equal([u.get("name") for u in listed.get("users") or []], [name], "users matching the name",
                 ref="api#list-all-users")
    expect_status(kap.call("deleteUser", name=name), 204, "DELETE user", ref="api#delete-a-user")
    expect_status(kap.call("deleteUser", name=name), 204, "DELETE user again", ref="behaviour §2.7")
    expect_status(kap.call("getUser", name=name), 404, "GET user after DELETE", ref="behaviour §13.7")


def _create(kap: Kap, body: dict[str, Any], what: str) -> Exchange:
    kap.need("createUser")
    ex = kap.call("createUser", json=body)
    name = body.get("name")
    if ex.status == 200 and isinstance(name, str) and name:
        kap.registry.add("user", name)
    return ex


def _anonymous(kap: Kap, auth: tuple[str, str] | None = None) -> Client:
    """A client for the same target without (or with other) credentials."""
    return Client(kap.client.base_url + kap.client.root, auth=auth)


@check("users.errors", SHOULD, "behaviour §13.7", mutates=True)
def test_user_errors(kap: Kap) -> None:
    """Missing name or password, unknown permissions and unknown users get the server's answers."""
    secret = kap.suite.secret
    kap.error(_create(kap, {"password": secret, "type": "normal"}, "user without name"), 400, "username is required",
              what="create user without name", ref="behaviour §13.7")
    kap.error(_create(kap, {"name": kap.uid("u-"), "type": "normal"}, "user without password"), 400,
              "password is required", what="create user without password", ref="behaviour §13.7")
    kap.error(_create(kap, {"name": kap.uid("u-"), "password": secret, "type": "normal", "permissions": ["kcf"]},
                      "user with unknown permission"), 400,
              "invalid JSON", what="create user with an unknown permission (a decode error)", ref="behaviour §13.7")
    missing = kap.uid("u-none-")
    kap.error(kap.call("getUser", name=missing), 404, "no user exists", what="GET missing user", ref="behaviour §13.7")
    kap.error(kap.call("updateUser", name=missing, json={"permissions": ["api"]}), 500,
              "failed to create user: updating user: no user exists", what="PATCH missing user", ref="behaviour §13.7")


@check("users.permissions", SHOULD, "behaviour §13.7", mutates=True)
def test_user_permissions(kap: Kap) -> None:
    """api+config_api+write_points reads back as ["all"]; PATCH without permissions keeps them, [] clears."""
    name = kap.uid("up-")
    ex = _create(kap, {"name": name, "password": kap.suite.secret, "type": "normal",
                       "permissions": ["api", "config_api", "write_points"]}, "user")
    body = kap.json_ok(ex, 200, "create user", ref="api#create-a-user")
    expect_equal(body.get("permissions"), ["all"], "permissions api+config_api+write_points", ref="behaviour §13.7",
                 exchange=ex)
    ex = kap.call("updateUser", name=name, json={"password": kap.suite.secret})
    expect_equal(kap.json_ok(ex, 200, "PATCH user password").get("permissions"), ["all"],
                 "permissions after a PATCH without permissions", ref="behaviour §13.7", exchange=ex)
    ex = kap.call("updateUser", name=name, json={"permissions": []})
    expect_equal(kap.json_ok(ex, 200, "PATCH user permissions=[]").get("permissions"), [],
                 "permissions after PATCH permissions=[]", ref="behaviour §13.7", exchange=ex)


@check("users.authentication", MUST, "behaviour §1.10", mutates=True)
def test_authentication(kap: Kap) -> None:
    """Without credentials, or with a wrong password, the answer is 401 with a JSON error."""
    kap.need("listUsers")
    for auth, message, what in ((None, "unable to parse authentication credentials", "no credentials"),
                                (("kcfnosuch", "wrong"), "authorization failed", "unknown user")):
        client = _anonymous(kap, auth)
        try:
            ex = client.get(api.V1 + "/users")
        finally:
            client.close()
        kap.error(ex, 401, message, what=f"GET users with {what}", ref="behaviour §1.10",
                  message_ref="behaviour §1.10")


@check("users.authorization", MUST, "behaviour §1.10", mutates=True)
def test_authorization(kap: Kap) -> None:
    """A user with only `api` may read tasks but not the config: 403 naming the privilege and path."""
    name = kap.uid("ua-")
    kap.json_ok(_create(kap, {"name": name, "password": kap.suite.secret, "type": "normal", "permissions": ["api"]},
                        "api user"), 200, "create api user", ref="api#create-a-user")
    client = _anonymous(kap, (name, kap.suite.secret))
    try:
        allowed = client.get(api.V1 + "/tasks")
        denied = client.get(api.V1 + "/config")
    finally:
        client.close()
    expect_status(allowed, 200, "GET tasks as an api user", ref="behaviour §1.10")
    kap.error(denied, 403, f'user {name} does not have "read" privilege for API endpoint "{api.V1}/config"',
              what="GET config as an api user", ref="behaviour §1.10",
              message_ref="behaviour §1.10")
