"""Fixtures that run the same HTTP tests in-process (Falcon's TestClient) and on a real waitress."""

from __future__ import annotations

import http.client
import json
import wsgiref.validate
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import falcon.testing
import pytest

from mockserver.app import MockApp, create_app
from mockserver.config import MockConfig
from mockserver.server import serve_in_thread
from tests.mock.spec_check import assert_matches_spec


def _content_type_as_go(status: str, headers: list[tuple[str, str]]) -> None:
    """Falcon's TestClient runs `wsgiref.validate`, whose Content-Type rule is not the real
    server's: Kapacitor labels its 204s as JSON and sends OPTIONS' empty 200 unlabelled. Every
    other wsgiref check stays on; the headers themselves are asserted by the tests."""
    wsgiref.validate.check_string_type(status, "Status")


wsgiref.validate.check_content_type = _content_type_as_go  # type: ignore[assignment]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    header_lists: dict[str, list[str]]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _HeaderRecorder:
    """The app's raw header list of the last call (the TestClient's result folds repeated names)."""

    def __init__(self, app: MockApp) -> None:
        self.app = app
        self.headers: list[tuple[str, str]] = []

    def __call__(self, env: dict[str, Any], start_response: Any) -> Any:
        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.headers = list(headers)
            return start_response(status, headers, exc_info)

        return self.app(env, recording)


class Api:
    """A tiny client with one interface over both transports; paths are sent exactly as given."""

    def __init__(self, app: MockApp, base_url: str | None = None) -> None:
        self.app = app
        self.base_url = base_url
        self._recorder = _HeaderRecorder(app)
        self._client = falcon.testing.TestClient(self._recorder) if base_url is None else None

    @property
    def state(self) -> Any:
        return self.app.mock_state

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if json_body is not None:
            body = json.dumps(json_body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        query = urlencode(params, doseq=True) if params else ""
        headers = dict(headers or {})
        if self._client is not None:
            result = self._client.simulate_request(method, path, query_string=query or None, body=body, headers=headers)
            lists: dict[str, list[str]] = {}
            for name, value in self._recorder.headers:
                lists.setdefault(name.lower(), []).extend(v.strip() for v in value.split(","))
            return Response(result.status_code, {k.lower(): v for k, v in result.headers.items()}, lists, result.content)
        assert self.base_url is not None
        host = self.base_url.split("//", 1)[1]
        conn = http.client.HTTPConnection(host, timeout=10)
        try:
            conn.request(method, path + (f"?{query}" if query else ""), body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
            lists = {}
            for name, value in raw.getheaders():
                lists.setdefault(name.lower(), []).extend(v.strip() for v in value.split(","))
            return Response(raw.status, {k: ", ".join(v) for k, v in lists.items()}, lists, data)
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, json_body=json_body, **kw)

    def patch(self, path: str, json_body: Any = None, **kw: Any) -> Response:
        return self.request("PATCH", path, json_body=json_body, **kw)

    def put(self, path: str, json_body: Any = None, **kw: Any) -> Response:
        return self.request("PUT", path, json_body=json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)


def error_of(resp: Response) -> str:
    """The error text of a JSON error body; since 1.6 `message` repeats `error` exactly."""
    body = resp.json
    assert body["error"] == body["message"]
    return body["error"]


def check(resp: Response, op_id: str, status: int) -> Response:
    """The status is the expected one and the body matches the spec's schema for it."""
    assert resp.status == status, (resp.status, resp.body)
    assert_matches_spec(op_id, status, resp.body)
    return resp


@pytest.fixture(params=["in-process", "waitress"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """A fresh mock per test, reached in-process or over a real socket."""
    app = create_app(MockConfig())
    if request.param == "in-process":
        yield Api(app)
        return
    handle = serve_in_thread(app)
    try:
        yield Api(app, handle.url)
    finally:
        handle.stop()


@pytest.fixture
def make_api() -> Iterator[Any]:
    """Build an in-process client for a custom configuration."""

    def build(**config: Any) -> Api:
        return Api(create_app(MockConfig(**config)))

    yield build
