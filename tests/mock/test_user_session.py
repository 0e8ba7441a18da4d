"""A whole Kapacitor user session against the mock on a real waitress server, as a client runs it.

Create a task, record a stream while writing points, replay the recording, list and delete both,
create a topic handler and patch it with JSON Patch, override an SMTP option, run a service test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import serve_in_thread
from tests.mock.conftest import Api
from tests.mock.spec_check import assert_matches_spec

pytestmark = pytest.mark.server
V1 = "/kapacitor/v1"
SCRIPT = "stream\n    |from()\n        .measurement('cpu')\n    |window()\n        .period(10s)\n        .every(10s)\n    |count('usage')\n"


@pytest.fixture
def live() -> Iterator[Api]:
    app = create_app(MockConfig(run_delay=0.05, stream_timeout=5.0))
    handle = serve_in_thread(app)
    try:
        yield Api(app, handle.url)
    finally:
        handle.stop()


def poll(api: Api, path: str, op_id: str, timeout: float = 5.0) -> dict:
    """Poll like the Go client: 202 while running, 200 when finished or failed."""
    deadline = time.monotonic() + timeout
    while True:
        resp = api.get(path)
        assert resp.status in (200, 202), resp.text
        assert_matches_spec(op_id, resp.status, resp.body)
        if resp.status == 200:
            return resp.json
        assert resp.json["status"] == "running"
        assert time.monotonic() < deadline, f"{path} still running"
        time.sleep(0.02)


def test_a_full_session(live: Api) -> None:
    api = live
    # 1. a task
    task = api.post(f"{V1}/tasks", {"id": "cpu", "dbrps": [{"db": "telegraf", "rp": "autogen"}], "script": SCRIPT, "status": "enabled"})
    assert task.status == 200 and task.json["executing"] is True

    # 2. record a stream while writing points
    rec = api.post(f"{V1}/recordings/stream", {"id": "rec1", "task": "cpu", "stop": "2030-01-01T00:00:00Z"})
    assert rec.status == 201 and rec.json["status"] == "running"
    assert rec.json["link"]["href"] == f"{V1}/recordings/rec1"
    assert api.get(f"{V1}/recordings/rec1").status == 202
    lines = "\n".join(f"cpu,host=h{i} usage={i} {1_700_000_000 + i}" for i in range(10))
    wrote = api.request("POST", "/write", params={"db": "telegraf", "rp": "autogen", "precision": "s"}, body=lines)
    assert wrote.status == 204
    past_stop = "cpu,host=h0 usage=1 1900000000"
    params = {"db": "telegraf", "rp": "autogen", "precision": "s"}  # the task's dbrp: this point ends the recording
    assert api.request("POST", f"{V1}/write", params=params, body=past_stop).status == 204
    recording = poll(api, f"{V1}/recordings/rec1", "getRecording")
    assert recording["status"] == "finished" and recording["progress"] == 1 and recording["size"] > 0

    # 3. replay it
    rep = api.post(f"{V1}/replays", {"id": "rep1", "task": "cpu", "recording": "rec1", "clock": "fast"})
    assert rep.status == 201 and rep.json["recording"] == "rec1"
    replay = poll(api, f"{V1}/replays/rep1", "getReplay")
    assert replay["status"] == "finished" and replay["error"] == ""

    # 4. list and delete both
    assert [r["id"] for r in api.get(f"{V1}/recordings").json["recordings"]] == ["rec1"]
    assert [r["id"] for r in api.get(f"{V1}/replays").json["replays"]] == ["rep1"]
    assert api.delete(f"{V1}/replays/rep1").status == 204
    assert api.delete(f"{V1}/recordings/rec1").status == 204
    assert api.get(f"{V1}/recordings").json == {"recordings": []}
    assert api.get(f"{V1}/replays").json == {"replays": []}

    # 5. a topic handler, patched with JSON Patch
    handler = api.post(f"{V1}/alerts/topics/cpu_alerts/handlers", {"id": "slack", "kind": "slack", "options": {"channel": "#ops"}})
    assert handler.status == 200
    patch = [{"op": "replace", "path": "/kind", "value": "log"}, {"op": "remove", "path": "/options/channel"},
             {"op": "add", "path": "/options/path", "value": "/tmp/alerts.log"}]  # fmt: skip
    patched = api.request(
        "PATCH", f"{V1}/alerts/topics/cpu_alerts/handlers/slack", json_body=patch,
        headers={"Content-Type": "application/json+patch"},
    )  # fmt: skip
    assert patched.status == 200
    assert patched.json["kind"] == "log" and patched.json["options"] == {"path": "/tmp/alerts.log"}
    assert api.get(f"{V1}/alerts/topics/cpu_alerts").json["id"] == "cpu_alerts"

    # 6. override an SMTP option and run a service test
    override = api.post(f"{V1}/config/smtp/", {"set": {"enabled": True, "host": "mail.example.com", "from": "kapacitor@example.com", "to": ["ops@example.com"]}})
    assert override.status == 204, override.text
    smtp = api.get(f"{V1}/config/smtp/").json
    assert smtp["options"]["host"] == "mail.example.com" and smtp["options"]["enabled"] is True
    result = api.post(f"{V1}/service-tests/smtp", {})
    assert result.status == 200 and set(result.json) == {"success", "message"}

    # 7. clean up the task
    assert api.delete(f"{V1}/tasks/cpu").status == 204
    assert api.get(f"{V1}/tasks").json == {"tasks": []}
