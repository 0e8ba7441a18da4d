"""The Kapacitor v1 OpenAPI document: the single source of truth for the mock and the suite.

Everything that needs routes, parameters or schemas loads them from here, so there is never a
second hand-written copy of the API.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SPEC_PATH = Path(__file__).with_name("kapacitor-v1.yaml")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    """One method+path pair of the document, with what callers need to route or test it."""

    operation_id: str
    method: str  # upper case
    path: str  # full path template, e.g. /kapacitor/v1/tasks/{id}
    tags: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)
    path_item: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def rest_param(self) -> bool:
        """True when the last path parameter swallows the rest of the path, as Go prefix routes do."""
        return bool(self.path_item.get("x-kapacitor-rest-param", False))

    @property
    def availability(self) -> dict[str, Any]:
        """Version/feature gates (`since`, `requires`) declared with x-kapacitor-availability."""
        return dict(self.raw.get("x-kapacitor-availability") or {})

    def response_codes(self) -> list[str]:
        return list(self.raw.get("responses", {}).keys())


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """Parse the document once; callers must treat the result as read-only."""
    with SPEC_PATH.open(encoding="utf-8") as fh:
        doc: dict[str, Any] = yaml.safe_load(fh)
    return doc


@functools.lru_cache(maxsize=1)
def operations() -> tuple[Operation, ...]:
    doc = load_spec()
    ops: list[Operation] = []
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            ops.append(
                Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    tags=tuple(op.get("tags", ())),
                    raw=op,
                    path_item=item,
                )
            )
    return tuple(ops)


def operation(operation_id: str) -> Operation:
    for op in operations():
        if op.operation_id == operation_id:
            return op
    raise KeyError(operation_id)


def parameter_default(name: str, operation_id: str | None = None) -> Any:
    """The documented default of a query parameter, from `components/parameters` or one operation.

    The mock and the suite read defaults (e.g. `limit` = 100) from here so the number lives only in
    the document.
    """
    doc = load_spec()
    if operation_id is not None:
        for param in operation(operation_id).raw.get("parameters", []):
            if "$ref" in param:
                param = doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
            if param.get("name") == name:
                return param.get("schema", {}).get("default")
        raise KeyError(f"{operation_id} has no parameter {name!r}")
    return doc["components"]["parameters"][name]["schema"]["default"]


def gated_operations(requirement: str) -> frozenset[str]:
    """Operations that exist only when an optional service is on (`x-kapacitor-availability.requires`)."""
    return frozenset(op.operation_id for op in operations() if op.availability.get("requires") == requirement)


def base_path() -> str:
    """The prefix of every v1 operation path (`x-kapacitor-base-path`), e.g. `/kapacitor/v1`.

    The mock, the suite and the reports take it from here so the prefix is written once.
    """
    return str(load_spec()["x-kapacitor-base-path"])


def preview_base_path() -> str:
    """The technical-preview mirror of `base_path()` (`x-kapacitor-preview-base-path`)."""
    return str(load_spec()["x-kapacitor-preview-base-path"])


@dataclass(frozen=True)
class Link:
    """One OpenAPI link of a successful answer: where the answer leads and how to name it there."""

    name: str
    status: str  # the response code the link belongs to, e.g. "201"
    operation_id: str  # the operation the link leads to
    parameters: dict[str, str]  # path parameter -> runtime expression, e.g. "$response.body#/id"


def _resolve(doc: dict[str, Any], node: dict[str, Any], section: str) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        resolved: dict[str, Any] = doc["components"][section][ref.rsplit("/", 1)[-1]]
        return resolved
    return node


def response_links(operation_id: str) -> tuple[Link, ...]:
    """The links of an operation's 2xx answers, in document order (components resolved)."""
    doc = load_spec()
    found: list[Link] = []
    for status, response in operation(operation_id).raw.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        response = _resolve(doc, response, "responses")
        for name, link in (response.get("links") or {}).items():
            link = _resolve(doc, link, "links")
            target = link.get("operationId")
            if isinstance(target, str):
                found.append(Link(name, str(status), target, dict(link.get("parameters") or {})))
    return tuple(found)
