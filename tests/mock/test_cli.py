"""`kapacitor-mock` as a user starts it: a real process, a real port, real options."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def start(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            if request(port, "GET", "/kapacitor/v1/ping")[0] == 204:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("kapacitor-mock did not start")


@pytest.fixture
def mock_process() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_ping_on_a_started_mock(mock_process: list[subprocess.Popen[bytes]]) -> None:
    proc, port = start()
    mock_process.append(proc)
    status, headers, body = request(port, "GET", "/kapacitor/v1/ping")
    assert (status, body) == (204, b"")
    assert headers["x-kapacitor-version"] == "1.8.3"


def test_version_option(mock_process: list[subprocess.Popen[bytes]]) -> None:
    proc, port = start("--kapacitor-version", "1.5.9")
    mock_process.append(proc)
    status, headers, body = request(port, "GET", "/kapacitor/v1/tasks/missing")
    assert status == 404 and headers["x-kapacitor-version"] == "1.5.9"
    assert json.loads(body) == {"error": "no task exists"}


def test_backup_then_restore(mock_process: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    proc, port = start()
    mock_process.append(proc)
    task = {"id": "kept", "dbrps": [{"db": "db", "rp": "rp"}], "script": "stream\n    |from()\n"}
    assert request(port, "POST", "/kapacitor/v1/tasks", json.dumps(task).encode())[0] == 200
    status, headers, backup = request(port, "GET", "/kapacitor/v1/storage/backup")
    assert status == 200 and headers["content-type"] == "application/octet-stream"
    assert int(headers["content-length"]) == len(backup)
    path = tmp_path / "kapacitor.db"
    path.write_bytes(backup)
    restored, port2 = start("--restore", str(path))
    mock_process.append(restored)
    status, _, body = request(port2, "GET", "/kapacitor/v1/tasks/kept")
    assert status == 200 and json.loads(body)["script"] == task["script"]


def test_a_bad_backup_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"not a backup")
    result = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "--port", str(free_port()), "--restore", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "cannot restore" in result.stderr and "not gzip-compressed" in result.stderr
