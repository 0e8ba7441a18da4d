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


@check("write.bodiless", MUST, "api#write-data", mutates=True)
@pytest.mark.parametrize("op", ["writePoints", "writePointsRoot"])
def test_write_bodiless(kap: Kap, op: str) -> None:
    """An empty body into this run's own database writes nothing and answers 204: safe on any server,
    so it runs without --allow-writes."""
    kap.need(op)
    ex = kap.call(op, query=[("db", kap.suite.db), ("rp", "autogen")], body=b"")
    expect_status(ex, 204, f"{op} with an empty body", ref="api#write-data")


@check("write.parse-first", SHOULD, "behaviour §12", mutates=True)
def test_write_parse_first(kap: Kap) -> None:
    """Line protocol is parsed before `db` is checked; each bad line gets its own `unable to parse` line."""
    kap.need("writePoints")
    ex = kap.call("writePoints", body="m,host=kcf value=\n")
    expect_status(ex, 400, "write an unparsable line without db", ref="behaviour §12")
    expect(ex.text.startswith("unable to parse 'm,host=kcf value='"), "write without db, bad line: reason",
           expected="unable to parse 'm,host=kcf value=': ...", actual=ex.text[:200], ref="behaviour §12", exchange=ex)
    ex = kap.call("writePoints", query=[("db", kap.suite.db)], body="m value=\nm2 value=\n")
    expect_status(ex, 400, "write two unparsable lines", ref="behaviour §12")
    lines = ex.text.strip().split("\n")
    expect(len(lines) == 2 and all(line.startswith("unable to parse 'm") for line in lines),
           "write two unparsable lines: one reason per line", expected="2 lines 'unable to parse ...'",
           actual=ex.text[:300], ref="behaviour §12", exchange=ex)


@check("write.precision", MUST, "api#write-data", mutates=True, requires=("writes",))
@pytest.mark.parametrize("precision", ["n", "u", "ms", "s", "m", "h"])
def test_write_precision(kap: Kap, precision: str) -> None:
    """Every InfluxDB precision is accepted (into this run's own database)."""
    kap.need("writePoints")
    ex = kap.call("writePoints", query=[("db", kap.suite.db), ("rp", "autogen"), ("precision", precision)],
                  body="m,host=kcf value=1 1000\n")
    expect_status(ex, 204, f"write with precision={precision}", ref="api#write-data")
