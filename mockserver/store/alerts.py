"""Alert topics, their events, and topic handler specs: the alert service of the real server, without HTTP.

Observable quirks are kept on purpose because clients and conformance checks see them:

* A topic's level is the level of the first entry of its event list as the server keeps it, sorted
  after every new event or level change with Go's `sort.Sort` and the server's comparator, which is
  not a strict order ("higher level first, *or* smaller ID first"). With several events the topic
  level is therefore not always the maximum, and `min-level` filtering stops at the first event
  below the level. The Go sort algorithms are reproduced so the order matches the real server.
* Deleting a topic drops its events but keeps its handler specs (they are listed afterwards).
* Handler specs are patched with a port of the JSON Patch library the server uses (evanphx
  json-patch v4.9.0), whose semantics differ from RFC 6902 in places (`replace` of a missing
  object key adds it, arrays accept negative indices) and whose error texts clients see verbatim.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mockserver import gojson
from mockserver.config import version_tuple
from mockserver.errors import BadRequest, KapacitorError, ServerError
from mockserver.store import handler_kinds
from mockserver.store.listing import GlobSyntaxError, SortedIndex, compile_glob, go_quote
from spec.ids import is_valid_id, is_valid_topic_id

# ---- levels ---------------------------------------------------------------------------------------

OK, INFO, WARNING, CRITICAL = range(4)
LEVEL_NAMES = ("OK", "INFO", "WARNING", "CRITICAL")
_LEVEL_TEXT = "OKINFOWARNINGCRITICAL"
_LEVEL_OFFSETS = (0, 2, 6, 13)


def go_upper(text: str) -> str:
    """strings.ToUpper: simple (one-to-one) case mapping, so `ß` stays `ß`."""
    out = []
    for ch in text:
        up = ch.upper()
        out.append(up if len(up) == 1 else ch)
    return "".join(out)


def parse_level(text: str) -> int:
    """alert.ParseLevel: the upper-cased text must occur in "OKINFOWARNINGCRITICAL" (first occurrence)
    exactly where a level name starts, so `""`, `w`, `crit` and even `OKINFO` are accepted."""
    upper = go_upper(text)
    idx = _LEVEL_TEXT.find(upper)
    if idx in _LEVEL_OFFSETS:
        return _LEVEL_OFFSETS.index(idx)
    raise BadRequest(f"unknown alert level '{upper}'")


# ---- Go durations ---------------------------------------------------------------------------------

_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
       "m": 60_000_000_000, "h": 3_600_000_000_000}  # fmt: skip


def go_duration(ns: int) -> str:
    """time.Duration.String(): `0s`, `1.5s`, `5m0s`, `1h0m0s`, `250ms`, `1.5µs`, `100ns`."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1_000:
            out = f"{u}ns"
        elif u < 1_000_000:
            out = _frac(u, 1_000, 3) + "µs"
        else:
            out = _frac(u, 1_000_000, 6) + "ms"
    else:
        secs, rem = divmod(u, 1_000_000_000)
        out = str(secs % 60) + (("." + f"{rem:09d}".rstrip("0")) if rem else "") + "s"
        mins = secs // 60
        if mins:
            out = f"{mins % 60}m" + out
            hours = mins // 60
            if hours:
                out = f"{hours}h" + out
    return "-" + out if neg else out


def _frac(value: int, unit: int, digits: int) -> str:
    whole, rem = divmod(value, unit)
    return str(whole) + ("." + f"{rem:0{digits}d}".rstrip("0") if rem else "")


def parse_go_duration(text: str) -> int:
    """time.ParseDuration (used by the mock-only event injection route); raises ValueError."""
    orig = text
    if text in ("0", "+0", "-0"):
        return 0
    neg = text[:1] == "-"
    if text[:1] in "+-":
        text = text[1:]
    if not text:
        raise ValueError(f"time: invalid duration {go_quote(orig)}")
    total = 0
    while text:
        i = 0
        while i < len(text) and text[i].isascii() and text[i].isdigit():
            i += 1
        whole = text[:i]
        frac = ""
        if text[i : i + 1] == ".":
            j = i + 1
            while j < len(text) and text[j].isascii() and text[j].isdigit():
                j += 1
            frac = text[i + 1 : j]
            i = j
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {go_quote(orig)}")
        j = i
        while j < len(text) and not (text[j].isascii() and (text[j].isdigit() or text[j] == ".")):
            j += 1
        unit = text[i:j]
        if not unit:
            raise ValueError(f"time: missing unit in duration {go_quote(orig)}")
        if unit not in _NS:
            raise ValueError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(orig)}")
        scale = _NS[unit]
        total += int(whole or "0") * scale + (int(Decimal("0." + frac) * scale) if frac else 0)
        if total > 2**63 - 1 + (1 if neg else 0):
            raise ValueError(f"time: invalid duration {go_quote(orig)}")
        text = text[j:]
    return -total if neg else total


# ---- Go's sort.Sort (the event order is observable, see the module docstring) ---------------------


class _GoSort:
    """sort.Sort over a list with an arbitrary Less; `legacy` is the pre-Go-1.19 quicksort."""

    def __init__(self, data: list[Any], less: Callable[[Any, Any], bool]) -> None:
        self.d = data
        self._less = less

    def less(self, i: int, j: int) -> bool:
        return self._less(self.d[i], self.d[j])

    def swap(self, i: int, j: int) -> None:
        d = self.d
        d[i], d[j] = d[j], d[i]

    def sort(self, legacy: bool) -> None:
        n = len(self.d)
        if legacy:
            depth = 0
            i = n
            while i > 0:
                depth += 1
                i >>= 1
            self._quick_sort(0, n, depth * 2)
        elif n > 1:
            self._pdqsort(0, n, n.bit_length())

    def _insertion_sort(self, a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and self.less(j, j - 1):
                self.swap(j, j - 1)
                j -= 1

    def _sift_down(self, lo: int, hi: int, first: int) -> None:
        root = lo
        while True:
            child = 2 * root + 1
            if child >= hi:
                return
            if child + 1 < hi and self.less(first + child, first + child + 1):
                child += 1
            if not self.less(first + root, first + child):
                return
            self.swap(first + root, first + child)
            root = child

    def _heap_sort(self, a: int, b: int) -> None:
        first, hi = a, b - a
        for i in range((hi - 1) // 2, -1, -1):
            self._sift_down(i, hi, first)
        for i in range(hi - 1, -1, -1):
            self.swap(first, first + i)
            self._sift_down(0, i, first)

    # -- pdqsort (Go >= 1.19)

    def _pdqsort(self, a: int, b: int, limit: int) -> None:
        was_balanced = was_partitioned = True
        while True:
            length = b - a
            if length <= 12:
                self._insertion_sort(a, b)
                return
            if limit == 0:
                self._heap_sort(a, b)
                return
            if not was_balanced:
                self._break_patterns(a, b)
                limit -= 1
            pivot, hint = self._choose_pivot(a, b)
            if hint == 2:  # decreasing
                self._reverse(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = 1
            if was_balanced and was_partitioned and hint == 1 and self._partial_insertion_sort(a, b):
                return
            if a > 0 and not self.less(a - 1, pivot):
                a = self._partition_equal(a, b, pivot)
                continue
            mid, already = self._partition(a, b, pivot)
            was_partitioned = already
            left, right = mid - a, b - mid
            threshold = length // 8
            if left < right:
                was_balanced = left >= threshold
                self._pdqsort(a, mid, limit)
                a = mid + 1
            else:
                was_balanced = right >= threshold
                self._pdqsort(mid + 1, b, limit)
                b = mid

    def _partition(self, a: int, b: int, pivot: int) -> tuple[int, bool]:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while i <= j and self.less(i, a):
            i += 1
        while i <= j and not self.less(j, a):
            j -= 1
        if i > j:
            self.swap(j, a)
            return j, True
        self.swap(i, j)
        i += 1
        j -= 1
        while True:
            while i <= j and self.less(i, a):
                i += 1
            while i <= j and not self.less(j, a):
                j -= 1
            if i > j:
                break
            self.swap(i, j)
            i += 1
            j -= 1
        self.swap(j, a)
        return j, False

    def _partition_equal(self, a: int, b: int, pivot: int) -> int:
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while True:
            while i <= j and not self.less(a, i):
                i += 1
            while i <= j and self.less(a, j):
                j -= 1
            if i > j:
                return i
            self.swap(i, j)
            i += 1
            j -= 1

    def _partial_insertion_sort(self, a: int, b: int) -> bool:
        i = a + 1
        for _ in range(5):
            while i < b and not self.less(i, i - 1):
                i += 1
            if i == b:
                return True
            if b - a < 50:
                return False
            self.swap(i, i - 1)
            if i - a >= 2:
                j = i - 1
                while j >= 1 and self.less(j, j - 1):
                    self.swap(j, j - 1)
                    j -= 1
            if b - i >= 2:
                j = i + 1
                while j < b and self.less(j, j - 1):
                    self.swap(j, j - 1)
                    j += 1
        return False

    def _break_patterns(self, a: int, b: int) -> None:
        length = b - a
        if length < 8:
            return
        mask = 2**64 - 1
        state = length
        modulus = 1 << length.bit_length()
        for idx in range(a + (length // 4) * 2 - 1, a + (length // 4) * 2 + 2):
            state ^= (state << 13) & mask
            state ^= state >> 7
            state ^= (state << 17) & mask
            other = state & (modulus - 1)
            if other >= length:
                other -= length
            self.swap(idx, a + other)

    def _choose_pivot(self, a: int, b: int) -> tuple[int, int]:
        n = b - a
        swaps = [0]
        i, j, k = a + n // 4, a + n // 4 * 2, a + n // 4 * 3
        if n >= 8:
            if n >= 50:
                i = self._median(i - 1, i, i + 1, swaps)
                j = self._median(j - 1, j, j + 1, swaps)
                k = self._median(k - 1, k, k + 1, swaps)
            j = self._median(i, j, k, swaps)
        if swaps[0] == 0:
            return j, 1
        if swaps[0] == 12:
            return j, 2
        return j, 0

    def _order2(self, a: int, b: int, swaps: list[int]) -> tuple[int, int]:
        if self.less(b, a):
            swaps[0] += 1
            return b, a
        return a, b

    def _median(self, a: int, b: int, c: int, swaps: list[int]) -> int:
        a, b = self._order2(a, b, swaps)
        b, c = self._order2(b, c, swaps)
        a, b = self._order2(a, b, swaps)
        return b

    def _reverse(self, a: int, b: int) -> None:
        i, j = a, b - 1
        while i < j:
            self.swap(i, j)
            i += 1
            j -= 1

    # -- quickSort (Go < 1.19)

    def _median_of_three(self, m1: int, m0: int, m2: int) -> None:
        if self.less(m1, m0):
            self.swap(m1, m0)
        if self.less(m2, m1):
            self.swap(m2, m1)
            if self.less(m1, m0):
                self.swap(m1, m0)

    def _do_pivot(self, lo: int, hi: int) -> tuple[int, int]:
        m = (lo + hi) >> 1
        if hi - lo > 40:
            s = (hi - lo) // 8
            self._median_of_three(lo, lo + s, lo + 2 * s)
            self._median_of_three(m, m - s, m + s)
            self._median_of_three(hi - 1, hi - 1 - s, hi - 1 - 2 * s)
        self._median_of_three(lo, m, hi - 1)
        pivot = lo
        a, c = lo + 1, hi - 1
        while a < c and self.less(a, pivot):
            a += 1
        b = a
        while True:
            while b < c and not self.less(pivot, b):
                b += 1
            while b < c and self.less(pivot, c - 1):
                c -= 1
            if b >= c:
                break
            self.swap(b, c - 1)
            b += 1
            c -= 1
        protect = hi - c < 5
        if not protect and hi - c < (hi - lo) // 4:
            dups = 0
            if not self.less(pivot, hi - 1):
                self.swap(c, hi - 1)
                c += 1
                dups += 1
            if not self.less(b - 1, pivot):
                b -= 1
                dups += 1
            if not self.less(m, pivot):
                self.swap(m, b - 1)
                b -= 1
                dups += 1
            protect = dups > 1
        if protect:
            while True:
                while a < b and not self.less(b - 1, pivot):
                    b -= 1
                while a < b and self.less(a, pivot):
                    a += 1
                if a >= b:
                    break
                self.swap(a, b - 1)
                a += 1
                b -= 1
        self.swap(pivot, b - 1)
        return b - 1, c

    def _quick_sort(self, a: int, b: int, max_depth: int) -> None:
        while b - a > 12:
            if max_depth == 0:
                self._heap_sort(a, b)
                return
            max_depth -= 1
            mlo, mhi = self._do_pivot(a, b)
            if mlo - a < b - mhi:
                self._quick_sort(a, mlo, max_depth)
                a = mhi
            else:
                self._quick_sort(mhi, b, max_depth)
                b = mlo
        if b - a > 1:
            for i in range(a + 6, b):
                if self.less(i, i - 6):
                    self.swap(i, i - 6)
            self._insertion_sort(a, b)


# ---- models ---------------------------------------------------------------------------------------


@dataclass
class EventState:
    id: str
    message: str = ""
    details: str = ""
    time: int | None = None  # ns since the epoch; None is Go's zero time
    duration: int = 0  # ns
    level: int = OK

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "message": self.message, "details": self.details, "time": self.time,
                "duration": self.duration, "level": LEVEL_NAMES[self.level]}  # fmt: skip


def _event_less(a: EventState, b: EventState) -> bool:
    """The server's comparator, verbatim in effect: not a strict weak order."""
    if a.level > b.level:
        return True
    return a.id < b.id


@dataclass
class Topic:
    id: str
    events: dict[str, EventState] = field(default_factory=dict)
    #: The server's `sorted` slice: events in the order its (quirky) sorting left them.
    sorted: list[EventState] = field(default_factory=list)
    collected: int = 0

    @property
    def level(self) -> int:
        return self.sorted[0].level if self.sorted else OK

    def update_event(self, state: EventState, legacy_sort: bool) -> None:
        cur = self.events.get(state.id)
        need_sort = cur is None
        if cur is None:
            cur = EventState(state.id)
            self.events[state.id] = cur
            self.sorted.append(cur)
        need_sort = need_sort or cur.level != state.level
        cur.message, cur.details, cur.time = state.message, state.details, state.time
        cur.duration, cur.level = state.duration, state.level
        if need_sort:
            _GoSort(self.sorted, _event_less).sort(legacy_sort)

    def event_states(self, min_level: int) -> list[EventState]:
        out = []
        for event in self.sorted:
            if event.level < min_level:
                break
            out.append(event)
        return out


@dataclass
class HandlerSpec:
    id: str
    topic: str
    kind: str
    options: dict[str, Any] | None
    match: str

    def marshal(self) -> dict[str, Any]:
        """`json.Marshal(HandlerSpec)`: the document a PATCH applies to."""
        return {"id": self.id, "topic": self.topic, "kind": self.kind, "options": self.options, "match": self.match}


# ---- decoding handler specs -----------------------------------------------------------------------

SPEC_STRUCT = "HandlerSpec"


def go_json_number(value: int | float) -> int | float:
    """A JSON number as it comes back out of Go after a float64 round trip (`1.0` → `1`, big ints rounded)."""
    f = float(value)
    if f.is_integer() and abs(f) < 1e21:
        return int(Decimal(repr(f)))
    return f


def normalize_json(value: Any) -> Any:
    """A value as Go re-encodes `interface{}`: float64 numbers, object keys sorted."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return go_json_number(value)
    if isinstance(value, list):
        return [normalize_json(v) for v in value]
    return {k: normalize_json(value[k]) for k in sorted(value)}


def _check_finite(value: Any) -> None:
    """Numbers beyond float64 fail to decode into interface{} on the server."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            finite = abs(float(value)) != float("inf")
        except OverflowError:
            finite = False
        if not finite:
            raise gojson.DecodeError(
                f"json: cannot unmarshal number into Go struct field {SPEC_STRUCT}.options of type float64"
            )
    if isinstance(value, list):
        for v in value:
            _check_finite(v)
    elif isinstance(value, dict):
        for v in value.values():
            _check_finite(v)


def _options(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise gojson.type_error(item, SPEC_STRUCT, "options", "map[string]interface {}")
    _check_finite(item)
    return normalize_json(item)


SPEC_FIELDS: dict[str, gojson.Kind] = {
    "id": "string", "topic": "string", "kind": "string", "options": _options, "match": "string",
}  # fmt: skip


def decode_spec(body: bytes | Any, *, raw: bool = False) -> dict[str, Any]:
    """Decode a HandlerSpec body like `json.NewDecoder(r).Decode(&HandlerSpec{})`; raises DecodeError."""
    value = body if raw else gojson.decode_first(body)
    if value is not None and not isinstance(value, dict):
        raise gojson.DecodeError(f"json: cannot unmarshal {_kind_word(value)} into Go value of type alert.HandlerSpec")
    return gojson.decode_struct(value, SPEC_STRUCT, SPEC_FIELDS, raw=True)


def validate_spec(spec: HandlerSpec) -> None:
    """HandlerSpec.Validate; the topic message prints the handler ID (a real server bug)."""
    if not is_valid_topic_id(spec.topic):
        raise BadRequest(
            f"invalid handler spec: handler topic must contain only letters, numbers, '-', '.' and '_'. {go_quote(spec.id)}"
        )
    if not is_valid_id(spec.id):
        raise BadRequest(
            f"invalid handler spec: handler ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(spec.id)}"
        )
    if spec.kind == "":
        raise BadRequest("invalid handler spec: handler Kind must not be empty")


def _match_error(match: str) -> str | None:
    """Errors of `newMatchHandler`: the lambda must parse and use only the level identifiers."""
    try:
        from mockserver.tickscript.parser import ParseError, parse_lambda
    except ImportError:  # pragma: no cover - the engine is optional for this check
        return None
    try:
        lam = parse_lambda(match)
    except ParseError as exc:
        return f"invalid match expression: {exc}"
    except Exception:  # pragma: no cover - an engine bug must not fail handler creation
        return None
    for ident in _identifiers(lam):
        if ident not in LEVEL_NAMES:
            return f"unknown identifier {go_quote(ident)}"
    return None


def _identifiers(node: Any) -> Iterator[str]:
    from mockserver.tickscript import ast

    if isinstance(node, ast.Identifier):
        yield node.ident
    if isinstance(node, list):
        for item in node:
            yield from _identifiers(item)
        return
    if not isinstance(node, ast.Node):
        return
    for cls in type(node).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot in ("comment", "pos"):
                continue
            child = getattr(node, slot, None)
            if isinstance(child, (ast.Node, list)):
                yield from _identifiers(child)


# ---- JSON Patch (evanphx/json-patch v4.9.0 semantics and texts) -----------------------------------


class PatchError(Exception):
    """`str()` is the library's error text (already wrapped as the library wraps it)."""


class _Panic(Exception):
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
        raise gojson.DecodeError(f"invalid character {_quote_char(rest[0])} after top-level value")
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


def _kind_word(value: Any) -> str:
    """The JSON kind Go names in `cannot unmarshal <kind> into ...`."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (RawNumber, int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def decode_patch(body: bytes) -> list[dict[str, Any]]:
    """jsonpatch.DecodePatch; raises DecodeError with the text the server prefixes `invalid patch json: `."""
    value = _unmarshal(body)
    if value is None:
        return []
    if not isinstance(value, list):
        raise gojson.DecodeError(f"json: cannot unmarshal {_kind_word(value)} into Go value of type jsonpatch.Patch")
    ops: list[dict[str, Any]] = []
    first: gojson.DecodeError | None = None
    for item in value:
        if item is None:
            ops.append({})
        elif isinstance(item, dict):
            ops.append(item)
        else:
            first = first or gojson.DecodeError(
                f"json: cannot unmarshal {_kind_word(item)} into Go value of type jsonpatch.Operation"
            )
    if first is not None:
        raise first
    return ops


def _to_raw(value: Any) -> Any:
    """Stored (Go-encoded) values as the library holds them: numbers as their literal text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return RawNumber(json.dumps(value))
    if isinstance(value, list):
        return [_to_raw(v) for v in value]
    return {k: _to_raw(v) for k, v in value.items()}


def _from_raw(value: Any) -> Any:
    if isinstance(value, RawNumber):
        f = float(value.text)
        if f in (float("inf"), float("-inf")):
            raise gojson.DecodeError(
                f"json: cannot unmarshal number {value.text} into Go struct field {SPEC_STRUCT}.options of type float64"
            )
        return int(value.text) if value.text.lstrip("-").isdigit() else f
    if isinstance(value, list):
        return [_from_raw(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_raw(v) for k, v in value.items()}
    return value


def _quote_char(ch: str) -> str:
    """Go's `%q`-style quoting of the offending character in scanner errors."""
    if ch == "'":
        return "'\\''"
    if ch.isprintable():
        return f"'{ch}'"
    return "'" + ch.encode("unicode_escape").decode("ascii") + "'"


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
        raise _Panic(f"runtime error: index out of range [{idx}]")
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
        raise PatchError(f"json: cannot unmarshal {_kind_word(value)} into Go value of type string")
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


def apply_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Patch.Apply on a document already decoded to raw values; raises PatchError or _Panic."""
    for op in ops:
        kind = op.get("op")
        kind = kind if isinstance(kind, str) else "unknown"
        value = op.get("value", _ABSENT)
        if kind == "add":
            try:
                path = _path(op)
            except PatchError:
                raise PatchError(f"add operation failed to decode path: {_MISSING}") from None
            con, key = _find_object(doc, path)
            if con is None:
                raise PatchError(f'add operation does not apply: doc is missing path: "{path}": {_MISSING}')
            try:
                _add(con, key, None if value is _ABSENT else value)
            except PatchError as exc:
                raise PatchError(f"error in add for path: '{path}': {exc}") from None
        elif kind == "remove":
            try:
                path = _path(op)
            except PatchError:
                raise PatchError(f"remove operation failed to decode path: {_MISSING}") from None
            con, key = _find_object(doc, path)
            if con is None:
                raise PatchError(f'remove operation does not apply: doc is missing path: "{path}": {_MISSING}')
            try:
                _remove(con, key)
            except PatchError as exc:
                raise PatchError(f"error in remove for path: '{path}': {exc}") from None
        elif kind == "replace":
            try:
                path = _path(op)
            except PatchError as exc:
                raise PatchError(f"replace operation failed to decode path: {exc}") from None
            con, key = _find_object(doc, path)
            if con is None:
                raise PatchError(f"replace operation does not apply: doc is missing path: {path}: {_MISSING}")
            try:
                _get(con, key)
            except PatchError:
                raise PatchError(f"replace operation does not apply: doc is missing key: {path}: {_MISSING}") from None
            _set(con, key, None if value is _ABSENT else value)
        elif kind == "move":
            try:
                src = _from(op)
            except PatchError as exc:
                raise PatchError(f"move operation failed to decode from: {exc}") from None
            con, key = _find_object(doc, src)
            if con is None:
                raise PatchError(f"move operation does not apply: doc is missing from path: {src}: {_MISSING}")
            try:
                val = _get(con, key)
                _remove(con, key)
            except PatchError as exc:
                raise PatchError(f"error in move for path: '{key}': {exc}") from None
            try:
                path = _path(op)
            except PatchError as exc:
                raise PatchError(f"move operation failed to decode path: {exc}") from None
            con, key = _find_object(doc, path)
            if con is None:
                raise PatchError(f"move operation does not apply: doc is missing destination path: {path}: {_MISSING}")
            try:
                _add(con, key, val)
            except PatchError as exc:
                raise PatchError(f"error in move for path: '{path}': {exc}") from None
        elif kind == "test":
            try:
                path = _path(op)
            except PatchError as exc:
                raise PatchError(f"test operation failed to decode path: {exc}") from None
            con, key = _find_object(doc, path)
            if con is None:
                raise PatchError(f"test operation does not apply: is missing path: {path}: {_MISSING}")
            try:
                val = _get(con, key)
            except PatchError as exc:
                raise PatchError(f"error in test for path: '{path}': {exc}") from None
            if val is None:
                if value is _ABSENT:
                    raise _Panic("runtime error: invalid memory address or nil pointer dereference")
                if value is None:
                    continue
                raise PatchError(f"testing value {path} failed: test failed")
            if value is _ABSENT or not _equal(val, value):
                raise PatchError(f"testing value {path} failed: test failed")
        elif kind == "copy":
            try:
                src = _from(op)
            except PatchError as exc:
                raise PatchError(f"copy operation failed to decode from: {exc}") from None
            con, key = _find_object(doc, src)
            if con is None:
                raise PatchError(f"copy operation does not apply: doc is missing from path: {src}: {_MISSING}")
            try:
                val = _get(con, key)
            except PatchError as exc:
                raise PatchError(f"error in copy for from: '{src}': {exc}") from None
            try:
                path = _path(op)
            except PatchError:
                raise PatchError(f"copy operation failed to decode path: {_MISSING}") from None
            con, key = _find_object(doc, path)
            if con is None:
                raise PatchError(f"copy operation does not apply: doc is missing destination path: {path}: {_MISSING}")
            try:
                _add(con, key, copy.deepcopy(val))
            except PatchError as exc:
                raise PatchError(f"error while adding value during copy: {exc}") from None
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


# ---- the store ------------------------------------------------------------------------------------


class AlertStore:
    """Topics (events, levels) and handler specs, behind the mock state's lock."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._lock = state.lock
        self.topics: dict[str, Topic] = {}
        self.topic_index = SortedIndex()
        #: topic → handler ID → spec; survives topic deletion, as on the real server.
        self.handlers: dict[str, dict[str, HandlerSpec]] = {}

    # ---- configuration

    @property
    def _version(self) -> tuple[int, int, int]:
        return version_tuple(self.state.config.kapacitor_version)

    @property
    def _legacy_sort(self) -> bool:
        """Releases before 1.7 were built with a Go whose sort.Sort predates pdqsort."""
        return self._version < (1, 7)

    # ---- topics

    def _ensure_topic(self, topic_id: str) -> Topic:
        topic = self.topics.get(topic_id)
        if topic is None:
            topic = self.topics[topic_id] = Topic(topic_id)
            self.topic_index.add(topic_id)
        return topic

    def ensure_topic(self, topic_id: str) -> None:
        """What registering a (non-anonymous or anonymous) handler does to the topic list."""
        with self._lock:
            self._ensure_topic(topic_id)

    def list_topics(self, pattern: str, min_level: int) -> list[tuple[str, int, int]]:
        """(id, level, collected) of matching topics at or above `min_level`, sorted by ID."""
        with self._lock:
            out = []
            for topic_id in self.topic_index.matching(pattern):
                topic = self.topics[topic_id]
                level = topic.level
                if level >= min_level:
                    out.append((topic_id, level, topic.collected))
            return out

    def topic_state(self, topic_id: str) -> tuple[int, int] | None:
        with self._lock:
            topic = self.topics.get(topic_id)
            return None if topic is None else (topic.level, topic.collected)

    def event_states(self, topic_id: str, min_level: int) -> list[EventState]:
        with self._lock:
            topic = self.topics.get(topic_id)
            if topic is None:
                raise ServerError(f"failed to get topic events: unknown topic {go_quote(topic_id)}")
            return [copy.copy(e) for e in topic.event_states(min_level)]

    def event_state(self, topic_id: str, event_id: str) -> EventState | None:
        with self._lock:
            topic = self.topics.get(topic_id)
            event = topic.events.get(event_id) if topic is not None else None
            return copy.copy(event) if event is not None else None

    def delete_topic(self, topic_id: str) -> None:
        """Events and state go; handler specs stay (and are listed under the topic afterwards)."""
        with self._lock:
            if self.topics.pop(topic_id, None) is not None:
                self.topic_index.discard(topic_id)

    def collect(self, topic_id: str, event: EventState) -> EventState:
        """An alert event arriving on a topic (creates the topic, counts it, re-sorts)."""
        with self._lock:
            topic = self._ensure_topic(topic_id)
            topic.update_event(event, self._legacy_sort)
            topic.collected += 1
            return copy.copy(topic.events[event.id])

    # ---- handler specs

    def handler_specs(self, topic_id: str, pattern: str) -> list[HandlerSpec]:
        with self._lock:
            specs = self.handlers.get(topic_id, {})
            if not pattern:
                chosen = list(specs.values())
            else:
                try:
                    match = compile_glob(pattern)
                except GlobSyntaxError:
                    chosen = []
                else:
                    chosen = [s for hid, s in specs.items() if match(hid)]
            return sorted(chosen, key=lambda s: s.id)

    def handler_spec(self, topic_id: str, handler_id: str) -> HandlerSpec | None:
        with self._lock:
            return self.handlers.get(topic_id, {}).get(handler_id)

    def _build(self, spec: HandlerSpec) -> str | None:
        """createHandlerFromSpec: the error text, or None when the handler can be built."""
        try:
            handler_kinds.build_handler(spec.kind, spec.options, self._version)
        except handler_kinds.HandlerBuildError as exc:
            return str(exc)
        if spec.match:
            return _match_error(spec.match)
        return None

    def register_handler(self, spec: HandlerSpec) -> HandlerSpec:
        validate_spec(spec)
        error = self._build(spec)
        if error is not None:
            raise ServerError(f"failed to create handler: {error}")
        with self._lock:
            if spec.id in self.handlers.get(spec.topic, {}):
                raise ServerError(
                    f"failed to create handler: cannot register handler, handler with ID {go_quote(spec.id)} already exists"
                )
            self.handlers.setdefault(spec.topic, {})[spec.id] = spec
            self._ensure_topic(spec.topic)
            return spec

    def update_handler(self, old: HandlerSpec, new: HandlerSpec) -> HandlerSpec:
        """UpdateHandlerSpec; a new ID renames (silently replacing a handler that had that ID)."""
        validate_spec(new)
        if new.topic != old.topic:
            raise ServerError("failed to update handler: cannot change topic in update")
        error = self._build(new)
        if error is not None:
            raise ServerError(f"failed to update handler: {error}")
        with self._lock:
            specs = self.handlers.setdefault(new.topic, {})
            specs.pop(old.id, None)
            specs[new.id] = new
            self._ensure_topic(new.topic)
            return new

    def patch_handler(self, old: HandlerSpec, body: bytes) -> HandlerSpec:
        """PATCH after the existence check, in the server's order of failures."""
        try:
            ops = decode_patch(body)
        except gojson.DecodeError as exc:
            raise BadRequest(f"invalid patch json: {exc}") from None
        try:
            patched = apply_patch(_to_raw(old.marshal()), ops)
        except PatchError as exc:
            raise BadRequest(f"failed to apply patch: {exc}") from None
        except _Panic as exc:
            raise KapacitorError(f"failed to apply patch: {exc}", 500) from None
        try:
            ordered = {k: _from_raw(patched[k]) for k in sorted(patched)}
            fields = decode_spec(ordered, raw=True)
        except gojson.DecodeError as exc:
            raise ServerError(f"failed to unmarshal patched json: {exc}") from None
        new = HandlerSpec(
            id=fields.get("id", ""),
            topic=fields.get("topic", old.topic),
            kind=fields.get("kind", ""),
            options=fields.get("options"),
            match=fields.get("match", ""),
        )
        validate_spec(new)
        return self.update_handler(old, new)

    def deregister_handler(self, topic_id: str, handler_id: str) -> None:
        with self._lock:
            specs = self.handlers.get(topic_id)
            if specs is not None:
                specs.pop(handler_id, None)

    # ---- backup

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "topics": [
                    {"id": t.id, "collected": t.collected, "events": [e.to_dict() for e in t.sorted]}
                    for t in (self.topics[i] for i in self.topic_index)
                ],
                "handlers": [
                    {"id": s.id, "topic": s.topic, "kind": s.kind, "options": s.options, "match": s.match}
                    for topic in sorted(self.handlers)
                    for s in sorted(self.handlers[topic].values(), key=lambda s: s.id)
                ],
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.topics.clear()
            self.topic_index = SortedIndex()
            self.handlers.clear()
            for item in data.get("topics", []):
                topic = self._ensure_topic(item["id"])
                topic.collected = int(item.get("collected", 0))
                for e in item.get("events", []):
                    event = EventState(
                        id=e["id"],
                        message=e.get("message", ""),
                        details=e.get("details", ""),
                        time=e.get("time"),
                        duration=int(e.get("duration", 0)),
                        level=LEVEL_NAMES.index(e.get("level", "OK")),
                    )
                    topic.events[event.id] = event
                    topic.sorted.append(event)
            for s in data.get("handlers", []):
                spec = HandlerSpec(s["id"], s["topic"], s["kind"], s.get("options"), s.get("match", ""))
                self.handlers.setdefault(spec.topic, {})[spec.id] = spec
