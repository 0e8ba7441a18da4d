"""`kapacitor-mock`'s serving options: --version, a validated --kapacitor-version, busy ports, the
access log, and keep-alive in the process users actually start."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mock.test_cli import free_port, start

pytestmark = pytest.mark.server


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockserver.cli", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def test_version_prints_and_exits() -> None:
    from mockserver import __version__

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"kapacitor-mock {__version__}"


@pytest.mark.parametrize("bad", ["1.9.0", "1.5", "latest", "1.5.10", "v1.5.9"])
def test_unknown_kapacitor_version_is_a_clear_usage_error(bad: str) -> None:
    result = run_cli("--kapacitor-version", bad, "--port", str(free_port()))
    assert result.returncode == 2
    assert f"unknown Kapacitor version {bad!r}" in result.stderr and "1.5.9" in result.stderr


def test_busy_port_is_one_line_and_exit_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli("--port", str(port))
    assert result.returncode == 1
    assert result.stderr == f"kapacitor-mock: cannot listen on 127.0.0.1:{port}: address already in use\n"


def test_access_log_has_one_line_per_request(procs: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    proc, port = start("--access-log", str(log))
    procs.append(proc)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for method, path in [("GET", "/kapacitor/v1/tasks?limit=1"), ("DELETE", "/kapacitor/v1/tasks/x"), ("GET", "/kapacitor/v1/nosuch")]:
        conn.request(method, path)
        resp = conn.getresponse()
        resp.read()
        assert resp.getheader("Connection") is None  # kept alive through the middleware too
    conn.close()
    # A line is written when the server closes the answer, a moment after the client has read its
    # last byte: wait for the third one before stopping the server (at most 5 s).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "/kapacitor/v1/nosuch" not in log.read_text():
        time.sleep(0.01)
    proc.terminate()
    proc.wait(timeout=10)
    lines = log.read_text().splitlines()
    pings = [line for line in lines if line.startswith("GET /kapacitor/v1/ping ")]  # start()'s readiness probes
    rest = [line for line in lines if line not in pings]
    assert pings and all(re.fullmatch(r"GET /kapacitor/v1/ping 204 \d+\.\dms", p) for p in pings)
    assert [line.rsplit(" ", 1)[0] for line in rest] == [
        "GET /kapacitor/v1/tasks?limit=1 200",
        "DELETE /kapacitor/v1/tasks/x 204",
        "GET /kapacitor/v1/nosuch 404",
    ]
    assert all(re.fullmatch(r"\d+\.\dms", line.rsplit(" ", 1)[1]) for line in rest)
