"""Helpers for testing the conformance suite itself: a served mock (optionally mutated) and a
runner that executes the suite in a subprocess against it and reads its JSON result file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SuiteRun:
    code: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None
    #: The suite process's own peak RSS in KiB (only with `run_suite(..., measure_peak=True)`).
    peak_kib: int | None = None

    def outcomes(self) -> dict[str, str]:
        return {r["full_id"]: r["outcome"] for r in (self.result or {}).get("results", [])}

    def failed(self) -> list[dict[str, Any]]:
        return [r for r in (self.result or {}).get("results", []) if r["outcome"] in ("failed", "error")]


#: Runs a command and reports that child's peak RSS alone (RUSAGE_CHILDREN of this pytest process
#: would include every suite run before it).
_PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
         "sys.stderr.write('\\nkcf-peak-kib %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
         "sys.exit(code)")


def run_suite(args: list[str], tmp: Path, *, timeout: float = 240, cli: bool = True,
              measure_peak: bool = False) -> SuiteRun:
    """Run the suite in a fresh interpreter (as a vendor would) and load its JSON result."""
    report = tmp / f"result-{len(list(tmp.iterdir()))}.json"
    if "--seed" not in args:  # a fixed seed: a failure here can be replayed exactly
        args = [*args, "--seed", "1"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("KAPACITOR_URL", None)
    if cli:
        cmd = [sys.executable, "-m", "conformance.cli", "-q", "-p", "no:randomly", "--report-json", str(report), *args]
    else:
        cmd = [sys.executable, "-m", "pytest", "-p", "conformance.plugin", "--pyargs", "conformance", "-q",
               "-p", "no:cacheprovider", "--report-json", str(report), *args]
    if measure_peak:
        cmd = [sys.executable, "-c", _PEAK, *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(tmp))
    result = json.loads(report.read_text()) if report.exists() else None
    peak = None
    if measure_peak:
        marks = [ln for ln in proc.stderr.splitlines() if ln.startswith("kcf-peak-kib ")]
        peak = int(marks[-1].split()[1]) if marks else None
    return SuiteRun(proc.returncode, proc.stdout, proc.stderr, result, peak)


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Serve the mock (optionally wrapped by a middleware) on a free port; returns its URL."""
    from mockserver.app import create_app
    from mockserver.config import MockConfig
    from mockserver.server import serve_in_thread

    handles = []

    def start(wrap: Callable[[Any], Any] | None = None, **config: Any) -> str:
        app = create_app(MockConfig(**config))
        handle = serve_in_thread(wrap(app) if wrap else app)
        handles.append(handle)
        return handle.url

    yield start
    for h in handles:
        h.stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker that ran mutants hands its kill report to the controller (tests/conftest.py)."""
    from tests.conformance import test_mutants

    out = getattr(session.config, "workeroutput", None)
    if out is not None and test_mutants._KILLED:
        out["kcf_kill_report"] = test_mutants.kill_report(test_mutants._KILLED)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show the mutant kill rate and the uncovered rules whenever mutants ran (without needing -s)."""
    from tests.conformance import test_mutants

    if test_mutants._KILLED:
        for line in test_mutants.kill_report(test_mutants._KILLED):
            terminalreporter.write_line(line)
