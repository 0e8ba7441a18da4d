"""The layering ARCHITECTURE.md states, checked against the imports of the source.

Every `import` and `from ... import` (at any depth, so lazy imports inside functions count too)
of every module is resolved to the modules it names; the rules below are the ones the document
states in "Dependencies point one way" and "The mock, by layer".
"""

from __future__ import annotations

import ast
import fnmatch
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("spec", "mockserver", "conformance")
HTTP_FRAMEWORKS = ("falcon", "waitress")

#: The suite starts the embedded mock (no `--target`) from its pytest plugin, and only there.
CONFORMANCE_MAY_IMPORT_MOCK = frozenset({"conformance.plugin"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for package in OURS for p in sorted((ROOT / package).rglob("*.py"))}


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module `module` imports; `from a import b` names `a` and, if it is one, `a.b`."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules())
    return frozenset(found)


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _offenders(packages: tuple[str, ...], forbidden: tuple[str, ...], allowed: frozenset[str] = frozenset()) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module in modules()
        if _under(module, *packages) and module not in allowed
        for name in imports_of(module)
        if _under(name, *forbidden)
    )


def test_the_scan_sees_the_imports_it_judges() -> None:
    """The rules below would pass vacuously on a scan that finds nothing."""
    assert "mockserver.store.tasks" in modules() and "conformance.plugin" in modules()
    assert "falcon" in imports_of("mockserver.app")
    assert "mockserver.operations" in imports_of("mockserver.app")  # `from mockserver import operations`
    assert "mockserver.app" in imports_of("conformance.plugin")  # a lazy import inside a fixture
    assert "mockserver.store.listing" in imports_of("mockserver.store.tasks")
    assert "mockserver.tickscript.lexer" in imports_of("mockserver.tickscript.parser")  # relative


def test_offenders_are_found() -> None:
    assert _offenders(("mockserver.app",), ("falcon",)) == ["mockserver.app imports falcon"]


@pytest.mark.parametrize("layer", ["mockserver.store", "mockserver.engine", "mockserver.tickscript"])
def test_state_engine_and_language_know_no_http(layer: str) -> None:
    """Stores, the data plane and the TICKscript engine never see the HTTP framework or the layers
    that speak HTTP (operations, the app, the router)."""
    forbidden = (*HTTP_FRAMEWORKS, "mockserver.operations", "mockserver.app", "mockserver.routing", "mockserver.server")
    assert _offenders((layer,), forbidden) == []


def test_tickscript_knows_no_store_and_no_data_plane() -> None:
    assert _offenders(("mockserver.tickscript",), ("mockserver.store", "mockserver.engine", "mockserver.auth")) == []


def test_spec_imports_nothing_of_ours() -> None:
    assert _offenders(("spec",), ("mockserver", "conformance")) == []


def test_the_mock_never_imports_the_suite() -> None:
    assert _offenders(("mockserver",), ("conformance",)) == []


def test_the_suite_imports_the_mock_only_to_embed_it() -> None:
    """By package prefix: a check module moved into a subpackage is still held to the rule."""
    assert _offenders(("conformance",), ("mockserver",), CONFORMANCE_MAY_IMPORT_MOCK) == []


def test_the_fixture_modules_exist() -> None:
    """An allow-list entry for a module that was renamed would silently allow nothing."""
    assert set(modules()) >= CONFORMANCE_MAY_IMPORT_MOCK


def _module_map() -> list[str]:
    """The backticked `.py` paths of ARCHITECTURE.md's module maps (the mock's and the suite's)."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    sections = [part.split("\n## ", 1)[0] for part in text.split("### Module map")[1:]]
    return [p for section in sections for p in re.findall(r"`((?:spec|mockserver|conformance)/[\w/*]+\.py)`", section)]


def test_the_module_map_names_every_module() -> None:
    listed = _module_map()
    paths = sorted(p.relative_to(ROOT).as_posix() for p in modules().values())
    missing = [p for p in paths if not any(fnmatch.fnmatchcase(p, entry) for entry in listed)]
    assert missing == [], "ARCHITECTURE.md's module map lacks these modules"


def test_the_module_map_names_nothing_else() -> None:
    listed = _module_map()
    assert len(listed) > 40
    assert [entry for entry in listed if not list(ROOT.glob(entry))] == []
