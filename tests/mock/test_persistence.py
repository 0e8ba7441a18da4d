"""`kapacitor-mock --data-dir`: what was acknowledged survives kill -9, nothing half-written appears,
and a directory that is not the mock's own is refused with one line."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from mockserver import cli, persistence
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.store import MockState
from mockserver.store.backup import dumps, loads
from tests.mock.test_cli import request, start

pytestmark = pytest.mark.server

#: A query a real server sends on to InfluxDB (one fully qualified measurement).
QUALIFIED = 'SELECT mean(value) FROM "mydb"."myrp"."test"'
ABSENT = "absent"
#: What a client sees when the server is killed under it (never an HTTP answer).
GONE = (OSError, http.client.HTTPException)


def _task_body(task_id: str) -> dict[str, Any]:
    # The ID is in every field so that a row mixed from two writes would show.
    return {
        "id": task_id,
        "type": "stream",
        "dbrps": [{"db": "db_" + task_id, "rp": "autogen"}],
        "script": f"stream|from().measurement('m_{task_id}')",
        "vars": {"owner": {"type": "string", "value": task_id}},
    }


class Writer(threading.Thread):
    """Creates, enables and deletes its own tasks until the server goes away; records, per task,
    every state the server may have kept (one state once acknowledged, two while in flight)."""

    def __init__(self, port: int, name: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.prefix = name
        self.rng = random.Random(seed)
        self.possible: dict[str, set[str]] = {}
        self.templates: dict[str, set[str]] = {}
        self.topic = f"{name}-topic"
        self.events: list[str] = []  # acknowledged events on this writer's topic
        self.event_in_flight: str | None = None
        self.acked = 0
        self.error: BaseException | None = None

    def _send(self, conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> int:
        conn.request(method, path, body=None if body is None else json.dumps(body))
        resp = conn.getresponse()
        resp.read()
        return resp.status

    def run(self) -> None:
        try:
            self._storm()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def _storm(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        live: list[str] = []
        while True:
            roll = self.rng.random()
            if roll < 0.15 and live:
                task_id = live.pop(self.rng.randrange(len(live)))
                before = self.possible[task_id]
                op = ("DELETE", f"/kapacitor/v1/tasks/{task_id}", None, {ABSENT}, 204)
            elif roll < 0.35 and live:
                task_id = self.rng.choice(live)
                before = self.possible[task_id]
                op = ("PATCH", f"/kapacitor/v1/tasks/{task_id}", {"status": "enabled"}, {"enabled"}, 200)
            elif roll < 0.45:
                n += 1
                event_id = f"e{n}"
                self.event_in_flight = event_id
                try:
                    status = self._send(
                        conn, "POST", f"/mock/alerts/topics/{self.topic}/events", {"id": event_id, "level": "WARNING"}
                    )
                except GONE:
                    return
                assert status == 200
                self.events.append(event_id)
                self.event_in_flight = None
                self.acked += 1
                continue
            elif roll < 0.50:
                n += 1
                template_id = f"{self.prefix}-tpl{n}"
                self.templates[template_id] = {ABSENT, "present"}
                body = {"id": template_id, "type": "batch", "script": "var every = 1m\nbatch|query('SELECT 1')"}
                try:
                    ok = self._send(conn, "POST", "/kapacitor/v1/templates", body) == 200
                except GONE:
                    return
                assert ok
                self.templates[template_id] = {"present"}
                self.acked += 1
                continue
            else:
                n += 1
                task_id = f"{self.prefix}-{n}"
                before = {ABSENT}
                op = ("POST", "/kapacitor/v1/tasks", _task_body(task_id), {"disabled"}, 200)
                live.append(task_id)
            method, path, body, after, expected = op
            self.possible[task_id] = before | after  # in flight: either
            try:
                status = self._send(conn, method, path, body)
            except GONE:
                return
            assert status == expected, (method, path, status)
            self.possible[task_id] = after
            self.acked += 1


def _storm_and_kill(data_dir: Path, kill_after: int, writers: int = 6) -> list[Writer]:
    proc, port = start("--data-dir", str(data_dir))
    threads = [Writer(port, f"w{i}", seed=kill_after * 100 + i) for i in range(writers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while sum(t.acked for t in threads) < kill_after and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)  # mid-storm: every writer has a request in flight or about to be
    proc.wait(timeout=10)
    for t in threads:
        t.join(timeout=20)
        assert not t.is_alive()
        assert t.error is None, repr(t.error)
    return threads


@pytest.mark.parametrize(
    "kill_after",
    [pytest.param(30, marks=pytest.mark.slow), 250, pytest.param(700, marks=pytest.mark.slow)],
)
def test_kill_9_during_a_write_storm_keeps_exactly_the_acknowledged_writes(tmp_path: Path, kill_after: int) -> None:
    data_dir = tmp_path / "data"
    writers = _storm_and_kill(data_dir, kill_after)
    acked = sum(w.acked for w in writers)
    assert acked >= kill_after

    proc, port = start("--data-dir", str(data_dir))
    try:
        status, _, raw = request(port, "GET", "/kapacitor/v1/storage/backup")
        assert status == 200
        state = loads(raw)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    tasks = {t["id"]: t for t in state["tasks"]["tasks"]}
    templates = {t["id"] for t in state["tasks"]["templates"]}
    possible = {k: v for w in writers for k, v in w.possible.items()}
    possible_templates = {k: v for w in writers for k, v in w.templates.items()}
    assert set(tasks) <= set(possible), "a task nobody created"
    assert templates <= set(possible_templates)
    for task_id, allowed in possible.items():
        task = tasks.get(task_id)
        actual = ABSENT if task is None else task["status"]
        assert actual in allowed, (task_id, actual, allowed)
        if task is not None:  # complete, and made of this task's own fields only
            sent = _task_body(task_id)
            assert task["script"] == sent["script"]
            assert task["dbrps"] == [["db_" + task_id, "autogen"]]
            assert task["vars"]["owner"]["value"] == task_id
    for template_id, allowed in possible_templates.items():
        assert ("present" if template_id in templates else ABSENT) in allowed
    topics = {t["id"]: t for t in state["alerts"]["topics"]}
    for w in writers:  # a topic is changed in place by every event: each acknowledged one is there
        topic = topics.get(w.topic, {"collected": 0, "events": []})
        stored = {e["id"] for e in topic["events"]}
        extra = stored - set(w.events)
        assert set(w.events) <= stored and extra <= {w.event_in_flight}, (w.topic, extra)
        assert topic["collected"] == len(stored)
    in_flight = sum(len(v) > 1 for v in possible.values()) + sum(len(v) > 1 for v in possible_templates.values())
    in_flight += sum(w.event_in_flight is not None for w in writers)
    assert in_flight <= len(writers)


# ---- every family round-trips through a restart --------------------------------------------------


def _client(state: MockState) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(state.config, state))


ADMIN = {"Authorization": "Basic YWRtaW46YWRtaW4="}  # admin:admin, the bootstrap user


def _exercise(client: falcon.testing.TestClient) -> None:
    def ok(method: str, path: str, body: Any = None, status: int | None = None) -> None:
        data = None if body is None else json.dumps(body)
        result = client.simulate_request(method, path, body=data, headers=ADMIN)
        assert result.status_code < 300 if status is None else result.status_code == status, (path, result.text)

    for i in range(5):
        ok("POST", "/kapacitor/v1/tasks", _task_body(f"t{i}"))
    ok("PATCH", "/kapacitor/v1/tasks/t1", {"status": "enabled"})
    ok("PATCH", "/kapacitor/v1/tasks/t2", {"id": "t2-renamed"})
    ok("DELETE", "/kapacitor/v1/tasks/t3")
    ok(
        "POST",
        "/kapacitor/v1/templates",
        {"id": "tpl", "type": "stream", "script": "var m string\nstream|from().measurement(m)"},
    )
    ok("POST", "/kapacitor/v1/tasks", {"id": "from-tpl", "template-id": "tpl", "dbrps": [{"db": "d", "rp": "r"}],
                                       "vars": {"m": {"type": "string", "value": "cpu"}}})  # fmt: skip
    ok("PATCH", "/kapacitor/v1/templates/tpl", {"id": "tpl2"})
    ok("POST", "/kapacitor/v1/alerts/topics/top/handlers", {"id": "h1", "kind": "log", "options": {"path": "/tmp/x"}})
    ok("POST", "/kapacitor/v1/alerts/topics/top/handlers", {"id": "h2", "kind": "log", "options": {"path": "/tmp/y"}})
    ok("PATCH", "/kapacitor/v1/alerts/topics/top/handlers/h2", [{"op": "replace", "path": "/id", "value": "h3"}])
    ok("DELETE", "/kapacitor/v1/alerts/topics/top/handlers/h1")
    ok("POST", "/mock/alerts/topics/top/events", {"id": "e1", "level": "CRITICAL", "message": "m"})
    ok("POST", "/mock/alerts/topics/gone/events", {"id": "e1"})
    ok("DELETE", "/kapacitor/v1/alerts/topics/gone")
    ok("POST", "/kapacitor/v1/config/smtp/", {"set": {"enabled": True, "port": 2525, "from": "k@example.com"}})
    ok("POST", "/kapacitor/v1/config/influxdb", {"add": {"name": "second", "urls": ["http://x:8086"]}})
    ok("POST", "/kapacitor/v1/recordings/query", {"id": "rec", "query": QUALIFIED, "type": "batch"})
    ok("POST", "/kapacitor/v1/users", {"name": "bob", "password": "pw", "type": "normal", "permissions": ["api"]})
    ok("PATCH", "/kapacitor/v1/users/bob", {"permissions": ["write_points"]})
    ok("POST", "/kapacitor/v1/users", {"name": "gone", "password": "pw", "type": "normal"})
    ok("DELETE", "/kapacitor/v1/users/gone")
    flux = 'option task = {name: "f", every: 1h}\n\nfrom(bucket: "db/rp") |> range(start: -1h)\n'
    ok("POST", "/kapacitor/v1/api/v2/tasks", {"flux": flux}, 201)
    ok("POST", "/kapacitor/v1/api/v2/tasks", {"flux": flux.replace('"f"', '"g"')}, 201)
    ok("GET", "/kapacitor/v1/recordings/rec")  # a read after its delay settles (and persists) it


def test_every_family_survives_a_restart(tmp_path: Path) -> None:
    config = MockConfig(kapacitor_version="1.6.2", auth=True, flux_tasks=True, run_delay=0.0)
    state = MockState(config)
    data = persistence.start(state, str(tmp_path))
    try:
        _exercise(_client(state))
        before = state.snapshot()
        assert all(before[family] for family in ("tasks", "recordings", "alerts", "configs", "users", "flux_tasks"))
    finally:
        data.close()  # like kill -9: nothing is flushed at exit
    again = MockState(config)
    data = persistence.start(again, str(tmp_path))
    try:
        assert again.snapshot() == before
        assert again.snapshot()["tasks"]["tasks"], "the exercise created nothing"
    finally:
        data.close()


def test_the_answer_waits_for_the_disk(tmp_path: Path) -> None:
    """Every acknowledged change is in the file before the client sees the answer."""
    state = MockState()
    data = persistence.start(state, str(tmp_path))
    client = _client(state)
    try:
        for i in range(20):
            assert client.simulate_post("/kapacitor/v1/tasks", json=_task_body(f"t{i}")).status_code == 200
            reader = sqlite3.connect(tmp_path / persistence.DATA_FILE)
            try:
                keys = {k for (k,) in reader.execute("SELECT key FROM items WHERE section = 'tasks'")}
            finally:
                reader.close()
            assert keys == {f"t{j}" for j in range(i + 1)}
    finally:
        data.close()


def test_without_data_dir_nothing_is_journaled() -> None:
    state = MockState()
    client = _client(state)
    assert client.simulate_post("/kapacitor/v1/tasks", json=_task_body("t")).status_code == 200
    assert state._dirty == {} and state._seq == 0


def test_a_failing_disk_is_a_500_and_the_change_is_retried(tmp_path: Path) -> None:
    state = MockState()
    data = persistence.start(state, str(tmp_path))
    client = _client(state)
    real_write = data.write
    calls = []

    def broken(rows: Any) -> None:
        calls.append(rows)
        raise OSError("disk full")

    data.write = broken  # type: ignore[method-assign]
    try:
        result = client.simulate_post("/kapacitor/v1/tasks", json=_task_body("t1"))
        assert result.status_code == 500 and "cannot persist" in result.json["error"]
        data.write = real_write  # type: ignore[method-assign]
        assert client.simulate_post("/kapacitor/v1/tasks", json=_task_body("t2")).status_code == 200
        state.internal_errors = 0
    finally:
        data.close()
    again = MockState()
    data = persistence.start(again, str(tmp_path))
    try:
        assert sorted(t["id"] for t in again.snapshot()["tasks"]["tasks"]) == ["t1", "t2"]
    finally:
        data.close()


# ---- refusals ----------------------------------------------------------------------------------


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.MonkeyPatch.context() as patch:  # should the refusal fail, never serve
        patch.setattr("waitress.serve", lambda *a, **k: pytest.fail("the mock started"))
        assert cli.main(["--port", "1", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kapacitor-mock: --data-dir: "), err
    return err


def _filled(path: Path) -> None:
    state = MockState()
    data = persistence.start(state, str(path))
    _client(state).simulate_post("/kapacitor/v1/tasks", json=_task_body("t"))
    data.close()


def test_a_foreign_file_in_the_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert "unexpected file 'notes.txt'" in _refused(capsys, "--data-dir", str(tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_data_file_that_is_not_sqlite_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / persistence.DATA_FILE).write_bytes(b"this is not a database, just text\n" * 200)
    assert "not a usable kapacitor-mock data file" in _refused(capsys, "--data-dir", str(tmp_path))


def test_an_sqlite_file_of_another_application_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = sqlite3.connect(tmp_path / persistence.DATA_FILE)
    other.execute("CREATE TABLE items (x)")
    other.commit()
    other.close()
    assert "another application" in _refused(capsys, "--data-dir", str(tmp_path))


def test_a_newer_layout_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _filled(tmp_path)
    conn = sqlite3.connect(tmp_path / persistence.DATA_FILE)
    conn.execute(f"PRAGMA user_version = {persistence.LAYOUT_VERSION + 1}")
    conn.close()
    assert "data layout" in _refused(capsys, "--data-dir", str(tmp_path))


def test_damaged_pages_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = MockState()
    data = persistence.start(state, str(tmp_path))
    client = _client(state)
    for i in range(300):
        client.simulate_post("/kapacitor/v1/tasks", json=_task_body(f"task-{i}"))
    data.close()
    conn = sqlite3.connect(tmp_path / persistence.DATA_FILE)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    file = tmp_path / persistence.DATA_FILE
    raw = bytearray(file.read_bytes())
    assert len(raw) > 3 * 4096
    for offset in range(4096 + 100, len(raw), 4096):  # scribble over every page but the header
        raw[offset : offset + 64] = os.urandom(64)
    file.write_bytes(bytes(raw))
    err = _refused(capsys, "--data-dir", str(tmp_path))
    assert "corrupt" in err or "not a usable" in err


def test_a_row_with_corrupt_content_is_refused_naming_the_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _filled(tmp_path)
    conn = sqlite3.connect(tmp_path / persistence.DATA_FILE)
    row = conn.execute("SELECT value FROM items WHERE section = 'tasks'").fetchone()
    task = json.loads(row[0])
    task["created"] = "yesterday"
    conn.execute("UPDATE items SET value = ? WHERE section = 'tasks'", (json.dumps(task),))
    conn.commit()
    conn.close()
    err = _refused(capsys, "--data-dir", str(tmp_path))
    assert "tasks.tasks[0] (id 't')" in err and "'created'" in err


def test_a_second_mock_on_the_same_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = MockState()
    data = persistence.start(state, str(tmp_path))
    try:
        assert "in use by another kapacitor-mock" in _refused(capsys, "--data-dir", str(tmp_path))
    finally:
        data.close()


def test_restore_into_a_directory_that_holds_state_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _filled(tmp_path / "data")
    backup = tmp_path / "b.db"
    backup.write_bytes(dumps(MockState().snapshot()))
    err = _refused(capsys, "--data-dir", str(tmp_path / "data"), "--restore", str(backup))
    assert "already holds a state" in err


def test_restore_into_an_empty_directory_persists_the_backup(tmp_path: Path) -> None:
    source = MockState()
    _client(source).simulate_post("/kapacitor/v1/tasks", json=_task_body("restored"))
    backup = tmp_path / "b.db"
    backup.write_bytes(dumps(source.snapshot()))
    state = MockState()
    state.restore(loads(backup.read_bytes()))
    persistence.start(state, str(tmp_path / "data"), restoring=True).close()
    again = MockState()
    persistence.start(again, str(tmp_path / "data")).close()
    assert [t["id"] for t in again.snapshot()["tasks"]["tasks"]] == ["restored"]


def test_the_process_refuses_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / persistence.DATA_FILE).write_bytes(b"\x00garbage" * 1000)
    result = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "--port", "1", "--data-dir", str(tmp_path)],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kapacitor-mock: --data-dir: "), lines
    assert b"Traceback" not in result.stderr
