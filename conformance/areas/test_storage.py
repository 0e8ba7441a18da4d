"""Storage: stores list, refused actions, backup (api#storage, behaviour §11)."""

from __future__ import annotations

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal
from conformance.context import Kap

REF = "api#stores"
STORES = ("tasks", "recordings", "replays", "overrides", "handler-specs")
#: Bytes of a backup read at most: a live server's database can be large.
_LIMIT = 16 * 1024 * 1024


@check("storage.stores", MUST, REF)
def test_stores(kap: Kap) -> None:
    """The stores list links to itself and names the server's stores, each with its own link."""
    kap.need("listStores")
    ex = kap.call("listStores")
    body = kap.json_ok(ex, 200, "list stores", ref=REF)
    expect_equal(body.get("link"), {"rel": "self", "href": api.V1 + "/storage/stores"}, "stores link", ref=REF,
                 exchange=ex)
    stores = body.get("storage") or []
    names = {s.get("name") for s in stores}
    expect(set(STORES) <= names, "stores listed", expected=sorted(STORES), actual=sorted(map(str, names)), ref=REF,
           exchange=ex)
    for s in stores:
        expect_equal(s.get("link"), {"rel": "self", "href": f"{api.V1}/storage/stores/{s.get('name')}"},
                     f"store {s.get('name')!r}: link", ref=REF, exchange=ex)


@check("storage.actions", SHOULD, "behaviour §11", mutates=True)
def test_store_actions_refused(kap: Kap) -> None:
    """An action without `action`, or an unknown one, is refused with the server's messages."""
    kap.need("runStoreAction")
    kap.error(kap.call("runStoreAction", store="tasks", json={}), 400,
              'unkown storage action "unknown StorageAction 0"', what="store action without action",
              ref="behaviour §11")
    kap.error(kap.call("runStoreAction", store="tasks", json={"action": "kcfnosuch"}), 400,
              "failed to unmarshal storage action unknown StorageAction kcfnosuch", what="unknown store action",
              ref="behaviour §11")


@check("storage.backup", MUST, "api#back-up-storage")
def test_backup(kap: Kap) -> None:
    """The backup is a file download: octet-stream, attachment kapacitor.db, length as announced."""
    kap.need("backupStorage")
    ex = kap.call("backupStorage", read_limit=_LIMIT)
    expect_equal(ex.status, 200, "GET storage/backup: status", ref="api#back-up-storage", exchange=ex)
    expect_equal((ex.header("Content-Type") or "").split(";")[0], "application/octet-stream", "backup Content-Type",
                 ref="behaviour §11", exchange=ex)
    expect_equal(ex.header("Content-Disposition"), 'attachment; filename="kapacitor.db"', "backup Content-Disposition",
                 ref="behaviour §11", exchange=ex)
    length = ex.header("Content-Length")
    announced = int(length) if length is not None and length.isdigit() else -1
    if announced > _LIMIT == len(ex.body):  # a big live database: only the first part was read
        kap.note(f"storage/backup: read the first {_LIMIT} of {announced} bytes")
        return
    expect(announced == len(ex.body) > 0,
           "backup Content-Length equals the body's length", expected=len(ex.body), actual=length,
           ref="api#back-up-storage", exchange=ex)
