"""Hostile input never reaches an unhandled exception: every operation of the spec, fed random
path IDs, query strings and JSON (or raw) bodies, answers with a status the spec documents for it
and leaves the mock's internal-error counter at zero."""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from typing import Any
from urllib.parse import quote

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import create_app
from mockserver.config import MockConfig
from spec import operations

APP = create_app(MockConfig(auth=False, flux_tasks=True, run_delay=0.0))
CLIENT = falcon.testing.TestClient(APP)
OPS = [op for op in operations()]
PARAM = re.compile(r"\{[^}]+\}")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
KEYS = ["id", "ID", "script", "dbrps", "vars", "status", "type", "template-id", "task", "recording", "stop", "start",
        "query", "clock", "recording-time", "kind", "options", "match", "set", "delete", "add", "remove", "action",
        "level", "flux", "name", "password", "permissions", "description", "every", "cron"]  # fmt: skip
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
segments = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=10)


@pytest.mark.parametrize("op", OPS, ids=[op.operation_id for op in OPS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_unhandled_errors(op: Any, data: st.DataObject) -> None:
    path = PARAM.sub(lambda _m: quote(data.draw(segments), safe=""), op.path)
    query = data.draw(st.lists(st.tuples(st.sampled_from(["offset", "limit", "pattern", "fields", "min-level",
                                                          "script-format", "dot-view", "db", "precision"]),
                                         st.text(max_size=6)), max_size=3))  # fmt: skip
    body = data.draw(bodies) if op.method in ("POST", "PUT", "PATCH") else None
    before = APP.mock_state.internal_errors
    resp = CLIENT.simulate_request(
        op.method,
        path,
        query_string="&".join(f"{k}={quote(v)}" for k, v in query) or None,
        body=body,
        headers={"X-Kapacitor-Mock-Stream-Seconds": "0"},  # the log stream ends at once
    )
    assert APP.mock_state.internal_errors == before, resp.text
    if resp.status_code >= 500:
        # Only the 5xx the real server answers for this operation (the spec lists them).
        assert str(resp.status_code) in op.response_codes(), (op.operation_id, resp.status_code, resp.text)


# ---- hostile bodies: huge numbers, deep nesting, compressed payloads -------------------------------

huge_numbers = st.builds(
    lambda sign, digits, frac: sign + "9" * digits + frac,
    st.sampled_from(["", "-"]),
    st.integers(300, 6000),
    st.sampled_from(["", ".5", "e999", "e-999"]),
)
nested = st.builds(
    lambda opener, depth, leaf: opener * depth + leaf + ("]" if opener == "[" else "}") * depth,
    st.sampled_from(["[", '{"a":']),
    st.integers(90, 3000),
    st.sampled_from(["1", '"x"', "[]", "{}", "9" * 5000]),
)
hostile_json = st.one_of(
    st.tuples(st.sampled_from(KEYS), huge_numbers).map(lambda kv: f'{{"{kv[0]}": {kv[1]}}}'),
    st.tuples(st.sampled_from(KEYS), nested).map(lambda kv: f'{{"{kv[0]}": {kv[1]}}}'),
    nested,
    huge_numbers,
    st.tuples(st.sampled_from(KEYS), huge_numbers).map(
        lambda kv: f'[{{"op": "add", "path": "/options/{kv[0]}", "value": {kv[1]}}}]'
    ),
).map(str.encode)
compressed = st.one_of(
    hostile_json,
    bodies,
    st.just(b"cpu value=1 1\n" * 64),
    st.builds(lambda n: b"\0" * n, st.integers(0, 64 << 20)),  # up to a 64 MiB bomb
).map(lambda raw: gzip.compress(raw, 6))
hostile_queries = st.lists(
    st.tuples(
        st.sampled_from(["offset", "limit", "pattern"]),
        st.sampled_from([str(2**63 - 1), str(-(2**63)), "9" * 30, "[" + "a-b" * 300 + "]*", "*?*?*?x"]),
    ),
    max_size=3,
)


@pytest.mark.parametrize("op", OPS, ids=[op.operation_id for op in OPS])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_bodies_are_client_errors(op: Any, data: st.DataObject) -> None:
    """Huge numbers, deep nesting, gzip bodies (bombs included) and int64-edge list windows: never
    a mock error, never a 5xx the real server does not answer, always quick."""
    path = PARAM.sub(lambda _m: quote(data.draw(segments), safe=""), op.path)
    query = data.draw(hostile_queries)
    headers = {"X-Kapacitor-Mock-Stream-Seconds": "0"}
    body = None
    if op.method in ("POST", "PUT", "PATCH"):
        if data.draw(st.booleans()):
            body = data.draw(compressed)
            headers["Content-Encoding"] = "gzip"
        else:
            body = data.draw(hostile_json)
    before = APP.mock_state.internal_errors
    started = time.monotonic()
    resp = CLIENT.simulate_request(
        op.method,
        path,
        query_string="&".join(f"{k}={quote(v)}" for k, v in query) or None,
        body=body,
        headers=headers,
    )
    assert APP.mock_state.internal_errors == before, resp.text
    assert time.monotonic() - started < 10
    if resp.status_code >= 500:
        assert str(resp.status_code) in op.response_codes(), (op.operation_id, resp.status_code, resp.text[:300])


# ---- credentials parsed before any route: never a 500 ----------------------------------------------

AUTH_APP = create_app(MockConfig(auth=True, shared_secret="s"))
AUTH_CLIENT = falcon.testing.TestClient(AUTH_APP)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


segment_payloads = st.one_of(
    st.binary(max_size=40),
    hostile_json,
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["exp", "username", "iat", "nbf", "alg"]), json_values, max_size=4).map(
        lambda v: json.dumps(v).encode()
    ),
)
authorizations = st.one_of(
    st.text(max_size=60).map(lambda t: t.encode("latin-1", "replace").decode("latin-1")),
    st.binary(max_size=60).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    st.tuples(segment_payloads, segment_payloads, st.binary(max_size=64)).map(
        lambda parts: "Bearer " + ".".join(_b64(p) for p in parts)
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(header=authorizations, user=st.text(max_size=20), password=st.text(max_size=20))
def test_credentials_never_crash(header: str, user: str, password: str) -> None:
    before = AUTH_APP.mock_state.internal_errors
    resp = AUTH_CLIENT.simulate_get(
        "/kapacitor/v1/ping", headers={"Authorization": header}, query_string=f"u={quote(user)}&p={quote(password)}"
    )
    assert AUTH_APP.mock_state.internal_errors == before
    assert resp.status_code in (204, 401, 403), resp.text
