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
    Crasher("json-patch-missing-value",
            "a JSON Patch `test` (also `add`/`replace`) operation on a handler without `value` or with "
            "`\"value\": null` (1.5 also panics on `\"op\": null`)",
            "the connection is dropped: the patch library dereferences the missing value (seen on 1.5.7 "
            "for a `test` whose path names an existing key)",
            "vendored evanphx/json-patch Patch.test in 1.5"),
    Crasher("paging-overflow",
            "`offset` + `limit` outside int64 (e.g. a negative `offset` with `limit` = -2^63), or a "
            "negative `offset` with a huge `limit`",
            "the list reserves `min(offset + limit, n) - offset` entries, with int64 wraparound: the "
            "connection is dropped, the request runs for minutes, or the process dies out of memory "
            "(seen on 1.5.7 for GET /templates?offset=-20480945498&limit=-9223372036854775808)",
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
                if isinstance(op, dict) and "op" in op and op["op"] is None:
                    op["op"] = "none"  # a null `op` is dereferenced
                if isinstance(op, dict) and op.get("op") in _PATCH_OPS:
                    keys = ("path", "from") if op["op"] in ("move", "copy") else ("path",)
                    for key in keys:
                        if not (isinstance(op.get(key), str) and "/" in op[key]):
                            op[key] = "/" + (op[key] if isinstance(op.get(key), str) else json.dumps(op.get(key)))
                    if op["op"] in ("add", "replace", "test") and op.get("value") is None:
                        op["value"] = ""  # 1.5 panics on a null one too: in `test`, or when walked through
    query = case.query
    if isinstance(query, dict) and ("offset" in query or "limit" in query):
        _safe_window(query)
    if isinstance(body, dict) and isinstance(body.get("vars"), dict):
        for var in body["vars"].values():
            _string_types(var)
    if op_id == "recordQuery" and isinstance(body, dict) and body.get("type") not in ("stream", "batch"):
        body["type"] = "stream"


def _wrap64(n: int) -> int:
    return (n + 2**63) % 2**64 - 2**63


def list_window(offset: int, limit: int, stored: int) -> int:
    """How many entries a list of `stored` objects reserves room for (services/storage DoListFunc),
    with Go's int64 wraparound: `upper := offset + limit` (capped at `stored`), `size := upper - offset`."""
    upper = min(_wrap64(offset + limit), stored)
    return _wrap64(upper - offset)


def _first_int(value: Any, default: int) -> int | None:
    """The value the server parses: the first of a repeated parameter, as an integer (None: not one)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value).strip()
    if text == "":
        return default
    try:
        return int(text)
    except ValueError:
        return None


def _safe_window(query: dict[str, Any]) -> None:
    """Keep `offset`/`limit` clear of the list paths that overflow or reserve gigabytes.

    Seen crashing a real 1.5.7 (out of memory, whole process): templates with a negative `offset`
    and `limit` = MinInt64, whose sum wraps to a huge positive bound."""
    offset = _first_int(query.get("offset", ""), 0)
    limit = _first_int(query.get("limit", ""), 100)
    if offset is None or limit is None:
        return  # not an integer: the server answers 400 before listing anything
    offset, limit = _wrap64(offset), _wrap64(limit)  # out of int64 range is a 400 too; wrapped = worst case
    # Room reserved beyond the stored objects themselves: only a negative offset or a wraparound
    # makes it large (a big limit on a small store reserves no more than the store).
    if any(list_window(offset, limit, n) - n > _MAX_WINDOW for n in (0, 10**6)):
        for key, value in (("offset", max(offset, -_MAX_WINDOW)), ("limit", max(-_MAX_WINDOW, min(limit, _MAX_WINDOW)))):
            query[key] = value if isinstance(query.get(key), int) else str(value)


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
