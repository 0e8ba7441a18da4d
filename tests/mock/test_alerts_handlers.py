"""Topic handlers over HTTP: CRUD, JSON Patch, kinds and option validation (behaviour reference §8.6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mock.conftest import Api, Response, check, error_of

T = "/kapacitor/v1/alerts/topics"
LOG_PATH = "/tmp/alert.log"
ID_RULE = "must contain only letters, numbers, '-', '.' and '_'."


def handler(topic: str, handler_id: str, kind: str, options: Any, match: str = "") -> dict[str, Any]:
    return {
        "link": {"rel": "self", "href": f"{T}/{topic}/handlers/{handler_id}"},
        "id": handler_id,
        "kind": kind,
        "options": options,
        "match": match,
    }


def create(api: Api, topic: str, body: Any) -> Response:
    return api.post(f"{T}/{topic}/handlers", body)


# ---- CRUD (TestServer_AlertHandlers_CRUD) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "handler_id", "put_id"), [("system", "myhandler", "newid"), ("slack", "slack", "slack")]
)
def test_crud_as_the_go_server_test(api: Api, topic: str, handler_id: str, put_id: str) -> None:
    resp = check(
        create(api, topic, {"id": handler_id, "kind": "slack", "options": {"channel": "#test"}}),
        "createTopicHandler",
        200,
    )
    assert resp.json == handler(topic, handler_id, "slack", {"channel": "#test"})
    assert list(resp.json) == ["link", "id", "kind", "options", "match"]

    patch = [
        {"op": "replace", "path": "/kind", "value": "log"},
        {"op": "remove", "path": "/options/channel"},
        {"op": "add", "path": "/options/path", "value": LOG_PATH},
    ]
    link = resp.json["link"]["href"]
    resp = check(api.patch(link, patch, headers={"Content-Type": "application/json+patch"}), "patchTopicHandler", 200)
    assert resp.json == handler(topic, handler_id, "log", {"path": LOG_PATH})

    resp = check(
        api.put(link, {"id": put_id, "kind": "smtp", "options": {"to": ["oncall@example.com"]}}),
        "replaceTopicHandler",
        200,
    )
    assert resp.json == handler(topic, put_id, "smtp", {"to": ["oncall@example.com"]})
    new_link = resp.json["link"]["href"]

    assert check(api.get(new_link), "getTopicHandler", 200).json == resp.json
    if put_id != handler_id:
        resp = check(api.get(link), "getTopicHandler", 404)
        assert error_of(resp) == f'unknown handler: "{handler_id}"'

    check(api.delete(new_link), "deleteTopicHandler", 204)
    resp = check(api.get(new_link), "getTopicHandler", 404)
    assert error_of(resp) == f'unknown handler: "{put_id}"'
    assert check(api.get(f"{T}/{topic}/handlers"), "listTopicHandlers", 200).json["handlers"] == []


def test_create_takes_the_topic_from_the_path_and_creates_it(api: Api) -> None:
    resp = check(create(api, "system", {"id": "h", "topic": "other", "kind": "slack"}), "createTopicHandler", 200)
    assert resp.json == handler("system", "h", "slack", None)
    assert api.get(f"{T}/system").status == 200
    assert api.get(f"{T}/other").status == 404


def test_list_handlers_sorted_with_raw_query_links(api: Api) -> None:
    # TestServer_AlertListHandlers.
    for handler_id in ("handler2", "handler0", "other", "handler1"):
        check(create(api, "test", {"id": handler_id, "kind": "slack"}), "createTopicHandler", 200)
    resp = check(api.get(f"{T}/test/handlers", params={"pattern": ""}), "listTopicHandlers", 200)
    assert resp.json["link"] == {"rel": "self", "href": f"{T}/test/handlers?pattern="}
    assert resp.json["topic"] == "test"
    assert [h["id"] for h in resp.json["handlers"]] == ["handler0", "handler1", "handler2", "other"]
    resp = check(api.get(f"{T}/test/handlers", params={"pattern": "*"}), "listTopicHandlers", 200)
    assert resp.json["link"]["href"] == f"{T}/test/handlers?pattern=%2A"
    resp = check(api.get(f"{T}/test/handlers", params={"pattern": "handler*"}), "listTopicHandlers", 200)
    assert resp.json["link"]["href"] == f"{T}/test/handlers?pattern=handler%2A"
    assert [h["id"] for h in resp.json["handlers"]] == ["handler0", "handler1", "handler2"]
    resp = check(api.get(f"{T}/test/handlers"), "listTopicHandlers", 200)
    assert resp.json["link"]["href"] == f"{T}/test/handlers"


def test_handlers_of_a_missing_topic_are_an_empty_list(api: Api) -> None:
    resp = check(api.get(f"{T}/nosuch/handlers"), "listTopicHandlers", 200)
    assert resp.json == {"link": {"rel": "self", "href": f"{T}/nosuch/handlers"}, "topic": "nosuch", "handlers": []}


def test_delete_of_a_missing_handler_is_204(api: Api) -> None:
    check(api.delete(f"{T}/t/handlers/nope"), "deleteTopicHandler", 204)


def test_options_are_echoed_go_style(api: Api) -> None:
    # encoding/json round trip: float64 numbers, map keys sorted.
    resp = check(
        create(api, "t", {"id": "s", "kind": "talk", "options": {"b": 1.0, "a": [1, 2.5], "c": {"y": 1, "x": True}}}),
        "createTopicHandler",
        200,
    )
    assert resp.body.index(b'"a"') < resp.body.index(b'"b"') < resp.body.index(b'"c"')
    assert b'"b": 1,' in resp.body
    assert resp.json["options"] == {"a": [1, 2.5], "b": 1, "c": {"x": True, "y": 1}}


# ---- decode and validation errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "invalid handler json: EOF"),
        (b"[]", "invalid handler json: json: cannot unmarshal array into Go value of type alert.HandlerSpec"),
        (
            b'{"id": 5}',
            "invalid handler json: json: cannot unmarshal number into Go struct field HandlerSpec.id of type string",
        ),
        (
            b'{"id": "h", "options": "x"}',
            "invalid handler json: json: cannot unmarshal string into Go struct field HandlerSpec.options of type map[string]interface {}",
        ),
        (
            b'{"id": "h", "topic": 1}',
            "invalid handler json: json: cannot unmarshal number into Go struct field HandlerSpec.topic of type string",
        ),
    ],
)
def test_create_decode_errors(api: Api, body: bytes, message: str) -> None:
    resp = check(api.post(f"{T}/t/handlers", body=body), "createTopicHandler", 400)
    assert error_of(resp) == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "slack"}, f'invalid handler spec: handler ID {ID_RULE} ""'),
        ({"id": "bad id", "kind": "slack"}, f'invalid handler spec: handler ID {ID_RULE} "bad id"'),
        ({"id": "a:b", "kind": "slack"}, f'invalid handler spec: handler ID {ID_RULE} "a:b"'),
        ({"id": "h"}, "invalid handler spec: handler Kind must not be empty"),
    ],
)
def test_create_spec_errors(api: Api, body: dict[str, Any], message: str) -> None:
    resp = check(create(api, "t", body), "createTopicHandler", 400)
    assert error_of(resp) == message


def test_invalid_topic_message_names_the_handler_id(api: Api) -> None:
    # dao.go Validate prints h.ID where it means the topic (§2.1).
    resp = check(create(api, "bad*topic", {"id": "myid", "kind": "slack"}), "createTopicHandler", 400)
    assert error_of(resp) == f'invalid handler spec: handler topic {ID_RULE} "myid"'


def test_no_generated_ids_and_body_null(api: Api) -> None:
    resp = check(api.post(f"{T}/t/handlers", body=b"null"), "createTopicHandler", 400)
    assert error_of(resp) == f'invalid handler spec: handler ID {ID_RULE} ""'


def test_unknown_kind_and_duplicate_are_500(api: Api) -> None:
    resp = check(create(api, "t", {"id": "h", "kind": "foo"}), "createTopicHandler", 500)
    assert error_of(resp) == 'failed to create handler: unsupported action kind "foo"'
    assert api.get(f"{T}/t").status == 404
    check(create(api, "t", {"id": "h", "kind": "slack"}), "createTopicHandler", 200)
    resp = check(create(api, "t", {"id": "h", "kind": "smtp"}), "createTopicHandler", 500)
    assert error_of(resp) == 'failed to create handler: cannot register handler, handler with ID "h" already exists'
    # Kind and options are checked before the duplicate.
    resp = check(create(api, "t", {"id": "h", "kind": "nope"}), "createTopicHandler", 500)
    assert error_of(resp) == 'failed to create handler: unsupported action kind "nope"'


def test_zenoss_is_unknown_before_1_6(make_api: Any) -> None:
    old = make_api(kapacitor_version="1.5.9")
    resp = create(old, "t", {"id": "h", "kind": "zenoss"})
    assert resp.status == 500
    assert resp.json == {"error": 'failed to create handler: unsupported action kind "zenoss"'}
    # smtp's `to-field` arrived in 1.6 too: before, it is an unknown option key.
    resp = create(old, "t", {"id": "h", "kind": "smtp", "options": {"to-field": ["x"]}})
    assert resp.status == 500
    assert resp.json["error"] == _decode_error("smtp.HandlerConfig", "'' has invalid keys: to-field")


# mapstructure with ErrorUnused: "N error(s) decoding:\n\n* ..." with the points sorted.
def _decode_error(go_type: str, *points: str) -> str:
    lines = "\n".join(sorted(f"* {p}" for p in points))
    return f"failed to create handler: failed to decode options into *{go_type}: {len(points)} error(s) decoding:\n\n{lines}"


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        (
            "slack",
            {"channel": "#a", "chanel": "#b"},
            _decode_error("slack.HandlerConfig", "'' has invalid keys: chanel"),
        ),
        ("slack", {"b": 1, "a": 2}, _decode_error("slack.HandlerConfig", "'' has invalid keys: a, b")),
        (
            "slack",
            {"channel": 5},
            _decode_error(
                "slack.HandlerConfig", "'channel' expected type 'string', got unconvertible type 'float64', value: '5'"
            ),
        ),
        (
            "smtp",
            {"to": "x@example.com"},
            _decode_error("smtp.HandlerConfig", "'to': source data must be an array or slice, got string"),
        ),
        (
            "smtp",
            {"to": ["a", 1.5]},
            _decode_error(
                "smtp.HandlerConfig", "'to[1]' expected type 'string', got unconvertible type 'float64', value: '1.5'"
            ),
        ),
        (
            "log",
            {"path": LOG_PATH, "mode": "0644"},
            _decode_error(
                "alert.LogHandlerConfig",
                "'mode' expected type 'fs.FileMode', got unconvertible type 'string', value: '0644'",
            ),
        ),
        (
            "log",
            {"path": LOG_PATH, "mode": -1},
            _decode_error("alert.LogHandlerConfig", "cannot parse 'mode', -1.000000 overflows uint"),
        ),
        (
            "post",
            {"url": "http://x", "headers": {"a": 1}},
            _decode_error(
                "httppost.HandlerConfig",
                "'headers[a]' expected type 'string', got unconvertible type 'float64', value: '1'",
            ),
        ),
        (
            "post",
            {"url": "http://x", "headers": ["a"]},
            _decode_error("httppost.HandlerConfig", "'headers' expected a map, got 'slice'"),
        ),
        (
            "post",
            {"url": "http://x", "timeout": "10s"},
            _decode_error(
                "httppost.HandlerConfig",
                "'timeout' expected type 'time.Duration', got unconvertible type 'string', value: '10s'",
            ),
        ),
        (
            "telegram",
            {"disable-notification": "yes"},
            _decode_error(
                "telegram.HandlerConfig",
                "'disable-notification' expected type 'bool', got unconvertible type 'string', value: 'yes'",
            ),
        ),
        (
            "mqtt",
            {"topic": "t", "qos": "twice"},
            _decode_error("mqtt.HandlerConfig", "error decoding 'qos': invalid QoS"),
        ),
        (
            "pagerduty2",
            {"links": [{"href": "h", "title": "t"}]},
            _decode_error("pagerduty2.HandlerConfig", "'links[0]' has invalid keys: title"),
        ),
        (
            "exec",
            {"prog": "/bin/x", "args": "a", "commander": 1},
            _decode_error(
                "alert.ExecHandlerConfig",
                "'' has invalid keys: commander",
                "'args': source data must be an array or slice, got string",
            ),
        ),
        (
            "publish",
            {"topics": [["nested"]]},
            _decode_error(
                "alert.PublishHandlerConfig",
                "'topics[0]' expected type 'string', got unconvertible type '[]interface {}', value: '[nested]'",
            ),
        ),
        (
            "servicenow",
            {"metric_name": "m"},
            _decode_error("servicenow.HandlerConfig", "'' has invalid keys: metric_name"),
        ),
    ],
)
def test_option_decode_errors(api: Api, kind: str, options: dict[str, Any], message: str) -> None:
    resp = check(create(api, "t", {"id": "h", "kind": kind, "options": options}), "createTopicHandler", 500)
    assert error_of(resp) == message


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("log", None, "log path must be absolute:  is not absolute"),
        ("log", {"path": "rel/alert.log"}, "log path must be absolute: rel/alert.log is not absolute"),
        ("log", {"path": LOG_PATH, "mode": 0o444}, "invalid file mode -r--r--r--, must be user writable"),
        ("kafka", {"cluster": "nope"}, 'unknown cluster "nope"'),
        ("post", {}, "An appropriately formatted url must be specified if an endpoint is not specified"),
        ("post", {"url": "http://x/{{ .Nope"}, "failed to parse template: template: body:1: unclosed action"),
        ("slack", {}, None),
    ],
)
def test_handler_construction_errors(api: Api, kind: str, options: Any, message: str | None) -> None:
    body: dict[str, Any] = {"id": "h", "kind": kind}
    if options is not None:
        body["options"] = options
    resp = create(api, "t", body)
    if message is None:
        check(resp, "createTopicHandler", 200)
    else:
        assert error_of(check(resp, "createTopicHandler", 500)) == f"failed to create handler: {message}"


def test_option_keys_match_case_insensitively(api: Api) -> None:
    resp = check(
        create(api, "t", {"id": "h", "kind": "slack", "options": {"Channel": "#x"}}), "createTopicHandler", 200
    )
    assert resp.json["options"] == {"Channel": "#x"}
    # Untagged Go fields are matched by their field name.
    check(
        create(api, "t", {"id": "z", "kind": "zenoss", "options": {"TID": 1, "evclass": "x"}}),
        "createTopicHandler",
        500,
    )
    check(
        create(api, "t", {"id": "z", "kind": "zenoss", "options": {"TID": 1, "eventclass": "x"}}),
        "createTopicHandler",
        200,
    )


# Options of TestServer_AlertHandlers, one per kind (the server accepts all of them).
VALID_OPTIONS: dict[str, Any] = {
    "aggregate": {"id": "id", "interval": 1e9, "topic": "agg"},
    "alerta": {"token": "testtoken1234567", "token-prefix": "Bearer", "origin": "kapacitor", "group": "test",
               "environment": "env", "timeout": 86400000000000},
    "bigpanda": {"app-key": "my-app-key-123456"},
    "discord": {"username": "Kapacitor", "avatar-url": "https://example.com/a.png", "embed-title": "Kapacitor Alert"},
    "exec": {"prog": "/bin/alert-handler.sh", "args": ["arg1", "arg2", "arg3"]},
    "hipchat": {"token": "testtoken1234567", "room": "1234567"},
    "kafka": {"cluster": "default", "topic": "test"},
    "log": {"mode": 0o604, "path": LOG_PATH},
    "mqtt": {"topic": "test/{{.TaskName}}", "qos": "at-least-once", "retained": True},
    "opsgenie": {"teams-list": ["A team", "B team"], "recipients-list": ["test_recipient1", "test_recipient2"]},
    "opsgenie2": {"teams-list": ["A team", "B team"], "recipients-list": ["test_recipient1", "test_recipient2"]},
    "pagerduty": {"service-key": "service_key"},
    "pagerduty2": {"routing-key": "rkey", "links": [{"href": "http://example.com", "text": "t1"},
                                                    {"href": "http://example.com/{{.TaskName}}", "text": "t2"}]},
    "post": {"url": "http://localhost:9999"},
    "pushover": {},
    "publish": {"topics": ["test"]},
    "sensu": {"source": "Kapacitor", "metadata": {"k1": "v1", "k2": 5}},
    "servicenow": {"source": "Kapacitor"},
    "slack": {"channel": "#test"},
    "smtp": {"to": ["oncall@example.com", "backup@example.com"]},
    "snmptrap": {"trap-oid": "1.1.2", "data-list": [{"oid": "1.1.2.1", "type": "s", "value": "{{.Message}}"},
                                                    {"oid": "1.1.2.2", "type": "s", "value": "{{.Level}}"}]},
    "talk": {"anything": ["is", "ignored"]},
    "tcp": {"address": "localhost:9999"},
    "teams": {"channel-url": "https://example.com/webhook"},
    "telegram": {"chat-id": "chat id", "disable-web-page-preview": True},
    "victorops": {"routing-key": "key"},
    "zenoss": {"action": "EventsRouter", "method": "add_event", "type": "rpc", "TID": 1},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(VALID_OPTIONS))
def test_every_kind_the_server_accepts(api: Api, kind: str) -> None:
    resp = check(
        create(api, "t", {"id": kind, "kind": kind, "options": VALID_OPTIONS[kind]}), "createTopicHandler", 200
    )
    assert resp.json["kind"] == kind


def test_spec_enum_lists_exactly_the_kinds() -> None:
    from spec import load_spec

    assert sorted(load_spec()["components"]["schemas"]["HandlerKind"]["enum"]) == sorted(VALID_OPTIONS)


def test_match_expressions_are_checked(api: Api) -> None:
    ok = check(
        create(api, "t", {"id": "m", "kind": "slack", "match": "changed() == TRUE AND level() >= WARNING"}),
        "createTopicHandler",
        200,
    )
    assert ok.json["match"] == "changed() == TRUE AND level() >= WARNING"
    resp = check(create(api, "t", {"id": "m2", "kind": "slack", "match": "foo == 1"}), "createTopicHandler", 500)
    assert error_of(resp) == 'failed to create handler: unknown identifier "foo"'
    resp = check(create(api, "t", {"id": "m3", "kind": "slack", "match": '"host" =='}), "createTopicHandler", 500)
    assert error_of(resp).startswith("failed to create handler: invalid match expression: ")


# ---- PUT ------------------------------------------------------------------------------------------


def test_put_errors_in_server_order(api: Api) -> None:
    link = f"{T}/t/handlers/h"
    resp = check(api.put(link, body=b"garbage"), "replaceTopicHandler", 404)
    assert error_of(resp) == 'unknown handler: "h"'
    check(create(api, "t", {"id": "h", "kind": "slack"}), "createTopicHandler", 200)
    resp = check(api.put(link, body=b""), "replaceTopicHandler", 400)
    assert error_of(resp) == "failed to unmarshal JSON: EOF"
    resp = check(api.put(link, {"id": "bad id", "kind": "slack"}), "replaceTopicHandler", 400)
    assert error_of(resp) == f'invalid handler spec: handler ID {ID_RULE} "bad id"'
    resp = check(api.put(link, {"id": "h", "kind": "nope"}), "replaceTopicHandler", 500)
    assert error_of(resp) == 'failed to update handler: unsupported action kind "nope"'
    resp = check(api.put(link, {"id": "h", "kind": "slack", "options": {"x": 1}}), "replaceTopicHandler", 500)
    assert error_of(resp) == _decode_error("slack.HandlerConfig", "'' has invalid keys: x").replace("create", "update")


def test_put_rename_onto_an_existing_id_overwrites_it(api: Api) -> None:
    check(create(api, "t", {"id": "a", "kind": "slack"}), "createTopicHandler", 200)
    check(create(api, "t", {"id": "b", "kind": "smtp"}), "createTopicHandler", 200)
    resp = check(
        api.put(f"{T}/t/handlers/a", {"id": "b", "kind": "tcp", "topic": "ignored"}), "replaceTopicHandler", 200
    )
    assert resp.json == handler("t", "b", "tcp", None)
    listed = check(api.get(f"{T}/t/handlers"), "listTopicHandlers", 200).json["handlers"]
    assert listed == [handler("t", "b", "tcp", None)]


# ---- PATCH ----------------------------------------------------------------------------------------


@pytest.fixture
def patchable(api: Api) -> Api:
    # `talk` never decodes its options, so any document shape can be patched.
    check(
        create(api, "t", {"id": "h", "kind": "talk", "options": {"channel": "#a", "list": [1, 2]}}),
        "createTopicHandler",
        200,
    )
    return api


H = f"{T}/t/handlers/h"


def patch_error(api: Api, body: Any, status: int) -> str:
    raw = body if isinstance(body, bytes) else None
    resp = api.patch(H, None if raw is not None else body, body=raw)
    check(resp, "patchTopicHandler", status)
    return error_of(resp)


def test_patch_of_a_missing_handler_is_404_before_the_body(api: Api) -> None:
    resp = check(api.patch(f"{T}/t/handlers/none", body=b"garbage"), "patchTopicHandler", 404)
    assert error_of(resp) == 'unknown handler: "none"'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "invalid patch json: unexpected end of JSON input"),
        (b"[", "invalid patch json: unexpected end of JSON input"),
        (b"[] x", "invalid patch json: invalid character 'x' after top-level value"),
        (b"{}", "invalid patch json: json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        (b'["add"]', "invalid patch json: json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
    ],
)
def test_invalid_patch_json(patchable: Api, body: bytes, message: str) -> None:
    assert patch_error(patchable, body, 400) == message


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        (
            [{"op": "remove", "path": "/options/nope"}],
            "error in remove for path: '/options/nope': Unable to remove nonexistent key: nope: missing value",
        ),
        (
            [{"op": "add", "path": "/nothing/x", "value": 1}],
            'add operation does not apply: doc is missing path: "/nothing/x": missing value',
        ),
        ([{"op": "add", "value": 1}], "add operation failed to decode path: missing value"),
        (
            [{"op": "replace", "value": 1}],
            "replace operation failed to decode path: operation missing path field: missing value",
        ),
        ([{"op": "frobnicate", "path": "/id"}], "Unexpected kind: frobnicate"),
        ([{"path": "/id"}], "Unexpected kind: unknown"),
        ([{"op": "test", "path": "/kind", "value": "smtp"}], "testing value /kind failed: test failed"),
        (
            [{"op": "test", "path": "/options/list", "value": [1.0, 2]}],
            "testing value /options/list failed: test failed",
        ),
        (
            [{"op": "add", "path": "/options/list/x", "value": 3}],
            "error in add for path: '/options/list/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            [{"op": "add", "path": "/options/list/5", "value": 3}],
            "error in add for path: '/options/list/5': Unable to access invalid index: 5: invalid index referenced",
        ),
        (
            [{"op": "move", "from": "/options/nope", "path": "/x"}],
            "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value",
        ),
        (
            [{"op": "copy", "path": "/x"}],
            "copy operation failed to decode from: operation, missing from field: missing value",
        ),
    ],
)
def test_failed_to_apply_patch(patchable: Api, ops: list[dict[str, Any]], message: str) -> None:
    assert patch_error(patchable, ops, 400) == f"failed to apply patch: {message}"
    # Nothing changed.
    assert patchable.get(H).json == handler("t", "h", "talk", {"channel": "#a", "list": [1, 2]})


def test_patch_library_quirks(patchable: Api) -> None:
    # `replace` of a missing object key adds it; arrays take `-` and negative indices (for add, -1
    # counts from the grown array, so it appends); a matching test passes.
    ops = [
        {"op": "test", "path": "/options/list", "value": [1, 2]},
        {"op": "replace", "path": "/options/new", "value": "n"},
        {"op": "add", "path": "/options/list/-", "value": 3},
        {"op": "add", "path": "/options/list/-1", "value": 9},
        {"op": "remove", "path": "/options/list/0"},
        {"op": "copy", "from": "/options/channel", "path": "/options/username"},
        {"op": "move", "from": "/options/new", "path": "/options/icon-emoji"},
    ]
    resp = check(patchable.patch(H, ops), "patchTopicHandler", 200)
    assert resp.json["options"] == {"channel": "#a", "icon-emoji": "n", "list": [2, 3, 9], "username": "#a"}


def test_patch_add_under_null_options_fails(api: Api) -> None:
    check(create(api, "t", {"id": "h", "kind": "slack"}), "createTopicHandler", 200)
    msg = patch_error(api, [{"op": "add", "path": "/options/channel", "value": "#a"}], 400)
    assert (
        msg
        == 'failed to apply patch: add operation does not apply: doc is missing path: "/options/channel": missing value'
    )
    resp = check(
        api.patch(H, [{"op": "add", "path": "/options", "value": {"channel": "#a"}}]), "patchTopicHandler", 200
    )
    assert resp.json["options"] == {"channel": "#a"}


def test_patch_cannot_change_topic(patchable: Api) -> None:
    msg = patch_error(patchable, [{"op": "replace", "path": "/topic", "value": "other"}], 500)
    assert msg == "failed to update handler: cannot change topic in update"
    # Removing the topic keeps the path's topic.
    check(patchable.patch(H, [{"op": "remove", "path": "/topic"}]), "patchTopicHandler", 200)


def test_patch_errors_after_applying(patchable: Api) -> None:
    msg = patch_error(patchable, [{"op": "replace", "path": "/id", "value": 5}], 500)
    assert (
        msg
        == "failed to unmarshal patched json: json: cannot unmarshal number into Go struct field HandlerSpec.id of type string"
    )
    msg = patch_error(patchable, [{"op": "replace", "path": "/id", "value": "bad id"}], 400)
    assert msg == f'invalid handler spec: handler ID {ID_RULE} "bad id"'
    msg = patch_error(patchable, [{"op": "replace", "path": "/kind", "value": "slack"}], 500)
    assert msg == _decode_error("slack.HandlerConfig", "'' has invalid keys: list").replace("create", "update")


def test_patch_can_rename(patchable: Api) -> None:
    resp = check(patchable.patch(H, [{"op": "replace", "path": "/id", "value": "renamed"}]), "patchTopicHandler", 200)
    assert resp.json["link"]["href"] == f"{T}/t/handlers/renamed"
    assert [h["id"] for h in patchable.get(f"{T}/t/handlers").json["handlers"]] == ["renamed"]


def test_concurrent_creates_of_one_id_give_one_success(api: Api) -> None:
    import threading

    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        resp = create(api, "race", {"id": "same", "kind": "slack"})
        with lock:
            results.append(resp.status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [500] * 7
