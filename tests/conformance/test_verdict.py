"""The verdict end to end: each scenario is a real server (or process) the test starts, and each ends in
the documented verdict and exit code; none that did not really check anything says PASS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.verdict import Outcome
from tests.conformance.conftest import ROOT, run_suite

pytestmark = [pytest.mark.server]

_CHECKS = ["--check", "status.documented[listTasks*", "--check", "status.documented[getTask*",
           "--check", "status.documented[ping*", "--check", "deletes.*", "--check", "ids.*"]


def ping_only(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers the ping like Kapacitor (also under the preview prefix) and everything else with the
    router's catch-all 404: a server that implements nothing."""
    if environ["PATH_INFO"] in ("/kapacitor/v1/ping", "/kapacitor/v1preview/ping"):
        start_response("204 No Content", [("X-Kapacitor-Version", "1.5.9"), ("Request-Id", "1"),
                                          ("Content-Type", "application/json; charset=utf-8")])
        return []
    body = json.dumps({"error": "Not Found"}).encode()
    start_response("404 Not Found", [("Content-Type", "application/json; charset=utf-8"),
                                     ("X-Kapacitor-Version", "1.5.9"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def ping_only_url() -> Iterator[str]:
    from mockserver.server import serve_in_thread

    handle = serve_in_thread(ping_only)
    yield handle.url
    handle.stop()


def _verdict_line(stdout: str) -> str:
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    assert lines, "no output"
    return lines[-1]


def test_ping_only_server_never_passes(ping_only_url: str, tmp_path: Path) -> None:
    """A server that implements nothing but the ping must not pass: the core checks produce no result
    (or fail), so the run is INCOMPLETE (5) or FAIL (1), in the exit code, the last line and the JSON."""
    html = tmp_path / "r.html"
    run = run_suite(["--target", ping_only_url, "--quick", *_CHECKS, "--report-html", str(html)], tmp_path)
    assert run.result is not None, run.stdout[-2000:] + run.stderr[-2000:]
    outcome = run.result["verdict"]["outcome"]
    assert outcome in ("INCOMPLETE", "FAIL"), run.result["verdict"]
    assert run.code == (5 if outcome == "INCOMPLETE" else 1)
    assert run.result["verdict"]["exit_code"] == run.code and not run.result["summary"]["passed"]
    last = _verdict_line(run.stdout)
    assert last.startswith(f"kapacitor-conformance result: {outcome}") and "PASS" not in last
    assert f"data-outcome='{outcome}'" in html.read_text() and "verdict ok" not in html.read_text()


def test_ping_only_incomplete_is_explained(tmp_path: Path) -> None:
    """The verdict logic on its own (whatever the checks do with a catch-all): a run whose core MUST
    checks were all skipped as "not served" is INCOMPLETE and says why."""
    from conformance import report
    from conformance.verdict import decide

    results = [{"full_id": "status.documented[ping.ok]", "area": "status", "level": "MUST", "outcome": "passed"}]
    results += [{"full_id": f"deletes.gone[x{i}]", "area": "deletes", "level": "MUST", "outcome": "skipped",
                 "skip_reason": "target does not serve getTask (catch-all 404 Not Found)"} for i in range(9)]
    results += [{"full_id": f"users.x[{i}]", "area": "users", "level": "MUST", "outcome": "skipped",
                 "skip_reason": "target does not serve listUsers (catch-all 404 Not Found)"} for i in range(50)]
    v = decide(report.summarize(results), results)
    assert v.outcome is Outcome.INCOMPLETE and v.code == 5
    text = "; ".join(v.reasons)
    assert "1 of 10 applicable MUST checks" in text and "deletes" in text and "does not serve getTask" in text
    # Users without auth are genuinely optional: they neither count nor block a PASS.
    ok = [r for r in results if r["area"] != "deletes"]
    assert decide(report.summarize(ok), ok).outcome is Outcome.PASS
    # An interrupted run is never PASS, even with every check green.
    assert decide(report.summarize(ok), ok, interrupted=True).outcome is Outcome.INTERRUPTED


class _Counting:
    """Counts the requests the suite sends, so a signal can be sent once checks are running."""

    def __init__(self) -> None:
        self.seen = 0

    def wrap(self, app: Any) -> Any:
        def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
            self.seen += 1
            return app(environ, start_response)
        return wrapped


def test_sigterm_mid_run_is_interrupted(serve: Any, tmp_path: Path) -> None:
    """SIGTERM during a run: exit 2, verdict INTERRUPTED with partial scores, and no PASS anywhere."""
    counter = _Counting()
    url = serve(wrap=counter.wrap)
    report = tmp_path / "r.json"
    html = tmp_path / "r.html"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("KAPACITOR_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "-q", "--target", url, "--report-json",
                             str(report), "--report-html", str(html), "--seed", "1", "--check", "pagination.*",
                             "--check", "pattern.*", "--check", "schema.*"],
                            env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_progress(proc, counter)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, out[-2000:] + err[-2000:]
    doc = json.loads(report.read_text())
    assert doc["verdict"]["outcome"] == "INTERRUPTED" and doc["verdict"]["partial"] and doc["summary"]["partial"]
    assert doc["run"]["interrupted_by"] == "SIGTERM" and not doc["summary"]["passed"]
    assert _verdict_line(out).startswith("kapacitor-conformance result: INTERRUPTED (exit 2)")
    assert "result: PASS" not in out and "(partial)" in out
    assert "data-outcome='INTERRUPTED'" in html.read_text()


def test_sigint_ignored_at_start_still_interrupts(serve: Any, tmp_path: Path) -> None:
    """A background job starts with SIGINT ignored; SIGINT must still interrupt (and clean up)."""
    counter = _Counting()
    url = serve(wrap=counter.wrap)
    report = tmp_path / "r.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-m", "conformance", "-q", "--target", url, "--report-json",
                             str(report), "--seed", "1", "--check", "pagination.*", "--check", "schema.*"],
                            env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignore_sigint)
    _wait_for_progress(proc, counter)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, out[-2000:] + err[-2000:]
    doc = json.loads(report.read_text())
    assert doc["verdict"]["outcome"] == "INTERRUPTED" and doc["run"]["interrupted_by"] == "SIGINT"


def _wait_for_progress(proc: subprocess.Popen[str], counter: _Counting, timeout: float = 90) -> None:
    """Until the run is into its checks: the target has answered a few dozen requests."""
    deadline = time.monotonic() + timeout
    while counter.seen < 30 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before the signal"
    assert counter.seen >= 30, "the run sent no requests"


def test_unknown_check_is_a_usage_error(tmp_path: Path) -> None:
    run = run_suite(["--check", "delets.missing-204"], tmp_path, timeout=120)
    assert run.code == 4
    assert "did you mean 'deletes.missing-204'" in run.stdout + run.stderr
    assert _verdict_line(run.stdout).startswith("kapacitor-conformance result: USAGE ERROR (exit 4)")
    run = run_suite(["--areas", "statu"], tmp_path, timeout=120)
    assert run.code == 4 and "did you mean 'status'" in run.stderr
    # A glob that matches only checks outside the chosen areas selects nothing either.
    run = run_suite(["--areas", "ids", "--check", "deletes.*"], tmp_path, timeout=120)
    assert run.code == 4 and "outside the selected areas" in run.stdout + run.stderr


def test_unreachable_target_is_unusable(tmp_path: Path) -> None:
    run = run_suite(["--target", "http://127.0.0.1:9", "--check", "status.*"], tmp_path, timeout=120)
    assert run.code == 3
    assert run.result is not None and run.result["verdict"]["outcome"] == "TARGET UNUSABLE"
    assert _verdict_line(run.stdout).startswith("kapacitor-conformance result: TARGET UNUSABLE (exit 3)")


def test_credentials_never_reach_the_reports(serve: Any, tmp_path: Path) -> None:
    """With --auth, the JSON and HTML reports mask the credentials as the curl lines do."""
    from tests.conformance.mutants import CreateReturns201

    url = serve(wrap=CreateReturns201, auth=True, auth_user="admin", auth_password="s3cret-pass")
    html = tmp_path / "r.html"
    run = run_suite(["--target", url, "--auth", "admin:s3cret-pass", "--quick", "--check", "users.*",
                     "--check", "status.documented[createTask.ok]", "--report-html", str(html)], tmp_path)
    assert run.code == 1  # the mutant's failure carries the exchange (with its Authorization header)
    assert run.result is not None, run.stdout[-2000:] + run.stderr[-2000:]
    import base64

    token = base64.b64encode(b"admin:s3cret-pass").decode()
    report = json.dumps(run.result)
    for text in (report, html.read_text()):
        assert "s3cret-pass" not in text and token not in text
    # The masking was exercised: requests that carried credentials are in the report, masked.
    headers = [h for r in run.result["results"] for ex in r.get("exchanges") or []
               for h in ex["request"]["headers"] if h[0].lower() == "authorization"]
    assert headers and all(h[1] == "<credentials>" for h in headers)


def test_version_and_list_checks(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "conformance", "--version"], capture_output=True, text=True,
                         env=env, cwd=str(tmp_path), timeout=60)
    import spec

    assert out.returncode == 0
    assert f"info.version {spec.load_spec()['info']['version']}" in out.stdout and "1.5" in out.stdout
    out = subprocess.run([sys.executable, "-m", "conformance", "--list-checks", "--format", "json", "--check",
                          "deletes.*"], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout)
    assert doc["count"] == len(doc["checks"]) > 3
    assert all(c["full_id"].startswith("deletes.") and c["level"] in ("MUST", "SHOULD") and c["ref"]
               for c in doc["checks"])
    out = subprocess.run([sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True,
                         env=env, cwd=str(tmp_path), timeout=120)
    head = out.stdout.split("pytest's own options follow")[0]  # the tool's own part, before pytest's
    assert len(head) < len(out.stdout) // 2, "the tool's options must come first, pytest's after"
    assert out.returncode == 0 and head.index("--target") < head.index("exit codes:") < head.index("examples:")
    for o in Outcome:
        assert f"  {int(o)}  {o.label}" in head
    assert out.stdout.index("examples:") < out.stdout.index("pytest's own options follow")


def test_deviation_typos_and_strict(tmp_path: Path) -> None:
    """A deviation entry naming no check of the suite is listed with a "did you mean"; with
    --strict-deviations it is a usage error before anything runs."""
    dev = tmp_path / "dev.yaml"
    dev.write_text("- check: deletes.missing-240\n  reason: a typo in the check id\n")
    sel = ["--check", "deletes.missing-204", "--deviations", str(dev)]
    run = run_suite(sel, tmp_path, timeout=180)
    assert run.code == 0 and run.result is not None
    assert run.result["run"]["unknown_deviations"] and "did you mean 'deletes.missing-204'" in run.stdout
    run = run_suite([*sel, "--strict-deviations"], tmp_path, timeout=180)
    assert run.code == 4 and "--strict-deviations" in run.stdout + run.stderr


def test_fail_on_should(serve: Any, tmp_path: Path) -> None:
    from tests.conformance.mutants import DuplicateConflict

    url = serve(wrap=DuplicateConflict)
    sel = ["--target", url, "--check", "status.server[createTask.duplicate]"]
    assert run_suite(sel, tmp_path).code == 0  # a SHOULD failure alone does not fail the run ...
    run = run_suite([*sel, "--fail-on", "should"], tmp_path)  # ... unless the user gates on SHOULD too
    assert run.code == 1 and run.result is not None and run.result["verdict"]["outcome"] == "FAIL"
    assert "SHOULD check(s) failed (--fail-on should)" in _verdict_line(run.stdout)


def test_decide_precedence_and_internal_errors() -> None:
    from conformance import cli, report
    from conformance.verdict import decide

    ok = [{"full_id": f"ids.x[{i}]", "area": "ids", "level": "MUST", "outcome": "passed"} for i in range(20)]
    crashed = [*ok, {"full_id": "ids.y", "area": "ids", "level": "MUST", "outcome": "error", "error_kind": "suite"}]
    failed = [*ok, {"full_id": "ids.z", "area": "ids", "level": "MUST", "outcome": "failed"}]
    assert decide(report.summarize(ok), ok).outcome is Outcome.PASS
    assert decide(report.summarize(crashed), crashed).outcome is Outcome.INTERNAL_ERROR
    assert decide(report.summarize(failed), failed).outcome is Outcome.FAIL
    assert decide(report.summarize(failed), failed, interrupted=True).outcome is Outcome.INTERRUPTED
    assert decide(report.summarize(ok), ok, unusable="x").outcome is Outcome.TARGET_UNUSABLE
    # pytest's own codes never leak: INTERNALERROR (3) is ours 6, "no tests collected" (5) a usage error.
    assert cli._fallback_code(3) is Outcome.INTERNAL_ERROR and cli._fallback_code(5) is Outcome.USAGE_ERROR


def test_failures_with_one_cause_are_grouped() -> None:
    """Same method, route template and wrong answer: one group with a count, in terminal and HTML."""
    from conformance import report

    def rec(fid: str, task: str, actual: Any) -> dict[str, Any]:
        return {"full_id": fid, "check": fid.split("[")[0], "level": "MUST", "area": "status", "ref": "api#x",
                "title": "", "nodeid": fid, "outcome": "failed", "message": "",
                "failure": {"what": "status code", "expected": 200, "actual": actual, "ref": "api#x"},
                "exchange": {"request": {"method": "GET", "url": f"http://h:1/kapacitor/v1/tasks/{task}",
                                         "headers": [], "body": None},
                             "response": {"status": 500, "reason": "", "headers": [], "body": "", "error": None},
                             "curl": "curl x"}}

    failed = [rec("a.one[x]", "kcf0123abcd-t1", "500 (kcf0123abcd-t1 broke)"),
              rec("b.two[y]", "kcf0123abcd-t2", "500 (kcf0123abcd-t2 broke)"),
              rec("c.three[z]", "kcf0123abcd-t3", 404)]
    groups = report.group_failures(failed)
    assert sorted(len(g) for g in groups) == [1, 2]
    summary = report.summarize(failed)
    meta = {"target": "t", "version": "1.5.9", "profile": "kapacitor", "seed": 1, "prefix": "kcf0123abcd-",
            "requests": 3}
    lines = [line for line, _ in report.terminal_styled(meta, summary, failed)]
    assert any(ln.startswith("  2x MUST") and "GET /kapacitor/v1/tasks/{id}" in ln for ln in lines)
    page = report.render_html(report.document(meta, summary, failed, []))
    assert "<span class='count'>2x</span>" in page and "2 checks fail with this same answer" in page
    # Deviation reasons are shortened at a word boundary, never mid-word.
    assert report.shorten("alpha beta gamma delta", 16) == "alpha beta ..."


def test_broken_check_module_is_an_internal_error(tmp_path: Path) -> None:
    """A check module that cannot be imported is a bug in the suite (exit 6), not an interrupt (2)."""
    bad = tmp_path / "test_broken.py"
    bad.write_text("import conformance.no_such_module  # noqa\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "conformance", "-q", "-p", "no:cacheprovider", str(bad)],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert out.returncode == 6, out.stdout[-2000:] + out.stderr[-2000:]
    assert _verdict_line(out.stdout).startswith("kapacitor-conformance result: SUITE INTERNAL ERROR (exit 6)")
