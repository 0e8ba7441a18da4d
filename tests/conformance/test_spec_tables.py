"""The suite's operation tables are read from the spec, not kept by hand.

The old hand-written tables are written out once below as a regression guard: the derivation
must give exactly what the suite used before it read them from the spec. The mutation tests change
one spec field on a copy and check the table follows, so the tables cannot quietly stop reading it.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

import spec
from conformance import api
from conformance.api import Family

# ------------------------------------------------------------- the hand tables they replace
OLD_FAMILIES = {
    "tasks": Family("tasks", "listTasks", "getTask", "deleteTask", "tasks", "task"),
    "templates": Family("templates", "listTemplates", "getTemplate", "deleteTemplate", "templates", "template"),
    "recordings": Family("recordings", "listRecordings", "getRecording", "deleteRecording", "recordings",
                         "recording", id_ordered=False),
    "replays": Family("replays", "listReplays", "getReplay", "deleteReplay", "replays", "replay", id_ordered=False),
}
OLD_CREATES = {"createTask": "task", "createTemplate": "template", "recordStream": "recording",
               "recordBatch": "recording", "recordQuery": "recording", "createReplay": "replay", "replayBatch": "replay",
               "replayQuery": "replay", "createUser": "user", "createFluxTask": "flux-task"}
OLD_HANDLER_CREATES = {"createTopicHandler", "createTopicHandlerFallback"}
OLD_NEVER_FUZZED = {"streamLogs", "pprofProfile", "getTaskHttpOut", "setLogLevel", "linkSubscriptions"}
OLD_NO_PROBE = {"streamLogs", "pprofProfile", "backupStorage", "getTaskHttpOut"}
OLD_BULK = {"backupStorage"}
OLD_BASE, OLD_PREVIEW = "/kapacitor/v1", "/kapacitor/v1preview"


def test_families_as_before() -> None:
    assert api.FAMILIES == OLD_FAMILIES
    assert list(api.FAMILIES) == list(OLD_FAMILIES)  # parametrized check ids keep their order
    assert tuple(OLD_FAMILIES) == api.LISTABLE


def test_create_tables_as_before() -> None:
    from conformance.areas import test_schema

    assert test_schema._CREATES == OLD_CREATES
    assert set(test_schema._HANDLER_CREATES) == OLD_HANDLER_CREATES
    assert {**OLD_CREATES, **dict.fromkeys(OLD_HANDLER_CREATES, "handler")} == api.CREATES


def test_never_and_probe_tables_as_before() -> None:
    from conformance.areas import test_schema

    assert test_schema._NEVER == api.NOT_FUZZED == OLD_NEVER_FUZZED
    assert api.NO_PROBE == OLD_NO_PROBE
    assert api.BULK == OLD_BULK


def test_one_base_path_for_mock_and_suite() -> None:
    from mockserver import render

    assert (spec.base_path(), spec.preview_base_path()) == (OLD_BASE, OLD_PREVIEW)
    assert (api.V1, api.PREVIEW) == (render.BASE, render.PREVIEW) == (OLD_BASE, OLD_PREVIEW)


# ------------------------------------------------------------------------------ mutations
def _ops_with(op_id: str, **changes: Any) -> tuple[spec.Operation, ...]:
    """All operations, with `op_id`'s raw object changed (a value of None removes the key)."""
    out = []
    for op in spec.operations():
        if op.operation_id == op_id:
            raw = copy.deepcopy(op.raw)
            for key, value in changes.items():
                key = key.replace("_", "-")
                if value is None:
                    raw.pop(key, None)
                else:
                    raw[key] = value
            op = dataclasses.replace(op, raw=raw)
        out.append(op)
    return tuple(out)


def _families(ops: tuple[spec.Operation, ...]) -> dict[str, Family]:
    return api.derive_families(ops, spec.load_spec(), spec.base_path())


def test_order_field_drives_id_ordering() -> None:
    assert _families(_ops_with("listRecordings", x_kapacitor_order="id"))["recordings"].id_ordered is True
    assert _families(_ops_with("listTasks", x_kapacitor_order="newest-first"))["tasks"].id_ordered is False


def test_a_list_without_order_or_behind_a_service_is_no_family() -> None:
    assert "replays" not in _families(_ops_with("listReplays", x_kapacitor_order=None))
    gated = _ops_with("listTemplates", x_kapacitor_availability={"requires": "auth"})
    assert "templates" not in _families(gated)
    # users list with offset/limit and an order, but only with auth on: a gate is what keeps them out
    assert "users" in _families(_ops_with("listUsers", x_kapacitor_availability=None))


def test_creates_field_drives_kind_and_create_tables() -> None:
    ops = _ops_with("createTask", x_kapacitor_creates="job")
    assert api.derive_creates(ops)["createTask"] == "job"
    assert _families(ops)["tasks"].kind == "job"
    assert "createTask" not in api.derive_creates(_ops_with("createTask", x_kapacitor_creates=None))


def test_a_family_with_two_created_kinds_is_refused() -> None:
    with pytest.raises(ValueError, match="tasks"):
        _families(_ops_with("updateTask", x_kapacitor_creates="template"))


@pytest.mark.parametrize(("trait", "fuzzed", "probed"), [
    ("streams", False, False), ("slow", False, False), ("dynamic", False, False),
    ("bulk", True, False), ("irreversible", False, True),
])
def test_traits_drive_fuzz_and_probe_tables(trait: str, fuzzed: bool, probed: bool) -> None:
    ops = _ops_with("getTask", x_kapacitor_traits=[trait])
    assert ("getTask" not in api.with_traits(ops, api.NOT_FUZZED_TRAITS)) is fuzzed
    assert ("getTask" not in api.with_traits(ops, api.NO_PROBE_TRAITS)) is probed
    assert "getTask" not in api.NOT_FUZZED | api.NO_PROBE


def test_base_path_field_drives_the_base_path(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = copy.deepcopy(spec.load_spec())
    doc["x-kapacitor-base-path"] = "/kapacitor/v9"
    monkeypatch.setattr(spec, "load_spec", lambda: doc)
    assert spec.base_path() == "/kapacitor/v9"


# ------------------------------------------------------------------ the library/check split
def test_library_never_imports_a_check_module() -> None:
    """`conformance/areas/` holds the checks; the library beside it must not depend on them."""
    import ast
    from pathlib import Path

    import conformance

    root = Path(conformance.__file__).parent
    library = list(root.glob("*.py"))
    assert len(library) > 20 and not list(root.glob("test_*.py"))
    for path in library:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{a.name}" for a in node.names]
            assert not any(n.startswith("conformance.areas") for n in names), f"{path.name} imports {names}"
