"""The dataplane area catches a mock that drops written points or miscounts node stats, in every
check a mutant names (the quick kill in test_mutants.py needs only one; this stricter run is soak)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from tests.conformance.catalogue import check_ids
from tests.conformance.conftest import run_suite
from tests.conformance.mutants import Mutant
from tests.conformance.mutants_dataplane import MUTANTS, SELECT

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.soak]


def _select() -> list[str]:
    return [arg for g in SELECT for arg in ("--check", g)]


def test_baseline_passes(serve, tmp_path: Path) -> None:
    """The correct mock passes the dataplane selection (no false kills)."""
    run = run_suite(["--target", serve(), "--quick", "--allow-writes", *_select()], tmp_path)
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    assert not run.failed(), [f"{r['full_id']}: {r['message'][:300]}" for r in run.failed()]
    passed = [r for r in run.result["results"] if r.get("outcome") == "passed"]
    selected = [c for c in check_ids() if any(fnmatch.fnmatchcase(c, g) for g in SELECT)]
    assert selected and len(passed) == len(selected), run.stdout[-2000:]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_killed(serve, tmp_path: Path, mutant: type[Mutant]) -> None:
    run = run_suite(["--target", serve(wrap=mutant), "--quick", "--allow-writes", *_select()], tmp_path)
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    failed = [r["check"] for r in run.failed()]
    missed = [k for k in mutant.kills if not any(fnmatch.fnmatchcase(c, k) for c in failed)]
    assert not missed, f"{mutant.name} ({mutant.rule}) survived {missed}; failed checks: {failed}"
