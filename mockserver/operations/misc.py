"""Small endpoints that need no store: ping."""

from __future__ import annotations

from mockserver.operations.registry import Call, Reply, operation


@operation("ping")
def ping(call: Call) -> Reply:
    return Reply(204)


@operation("pingHead")
def ping_head(call: Call) -> Reply:
    return Reply(204)
