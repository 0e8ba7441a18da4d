"""Every deliberately broken server is caught by the check named for the rule it breaks.

Each mutant is the mock behind one middleware (tests/conformance/mutants.py). The suite runs with
--quick and only the checks relevant to the rule; it must exit non-zero or report the named check
as failed. The unmutated mock must pass the same selection, so a kill is attributable.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from tests.conformance.conftest import run_suite
from tests.conformance.mutants import MUTANTS, Mutant

pytestmark = [pytest.mark.server, pytest.mark.slow]
_KILLED: dict[str, bool] = {}


def _select(globs: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for g in globs:
        out += ["--check", g]
    return out


def test_baseline_passes_every_selection(serve, tmp_path: Path) -> None:
    """The correct mock passes all the checks the mutants are run with (no false kills)."""
    url = serve()
    globs = tuple(g for m in MUTANTS for g in m.select)
    run = run_suite(["--target", url, "--quick", "--allow-writes", "--allow-config-writes", *_select(globs)],
                    tmp_path)
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    assert not run.failed(), [f"{r['full_id']}: {r['message'][:300]}" for r in run.failed()]
    assert run.code == 0, run.stdout[-2000:]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_killed(serve, tmp_path: Path, mutant: type[Mutant]) -> None:
    url = serve(wrap=mutant)
    run = run_suite(["--target", url, "--quick", "--allow-writes", *_select(mutant.select)], tmp_path)
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    failed = [r["check"] for r in run.failed()]
    killed = any(fnmatch.fnmatchcase(c, k) for c in failed for k in mutant.kills)
    _KILLED[mutant.name] = killed
    assert killed, f"{mutant.name} ({mutant.rule}) survived; failed checks: {failed}"
    assert run.code == (1 if any(r["level"] == "MUST" for r in run.failed()) else 0)


def test_kill_rate_report() -> None:
    """Print the kill rate of the mutants run in this session (-s shows it)."""
    if not _KILLED:
        pytest.skip("no mutant ran in this session")
    killed = sum(_KILLED.values())
    rate = 100.0 * killed / len(_KILLED)
    print(f"\nconformance mutant kill rate: {killed}/{len(_KILLED)} ({rate:.0f}%)")
    for name, ok in sorted(_KILLED.items()):
        print(f"  {'killed  ' if ok else 'SURVIVED'} {name}")
    assert killed == len(_KILLED)
