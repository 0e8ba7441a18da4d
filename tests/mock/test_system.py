"""Server-level endpoints: sideload, log level, routes, debug vars, pprof and the preview log
stream (behaviour reference §13.2-13.6, §13.8; services/httpd/handler.go, services/diagnostic;
transcript exchanges 70, 71, 79; TestServer_TaskNums, TestServer_Pprof_Index)."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.operations import system
from mockserver.server import serve_in_thread
from mockserver.store.users import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USER
from tests.mock.conftest import Api
from tests.mock.spec_check import assert_matches_spec, response_schema

B = "/kapacitor/v1"
LOGS = "/kapacitor/v1preview/logs"
SHORT = {system.STREAM_SECONDS_HEADER: "0.3"}


@pytest.fixture
def api_() -> Api:
    return Api(create_app(MockConfig()))


# ---- sideload, log level --------------------------------------------------------------------------


def test_sideload_reload(api_: Api) -> None:
    resp = api_.post(f"{B}/sideload/reload", body="ignored")
    assert resp.status == 204
    assert resp.body == b""
    assert_matches_spec("reloadSideload", 204, resp.body)


def test_link_subscriptions_with_no_influxdb(api_: Api) -> None:
    """A real 1.5.7 with its `[[influxdb]]` section disabled: POST 204 with no body, GET 404."""
    resp = api_.post(f"{B}/subscriptions", body="ignored")
    assert (resp.status, resp.body) == (204, b"")
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    assert_matches_spec("linkSubscriptions", 204, resp.body)
    assert api_.get(f"{B}/subscriptions").status == 404


@pytest.mark.parametrize("level", ["debug", "INFO", "Error", "DEBUG"])
def test_log_level_accepted(api_: Api, level: str) -> None:
    resp = api_.post(f"{B}/loglevel", {"level": level})
    assert resp.status == 204
    assert_matches_spec("setLogLevel", 204, resp.body)
    assert system.runtime(api_.state).log_level == level.upper()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"level": "warn"}', "invalid log level"),
        ('{"level": "OFF"}', "invalid log level"),
        ("{}", "invalid log level"),
        ("", "invalid json: EOF"),
        ("{", "invalid json: unexpected EOF"),
        ('{"level": 1}', "invalid json: json: cannot unmarshal number into Go struct field LogLevelOptions.level of type string"),
        ("[]", "invalid json: json: cannot unmarshal array into Go value of type client.LogLevelOptions"),
    ],
)  # fmt: skip
def test_log_level_errors(api_: Api, body: str, message: str) -> None:
    resp = api_.post(f"{B}/loglevel", body=body)
    assert resp.status == 400
    assert_matches_spec("setLogLevel", 400, resp.body)
    assert resp.json == {"error": message, "message": message}


# ---- routes ---------------------------------------------------------------------------------------

# `GET /kapacitor/v1/:routes` of a 1.5.9 server without auth or Flux tasks (transcript 71), minus the
# internal `/kapacitor/v1/subscriptions` route the API does not document.
ROUTES_1_5_9 = {
    "/": ["HEAD", "OPTIONS", "GET", "POST", "PATCH", "PUT", "DELETE"],
    "/kapacitor/v1/:routes": ["GET"],
    "/kapacitor/v1/alerts/topics": ["GET"],
    "/kapacitor/v1/alerts/topics/": ["OPTIONS", "GET", "POST", "PATCH", "PUT", "DELETE"],
    "/kapacitor/v1/config": ["GET"],
    "/kapacitor/v1/config/": ["GET", "POST"],
    "/kapacitor/v1/debug/pprof/": ["GET"],
    "/kapacitor/v1/debug/pprof/cmdline": ["GET"],
    "/kapacitor/v1/debug/pprof/profile": ["GET"],
    "/kapacitor/v1/debug/pprof/symbol": ["GET"],
    "/kapacitor/v1/debug/pprof/trace": ["GET"],
    "/kapacitor/v1/debug/vars": ["GET"],
    "/kapacitor/v1/loglevel": ["POST"],
    "/kapacitor/v1/ping": ["HEAD", "GET"],
    "/kapacitor/v1/recordings": ["GET"],
    "/kapacitor/v1/recordings/": ["OPTIONS", "GET", "DELETE"],
    "/kapacitor/v1/recordings/batch": ["POST"],
    "/kapacitor/v1/recordings/query": ["POST"],
    "/kapacitor/v1/recordings/stream": ["POST"],
    "/kapacitor/v1/replays": ["GET", "POST"],
    "/kapacitor/v1/replays/": ["OPTIONS", "GET", "DELETE"],
    "/kapacitor/v1/replays/batch": ["POST"],
    "/kapacitor/v1/replays/query": ["POST"],
    "/kapacitor/v1/service-tests": ["GET"],
    "/kapacitor/v1/service-tests/": ["GET", "POST"],
    "/kapacitor/v1/sideload/reload": ["POST"],
    "/kapacitor/v1/storage/": ["POST"],
    "/kapacitor/v1/storage/backup": ["GET"],
    "/kapacitor/v1/storage/stores": ["GET"],
    "/kapacitor/v1/subscriptions": ["POST"],
    "/kapacitor/v1/tasks": ["GET", "POST"],
    "/kapacitor/v1/tasks/": ["OPTIONS", "GET", "PATCH", "DELETE"],
    "/kapacitor/v1/templates": ["GET", "POST"],
    "/kapacitor/v1/templates/": ["OPTIONS", "GET", "PATCH", "DELETE"],
    "/kapacitor/v1/write": ["OPTIONS", "POST"],
    "/kapacitor/v1preview/": ["HEAD", "OPTIONS", "GET", "POST", "PATCH", "PUT", "DELETE"],
    "/kapacitor/v1preview/logs": ["GET"],
    "/write": ["OPTIONS", "POST"],
}


def test_routes_match_a_real_server(api_: Api) -> None:
    resp = api_.get(f"{B}/:routes")
    assert resp.status == 200
    assert_matches_spec("listRoutes", 200, resp.body)
    assert resp.text.startswith('{\n    "/": [')
    routes = resp.json
    # Every route the mock lists is a real one with the real methods (families still to come may
    # be missing, never wrong).
    assert set(routes) <= set(ROUTES_1_5_9)
    for pattern, methods in routes.items():
        assert sorted(methods) == sorted(ROUTES_1_5_9[pattern]), pattern
    for core in (
        "/",
        "/kapacitor/v1preview/",
        "/kapacitor/v1/ping",
        "/kapacitor/v1/tasks/",
        "/kapacitor/v1preview/logs",
    ):
        assert core in routes


def test_routes_follow_optional_services(make_api) -> None:  # type: ignore[no-untyped-def]
    admin = base64.b64encode(f"{DEFAULT_ADMIN_USER}:{DEFAULT_ADMIN_PASSWORD}".encode()).decode()
    secured = make_api(auth=True, flux_tasks=True)
    routes = secured.get(f"{B}/:routes", headers={"Authorization": f"Basic {admin}"}).json
    assert sorted(routes["/kapacitor/v1/users"]) == ["GET", "POST"]
    assert sorted(routes["/kapacitor/v1/users/"]) == ["DELETE", "GET", "OPTIONS", "PATCH"]
    for pattern in ("/kapacitor/v1/api/v2/tasks", "/kapacitor/v1/api/v2/tasks/"):
        assert sorted(routes[pattern]) == ["DELETE", "GET", "PATCH", "POST", "PUT"]
    plain = make_api().get(f"{B}/:routes").json
    assert "/kapacitor/v1/users" not in plain and "/kapacitor/v1/api/v2/tasks" not in plain


# ---- debug vars -----------------------------------------------------------------------------------

STREAM_TASK = {
    "id": "t",
    "type": "stream",
    "dbrps": [{"db": "db", "rp": "rp"}],
    "script": "stream\n    |from()\n        .measurement('cpu')\n",
}


def test_debug_vars_shape(api_: Api) -> None:
    resp = api_.get(f"{B}/debug/vars")
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    assert_matches_spec("debugVars", 200, resp.body)
    text = resp.text
    assert text.startswith("{\n") and text.endswith("\n}\n")
    keys = [line.split('":', 1)[0].strip('"') for line in text[2:-3].split(",\n")]
    assert keys == sorted(keys)
    body = resp.json
    assert set(body) >= {
        "cluster_id", "cmdline", "host", "kapacitor", "memstats", "num_enabled_tasks", "num_subscriptions",
        "num_tasks", "platform", "product", "server_id", "version",
    }  # fmt: skip
    assert (body["product"], body["platform"], body["version"]) == ("kapacitor", "OSS", "1.8.3")
    assert api_.get(f"{B}/debug/vars").json["cluster_id"] == body["cluster_id"]  # stable
    for stat in body["kapacitor"].values():
        assert set(stat) == {"name", "tags", "values"}
        assert stat["tags"]["cluster_id"] == body["cluster_id"]


def test_debug_vars_host_is_the_configured_default(api_: Api) -> None:
    """A real 1.5.7 without a [hostname] setting reports "localhost" (NewConfig), in `host` and in
    every stat's tags, whatever the machine is called; `kapacitor stats general` prints it."""
    body = api_.get(f"{B}/debug/vars").json
    assert body["host"] == "localhost"
    assert {stat["tags"]["host"] for stat in body["kapacitor"].values()} == {"localhost"}


def test_debug_vars_count_ingress_per_series(api_: Api) -> None:
    """Measured on a real 1.5.7: every point written counts in an `ingress` stat of the task master
    per database, retention policy (as given, empty when absent) and measurement, tasks or not."""
    assert api_.post(f"{B}/write?db=xdb", body="m1 v=1\nm1 v=2\nm2,t=1 v=3 ").status == 204
    assert api_.post("/write?db=xdb&rp=r1", body="m1 v=1").status == 204
    body = api_.get(f"{B}/debug/vars").json
    ingress = {
        (s["tags"]["database"], s["tags"]["retention_policy"], s["tags"]["measurement"]): s
        for s in body["kapacitor"].values() if s["name"] == "ingress"
    }
    assert {k: s["values"] for k, s in ingress.items()} == {
        ("xdb", "", "m1"): {"points_received": 2},
        ("xdb", "", "m2"): {"points_received": 1},
        ("xdb", "r1", "m1"): {"points_received": 1},
    }
    for stat in ingress.values():
        assert set(stat["tags"]) == {
            "cluster_id", "database", "host", "measurement", "retention_policy", "server_id", "task_master"
        }  # fmt: skip
        assert (stat["tags"]["task_master"], stat["tags"]["cluster_id"]) == ("main", body["cluster_id"])
    assert api_.post(f"{B}/write?db=xdb", body="m1 v=4").status == 204
    again = api_.get(f"{B}/debug/vars").json["kapacitor"]
    (m1,) = [k for k, s in body["kapacitor"].items() if s["name"] == "ingress" and s["tags"]["measurement"] == "m1"
             and s["tags"]["retention_policy"] == ""]  # fmt: skip
    assert again[m1]["values"] == {"points_received": 3}  # the same stat, counted on


def test_task_counters(api_: Api) -> None:
    counts = lambda: (lambda v: (v["num_tasks"], v["num_enabled_tasks"]))(api_.get(f"{B}/debug/vars").json)
    assert counts() == (0, 0)
    assert api_.post(f"{B}/tasks", STREAM_TASK).status == 200
    assert counts() == (1, 0)
    api_.patch(f"{B}/tasks/t", {"status": "enabled"})
    assert counts() == (1, 1)
    api_.patch(f"{B}/tasks/t", {"status": "disabled"})
    assert counts() == (1, 0)
    api_.patch(f"{B}/tasks/t", {"status": "enabled"})
    api_.delete(f"{B}/tasks/t")
    assert counts() == (0, 0)


# ---- pprof ----------------------------------------------------------------------------------------


def test_pprof_index(api_: Api) -> None:
    resp = api_.get(f"{B}/debug/pprof/")
    assert resp.status == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert response_schema("pprofIndex", 200, "text/html") == {"type": "string"}
    for name in ("heap", "goroutine", "block", "threadcreate"):
        assert f"{name}?debug=1" in resp.text


@pytest.mark.parametrize("name", ["heap", "goroutine", "block", "threadcreate", "mutex", "allocs", "profile"])
def test_pprof_profiles(api_: Api, name: str) -> None:
    resp = api_.get(f"{B}/debug/pprof/{name}")
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["content-disposition"] == f'attachment; filename="{name}"'
    profile = gzip.decompress(resp.body)  # pprof profiles are gzipped protobuf
    assert profile[:1] == b"\x0a"  # field 1 (sample_type), length-delimited
    assert response_schema("pprofProfile", 200, "application/octet-stream") is not None


def test_pprof_text_forms(api_: Api) -> None:
    debug = api_.get(f"{B}/debug/pprof/goroutine", params={"debug": "1"})
    assert (debug.status, debug.headers["content-type"]) == (200, "text/plain; charset=utf-8")
    cmdline = api_.get(f"{B}/debug/pprof/cmdline")
    assert (cmdline.status, cmdline.headers["content-type"]) == (200, "text/plain; charset=utf-8")
    assert cmdline.body.split(b"\x00")[0] == b"kapacitord"


def test_pprof_unknown_profile(api_: Api) -> None:
    resp = api_.get(f"{B}/debug/pprof/nope")
    assert resp.status == 404
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.body == b"Unknown profile\n"
    assert response_schema("pprofProfile", 404, "text/plain") == {"type": "string"}


# ---- log stream -----------------------------------------------------------------------------------


def lines(body: bytes) -> list[str]:
    assert body.endswith(b"\n") or body == b""
    return body.decode().splitlines()


def test_logs_are_json_lines_with_accept_json(api_: Api) -> None:
    resp = api_.get(LOGS, headers={"Accept": "application/json", **SHORT})
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json"
    first = json.loads(lines(resp.body)[0])
    assert list(first)[:3] == ["ts", "lvl", "msg"]
    assert (first["lvl"], first["msg"], first["service"]) == ("info", "created log session", "sessions")
    assert first["content-type"] == "application/json"
    assert first["tags"] == "nil"
    assert first["ts"].endswith("Z") and len(first["ts"]) == len("2017-11-08T17:40:47.183Z")


def test_logs_are_logfmt_otherwise(api_: Api) -> None:
    # The docs say the Content-Type request header chooses JSON; the server looks at Accept.
    resp = api_.get(LOGS, headers={"Content-Type": "application/json", **SHORT})
    assert resp.headers["content-type"] == "application/logfmt"
    first = lines(resp.body)[0]
    assert first.startswith("ts=")
    assert ' lvl=info msg="created log session" service=sessions id=' in first
    assert "content-type=application/logfmt" in first


def test_logs_only_in_preview(api_: Api) -> None:
    assert api_.get(f"{B}/logs").status == 404


def test_duplicate_query_keys(api_: Api) -> None:
    resp = api_.get(LOGS, params=[("task", "a"), ("task", "b")])
    assert resp.status == 400
    assert_matches_spec("streamLogs", 400, resp.body)
    assert resp.json["error"] == "query params cannot contain duplicate params"


def publish_later(state: object, *entries: tuple) -> threading.Timer:
    timer = threading.Timer(0.1, lambda: [system.publish(state, *e) for e in entries])
    timer.start()
    return timer


def test_logs_stream_published_entries_with_filters(api_: Api) -> None:
    publish_later(
        api_.state,
        ("info", "http request", ("service", "http"), ("method", "GET"), ("status", 204)),
        ("error", "boom", ("service", "http"), ("task", "x")),
        ("info", "other", ("service", "task_store")),
    )
    resp = api_.get(LOGS, params={"service": "http"}, headers={"Accept": "application/json", **SHORT})
    entries = [json.loads(line) for line in lines(resp.body)]
    assert [e["msg"] for e in entries] == ["http request", "boom"]  # its own creation entry lacks service=http
    assert entries[0]["status"] == 204


def test_logs_minimum_level(api_: Api) -> None:
    publish_later(api_.state, ("info", "quiet", ("service", "x")), ("error", "loud", ("service", "x")))
    resp = api_.get(LOGS, params={"lvl": "error+"}, headers=SHORT)
    assert [line.split(" msg=")[1].split(" ")[0] for line in lines(resp.body)] == ["loud"]


def test_stream_ends_after_the_requested_time(api_: Api) -> None:
    started = time.monotonic()
    api_.get(LOGS, headers=SHORT)
    assert 0.25 <= time.monotonic() - started < 5
    assert system.runtime(api_.state).sessions == []


def test_stream_over_a_real_socket_stops_when_the_client_leaves() -> None:
    app = create_app(MockConfig())
    handle = serve_in_thread(app, threads=2)
    rt = system.runtime(app.mock_state)
    try:
        sock = socket.create_connection((handle.host, handle.port), timeout=5)
        sock.sendall(
            f"GET {LOGS} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n"
            f"{system.STREAM_SECONDS_HEADER}: 20\r\n\r\n".encode()
        )
        data = b""
        while b"created log session" not in data:
            chunk = sock.recv(4096)
            assert chunk, data
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode().lower()
        assert head.startswith("http/1.1 200")
        assert "transfer-encoding: chunked" in head
        assert len(rt.sessions) == 1
        sock.close()
        deadline = time.monotonic() + 10
        while rt.sessions and time.monotonic() < deadline:
            system.publish(app.mock_state, "info", "tick", ("service", "test"))
            time.sleep(0.05)
        assert rt.sessions == []  # the worker thread was released long before the 20 s limit
        other = Api(app, handle.url).get(f"{B}/ping")
        assert other.status == 204
    finally:
        handle.stop()
