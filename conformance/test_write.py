"""Write endpoint codes (api#write-data; behaviour §12). Optional area; points only with --allow-writes."""

from __future__ import annotations

import pytest

from conformance.checks import MUST, SHOULD, check, expect, expect_status
from conformance.context import Kap


@check("write.points", MUST, "api#write-data", mutates=True, requires=("writes",))
@pytest.mark.parametrize("op", ["writePoints", "writePointsRoot"])
def test_write_points(kap: Kap, op: str) -> None:
    """Valid line protocol to a database answers 204 (into this run's own database)."""
    kap.need(op)
    ex = kap.call(op, query=[("db", kap.suite.db), ("rp", "autogen"), ("precision", "s")],
                  body="m,host=kcf value=1 1700000000\n")
    expect_status(ex, 204, f"{op} valid points", ref="api#write-data")


@check("write.errors", SHOULD, "behaviour §12", mutates=True)
def test_write_errors(kap: Kap) -> None:
    """Bad line protocol and a missing db answer 400 with a plain-text reason (nothing is written)."""
    kap.need("writePoints")
    ex = kap.call("writePoints", query=[("db", kap.suite.db)], body="m,host=kcf value=\n")
    expect_status(ex, 400, "write unparsable line", ref="behaviour §12")
    expect(ex.text.startswith("unable to parse"), "write unparsable line: reason", expected="unable to parse '...'",
           actual=ex.text[:200], ref="behaviour §12", exchange=ex)
    ex = kap.call("writePoints", body="m,host=kcf value=1\n")
    expect_status(ex, 400, "write without db", ref="behaviour §12")
    expect(ex.text.strip() == "database is required", "write without db: reason", expected="database is required",
           actual=ex.text[:200], ref="behaviour §12", exchange=ex)
