"""Storage handlers: the store list, store actions (index rebuilds) and the backup download."""

from __future__ import annotations

from typing import Any

from mockserver import gojson
from mockserver.config import version_tuple
from mockserver.errors import BadRequest, NotFound
from mockserver.gotext import go_quote
from mockserver.operations.registry import Call, Reply, operation
from mockserver.render import BASE, link
from mockserver.store import backup

STORES = ("tasks", "recordings", "replays", "overrides", "handler-specs", "load")
#: Alert topic states had their own store until 1.7.
LEGACY_STORES = ("topic-states",)
STORES_PATH = BASE + "/storage/stores"


def store_names(version: str) -> tuple[str, ...]:
    if version_tuple(version) < (1, 7):
        return STORES + LEGACY_STORES
    return STORES


@operation("listStores")
def list_stores(call: Call) -> Reply:
    names = store_names(call.config.kapacitor_version)
    return Reply(
        200,
        {
            "link": link(STORES_PATH),
            "storage": [{"link": link(STORES_PATH, name), "name": name} for name in names],
        },
    )


def _action(body: bytes) -> int:
    """StorageActionOptions.action as the client's StorageAction (0 unset, 1 rebuild)."""
    value = gojson.decode_document(body)
    if value is None:
        return 0
    if not isinstance(value, dict):
        raise gojson.DecodeError(
            f"json: cannot unmarshal {gojson.json_kind(value)} into Go value of type client.StorageActionOptions"
        )
    action: Any = None
    present = False
    for key, item in value.items():
        if key.lower() == "action" and item is not None:  # null is a no-op, the last other value wins
            action, present = gojson.field_value(item), True
    if not present:
        return 0
    if not isinstance(action, str):
        raise gojson.type_error(action, "StorageActionOptions", "action", "client.StorageAction")
    if action != "rebuild":
        raise gojson.DecodeError(f"unknown StorageAction {action}")
    return 1


@operation("runStoreAction")
def run_store_action(call: Call) -> Reply:
    # The server takes the name as the path after `.../storage/stores/` (any other path under
    # `.../storage/` is looked up whole), so derive it from the path, not the route parameter.
    prefix = STORES_PATH + "/"
    name = call.path[len(prefix) :] if call.path.startswith(prefix) else call.path
    if name not in store_names(call.config.kapacitor_version):
        raise NotFound(f"unknown storage {go_quote(name)}")
    try:
        action = _action(call.body())
    except gojson.DecodeError as exc:
        raise BadRequest(f"failed to unmarshal storage action {exc}") from None
    if action != 1:
        raise BadRequest(f'unkown storage action "unknown StorageAction {action}"')
    return Reply(204)


@operation("backupStorage")
def backup_storage(call: Call) -> Reply:
    data = backup.dumps(call.state.snapshot(), kapacitor_version=call.config.kapacitor_version)
    return Reply(
        200,
        raw=data,
        content_type="application/octet-stream",
        headers=(("Content-Disposition", 'attachment; filename="kapacitor.db"'),),
    )
