"""Go path.Match, strconv.ParseInt and the list-window rules of behaviour §2.4–2.6."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import BadRequest
from mockserver.gotext import go_quote
from mockserver.store.listing import GlobSyntaxError, SortedIndex, compile_glob, parse_int_param

# (pattern, name, matches) — cases from Go's path.Match documentation and match_test.go semantics.
GLOB_CASES = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a[!a]b", "a!b", True),  # `!` is literal in Go: no negation
    ("a[!a]b", "axb", False),
    ("*x", "xxx", True),
    ("?", "/", False),
    ("", "", True),
    # Go matches UTF-8 bytes: a star may stop inside a character, then `?` takes one byte.
    ("x*??", "x中", True),
    ("x?", "x中", True),
    ("x??", "x中", False),
    ("*[^a]", "中", True),
    ("[一-龥]", "中", True),
    ("a*", "a中/", False),
]


@pytest.mark.parametrize(("pattern", "name", "expected"), GLOB_CASES)
def test_glob_matches_like_go(pattern: str, name: str, expected: bool) -> None:
    assert compile_glob(pattern)(name) is expected


@pytest.mark.parametrize("pattern", ["[", "[]", "[^]", "a[", "[a-]", "\\", "a\\", "[x-]"])
def test_malformed_globs_are_rejected(pattern: str) -> None:
    with pytest.raises(GlobSyntaxError):
        compile_glob(pattern)


@pytest.mark.parametrize(
    ("raw", "value"), [("0", 0), ("+5", 5), ("-3", -3), ("007", 7), ("9223372036854775807", 2**63 - 1)]
)
def test_int_params_parse_like_strconv(raw: str, value: int) -> None:
    assert parse_int_param("limit", raw, 100) == value


@pytest.mark.parametrize("raw", ["abc", " 1", "1.5", "0x10", "1_000", "+", "-", "١"])
def test_int_params_reject_what_strconv_rejects(raw: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_int_param("offset", raw, 0)
    assert info.value.message == (
        f"invalid offset parameter {go_quote(raw)} must be an integer: "
        f"strconv.ParseInt: parsing {go_quote(raw)}: invalid syntax"
    )


def test_int_params_out_of_range() -> None:
    with pytest.raises(BadRequest) as info:
        parse_int_param("limit", "9223372036854775808", 100)
    assert info.value.message.endswith('parsing "9223372036854775808": value out of range')


def test_empty_param_means_default() -> None:
    assert parse_int_param("limit", "", 100) == 100
    assert parse_int_param("limit", None, 100) == 100


def test_order_is_utf8_byte_order() -> None:
    ids = ["testTaskID2", "testTaskID10", "b", "B", "é", "testTaskID1", "z", "testTaskID11"]
    index = SortedIndex()
    for i in ids:
        index.add(i)
    assert list(index) == sorted(ids, key=lambda s: s.encode("utf-8"))
    # TestServer_ListTasks_Fields: pattern testTaskID1*, offset 1, limit 5.
    assert index.window("testTaskID1*", 1, 5) == ["testTaskID10", "testTaskID11"]


def test_window_edges() -> None:
    index = SortedIndex()
    for i in range(10):
        index.add(f"t{i}")
    assert index.window("", -5, 2) == ["t0", "t1"]
    assert index.window("", 0, 0) == []
    assert index.window("", 10, 5) == []
    assert index.window("[", 0, 5) == []  # malformed pattern matches nothing


@given(
    st.lists(st.text(alphabet="ab/*?[]^-\\c", max_size=6), min_size=1, max_size=30, unique=True),
    st.text(alphabet="ab*?c", max_size=4),
    st.integers(-3, 12),
    st.integers(0, 12),
)
def test_windows_equal_slices_of_the_filtered_sorted_list(ids: list[str], pattern: str, offset: int, limit: int) -> None:
    index = SortedIndex()
    for i in ids:
        index.add(i)
    match = compile_glob(pattern) if pattern else (lambda _id: True)  # an empty pattern lists everything
    expected = [i for i in sorted(ids) if match(i)][max(offset, 0) : max(offset, 0) + limit]
    assert index.window(pattern, offset, limit) == expected
