"""A naive spec-only mock (naive_mock.py: documented status, example bodies, no state) must score
below 40% of the MUST checks: the suite checks values and behaviour, not shapes.

The naive mock's `X-Kapacitor-Version: string` fails the preflight, so it runs with `--force`.
What it still passes is what a stateless mock can honestly get right (schema-valid bodies, the
documented success code where the request is valid, 204 for deleting a missing object); the
checks that used to pass it on shape alone now look at values: every row's version header must be
a version, a create must answer the ID asked for, and a response must be about the object asked.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.killer import Job, Outcome, run_jobs

pytestmark = [pytest.mark.server]

#: Areas whose checks live in the family modules.
FAMILY_AREAS = {"templates", "recordings", "replays", "alerts", "config", "services", "storage", "users", "flux",
                "write", "preview"}


@pytest.fixture(scope="module")
def naive() -> Outcome:
    return run_jobs([Job("naive", "naive", ["--quick", "--force"])], workers=1)["naive"]


def _must(out: Outcome, areas: set[str] | None = None) -> tuple[int, int, dict[str, list[int]]]:
    rows = [r for r in out.results if r["level"] == "MUST" and r["outcome"] in ("passed", "failed", "error")
            and (areas is None or r["area"] in areas)]
    by_area: dict[str, list[int]] = {}
    for r in rows:
        by_area.setdefault(r["area"], [0, 0])[r["outcome"] == "passed"] += 1
    return sum(r["outcome"] == "passed" for r in rows), len(rows), by_area


def _show(label: str, passed: int, total: int, by_area: dict[str, Any]) -> None:
    print(f"\nnaive spec mock, {label}: MUST {passed}/{total} ({100 * passed / max(total, 1):.1f}%) passed; "
          "per area passed/total: " + ", ".join(f"{a} {p}/{f + p}" for a, (f, p) in sorted(by_area.items())))


def test_naive_mock_fails_the_family_checks(naive: Outcome) -> None:
    passed, total, by_area = _must(naive, FAMILY_AREAS)
    _show("family areas", passed, total, by_area)
    assert total > 100, naive.output[-2000:]
    assert naive.code == 1
    assert passed / total < 0.10, f"a naive spec mock passes {passed}/{total} family MUST checks"


def test_naive_mock_scores_below_40_percent(naive: Outcome) -> None:
    passed, total, by_area = _must(naive)
    _show("all areas", passed, total, by_area)
    assert total > 300, naive.output[-2000:]
    assert passed / total < 0.40, f"a naive spec mock passes {100 * passed / total:.1f}% of the MUST checks"
