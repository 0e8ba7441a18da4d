"""Known ways to crash (or hang) a real Kapacitor, and the filter that keeps them out of generated input.

This is the one list. Each entry is a server defect outside the documented contract; a conformance
run must never take a live server down, and a request that kills the process gets no answer that
any check could score (and every later check then fails for a reason that is not its own). The
default `--fuzz safe` rewrites every generated request so none of these reaches the target;
`--fuzz aggressive` sends them unchanged, for vendors testing their own build.

The hand-written checks never send any of them either: they build their requests explicitly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

FUZZ_MODES = ("safe", "aggressive")


@dataclass(frozen=True)
class Crasher:
    name: str
    trigger: str
    effect: str
    where: str


KNOWN_CRASHERS: tuple[Crasher, ...] = (
    Crasher("tickscript-slash-non-ascii",
            "a `script` (POST/PATCH of /tasks or /templates) with `/` followed by a non-ASCII character, "
            "outside strings and comments",
            "the process dies: the lexer peeks the multi-byte rune, then backs up by its width twice "
            "and slices the script out of bounds",
            "tick/ast/lex.go lexToken, 1.5.7 to 1.5.9"),
    Crasher("aggregate-handler",
            "an alert handler of kind `aggregate` without a positive `interval`",
            "the process dies: its ticker starts at creation with interval 0",
            "services/alert/handlers.go, unchanged up to 1.8"),
    Crasher("query-recording-without-type",
            "a query recording whose `type` is neither `stream` nor `batch` (or absent)",
            "the process dies: the recording gets no data file and its goroutine dereferences it",
            "services/replay/service.go, unchanged up to 1.8"),
    Crasher("json-patch-bad-path",
            "a JSON Patch operation on a handler whose `path` (or `from` for move/copy) is missing, "
            "not a string, or has no `/`",
            "the connection is dropped: the patch library panics",
            "vendored evanphx/json-patch in 1.5"),
    Crasher("paging-overflow",
            "`offset` + `limit` beyond int64, or a negative `offset` with a huge `limit`",
            "the connection is dropped (overflow), or the list reserves `limit - offset` entries and "
            "the request runs for more than 10 s",
            "services/storage DoListFunc (behaviour §2.4)"),
    Crasher("var-type-not-string",
            "a template/task var item whose `type` is not a string",
            "the connection is dropped",
            "behaviour §5.2"),
)

_SLASH_NON_ASCII = re.compile(r"/(?=[^\x00-\x7f])")
_SLASH_HIGH_BYTE = re.compile(rb"/(?=[\x80-\xff])")
_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")
_INT64_MAX = 2**63 - 1
_MAX_WINDOW = 100_000
_SCRIPT_OPS = frozenset({"createTask", "updateTask", "createTemplate", "updateTemplate"})


def safe_script(text: str) -> str:
    """`/` + non-ASCII becomes `/ ` + non-ASCII: the lexer then peeks a one-byte rune."""
    return _SLASH_NON_ASCII.sub("/ ", text)


def defuse(op_id: str, path: str, case: Any) -> None:
    """Rewrite a generated request (a schemathesis case) so that no known crasher reaches the target."""
    body = case.body
    if op_id in _SCRIPT_OPS:
        if isinstance(body, dict) and isinstance(body.get("script"), str):
            body["script"] = safe_script(body["script"])
        elif isinstance(body, bytes | str):
            case.body = _SLASH_HIGH_BYTE.sub(b"/ ", body) if isinstance(body, bytes) else safe_script(body)
        body = case.body
    if "/alerts/" in path:
        case.body = body = _no_aggregate(body)
        if isinstance(body, list):
            for op in body:
                if isinstance(op, dict) and op.get("op") in _PATCH_OPS:
                    keys = ("path", "from") if op["op"] in ("move", "copy") else ("path",)
                    for key in keys:
                        if not (isinstance(op.get(key), str) and "/" in op[key]):
                            op[key] = "/" + (op[key] if isinstance(op.get(key), str) else json.dumps(op.get(key)))
    query = case.query
    if isinstance(query, dict) and "offset" in query and "limit" in query:
        try:
            offset, limit = int(str(query["offset"])), int(str(query["limit"]))
        except ValueError:
            pass
        else:
            if offset >= 1 and limit > _INT64_MAX - offset:
                query["limit"] = _INT64_MAX - offset
            elif offset < 0 and limit > _MAX_WINDOW:
                query["limit"] = _MAX_WINDOW
    if isinstance(body, dict) and isinstance(body.get("vars"), dict):
        for var in body["vars"].values():
            _string_types(var)
    if op_id == "recordQuery" and isinstance(body, dict) and body.get("type") not in ("stream", "batch"):
        body["type"] = "stream"


def _no_aggregate(value: Any) -> Any:
    """Replace the handler kind `aggregate` anywhere in a body (specs, JSON patches, raw bytes)."""
    if isinstance(value, str):
        return "log" if value == "aggregate" else value
    if isinstance(value, bytes):
        return value.replace(b"aggregate", b"log")
    if isinstance(value, dict):
        return {k: _no_aggregate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_aggregate(v) for v in value]
    return value


def _string_types(var: Any) -> None:
    if not isinstance(var, dict):
        return
    if "type" in var and not isinstance(var["type"], str):
        var["type"] = "string"
    if isinstance(var.get("value"), list):
        for item in var["value"]:
            _string_types(item)
