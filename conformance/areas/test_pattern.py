"""`pattern`: Go path.Match globs over IDs (api#list-tasks; behaviour §2.6)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect_equal
from conformance.context import Kap
from conformance.gomatch import go_path_match, is_malformed
from conformance.pools import Pools

FAMILIES = list(api.FAMILIES)
TOKENS = ["*", "?", "[a-z]", "[A-Z]", "[^a]", "[^0-9]", "[!a]", "\\*", "\\a", "n", "0", "1", "x", "é", "ж",
          "[é-ж]", "_", "-", ".", "[0-9]", "n0", "A", "*x", "?0"]
GLOBS = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4).map("".join)


def _ids(kap: Kap, family: str, pattern: str) -> list[str]:
    return kap.list_ids(family, query=[("pattern", pattern), ("limit", 100000)], ref="api#list-tasks")


@check("pattern.glob", MUST, "api#list-tasks", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_glob(kap: Kap, pools: Pools, family: str) -> None:
    """`pattern` selects exactly the IDs Go's path.Match accepts (`*`, `?`, classes, `[^a]`, escapes)."""
    kap.need(api.FAMILIES[family].list_op)
    pool = pools.get(family)
    prefix = pools.prefix(family)
    full = _ids(kap, family, prefix + "*")
    expect_equal(sorted(full), sorted(pool), f"list {family} pattern={prefix}*: this run's pool",
                 ref="api#list-tasks")

    @given(glob=GLOBS)
    @example(glob="[!a]")
    @example(glob="[^a]")
    @example(glob="?")
    @example(glob="n0?")
    @example(glob="\\*")
    @example(glob="*??")  # Go's `*` may stop inside a multi-byte rune; `?` then takes one byte
    @example(glob="??")  # ... while a whole rune is one `?`: `中` matches `?`, not `??`
    @example(glob="*???")
    @example(glob="\\.x")  # escapes: `\.` is a literal `.`, `\-` a literal `-`
    @example(glob="\\-?")
    @example(glob="[é中]")  # a class of multi-byte runes
    @example(glob="[^a-z]")
    @example(glob="[ß-ж]")
    def prop(glob: str) -> None:
        pattern = prefix + glob
        if is_malformed(pattern, pool):
            return
        want = [i for i in full if go_path_match(pattern, i)]
        expect_equal(_ids(kap, family, pattern), want, f"list {family} pattern={pattern!r}",
                     ref="api#list-tasks")

    prop()


@check("pattern.malformed", SHOULD, "behaviour §2.6", mutates=True)
@pytest.mark.parametrize("family", FAMILIES)
def test_malformed(kap: Kap, pools: Pools, family: str) -> None:
    """A malformed pattern matches nothing: 200 with an empty list."""
    kap.need(api.FAMILIES[family].list_op)
    prefix = pools.prefix(family)
    _ = pools.get(family)
    for glob in ("[", "\\", "[]", "[a-]"):
        expect_equal(_ids(kap, family, prefix + glob), [], f"list {family} pattern={prefix + glob!r}",
                     ref="behaviour §2.6")
