"""Error bodies: every 4xx/5xx answer is JSON with an `error` string (plus `message` on 1.6+),
with a JSON Content-Type, and carries the real server's message text."""

from __future__ import annotations

import pytest

from conformance._runner import run_case
from conformance.cases import CASES, Case, ids
from conformance.checks import MUST, SHOULD, check, error_body, expect, expect_json_content_type
from conformance.context import Kap
from conformance.world import World

ERROR_CASES = [c for c in CASES if any(code >= 400 for code in c.expected())]
MESSAGE_CASES = [c for c in ERROR_CASES if c.message is not None]
#: Routes registered without the JSON Content-Type wrapper (behaviour §1.3).
NO_JSON_ROUTES = frozenset({"streamLogs", "backupStorage", "pprofIndex", "pprofProfile"})


@check("errors.body", MUST, "api#errors")
@pytest.mark.parametrize("case", ERROR_CASES, ids=ids(ERROR_CASES))
def test_error_body(kap: Kap, world: World, case: Case) -> None:
    """A failed request answers a JSON object with an `error` string (and `message` from 1.6)."""
    ex, _ = run_case(kap, world, case)
    if ex.status < 400:
        pytest.skip(f"the target answered {ex.status}: no error body to check (see status.*)")
    what = f"{case.op} ({case.condition})"
    error_body(ex, with_message=kap.suite.error_has_message, what=what)
    if case.op in NO_JSON_ROUTES and not kap.suite.errors_set_json_type:
        # 1.5 left the type of an error to the route wrapper, which these routes skip: Go then
        # sniffs the JSON text as text/plain (the body itself is still the JSON error).
        ctype = ex.header("Content-Type") or ""
        expect(ctype.split(";")[0].strip().lower() in ("application/json", "text/plain"),
               f"{what}: Content-Type", expected="application/json (1.6+) or text/plain; charset=utf-8 (1.5)",
               actual=ctype or "(absent)", ref="behaviour §1.3", exchange=ex)
        return
    expect_json_content_type(ex, what, ref="behaviour §1.3")


@check("errors.message", SHOULD, "behaviour §1.6")
@pytest.mark.parametrize("case", MESSAGE_CASES, ids=ids(MESSAGE_CASES))
def test_error_message(kap: Kap, world: World, case: Case) -> None:
    """The error text is the one real Kapacitor writes (clients match on it)."""
    ex, req = run_case(kap, world, case)
    if ex.status < 400:
        pytest.skip(f"the target answered {ex.status}: no error message to check (see status.*)")
    if case.docs_status is not None and ex.status == case.docs_status:
        pytest.skip("the target follows the docs' variant here; its message is not specified")
    err = error_body(ex, with_message=False, what=f"{case.op} ({case.condition})")
    want = case.message_for(kap, world, req)
    assert want is not None
    ok = err.startswith(want) if case.prefix else err == want
    expect(ok, f"{case.op} ({case.condition}): error message", expected=want + ("..." if case.prefix else ""),
           actual=err, ref=case.ref, exchange=ex)
