"""Hostile input never crashes, stalls or bloats the mock (issue 10, "every input bounded").

Each attack from the issue is replayed in-process with a time bound: it must get the real server's
error (or a clear 4xx), leave the internal-error counter at zero, and never evaluate a pattern or a
patch while holding the state's lock.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockserver import auth, gojson
from mockserver.store import jsonpatch, listing
from mockserver.tickscript.regexes import RegexError, compile_go_regex
from spec import operations
from tests.mock.conftest import Api, error_of

V1 = "/kapacitor/v1"
HUGE = "9" * 5000
TASK = {"id": "t", "type": "stream", "dbrps": [{"db": "db", "rp": "rp"}], "script": "stream|from()"}
HANDLER = {"id": "h", "kind": "log", "options": {"path": "/tmp/alert.log"}}


@pytest.fixture
def mock(make_api: Callable[..., Api]) -> Iterator[Api]:
    api = make_api(auth=False)
    yield api
    assert api.state.internal_errors == 0


def deep(depth: int, leaf: str = "1") -> bytes:
    return ("[" * depth + leaf + "]" * depth).encode()


# ---- numbers ---------------------------------------------------------------------------------------


def test_a_number_beyond_float64_is_gos_decode_error() -> None:
    for literal in (HUGE, "-" + HUGE, "1e999", "1" + "0" * 309):
        with pytest.raises(gojson.DecodeError) as exc:
            gojson.decode_first(f'{{"a": [{literal}]}}'.encode())
        assert str(exc.value) == f"json: cannot unmarshal number {literal} into Go value of type float64"
    # Within float64's range a long integer is still a number.
    assert gojson.decode_first(("1" + "0" * 300).encode()) == 10**300


def test_a_syntax_error_after_a_huge_number_wins() -> None:
    with pytest.raises(gojson.DecodeError, match="invalid character"):
        gojson.decode_first(f"[{HUGE}, x]".encode())


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"{V1}/tasks", {**TASK, "vars": {"v": {"type": "int", "value": "HUGE"}}}),
        ("POST", f"{V1}/templates", {"id": "tpl", "type": "stream", "script": "HUGE"}),  # a known field: an unknown one is ignored, as on the server
        ("POST", f"{V1}/alerts/topics/t/handlers", {**HANDLER, "options": {"path": "HUGE"}}),
        ("POST", f"{V1}/config/smtp/", {"set": {"port": "HUGE"}}),
        ("POST", f"{V1}/recordings/stream", {"task": "t", "stop": "HUGE"}),
        ("POST", f"{V1}/replays", {"task": "t", "recording": "HUGE"}),
        ("POST", f"{V1}/loglevel", {"level": "HUGE"}),
    ],
)
def test_huge_numbers_in_bodies_are_client_errors(mock: Api, method: str, path: str, body: Any) -> None:
    raw = json.dumps(body).replace('"HUGE"', HUGE)
    resp = mock.request(method, path, body=raw)
    assert 400 <= resp.status < 500, resp.body[:200]


def test_config_port_of_ten_to_the_thousand(mock: Api) -> None:
    resp = mock.post(f"{V1}/config/smtp/", body=json.dumps({"set": {"port": 10**1000}}))
    assert resp.status == 400
    assert "cannot unmarshal number 1000" in error_of(resp)
    # Inside float64's range Go converts to int as amd64 does (MinInt64 out of int64's range).
    resp = mock.post(f"{V1}/config/smtp/", body=json.dumps({"set": {"port": 10**300}}))
    assert resp.status == 400
    assert error_of(resp).endswith("failed validation: invalid port -9223372036854775808")


# ---- nesting ---------------------------------------------------------------------------------------


def test_nesting_limit_with_gos_error_text() -> None:
    assert gojson.decode_first(deep(gojson.MAX_DEPTH)) is not None
    with pytest.raises(gojson.DecodeError, match=r"^invalid character '\[' exceeded max depth$"):
        gojson.decode_first(deep(gojson.MAX_DEPTH + 1))
    with pytest.raises(gojson.DecodeError, match=r"^invalid character '\{' exceeded max depth$"):
        gojson.decode_first(b'{"a":' * 150 + b"1" + b"}" * 150)
    # Brackets inside strings do not count.
    assert gojson.decode_first(json.dumps(["[" * 5000]).encode()) == ["[" * 5000]


JSON_OPS = [op for op in operations() if op.method in ("POST", "PUT", "PATCH")]


@pytest.mark.parametrize("op", JSON_OPS, ids=[op.operation_id for op in JSON_OPS])
def test_deep_bodies_on_every_json_endpoint(mock: Api, op: Any) -> None:
    path = op.path.replace("{", "").replace("}", "")
    started = time.monotonic()
    for depth in (2100, 3000):
        resp = mock.request(op.method, path, body=deep(depth))
        assert resp.status < 500 or resp.status == 501, (op.operation_id, resp.status, resp.body[:200])
        assert b"internal mock error" not in resp.body
    assert time.monotonic() - started < 5


def test_deep_values_inside_a_json_patch(mock: Api) -> None:
    assert mock.post(f"{V1}/alerts/topics/t/handlers", HANDLER).status == 200
    for depth in (2100, 3000):
        patch = f'[{{"op":"add","path":"/options/x","value":{deep(depth).decode()}}}]'
        resp = mock.request("PATCH", f"{V1}/alerts/topics/t/handlers/h", body=patch)
        assert resp.status == 400
        assert error_of(resp) == "invalid patch json: invalid character '[' exceeded max depth"


# ---- list windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", ["tasks", "templates"])
def test_int64_max_offset_with_a_pattern(mock: Api, collection: str) -> None:
    assert mock.post(f"{V1}/tasks", TASK).status == 200
    resp = mock.get(f"{V1}/{collection}", params={"offset": str(2**63 - 1), "pattern": "x*"})
    assert resp.status == 200
    assert resp.json == {collection: []}


def test_int64_max_offset_on_users(make_api: Callable[..., Api]) -> None:
    api = make_api(auth=True)
    basic = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    resp = api.get(f"{V1}/users", params={"offset": str(2**63 - 1), "pattern": "a*"}, headers=basic)
    assert resp.status == 200 and resp.json == {"users": []}
    assert api.state.internal_errors == 0


def test_window_edges() -> None:
    index = listing.SortedIndex()
    for name in ("a1", "a2", "b1"):
        index.add(name)
    assert index.window("a*", 2**63 - 1, 2**63 - 1) == []
    assert index.window("a*", 1, 2**63 - 1) == ["a2"]
    assert index.window("", 2, 2**63 - 1) == ["b1"]
    assert list(index.matching("?1")) == ["a1", "b1"]


# ---- globs -----------------------------------------------------------------------------------------

BIG_CLASS = "[" + "a-b" * 6600 + "]*"  # 20 KB: Go walks every range for every character


def test_a_20kb_class_pattern_is_cheap(mock: Api) -> None:
    for i in range(300):
        mock.post(f"{V1}/tasks", {**TASK, "id": f"t{i:04d}"})
    started = time.monotonic()
    resp = mock.get(f"{V1}/tasks", params={"pattern": BIG_CLASS, "fields": "id"})
    assert resp.status == 200 and resp.json == {"tasks": []}
    resp = mock.get(f"{V1}/tasks", params={"pattern": "[" + "s-u" * 6600 + "]00[0-9]?", "fields": "id"})
    assert [t["id"] for t in resp.json["tasks"]] == [f"t{i:04d}" for i in range(100)]
    assert time.monotonic() - started < 3


def lock_is_free(lock: Any) -> bool:
    """True when another thread could take `lock` now (i.e. the caller does not hold it)."""
    result: list[bool] = []

    def probe() -> None:
        got = lock.acquire(timeout=2)
        if got:
            lock.release()
        result.append(got)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result == [True]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"{V1}/tasks", {"pattern": "t*"}),
        (f"{V1}/templates", {"pattern": "t*"}),
        (f"{V1}/alerts/topics", {"pattern": "t*"}),
        (f"{V1}/alerts/topics/t/handlers", {"pattern": "h*"}),
    ],
)
def test_globs_are_matched_outside_the_lock(mock: Api, monkeypatch: pytest.MonkeyPatch, path: str, params: Any) -> None:
    mock.post(f"{V1}/tasks", TASK)
    mock.post(f"{V1}/templates", {"id": "tpl", "type": "stream", "script": "stream|from()"})
    mock.post(f"{V1}/alerts/topics/t/handlers", HANDLER)
    calls: list[bool] = []
    real = listing.compile_glob

    def spy(pattern: str) -> Callable[[str], bool]:
        calls.append(lock_is_free(mock.state.lock))
        return real(pattern)

    monkeypatch.setattr(listing, "compile_glob", spy)
    from mockserver.store import alerts

    monkeypatch.setattr(alerts, "compile_glob", spy)
    assert mock.get(path, params=params).status == 200
    assert calls and all(calls)


# ---- gzip ------------------------------------------------------------------------------------------


def test_gzip_bomb_on_write_is_refused_quickly(mock: Api) -> None:
    bomb = gzip.compress(b"\0" * (256 << 20), 9)  # 256 MiB in about 250 KB
    started = time.monotonic()
    resp = mock.post("/write", body=bomb, params={"db": "db"}, headers={"Content-Encoding": "gzip"})
    assert resp.status == 413
    assert resp.body == b"http: request body too large\n"
    assert time.monotonic() - started < 10


def test_gzip_within_the_cap_still_writes(mock: Api) -> None:
    body = gzip.compress(b"cpu value=1 1\n" * 1000) * 2  # multistream, as Go's reader accepts
    resp = mock.post("/write", body=body, params={"db": "db"}, headers={"Content-Encoding": "gzip"})
    assert resp.status == 204, resp.body


# ---- JSON Patch ------------------------------------------------------------------------------------


def test_doubling_copy_patch_is_refused_quickly(mock: Api) -> None:
    assert mock.post(f"{V1}/alerts/topics/t/handlers", HANDLER).status == 200
    before = mock.get(f"{V1}/alerts/topics/t/handlers/h").json
    ops = [{"op": "copy", "from": "/options", "path": f"/options/p{i}"} for i in range(20)]
    started = time.monotonic()
    resp = mock.patch(f"{V1}/alerts/topics/t/handlers/h", ops)
    assert time.monotonic() - started < 5
    assert resp.status == 400
    assert error_of(resp).startswith("failed to apply patch: patched document too large")
    assert mock.get(f"{V1}/alerts/topics/t/handlers/h").json == before


def test_patch_that_nests_too_deep_is_refused() -> None:
    doc = jsonpatch.to_raw({"options": {"a": 1}})
    ops = [{"op": "copy", "from": "/options", "path": f"/options/n{i}"} for i in range(3)]
    assert jsonpatch.apply_patch(doc, ops)  # small growth is fine
    deep_value = gojson.decode_first(deep(60))
    ops = [
        {"op": "add", "path": "/options/x", "value": deep_value},
        {"op": "copy", "from": "/options", "path": "/options/x" + "/0" * 59},
    ]
    with pytest.raises(jsonpatch.PatchError, match="nests deeper than"):
        jsonpatch.apply_patch(jsonpatch.to_raw({"options": {}}), ops)


def test_moving_a_large_subtree_back_and_forth_is_bounded() -> None:
    doc = jsonpatch.to_raw({"options": {f"k{i}": "v" * 50 for i in range(10_000)}})
    ops = [{"op": "move", "from": "/options", "path": "/o2"}, {"op": "move", "from": "/o2", "path": "/options"}] * 500
    started = time.monotonic()
    with pytest.raises(jsonpatch.PatchError, match=r"^patch too expensive"):
        jsonpatch.apply_patch(doc, ops)
    assert time.monotonic() - started < 5


def test_patches_run_outside_the_lock(mock: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.store import alerts

    assert mock.post(f"{V1}/alerts/topics/t/handlers", HANDLER).status == 200
    seen: list[bool] = []
    real = alerts.library_for

    def spy(doc: Any, ops: Any) -> Any:
        seen.append(lock_is_free(mock.state.lock))
        return real((1, 8, 3)).apply(doc, ops)

    monkeypatch.setattr(alerts, "library_for", lambda version: dataclasses.replace(real(version), apply=spy))
    resp = mock.patch(
        f"{V1}/alerts/topics/t/handlers/h", [{"op": "replace", "path": "/options/path", "value": "/tmp/b"}]
    )
    assert resp.status == 200 and seen == [True]


def test_a_patch_retries_when_the_handler_changed_meanwhile(mock: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.store import alerts

    assert mock.post(f"{V1}/alerts/topics/t/handlers", HANDLER).status == 200
    real = alerts.library_for
    raced: list[int] = []

    def racing(doc: Any, ops: Any) -> Any:
        if not raced:  # a PUT lands between the read and the commit of the first attempt
            raced.append(
                mock.put(f"{V1}/alerts/topics/t/handlers/h", {**HANDLER, "options": {"path": "/tmp/put"}}).status
            )
        return real((1, 8, 3)).apply(doc, ops)

    monkeypatch.setattr(alerts, "library_for", lambda version: dataclasses.replace(real(version), apply=racing))
    resp = mock.patch(f"{V1}/alerts/topics/t/handlers/h", [{"op": "add", "path": "/match", "value": "\"x\" == 'y'"}])
    assert raced == [200]
    assert resp.status == 200
    # The retry patched the PUT's result, not the stale spec.
    assert resp.json["options"] == {"path": "/tmp/put"}


# ---- regexes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("(a{1000}){1000}", "invalid repeat count: `{1000}`"),
        ("(a{100}){11}", "invalid repeat count: `{11}`"),
        ("(a{2,}){501}", "invalid repeat count: `{501}`"),
        ("a{1001}", "invalid repeat count: `{1001}`"),
        ("a{99999999999999999999}", "invalid repeat count: `{99999999999999999999}`"),
        ("a{1000}" * 101, "expression too large: `" + "a{1000}" * 101 + "`"),
    ],
)
def test_re2_repeat_and_size_limits(pattern: str, error: str) -> None:
    with pytest.raises(RegexError) as exc:
        compile_go_regex(pattern)
    assert str(exc.value) == f"error parsing regexp: {error}"


@pytest.mark.parametrize("pattern", ["(a{100}){10}", "(a{0,1}){1000}", "a{1000}", "(a*)*b", "x{2,}y{3}"])
def test_re2_accepts_what_go_accepts(pattern: str) -> None:
    compile_go_regex(pattern)


def test_regex_literal_in_a_task_gets_gos_error(mock: Api) -> None:
    script = 'stream|from().where(lambda: "x" =~ /(a{1000}){1000}/)'
    started = time.monotonic()
    resp = mock.post(f"{V1}/tasks", {**TASK, "script": script})
    assert resp.status == 400
    assert "invalid repeat count: `{1000}`" in error_of(resp)
    assert time.monotonic() - started < 2


# ---- credentials -----------------------------------------------------------------------------------


@pytest.fixture
def secured(make_api: Callable[..., Api]) -> Iterator[Api]:
    api = make_api(auth=True, shared_secret="s3cret")
    yield api
    assert api.state.internal_errors == 0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bearer(claims: bytes, secret: str = "s3cret") -> dict[str, str]:
    """A correctly signed HS512 token around raw claim bytes (make_token would re-encode them)."""
    head = b64(b'{"alg":"HS512","typ":"JWT"}')
    body = b64(claims)
    sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha512).digest())
    return {"Authorization": f"Bearer {head}.{body}.{sig}"}


@pytest.mark.parametrize(
    "claims",
    [
        b'{"exp":' + HUGE.encode() + b',"username":"admin"}',
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b"[" * 3000,
        b'{"exp":1e999,"username":"admin"}',
    ],
)
def test_crafted_bearer_claims_are_401(secured: Api, claims: bytes) -> None:
    resp = secured.get(f"{V1}/ping", headers=bearer(claims))
    assert resp.status == 401
    assert error_of(resp).startswith("invalid token: ")


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + "A" * 100_001,
        "Basic ////",
        "Basic " + "w6k=",
        "Bearer " + "." * 5000,
        "Bearer a.b.c",
        "bearer x",
        "\u00ff\u00fe",
    ],
)
def test_odd_authorization_headers_are_401(secured: Api, header: str) -> None:
    assert secured.get(f"{V1}/ping", headers={"Authorization": header}).status == 401


def test_query_credentials_cannot_crash(secured: Api) -> None:
    for query in ({"u": "admin", "p": "x" * 10_000}, {"u": "\xff", "p": "a"}, {"u": "a" * 5000, "p": "b"}):
        assert secured.get(f"{V1}/ping", params=query).status == 401
    assert secured.get(f"{V1}/ping", params={"u": "admin", "p": "admin"}).status == 204


def test_a_token_signed_with_the_empty_secret_is_refused(make_api: Callable[..., Api]) -> None:
    api = make_api(auth=True)  # shared_secret defaults to ""
    token = auth.make_token({"username": "admin", "exp": time.time() + 3600}, "")
    resp = api.get(f"{V1}/tasks", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401
    assert "no shared secret" in error_of(resp)
    assert api.state.internal_errors == 0


def test_mock_control_routes_need_credentials(secured: Api) -> None:
    event = {"id": "e", "message": "m", "level": "OK"}
    resp = secured.post("/mock/alerts/topics/t/events", event)
    assert resp.status == 401
    assert secured.get(f"{V1}/alerts/topics/t", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).status == 404
    resp = secured.post("/mock/alerts/topics/t/events", event, headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert resp.status == 200


def test_passwords_are_stored_as_bcrypt(secured: Api) -> None:
    admin = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    resp = secured.post(
        f"{V1}/users", {"name": "bob", "password": "pw", "type": "normal", "permissions": ["api"]}, headers=admin
    )
    assert resp.status == 200, resp.body
    stored = secured.state.users.snapshot()["users"]
    assert {u["name"] for u in stored} == {"admin", "bob"}
    for user in stored:
        assert user["hash"].startswith("$2b$") and user["salt"] == ""
    assert secured.get(f"{V1}/ping", params={"u": "bob", "p": "pw"}).status == 204
    assert secured.get(f"{V1}/ping", params={"u": "bob", "p": "pw2"}).status == 401


def test_backups_with_sha256_hashes_still_log_in_and_bad_ones_never_crash(secured: Api) -> None:
    salt = "00112233445566778899aabbccddeeff"
    digest = hashlib.sha256(bytes.fromhex(salt) + b"old").hexdigest()
    secured.state.users.restore(
        {
            "users": [
                {"name": "legacy", "admin": True, "salt": salt, "hash": digest, "privileges": {}},
                {"name": "badsalt", "admin": True, "salt": "zz", "hash": digest, "privileges": {}},
                {"name": "badhash", "admin": True, "salt": "", "hash": "$2b$10$short", "privileges": {}},
            ]
        }
    )
    assert secured.get(f"{V1}/ping", params={"u": "legacy", "p": "old"}).status == 204
    assert secured.get(f"{V1}/ping", params={"u": "legacy", "p": "new"}).status == 401
    assert secured.get(f"{V1}/ping", params={"u": "badsalt", "p": "old"}).status == 401
    assert secured.get(f"{V1}/ping", params={"u": "badhash", "p": "old"}).status == 401


def test_a_changed_password_is_not_served_from_the_cache(secured: Api) -> None:
    admin = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    secured.post(f"{V1}/users", {"name": "bob", "password": "one", "type": "admin"}, headers=admin)
    assert secured.get(f"{V1}/ping", params={"u": "bob", "p": "one"}).status == 204
    assert secured.patch(f"{V1}/users/bob", {"password": "two"}, headers=admin).status == 200
    assert secured.get(f"{V1}/ping", params={"u": "bob", "p": "one"}).status == 401
    assert secured.get(f"{V1}/ping", params={"u": "bob", "p": "two"}).status == 204
    assert secured.delete(f"{V1}/users/bob", headers=admin).status == 204
    assert secured.get(f"{V1}/ping", params={"u": "bob", "p": "two"}).status == 401


# ---- leaks -----------------------------------------------------------------------------------------


def test_handler_dicts_of_a_topic_go_with_its_last_handler(mock: Api) -> None:
    for i in range(50):
        assert mock.post(f"{V1}/alerts/topics/topic{i}/handlers", HANDLER).status == 200
        assert mock.delete(f"{V1}/alerts/topics/topic{i}/handlers/h").status == 204
        assert mock.delete(f"{V1}/alerts/topics/topic{i}").status == 204
    assert mock.state.alerts.handlers == {}
    assert mock.state.alerts.topics == {}
