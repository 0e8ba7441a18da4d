"""The fuzzer's safety nets: shared fixtures are out of reach, known crash triggers are rewritten."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest

from conformance import crashers
from conformance.areas.test_schema import _confine, fuzz_prefix

P = "kcf0123abcd-"


@pytest.mark.parametrize("value,writes,want", [
    (P + "w-topic", True, P + "fz-w-topic"),       # a shared fixture named by a write: moved away
    (P + "w-topic", False, P + "w-topic"),         # ... by a read: harmless, kept
    (P + "fz-abc", True, P + "fz-abc"),            # the fuzzer's own objects: kept
    ("someone-else", True, P + "fz-someone-else"),  # never anyone else's object
    ("someone-else", False, P + "fz-someone-else"),
])
def test_confine(value: str, writes: bool, want: str) -> None:
    assert _confine(value, P, writes) == want
    assert want.startswith(fuzz_prefix(P)) or not writes


def _case(op_id: str, path: str, body: Any, query: Any = None) -> Any:
    return SimpleNamespace(body=body, query=query, operation=SimpleNamespace(path=path))


@pytest.mark.parametrize("script", ["/±", "a /é b", "x/\U0001F600", "//中\n/ж"])
def test_lexer_trigger_rewritten(script: str) -> None:
    case = _case("createTask", "/kapacitor/v1/tasks", {"script": script})
    crashers.defuse("createTask", "/kapacitor/v1/tasks", case)
    text = case.body["script"]
    assert not any(a == "/" and ord(b) > 127 for a, b in itertools.pairwise(text))


def test_lexer_trigger_in_raw_bytes() -> None:
    case = _case("updateTemplate", "/kapacitor/v1/templates/{id}", '{"script": "/±"}'.encode())
    crashers.defuse("updateTemplate", "/kapacitor/v1/templates/{id}", case)
    assert b"/\xc2" not in case.body


def test_other_triggers() -> None:
    case = _case("createTopicHandler", "/kapacitor/v1/alerts/topics/{topic}/handlers", {"kind": "aggregate"})
    crashers.defuse("createTopicHandler", case.operation.path, case)
    assert case.body["kind"] == "log"
    case = _case("recordQuery", "/kapacitor/v1/recordings/query", {"query": "q"})
    crashers.defuse("recordQuery", case.operation.path, case)
    assert case.body["type"] == "stream"
    case = _case("listTasks", "/kapacitor/v1/tasks", None, {"offset": "5", "limit": str(2**63 - 1)})
    crashers.defuse("listTasks", case.operation.path, case)
    assert 5 + int(case.query["limit"]) <= 2**63 - 1


def test_every_crasher_is_described() -> None:
    names = [c.name for c in crashers.KNOWN_CRASHERS]
    assert len(names) == len(set(names)) and "tickscript-slash-non-ascii" in names
    assert all(c.trigger and c.effect and c.where for c in crashers.KNOWN_CRASHERS)


@pytest.mark.parametrize("offset,limit", [(-20480945498, -(2**63)), (5, 2**63 - 1), (-397438473, 2**60),
                                          ([-(2**40), "1"], 2**62)])
def test_list_window_stays_small(offset: Any, limit: Any) -> None:
    """Negative offsets and int64 wraparound never make a list reserve more than a bounded window
    (a real 1.5.7 died out of memory on the first of these)."""
    query = {"offset": offset, "limit": str(limit)}
    crashers.defuse("listTemplates", "/kapacitor/v1/templates", _case("listTemplates", "", None, query))
    first = query["offset"][0] if isinstance(query["offset"], list) else query["offset"]
    o, lim = int(str(first)), int(str(query["limit"]))
    assert all(crashers.list_window(o, lim, n) - n <= 100_000 for n in (0, 10, 10**6))


def test_harmless_windows_untouched() -> None:
    query = {"offset": "-5", "limit": "10"}
    crashers.defuse("listTasks", "/kapacitor/v1/tasks", _case("listTasks", "", None, query))
    assert query == {"offset": "-5", "limit": "10"}


def test_patch_ops_get_a_value() -> None:
    body = [{"op": "test", "path": "/kind"}, {"op": "add", "path": "/x"}, {"op": "remove", "path": "/y"}]
    case = _case("patchTopicHandler", "/kapacitor/v1/alerts/topics/{topic}/handlers/{handler}", body)
    crashers.defuse("patchTopicHandler", case.operation.path, case)
    assert [("value" in op) for op in case.body] == [True, True, False]


def test_patch_ops_never_keep_a_null_value_or_op() -> None:
    """A real 1.5.7 drops the connection for a `test` with `"value": null` against a stored value,
    for a walk through a value a patch set to null, and for `"op": null`."""
    body = [{"op": "test", "path": "/kind", "value": None}, {"op": "add", "path": "/x", "value": None},
            {"op": None, "path": "/x"}]
    case = _case("patchTopicHandler", "/kapacitor/v1/alerts/topics/{topic}/handlers/{handler}", body)
    crashers.defuse("patchTopicHandler", case.operation.path, case)
    assert [op.get("value") for op in case.body] == ["", "", None] and case.body[2]["op"] is not None
