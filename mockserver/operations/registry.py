"""The contract between the router and the handlers: `@operation("opId")`, `Call` in, `Reply` out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    import falcon

    from mockserver.config import MockConfig
    from mockserver.store import MockState

Handler = Callable[["Call"], "Reply"]
HANDLERS: dict[str, Handler] = {}


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    """Bind a handler to a spec operationId (the router refuses ids the spec does not have)."""

    def register(func: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise RuntimeError(f"operation {operation_id} bound twice")
        HANDLERS[operation_id] = func
        return func

    return register


@dataclass(frozen=True)
class Reply:
    """What a handler answers; `body` is JSON-encoded Go style unless `raw` is given."""

    status: int = 200
    body: Any = None
    pretty: bool = True
    raw: bytes | None = None
    content_type: str | None = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    stream: Any = None  # an iterable of bytes for streaming responses


@dataclass
class Call:
    """One request as a handler sees it: path parameters, Go-style query access, the body, state."""

    req: falcon.Request
    state: MockState
    config: MockConfig
    params: dict[str, str]
    path: str
    _query: dict[str, list[str]] | None = field(default=None, repr=False)
    _query_as_sent: dict[str, list[str]] | None = field(default=None, repr=False)
    _body: bytes | None = field(default=None, repr=False)

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            raw = self.req.query_string
            self._query = parse_qs(raw, keep_blank_values=True) if raw else {}
        return self._query

    def first(self, name: str, default: str = "") -> str:
        """Go's `r.URL.Query().Get(name)`: the first value, or "" when absent."""
        values = self.query.get(name)
        return values[0] if values else default

    def first_as_sent(self, name: str, default: str = "") -> str:
        """`first`, with invalid UTF-8 kept as bytes (surrogate escapes): for the error texts that
        quote a parameter, as Go's `%q` shows such bytes as `\xff`. Only for quoting; `first` is
        what handlers compute with."""
        if self._query_as_sent is None:
            raw = self.req.query_string
            self._query_as_sent = parse_qs(raw, keep_blank_values=True, errors="surrogateescape") if raw else {}
        values = self._query_as_sent.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str] | None:
        """Every value of a repeated parameter, or None when absent (`fields`)."""
        return self.query.get(name)

    @property
    def raw_query(self) -> str:
        return self.req.query_string or ""

    def body(self) -> bytes:
        if self._body is None:
            self._body = self.req.bounded_stream.read()
        return self._body


#: Mock-only control routes (outside /kapacitor/, so never confused with the API): (method, path
#: template) → handler. They let tests put the mock in states a real server reaches only by running
#: tasks, e.g. alert events. Documented in the README.
CONTROL_PREFIX = "/mock/"
CONTROL: dict[tuple[str, str], Handler] = {}


def control(method: str, template: str) -> Callable[[Handler], Handler]:
    if not template.startswith(CONTROL_PREFIX):
        raise ValueError(f"control routes live under {CONTROL_PREFIX}: {template}")

    def register(func: Handler) -> Handler:
        CONTROL[(method.upper(), template)] = func
        return func

    return register
