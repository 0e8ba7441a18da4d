"""Headers: `X-Kapacitor-Version` on every response (api#ping), Request-Id and JSON Content-Type."""

from __future__ import annotations

import json
import re
import zlib

import pytest

from conformance._runner import run_case
from conformance.cases import CASES, Case, ids
from conformance.checks import MUST, SHOULD, check, expect
from conformance.context import Kap
from conformance.world import World

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Operations whose answers are not JSON by design (behaviour §1.3).
_NOT_JSON = {"backupStorage", "pprofIndex", "pprofProfile", "streamLogs"}

#: A release version (`1.5.7`, `v1.8.3`, `1.6.0~rc1`, `1.7.0-1`): digits, dots, an optional suffix.
VERSION = re.compile(r"v?[0-9]+\.[0-9]+(\.[0-9]+)?([-+~.][0-9A-Za-z.+~-]*)?")


@check("headers.version", MUST, "api#ping")
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_version_header(kap: Kap, world: World, case: Case) -> None:
    """Every response carries X-Kapacitor-Version with the server's version: a version number, not any text."""
    ex, _ = run_case(kap, world, case)
    values = ex.headers_all("X-Kapacitor-Version")
    expect(bool(values) and all(v == values[0] and v for v in values),
           f"{case.op} ({case.condition}): X-Kapacitor-Version header", expected=kap.suite.version_header,
           actual=values or "(absent)", ref="api#ping", exchange=ex)
    expect(values[0] == kap.suite.version_header, f"{case.op} ({case.condition}): same version as ping",
           expected=kap.suite.version_header, actual=values[0], ref="api#ping", exchange=ex)
    expect(VERSION.fullmatch(values[0]) is not None, f"{case.op} ({case.condition}): X-Kapacitor-Version is a version",
           expected="e.g. 1.5.7", actual=values[0], ref="api#ping", exchange=ex)


@check("headers.version-value", MUST, "api#ping")
def test_version_value(kap: Kap) -> None:
    """X-Kapacitor-Version holds a version number (clients gate features on it), not any text."""
    ex = kap.call("ping")
    value = ex.header("X-Kapacitor-Version") or ""
    expect(VERSION.fullmatch(value) is not None, "ping: X-Kapacitor-Version is a version", expected="e.g. 1.5.7",
           actual=value or "(absent)", ref="api#ping", exchange=ex)


@check("headers.request-id", SHOULD, "behaviour §1.3")
@pytest.mark.parametrize("case", CASES[:40], ids=ids(CASES[:40]))
def test_request_id(kap: Kap, world: World, case: Case) -> None:
    """Every routed response carries a Request-Id UUID."""
    ex, _ = run_case(kap, world, case)
    rid = ex.header("Request-Id") or ""
    expect(_UUID.fullmatch(rid) is not None, f"{case.op} ({case.condition}): Request-Id header",
           expected="a UUID", actual=rid or "(absent)", ref="behaviour §1.3", exchange=ex)


_JSON_CASES = [c for c in CASES if c.op not in _NOT_JSON and 204 not in c.expected()]
_NO_CONTENT_CASES = [c for c in CASES if c.op not in _NOT_JSON and 204 in c.expected()]


@check("headers.content-type", SHOULD, "behaviour §1.3")
@pytest.mark.parametrize("case", _JSON_CASES, ids=ids(_JSON_CASES))
def test_json_content_type(kap: Kap, world: World, case: Case) -> None:
    """JSON routes answer `application/json; charset=utf-8`, errors included."""
    _content_type(kap, world, case)


@check("headers.content-type-204", SHOULD, "behaviour §1.3")
@pytest.mark.parametrize("case", _NO_CONTENT_CASES, ids=ids(_NO_CONTENT_CASES))
def test_no_content_type(kap: Kap, world: World, case: Case) -> None:
    """Real Kapacitor labels even its bodiless 204 answers `application/json; charset=utf-8`."""
    _content_type(kap, world, case)


def _content_type(kap: Kap, world: World, case: Case) -> None:
    ex, _ = run_case(kap, world, case)
    ctype = (ex.header("Content-Type") or "").lower().replace(" ", "")
    expect(ctype == "application/json;charset=utf-8", f"{case.op} ({case.condition}): Content-Type",
           expected="application/json; charset=utf-8", actual=ex.header("Content-Type") or "(absent)",
           ref="behaviour §1.3", exchange=ex)


#: The most a compressed answer of this check may inflate to: its answers are a few hundred bytes.
_GUNZIP_LIMIT = 1 << 20


def _gunzip(data: bytes) -> bytes | None:
    """The gzip member `data` holds, bounded; None when it is not gzip or inflates past the limit."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, _GUNZIP_LIMIT)
    except zlib.error:
        return None
    return out if not inflater.unconsumed_tail else None


@check("headers.gzip", SHOULD, "behaviour §1.5")
def test_gzip(kap: Kap) -> None:
    """With `Accept-Encoding: gzip` answers are compressed (`Content-Encoding: gzip`), 204s included."""
    kap.need("ping", "listTasks")
    gz = {"Accept-Encoding": "gzip"}
    ex = kap.call("ping", headers=gz)
    expect(ex.status == 204 and ex.header("Content-Encoding") == "gzip", "GET ping accepting gzip: "
           "204 with Content-Encoding", expected="204, Content-Encoding: gzip",
           actual=f"{ex.status}, Content-Encoding: {ex.header('Content-Encoding') or '(absent)'}",
           ref="behaviour §1.5", exchange=ex)
    ex = kap.call("listTasks", query=[("pattern", kap.prefix + "*")], headers=gz)
    expect(ex.status == 200 and ex.header("Content-Encoding") == "gzip", "GET tasks accepting gzip: "
           "200 with Content-Encoding", expected="200, Content-Encoding: gzip",
           actual=f"{ex.status}, Content-Encoding: {ex.header('Content-Encoding') or '(absent)'}",
           ref="behaviour §1.5", exchange=ex)
    plain = _gunzip(ex.body)
    try:
        body = json.loads(plain) if plain is not None else None
    except ValueError:
        body = None
    expect(isinstance(body, dict) and isinstance(body.get("tasks"), list), "GET tasks accepting gzip: the "
           "body is a gzip stream of the task list", expected='gzip of {"tasks": [...]}', actual=ex.body[:60],
           ref="behaviour §1.5", exchange=ex)
