"""The CLI end to end: exit status, JUnit XML, JSON and HTML reports, seeds, deviations, read-only."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import run_suite
from tests.conformance.mutants import CreateReturns201, DuplicateConflict

pytestmark = [pytest.mark.server, pytest.mark.slow]
#: The areas whose requests depend on the hypothesis seed (the others send fixed requests).
SEEDED = ["--areas", "ids,pagination,pattern,fields,schema"]


def test_quick_run_against_embedded_mock(tmp_path: Path) -> None:
    """No target: the embedded mock is started and passes; all report formats are written."""
    junit, html = tmp_path / "junit.xml", tmp_path / "report.html"
    run = run_suite(["--quick", "--seed", "1", "--junitxml", str(junit), "--report-html", str(html)], tmp_path,
                    timeout=400)
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    assert not run.failed(), [f"{r['full_id']}: {r['message'][:300]}" for r in run.failed()]
    assert run.code == 0
    assert "Kapacitor conformance" in run.stdout and "seed 1" in run.stdout and "MUST" in run.stdout
    doc = run.result
    assert doc["run"]["embedded_mock"] and doc["run"]["seed"] == 1 and doc["summary"]["passed"]
    assert doc["run"]["cleanup_errors"] == []
    cases = ET.parse(junit).getroot().iter("testcase")
    props = [{p.get("name"): p.get("value") for p in c.iter("property")} for c in cases]
    assert props and all("check" in p and p["level"] in ("MUST", "SHOULD") for p in props)
    page = html.read_text()
    assert "<style>" in page and "Scores per area" in page and "<script src" not in page


@pytest.mark.parametrize("seed", [11, 22, 33, 44])
def test_other_seeds_pass(tmp_path: Path, seed: int) -> None:
    """With four more seeds (five in all) every seed-dependent area still passes on the mock."""
    run = run_suite(["--quick", "--seed", str(seed), *SEEDED], tmp_path)
    assert run.result is not None, run.stderr[-3000:]
    assert not run.failed(), [f"{r['full_id']}: {r['message'][:400]}" for r in run.failed()]
    assert f"seed {seed}" in run.stdout and run.result["run"]["seed"] == seed


def _failure(run: Any) -> dict[str, Any]:
    return run.failed()[0]


def test_must_failure_exit_status_and_html_details(serve, tmp_path: Path) -> None:
    url = serve(wrap=CreateReturns201)
    html = tmp_path / "r.html"
    run = run_suite(["--target", url, "--check", "status.documented[createTask.ok]", "--report-html", str(html)],
                    tmp_path)
    assert run.code == 1
    f = _failure(run)
    assert f["check"] == "status.documented" and f["failure"]["expected"] == 200 and f["failure"]["actual"] == 201
    assert f["exchange"]["request"]["method"] == "POST" and f["exchange"]["curl"].startswith("curl ")
    page = html.read_text()
    for needle in ("status.documented[createTask.ok]", "Request", "Response", "Reproduce", "curl ",
                   "api#define-or-update-a-task"):
        assert needle in page


def test_should_failure_keeps_exit_zero(serve, tmp_path: Path) -> None:
    url = serve(wrap=DuplicateConflict)
    run = run_suite(["--target", url, "--check", "status.server[createTask.duplicate]"], tmp_path)
    assert run.failed() and run.failed()[0]["level"] == "SHOULD"
    assert run.code == 0


def test_deviations(serve, tmp_path: Path) -> None:
    url = serve(wrap=CreateReturns201)
    dev = tmp_path / "dev.yaml"
    dev.write_text("- check: status.documented\n  reason: we answer 201 on purpose\n  expires: 2999-01-01\n")
    run = run_suite(["--target", url, "--check", "status.documented[createTask.ok]", "--deviations", str(dev)],
                    tmp_path)
    assert run.code == 0 and run.outcomes()["status.documented[createTask.ok]"] == "deviation"
    dev.write_text("- check: status.documented\n  reason: we answer 201 on purpose\n  expires: 2001-01-01\n")
    run = run_suite(["--target", url, "--check", "status.documented[createTask.ok]", "--deviations", str(dev)],
                    tmp_path)
    assert run.code == 1 and "expired" in run.failed()[0]["message"]


def test_read_only_sends_only_reads(serve, tmp_path: Path) -> None:
    seen: list[str] = []

    def spy(app: Any) -> Any:
        def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
            seen.append(environ["REQUEST_METHOD"])
            return app(environ, start_response)
        return wrapped

    url = serve(wrap=spy)
    run = run_suite(["--target", url, "--read-only", "--quick", "--areas", "status,pagination,deletes,headers"],
                    tmp_path)
    assert run.result is not None and run.code == 0, run.stdout[-2000:]
    assert run.result["summary"]["totals"]["MUST"]["passed"] > 0
    assert seen and set(seen) <= {"GET", "HEAD"}


def test_version_15_expectations(serve, tmp_path: Path) -> None:
    """Against a server claiming 1.5.9 the suite expects `error` only and no template-id list field."""
    url = serve(kapacitor_version="1.5.9")
    run = run_suite(["--target", url, "--quick", "--check", "errors.body[get*]", "--check", "fields.template-id"],
                    tmp_path)
    assert run.result["run"]["version"] == "1.5.9"
    assert not run.failed(), [f"{r['full_id']}: {r['message'][:300]}" for r in run.failed()]


def test_unreachable_target(tmp_path: Path) -> None:
    run = run_suite(["--target", "http://127.0.0.1:9", "--check", "status.*"], tmp_path)
    assert run.code == 3


def test_interrupt_cleans_up(serve, tmp_path: Path) -> None:
    """Ctrl-C in the middle of a run still deletes everything the run created (and nothing else)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conformance.conftest import ROOT

    url = serve()
    keep = urllib.request.Request(f"{url}/kapacitor/v1/tasks", method="POST", headers={"Content-Type": "application/json"},
                                  data=json.dumps({"id": "not-ours", "script": "stream\n    |from()\n",
                                                   "dbrps": [{"db": "d", "rp": "r"}]}).encode())
    assert urllib.request.urlopen(keep).status == 200
    report = tmp_path / "r.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", "-q", "--target", url, "--report-json",
                             str(report), "--check", "pagination.*", "--check", "pattern.*"], env=env,
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    prefix = json.loads(report.read_text())["run"]["prefix"]
    for family in ("tasks", "templates", "recordings", "replays"):
        with urllib.request.urlopen(f"{url}/kapacitor/v1/{family}?pattern={prefix}*&limit=100000") as resp:
            assert json.loads(resp.read())[family] == [], family
    with urllib.request.urlopen(f"{url}/kapacitor/v1/tasks/not-ours") as resp:
        assert resp.status == 200


def test_docs_profile(serve, tmp_path: Path) -> None:
    """Profile `docs` holds the target to the letter of the docs: GET of a missing recording must be
    404 there, so real-server behaviour (500, which the mock copies) fails; profile `kapacitor` passes it
    with a note."""
    url = serve()
    sel = ["--target", url, "--check", "status.documented[getRecording.missing]"]
    run = run_suite([*sel, "--profile", "docs"], tmp_path)
    assert run.code == 1 and run.failed()[0]["failure"]["expected"] == 404
    run = run_suite(sel, tmp_path)
    assert run.code == 0
    rec = run.result["results"][0]
    assert rec["outcome"] == "passed" and any("docs say 404" in n for n in rec["notes"])
