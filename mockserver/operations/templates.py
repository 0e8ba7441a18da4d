"""Template handlers."""

from __future__ import annotations

from typing import Any

from mockserver import gojson, tickscript
from mockserver.errors import ServerError, invalid_json, unsupported_field
from mockserver.gotime import format_ns
from mockserver.operations.common import list_fields, paging, path_id, script_format
from mockserver.operations.registry import Call, Reply, operation
from mockserver.render import BASE, link
from mockserver.store.tasks import Template, TemplateCreate, TemplateUpdate

TEMPLATE_FIELDS = ("link", "id", "type", "script", "dot", "error", "created", "modified")
LISTABLE = frozenset((*TEMPLATE_FIELDS, "vars"))
SINGLE_ORDER = ("link", "id", "type", "script", "vars", "dot", "error", "created", "modified")

TEMPLATE_REQUEST: dict[str, gojson.Kind] = {
    "id": "string",
    "type": gojson.enum(("stream", "batch", "invalid"), "TaskType"),
    "script": "string",
}


def _decode(call: Call, struct: str) -> dict[str, Any]:
    try:
        return gojson.decode_struct(call.body(), struct, TEMPLATE_REQUEST)
    except gojson.DecodeError:
        raise invalid_json() from None


def _value(template: Template, name: str, fmt: str) -> Any:
    if name == "id":
        return template.id
    if name == "link":
        return link(BASE, "templates", template.id)
    if name == "type":
        return template.type
    if name == "script":
        return template.formatted() if fmt == "formatted" else template.script
    if name == "vars":
        pipeline = template.analysis().pipeline
        return tickscript.encode_vars(tickscript.vars_of(pipeline)) if pipeline is not None else {}
    if name == "dot":
        pipeline = template.analysis().pipeline
        return tickscript.dot(pipeline, template.id) if pipeline is not None else ""
    if name == "error":
        return template.analysis().build_error
    if name == "created":
        return format_ns(template.created)
    if name == "modified":
        return format_ns(template.modified)
    raise KeyError(name)


def template_body(template: Template, fmt: str = "formatted") -> bytes:
    """The single-template JSON; a var default that cannot be reported is a 500, as on the server
    (which has already stored the template by then)."""

    def build() -> bytes:
        try:
            return gojson.dumps_pretty({n: _value(template, n, fmt) for n in SINGLE_ORDER})
        except tickscript.TickscriptError as exc:
            raise ServerError(str(exc)) from None

    return template.rendered(("single", fmt), build)


@operation("getTemplate")
def get_template(call: Call) -> Reply:
    template = call.state.tasks.get_template(path_id(call, "id", "template"))
    return Reply(200, raw=template_body(template, script_format(call)))


@operation("createTemplate")
def create_template(call: Call) -> Reply:
    template = call.state.tasks.create_template(TemplateCreate.of(_decode(call, "TemplateOptions")))
    return Reply(200, raw=template_body(template))


@operation("updateTemplate")
def update_template(call: Call) -> Reply:
    template_id = path_id(call, "id", "template")
    template = call.state.tasks.update_template(template_id, TemplateUpdate.of(_decode(call, "TemplateOptions")))
    return Reply(200, raw=template_body(template))


@operation("deleteTemplate")
def delete_template(call: Call) -> Reply:
    call.state.tasks.delete_template(path_id(call, "id", "template"))
    return Reply(204)


@operation("listTemplates")
def list_templates(call: Call) -> Reply:
    pattern = call.first("pattern")
    fields = list_fields(call, TEMPLATE_FIELDS)
    fmt = script_format(call)
    offset, limit = paging(call)
    templates = call.state.tasks.list_templates(pattern, offset, limit)
    if templates:
        for name in fields:
            if name not in LISTABLE:
                raise unsupported_field(name)
    ordered = sorted(set(fields))
    fragments = []
    for template in templates:
        if template.analysis().pipeline is None:
            fragments.append(b"{}")  # a stored template that cannot be built lists as an empty object
            continue
        try:
            item = {n: _value(template, n, fmt) for n in ordered}
        except tickscript.TickscriptError:
            item = {}  # the server lists a template it cannot render as an empty object
        fragments.append(gojson.pretty_fragment(item))
    return Reply(200, raw=gojson.pretty_list_document("templates", fragments))
