"""v1preview (api#technical-preview): every v1 operation answers the same under /kapacitor/v1preview."""

from __future__ import annotations

import pytest

from conformance._runner import run_case
from conformance.cases import CASES, Case, ids
from conformance.checks import MUST, check, expect, expect_equal
from conformance.context import Kap
from conformance.world import World

#: One row per operation is enough to show the preview path reaches it; errors show it is the same handler.
PREVIEW_CASES = [c for c in CASES if c.op not in ("backupStorage", "streamLogs")]


@check("preview.same", MUST, "api#technical-preview")
@pytest.mark.parametrize("case", PREVIEW_CASES, ids=ids(PREVIEW_CASES))
def test_preview_same(kap: Kap, world: World, case: Case) -> None:
    """The same request under /kapacitor/v1preview gets the same status and the same kind of body."""
    v1, _ = run_case(kap, world, case)
    pv, _ = run_case(kap, world, case, preview=True)
    expect_equal(pv.status, v1.status, f"{case.op} ({case.condition}) via v1preview: status (v1 answered "
                 f"{v1.status})", ref="api#technical-preview", exchange=pv)
    a, b = v1.json_or_none(), pv.json_or_none()
    if isinstance(a, dict) and isinstance(b, dict):
        if v1.status >= 400:
            expect_equal(b.get("error"), a.get("error"), f"{case.op} ({case.condition}) via v1preview: error",
                         ref="api#technical-preview", exchange=pv)
        else:
            expect_equal(sorted(b), sorted(a), f"{case.op} ({case.condition}) via v1preview: body keys",
                         ref="api#technical-preview", exchange=pv)
    else:
        expect(type(a) is type(b), f"{case.op} ({case.condition}) via v1preview: body kind",
               expected=type(a).__name__, actual=type(b).__name__, ref="api#technical-preview", exchange=pv)
