"""Handler PATCH on a 1.5.x mock: the 2016 evanphx/json-patch revision (30afec6a1650) that 1.5.x
vendors, with its own semantics and error texts. Every expected answer below is what a real
Kapacitor 1.5.7 answered for the same request on the same handler."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.store.jsonpatch import REV_30AFEC6, V4_9_0, library_for
from tests.mock.conftest import Api, Response, check

H = "/kapacitor/v1/alerts/topics/pt/handlers/h"
SPEC = {"id": "h", "kind": "log", "options": {"path": "/dev/null", "mode": 420}}
ACTIONS = {"op": "add", "path": "/actions", "value": [1, 2]}


def patched(make_api: Any, body: Any, version: str = "1.5.7") -> tuple[Api, Any]:
    api = make_api(kapacitor_version=version)
    check(api.post("/kapacitor/v1/alerts/topics/pt/handlers", SPEC), "createTopicHandler", 200)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api, api.patch(H, body=raw)


def error_of(resp: Response) -> str:
    return str(resp.json["error"])  # 1.5 has no `message`


def test_the_library_follows_the_version() -> None:
    assert library_for((1, 5, 0)) is REV_30AFEC6
    assert library_for((1, 5, 9)) is REV_30AFEC6
    assert library_for((1, 6, 0)) is V4_9_0  # 1.6.0 moved to Go modules and v4.9.0
    assert library_for((1, 8, 3)) is V4_9_0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'["add"]', "invalid patch json: json: cannot unmarshal string into Go value of type jsonpatch.operation"),
        (b"[1]", "invalid patch json: json: cannot unmarshal number into Go value of type jsonpatch.operation"),
        # No `copy` in this revision.
        ([{"op": "copy", "path": "/match", "from": "/topics"}], "failed to apply patch: Unexpected kind: copy"),
        ([None], "failed to apply patch: Unexpected kind: unknown"),
        (
            [{"op": "add", "path": "/actions/-", "value": 1.5}],
            "failed to apply patch: jsonpatch add operation does not apply: doc is missing path: /actions/-",
        ),
        (
            [{"op": "remove", "path": "/options~1path"}],
            "failed to apply patch: Unable to remove nonexistent key: options/path",
        ),
        (
            [{"op": "remove", "path": "/id/0"}],
            "failed to apply patch: jsonpatch remove operation does not apply: doc is missing path: /id/0",
        ),
        ([ACTIONS, {"op": "remove", "path": "/actions/2"}], "failed to apply patch: Unable to remove invalid index: 2"),
        (
            [ACTIONS, {"op": "add", "path": "/actions/x", "value": 9}],
            'failed to apply patch: strconv.Atoi: parsing "x": invalid syntax',
        ),
        (
            [ACTIONS, {"op": "test", "path": "/actions/9", "value": 1}],
            "failed to apply patch: Unable to access invalid index: 9",
        ),
        (
            [ACTIONS, {"op": "replace", "path": "/actions/9223372036854775807", "value": 1}],
            "failed to apply patch: Unable to access invalid index: 9223372036854775807",
        ),
        (
            [{"op": "move", "from": "/options/zz", "path": "/x"}],
            "failed to apply patch: Unable to remove nonexistent key: zz",
        ),
        (
            [{"op": "move", "from": "/nope/zz"}],  # `path` is never read: the source is missing first
            "failed to apply patch: jsonpatch move operation does not apply: doc is missing from path: /nope/zz",
        ),
        (
            [{"op": "move", "from": "/options", "path": "/options/x"}],  # removed before the target is found
            "failed to apply patch: jsonpatch move operation does not apply: doc is missing destination path: /options/x",
        ),
        (
            [{"op": "test", "path": "/options/path/x", "value": 1}],
            "failed to apply patch: jsonpatch test operation does not apply: is missing path: /options/path/x",
        ),
        (
            [{"op": "test", "path": "/options/mode", "value": 420.0}],
            "failed to apply patch: Testing value /options/mode failed",
        ),
        (
            [{"op": "test", "path": "/options", "value": {"path": "/dev/null"}}],
            "failed to apply patch: Testing value /options failed",
        ),
        (
            [ACTIONS, {"op": "test", "path": "/actions", "value": [1, 2, 3]}],
            "failed to apply patch: Testing value /actions failed",
        ),
        # Scalars compare by their JSON text: escapes the stored text does not have never match.
        (
            b'[{"op":"test","path":"/options/path","value":"\\/dev\\/null"}]',
            "failed to apply patch: Testing value /options/path failed",
        ),
        (b'[{"op":"test","path":"/id","value":"\\u0068"}]', "failed to apply patch: Testing value /id failed"),
        (
            b'[{"op":"add","path":"/match","value":"a<b"},{"op":"test","path":"/match","value":"a\\u003cb"}]',
            "failed to apply patch: Testing value /match failed",
        ),
        # A test of an object looks only at the stored keys: the extra one passes, the next test fails.
        (
            [
                {"op": "test", "path": "/options", "value": {**SPEC["options"], "extra": 1}},
                {"op": "test", "path": "/match", "value": "x"},
            ],  # type: ignore[dict-item]
            "failed to apply patch: Testing value /match failed",
        ),
        # `replace` past the end of an array pads it with nulls.
        (
            [
                ACTIONS,
                {"op": "replace", "path": "/actions/4", "value": 3},
                {"op": "test", "path": "/actions/3", "value": None},
                {"op": "test", "path": "/actions/4", "value": 3},
                {"op": "test", "path": "/actions/5", "value": 1},
            ],
            "failed to apply patch: Unable to access invalid index: 5",
        ),
    ],
)
def test_failed_patches_answer_as_1_5_7(make_api: Any, body: Any, message: str) -> None:
    api, resp = patched(make_api, body)
    assert error_of(check(resp, "patchTopicHandler", 400)) == message
    assert api.get(H).json["options"] == SPEC["options"]


@pytest.mark.parametrize(
    "ops",
    [
        [
            ACTIONS,
            {"op": "add", "path": "/actions/2", "value": 9},
            {"op": "test", "path": "/actions", "value": [1, 2, 9]},
        ],
        [
            ACTIONS,
            {"op": "add", "path": "/actions/+1", "value": 9},
            {"op": "test", "path": "/actions", "value": [1, 9, 2]},
        ],
        # move sets its target: into an array past its end it pads.
        [
            ACTIONS,
            {"op": "move", "from": "/actions/0", "path": "/actions/5"},
            {"op": "test", "path": "/actions/5", "value": 1},
        ],
        [{"op": "add", "path": "/x"}, {"op": "test", "path": "/x", "value": None}],
        [
            {"op": "replace", "path": "/zz", "value": 1},
            {"op": "test", "path": "/zz", "value": 1},
            {"op": "remove", "path": "/zz"},
        ],
        [
            {"op": "test", "path": "/", "value": None},
            {"op": "add", "path": "/", "value": 1},
            {"op": "test", "path": "/", "value": 1},
        ],
    ],
)
def test_patches_that_pass_on_1_5_7(make_api: Any, ops: list[dict[str, Any]]) -> None:
    _, resp = patched(make_api, ops)
    check(resp, "patchTopicHandler", 200)


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "replace", "value": ""}],  # no path: "unknown" has no `/`
        [{"op": "add", "path": "", "value": 1}],
        [{"op": "test", "path": 3, "value": 1}],
        [{"op": None, "path": "/x"}],
        [{"op": "test", "path": "/options/path"}],  # no value
        [{"op": "test", "path": "/options/zz"}],
        [{"op": "test", "path": "/options/path", "value": None}],  # a null value has no text
        [{"op": "add", "path": "/options/n", "value": None}, {"op": "add", "path": "/options/n/x", "value": 1}],
        [{"op": "add", "path": "/actions", "value": [1, None]}, {"op": "test", "path": "/actions", "value": [1, None]}],
        [ACTIONS, {"op": "remove", "path": "/actions/-1"}],
        [ACTIONS, {"op": "add", "path": "/actions/3", "value": 1}],
    ],
)
def test_what_drops_the_connection_on_1_5_7_is_a_500_here(make_api: Any, ops: list[dict[str, Any]]) -> None:
    api, resp = patched(make_api, ops)
    assert resp.status == 500 and error_of(resp).startswith("failed to apply patch: runtime error: ")
    assert api.get(H).json["options"] == SPEC["options"]


@pytest.mark.parametrize("version", ["1.6.0", "1.8.3"])
def test_later_versions_keep_v4_9_0(make_api: Any, version: str) -> None:
    _, resp = patched(make_api, [{"op": "remove", "path": "/options~1path"}], version)
    assert resp.json["message"] == error_of(resp)
    assert error_of(check(resp, "patchTopicHandler", 400)) == (
        "failed to apply patch: error in remove for path: '/options~1path': "
        "Unable to remove nonexistent key: options/path: missing value"
    )
    _, resp = patched(make_api, [{"op": "copy", "path": "/match", "from": "/match"}], version)
    check(resp, "patchTopicHandler", 200)
