"""Every deliberately broken server is caught by the check named for the rule it breaks.

Each mutant is the mock behind one middleware (tests/conformance/mutants.py, mutants_families.py).
The suite runs with --quick and only the checks relevant to the rule; it must report the named
check as failed. The unmutated mock (same version, same options) must pass the same selection, so
a kill is attributable. All runs go through `killer.run_jobs`: three worker processes taking jobs
from one queue (costliest first), one server each, the suite in-process and collecting only the
check modules a job selects, so the whole catalogue takes under a minute.

The kill rate and the rules (check ids) that no mutant covers are printed at the end of the run.
Every mutant again in full mode (no --quick) is the `soak` job.
"""

from __future__ import annotations

import fnmatch
import json
import time

import pytest

from tests.conformance.catalogue import MUTANTS, args_of, check_ids, config_of, uncovered
from tests.conformance.killer import Job, Outcome, run_jobs
from tests.conformance.mutants import Mutant

pytestmark = [pytest.mark.server]
_KILLED: dict[str, bool] = {}
_TIMES: dict[str, float] = {}


def _select(globs: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for g in globs:
        out += ["--check", g]
    return out


def _group(m: type[Mutant]) -> str:
    return json.dumps([config_of(m), args_of(m)], sort_keys=True)


def _cost(m: type[Mutant]) -> float:
    """A killed data-plane rule waits out the check's settle time (seconds); the others take a moment."""
    return 30.0 if any(g.startswith("dataplane.") for g in m.select) else 1.0


def build_jobs(catalogue: list[type[Mutant]], *, quick: bool = True) -> tuple[list[Job], dict[str, str]]:
    """One job per mutant, plus one baseline job (the unmutated mock) per distinct config/options."""
    common = ["--quick"] if quick else []
    common.append("--allow-writes")
    jobs: list[Job] = []
    groups: dict[str, list[type[Mutant]]] = {}
    for m in catalogue:
        groups.setdefault(_group(m), []).append(m)
        jobs.append(Job(m.name, f"mutant:{m.name}", [*common, *args_of(m), *_select(m.select)], config_of(m),
                        cost=_cost(m)))
    baselines: dict[str, str] = {}
    for i, (_key, members) in enumerate(sorted(groups.items())):
        name = f"baseline-{i}"
        globs = tuple(dict.fromkeys(g for m in members for g in m.select))
        first = members[0]
        jobs.append(Job(name, "mock", [*common, *args_of(first), *_select(globs)], config_of(first),
                        cost=1.0 + len(globs) / 10))
        for m in members:
            baselines[m.name] = name
    return jobs, baselines


def _killed(m: type[Mutant], outcome: Outcome) -> bool:
    failed = [r["check"] for r in outcome.failed()]
    return any(fnmatch.fnmatchcase(c, k) for c in failed for k in m.kills)


@pytest.fixture(scope="module")
def quick_kill() -> tuple[dict[str, Outcome], dict[str, str]]:
    jobs, baselines = build_jobs(MUTANTS)
    started = time.monotonic()
    outcomes = run_jobs(jobs)
    _TIMES["quick kill (all mutants + baselines)"] = time.monotonic() - started
    return outcomes, baselines


def _explain(outcome: Outcome) -> list[str]:
    return [f"{r['full_id']}: {(r.get('message') or '')[:400]}" for r in outcome.failed()] or [outcome.output[-1500:]]


def test_catalogue_is_large_and_named() -> None:
    """At least 100 mutants, unique names, each naming the checks that must catch it."""
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert len(MUTANTS) >= 100, len(MUTANTS)
    ids = check_ids()
    for m in MUTANTS:
        assert m.kills and m.select and m.rule, m.name
        assert any(fnmatch.fnmatchcase(c, k) for c in ids for k in m.kills), f"{m.name} kills no known check"


def test_baseline_passes_every_selection(quick_kill: tuple[dict[str, Outcome], dict[str, str]]) -> None:
    """The correct mock passes all the checks the mutants are run with (no false kills)."""
    outcomes, baselines = quick_kill
    for name in sorted(set(baselines.values())):
        out = outcomes[name]
        assert out.results, f"{name}: no result\n{out.output}"
        assert not out.failed(), (name, _explain(out))
        assert out.code == 0, (name, out.output[-2000:])


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_killed(quick_kill: tuple[dict[str, Outcome], dict[str, str]], mutant: type[Mutant]) -> None:
    outcomes, _ = quick_kill
    out = outcomes[mutant.name]
    assert out.results, f"{mutant.name}: the suite produced no result\n{out.output}"
    killed = _killed(mutant, out)
    _KILLED[mutant.name] = killed
    assert killed, f"{mutant.name} ({mutant.rule}) survived; failed checks: {[r['check'] for r in out.failed()]}"
    assert out.code == (1 if any(r["level"] == "MUST" for r in out.failed()) else 0)


@pytest.mark.soak
def test_every_mutant_killed_in_full_mode() -> None:
    """Soak: the same catalogue without --quick (more generated examples, the same verdicts)."""
    jobs, baselines = build_jobs(MUTANTS, quick=False)
    outcomes = run_jobs(jobs, timeout=3600)
    for name in sorted(set(baselines.values())):
        assert not outcomes[name].failed(), (name, _explain(outcomes[name]))
    survivors = [m.name for m in MUTANTS if not _killed(m, outcomes[m.name])]
    assert not survivors, survivors


def kill_report(killed: dict[str, bool]) -> list[str]:
    """The kill rate and the rules no mutant covers (shared with the terminal summary)."""
    lines: list[str] = []
    if killed:
        n = sum(killed.values())
        lines.append(f"conformance mutant kill rate: {n}/{len(killed)} ({100.0 * n / len(killed):.1f}%)")
        lines += [f"  SURVIVED {k}" for k, v in sorted(killed.items()) if not v]
    ids = check_ids()
    left = uncovered(ids)
    lines.append(f"rules (check ids) covered by a mutant: {len(ids) - len(left)}/{len(ids)}; "
                 f"no mutant covers: {', '.join(left) if left else 'none'}")
    lines += [f"{k}: {v:.1f}s" for k, v in _TIMES.items()]
    return lines


def test_kill_rate_report() -> None:
    """Every mutant run in this session was killed (the kill rate and the uncovered rules are printed
    in the terminal summary, see conftest.py)."""
    if not _KILLED:
        pytest.skip("no mutant ran in this session")
    assert all(_KILLED.values()), kill_report(_KILLED)
