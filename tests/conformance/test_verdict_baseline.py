"""Regression gating: `--baseline OLD.json`, `compare A.json B.json` and `--rerun-failures`, with two
real saved reports that differ (the mock, and the mock behind a mutant that breaks one rule)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import compare
from tests.conformance.conftest import ROOT, run_suite
from tests.conformance.mutants import CreateReturns201

pytestmark = [pytest.mark.server]

_SEL = ["--check", "status.documented[createTask.ok]", "--check", "status.documented[ping.ok]",
        "--check", "deletes.missing-204"]
_BROKEN = "status.documented[createTask.ok]"


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          env=env, cwd=str(cwd), timeout=120)


def test_baseline_compare_and_rerun(serve: Any, tmp_path: Path) -> None:
    good_url, bad_url = serve(), serve(wrap=CreateReturns201)
    good = run_suite(["--target", good_url, *_SEL], tmp_path)
    bad = run_suite(["--target", bad_url, *_SEL], tmp_path)
    assert good.code == 0 and bad.code == 1, good.stdout[-1500:] + bad.stdout[-1500:]
    good_json, bad_json = tmp_path / "good.json", tmp_path / "bad.json"
    good_json.write_text(json.dumps(good.result))
    bad_json.write_text(json.dumps(bad.result))
    assert good.result and good.result["run"]["spec_sha256"] and good.result["run"]["tool_version"]

    # compare: per check and per area, exit 1 only when something regressed.
    out = _cli(["compare", str(good_json), str(bad_json)], tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "regressions (passed before, fail now): 1" in out.stdout and _BROKEN in out.stdout
    assert "status" in out.stdout.split("per area:")[1] and "MUST 2/2 -> 1/2" in out.stdout
    out = _cli(["compare", str(bad_json), str(good_json)], tmp_path)
    assert out.returncode == 0 and "fixed (failed before, pass now): 1" in out.stdout
    assert _cli(["compare", str(good_json)], tmp_path).returncode == 4

    # --baseline: a check that passed before and fails now fails the run ...
    run = run_suite(["--target", bad_url, *_SEL, "--baseline", str(good_json)], tmp_path)
    assert run.code == 1 and run.result is not None
    assert [r["full_id"] for r in run.result["baseline"]["regressions"]] == [_BROKEN]
    assert "REGRESSED" in run.stdout and "passed in the baseline and fail now" in run.stdout
    # ... a failure the baseline already had does not ...
    run = run_suite(["--target", bad_url, *_SEL, "--baseline", str(bad_json)], tmp_path)
    assert run.code == 0 and run.result is not None and run.result["verdict"]["outcome"] == "PASS"
    # ... and a fix is listed.
    run = run_suite(["--target", good_url, *_SEL, "--baseline", str(bad_json)], tmp_path)
    assert run.code == 0 and run.result is not None
    assert [r["full_id"] for r in run.result["baseline"]["fixed"]] == [_BROKEN] and "FIXED" in run.stdout

    # --rerun-failures runs exactly the failed checks of the earlier run.
    run = run_suite(["--target", bad_url, "--rerun-failures", str(bad_json)], tmp_path)
    assert run.code == 1 and list(run.outcomes()) == [_BROKEN]
    run = run_suite(["--target", bad_url, "--rerun-failures", str(good_json)], tmp_path)
    assert run.code == 4 and "nothing to rerun" in run.stderr


def _doc(outcomes: dict[str, str], sha: str = "a" * 64) -> dict[str, Any]:
    return {"run": {"spec_sha256": sha, "tool_version": "0.1.0", "target": "t", "profile": "kapacitor"},
            "results": [{"full_id": k, "level": "MUST", "area": k.split(".")[0], "outcome": v}
                        for k, v in outcomes.items()]}


def test_diff_units() -> None:
    old = _doc({"a.x": "passed", "a.y": "failed", "a.z": "deviation", "b.gone": "passed"})
    new = _doc({"a.x": "failed", "a.y": "passed", "a.z": "error", "b.new": "failed"}, sha="b" * 64)
    ch = compare.diff(old, new)
    assert [r["full_id"] for r in ch.regressions] == ["a.x", "a.z"]
    assert [r["full_id"] for r in ch.fixed] == ["a.y"]
    assert ch.only_old == ["b.gone"] and ch.only_new == ["b.new"]  # neither regression nor fix
    assert any("different spec" in w for w in ch.warnings)
