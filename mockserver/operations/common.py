"""Request parsing shared by the task, template, recording and replay handlers."""

from __future__ import annotations

from mockserver.errors import BadRequest
from mockserver.gotext import go_quote
from mockserver.operations.registry import Call
from mockserver.store.listing import parse_int_param
from spec import parameter_default

SCRIPT_FORMATS = ("formatted", "raw")
DOT_VIEWS = ("attributes", "labels")


def path_id(call: Call, name: str, what: str) -> str:
    """The ID after a prefix route; empty means the client hit `/<collection>/`."""
    value = call.params.get(name, "")
    if not value:
        raise BadRequest(f"must specify {what} id on path")
    return value


def script_format(call: Call) -> str:
    value = call.first("script-format") or "formatted"
    if value not in SCRIPT_FORMATS:
        raise BadRequest(f"invalid script-format parameter {go_quote(call.first_as_sent('script-format'))}")
    return value


def dot_view(call: Call) -> str:
    value = call.first("dot-view") or "attributes"
    if value not in DOT_VIEWS:
        raise BadRequest(f"invalid dot-view parameter {go_quote(call.first_as_sent('dot-view'))}")
    return value


#: Paging defaults as the spec documents them (offset 0, limit 100).
DEFAULT_OFFSET: int = parameter_default("offset")
DEFAULT_LIMIT: int = parameter_default("limit")


def paging(call: Call) -> tuple[int, int]:
    offset = parse_int_param("offset", call.first_as_sent("offset"), DEFAULT_OFFSET)
    limit = parse_int_param("limit", call.first_as_sent("limit"), DEFAULT_LIMIT)
    return offset, limit


def list_fields(call: Call, defaults: tuple[str, ...], always: tuple[str, ...] = ("id", "link")) -> tuple[str, ...]:
    """Requested `fields`, with the always-present ones appended, or the defaults."""
    requested = call.all("fields")
    if requested is None:
        return defaults
    return (*requested, *always)
