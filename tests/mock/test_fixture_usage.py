"""The mock inside a user's pytest: the README's example verbatim, then the rest of the handle
(context manager, decorator, seed/reset over HTTP for a mock run as a process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from mockserver.store.backup import BackupError, dumps
from mockserver.testing import URL_VARIABLE, mock_kapacitor

# ---- README "Use the mock in your own tests", as a user writes it ----------------------------------

TASK = {"id": "cpu_alert", "type": "stream", "dbrps": [{"db": "telegraf", "rp": "autogen"}],
        "script": "stream|from().measurement('cpu')"}  # fmt: skip


def test_my_client_creates_a_task(kapacitor_mock):  # type: ignore[no-untyped-def]
    api = httpx.Client(base_url=kapacitor_mock.url + "/kapacitor/v1")  # point your code here
    assert api.post("/tasks", json=TASK).status_code == 200
    assert "cpu_alert" in kapacitor_mock.state.tasks.tasks  # the mock's state, for assertions
    kapacitor_mock.reset()  # empty again
    assert api.get("/tasks").json()["tasks"] == []


@pytest.mark.kapacitor_mock(version="1.5.9", auth=True)  # options of this test's server
def test_against_an_older_server_with_auth(kapacitor_mock, tmp_path):  # type: ignore[no-untyped-def]
    api = httpx.Client(base_url=kapacitor_mock.url + "/kapacitor/v1", auth=("admin", "admin"))
    assert api.get("/ping").headers["X-Kapacitor-Version"] == "1.5.9"
    backup = tmp_path / "backup.db"
    backup.write_bytes(api.get("/storage/backup").content)  # or a file kept with your tests
    kapacitor_mock.seed(backup)  # bytes or a path; checked object by object first


# ---- the rest of the handle ------------------------------------------------------------------------


def _create(url: str, task_id: str, **kwargs: object) -> int:
    body = {**TASK, "id": task_id}
    return httpx.post(url + "/kapacitor/v1/tasks", json=body, **kwargs).status_code  # type: ignore[arg-type]


def test_each_test_gets_a_fresh_server(kapacitor_mock) -> None:  # type: ignore[no-untyped-def]
    assert kapacitor_mock.state.tasks.tasks == {}  # nothing left from the README test above
    assert kapacitor_mock.url.startswith("http://127.0.0.1:")
    assert os.environ[URL_VARIABLE] == kapacitor_mock.url


def test_seed_from_bytes_then_from_a_path_replaces_everything(kapacitor_mock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert _create(kapacitor_mock.url, "one") == 200
    saved = kapacitor_mock.save(tmp_path / "one.db")
    kapacitor_mock.reset()
    assert _create(kapacitor_mock.url, "two") == 200
    kapacitor_mock.seed(saved.read_bytes())
    assert set(kapacitor_mock.state.tasks.tasks) == {"one"}
    kapacitor_mock.reset()
    kapacitor_mock.seed(str(saved))
    tasks = httpx.get(kapacitor_mock.url + "/kapacitor/v1/tasks").json()["tasks"]
    assert [t["id"] for t in tasks] == ["one"]


def test_a_bad_seed_changes_nothing(kapacitor_mock) -> None:  # type: ignore[no-untyped-def]
    assert _create(kapacitor_mock.url, "kept") == 200
    snapshot = kapacitor_mock.state.snapshot()
    snapshot["tasks"]["tasks"][0]["created"] = "yesterday"
    with pytest.raises(BackupError, match=r"tasks\.tasks\[0\] \(id 'kept'\): field 'created'"):
        kapacitor_mock.seed(dumps(snapshot))
    assert set(kapacitor_mock.state.tasks.tasks) == {"kept"}


def test_context_manager_serves_and_stops() -> None:
    before = os.environ.get(URL_VARIABLE)
    with mock_kapacitor(version="1.5.9", auth=False) as k:
        assert _create(k.url, "t") == 200
        assert httpx.get(k.url + "/kapacitor/v1/ping").headers["x-kapacitor-version"] == "1.5.9"
        url = k.url
    assert os.environ.get(URL_VARIABLE) == before
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/kapacitor/v1/ping", timeout=2)
    assert not [t for t in threading.enumerate() if t.name == "kapacitor-mock:" + url.rsplit(":", 1)[1]]


def test_decorator_points_kapacitor_url_at_a_fresh_mock() -> None:
    seen: list[str] = []

    @mock_kapacitor(version="1.6.2")
    def code_under_test() -> None:
        url = os.environ[URL_VARIABLE]
        seen.append(url)
        assert httpx.get(url + "/kapacitor/v1/tasks").json()["tasks"] == []
        assert _create(url, "x") == 200

    code_under_test()
    code_under_test()  # a second call starts from an empty mock again
    assert len(seen) == 2


# ---- /mock/reset and /mock/seed over HTTP ---------------------------------------------------------


def test_http_reset_and_seed(kapacitor_mock) -> None:  # type: ignore[no-untyped-def]
    url = kapacitor_mock.url
    assert _create(url, "a") == 200
    backup = httpx.get(url + "/kapacitor/v1/storage/backup").content
    reset = httpx.post(url + "/mock/reset")
    assert reset.status_code == 204 and reset.content == b""
    assert kapacitor_mock.state.tasks.tasks == {}
    seeded = httpx.post(url + "/mock/seed", content=backup)
    assert seeded.status_code == 204
    assert set(kapacitor_mock.state.tasks.tasks) == {"a"}
    assert httpx.get(url + "/kapacitor/v1/storage/backup").content == backup
    for body in (b"", b"not a backup", backup[:-8]):
        bad = httpx.post(url + "/mock/seed", content=body)
        assert bad.status_code == 400 and "backup" in bad.json()["error"]
    assert set(kapacitor_mock.state.tasks.tasks) == {"a"}
    assert httpx.get(url + "/mock/reset").status_code == 404  # POST only


@pytest.mark.kapacitor_mock(auth=True)
def test_http_reset_and_seed_need_an_administrator(kapacitor_mock) -> None:  # type: ignore[no-untyped-def]
    url = kapacitor_mock.url
    admin = ("admin", "admin")
    created = httpx.post(url + "/kapacitor/v1/users", auth=admin,
                         json={"name": "bob", "password": "pw", "type": "normal", "permissions": ["all"]})  # fmt: skip
    assert created.status_code == 200
    backup = httpx.get(url + "/kapacitor/v1/storage/backup", auth=admin).content
    for path, body in (("/mock/reset", b""), ("/mock/seed", backup)):
        assert httpx.post(url + path, content=body).status_code == 401
        assert httpx.post(url + path, content=body, auth=("admin", "wrong")).status_code == 401
        denied = httpx.post(url + path, content=body, auth=("bob", "pw"))
        assert denied.status_code == 403 and "administrator" in denied.json()["error"]
        assert "bob" in kapacitor_mock.state.users.users
    assert httpx.post(url + "/mock/reset", auth=admin).status_code == 204
    assert set(kapacitor_mock.state.users.users) == {"admin"}  # the bootstrap admin is back
    assert httpx.post(url + "/mock/seed", content=backup, auth=admin).status_code == 204
    assert set(kapacitor_mock.state.users.users) == {"admin", "bob"}


def test_http_seed_persists_with_data_dir(tmp_path: Path) -> None:
    from tests.mock.test_cli import request, start

    proc, port = start("--data-dir", str(tmp_path / "d"))
    try:
        body = json.dumps({**TASK, "id": "before-seed"}).encode()
        assert request(port, "POST", "/kapacitor/v1/tasks", body)[0] == 200
        with mock_kapacitor() as source:
            assert _create(source.url, "seeded") == 200
            backup = source.backup()
        assert request(port, "POST", "/mock/seed", backup)[0] == 204
    finally:
        proc.kill()
        proc.wait(timeout=10)
    proc, port = start("--data-dir", str(tmp_path / "d"))
    try:
        tasks = json.loads(request(port, "GET", "/kapacitor/v1/tasks")[2])["tasks"]
        assert [t["id"] for t in tasks] == ["seeded"]
        assert request(port, "POST", "/mock/reset")[0] == 204
    finally:
        proc.kill()
        proc.wait(timeout=10)
    proc, port = start("--data-dir", str(tmp_path / "d"))
    try:
        assert json.loads(request(port, "GET", "/kapacitor/v1/tasks")[2])["tasks"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_plugin_is_inert_until_used() -> None:
    """Loaded into every pytest run of an installed package, it must not import or start the server."""
    code = "import sys, mockserver.testing; print(sorted(m for m in sys.modules if m.startswith('mockserver')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "mockserver.app" not in out and "mockserver.store" not in out, out


def test_a_mock_can_start_seeded(tmp_path: Path) -> None:
    with mock_kapacitor() as source:
        assert _create(source.url, "from-seed") == 200
        saved = source.save(tmp_path / "seed.db")
    with mock_kapacitor(seed=saved) as k:
        assert [t["id"] for t in httpx.get(k.url + "/kapacitor/v1/tasks").json()["tasks"]] == ["from-seed"]
    with pytest.raises(BackupError):
        mock_kapacitor(seed=b"not a backup").start()
