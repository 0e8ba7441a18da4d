"""Alert store building blocks without HTTP: Go levels, durations, sorting, JSON Patch, mapstructure."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockserver.errors import BadRequest
from mockserver.gotime import go_duration, parse_go_duration
from mockserver.operations.alerts import handler_id_from_path, topic_id_from_path
from mockserver.store.alerts import go_json_number, parse_level
from mockserver.store.gosort import GoSort
from mockserver.store.handler_kinds import go_format_v, template_error
from mockserver.store.jsonpatch import PatchError, RawNumber, apply_patch

# ---- alert.ParseLevel (§8.2) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [("", 0), ("ok", 0), ("OK", 0), ("Info", 1), ("i", 1), ("warn", 2), ("W", 2), ("C", 3), ("CRIT", 3), ("OKINFO", 0)],
)
def test_parse_level_accepts_prefixes_at_level_boundaries(text: str, level: int) -> None:
    assert parse_level(text) == level


@pytest.mark.parametrize(("text", "shown"), [("K", "K"), ("foo", "FOO"), ("NFO", "NFO"), ("critical!", "CRITICAL!")])
def test_parse_level_rejects_with_the_upper_cased_text(text: str, shown: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_level(text)
    assert info.value.message == f"unknown alert level '{shown}'"


# ---- time.Duration --------------------------------------------------------------------------------

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (SECOND, "1s"),
        (300 * SECOND, "5m0s"),
        (3600 * SECOND + 120 * SECOND + 300_000_000, "1h2m0.3s"),  # Go docs: 1h + 2m + 300ms
        (300_000_000, "300ms"),
        (4_500 * SECOND + 30 * SECOND + 918_273_645, "1h15m30.918273645s"),
        (1_500, "1.5µs"),
        (100, "100ns"),
        (-SECOND // 2, "-500ms"),
    ],
)
def test_go_duration_strings(ns: int, text: str) -> None:
    assert go_duration(ns) == text


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("5m", 300 * SECOND),
        ("1h15m30.918273645s", 4_530_918_273_645),
        ("1.5h", 5_400 * SECOND),
        ("-2us", -2_000),
    ],
)
def test_parse_go_duration(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("5", 'time: missing unit in duration "5"'),
        ("5x", 'time: unknown unit "x" in duration "5x"'),
    ],
)
def test_parse_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_go_duration(text)


# ---- sort.Sort ------------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 12, 13, 49, 50, 51, 200, 1000])
def test_go_sort_ports_sort_with_a_strict_order(legacy: bool, n: int) -> None:
    rng = random.Random(n)
    for shape in ("random", "sorted", "reversed", "few"):
        if shape == "few":
            data = [rng.randrange(3) for _ in range(n)]
        else:
            data = [rng.randrange(10_000) for _ in range(n)]
            if shape == "sorted":
                data.sort()
            elif shape == "reversed":
                data.sort(reverse=True)
        GoSort(data, lambda a, b: a < b).sort(legacy)
        assert data == sorted(data), (shape, n)


def test_go_sort_with_the_servers_comparator_small_case() -> None:
    # Insertion sort with Less(x, y) = x.level > y.level || x.id < y.id, worked by hand.
    def less(x: tuple[str, int], y: tuple[str, int]) -> bool:
        return x[1] > y[1] or x[0] < y[0]

    data = [("b", 3), ("a", 0)]
    GoSort(data, less).sort(False)
    assert data == [("a", 0), ("b", 3)]
    data.append(("c", 2))
    GoSort(data, less).sort(False)
    assert data == [("b", 3), ("c", 2), ("a", 0)]


# ---- the sub-router's path helpers ----------------------------------------------------------------


@pytest.mark.parametrize(("p", "topic"), [("foo/bar/baz", "foo"), ("", ""), ("foo/", "foo"), ("a:b/events", "a:b")])
def test_topic_id_from_path(p: str, topic: str) -> None:
    assert topic_id_from_path(p) == topic


@pytest.mark.parametrize(
    ("p", "result"),
    [("foo/handlers/h", ("h", True)), ("foo/handlers/", ("", True)), ("foo/x/handlers/h", ("h", True)),
     ("foo/handlers/h/x", ("", False)), ("foo/events/e", ("", False)), ("xhandlers/h", ("h", True))],
)  # fmt: skip
def test_handler_id_from_path(p: str, result: tuple[str, bool]) -> None:
    assert handler_id_from_path(p) == result


# ---- JSON values the Go way -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(5, "5"), (5.0, "5"), (0.5, "0.5"), (123456.0, "123456"), (1e6, "1e+06"), (1234567.0, "1.234567e+06"),
     (0.0001, "0.0001"), (0.00001, "1e-05"), (True, "true"), (["a", 1], "[a 1]"), ({"b": "x", "a": 1}, "map[a:1 b:x]")],
)  # fmt: skip
def test_go_format_v(value: Any, text: str) -> None:
    assert go_format_v(value) == text


@pytest.mark.parametrize(("value", "out"), [(1.0, 1), (2.5, 2.5), (12345678901234567890, 12345678901234567000)])
def test_go_json_number_round_trips_through_float64(value: float, out: float) -> None:
    assert go_json_number(value) == out
    assert str(go_json_number(value)) == str(out)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{{ .Name }} is {{ .Level }}", None),
        ('{{ index .Tags "host" | printf "%s" }}', None),
        ("{{if .A}}x{{else}}y{{end}}", None),
        ("{{ .Name ", "template: t:1: unclosed action"),
        ("{{ nope }}", 'template: t:1: function "nope" not defined'),
        ("{{end}}", "template: t:1: unexpected {{end}}"),
        ("{{if .A}}", "template: t:1: unexpected EOF"),
        ("{{}}", "template: t:1: missing value for command"),
        ("a\n{{/* x", "template: t:2: unclosed comment"),
    ],
)
def test_template_errors(text: str, error: str | None) -> None:
    assert template_error("t", text) == error


# ---- JSON Patch -----------------------------------------------------------------------------------


def doc() -> dict[str, Any]:
    return {"id": "h", "topic": "t", "kind": "slack", "options": {"a": [RawNumber("1")], "e": {}}, "match": ""}


def test_test_op_compares_containers_structurally_and_null_matches_none_of_them() -> None:
    apply_patch(doc(), [{"op": "test", "path": "/options/e", "value": {}}])
    # An operation's `null` value has no raw text: tryDoc/tryAry fail on it.
    for value in (None, [], {"k": None}):
        with pytest.raises(PatchError, match="testing value /options/e failed: test failed"):
            apply_patch(doc(), [{"op": "test", "path": "/options/e", "value": value}])


def test_test_op_compares_numbers_by_their_text() -> None:
    apply_patch(doc(), [{"op": "test", "path": "/options/a", "value": [RawNumber("1")]}])
    with pytest.raises(PatchError, match="testing value /options/a failed: test failed"):
        apply_patch(doc(), [{"op": "test", "path": "/options/a", "value": [RawNumber("1.0")]}])


def test_test_op_on_a_missing_key_passes_only_for_null() -> None:
    apply_patch(doc(), [{"op": "test", "path": "/options/none", "value": None}])
    with pytest.raises(PatchError, match="testing value /options/none failed"):
        apply_patch(doc(), [{"op": "test", "path": "/options/none", "value": "x"}])


def test_ops_stop_at_the_first_error_leaving_the_copy_partially_patched() -> None:
    d = doc()
    with pytest.raises(PatchError):
        apply_patch(d, [{"op": "add", "path": "/match", "value": "x"}, {"op": "remove", "path": "/nope"}])
    assert d["match"] == "x"  # the caller patches a copy and discards it on error


def test_root_and_whole_document_paths() -> None:
    with pytest.raises(PatchError, match='doc is missing path: "": missing value'):
        apply_patch(doc(), [{"op": "add", "path": "", "value": 1}])
    patched = apply_patch(doc(), [{"op": "add", "path": "/", "value": 1}])
    assert patched[""] == 1
    patched = apply_patch(doc(), [{"op": "add", "path": "/options/x~1y~0", "value": 2}])
    assert patched["options"]["x/y~"] == 2
