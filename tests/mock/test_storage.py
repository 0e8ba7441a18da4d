"""Storage endpoints (behaviour reference §11, services/storage/api.go, transcript 80-81,
TestStorage_Rebuild/TestStorage_Backup) and the mock's backup file format."""

from __future__ import annotations

import gzip
import json

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.store import MockState, backup
from tests.mock.conftest import Api
from tests.mock.spec_check import assert_matches_spec, response_schema

S = "/kapacitor/v1/storage"
STORES_1_8 = {"tasks", "recordings", "replays", "overrides", "handler-specs", "load"}


def test_list_stores(make_api) -> None:  # type: ignore[no-untyped-def]
    resp = make_api().get(f"{S}/stores")
    assert resp.status == 200
    assert_matches_spec("listStores", 200, resp.body)
    body = resp.json
    assert body["link"] == {"rel": "self", "href": "/kapacitor/v1/storage/stores"}
    assert {s["name"] for s in body["storage"]} == STORES_1_8
    for store in body["storage"]:
        assert store["link"] == {"rel": "self", "href": f"/kapacitor/v1/storage/stores/{store['name']}"}


def test_1_5_also_has_topic_states(make_api) -> None:  # type: ignore[no-untyped-def]
    names = {s["name"] for s in make_api(kapacitor_version="1.5.9").get(f"{S}/stores").json["storage"]}
    assert names == STORES_1_8 | {"topic-states"}


def test_rebuild_every_listed_store(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api()
    for store in api.get(f"{S}/stores").json["storage"]:
        resp = api.post(store["link"]["href"], {"action": "rebuild"})
        assert resp.status == 204, store
        assert resp.body == b""
        assert_matches_spec("runStoreAction", 204, resp.body)


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        (f"{S}/stores/nope", '{"action": "rebuild"}', 404, 'unknown storage "nope"'),
        (f"{S}/stores/nope", "not json", 404, 'unknown storage "nope"'),  # store first, body second
        (f"{S}/stores/tasks", '{"action":"nope"}', 400, "failed to unmarshal storage action unknown StorageAction nope"),
        (f"{S}/stores/tasks", '{"action":""}', 400, "failed to unmarshal storage action unknown StorageAction "),
        (f"{S}/stores/tasks", '{"action": 1}', 400, "failed to unmarshal storage action json: cannot unmarshal number into Go struct field StorageActionOptions.action of type client.StorageAction"),
        (f"{S}/stores/tasks", "", 400, "failed to unmarshal storage action EOF"),
        (f"{S}/stores/tasks", "[]", 400, "failed to unmarshal storage action json: cannot unmarshal array into Go value of type client.StorageActionOptions"),
        (f"{S}/stores/tasks", "{}", 400, 'unkown storage action "unknown StorageAction 0"'),
        (f"{S}/stores/tasks", '{"action": null}', 400, 'unkown storage action "unknown StorageAction 0"'),
    ],
)  # fmt: skip
def test_store_action_errors(make_api, path: str, body: str, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    resp = make_api().post(path, body=body)
    assert resp.status == status
    assert_matches_spec("runStoreAction", status, resp.body)
    assert resp.json == {"error": message, "message": message}


def test_store_action_keys_are_case_insensitive(make_api) -> None:  # type: ignore[no-untyped-def]
    assert make_api().post(f"{S}/stores/load", body='{"ACTION": "rebuild"} tail').status == 204


# ---- backup and restore ---------------------------------------------------------------------------

TASK = {
    "id": "cpu",
    "type": "stream",
    "dbrps": [{"db": "telegraf", "rp": "autogen"}],
    "script": "stream\n    |from()\n        .measurement('cpu')\n",
    "status": "enabled",
}
TEMPLATE = {"id": "tpl", "script": "var m = 'cpu'\nstream\n    |from()\n        .measurement(m)\n"}


def populate(api: Api) -> None:
    assert api.post("/kapacitor/v1/tasks", TASK).status == 200
    assert api.post("/kapacitor/v1/templates", TEMPLATE).status == 200
    from_template = {"id": "fromtpl", "template-id": "tpl", "dbrps": [{"db": "db", "rp": "rp"}]}
    assert api.post("/kapacitor/v1/tasks", from_template).status == 200


def test_backup_response(api: Api) -> None:
    populate(api)
    resp = api.get(f"{S}/backup")
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["content-disposition"] == 'attachment; filename="kapacitor.db"'
    assert int(resp.headers["content-length"]) == len(resp.body)
    assert "content-encoding" not in resp.headers
    assert response_schema("backupStorage", 200, "application/octet-stream") == {"type": "string", "format": "binary"}
    assert backup.loads(resp.body)["tasks"]["tasks"]


def test_backup_is_not_gzip_encoded_even_when_asked(make_api) -> None:  # type: ignore[no-untyped-def]
    resp = make_api().get(f"{S}/backup", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in resp.headers
    assert int(resp.headers["content-length"]) == len(resp.body)


def test_backup_restores_tasks_and_templates(make_api) -> None:  # type: ignore[no-untyped-def]
    source = make_api()
    populate(source)
    data = source.get(f"{S}/backup").body

    state = MockState(MockConfig())
    state.restore(backup.loads(data))
    restored = Api(create_app(MockConfig(), state))
    for path in ("/kapacitor/v1/tasks/cpu", "/kapacitor/v1/tasks/fromtpl", "/kapacitor/v1/templates/tpl"):
        assert restored.get(path).json == source.get(path).json, path
    assert restored.get("/kapacitor/v1/tasks").json == source.get("/kapacitor/v1/tasks").json
    # An enabled task stays enabled and the counters follow.
    assert state.tasks.enabled_count == source.state.tasks.enabled_count == 1
    # The template still knows its task: updating the template reaches the restored task.
    update = restored.patch("/kapacitor/v1/templates/tpl", {"script": TEMPLATE["script"].replace("cpu", "mem")})
    assert update.status == 200
    assert "mem" in restored.get("/kapacitor/v1/tasks/fromtpl").json["script"]


def test_backups_of_the_same_state_are_identical(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api()
    populate(api)
    assert api.get(f"{S}/backup").body == api.get(f"{S}/backup").body


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "not gzip-compressed"),
        (b"hello world", "not gzip-compressed"),
        (b"\x1f\x8bbroken", "corrupt"),
        (gzip.compress(b"not json", mtime=0), "invalid JSON"),
        (gzip.compress(json.dumps({"state": {}}).encode(), mtime=0), "missing format marker"),
        (gzip.compress(json.dumps({"format": backup.FORMAT, "version": 99, "state": {}}).encode(), mtime=0), "unsupported"),
        (gzip.compress(json.dumps({"format": backup.FORMAT, "version": backup.VERSION, "state": []}).encode(), mtime=0), "not an object"),
        (b"\0" * 16 + b"\xed\xda\x0c\xed" + b"\0" * 100, "BoltDB"),
    ],
)  # fmt: skip
def test_bad_backup_files(data: bytes, fragment: str) -> None:
    with pytest.raises(backup.BackupError, match=fragment):
        backup.loads(data)


def test_load_file(tmp_path, make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api()
    populate(api)
    path = tmp_path / "kapacitor.db"
    path.write_bytes(api.get(f"{S}/backup").body)
    assert backup.load_file(str(path))["tasks"] == api.state.snapshot()["tasks"]
