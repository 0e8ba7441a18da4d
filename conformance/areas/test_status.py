"""Status codes of every operation the target serves, for success and each documented error.

Rows come from `conformance.cases`; expected codes are the spec's (`x-kapacitor-errors`, success
responses). MUST rows are codes the public docs state; SHOULD rows are the real server's codes
for conditions the docs leave open.
"""

from __future__ import annotations

import pytest

from conformance import api
from conformance._runner import run_case
from conformance.cases import CASES, Case, ids
from conformance.checks import MUST, SHOULD, check, expect, expect_status
from conformance.context import Kap
from conformance.world import World

MUST_CASES = [c for c in CASES if c.level == MUST]
SHOULD_CASES = [c for c in CASES if c.level == SHOULD]


def _check(kap: Kap, world: World, case: Case) -> None:
    ex, _ = run_case(kap, world, case)
    what = f"{case.op} ({case.condition})"
    if case.docs_status is not None:
        (real,) = case.expected()
        kap.disputed_status(ex, kapacitor=real, docs=case.docs_status, what=what, ref_real=case.ref,
                            ref_docs=case.docs_ref)
    else:
        expect_status(ex, case.expected(), what, ref=case.ref)
    documented = api.documented_codes(case.op)
    if documented and not kap.docs_profile:
        expect(ex.status in documented, f"{what}: status code is one the spec documents for {case.op}",
               expected=sorted(documented), actual=ex.status, ref=f"spec {case.op}", exchange=ex)


@check("status.documented", MUST, "api#http-response-codes")
@pytest.mark.parametrize("case", MUST_CASES, ids=ids(MUST_CASES))
def test_documented_status(kap: Kap, world: World, case: Case) -> None:
    """The status code the docs give for this operation and condition."""
    _check(kap, world, case)


@check("status.server", SHOULD, "behaviour §1-§13")
@pytest.mark.parametrize("case", SHOULD_CASES, ids=ids(SHOULD_CASES))
def test_server_status(kap: Kap, world: World, case: Case) -> None:
    """The status code real Kapacitor answers for this operation and condition."""
    _check(kap, world, case)
