"""JSON Patch as the server applies it to handler specs: evanphx/json-patch, not RFC 6902.

Its semantics differ from the RFC where clients can see it, and its error texts reach clients
verbatim inside `failed to apply patch: ...`, so the mock ports the library. Two revisions are
linked: Kapacitor 1.6 and later use v4.9.0 (`replace` of a missing object key adds it, arrays accept
negative indices, `null` never equals a container in `test`); 1.5.x vendors the 2016 revision
30afec6a1650 (no `copy`, bare error texts, `replace` past the end of an array pads it with nulls,
a panic for many malformed operations). `library_for` picks one: both share the decoding, the raw
values, the pointer syntax and the mock's size limits below, and differ in how each operation runs.
"""

from __future__ import annotations

import copy
import json
import json.decoder
import json.scanner
from collections.abc import Callable
from dataclasses import dataclass
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


class _NilRaw:
    """The 2016 revision's node for an operation's `"value": null`: it has no raw text, so it marshals
    as `null` but panics where the library reads it (walking through it, comparing it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NIL_RAW"


NIL_RAW = _NilRaw()
_raw_decoder = json.JSONDecoder(parse_int=RawNumber, parse_float=RawNumber)


class RawString(str):
    """A string value of a patch that keeps its JSON text as sent (with its escapes): the 2016
    revision compares scalars byte for byte, so `"\\/"` does not equal the stored `"/"`."""

    text: str

    def __new__(cls, value: str, text: str) -> RawString:
        self = super().__new__(cls, value)
        self.text = text
        return self


def _parse_raw_string(s: str, end: int, strict: bool) -> tuple[RawString, int]:
    value, stop = json.decoder.scanstring(s, end, strict)  # type: ignore[attr-defined]
    return RawString(value, s[end - 1 : stop]), stop


class _RawStringDecoder(json.JSONDecoder):
    """Like `_raw_decoder`, string values as RawString (the pure-Python scanner, which calls
    `parse_string`; patches nest at most gojson.MAX_DEPTH levels)."""

    def __init__(self) -> None:
        super().__init__(parse_int=RawNumber, parse_float=RawNumber)
        self.parse_string = _parse_raw_string
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


_raw_string_decoder = _RawStringDecoder()


def json_text(value: str) -> str:
    """A string's JSON text as the library holds it: as sent, or as Go's encoder wrote it."""
    return value.text if isinstance(value, RawString) else gojson.dumps_compact(value).decode("utf-8")[:-1]


_MISSING = "missing value"


def _unmarshal(body: bytes, raw_strings: bool = False) -> Any:
    """`json.Unmarshal` of a whole document (syntax errors anywhere, trailing data rejected);
    `raw_strings` keeps the JSON text of string values (RawString)."""
    text = body.decode("utf-8", errors="replace")
    if not text.strip(" \t\r\n"):
        raise gojson.DecodeError("unexpected end of JSON input")
    try:
        gojson.decode_first(body)
    except gojson.DecodeError as exc:
        msg = str(exc)
        raise gojson.DecodeError("unexpected end of JSON input" if msg in ("EOF", "unexpected EOF") else msg) from None
    start = len(text) - len(text.lstrip(" \t\r\n"))
    value, end = (_raw_string_decoder if raw_strings else _raw_decoder).raw_decode(text, start)
    rest = text[end:].lstrip(" \t\r\n")
    if rest:
        raise gojson.DecodeError(f"invalid character {gojson.go_quote_char(rest[0])} after top-level value")
    return _clean(value)


def _clean(value: Any) -> Any:
    """Lone surrogates from `\\ud800` escapes become U+FFFD, as Go decodes them."""
    if isinstance(value, str):
        clean = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return RawString(clean, value.text) if isinstance(value, RawString) else clean
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def kind_word(value: Any) -> str:
    """The JSON kind Go names in `cannot unmarshal <kind> into ...` (raw numbers included)."""
    return "number" if isinstance(value, RawNumber) else gojson.json_kind(value)


def decode_patch(body: bytes, library: PatchLibrary | None = None) -> list[dict[str, Any]]:
    """jsonpatch.DecodePatch of `library` (v4.9.0 by default); raises DecodeError with the text the
    server prefixes `invalid patch json: `."""
    library = library or V4_9_0
    value = _unmarshal(body, library.raw_strings)
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
                f"json: cannot unmarshal {kind_word(item)} into Go value of type {library.operation_type}"
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
    if value is NIL_RAW:
        return None
    if isinstance(value, RawNumber):
        f = float(value.text)
        if f in (float("inf"), float("-inf")):
            raise gojson.DecodeError(
                f"json: cannot unmarshal number {value.text} into Go struct field {SPEC_STRUCT}.options of type float64"
            )
        return int(value.text) if value.text.lstrip("-").isdigit() else f
    if isinstance(value, RawString):
        return str(value)
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

    def pad(self, count: int) -> None:
        """`count` nulls appended to an array (the 2016 revision's `replace` past its end)."""
        if count > self.left // 6:
            raise PatchError(f"patched document too large: more than {MAX_DOCUMENT_SIZE} bytes (mock limit)")
        self.left -= 6 * count

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


# ---- The 2016 revision 30afec6a1650 (Kapacitor 1.5.x) ------------------------------------------
#
# Every operation field is read lazily, when the operation needs it: a missing or non-string `path`
# or `from` reads as "unknown", which has no `/` and panics in findObject; a `null` one panics on the
# spot, as does a `null` `op`. Errors from the containers come back unwrapped.

_NIL_DEREF = "runtime error: invalid memory address or nil pointer dereference"


def _field_2016(op: dict[str, Any], name: str) -> str:
    if name not in op:
        return "unknown"
    value = op[name]
    if value is None:
        raise PatchPanic(_NIL_DEREF)
    return value if isinstance(value, str) else "unknown"


def _find_object_2016(doc: dict[str, Any], path: str) -> tuple[Any, str]:
    split = path.split("/")
    if len(split) < 2:
        raise PatchPanic("runtime error: slice bounds out of range [1:0]")
    cur: Any = doc
    for part in split[1:-1]:
        try:
            nxt = _get_2016(cur, _decode_key(part))
        except PatchError:
            return None, ""
        if nxt is None:
            return None, ""
        if nxt is NIL_RAW:
            raise PatchPanic(_NIL_DEREF)
        if not isinstance(nxt, (dict, list)):
            return None, ""
        cur = nxt
    return cur, _decode_key(split[-1])


def _get_2016(con: Any, key: str) -> Any:
    if isinstance(con, dict):
        return con.get(key)
    idx = _atoi(key)
    if idx >= len(con):
        raise PatchError(f"Unable to access invalid index: {idx}")
    if idx < 0:
        raise PatchPanic(f"runtime error: index out of range [{idx}]")
    return con[idx]


def _add_2016(con: Any, key: str, val: Any) -> None:
    if isinstance(con, dict):
        con[key] = val
    elif key == "-":
        con.append(val)
    else:
        idx = _atoi(key)
        if not 0 <= idx <= len(con):  # slices the grown copy out of bounds
            raise PatchPanic(f"runtime error: slice bounds out of range [:{idx}]")
        con.insert(idx, val)


def _set_2016(con: Any, key: str, val: Any, budget: _Budget) -> None:
    if isinstance(con, dict):
        con[key] = val
    elif key == "-":
        con.append(val)
    else:
        idx = _atoi(key)
        if idx < 0:
            raise PatchPanic(f"runtime error: index out of range [{idx}]")
        if idx == 2**63 - 1:  # idx+1 wraps around, so the array is not grown
            raise PatchError(f"Unable to access invalid index: {idx}")
        if idx >= len(con):  # grown with nulls up to the index
            budget.pad(idx + 1 - len(con))
            con.extend([None] * (idx + 1 - len(con)))
        con[idx] = val


def _remove_2016(con: Any, key: str) -> None:
    if isinstance(con, dict):
        if key not in con:
            raise PatchError(f"Unable to remove nonexistent key: {key}")
        del con[key]
        return
    idx = _atoi(key)
    if idx >= len(con):
        raise PatchError(f"Unable to remove invalid index: {idx}")
    if idx < 0:
        raise PatchPanic(f"runtime error: slice bounds out of range [:{idx}]")
    del con[idx]


def _equal_2016(n: Any, o: Any) -> bool:
    """lazyNode.equal: a nil node on either side (an absent value, a `null` inside a container or
    the operation's own `null`) is dereferenced, so it panics, unless both sides of an object
    member are nil; an object equals another that has at least its keys (extra keys are not
    looked at); scalars compare by their JSON text."""
    if n is None or n is NIL_RAW or o is None or o is NIL_RAW:
        raise PatchPanic(_NIL_DEREF)
    if isinstance(n, dict):
        if not isinstance(o, dict):
            return False
        for k, v in n.items():
            if k not in o:
                return False
            if v is None and o[k] is None:
                continue
            if not _equal_2016(v, o[k]):
                return False
        return True
    if isinstance(n, list):
        if not isinstance(o, list) or len(n) != len(o):
            return False
        return all(_equal_2016(v, ov) for v, ov in zip(n, o, strict=True))
    if isinstance(n, str) and isinstance(o, str):
        return json_text(n) == json_text(o)
    return type(n) is type(o) and n == o


def _locate_2016(doc: dict[str, Any], op: dict[str, Any], field: str, failure: str) -> tuple[str, Any, str]:
    path = _field_2016(op, field)
    con, key = _find_object_2016(doc, path)
    if con is None:
        raise PatchError(f"{failure}: {path}")
    return path, con, key


def apply_patch_2016(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Patch.Apply of the 2016 revision; raises PatchError or PatchPanic."""
    budget = _Budget(doc)
    for op in ops:
        kind = _field_2016(op, "op")
        value = op.get("value", _ABSENT)
        node = None if value is _ABSENT else NIL_RAW if value is None else value
        if kind == "add":
            path, con, key = _locate_2016(
                doc, op, "path", "jsonpatch add operation does not apply: doc is missing path"
            )
            budget.insert(path, node)
            _add_2016(con, key, node)
        elif kind == "remove":
            _, con, key = _locate_2016(
                doc, op, "path", "jsonpatch remove operation does not apply: doc is missing path"
            )
            _remove_2016(con, key)
        elif kind == "replace":
            path, con, key = _locate_2016(
                doc, op, "path", "jsonpatch replace operation does not apply: doc is missing path"
            )
            budget.insert(path, node)
            _set_2016(con, key, node, budget)
        elif kind == "move":
            _, con, key = _locate_2016(
                doc, op, "from", "jsonpatch move operation does not apply: doc is missing from path"
            )
            val = _get_2016(con, key)
            _remove_2016(con, key)
            path, con, key = _locate_2016(
                doc, op, "path", "jsonpatch move operation does not apply: doc is missing destination path"
            )
            budget.insert(path, val, grows=False)
            _set_2016(con, key, val, budget)
        elif kind == "test":
            path, con, key = _locate_2016(doc, op, "path", "jsonpatch test operation does not apply: is missing path")
            val = _get_2016(con, key)
            if val is None:
                if value is _ABSENT:
                    raise PatchPanic(_NIL_DEREF)
                if value is not None:
                    raise PatchError(f"Testing value {path} failed")
            elif not _equal_2016(val, node):
                raise PatchError(f"Testing value {path} failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


@dataclass(frozen=True)
class PatchLibrary:
    """One revision of evanphx/json-patch, as a Kapacitor release links it."""

    #: The Go type of one operation, named in decode errors.
    operation_type: str
    apply: Callable[[dict[str, Any], list[dict[str, Any]]], dict[str, Any]]
    #: Whether `apply` needs the JSON text of string values (RawString).
    raw_strings: bool = False


V4_9_0 = PatchLibrary("jsonpatch.Operation", apply_patch)
REV_30AFEC6 = PatchLibrary("jsonpatch.operation", apply_patch_2016, raw_strings=True)


def library_for(version: tuple[int, int, int]) -> PatchLibrary:
    """1.5.x vendors the 2016 revision (Gopkg.lock, then a go.mod pseudo-version in 1.5.8 and
    1.5.9); 1.6.0 moved to Go modules with v4.9.0."""
    return REV_30AFEC6 if version < (1, 6) else V4_9_0
