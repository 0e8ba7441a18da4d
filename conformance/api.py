"""The API vocabulary of the suite, read from the spec: operation paths, families, list keys.

Paths and methods come from `spec/kapacitor-v1.yaml` by operationId; nothing here knows how any
particular server is implemented.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import spec
from conformance.target import encode_segment

V1 = spec.base_path()
PREVIEW = spec.preview_base_path()
_PARAM = re.compile(r"\{([^}]+)\}")


@functools.cache
def op(op_id: str) -> spec.Operation:
    return spec.operation(op_id)


def has_op(op_id: str) -> bool:
    try:
        op(op_id)
    except KeyError:
        return False
    return True


def path_params(op_id: str) -> list[str]:
    return _PARAM.findall(op(op_id).path)


def path_for(op_id: str, *, preview: bool = False, raw: bool = False, **params: Any) -> str:
    """Fill the spec's path template; values are percent-encoded unless `raw` (then sent as given)."""
    template = op(op_id).path

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"{op_id} needs path parameter {name!r}")
        value = str(params[name])
        return value if raw else encode_segment(value)

    path = _PARAM.sub(fill, template)
    if preview:
        path = to_preview(path)
    return path


def to_preview(path: str) -> str:
    if path.startswith(V1 + "/") or path == V1:
        return PREVIEW + path[len(V1):]
    return path


def family_of(op_id: str) -> str | None:
    return op(op_id).raw.get("x-kapacitor-family")


def mutates(op_id: str) -> bool:
    """`x-kapacitor-mutates`: does the operation change the server's state (every operation says)."""
    return bool(op(op_id).raw["x-kapacitor-mutates"])


def documented_codes(op_id: str) -> set[int]:
    codes: set[int] = set()
    for key in op(op_id).response_codes():
        key = str(key)
        if key.isdigit():
            codes.add(int(key))
        elif len(key) == 3 and key[0].isdigit() and key[1:].upper() == "XX":
            codes.update(range(int(key[0]) * 100, int(key[0]) * 100 + 100))
    return codes


def availability(op_id: str) -> dict[str, Any]:
    return op(op_id).availability


@dataclass(frozen=True)
class Family:
    """A listable resource family and the operations that manage one of its items."""

    name: str
    list_op: str
    get_op: str
    delete_op: str
    list_key: str
    kind: str  # singular word used in messages ("task ID must ...")
    id_ordered: bool = True  # False: newest first (recordings, replays)


def creates_of(operation: spec.Operation) -> str | None:
    """`x-kapacitor-creates`: the kind of resource a 2xx answer of this operation creates."""
    kind = operation.raw.get("x-kapacitor-creates")
    return str(kind) if kind else None


def traits_of(operation: spec.Operation) -> frozenset[str]:
    """`x-kapacitor-traits`: what makes an operation unfit for blind calls (streams, slow, ...)."""
    return frozenset(str(t) for t in operation.raw.get("x-kapacitor-traits") or ())


def derive_creates(ops: Iterable[spec.Operation]) -> dict[str, str]:
    return {o.operation_id: kind for o in ops if (kind := creates_of(o))}


def with_traits(ops: Iterable[spec.Operation], traits: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(traits)
    return frozenset(o.operation_id for o in ops if traits_of(o) & wanted)


def _param_names(operation: spec.Operation, doc: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for param in [*operation.path_item.get("parameters", []), *operation.raw.get("parameters", [])]:
        if "$ref" in param:
            param = doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
        names.add(str(param.get("name")))
    return names


def _list_key(operation: spec.Operation, doc: Mapping[str, Any]) -> str | None:
    """The one array property of the list operation's 200 body (`{"tasks": [...]}` -> `tasks`)."""
    schema = operation.raw["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    arrays = [name for name, prop in (schema.get("properties") or {}).items() if prop.get("type") == "array"]
    return arrays[0] if len(arrays) == 1 else None


def derive_families(ops: Sequence[spec.Operation], doc: Mapping[str, Any], base: str) -> dict[str, Family]:
    """The families the list checks run on, read from the spec.

    A family is listable when its `x-kapacitor-family` has a paginated list (`GET {base}/{family}`
    with `offset` and `limit` and an `x-kapacitor-order`) that needs no optional service
    (`x-kapacitor-availability.requires`: those families cannot be assumed on every target). Its
    item operations are the GET and DELETE of `{base}/{family}/{id}`, its kind is what its create
    operations create (`x-kapacitor-creates`), and the order says whether lists are sorted by ID.
    """
    out: dict[str, Family] = {}
    for lst in ops:
        name = lst.raw.get("x-kapacitor-family")
        order = lst.raw.get("x-kapacitor-order")
        if (lst.method != "GET" or lst.path != f"{base}/{name}" or order is None
                or lst.availability.get("requires") or not {"offset", "limit"} <= _param_names(lst, doc)):
            continue
        members = [o for o in ops if o.raw.get("x-kapacitor-family") == name]
        item = [o for o in members if _PARAM.fullmatch(o.path[len(lst.path) + 1:]) and o.path.startswith(lst.path + "/")]
        by_method = {o.method: o.operation_id for o in item}
        kinds = {kind for o in members if (kind := creates_of(o))}
        key = _list_key(lst, doc)
        if "GET" not in by_method or "DELETE" not in by_method or len(kinds) != 1 or key is None:
            raise ValueError(f"family {name!r} lists with {lst.operation_id} but its item operations, "
                             "list key or created kind are not all in the spec")
        out[str(name)] = Family(str(name), lst.operation_id, by_method["GET"], by_method["DELETE"], key, kinds.pop(),
                                id_ordered=order == "id")
    return out


FAMILIES: dict[str, Family] = derive_families(spec.operations(), spec.load_spec(), V1)

#: Pagination/fields semantics differ per family in one spot: a negative limit (behaviour §2.4).
LISTABLE = tuple(FAMILIES)

#: Create operations and the kind of resource their 2xx answer creates.
CREATES: dict[str, str] = derive_creates(spec.operations())
#: Operations never fuzzed: their answer never ends, takes long, exists only while a task defines
#: it, or they change the server as a whole in a way that cannot be read back and undone.
NOT_FUZZED_TRAITS = frozenset({"streams", "slow", "dynamic", "irreversible"})
NOT_FUZZED: frozenset[str] = with_traits(spec.operations(), NOT_FUZZED_TRAITS)
#: Operations never used to probe whether a family is served: they stream, take long, answer with
#: a body that grows with the server's data, or exist only while a task defines them.
NO_PROBE_TRAITS = frozenset({"streams", "slow", "bulk", "dynamic"})
NO_PROBE: frozenset[str] = with_traits(spec.operations(), NO_PROBE_TRAITS)
#: Answers that grow with the server's data: only their head is read.
BULK: frozenset[str] = with_traits(spec.operations(), ("bulk",))


def spec_errors(op_id: str) -> list[dict[str, Any]]:
    """`x-kapacitor-errors`: the documented error conditions (status + message template)."""
    return list(op(op_id).raw.get("x-kapacitor-errors") or [])


def spec_error_status(op_id: str, message_start: str) -> int:
    """The status the spec gives the error whose message template starts with `message_start`."""
    for err in spec_errors(op_id):
        if str(err.get("message", "")).startswith(message_start):
            return int(err["status"])
    raise KeyError(f"the spec lists no error starting {message_start!r} for {op_id}")

