"""Authentication and authorization decisions (behaviour reference §1.10; services/httpd/handler.go,
auth/auth.go, services/auth/service.go; golang-jwt v4 messages; TestServer_Authenticate_* tests).

`mockserver.auth.check` is a pure function, so most tests call it directly; the app-level tests at
the end run once the app consults it (they are skipped while it does not)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from mockserver import auth
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.store import MockState
from mockserver.store.users import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USER
from tests.mock.conftest import Api

SECRET = "secret"
NOW = 1_700_000_000.0


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def state() -> MockState:
    st = MockState(MockConfig(auth=True))
    st.users.create("bob", "bobpass", False, ["write_points"])
    st.users.create("api", "apipass", False, ["api"])
    st.users.create("cfg", "cfgpass", False, ["config_api"])
    st.users.create("both", "bothpass", False, ["write_points", "api"])
    st.users.create("all", "allpass", False, ["all"])
    st.users.create("nobody", "nopass", False, ["none"])
    st.users.create("root", "rootpass", True, [])
    return st


def check(state: MockState, method: str, path: str, authorization: str | None = None, query: str = "", **kw: Any):
    return auth.check(method, path, authorization, query, state.users, secret=SECRET, now=lambda: NOW, **kw)


def failure(result: Any) -> tuple[int, str]:
    assert result is not None
    status, body = result
    decoded = json.loads(body)
    assert decoded["error"] == decoded["message"]
    assert b"\n" not in body and b" " not in body.split(b'"error":')[0]  # compact, no newline
    return status, decoded["error"]


def token(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS512") -> str:
    return "Bearer " + auth.make_token(claims, secret, alg)


def raw_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"sig") -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"Bearer {part(header)}.{part(claims)}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


# ---- authentication -------------------------------------------------------------------------------


def test_no_credentials(state: MockState) -> None:
    result = check(state, "GET", "/kapacitor/v1/ping")
    assert failure(result) == (401, "unable to parse authentication credentials")
    assert result[1] == (
        b'{"error":"unable to parse authentication credentials","message":"unable to parse authentication credentials"}'
    )


def test_head_needs_credentials_but_no_privilege(state: MockState) -> None:
    assert failure(check(state, "HEAD", "/kapacitor/v1/ping")) == (401, "unable to parse authentication credentials")
    assert check(state, "HEAD", "/kapacitor/v1/ping", basic("nobody", "nopass")) is None
    assert check(state, "HEAD", "/kapacitor/v1/ping", "Bearer ") is not None


def test_error_body_before_1_6_has_only_error(state: MockState) -> None:
    status, body = check(state, "GET", "/kapacitor/v1/ping", with_message=False)
    assert (status, body) == (401, b'{"error":"unable to parse authentication credentials"}')


def test_basic_auth(state: MockState) -> None:
    assert check(state, "GET", "/kapacitor/v1/ping", basic("bob", "bobpass")) is None
    assert check(state, "GET", "/kapacitor/v1/ping", "basic " + basic("bob", "bobpass")[6:]) is None
    assert failure(check(state, "GET", "/kapacitor/v1/ping", basic("bob", "wrong"))) == (401, "authorization failed")
    assert failure(check(state, "GET", "/kapacitor/v1/ping", basic("ghost", "x"))) == (401, "authorization failed")
    assert failure(check(state, "GET", "/kapacitor/v1/ping", basic("", "x"))) == (401, "username required")


def test_bootstrap_admin_can_log_in() -> None:
    state = MockState(MockConfig(auth=True))
    assert check(state, "DELETE", "/kapacitor/v1/users/x", basic(DEFAULT_ADMIN_USER, DEFAULT_ADMIN_PASSWORD)) is None
    assert "admin" not in MockState(MockConfig()).users.users  # only created with auth on


def test_query_credentials(state: MockState) -> None:
    assert check(state, "GET", "/kapacitor/v1/ping", None, "u=bob&p=bobpass") is None
    assert failure(check(state, "GET", "/kapacitor/v1/ping", None, "u=bob&p=nope"))[1] == "authorization failed"
    # both must be non-empty
    assert (
        failure(check(state, "GET", "/kapacitor/v1/ping", None, "u=bob"))[1]
        == "unable to parse authentication credentials"
    )
    assert failure(check(state, "GET", "/kapacitor/v1/ping", None, "u=bob&p="))[1] == (
        "unable to parse authentication credentials"
    )


def test_unusable_authorization_header_falls_back_to_query(state: MockState) -> None:
    assert check(state, "GET", "/kapacitor/v1/ping", "Token abc", "u=bob&p=bobpass") is None
    assert check(state, "GET", "/kapacitor/v1/ping", "Basic !!!", "u=bob&p=bobpass") is None
    assert (
        failure(check(state, "GET", "/kapacitor/v1/ping", "Basic !!!"))[1]
        == "unable to parse authentication credentials"
    )
    # "Bearer" is matched case-sensitively; "bearer x" is neither a token nor basic auth
    assert (
        failure(check(state, "GET", "/kapacitor/v1/ping", "bearer x"))[1]
        == "unable to parse authentication credentials"
    )


def test_subscription_user(state: MockState) -> None:
    assert (
        failure(check(state, "GET", "/kapacitor/v1/ping", basic("~subscriber", "tok")))[1]
        == "invalid subscription token"
    )
    assert failure(check(state, "GET", "/kapacitor/v1/ping", basic("~subscriber", "a b")))[1] == (
        'token must be a valid username: "a b"'
    )


# ---- bearer tokens --------------------------------------------------------------------------------


def test_valid_bearer_token(state: MockState) -> None:
    assert check(state, "GET", "/kapacitor/v1/ping", token({"username": "bob", "exp": NOW + 10})) is None
    assert check(state, "GET", "/kapacitor/v1/ping", token({"username": "bob", "exp": NOW + 10}, alg="HS256")) is None


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (token({"username": "bob", "exp": NOW + 10}, secret=SECRET + "extra secret"), "invalid token: signature is invalid"),
        (token({"username": "bob", "exp": NOW - 1}), "invalid token: Token is expired"),
        (token({"username": "bob", "exp": NOW}), "invalid token: Token is expired"),
        (token({"username": "bob", "exp": "soon"}), "invalid token: Token is expired"),
        (token({"username": "bob", "exp": NOW + 10, "nbf": NOW + 5}), "invalid token: Token is not valid yet"),
        (token({"username": "bob", "exp": NOW + 10, "iat": NOW + 5}), "invalid token: Token used before issued"),
        (token({"username": "bob"}), "token expiration required"),
        (token({"username": "bob", "exp": 0}), "token expiration required"),
        (token({"exp": NOW + 10}), "username in token must be a string"),
        (token({"username": 7, "exp": NOW + 10}), "username in token must be a string"),
        (token({"username": "", "exp": NOW + 10}), "token must contain a username"),
        (token({"username": "ghost", "exp": NOW + 10}), 'retrieving user "ghost" from store: no user exists'),
        ("Bearer abc", "invalid token: token contains an invalid number of segments"),
        ("Bearer a.b.c.d", "invalid token: token contains an invalid number of segments"),
        ("Bearer a=.b.c", "invalid token: illegal base64 data at input byte 1"),
        (raw_token({"alg": "RS256"}, {"username": "bob"}), "invalid token: unexpected signing method: RS256"),
        (raw_token({"alg": "none"}, {"username": "bob"}), "invalid token: unexpected signing method: none"),
        (raw_token({"alg": "XX1"}, {"username": "bob"}), "invalid token: signing method (alg) is unavailable."),
        (raw_token({"typ": "JWT"}, {"username": "bob"}), "invalid token: signing method (alg) is unspecified."),
        (raw_token({"alg": "HS512"}, {"username": "bob"}), "invalid token: signature is invalid"),
    ],
)  # fmt: skip
def test_bearer_failures(state: MockState, authorization: str, message: str) -> None:
    assert failure(check(state, "GET", "/kapacitor/v1/ping", authorization)) == (401, message)


def test_token_expiry_uses_the_clock() -> None:
    state = MockState(MockConfig(auth=True))
    state.users.create("bob", "x", False, ["all"])
    header = "Bearer " + auth.make_token({"username": "bob", "exp": time.time() + 60}, SECRET)
    assert auth.check("GET", "/kapacitor/v1/ping", header, "", state.users, secret=SECRET) is None


# ---- authorization --------------------------------------------------------------------------------

ALLOWED = [
    ("bob", "GET", "/kapacitor/v1/ping"),
    ("bob", "POST", "/kapacitor/v1/write"),
    ("bob", "POST", "/write"),
    ("api", "GET", "/kapacitor/v1/tasks"),
    ("api", "DELETE", "/kapacitor/v1/users/root"),
    ("api", "GET", "/kapacitor/v1preview/tasks"),
    ("api", "GET", "/kapacitor/v1/ping"),
    ("cfg", "GET", "/kapacitor/v1/config"),
    ("cfg", "POST", "/kapacitor/v1/config/smtp"),
    ("cfg", "GET", "/kapacitor/v1/ping"),
    ("both", "POST", "/kapacitor/v1/write"),
    ("all", "POST", "/kapacitor/v1/config/smtp"),
    ("all", "DELETE", "/kapacitor/v1/tasks/x"),
    ("root", "DELETE", "/kapacitor/v1/users/bob"),
    ("nobody", "HEAD", "/kapacitor/v1/ping"),
]
DENIED = [
    ("bob", "DELETE", "/kapacitor/v1/users/root", "delete"),
    ("bob", "GET", "/kapacitor/v1/tasks", "read"),
    ("bob", "GET", "/nowhere", "read"),
    ("api", "POST", "/kapacitor/v1/write", "write"),
    ("api", "GET", "/kapacitor/v1/config/smtp", "read"),
    ("cfg", "GET", "/kapacitor/v1/tasks", "read"),
    ("cfg", "PATCH", "/kapacitor/v1/tasks/t", "write"),
    ("nobody", "GET", "/kapacitor/v1/ping", "read"),
    ("api", "PUT", "/kapacitor/v1/../kapacitor/v1/write", "write"),
]
PASSWORDS = {"bob": "bobpass", "api": "apipass", "cfg": "cfgpass", "both": "bothpass", "all": "allpass",
             "nobody": "nopass", "root": "rootpass"}  # fmt: skip


@pytest.mark.parametrize(("user", "method", "path"), ALLOWED)
def test_allowed(state: MockState, user: str, method: str, path: str) -> None:
    assert check(state, method, path, basic(user, PASSWORDS[user])) is None


@pytest.mark.parametrize(("user", "method", "path", "privilege"), DENIED)
def test_denied(state: MockState, user: str, method: str, path: str, privilege: str) -> None:
    status, message = failure(check(state, method, path, basic(user, PASSWORDS[user])))
    assert status == 403
    assert message == f'user {user} does not have "{privilege}" privilege for API endpoint "{path}"'


def test_denial_quotes_the_path_like_go(state: MockState) -> None:
    _, message = failure(check(state, "GET", '/kapacitor/v1/tasks/a"b', basic("bob", "bobpass")))
    assert message.endswith('API endpoint "/kapacitor/v1/tasks/a\\"b"')


def test_options_is_never_checked(state: MockState) -> None:
    assert check(state, "OPTIONS", "/kapacitor/v1/tasks") is None


def test_debug_routes_bypass_only_when_pprof_is_enabled(state: MockState) -> None:
    assert check(state, "GET", "/kapacitor/v1/debug/vars") is not None
    assert check(state, "GET", "/kapacitor/v1/debug/vars", bypass_debug=True) is None
    assert check(state, "GET", "/kapacitor/v1/debug/pprof/heap", bypass_debug=True) is None
    assert check(state, "GET", "/kapacitor/v1/tasks", bypass_debug=True) is not None


def test_database_writes(state: MockState) -> None:
    admin = auth.to_auth_user(state.users.get("root"))
    writer = auth.to_auth_user(state.users.get("bob"))
    assert admin.can_write_database("telegraf")
    # Permissions never grant database resources, so only admins pass the write handler's check.
    assert not writer.can_write_database("telegraf")
    assert auth.database_resource("db/rp") == "/database/db_rp_dirty"
    assert auth.database_resource("db_rp") == "/database/db_rp_clean"


def test_request_user_without_auth_is_the_anonymous_admin() -> None:
    state = MockState(MockConfig())
    user = auth.request_user(None, state, MockConfig())
    assert (user.name, user.admin) == ("ADMIN_USER", True)


# ---- through the app (once it consults mockserver.auth) --------------------------------------------


@pytest.fixture
def secured() -> Api:
    api = Api(create_app(MockConfig(auth=True)))
    if api.get("/kapacitor/v1/ping").status != 401:
        pytest.skip("the app does not call mockserver.auth.check_request yet")
    return api


def test_app_rejects_anonymous_requests(secured: Api) -> None:
    resp = secured.get("/kapacitor/v1/ping")
    assert resp.status == 401
    assert resp.body == (
        b'{"error":"unable to parse authentication credentials","message":"unable to parse authentication credentials"}'
    )
    assert resp.headers["x-kapacitor-version"] == "1.8.3"
    assert secured.get("/kapacitor/v1/nowhere").status == 401  # the catch-all is authenticated too
    assert secured.request("OPTIONS", "/kapacitor/v1/tasks").status == 200


def test_app_authorizes_users(secured: Api) -> None:
    admin = {"Authorization": basic(DEFAULT_ADMIN_USER, DEFAULT_ADMIN_PASSWORD)}
    created = secured.post(
        "/kapacitor/v1/users", {"name": "bob", "password": "secret", "permissions": ["write_points"]}, headers=admin
    )
    assert created.status == 200
    bob = {"Authorization": basic("bob", "secret")}
    assert secured.get("/kapacitor/v1/ping", headers=bob).status == 204
    denied = secured.delete("/kapacitor/v1/users/root", headers=bob)
    assert denied.status == 403
    assert (
        denied.json["error"] == 'user bob does not have "delete" privilege for API endpoint "/kapacitor/v1/users/root"'
    )
