"""Authentication and authorization of requests, as Kapacitor's HTTP wrappers decide them.

With `[http] auth-enabled = true` every routed request (the catch-all 404 included, OPTIONS
excluded) passes two wrappers before its handler: *authenticate* (credentials from a Bearer JWT,
HTTP Basic, or the `u`/`p` query parameters; failures are 401) and *authorize* (the method's
privilege on the API resource derived from the path; failures are 403). Both write compact JSON
error bodies. Requests through `/kapacitor/v1preview/...` run the wrappers twice: once for the
preview path and once for the rewritten `/kapacitor/v1/...` path.

Everything here is a pure function of the request's method, path, `Authorization` header, query
string and the user store, so the app can call it before routing and the handlers that need the
user (write's database check, Flux task owners) can ask for it again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from mockserver import gojson
from mockserver.errors import AuthFailure, MockError
from mockserver.gotext import go_quote
from mockserver.render import BASE, error_answer, go_path_join
from mockserver.store.users import ALL, ANONYMOUS_ADMIN, UserStore
from spec.ids import is_valid_username

log = logging.getLogger("kapacitor-mock")

#: `[http] shared-secret` used to verify Bearer tokens (HMAC); Kapacitor's default is empty.
DEFAULT_SHARED_SECRET = ""
#: Basic-auth user name that carries a subscription token instead of a password.
SUBSCRIPTION_USER = "~subscriber"
#: Routes that skip authentication when `[http] pprof-enabled = true`.
DEBUG_PREFIXES = (BASE + "/debug/pprof/", BASE + "/debug/vars")

# Privilege bits, as the auth package numbers them.
NO_PRIVILEGES = 1
READ = 2
WRITE = 4
DELETE = 8
ALL_PRIVILEGES = 16
_PRIVILEGE_NAMES = {NO_PRIVILEGES: "none", READ: "read", WRITE: "write", DELETE: "delete", ALL_PRIVILEGES: "all"}
_METHOD_PRIVILEGE = {
    "HEAD": NO_PRIVILEGES,
    "OPTIONS": NO_PRIVILEGES,
    "GET": READ,
    "POST": WRITE,
    "PATCH": WRITE,
    "PUT": WRITE,
    "DELETE": DELETE,
}

_HMAC_ALGS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
#: Every algorithm the JWT library knows; others are "unavailable", these (non-HMAC) "unexpected".
_KNOWN_ALGS = frozenset(
    {*_HMAC_ALGS, "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA", "none"}
)


@dataclass(frozen=True)
class AuthUser:
    """An authenticated principal: resource → privilege bit mask, or an administrator."""

    name: str
    admin: bool
    privileges: dict[str, int] = field(default_factory=dict)

    def allowed(self, resource: str, privilege: int) -> bool:
        """The auth package's walk: the closest resource with an entry decides, up to `/`."""
        if privilege == NO_PRIVILEGES or self.admin:
            return True
        resource = go_path_join(resource) or "/"
        while True:
            mask = self.privileges.get(resource)
            if mask is not None:
                return bool(mask & privilege) or mask == ALL_PRIVILEGES
            if resource == "/":
                return False
            resource = resource.rsplit("/", 1)[0] or "/"

    def can_write_database(self, database: str) -> bool:
        """The write endpoint's extra check (users created through the API never pass it)."""
        return self.allowed(database_resource(database), WRITE)


ANONYMOUS = AuthUser(ANONYMOUS_ADMIN, True)


def database_resource(database: str) -> str:
    if database == "":
        return "/database"
    name = database.replace("/", "_")
    name += "_clean" if name == database else "_dirty"
    return go_path_join("/database", name)


def api_resource(path: str) -> str:
    """`/kapacitor/v1/tasks/x` → `/api/tasks/x` (the prefix is cut as plain text, so the preview
    path `/kapacitor/v1preview/x` becomes `/api/preview/x`)."""
    rest = path[len(BASE) :] if path.startswith(BASE) else path
    return go_path_join("/api", rest)


def to_auth_user(user: Any) -> AuthUser:
    masks = {
        go_path_join(r) or "/": (ALL_PRIVILEGES if p == ALL else NO_PRIVILEGES) for r, p in user.privileges.items()
    }
    return AuthUser(user.name, user.admin, masks)


# ---- credentials ----------------------------------------------------------------------------------


def authenticate(
    authorization: str | None,
    query_string: str,
    users: UserStore,
    *,
    secret: str = DEFAULT_SHARED_SECRET,
    now: Callable[[], float] = time.time,
) -> AuthUser:
    """The user the credentials identify, or AuthFailure(401, message)."""
    if authorization:
        scheme, sep, token = authorization.partition(" ")
        if sep and scheme == "Bearer":
            return _bearer(token, users, secret, now)
        basic = _basic_auth(authorization)
        if basic is not None:
            username, password = basic
            if username == SUBSCRIPTION_USER:
                raise AuthFailure(401, _subscription_error(password))
            return _password(username, password, users)
    query = parse_qs(query_string or "", keep_blank_values=True)
    u = (query.get("u") or [""])[0]
    p = (query.get("p") or [""])[0]
    if u and p:
        return _password(u, p, users)
    raise AuthFailure(401, "unable to parse authentication credentials")


def _password(username: str, password: str, users: UserStore) -> AuthUser:
    if username == "":
        raise AuthFailure(401, "username required")
    user = users.authenticate(username, password)
    if user is None:
        raise AuthFailure(401, "authorization failed")
    return to_auth_user(user)


def _subscription_error(token: str) -> str:
    # Subscription users are created by InfluxDB subscriptions, which the mock never has.
    if not is_valid_username(token):
        return f"token must be a valid username: {go_quote(token)}"
    return "invalid subscription token"


def _basic_auth(header: str) -> tuple[str, str] | None:
    """net/http's Request.BasicAuth: case-insensitive `Basic ` prefix, padded standard base64."""
    if len(header) < 6 or header[:6].lower() != "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].encode("latin-1"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    text = raw.decode("utf-8", errors="surrogateescape")
    username, sep, password = text.partition(":")
    if not sep:
        return None
    return username, password


def _bearer(token: str, users: UserStore, secret: str, now: Callable[[], float]) -> AuthUser:
    try:
        claims = parse_jwt(token, secret, int(now()))
    except JWTError as exc:
        raise AuthFailure(401, f"invalid token: {exc}") from None
    exp = claims.get("exp")
    if not (isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp > 0):
        raise AuthFailure(401, "token expiration required")
    username = claims.get("username")
    if not isinstance(username, str):
        raise AuthFailure(401, "username in token must be a string")
    if username == "":
        raise AuthFailure(401, "token must contain a username")
    user = users.find(username)
    if user is None:
        raise AuthFailure(401, f"retrieving user {go_quote(username)} from store: no user exists")
    return to_auth_user(user)


# ---- JWT (golang-jwt v4 semantics, HMAC only) -----------------------------------------------------


class JWTError(MockError):
    """The library's validation error text (Kapacitor prefixes it with `invalid token: `)."""


_URL_ALPHABET = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}


def _raw_url_decode(segment: str) -> bytes:
    """Go's base64.RawURLEncoding.DecodeString, including its error offsets (CR/LF are skipped)."""
    src = segment.encode("latin-1", errors="replace")
    out = bytearray()
    si, n = 0, len(src)
    while True:
        values = [0, 0, 0, 0]
        j = 0
        length = 4
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out)
                if j == 1:
                    raise JWTError(f"illegal base64 data at input byte {si - j}")
                length = j
                break
            c = src[si]
            si += 1
            v = _URL_ALPHABET.get(c)
            if v is not None:
                values[j] = v
                j += 1
            elif c not in (10, 13):
                raise JWTError(f"illegal base64 data at input byte {si - 1}")
        word = values[0] << 18 | values[1] << 12 | values[2] << 6 | values[3]
        out.extend(bytes(((word >> 16) & 255, (word >> 8) & 255, word & 255))[: length - 1])
        if length < 4:
            return bytes(out)


_WS = " \t\r\n"
# Only finds where the first value ends (gojson has validated it): no number conversion at all.
_plain_decoder = json.JSONDecoder(parse_int=str, parse_float=str, parse_constant=str)


def _unmarshal_object(data: bytes, go_type: str) -> dict[str, Any]:
    """`json.Unmarshal(data, &map)`: the whole input must be one valid value."""
    text = data.decode("utf-8", errors="replace")
    if not text.strip(_WS):
        raise JWTError("unexpected end of JSON input")
    try:
        value = gojson.decode_first(data)
    except gojson.DecodeError as exc:
        message = str(exc)
        raise JWTError("unexpected end of JSON input" if message in ("EOF", "unexpected EOF") else message) from None
    start = len(text) - len(text.lstrip(_WS))
    _value, end = _plain_decoder.raw_decode(text, start)
    rest = text[end:].lstrip(_WS)
    if rest:
        raise JWTError(f"invalid character {gojson.go_quote_char(rest[0])} after top-level value")
    if not isinstance(value, dict):
        raise JWTError(f"json: cannot unmarshal {gojson.json_kind(value)} into Go value of type {go_type}")
    return value


def _decode_claims(data: bytes) -> dict[str, Any]:
    """`json.NewDecoder(...).Decode(&MapClaims)`: first value only; `null` leaves no claims."""
    try:
        value = gojson.decode_first(data)
    except gojson.DecodeError as exc:
        raise JWTError(str(exc)) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise JWTError(f"json: cannot unmarshal {gojson.json_kind(value)} into Go value of type jwt.MapClaims")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _seconds(value: float) -> int:
    """A NumericDate truncated to seconds (Go converts out-of-range floats to MinInt64)."""
    if abs(value) >= 2**63:
        return -(2**63)
    return math.floor(value)


def _claim_ok(claims: dict[str, Any], name: str, now: int, accept: Callable[[int, int], bool]) -> bool:
    if name not in claims:
        return True
    value = claims[name]
    if not _is_number(value):
        return False
    if value == 0:
        return True
    return accept(now, _seconds(value))


def parse_jwt(token: str, secret: str, now: int) -> dict[str, Any]:
    """Parse and verify like jwt.Parse with Kapacitor's key function; returns the claims."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JWTError("token contains an invalid number of segments")
    try:
        header_bytes = _raw_url_decode(parts[0])
    except JWTError:
        if token.lower().startswith("bearer "):
            raise JWTError("tokenstring should not contain 'bearer '") from None
        raise
    header = _unmarshal_object(header_bytes, "map[string]interface {}")
    claims = _decode_claims(_raw_url_decode(parts[1]))
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise JWTError("signing method (alg) is unspecified.")
    if alg not in _KNOWN_ALGS:
        raise JWTError("signing method (alg) is unavailable.")
    digest = _HMAC_ALGS.get(alg)
    if digest is None:
        raise JWTError(f"unexpected signing method: {alg}")
    signature = _raw_url_decode(parts[2])
    if not secret:
        # The real server verifies against the empty key, so anyone can sign an admin token.
        raise JWTError("signature is invalid (no shared secret is set: the mock accepts no tokens)")
    expected = hmac.new(secret.encode("utf-8"), f"{parts[0]}.{parts[1]}".encode("latin-1", "replace"), digest).digest()
    if not hmac.compare_digest(signature, expected):
        raise JWTError("signature is invalid")
    problem = ""
    if not _claim_ok(claims, "exp", now, lambda n, t: n < t):
        problem = "Token is expired"
    if not _claim_ok(claims, "iat", now, lambda n, t: n >= t):
        problem = "Token used before issued"
    if not _claim_ok(claims, "nbf", now, lambda n, t: n >= t):
        problem = "Token is not valid yet"
    if problem:
        raise JWTError(problem)
    return claims


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(claims: dict[str, Any], secret: str = DEFAULT_SHARED_SECRET, alg: str = "HS512") -> str:
    """Sign a token the way Kapacitor's clients do (tests and examples use it)."""
    head = _b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode("utf-8"), f"{head}.{body}".encode(), _HMAC_ALGS[alg]).digest()
    return f"{head}.{body}.{_b64url(signature)}"


# ---- authorization --------------------------------------------------------------------------------


def authorize(user: AuthUser, method: str, path: str) -> None:
    """AuthFailure(403, ...) when the user lacks the method's privilege on the path's resource."""
    privilege = _METHOD_PRIVILEGE.get(method.upper(), ALL_PRIVILEGES)
    if not user.allowed(api_resource(path), privilege):
        raise AuthFailure(
            403,
            f'user {user.name} does not have "{_PRIVILEGE_NAMES[privilege]}" privilege '
            f"for API endpoint {go_quote(path)}",
        )


def verify(
    method: str,
    path: str,
    authorization: str | None,
    query_string: str,
    users: UserStore,
    *,
    secret: str = DEFAULT_SHARED_SECRET,
    bypass_debug: bool = False,
    now: Callable[[], float] = time.time,
) -> None:
    """One pass of authenticate+authorize for `path`: returns to proceed, raises AuthFailure."""
    if method == "OPTIONS":
        return
    if bypass_debug and (path.startswith(DEBUG_PREFIXES[0]) or path == DEBUG_PREFIXES[1]):
        return
    user = authenticate(authorization, query_string, users, secret=secret, now=now)
    authorize(user, method, path)


def check(
    method: str,
    path: str,
    authorization: str | None,
    query_string: str,
    users: UserStore,
    *,
    secret: str = DEFAULT_SHARED_SECRET,
    with_message: bool = True,
    bypass_debug: bool = False,
    now: Callable[[], float] = time.time,
) -> tuple[int, bytes] | None:
    """`verify` answered: None to proceed, else the (status, body) the server answers with."""
    try:
        verify(
            method, path, authorization, query_string, users, secret=secret, bypass_debug=bypass_debug, now=now
        )
    except AuthFailure as exc:
        return exc.status, error_answer(exc, with_message).body
    return None


def verify_request(req: Any, state: Any, config: Any, path: str | None = None) -> None:
    """`verify` for a Falcon request; `path` overrides req.path (the rewritten preview path)."""
    if not getattr(config, "auth", False):
        return
    try:
        verify(
            req.method,
            req.path if path is None else path,
            req.get_header("Authorization"),
            req.query_string or "",
            state.users,
            secret=shared_secret(config),
            bypass_debug=bool(getattr(config, "pprof_enabled", False)),
        )
    except AuthFailure:
        raise
    except Exception:
        # A bug in credential parsing: counted like any other mock bug, and it never lets anyone in.
        state.internal_errors += 1
        log.exception("unhandled error authenticating %s %s", req.method, path or req.path)
        raise AuthFailure(401, "unable to parse authentication credentials") from None


def shared_secret(config: Any) -> str:
    return str(getattr(config, "shared_secret", DEFAULT_SHARED_SECRET) or "")


def request_user(req: Any, state: Any, config: Any) -> AuthUser:
    """The user a request runs as: everyone is the anonymous admin while auth is off."""
    if not getattr(config, "auth", False):
        return ANONYMOUS
    try:
        return authenticate(
            req.get_header("Authorization"), req.query_string or "", state.users, secret=shared_secret(config)
        )
    except Exception:
        return AuthUser("", False)  # unreachable once the app has checked the request
