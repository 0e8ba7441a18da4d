"""The mutant catalogue: every broken server of tests/conformance, and the rules they cover.

A mutant may carry two optional class attributes besides `kills`/`select`: `config` (MockConfig
fields, e.g. `{"kapacitor_version": "1.5.9"}` for a rule only a 1.5 target shows, or
`{"auth": True}`) and `args` (extra suite options, e.g. `("--allow-writes",)`).
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from typing import Any

from tests.conformance import mutants, mutants_dataplane, mutants_families
from tests.conformance.mutants import Mutant

MUTANTS: list[type[Mutant]] = [*mutants.MUTANTS, *mutants_families.MUTANTS, *mutants_dataplane.MUTANTS]


def by_name(name: str) -> type[Mutant]:
    for m in MUTANTS:
        if m.name == name:
            return m
    raise KeyError(name)


def config_of(m: type[Mutant]) -> dict[str, Any]:
    return dict(getattr(m, "config", {}) or {})


def args_of(m: type[Mutant]) -> tuple[str, ...]:
    return tuple(getattr(m, "args", ()) or ())


def check_ids() -> list[str]:
    """The rule catalogue: the id of every check the suite declares (one rule class per id)."""
    from conformance import areas

    found: set[str] = set()
    for info in pkgutil.iter_modules(areas.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"conformance.areas.{info.name}")
        for obj in vars(module).values():
            for mark in getattr(obj, "pytestmark", []) or []:
                if getattr(mark, "name", "") == "kcheck":
                    found.add(mark.args[0].id)
    return sorted(found)


def uncovered(ids: list[str], catalogue: list[type[Mutant]] | None = None) -> list[str]:
    """Check ids that no mutant names in `kills`: rules whose power nothing proves yet."""
    kills = [k for m in (catalogue or MUTANTS) for k in m.kills]
    return [c for c in ids if not any(fnmatch.fnmatchcase(c, k) for k in kills)]
