"""The suite against hostile targets: every run ends in bounded time and memory with an honest
verdict. A reset, a hang, a trickle or a garbage answer fails the check (never a skip, never "not
served"); a core family answering the catch-all 404 fails; a body over --max-body is the finding
"response too large"; a target that dies mid-run is one finding, not a hundred."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import hostile
from tests.conformance.conftest import SuiteRun, run_suite

pytestmark = [pytest.mark.server, pytest.mark.slow]

TASK_CHECKS = ["--check", "status.documented[listTasks.ok]", "--check", "status.documented[getTask.missing]",
               "--check", "status.documented[ping.ok]"]


def _on_tasks(action: str) -> hostile.Plan:
    return lambda method, path, n: action if "/kapacitor/v1/tasks" in path else "pass"


def _messages(run: SuiteRun) -> str:
    return "\n".join(r["message"] for r in run.failed())


def _task_records(run: SuiteRun) -> list[dict[str, Any]]:
    return [r for r in (run.result or {}).get("results", []) if "Task" in r["full_id"]]


@pytest.mark.parametrize(("action", "expect", "extra"), [
    ("reset", "ConnectionResetError", []),
    ("garbage", "not an HTTP answer", []),
    ("hang", "timeout: no complete answer within 1s", ["--timeout", "1"]),
    ("trickle", "timeout: no complete answer within 2s", ["--timeout", "2"]),
])
def test_transport_failures_fail_the_check(serve: Callable[..., str], tmp_path: Path, action: str, expect: str,
                                           extra: list[str]) -> None:
    with hostile.proxy(serve(), _on_tasks(action), hang_for=20, trickle_every=1.0) as p:
        started = time.monotonic()
        run = run_suite(["--target", p.url, *TASK_CHECKS, *extra], tmp_path, timeout=120)
        took = time.monotonic() - started
    assert run.result is not None, run.stdout[-2000:] + run.stderr[-2000:]
    tasks = _task_records(run)
    assert tasks and all(r["outcome"] == "failed" for r in tasks), [(r["full_id"], r["outcome"]) for r in tasks]
    assert expect in _messages(run)
    assert not any("catch-all" in (r.get("skip_reason") or "") for r in run.result["results"])
    assert run.outcomes()["status.documented[ping.ok]"] == "passed"  # the rest of the target still answers
    assert run.code == 1 and "result: PASS" not in run.stdout
    assert took < 90


def test_huge_body_is_a_finding_and_memory_stays_bounded(tmp_path: Path) -> None:
    """200 MiB streamed for a list: the check fails with "response too large" after 1 MiB; the
    suite's peak memory stays far below the body's size."""
    with hostile.canned(hostile.endless(200 << 20)) as srv:
        run = run_suite(["--target", srv.url, "--max-body", "1M", "--check", "status.documented[listTasks.ok]"],
                        tmp_path, timeout=120, measure_peak=True)
    assert run.peak_kib is not None, run.stderr[-2000:]
    peak_mib = run.peak_kib / 1024
    assert run.code == 1 and "response too large" in _messages(run), run.stdout[-2000:]
    assert peak_mib < 180, f"peak RSS of the suite: {peak_mib:.0f} MiB"


def test_a_large_backup_is_read_only_as_far_as_needed(tmp_path: Path) -> None:
    """A backup grows with the server's data: its check needs the status, so a 200 MiB backup passes
    (head read, connection closed) instead of failing as "response too large"."""
    with hostile.canned(hostile.endless(200 << 20, only="/storage/backup")) as srv:
        run = run_suite(["--target", srv.url, "--max-body", "1M", "--check", "status.documented[backupStorage.ok]"],
                        tmp_path, timeout=120)
    assert run.code == 0 and run.outcomes() == {"status.documented[backupStorage.ok]": "passed"}, run.stdout[-2000:]


def test_huge_ping_is_refused_by_the_preflight(tmp_path: Path) -> None:
    with hostile.canned(hostile.endless(5 << 30, on_ping=True)) as srv:
        started = time.monotonic()
        run = run_suite(["--target", srv.url, "--check", "status.*"], tmp_path, timeout=60)
    assert run.code == 3 and "response too large" in run.stdout + run.stderr
    assert time.monotonic() - started < 40


def test_ping_only_server_fails_core_families(tmp_path: Path) -> None:
    """Ping answers like Kapacitor, everything else is the catch-all 404: core families fail."""
    with hostile.canned(hostile.ping_only) as srv:
        run = run_suite(["--target", srv.url, "--quick", "--areas", "status,pagination,preview,alerts,config"],
                        tmp_path, timeout=200)
    assert run.result is not None, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.code == 1 and "result: PASS" not in run.stdout
    text = _messages(run)
    for family in ("tasks", "templates", "recordings", "replays", "alerts", "config"):
        assert f"target does not serve {family}" in text, family
    skipped = [r for r in run.result["results"] if r["outcome"] == "skipped"]
    assert not any("catch-all" in (r.get("skip_reason") or "") and "User" not in r["full_id"] and
                   "Flux" not in r["full_id"] for r in skipped)


def test_target_killed_mid_run(serve: Callable[..., str], tmp_path: Path) -> None:
    """The target dies at request 150: the run stops with one finding naming the last request (and
    its curl line), ends FAIL, and does not wait out a timeout per remaining check."""
    with hostile.proxy(serve(), lambda m, p, n: "die" if n >= 150 else "pass") as p:
        started = time.monotonic()
        run = run_suite(["--target", p.url, "--quick", "--areas", "status,errors,headers"], tmp_path, timeout=200)
        took = time.monotonic() - started
    assert run.result is not None, run.stdout[-2000:] + run.stderr[-2000:]
    first = run.result["results"][0]
    assert first["check"] == "target.answers" and first["outcome"] == "failed"
    assert "stopped answering after" in first["message"] and "curl " in first["message"]
    assert len(run.failed()) <= 3, [r["full_id"] for r in run.failed()]
    assert run.code == 1 and "result: PASS" not in run.stdout
    assert any("cleanup --target" in e for e in run.result["run"]["cleanup_errors"])
    assert took < 120


def test_max_time_stops_the_run_incomplete(serve: Callable[..., str], tmp_path: Path) -> None:
    url = serve()
    started = time.monotonic()
    run = run_suite(["--target", url, "--quick", "--max-time", "4"], tmp_path, timeout=200)
    took = time.monotonic() - started
    assert run.code == 5 and run.result is not None
    assert "--max-time 4s passed" in run.stdout
    # (--target: the mock's documented SHOULD departures are not waived here, so only MUST is clean)
    assert not [r for r in run.failed() if r["level"] == "MUST"], [r["full_id"] for r in run.failed()]
    assert run.result["run"]["cleanup_errors"] == []
    assert took < 90


def test_delete_404_for_gone_objects_is_no_leftover(serve: Callable[..., str], tmp_path: Path) -> None:
    """A target answering 404 to every DELETE of something already gone: cleanup reports nothing."""
    from tests.conformance.mutants import DeleteMissing404

    url = serve(wrap=DeleteMissing404)
    run = run_suite(["--target", url, "--quick", "--areas", "deletes,lifecycle,alerts"], tmp_path, timeout=200)
    assert run.result is not None, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.result["run"]["cleanup_errors"] == []
    assert "may be left" not in run.stdout
