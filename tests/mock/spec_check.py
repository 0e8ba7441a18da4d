"""Validate a mock response against the spec's schema for that operation and status.

Tests call `assert_matches_spec(op_id, status, body)`; the schema comes only from the spec, so a
shape the mock invents and the spec does not document fails here.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from spec import load_spec, operation
from spec.ids import FORMATS


@functools.lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource("urn:kapacitor-spec", Resource(contents=load_spec(), specification=DRAFT4))


@functools.lru_cache(maxsize=1)
def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    for name, predicate in FORMATS.items():
        checker.checks(name)(predicate)
    return checker


def response_schema(op_id: str, status: int, content_type: str = "application/json") -> dict[str, Any] | None:
    return _response_media(op_id, status, content_type)[1]


def _response_media(op_id: str, status: int, content_type: str) -> tuple[str | None, dict[str, Any] | None]:
    """The schema of the documented response, or None when the response has no body.

    Raises AssertionError when the status is not documented for the operation at all.
    """
    op = operation(op_id)
    responses = op.raw.get("responses", {})
    response = responses.get(str(status))
    assert response is not None, f"{op_id}: status {status} is not documented (has {sorted(responses)})"
    response = _deref(response)
    content = response.get("content")
    if not content:
        return None, None
    if content_type in content:
        return content_type, content[content_type].get("schema")
    media_type, media = next(iter(content.items()))
    return media_type, media.get("schema")


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = load_spec()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def assert_matches_spec(op_id: str, status: int, body: Any, content_type: str = "application/json") -> None:
    """`body` may be bytes/str (decoded as JSON) or an already decoded value."""
    media_type, schema = _response_media(op_id, status, content_type)
    if media_type is None:
        assert body in (None, b"", ""), f"{op_id} {status}: the spec documents no body, got {body!r}"
        return
    if schema is None:
        return
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if isinstance(body, str) and "json" in media_type:
        body = json.loads(body)
    validator = OAS30Validator(_rebase(schema), registry=_registry(), format_checker=_format_checker())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{op_id} {status}: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:5]
    )


def _rebase(node: Any) -> Any:
    """Point local `#/components/...` refs at the whole document registered in the registry."""
    if isinstance(node, dict):
        return {
            k: ("urn:kapacitor-spec" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node
