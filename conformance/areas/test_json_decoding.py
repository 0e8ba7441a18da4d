"""Request bodies are decoded like Go's `encoding/json` (behaviour §1.7, §3.5, §4.4).

Only the first JSON value is read (trailing bytes are ignored), keys match struct fields
case-insensitively, the last of duplicate keys wins, enum strings must be exact (`""` included),
and the `type` a client sends for a task or template is ignored: the server infers it from the
TICKscript. Clients (and Kapacitor's own CLI) rely on all of these, so they are SHOULD.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.checks import SHOULD, check, expect_equal, expect_status
from conformance.context import Kap, stream_script, template_script
from conformance.target import Exchange

REF = "behaviour §1.7"
_CT = {"Content-Type": "application/json"}


def _post(kap: Kap, op: str, kind: str, raw: bytes, *ids: str) -> Exchange:
    for ident in ids:  # registered first: whatever the target makes of the body, it is cleaned up
        kap.registry.add(kind, ident)
    ex = kap.call(op, body=raw, headers=_CT)
    body = ex.json_or_none()
    if 200 <= ex.status < 300 and isinstance(body, dict) and isinstance(body.get("id"), str):
        kap.registry.add(kind, body["id"])
    return ex


def _task(kap: Kap, ident: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "script": stream_script(), "dbrps": [{"db": kap.suite.db, "rp": "autogen"}], **extra}


@check("json.trailing-data", SHOULD, REF, mutates=True)
def test_trailing_data(kap: Kap) -> None:
    """Bytes after the first JSON value are ignored (`json.Decoder.Decode`), not a 400."""
    tid = kap.uid("jt-")
    ex = _post(kap, "createTask", "task", json.dumps(_task(kap, tid)).encode() + b" trailing}", tid)
    body = kap.json_ok(ex, 200, "create task with trailing bytes after the JSON object", ref=REF)
    expect_equal(body.get("id"), tid, "created task id", ref=REF, exchange=ex)


@check("json.key-case", SHOULD, REF, mutates=True)
def test_key_case(kap: Kap) -> None:
    """Object keys match fields case-insensitively (`ID`, `Script`, `DBRPS`)."""
    tid = kap.uid("jk-")
    raw = json.dumps({"ID": tid, "Script": stream_script(), "DBRPS": [{"DB": kap.suite.db, "Rp": "autogen"}],
                      "STATUS": "disabled"}).encode()
    ex = _post(kap, "createTask", "task", raw, tid)
    body = kap.json_ok(ex, 200, "create task with upper/mixed-case keys", ref=REF)
    expect_equal(body.get("id"), tid, "created task id (from key `ID`)", ref=REF, exchange=ex)
    expect_equal(body.get("dbrps"), [{"db": kap.suite.db, "rp": "autogen"}], "dbrps (from key `DBRPS`)",
                 ref=REF, exchange=ex)


@check("json.duplicate-keys", SHOULD, REF, mutates=True)
def test_duplicate_keys(kap: Kap) -> None:
    """For a key given twice, the last value wins."""
    first, last = kap.uid("jd-"), kap.uid("jd-")
    rest = json.dumps(_task(kap, last))[1:]
    raw = f'{{"id": {json.dumps(first)}, {rest}'.encode()
    ex = _post(kap, "createTask", "task", raw, first, last)
    body = kap.json_ok(ex, 200, "create task with `id` given twice", ref=REF)
    expect_equal(body.get("id"), last, "created task id (the last `id` wins)", ref=REF, exchange=ex)


@check("json.enum-values", SHOULD, REF, mutates=True)
@pytest.mark.parametrize("value", ["Enabled", "", " disabled", "ENABLED"])
def test_enum_exact(kap: Kap, value: str) -> None:
    """An enum string other than the exact lower-case names (`""` included) is a decode error."""
    tid = kap.uid("je-")
    ex = _post(kap, "createTask", "task", json.dumps(_task(kap, tid, status=value)).encode(), tid)
    kap.error(ex, 400, "invalid JSON", what=f"create task with status {value!r}", ref=REF)


@check("json.enum-null", SHOULD, REF, mutates=True)
def test_enum_null(kap: Kap) -> None:
    """`null` for an enum field is no value at all: the task is created disabled."""
    tid = kap.uid("jn-")
    ex = _post(kap, "createTask", "task", json.dumps(_task(kap, tid, status=None)).encode(), tid)
    body = kap.json_ok(ex, 200, "create task with status null", ref=REF)
    expect_equal(body.get("status"), "disabled", "status of a task created with status null", ref=REF, exchange=ex)


@check("json.type-inferred", SHOULD, "behaviour §3.5", mutates=True)
@pytest.mark.parametrize("family", ["tasks", "templates"])
def test_request_type_ignored(kap: Kap, family: str) -> None:
    """The request's `type` is ignored: a stream script makes a stream task or template."""
    ident = kap.uid("ti-")
    if family == "tasks":
        ex = _post(kap, "createTask", "task", json.dumps(_task(kap, ident, type="batch")).encode(), ident)
    else:
        raw = json.dumps({"id": ident, "type": "batch", "script": template_script()}).encode()
        ex = _post(kap, "createTemplate", "template", raw, ident)
    expect_status(ex, 200, f"create {family[:-1]} with type batch and a stream script", ref="behaviour §3.5")
    body = kap.json_ok(ex, 200, ref="behaviour §3.5")
    expect_equal(body.get("type"), "stream", f"type of the created {family[:-1]} (inferred from the script)",
                 ref="behaviour §3.5", exchange=ex)


#: Malformed bodies and the words of Go's scanner for them (behaviour §1.7), as a replay create
#: answers them: it wraps nothing around the decoder's error.
_SYNTAX = (
    (b"fx", "invalid character 'x' in literal false (expecting 'a')"),
    (b"tru", "unexpected EOF"),
    (b"1.x", "invalid character 'x' after decimal point in numeric literal"),
    (b'{"task":-}', "invalid character '}' in numeric literal"),
    (b'{"id":1e400}', "json: cannot unmarshal number into Go struct field CreateReplayOptions.id of type string"),
)


@check("json.syntax-errors", SHOULD, REF)
def test_syntax_errors(kap: Kap) -> None:
    """A malformed body fails with Go's scanner words (a byte-level reader: `1.x` is no number, a
    body cut short is `unexpected EOF`), and a number too large for float64 in a string field is a
    type error, not a range error."""
    kap.need("createReplay")
    for raw, error in _SYNTAX:
        ex = _post(kap, "createReplay", "replay", raw)  # whatever a target makes of it is cleaned up
        expect_status(ex, 400, f"create replay with body {raw!r}", ref=REF)
        body = kap.json_object(ex, 400, f"create replay with body {raw!r}", ref=REF)
        expect_equal(body.get("error"), error, f"error for body {raw!r}", ref=REF, exchange=ex)
