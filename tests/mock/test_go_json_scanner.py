"""Syntax errors and out-of-range numbers in bodies decoded with Go's json.Decoder.

Every expected text below is what a real Kapacitor 1.5.7 answered to the same body (the handlers
that decode with a Decoder answer the scanner's own words; tasks and templates answer `invalid
JSON` for any of them). Python's decoder refuses the same bodies with other words, or reads `1.x`
as the number 1, which is why the mock runs Go's scanner (mockserver/goscan.py)."""

from __future__ import annotations

import pytest

from mockserver import goscan
from mockserver.app import create_app
from mockserver.config import MockConfig
from tests.mock.conftest import Api

#: body -> the error a Decoder-based handler answers (after its own prefix)
SYNTAX = [
    (b"f\xa3", "invalid character '\u00a3' in literal false (expecting 'a')"),
    (b"fx", "invalid character 'x' in literal false (expecting 'a')"),
    (b"tru", "unexpected EOF"),
    (b"nulx", "invalid character 'x' in literal null (expecting 'l')"),
    (b"nan", "invalid character 'a' in literal null (expecting 'u')"),
    (b"-R", "invalid character 'R' in numeric literal"),
    (b"-", "unexpected EOF"),
    (b"1.x", "invalid character 'x' after decimal point in numeric literal"),
    (b"1ex", "invalid character 'x' in exponent of numeric literal"),
    (b'{"a":fals}', "invalid character '}' in literal false (expecting 'e')"),
    (b'{"a":-}', "invalid character '}' in numeric literal"),
    (b'"abc', "unexpected EOF"),
    (b"[" * 120, "unexpected EOF"),  # Go's depth limit is 10000: a short body ends first
]


@pytest.fixture
def api() -> Api:
    return Api(create_app(MockConfig(kapacitor_version="1.5.7")))


@pytest.mark.parametrize(("body", "error"), SYNTAX, ids=[repr(b[:12]) for b, _ in SYNTAX])
@pytest.mark.parametrize(("path", "prefix"), [
    ("/kapacitor/v1/recordings/stream", ""),
    ("/kapacitor/v1/replays", ""),
    ("/kapacitor/v1/alerts/topics/t/handlers", "invalid handler json: "),
    ("/kapacitor/v1/storage/stores/tasks", "failed to unmarshal storage action "),
])
def test_syntax_errors_use_the_scanner_words(api: Api, path: str, prefix: str, body: bytes, error: str) -> None:
    resp = api.post(path, body=body, headers={"Content-Type": "application/json"})
    assert (resp.status, resp.json) == (400, {"error": prefix + error})


@pytest.mark.parametrize(("path", "body", "status", "error"), [
    # a string field refuses any number: no range error
    ("/kapacitor/v1/recordings/batch", b'{"id":1e400}', 400,
     "json: cannot unmarshal number into Go struct field RecordBatchOptions.id of type string"),
    # an unknown field is never decoded
    ("/kapacitor/v1/storage/stores/tasks", b'{"id":1e400}', 400, 'unkown storage action "unknown StorageAction 0"'),
    ("/kapacitor/v1/tasks", b'{"task":"x","stop":1e400}', 400, "must provide TICKscript"),
    ("/kapacitor/v1/loglevel", b'{"id":1e400}', 400, "invalid log level"),
    # inside an interface{} map the range error names the field
    ("/kapacitor/v1/alerts/topics/t/handlers", b'{"id":"h","kind":"log","options":{"a":[1,{"b":1e400}]}}', 400,
     "invalid handler json: json: cannot unmarshal number 1e400 into Go struct field HandlerSpec.options of type float64"),
    # ... unless the field refuses the value's kind first
    ("/kapacitor/v1/alerts/topics/t/handlers", b'{"id":"h","kind":"log","options":[1e400]}', 400,
     "invalid handler json: json: cannot unmarshal array into Go struct field HandlerSpec.options of type "
     "map[string]interface {}"),
    ("/kapacitor/v1/loglevel", b"[1e400]", 400,
     "invalid json: json: cannot unmarshal array into Go value of type client.LogLevelOptions"),
    ("/kapacitor/v1/loglevel", b"1e400", 400,
     "invalid json: json: cannot unmarshal number into Go value of type client.LogLevelOptions"),
])
def test_numbers_beyond_float64_are_judged_by_the_field(api: Api, path: str, body: bytes, status: int,
                                                        error: str) -> None:
    resp = api.post(path, body=body, headers={"Content-Type": "application/json"})
    assert (resp.status, resp.json) == (status, {"error": error})


@pytest.mark.parametrize(("body", "end"), [
    (b"1x", 1), (b"01", 1), (b" 1.5e+3 ", 7), (b'{"a":[1,{"b":null}],"c":"\\u00e9"} x', 33), (b"[]]", 2),
    (b'"\xff"', 3), (b"true false", 4),
])
def test_the_first_value_ends_where_go_ends_it(body: bytes, end: int) -> None:
    assert goscan.first_value_end(body) == end


def test_the_scanner_walks_deep_documents_without_recursion() -> None:
    deep = b"[" * 9000 + b"]" * 9000
    assert goscan.first_value_end(deep) == len(deep)
    with pytest.raises(goscan.ScanError, match="exceeded max depth"):
        goscan.first_value_end(b"[" * 10001)
