"""Seed sweep: the full suite passes on the embedded mock for many random seeds (no false alarm).

Marked `soak` (its own tox env, `tox -e soak`): each run is a full pass of about half a minute.
`KCF_SOAK_RUNS` sets the number of seeds (default 30), `KCF_SOAK_TIMEOUT` the seconds one run may
take (default 3600); `KCF_SOAK_ARGS` adds options (for example `--target URL` to sweep a real
server). Every failure names its seed, so it can be replayed.
"""

from __future__ import annotations

import os
import random
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conformance.conftest import run_suite

pytestmark = [pytest.mark.soak, pytest.mark.slow]
_RUNS = int(os.environ.get("KCF_SOAK_RUNS", "30"))
#: Seconds one full run may take: generous, a loaded CI machine is many times slower than a laptop.
_TIMEOUT = float(os.environ.get("KCF_SOAK_TIMEOUT", "3600"))
_SEEDS = [random.SystemRandom().randrange(1, 2**31) for _ in range(_RUNS)]


@pytest.fixture(autouse=True)
def _only_when_asked(request: pytest.FixtureRequest) -> None:
    """A bare `pytest` must stay fast: the sweep runs only under `-m soak` (tox -e soak)."""
    expr = request.config.getoption("markexpr") or ""
    if "soak" not in expr or "not soak" in expr:
        pytest.skip("seed sweep: run with -m soak (tox -e soak)")


@pytest.mark.parametrize("run", range(_RUNS))
def test_random_seed_passes(run: int, tmp_path: Path) -> None:
    seed = _SEEDS[run]
    args = [*shlex.split(os.environ.get("KCF_SOAK_ARGS", "")), "--seed", str(seed)]
    try:
        result = run_suite(args, tmp_path, timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"seed {seed}: the run took longer than {_TIMEOUT:.0f}s (KCF_SOAK_TIMEOUT); no verdict")
    assert result.result is not None, f"seed {seed}: no result file\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
    failed = [f"{r['full_id']} ({r['level']}): {r['message'][:400]}" for r in result.failed()]
    assert not failed, f"seed {seed}: {failed}"
    assert result.code == 0, f"seed {seed}: exit {result.code}\n{result.stdout[-2000:]}"
