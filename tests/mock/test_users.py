"""The users API (only with auth): behaviour reference §13.7, §2.3-2.5, services/auth/service.go and
the TestServer_*User* tests. Every request carries the bootstrap admin's credentials, so the tests
hold whether or not the app enforces authentication."""

from __future__ import annotations

import base64
import json

import pytest

from mockserver.store.users import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USER
from tests.mock.conftest import Api, Response, check
from tests.mock.conftest import error_of as shared_error_of
from tests.mock.spec_check import assert_matches_spec

U = "/kapacitor/v1/users"
ADMIN = {
    "Authorization": "Basic " + base64.b64encode(f"{DEFAULT_ADMIN_USER}:{DEFAULT_ADMIN_PASSWORD}".encode()).decode()
}


@pytest.fixture
def users(make_api) -> Api:  # type: ignore[no-untyped-def]
    return make_api(auth=True)


def call(api: Api, method: str, path: str, body: object = None, **kw: object) -> Response:
    raw = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    return api.request(method, path, body=raw, headers=ADMIN, **kw)  # type: ignore[arg-type]


def create(api: Api, name: str, perms: list[str] | None = None, **extra: object) -> Response:
    body: dict[str, object] = {"name": name, "password": "hunter2", **extra}
    if perms is not None:
        body["permissions"] = perms
    return call(api, "POST", U, body)


def error_of(resp: Response, op_id: str, status: int) -> str:
    return shared_error_of(check(resp, op_id, status))


# ---- hidden without auth --------------------------------------------------------------------------


def test_users_api_is_absent_without_auth(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api()
    resp = api.get(U)
    assert resp.status == 404
    assert resp.json["error"] == "Not Found"


# ---- create / get ---------------------------------------------------------------------------------


def test_create_and_get_user(users: Api) -> None:
    resp = create(users, "bob", ["api"], type="normal")
    assert resp.status == 200
    assert_matches_spec("createUser", 200, resp.body)
    expected = {
        "link": {"rel": "self", "href": "/kapacitor/v1/users/bob"},
        "name": "bob",
        "type": "normal",
        "permissions": ["api"],
    }
    assert resp.json == expected
    assert list(resp.json) == ["link", "name", "type", "permissions"]  # struct order
    assert resp.text.startswith('{\n    "link"')  # pretty printed
    got = call(users, "GET", f"{U}/bob")
    assert got.status == 200
    assert_matches_spec("getUser", 200, got.body)
    assert got.json == expected


@pytest.mark.parametrize(
    ("perms", "reported"),
    [
        (["api", "config_api", "write_points"], ["all"]),
        (["all"], ["all"]),
        (["config_api"], ["config_api"]),
        (["write_points", "api"], ["api", "write_points"]),  # api fences writes only if not granted yet
        (["api", "write_points"], ["api", "write_points"]),
        (["none"], []),
        ([], []),
    ],
)
def test_permissions_are_reported_from_privileges(users: Api, perms: list[str], reported: list[str]) -> None:
    resp = create(users, "bob", perms)
    assert resp.status == 200
    assert resp.json["permissions"] == reported


def test_admin_without_permissions_reports_none(users: Api) -> None:
    resp = create(users, "root", type="admin")
    assert resp.json["type"] == "admin"
    assert resp.json["permissions"] == []


def test_creating_an_existing_user_answers_an_empty_user_and_changes_nothing(users: Api) -> None:
    create(users, "bob", ["api"])
    resp = create(users, "bob", ["all"], type="admin")
    assert resp.status == 200
    assert_matches_spec("createUser", 200, resp.body)
    assert resp.json == {
        "link": {"rel": "self", "href": "/kapacitor/v1/users"},
        "name": "",
        "type": "normal",
        "permissions": [],
    }
    again = call(users, "GET", f"{U}/bob").json
    assert again["type"] == "normal"
    assert again["permissions"] == ["api"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "invalid JSON"),
        ("[]", "invalid JSON"),
        ('{"name": 5, "password": "x"}', "invalid JSON"),
        ('{"name": "bob", "password": "x", "type": "root"}', "invalid JSON"),
        ('{"name": "bob", "password": "x", "permissions": ["everything"]}', "invalid JSON"),
        ('{"name": "bob", "password": "x", "permissions": [1]}', "invalid JSON"),
        ('{"password": "x"}', "username is required"),
        ('{"name": "bad name", "password": "x"}', "username must contain only letters, numbers, '-', '.', '@' and '_'. \"bad name\""),
        ('{"name": "bob\\n", "password": "x"}', "username must contain only letters, numbers, '-', '.', '@' and '_'. \"bob\\n\""),
        ('{"name": "bob"}', "password is required"),
        ('{"name": "bob", "password": ""}', "password is required"),
    ],
)  # fmt: skip
def test_create_errors(users: Api, body: str, message: str) -> None:
    assert error_of(call(users, "POST", U, body), "createUser", 400) == message


def test_create_accepts_case_insensitive_keys_and_valid_names(users: Api) -> None:
    resp = call(users, "POST", U, '{"NAME": "jo.e-1@x_y", "Password": "p", "PERMISSIONS": ["api"]} trailing')
    assert resp.status == 200
    assert resp.json["name"] == "jo.e-1@x_y"
    assert resp.json["permissions"] == ["api"]


def test_get_errors(users: Api) -> None:
    assert error_of(call(users, "GET", f"{U}/nobody"), "getUser", 404) == "no user exists"
    assert error_of(call(users, "GET", f"{U}/"), "getUser", 400) == "must specify username on path"


# ---- update ---------------------------------------------------------------------------------------


def test_update_without_permissions_keeps_them(users: Api) -> None:
    create(users, "bob", ["api"])
    resp = call(users, "PATCH", f"{U}/bob", {"password": "new"})
    assert resp.status == 200
    assert_matches_spec("updateUser", 200, resp.body)
    assert resp.json["permissions"] == ["api"]
    assert users.state.users.authenticate("bob", "new") is not None
    assert users.state.users.authenticate("bob", "hunter2") is None


def test_update_with_empty_permissions_clears_them(users: Api) -> None:
    create(users, "bob", ["api"])
    resp = call(users, "PATCH", f"{U}/bob", {"permissions": []})
    assert resp.json["permissions"] == []


def test_null_permissions_mean_unchanged(users: Api) -> None:
    create(users, "bob", ["config_api"])
    resp = call(users, "PATCH", f"{U}/bob", {"permissions": None})
    assert resp.json["permissions"] == ["config_api"]


def test_making_a_user_admin_clears_privileges(users: Api) -> None:
    create(users, "bob", ["all"])
    resp = call(users, "PATCH", f"{U}/bob", {"type": "admin", "permissions": ["api"]})
    assert resp.json["type"] == "admin"
    assert resp.json["permissions"] == []
    back = call(users, "PATCH", f"{U}/bob", {"type": "normal"})
    assert back.json == {**resp.json, "type": "normal"}


def test_update_errors(users: Api) -> None:
    resp = call(users, "PATCH", f"{U}/nobody", {"password": "x"})
    assert error_of(resp, "updateUser", 500) == "failed to create user: updating user: no user exists"
    create(users, "bob", ["api"])
    assert error_of(call(users, "PATCH", f"{U}/bob", "{"), "updateUser", 400) == "invalid JSON"
    assert error_of(call(users, "PATCH", f"{U}/bob", {"permissions": ["x"]}), "updateUser", 400) == "invalid JSON"
    assert error_of(call(users, "PATCH", f"{U}/", {}), "updateUser", 400) == "must specify username on path"


# ---- delete ---------------------------------------------------------------------------------------


def test_delete(users: Api) -> None:
    create(users, "bob", ["api"])
    resp = call(users, "DELETE", f"{U}/bob")
    assert resp.status == 204
    assert resp.body == b""
    assert_matches_spec("deleteUser", 204, resp.body)
    assert call(users, "GET", f"{U}/bob").status == 404
    assert call(users, "DELETE", f"{U}/bob").status == 204  # missing is fine
    assert error_of(call(users, "DELETE", f"{U}/"), "deleteUser", 400) == "must specify username on path"


# ---- list -----------------------------------------------------------------------------------------


def make_bobs(api: Api, count: int = 20) -> None:
    for i in range(count):
        assert create(api, f"bob{i:02d}", ["api"]).status == 200


def test_list_pattern_in_name_order(users: Api) -> None:
    make_bobs(users)
    resp = call(users, "GET", U, params={"pattern": "bob*"})
    assert resp.status == 200
    assert_matches_spec("listUsers", 200, resp.body)
    items = resp.json["users"]
    assert [u["name"] for u in items] == [f"bob{i:02d}" for i in range(20)]
    assert list(items[0]) == ["link", "name", "permissions", "type"]  # map keys are sorted
    assert items[3] == {
        "link": {"rel": "self", "href": "/kapacitor/v1/users/bob03"},
        "name": "bob03",
        "permissions": ["api"],
        "type": "normal",
    }


def test_list_fields_offset(users: Api) -> None:
    make_bobs(users)
    resp = call(users, "GET", U, params={"pattern": "bob1*", "fields": "type", "offset": "2"})
    assert resp.status == 200
    assert_matches_spec("listUsers", 200, resp.body)
    items = resp.json["users"]
    assert [u["name"] for u in items] == [f"bob{i}" for i in range(12, 20)]
    assert all(set(u) == {"link", "name", "type"} for u in items)


def test_list_limit_and_negative_limit(users: Api) -> None:
    make_bobs(users, 5)
    assert len(call(users, "GET", U, params={"limit": "2"}).json["users"]) == 2
    assert call(users, "GET", U, params={"limit": "0"}).json == {"users": []}
    everything = call(users, "GET", U, params={"pattern": "nomatch", "offset": "3", "limit": "-1"}).json["users"]
    assert [u["name"] for u in everything] == sorted([DEFAULT_ADMIN_USER] + [f"bob{i:02d}" for i in range(5)])


def test_list_bad_pattern_matches_nothing(users: Api) -> None:
    make_bobs(users, 2)
    assert call(users, "GET", U, params={"pattern": "["}).json == {"users": []}


def test_unsupported_field_only_when_something_is_listed(users: Api) -> None:
    make_bobs(users, 2)
    resp = call(users, "GET", U, params={"fields": "bogus"})
    assert error_of(resp, "listUsers", 400) == 'unsupported field "bogus"'
    empty = call(users, "GET", U, params={"fields": "bogus", "pattern": "zzz*"})
    assert empty.status == 200
    assert empty.json == {"users": []}


def test_bad_offset_writes_the_error_then_the_list(users: Api) -> None:
    make_bobs(users, 1)
    resp = call(users, "GET", U, params={"offset": "x", "pattern": "bob*"})
    assert resp.status == 400
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(resp.text)
    message = 'invalid offset parameter "x" must be an integer: strconv.ParseInt: parsing "x": invalid syntax'
    assert first == {"error": message, "message": message}
    assert_matches_spec("listUsers", 400, first)
    rest, _ = decoder.raw_decode(resp.text[end:])
    assert [u["name"] for u in rest["users"]] == ["bob00"]  # the bad offset fell back to 0


def test_errors_have_only_error_key_before_1_6(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(auth=True, kapacitor_version="1.5.9")
    resp = call(api, "GET", f"{U}/nobody")
    assert resp.status == 404
    assert resp.json == {"error": "no user exists"}


def test_users_survive_snapshot_restore(users: Api, make_api) -> None:  # type: ignore[no-untyped-def]
    create(users, "bob", ["write_points"])
    snapshot = users.state.snapshot()
    other = make_api(auth=True)
    other.state.restore(json.loads(json.dumps(snapshot)))
    assert call(other, "GET", f"{U}/bob").json["permissions"] == ["write_points"]
    assert other.state.users.authenticate("bob", "hunter2") is not None
