"""Users (optional area: only with `[auth] enabled`; api#users, behaviour §13.7)."""

from __future__ import annotations

from conformance.checks import MUST, check, expect_equal, expect_status
from conformance.context import Kap


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
