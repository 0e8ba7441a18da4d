"""A naive spec-driven mock: what a generator (Prism and the like) makes of spec/kapacitor-v1.yaml.

Every operation of the spec answers its documented success status with the first example of that
response, or a body generated from its schema; headers carry their example value or `string`
(so `X-Kapacitor-Version: string`). It keeps no state and validates nothing. A suite that checks
values, not shapes, must fail it on most MUST checks (test_naive_mock.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import spec

_MAX_DEPTH = 6


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target: Any = doc
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[part]
        node, seen = target, seen + 1
    return node


def generate(doc: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A schema-valid value: the schema's example, else its first enum value, else a placeholder."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return generate(doc, schema[key][0], depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = generate(doc, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return {name: generate(doc, sub, depth + 1) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [generate(doc, schema.get("items", {}), depth + 1)]
    if kind == "string":
        return {"date-time": "2019-08-24T14:15:22Z", "uuid": "095be615-a8ad-4c33-8e9b-c7dd6a8a7b4b"}.get(
            str(schema.get("format")), "string")
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    return None


class _Route:
    def __init__(self, doc: dict[str, Any], op: spec.Operation) -> None:
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", op.path))
        if op.rest_param:
            pattern = pattern[: pattern.rfind("[^/]+")] + ".*"
        self.method = op.method
        self.regex = re.compile(pattern + r"\Z")
        self.literal = len(re.sub(r"\{[^}]+\}", "", op.path))
        codes = sorted(op.response_codes(), key=lambda c: (not c.startswith("2"), c))
        self.status = int(codes[0]) if codes and codes[0].isdigit() else 200
        response = _resolve(doc, op.raw.get("responses", {}).get(str(self.status), {})) or {}
        self.headers = [("Content-Type", "application/json")]
        for name, header in (response.get("headers") or {}).items():
            header = _resolve(doc, header) or {}
            value = header.get("example", generate(doc, header.get("schema", {})))
            self.headers.append((name, str(value if value is not None else "string")))
        self.body = b""
        media = (response.get("content") or {}).get("application/json")
        if media is not None and self.status != 204:
            examples = media.get("examples") or {}
            if examples:
                value = _resolve(doc, next(iter(examples.values()))).get("value")
            else:
                value = media.get("example", generate(doc, media.get("schema", {})))
            self.body = json.dumps(value).encode()


class NaiveMock:
    """The WSGI app: first matching route (most literal text first), else 404."""

    def __init__(self) -> None:
        doc = spec.load_spec()
        self.routes = sorted((_Route(doc, op) for op in spec.operations()), key=lambda r: -r.literal)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        for route in self.routes:
            if route.method == method and route.regex.match(path):
                start_response(f"{route.status} Generated", [*route.headers, ("Content-Length", str(len(route.body)))])
                return [route.body]
        body = b'{"type": "NO_PATH_MATCHED_ERROR", "title": "Route not resolved, no path matched", "status": 404}'
        start_response("404 Not Found", [("Content-Type", "application/problem+json"),
                                         ("Content-Length", str(len(body)))])
        return [body]
