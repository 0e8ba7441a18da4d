"""Running the project's tests over pytest-xdist workers (`tox -e tests` passes `-n auto`).

Work is dealt out test by test, except that every test of a module in `ONE_WORKER` goes to the
same worker: those modules share one costly module-scoped run (the whole mutant catalogue, the
naive mock's suite run), which a second worker would repeat. (`--dist loadgroup` with
`xdist_group` marks would say the same, but it renames test ids and does not group under pytest 9.)
The controller also prints the mutant kill report its workers hand back.
"""

from __future__ import annotations

from typing import Any

import pytest

ONE_WORKER = frozenset({"tests/conformance/test_mutants.py", "tests/conformance/test_naive_mock.py"})
_KILL_REPORT: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER else nodeid

    return Scheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _KILL_REPORT.extend((getattr(node, "workeroutput", None) or {}).get("kcf_kill_report") or [])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _KILL_REPORT:
        terminalreporter.write_line(line)
