"""HTTP handlers, one module per resource family, each bound to spec operationIds.

Importing the package registers every handler; `claimed()` says which operations this mock
serves for a given configuration (the router refuses to start if one of them has no handler).
"""

from __future__ import annotations

from mockserver.config import MockConfig as _MockConfig
from mockserver.operations import (  # noqa: F401  (importing registers the handlers)
    alerts,
    config,
    control,
    fluxtasks,
    misc,
    recordings,
    replays,
    servicetests,
    storage,
    system,
    tasks,
    templates,
    users,
    write,
)
from mockserver.operations.registry import HANDLERS
from spec import gated_operations

#: Operations served only when an optional service is switched on, as the spec marks them.
_GATED = {"auth": gated_operations("auth"), "flux_tasks": gated_operations("fluxtask")}


def claimed(settings: _MockConfig) -> frozenset[str]:
    """Every bound operation, minus those whose optional service is off."""
    ops = set(HANDLERS)
    if not settings.auth:
        ops -= _GATED["auth"]
    if not (settings.flux_tasks and settings.at_least_1_6):
        ops -= _GATED["flux_tasks"]
    return frozenset(ops)
