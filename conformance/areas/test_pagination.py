"""Pagination of the task, template, recording and replay lists (api#list-tasks, behaviour §2.4/§2.5).

All checks list this run's own pool (pattern = pool prefix) so they hold on a shared live server.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import spec
from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap
from conformance.gostr import paging_error, parse_int64, utc_second
from conformance.pools import POOL_SIZE, Pools

FAMILIES = list(api.FAMILIES)
BIG = 100000


def _ids(kap: Kap, family: str, pattern: str, **params: Any) -> list[str]:
    query = [("pattern", pattern)] + [(k, v) for k, v in params.items()]
    return kap.list_ids(family, query=query, ref=f"api#list-{family}")


def _full(kap: Kap, pools: Pools, family: str) -> tuple[str, list[str]]:
    kap.need(api.FAMILIES[family].list_op)
    pool = pools.get(family)
    pattern = pools.prefix(family) + "*"
    full = _ids(kap, family, pattern, limit=BIG)
    expect_equal(sorted(full), sorted(pool), f"list {family} with pattern {pattern!r}: exactly this run's pool",
                 ref="api#list-tasks")
    return pattern, full


@check("pagination.default-limit", MUST, "api#list-tasks", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_default_limit(kap: Kap, pools: Pools, family: str) -> None:
    """Without `limit` a list holds at most the spec's default (100) items: the first ones of the full list."""
    default = int(spec.parameter_default("limit", api.FAMILIES[family].list_op))
    pattern, full = _full(kap, pools, family)
    got = _ids(kap, family, pattern)
    expect_equal(len(got), default, f"list {family} without limit ({POOL_SIZE} match): number of items",
                 ref="api#list-tasks")
    expect_equal(got, full[:default], f"list {family} without limit: the first {default} items",
                 ref="api#list-tasks")


@check("pagination.windows", MUST, "api#list-tasks", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_windows_tile(kap: Kap, pools: Pools, family: str) -> None:
    """offset/limit windows of any size tile the full list with no gaps or overlaps."""
    pattern, full = _full(kap, pools, family)

    @given(size=st.integers(min_value=1, max_value=40), start=st.integers(min_value=0, max_value=POOL_SIZE + 5))
    def prop(size: int, start: int) -> None:
        window = _ids(kap, family, pattern, offset=start, limit=size)
        expect_equal(window, full[start:start + size], f"list {family} offset={start} limit={size}",
                     ref="api#list-tasks")

    prop()
    for size in (7, 50):
        tiled: list[str] = []
        offset = 0
        while True:
            window = _ids(kap, family, pattern, offset=offset, limit=size)
            expect(len(window) <= size, f"list {family} offset={offset} limit={size}: at most `limit` items",
                   expected=f"<= {size} items", actual=len(window), ref="api#list-tasks")
            if not window:
                break
            tiled += window
            offset += size
            expect(offset <= 2 * len(full) + size, f"list {family}: paging terminates", expected="an empty page",
                   actual=f"still items at offset {offset}", ref="api#list-tasks")
        expect_equal(tiled, full, f"list {family}: pages of {size} concatenated equal the full list",
                     ref="api#list-tasks")


@check("pagination.limit-zero", MUST, "api#list-tasks", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_limit_zero(kap: Kap, pools: Pools, family: str) -> None:
    """`limit=0` returns an empty list."""
    pattern, _ = _full(kap, pools, family)
    expect_equal(_ids(kap, family, pattern, limit=0), [], f"list {family} limit=0", ref="behaviour §2.4")


@check("pagination.past-end", MUST, "api#list-tasks", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_past_the_end(kap: Kap, pools: Pools, family: str) -> None:
    """An offset past the end answers 200 with `[]` (never null)."""
    pattern, full = _full(kap, pools, family)
    expect_equal(_ids(kap, family, pattern, offset=len(full) + 3), [], f"list {family} offset past the end",
                 ref="behaviour §2.4")


@check("pagination.negative-offset", SHOULD, "behaviour §2.4", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_negative_offset(kap: Kap, pools: Pools, family: str) -> None:
    """A negative offset counts as 0."""
    pattern, full = _full(kap, pools, family)
    expect_equal(_ids(kap, family, pattern, offset=-5, limit=10), full[:10], f"list {family} offset=-5 limit=10",
                 ref="behaviour §2.4")


@check("pagination.negative-limit", SHOULD, "behaviour §2.4", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_negative_limit(kap: Kap, pools: Pools, family: str) -> None:
    """limit<0: templates answer [], the other lists return everything (pattern and offset ignored)."""
    pattern, full = _full(kap, pools, family)
    got = _ids(kap, family, pattern, offset=3, limit=-1)
    if family == "templates":
        expect_equal(got, [], "list templates limit=-1", ref="behaviour §2.4")
    else:
        missing = sorted(set(full) - set(got))
        expect(not missing, f"list {family} limit=-1: every object, offset and pattern ignored",
               expected=f"all {len(full)} pool items (and any others)", actual=f"{len(missing)} pool items missing",
               ref="behaviour §2.4")


_NUMERIC_ALPHABET = st.sampled_from([*list("0123456789+- .xe_"), "١", "²"])


@check("pagination.non-numeric", SHOULD, "behaviour §2.4")
@pytest.mark.parametrize("param", ["offset", "limit"])
@pytest.mark.parametrize("family", FAMILIES)
def test_non_numeric(kap: Kap, family: str, param: str) -> None:
    """offset/limit parse like Go's strconv.ParseInt: anything else is a 400 with the real message."""
    fam = api.FAMILIES[family]
    kap.need(fam.list_op)
    pattern = kap.prefix + "none-*"

    @given(text=st.one_of(st.text(_NUMERIC_ALPHABET, min_size=1, max_size=8),
                          st.sampled_from(["abc", "1.5", "0x10", "1e3", " 1", "+7", "-0", "9223372036854775808"])))
    def prop(text: str) -> None:
        ex = kap.call(fam.list_op, query=[("pattern", pattern), (param, text)])
        value, _ = parse_int64(text)
        if value is None:
            kap.error(ex, 400, paging_error(param, text), what=f"list {family} {param}={text!r}",
                      ref="behaviour §2.4")
        else:
            expect_status(ex, 200, f"list {family} {param}={text!r} (a valid int64)", ref="behaviour §2.4")

    prop()


#: Not Go int64 syntax: each must be a 400 (the docs make offset/limit integers).
NOT_INTEGERS = ["1.5", " 1", "1 ", "0x10", "1e3", "1_0", "abc", "١", "9223372036854775808", ""]


@check("pagination.strict-int", MUST, "api#list-tasks")
@pytest.mark.parametrize("param", ["offset", "limit"])
@pytest.mark.parametrize("family", FAMILIES)
def test_strict_integers(kap: Kap, family: str, param: str) -> None:
    """offset/limit are integers: a value that is not one (decimal, space, hex, `_`) is a 400, not a guess."""
    fam = api.FAMILIES[family]
    kap.need(fam.list_op)
    pattern = kap.prefix + "none-*"
    for text in NOT_INTEGERS:
        ex = kap.call(fam.list_op, query=[("pattern", pattern), (param, text)])
        if text == "":  # an empty value means "not given" (strconv is only asked for a non-empty one)
            expect_status(ex, 200, f"list {family} {param}= (empty: the default)", ref="behaviour §2.4")
            continue
        expect_status(ex, 400, f"list {family} {param}={text!r} (not an integer)", ref="api#list-tasks")


@check("pagination.int-syntax", SHOULD, "behaviour §2.4")
@pytest.mark.parametrize("family", FAMILIES)
def test_go_int_syntax(kap: Kap, family: str) -> None:
    """Go's ParseInt also takes a sign and leading zeros: `+1`, `-0`, `001` are valid offsets and limits."""
    fam = api.FAMILIES[family]
    kap.need(fam.list_op)
    pattern = kap.prefix + "none-*"
    for param in ("offset", "limit"):
        for text in ("+1", "-0", "001"):
            ex = kap.call(fam.list_op, query=[("pattern", pattern), (param, text)])
            expect_status(ex, 200, f"list {family} {param}={text!r} (valid for strconv.ParseInt)",
                          ref="behaviour §2.4")


#: Around the end of the Basic Multilingual Plane: UTF-8 byte order (= code point order) puts
#: U+FF3A/U+FF5A before U+10400/U+1D400/U+20000; UTF-16 order (JavaScript, Java) puts them after.
ASTRAL = ["z", "Ｚ", "ｚ", "\U00010400", "\U0001D400", "\U00020000", "é"]


@check("pagination.order-astral", SHOULD, "behaviour §2.5", mutates=True)
@pytest.mark.parametrize("family", ["tasks", "templates"])
def test_order_outside_bmp(kap: Kap, family: str) -> None:
    """IDs with characters outside the BMP are listed in UTF-8 byte order, not UTF-16 order."""
    prefix = kap.uid("ao") + "-"
    for suffix in ASTRAL:
        if family == "tasks":
            kap.create_task(prefix + suffix)
        else:
            kap.create_template(prefix + suffix)
    got = kap.list_ids(family, query=[("pattern", prefix + "*")], ref="behaviour §2.5")
    want = sorted((prefix + s for s in ASTRAL), key=lambda i: i.encode("utf-8"))
    expect_equal(got, want, f"list {family} pattern={prefix}*: byte order around U+FFFF", ref="behaviour §2.5")


def _date_key(item: dict[str, Any]) -> tuple[str, str]:
    return utc_second(str(item.get("date", ""))), str(item.get("id"))


@check("pagination.order", SHOULD, "behaviour §2.5", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_order(kap: Kap, pools: Pools, family: str) -> None:
    """Tasks/templates by ID in byte order; recordings/replays newest first (ties: ID descending)."""
    fam = api.FAMILIES[family]
    pattern, full = _full(kap, pools, family)
    if fam.id_ordered:
        want = sorted(full, key=lambda s: s.encode("utf-8"))
        expect_equal(full, want, f"list {family}: ordered by ID (byte order)", ref="behaviour §2.5")
        return
    ex = kap.call(fam.list_op, query=[("pattern", pattern), ("limit", BIG), ("fields", "date")])
    items = kap.json_ok(ex, 200, f"list {family} fields=date")[fam.list_key]
    keys = [_date_key(it) for it in items]
    want_keys = sorted(keys, key=lambda k: (k[0], k[1].encode("utf-8")), reverse=True)
    expect_equal([k[1] for k in keys], [k[1] for k in want_keys],
                 f"list {family}: newest first by date (seconds), ties by ID descending", ref="behaviour §2.5",
                 exchange=ex)
