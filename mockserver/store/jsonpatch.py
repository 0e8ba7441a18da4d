"""JSON Patch as the server applies it to handler specs: evanphx/json-patch v4.9.0, not RFC 6902.

Its semantics differ from the RFC where clients can see it (`replace` of a missing object key adds
it, arrays accept negative indices, `null` never equals a container in `test`), and its error texts
reach clients verbatim inside `failed to apply patch: ...`, so the mock ports the library.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from mockserver import gojson
from mockserver.errors import MockError
from mockserver.gotext import go_quote

#: The Go struct the patched document is decoded into (named in decode errors).
SPEC_STRUCT = "HandlerSpec"


class PatchError(MockError):
    """`str()` is the library's error text (already wrapped as the library wraps it)."""


class PatchPanic(MockError):
    """Where the Go library would panic (the real server then drops the connection)."""


class RawNumber:
    """A JSON number kept as its literal text: the library compares scalars byte for byte."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return self.text


#: Size (about the JSON bytes) a patched document may reach, and how deep it may nest: a short patch
#: of `copy` operations doubles the document each time (20 of them took 82 s and 2.1 GB). The
#: real server has no limit; the mock refuses with a clear error instead of exhausting memory.
MAX_DOCUMENT_SIZE = 1 << 20
MAX_DOCUMENT_DEPTH = gojson.MAX_DEPTH
#: Size units a whole patch may walk while checking its operations (moves of a large subtree
#: back and forth cost a walk each without growing the document).
MAX_PATCH_WORK = 16 * MAX_DOCUMENT_SIZE

_ABSENT = object()
_raw_decoder = json.JSONDecoder(parse_int=RawNumber, parse_float=RawNumber)
_MISSING = "missing value"


def _unmarshal(body: bytes) -> Any:
    """`json.Unmarshal` of a whole document (syntax errors anywhere, trailing data rejected)."""
    text = body.decode("utf-8", errors="replace")
    if not text.strip(" \t\r\n"):
        raise gojson.DecodeError("unexpected end of JSON input")
    try:
        gojson.decode_first(body)
    except gojson.DecodeError as exc:
        msg = str(exc)
        raise gojson.DecodeError("unexpected end of JSON input" if msg in ("EOF", "unexpected EOF") else msg) from None
    start = len(text) - len(text.lstrip(" \t\r\n"))
    value, end = _raw_decoder.raw_decode(text, start)
    rest = text[end:].lstrip(" \t\r\n")
    if rest:
        raise gojson.DecodeError(f"invalid character {gojson.go_quote_char(rest[0])} after top-level value")
    return _clean(value)


def _clean(value: Any) -> Any:
    """Lone surrogates from `\\ud800` escapes become U+FFFD, as Go decodes them."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def kind_word(value: Any) -> str:
    """The JSON kind Go names in `cannot unmarshal <kind> into ...` (raw numbers included)."""
    return "number" if isinstance(value, RawNumber) else gojson.json_kind(value)


def decode_patch(body: bytes) -> list[dict[str, Any]]:
    """jsonpatch.DecodePatch; raises DecodeError with the text the server prefixes `invalid patch json: `."""
    value = _unmarshal(body)
    if value is None:
        return []
    if not isinstance(value, list):
        raise gojson.DecodeError(f"json: cannot unmarshal {kind_word(value)} into Go value of type jsonpatch.Patch")
    ops: list[dict[str, Any]] = []
    first: gojson.DecodeError | None = None
    for item in value:
        if item is None:
            ops.append({})
        elif isinstance(item, dict):
            ops.append(item)
        else:
            first = first or gojson.DecodeError(
                f"json: cannot unmarshal {kind_word(item)} into Go value of type jsonpatch.Operation"
            )
    if first is not None:
        raise first
    return ops


def to_raw(value: Any) -> Any:
    """Stored (Go-encoded) values as the library holds them: numbers as their literal text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return RawNumber(json.dumps(value))
    if isinstance(value, list):
        return [to_raw(v) for v in value]
    return {k: to_raw(v) for k, v in value.items()}


def from_raw(value: Any) -> Any:
    if isinstance(value, RawNumber):
        f = float(value.text)
        if f in (float("inf"), float("-inf")):
            raise gojson.DecodeError(
                f"json: cannot unmarshal number {value.text} into Go struct field {SPEC_STRUCT}.options of type float64"
            )
        return int(value.text) if value.text.lstrip("-").isdigit() else f
    if isinstance(value, list):
        return [from_raw(v) for v in value]
    if isinstance(value, dict):
        return {k: from_raw(v) for k, v in value.items()}
    return value


def _atoi(key: str) -> int:
    body = key[1:] if key[:1] in "+-" else key
    if not body or not all("0" <= c <= "9" for c in body):
        raise PatchError(f"strconv.Atoi: parsing {go_quote(key)}: invalid syntax")
    value = int(key)
    if not -(2**63) <= value < 2**63:
        raise PatchError(f"strconv.Atoi: parsing {go_quote(key)}: value out of range")
    return value


def _invalid_index(idx: int) -> PatchError:
    return PatchError(f"Unable to access invalid index: {idx}: invalid index referenced")


def _decode_key(key: str) -> str:
    return key.replace("~1", "/").replace("~0", "~")


def _find_object(doc: dict[str, Any], path: str) -> tuple[Any, str]:
    split = path.split("/")
    if len(split) < 2:
        return None, ""
    cur: Any = doc
    for part in split[1:-1]:
        try:
            nxt = _get(cur, _decode_key(part))
        except PatchError:
            return None, ""
        if not isinstance(nxt, (dict, list)):
            return None, ""
        cur = nxt
    return cur, _decode_key(split[-1])


def _get(con: Any, key: str) -> Any:
    if isinstance(con, dict):
        return con.get(key)
    idx = _atoi(key)
    if idx >= len(con):
        raise _invalid_index(idx)
    if idx < 0:
        raise PatchPanic(f"runtime error: index out of range [{idx}]")
    return con[idx]


def _add(con: Any, key: str, val: Any) -> None:
    if isinstance(con, dict):
        con[key] = val
        return
    if key == "-":
        con.append(val)
        return
    try:
        idx = _atoi(key)
    except PatchError as exc:
        raise PatchError(f"value was not a proper array index: '{key}': {exc}") from None
    size = len(con) + 1
    if idx >= size or idx < -size:
        raise _invalid_index(idx)
    if idx < 0:
        idx += size
    con.insert(idx, val)


def _set(con: Any, key: str, val: Any) -> None:
    if isinstance(con, dict):
        con[key] = val
        return
    idx = _atoi(key)
    con[idx] = val


def _remove(con: Any, key: str) -> None:
    if isinstance(con, dict):
        if key not in con:
            raise PatchError(f"Unable to remove nonexistent key: {key}: {_MISSING}")
        del con[key]
        return
    idx = _atoi(key)
    if idx >= len(con) or idx < -len(con):
        raise _invalid_index(idx)
    del con[idx]


def _op_string(op: dict[str, Any], name: str, missing: str) -> str:
    if op.get(name) is None:
        raise PatchError(f"{missing}: {_MISSING}")
    value = op[name]
    if not isinstance(value, str):
        raise PatchError(f"json: cannot unmarshal {kind_word(value)} into Go value of type string")
    return value


def _path(op: dict[str, Any]) -> str:
    return _op_string(op, "path", "operation missing path field")


def _from(op: dict[str, Any]) -> str:
    return _op_string(op, "from", "operation, missing from field")


def _equal(n: Any, o: Any) -> bool:
    """lazyNode.equal: containers compare structurally, scalars by their JSON text; an operation
    value of `null` has no raw text, so it equals nothing (a missing key is handled by the caller)."""
    if isinstance(n, dict):
        if not isinstance(o, dict) or len(n) != len(o):
            return False
        for k, v in n.items():
            if k not in o:
                return False
            ov = o[k]
            if (v is None) != (ov is None):
                return False
            if v is not None and not _equal(v, ov):
                return False
        return True
    if isinstance(n, list):
        if not isinstance(o, list) or len(n) != len(o):
            return False
        return all((v is None and ov is None) or (v is not None and _equal(v, ov)) for v, ov in zip(n, o, strict=True))
    if n is None or o is None or isinstance(o, (dict, list)):
        return False
    return type(n) is type(o) and n == o


def _measure(value: Any, budget: int) -> tuple[int, int]:
    """(size, depth) of a value, walking at most `budget` size units (PatchError beyond)."""
    size, depth = 0, 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        depth = max(depth, level)
        if isinstance(item, dict):
            size += 2 + sum(len(k) + 4 for k in item)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            size += 2 + len(item)
            stack.extend((v, level + 1) for v in item)
        elif isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, RawNumber):
            size += len(item.text)
        else:
            size += 5
        if size > budget:
            raise PatchError(f"patched document too large: more than {MAX_DOCUMENT_SIZE} bytes (mock limit)")
    return size, depth


class _Budget:
    """What a patch may still add: every inserted value is measured before it is inserted."""

    def __init__(self, doc: Any) -> None:
        self.left = MAX_DOCUMENT_SIZE
        self.left -= _measure(doc, self.left)[0]
        self.work = MAX_PATCH_WORK

    def insert(self, path: str, value: Any, *, grows: bool = True) -> None:
        size, depth = _measure(value, max(self.left, 0) if grows else MAX_DOCUMENT_SIZE)
        self.work -= size
        if self.work < 0:
            raise PatchError(f"patch too expensive: more than {MAX_PATCH_WORK} bytes moved or copied (mock limit)")
        if path.count("/") + depth > MAX_DOCUMENT_DEPTH:
            raise PatchError(f"patched document nests deeper than {MAX_DOCUMENT_DEPTH} levels (mock limit)")
        if grows:
            self.left -= size


def _locate(
    doc: dict[str, Any], op: dict[str, Any], field: str, kind: str, missing: str, *, quiet: bool = False
) -> tuple[str, Any, Any]:
    """Decode the op's `path` or `from` and find the container it points into, with the library's
    texts: `missing` says what is missing (`{}` is the path); a `quiet` decode error hides its cause."""
    try:
        path = _path(op) if field == "path" else _from(op)
    except PatchError as exc:
        raise PatchError(f"{kind} operation failed to decode {field}: {_MISSING if quiet else exc}") from None
    con, key = _find_object(doc, path)
    if con is None:
        raise PatchError(f"{kind} operation does not apply: {missing.format(path)}: {_MISSING}")
    return path, con, key


def apply_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Patch.Apply on a document already decoded to raw values; raises PatchError or PatchPanic."""
    budget = _Budget(doc)
    for op in ops:
        kind = op.get("op")
        kind = kind if isinstance(kind, str) else "unknown"
        value = op.get("value", _ABSENT)
        if kind == "add":
            path, con, key = _locate(doc, op, "path", kind, 'doc is missing path: "{}"', quiet=True)
            budget.insert(path, value)
            try:
                _add(con, key, None if value is _ABSENT else value)
            except PatchError as exc:
                raise PatchError(f"error in add for path: '{path}': {exc}") from None
        elif kind == "remove":
            path, con, key = _locate(doc, op, "path", kind, 'doc is missing path: "{}"', quiet=True)
            try:
                _remove(con, key)
            except PatchError as exc:
                raise PatchError(f"error in remove for path: '{path}': {exc}") from None
        elif kind == "replace":
            path, con, key = _locate(doc, op, "path", kind, "doc is missing path: {}")
            try:
                _get(con, key)
            except PatchError:
                raise PatchError(f"replace operation does not apply: doc is missing key: {path}: {_MISSING}") from None
            budget.insert(path, value)
            _set(con, key, None if value is _ABSENT else value)
        elif kind == "move":
            _, con, key = _locate(doc, op, "from", kind, "doc is missing from path: {}")
            try:
                val = _get(con, key)
                _remove(con, key)
            except PatchError as exc:
                raise PatchError(f"error in move for path: '{key}': {exc}") from None
            path, con, key = _locate(doc, op, "path", kind, "doc is missing destination path: {}")
            budget.insert(path, val, grows=False)
            try:
                _add(con, key, val)
            except PatchError as exc:
                raise PatchError(f"error in move for path: '{path}': {exc}") from None
        elif kind == "test":
            path, con, key = _locate(doc, op, "path", kind, "is missing path: {}")
            try:
                val = _get(con, key)
            except PatchError as exc:
                raise PatchError(f"error in test for path: '{path}': {exc}") from None
            if val is None:
                if value is _ABSENT:
                    raise PatchPanic("runtime error: invalid memory address or nil pointer dereference")
                if value is None:
                    continue
                raise PatchError(f"testing value {path} failed: test failed")
            if value is _ABSENT or not _equal(val, value):
                raise PatchError(f"testing value {path} failed: test failed")
        elif kind == "copy":
            src, con, key = _locate(doc, op, "from", kind, "doc is missing from path: {}")
            try:
                val = _get(con, key)
            except PatchError as exc:
                raise PatchError(f"error in copy for from: '{src}': {exc}") from None
            path, con, key = _locate(doc, op, "path", kind, "doc is missing destination path: {}", quiet=True)
            budget.insert(path, val)
            try:
                _add(con, key, copy.deepcopy(val))
            except PatchError as exc:
                raise PatchError(f"error while adding value during copy: {exc}") from None
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc
