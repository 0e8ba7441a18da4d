"""Routes built from the spec: operationId → handler, matched the way Kapacitor's Go mux matches.

Kapacitor registers exact patterns and prefix patterns (`/tasks/` takes any remainder as the ID);
the longest pattern wins and anything unmatched, including a wrong method, falls to a catch-all
404. The spec marks prefix-like paths with `x-kapacitor-rest-param`, so the rules live in the spec.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mockserver.errors import MockError
from mockserver.operations.registry import Handler
from spec import Operation

_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    operation: Operation
    handler: Handler
    regex: re.Pattern[str] | None
    names: tuple[str, ...]
    weight: tuple[int, int]


def _bucket(path: str) -> str:
    """The first three segments (`/kapacitor/v1/tasks`): patterns are only tried within theirs."""
    cut = -1
    for _ in range(4):
        cut = path.find("/", cut + 1)
        if cut < 0:
            return path
    return path[:cut]


class RoutingError(MockError, RuntimeError):
    """The mock claims an operation it cannot serve, or serves one the spec does not know."""


def _compile(op: Operation) -> tuple[re.Pattern[str] | None, tuple[str, ...], tuple[int, int]]:
    names = tuple(_PARAM.findall(op.path))
    if not names:
        return None, (), (len(op.path), 0)
    pieces = _PARAM.split(op.path)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(re.escape(piece))
        else:
            last = i == len(pieces) - 2 and pieces[-1] == ""
            rest = last and op.rest_param
            out.append(f"(?P<{_group(piece)}>{'.*' if rest else '[^/]*'})")
    literal = sum(len(p) for p in pieces[0::2])
    return re.compile("".join(out) + r"\Z", re.DOTALL), names, (literal, -len(names))


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


class Router:
    """Resolve (method, path) to a route; built once per app."""

    def __init__(self, ops: Iterable[Operation], handlers: dict[str, Handler], claimed: Iterable[str]):
        by_id = {op.operation_id: op for op in ops}
        unknown = sorted(set(handlers) - set(by_id))
        if unknown:
            raise RoutingError(f"handlers bound to operations the spec does not have: {unknown}")
        self._exact: dict[tuple[str, str], Route] = {}
        self._patterns: dict[tuple[str, str], list[Route]] = {}
        for op_id in claimed:
            op = by_id.get(op_id)
            if op is None:
                raise RoutingError(f"the mock claims {op_id!r}, which the spec does not have")
            handler = handlers.get(op_id)
            if handler is None:
                raise RoutingError(f"the mock claims {op_id!r} but no handler is bound to it")
            regex, names, weight = _compile(op)
            route = Route(op, handler, regex, names, weight)
            if regex is None:
                self._exact[(op.method, op.path)] = route
            else:
                literal = op.path[: op.path.index("{")]
                self._patterns.setdefault((op.method, _bucket(literal.rstrip("/") + "/")), []).append(route)
        for routes in self._patterns.values():
            routes.sort(key=lambda r: r.weight, reverse=True)
        self.claimed = frozenset(claimed)

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        route = self._exact.get((method, path))
        if route is not None:
            return route, {}
        for route in self._patterns.get((method, _bucket(path)), ()):
            assert route.regex is not None
            m = route.regex.match(path)
            if m is not None:
                return route, {name: m.group(_group(name)) for name in route.names}
        return None
