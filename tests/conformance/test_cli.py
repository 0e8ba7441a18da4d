"""The CLI end to end: exit status, JUnit XML, JSON and HTML reports, seeds, deviations, read-only."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import run_suite
from tests.conformance.mutants import CreateReturns201, DuplicateConflict

pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.mark.parametrize("seed", [1, *(pytest.param(s, marks=pytest.mark.soak) for s in (2, 3, 4, 5))])
def test_run_against_embedded_mock(tmp_path: Path, seed: int) -> None:
    """Without a target the embedded mock is started and the suite passes with zero failures and
    zero flaky results: seed 1 is one FULL pass (every example, data plane included) that also writes
    every report format; seeds 2-5 are `--quick` runs of the soak set (one fresh process each)."""
    junit, html = tmp_path / "junit.xml", tmp_path / "report.html"
    extra = (["--allow-writes", "--junitxml", str(junit), "--report-html", str(html)] if seed == 1
             else ["--quick"])
    run = run_suite(["--seed", str(seed), *extra], tmp_path, timeout=600)
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    assert not run.failed(), [f"{r['full_id']}: {r['message'][:300]}" for r in run.failed()]
    assert run.code == 0
    flaky = [r["full_id"] for r in run.result["results"] if "could not replay" in (r.get("skip_reason") or "")]
    assert not flaky, f"seed {seed}: explorations hypothesis could not replay: {flaky}"
    doc = run.result
    assert doc["run"]["embedded_mock"] and doc["run"]["seed"] == seed and doc["summary"]["passed"]
    assert doc["run"]["cleanup_errors"] == []
    assert f"seed {seed}" in run.stdout and "Kapacitor conformance" in run.stdout and "MUST" in run.stdout
    assert doc["summary"]["totals"]["MUST"]["passed"] > 500  # the whole suite ran, not a corner of it
    if seed != 1:
        return
    root = ET.parse(junit).getroot()
    suite_props = {p.get("name"): p.get("value") for s in root.iter("testsuite")
                   for ps in s.findall("properties") for p in ps.findall("property")}
    assert suite_props["kapacitor_conformance_verdict"] == "PASS" == doc["verdict"]["outcome"]
    assert suite_props["kapacitor_conformance_spec_sha256"] == doc["run"]["spec_sha256"]
    cases = root.iter("testcase")
    props = [{p.get("name"): p.get("value") for p in c.iter("property")} for c in cases]
    assert props and all("check" in p and p["level"] in ("MUST", "SHOULD") for p in props)
    page = html.read_text()
    assert "<style>" in page and "Scores per area" in page and "<script src" not in page
    assert "data-outcome='PASS'" in page
    last = [ln for ln in run.stdout.splitlines() if ln.strip()][-1]
    assert last.startswith("kapacitor-conformance result: PASS (exit 0)")


def _failure(run: Any) -> dict[str, Any]:
    return run.failed()[0]


class _Page(HTMLParser):
    """Collects what a browser would fetch (src/href/url()) and the text of each table row."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.fetched: list[str] = []
        self.rows: list[list[str]] = []
        self.styles: list[str] = []
        self._cell: list[str] | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action", "data")]
        # What a browser loads on its own: any src/srcset/data, and <link href> (stylesheets, icons).
        self.fetched += [v or "" for k, v in attrs if k in ("src", "srcset", "data") or (tag == "link" and k == "href")]
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_style:
            self.styles.append(data)


def test_must_failure_exit_status_and_html_details(serve, tmp_path: Path) -> None:
    """A MUST failure exits 1; the HTML report is self-contained and shows the per-area table and,
    for the failure, request, response, expectation, reference and a curl line."""
    url = serve(wrap=CreateReturns201)
    html = tmp_path / "r.html"
    run = run_suite(["--target", url, "--check", "status.documented[createTask.ok]", "--check",
                     "status.documented[ping.ok]", "--check", "errors.body[getTask.missing]", "--report-html",
                     str(html)], tmp_path)
    assert run.code == 1
    f = _failure(run)
    assert f["check"] == "status.documented" and f["failure"]["expected"] == 200 and f["failure"]["actual"] == 201
    assert f["exchange"]["request"]["method"] == "POST" and f["exchange"]["curl"].startswith("curl ")
    text = html.read_text()
    page = _Page()
    page.feed(text)
    # Self-contained: nothing to fetch; links are in-page anchors or the upstream docs a reference cites.
    links = [r for r in page.refs if not r.startswith("#")]
    assert all(r.startswith("https://docs.influxdata.com/kapacitor/v1/") for r in links), links
    assert not page.fetched, page.fetched
    css = "".join(page.styles)
    assert css and "url(" not in css and "@import" not in css and "<script" not in text
    # The per-area table: one row per area that ran, with its MUST and SHOULD scores.
    header = next(r for r in page.rows if r[:3] == ["area", "MUST", "SHOULD"])
    assert header
    by_area = {r[0]: r for r in page.rows if len(r) == 5 and r[0] in ("status", "errors", "TOTAL")}
    assert by_area["status"][1] == "1/2 (50.0%)" and by_area["errors"][1] == "1/1 (100.0%)"
    assert by_area["TOTAL"][1] == "2/3 (66.7%)"
    # The failure: expectation, reference, request, response and curl line.
    kv = {r[0]: r[1] for r in page.rows if len(r) == 2}
    assert kv["reference"].startswith("api#define-or-update-a-task")
    assert "https://docs.influxdata.com/kapacitor/v1/working/api/#define-or-update-a-task" in text
    # Expected vs actual come first on the failure card, side by side.
    card = text[text.index("id='f-status.documented[createTask.ok]'"):]
    assert card.index("<h5>expected</h5><pre>200</pre>") < card.index("<h5>actual</h5><pre>201</pre>") \
        < card.index("<table class='kv'>")
    assert f"POST {url}/kapacitor/v1/tasks" in text
    assert "HTTP 201" in text
    assert "curl -sS -i --path-as-is -X POST" in text and "Reproduce" in text


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
    assert run.result is not None and run.result["run"]["version"] == "1.5.9"
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
    import urllib.request

    from tests.conformance.conftest import ROOT
    from tests.conformance.test_verdict import _Counting, _wait_for_progress

    counter = _Counting()
    url = serve(wrap=counter.wrap)
    keep = urllib.request.Request(f"{url}/kapacitor/v1/tasks", method="POST", headers={"Content-Type": "application/json"},
                                  data=json.dumps({"id": "not-ours", "script": "stream\n    |from()\n",
                                                   "dbrps": [{"db": "d", "rp": "r"}]}).encode())
    assert urllib.request.urlopen(keep).status == 200
    report = tmp_path / "r.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", "-q", "--target", url, "--report-json",
                             str(report), "--check", "pagination.*", "--check", "pattern.*"], env=env,
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_progress(proc, counter)  # into the checks (not start-up), whatever the machine's load
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
    assert run.code == 0 and run.result is not None
    rec = run.result["results"][0]
    assert rec["outcome"] == "passed" and any("docs say 404" in n for n in rec["notes"])
