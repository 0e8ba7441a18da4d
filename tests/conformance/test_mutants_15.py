"""The correct mock imitating Kapacitor 1.5.9 passes every selection the mutants run with.

`test_mutants.py` proves the baseline on the default (1.8) mock; version deltas are checked in
both directions, so the same selections must also pass on a correct 1.5 server (no false kill of
the 1.5-only mutants, which wrap a 1.5.9 mock themselves).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.conftest import run_suite
from tests.conformance.mutants import MUTANTS

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_baseline_15_passes_every_selection(serve, tmp_path: Path) -> None:
    url = serve(kapacitor_version="1.5.9")
    args: list[str] = []
    for glob in dict.fromkeys(g for m in MUTANTS for g in m.select):
        args += ["--check", glob]
    run = run_suite(["--target", url, "--quick", "--allow-writes", "--allow-config-writes", *args], tmp_path)
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    assert not run.failed(), [f"{r['full_id']}: {r['message'][:300]}" for r in run.failed()]
    assert run.code == 0, run.stdout[-2000:]
