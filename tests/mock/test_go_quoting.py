"""Go's own wording where a request's bytes show up in an error, as a real Kapacitor 1.5.7 answers.

Each expected answer here was measured on a real 1.5.7 (built with Go 1.19): time.Parse's errors
(range errors, the element that failed, the value's remaining text), time.Time's UnmarshalJSON quoting
the JSON token exactly as sent, invalid UTF-8 bytes kept as bytes (`\\xff` in %q, raw in /write's text
errors, one `\\ufffd` escape per byte in JSON).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import serve_in_thread
from tests.mock.conftest import Api

R = "/kapacitor/v1/recordings"
T = "/kapacitor/v1/alerts/topics"
LAYOUT = 'as "\\"2006-01-02T15:04:05Z07:00\\"": cannot parse'


@pytest.fixture
def api() -> Api:
    return Api(create_app(MockConfig(kapacitor_version="1.5.7")))


def error_body(api: Api, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    resp = api.request(method, path, body=body)
    return resp.status, resp.json


# ---- time.Time's UnmarshalJSON: Parse(`"` + RFC3339 + `"`, token as sent) -------------------------

TIME_ERRORS = [
    # A value that fits the layout but not a field's range: the field's name, checked field by
    # field; the day against its month (and February 29 against the year) once all else parsed.
    ("batch", "start", b'"2024-01-01T12:99:00Z"', 'parsing time "\\"2024-01-01T12:99:00Z\\"": minute out of range'),
    ("batch", "start", b'"2024-13-01T12:00:00Z"', 'parsing time "\\"2024-13-01T12:00:00Z\\"": month out of range'),
    ("batch", "stop", b'"2024-00-01T12:00:00Z"', 'parsing time "\\"2024-00-01T12:00:00Z\\"": month out of range'),
    ("batch", "start", b'"2023-02-29T12:00:00Z"', 'parsing time "\\"2023-02-29T12:00:00Z\\"": day out of range'),
    ("batch", "start", b'"2024-04-31T12:00:00Z"', 'parsing time "\\"2024-04-31T12:00:00Z\\"": day out of range'),
    ("batch", "start", b'"2024-01-00T12:00:00Z"', 'parsing time "\\"2024-01-00T12:00:00Z\\"": day out of range'),
    ("stream", "stop", b'"2024-01-01T24:00:00Z"', 'parsing time "\\"2024-01-01T24:00:00Z\\"": hour out of range'),
    ("stream", "stop", b'"2024-01-01T12:00:60Z"', 'parsing time "\\"2024-01-01T12:00:60Z\\"": second out of range'),
    ("stream", "stop", b'"2024-13-45T25:99:99Z"', 'parsing time "\\"2024-13-45T25:99:99Z\\"": month out of range'),
    ("stream", "stop", b'"2024-02-30T12:99:00Z"', 'parsing time "\\"2024-02-30T12:99:00Z\\"": minute out of range'),
    # A value that does not fit: the layout element and what was left of the value at that point.
    ("stream", "stop", b'"2024-01-01t12:00:00Z"', f'parsing time "\\"2024-01-01t12:00:00Z\\"" {LAYOUT} "t12:00:00Z\\"" as "T"'),
    ("stream", "stop", b'"2024-01-01T12:00:00z"', f'parsing time "\\"2024-01-01T12:00:00z\\"" {LAYOUT} "z\\"" as "Z07:00"'),
    ("stream", "stop", b'"2024-01-01T12:00:00.Z"', f'parsing time "\\"2024-01-01T12:00:00.Z\\"" {LAYOUT} ".Z\\"" as "Z07:00"'),
    ("stream", "stop", b'"2a24-01-01T12:00:00Z"', f'parsing time "\\"2a24-01-01T12:00:00Z\\"" {LAYOUT} "-01-01T12:00:00Z\\"" as "2006"'),
    ("stream", "stop", b'"2024-1-01T12:00:00Z"', f'parsing time "\\"2024-1-01T12:00:00Z\\"" {LAYOUT} "1-01T12:00:00Z\\"" as "01"'),
    ("stream", "stop", b'"2024-01-01T12:00:00"', f'parsing time "\\"2024-01-01T12:00:00\\"" {LAYOUT} "\\"" as "Z07:00"'),
    ("stream", "stop", b'"2024-01-01T12:00:00+0100"', f'parsing time "\\"2024-01-01T12:00:00+0100\\"" {LAYOUT} "+0100\\"" as "Z07:00"'),
    ("stream", "stop", b'"2024-01-01T12:00:00+01:0a"', f'parsing time "\\"2024-01-01T12:00:00+01:0a\\"" {LAYOUT} "\\"" as "Z07:00"'),
    ("stream", "stop", b'"2024-01-01T123:00:00Z"', f'parsing time "\\"2024-01-01T123:00:00Z\\"" {LAYOUT} "3:00:00Z\\"" as ":"'),
    ("stream", "stop", b'"2024-01-01T12:00:00Z "', f'parsing time "\\"2024-01-01T12:00:00Z \\"" {LAYOUT} " \\"" as "\\""'),
    # The token as sent: escapes kept, every byte outside printable ASCII as \xNN (time's own quote).
    ("stream", "stop", b'"bwt\\u00c5"', f'parsing time "\\"bwt\\\\u00c5\\"" {LAYOUT} "bwt\\\\u00c5\\"" as "2006"'),
    ("stream", "stop", b'"\xf1\x95\xbd"', f'parsing time "\\"\\xf1\\x95\\xbd\\"" {LAYOUT} "\\xf1\\x95\\xbd\\"" as "2006"'),
    ("stream", "stop", b'"\xc3\x85"', f'parsing time "\\"\\xc3\\x85\\"" {LAYOUT} "\\xc3\\x85\\"" as "2006"'),
    ("stream", "stop", b'"\xef\xbf\xbd"', f'parsing time "\\"\\xef\\xbf\\xbd\\"" {LAYOUT} "\\xef\\xbf\\xbd\\"" as "2006"'),
    ("stream", "stop", b'"a\\"b"', f'parsing time "\\"a\\\\\\"b\\"" {LAYOUT} "a\\\\\\"b\\"" as "2006"'),
    ("stream", "stop", b"[1, 2]", f'parsing time "[1, 2]" {LAYOUT} "[1, 2]" as "\\""'),
    ("stream", "stop", b'{"a": 1}', f'parsing time "{{\\"a\\": 1}}" {LAYOUT} "{{\\"a\\": 1}}" as "\\""'),
    ("stream", "stop", b"[1,\n2]", f'parsing time "[1,\\x0a2]" {LAYOUT} "[1,\\x0a2]" as "\\""'),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "field", "token", "error"), TIME_ERRORS)
def test_recording_time_errors(api: Api, kind: str, field: str, token: bytes, error: str) -> None:
    body = b'{"task":"x","' + field.encode() + b'":' + token + b"}"
    assert error_body(api, "POST", f"{R}/{kind}", body) == (400, {"error": error})


@pytest.mark.parametrize(
    "token",
    [
        b'"2024-02-29T12:00:00Z"',
        b'"2024-01-01T1:00:00Z"',  # the hour may have one digit
        b'"2024-01-01T12:00:00+99:99"',  # the offset's range is not checked
        b'"2024-01-01T12:00:00+-1:00"',  # nor its sign
        b'"2024-01-01T12:00:00,5Z"',
        b'"2024-01-01T12:00:00.1234567891234Z"',
        b'"0000-02-29T12:00:00Z"',
    ],
)
def test_recording_times_go_accepts(api: Api, token: bytes) -> None:
    body = b'{"task":"x","stop":' + token + b"}"
    assert error_body(api, "POST", f"{R}/stream", body) == (404, {"error": "no task exists"})


@pytest.mark.parametrize("field", ["start", "stop"])
def test_replay_batch_times(api: Api, field: str) -> None:
    body = b'{"task":"x","' + field.encode() + b'":"2024-01-01T12:00:60Z"}'
    error = 'parsing time "\\"2024-01-01T12:00:60Z\\"": second out of range'
    assert error_body(api, "POST", "/kapacitor/v1/replays/batch", body) == (400, {"error": error})


def test_the_time_error_stops_decoding(api: Api) -> None:
    """A type mismatch is noted and decoding goes on; the time's own error ends it and wins."""
    body = b'{"task":1,"start":"x","id":2}'
    error = f'parsing time "\\"x\\"" {LAYOUT} "x\\"" as "2006"'
    assert error_body(api, "POST", f"{R}/batch", body) == (400, {"error": error})
    # Every duplicate is decoded in turn: the first bad one ends it.
    assert error_body(api, "POST", f"{R}/batch", b'{"start":"x","START":"y"}') == (400, {"error": error})


@pytest.mark.parametrize(
    ("service", "field", "token", "error"),
    [
        ("discord", "time-val", b'"2024-01-01T12:99:00Z"', 'parsing time "\\"2024-01-01T12:99:00Z\\"": minute out of range'),
        ("pagerduty2", "timestamp", b"[1, 2]", f'parsing time "[1, 2]" {LAYOUT} "[1, 2]" as "\\""'),
        ("pagerduty2", "timestamp", b"12", f'parsing time "12" {LAYOUT} "12" as "\\""'),
        ("discord", "time-val", b'"bwt\\u00c5"', f'parsing time "\\"bwt\\\\u00c5\\"" {LAYOUT} "bwt\\\\u00c5\\"" as "2006"'),
    ],
)  # fmt: skip
def test_service_test_times(api: Api, service: str, field: str, token: bytes, error: str) -> None:
    body = b'{"level":1,"' + field.encode() + b'":' + token + b"}"
    path = "/kapacitor/v1/service-tests/" + service
    assert error_body(api, "POST", path, body) == (400, {"error": "failed to decode JSON body:" + error})


# ---- invalid UTF-8 in path segments: kept as bytes ------------------------------------------------

@pytest.fixture
def served() -> Iterator[Api]:
    """Over a socket: the in-process client decodes `%FF` itself (to U+FFFD) before the app sees it."""
    app = create_app(MockConfig(kapacitor_version="1.5.7"))
    handle = serve_in_thread(app)
    try:
        yield Api(app, handle.url)
    finally:
        handle.stop()


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", f"{T}/%FF", 404, b'{\n    "error": "unknown topic: \\"\\\\xff\\""\n}'),
        ("GET", f"{T}/a%C3%85%FF", 404, b'{\n    "error": "unknown topic: \\"a\xc3\x85\\\\xff\\""\n}'),
        ("GET", f"{T}/%FF/events", 500, b'{\n    "error": "failed to get topic events: unknown topic \\"\\\\xff\\""\n}'),
        ("GET", f"{T}/%FF/events/%FE", 404, b'{\n    "error": "unknown event \\"\\\\xfe\\" in topic \\"\\\\xff\\""\n}'),
        ("GET", f"{T}/%FF/handlers/%FE", 404, b'{\n    "error": "unknown handler: \\"\\\\xfe\\""\n}'),
        ("GET", f"{T}/a/handlers/%FF%FE", 404, b'{\n    "error": "unknown handler: \\"\\\\xff\\\\xfe\\""\n}'),
        (
            "GET",
            f"{T}/%FF/handlers",
            200,
            b'{\n    "link": {\n        "rel": "self",\n        "href": "/kapacitor/v1/alerts/topics/%FF/handlers"\n    },'
            b'\n    "topic": "\\ufffd",\n    "handlers": []\n}',
        ),
        ("GET", "/kapacitor/v1/service-tests/%FF", 404, b'{\n    "error": "service \\"\\\\xff\\" not found"\n}'),
        ("GET", "/kapacitor/v1/config/%FF", 404, b'{\n    "error": "unknown section: \\ufffd"\n}'),
        ("GET", "/kapacitor/v1/config/influxdb/%FF", 404, b'{\n    "error": "unknown section/element: influxdb/\\ufffd"\n}'),
        (
            "POST",
            "/kapacitor/v1/config/influxdb/%FF",
            400,
            b'{\n    "error": "failed to apply update: invalid update action: invalid element name \\"\\\\xff\\""\n}',
        ),
        ("GET", "/kapacitor/v1/tasks/%FF", 404, b'{\n    "error": "no task exists"\n}'),
        ("GET", f"{T}/%FF//handlers", 301, b'<a href="/kapacitor/v1/alerts/topics/%FF/handlers">Moved Permanently</a>.\n\n'),
    ],
)
def test_invalid_bytes_in_the_path(served: Api, method: str, path: str, status: int, body: bytes) -> None:
    resp = served.request(method, path, body=b'{"set":{"a":1}}' if method == "POST" else None)
    assert (resp.status, resp.body) == (status, body)


# ---- invalid UTF-8 in /write's text errors: the line's bytes as sent -------------------------------


@pytest.mark.parametrize(
    ("lines", "answer"),
    [
        (b"cpu,h=\xf1\x95\xbd v= 1\n", b"unable to parse 'cpu,h=\xf1\x95\xbd v= 1': missing field value\n"),
        (
            b"cpu,h=\xf1\x95\xbd v= 1\n\xff\xfe x=\n",
            b"unable to parse 'cpu,h=\xf1\x95\xbd v= 1': missing field value\nunable to parse '\xff\xfe x=': missing field value\n",
        ),
        (b'c\xffpu v="\xff\n', b"unable to parse 'c\xffpu v=\"\xff': unbalanced quotes\n"),
        (b"cpu,a=\xff v=1,b=2i 12x\n", b"unable to parse 'cpu,a=\xff v=1,b=2i 12x': bad timestamp\n"),
    ],
)
def test_write_errors_keep_the_bytes(api: Api, lines: bytes, answer: bytes) -> None:
    resp = api.request("POST", "/kapacitor/v1/write?db=d&rp=r", body=lines)
    assert (resp.status, resp.body) == (400, answer)


# ---- Go's JSON encoder: one `\ufffd` escape per invalid byte ---------------------------------------

SPLIT_RUNE = (
    b'{\n    "error": "failed to create handler: invalid match expression: parser: unexpected unknown state,'
    b" last char: '\\\\u0095' line 1 char 1 in \\\"\xc2\x95\xc3\x81c\xc2\xbf\\ufffd\\ufffd\\ufffd\\\". expected:"
    b' \\"number\\",\\"string\\",\\"duration\\",\\"identifier\\",\\"TRUE\\",\\"FALSE\\",\\"==\\",\\"(\\",\\"-\\",\\"!\\""\n}'
)


def test_a_parse_error_snippet_cut_inside_a_rune(api: Api) -> None:
    """The snippet is cut at byte offsets: the 3 bytes left of a 4-byte rune are 3 invalid bytes."""
    body = b'{"id": "h", "match": "\\u0095\\u00c1c\\u00bf\\ud916\\udf4e", "kind": "slack"}'
    resp = api.request("POST", f"{T}/t/handlers", body=body)
    assert (resp.status, resp.body) == (500, SPLIT_RUNE)


def test_a_tickscript_snippet_cut_on_both_sides(api: Api) -> None:
    script = "stream|from()  \\u00e9\\u00e9\\u00e9\\u00e9\\u00e9 ^ \\u4e2d\\u4e2d\\u4e2d\\u4e2d"
    body = b'{"id": "tt", "type": "stream", "dbrps": [{"db": "a", "rp": "b"}], "script": "' + script.encode() + b'"}'
    resp = api.request("POST", "/kapacitor/v1/tasks", body=body)
    snippet = b"\\ufffd\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 ^ \xe4\xb8\xad\xe4\xb8\xad\\ufffd\\ufffd"
    assert resp.status == 400
    assert b"line 1 char 27 in \\\"" + snippet + b"\\\". expected:" in resp.body


# ---- query parameters quoted in errors keep their bytes too ----------------------------------------

PARSE_INT = 'must be an integer: strconv.ParseInt: parsing {q}: invalid syntax'


@pytest.mark.parametrize(("query", "error"), [
    ("/kapacitor/v1/tasks?limit=%FF",
     'invalid limit parameter "\\xff" ' + PARSE_INT.format(q='"\\xff"')),
    ("/kapacitor/v1/templates?offset=%F1%95%BD",
     'invalid offset parameter "\\xf1\\x95\\xbd" ' + PARSE_INT.format(q='"\\xf1\\x95\\xbd"')),
    ("/kapacitor/v1/tasks?dot-view=%FF", 'invalid dot-view parameter "\\xff"'),
    ("/kapacitor/v1/tasks?script-format=a%FF", 'invalid script-format parameter "a\\xff"'),
])
def test_query_values_quoted_as_sent(api: Api, query: str, error: str) -> None:
    assert error_body(api, "GET", query) == (400, {"error": error})
