"""`create_app()`: the Falcon WSGI app of the mock, with Kapacitor's global HTTP behaviour.

Falcon's own router would answer 405s and merge trailing slashes differently from Kapacitor's Go
mux, so the app has a single sink that applies the server's wrappers (path cleaning, v1preview
rewrite, CORS, OPTIONS short-circuit, version/request-id/content-type headers, error format) and
dispatches through `routing.Router`, whose table comes from the spec.
"""

from __future__ import annotations

import gzip
import itertools
import logging
import random
import re
import time
from typing import Any
from urllib.parse import quote

import falcon

from mockserver import auth, gojson, operations
from mockserver.config import MockConfig
from mockserver.errors import AuthFailure, HttpError
from mockserver.gotext import go_bytes
from mockserver.operations.registry import CONTROL, CONTROL_PREFIX, HANDLERS, Call, Reply
from mockserver.render import BASE, PREVIEW, error_answer, error_body, go_clean_path
from mockserver.routing import Router
from mockserver.store import MockState
from spec import operations as spec_operations

log = logging.getLogger("kapacitor-mock")
_PARAM = re.compile(r"\{(\w+)\}")
JSON_TYPE = "application/json; charset=utf-8"
ROUTED_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"})
CORS_HEADERS = (
    ("Access-Control-Allow-Methods", "DELETE, GET, OPTIONS, POST, PATCH"),
    (
        "Access-Control-Allow-Headers",
        "Accept, Accept-Encoding, Authorization, Content-Length, Content-Type, X-CSRF-Token, X-HTTP-Method-Override",
    ),
)


_NODE = random.getrandbits(48) | (1 << 40)  # a random node ID with the multicast bit, as RFC 4122 allows
_UUID_EPOCH = 0x01B21DD213814000
_seq = itertools.count(random.getrandbits(14))


def request_id() -> str:
    """A time-based (v1) UUID like the real server's Request-Id, without uuid1()'s system call."""
    ts = time.time_ns() // 100 + _UUID_EPOCH
    seq = (next(_seq) & 0x3FFF) | 0x8000
    return (
        f"{ts & 0xFFFFFFFF:08x}-{(ts >> 32) & 0xFFFF:04x}-{((ts >> 48) & 0x0FFF) | 0x1000:04x}-"
        f"{seq:04x}-{_NODE:012x}"
    )


def request_path(req: falcon.Request) -> str:
    """The unescaped path as a Go string: PATH_INFO's bytes (tunnelled as latin-1), UTF-8, with an
    invalid byte kept as a surrogate escape (gotext's convention) where Falcon's `req.path` has
    U+FFFD, so `%FF` in an ID quotes as `"\\xff"` and encodes as a `\\ufffd` escape, as in Go."""
    path: str = req.env.get("PATH_INFO") or "/"
    if path.isascii():
        return path
    return path.encode("iso-8859-1").decode("utf-8", "surrogateescape")


class KapacitorSink:
    """Every request enters here; see the module docstring for why Falcon's router is not used."""

    def __init__(self, config: MockConfig, state: MockState) -> None:
        self.config = config
        self.state = state
        self.router = Router(spec_operations(), HANDLERS, operations.claimed(config))
        self._not_found = gojson.dumps_pretty(error_body("Not Found", config.at_least_1_6))
        self._control = [
            (method, re.compile(_PARAM.sub(r"(?P<\1>[^/]+)", re.escape(t).replace(r"\{", "{").replace(r"\}", "}")) + r"\Z"), h)
            for (method, t), h in CONTROL.items()
        ]

    def __call__(self, req: falcon.Request, resp: falcon.Response, **_: Any) -> None:
        method = req.method
        if method not in ROUTED_METHODS:
            # Outside the per-method muxes: a bare 404 with none of the wrappers.
            resp.status = 404
            resp.content_type = "text/plain; charset=utf-8"
            resp.data = self._not_found
            return
        path = request_path(req)
        if ("//" in path or "/." in path) and (cleaned := go_clean_path(path)) != path:
            # Go's url.URL.String() escapes the path (control bytes, spaces, non-ASCII).
            location = quote(go_bytes(cleaned), safe="/!$&'()*+,;=:@[]-._~") + ("?" + req.query_string if req.query_string else "")
            resp.status = 301
            resp.set_header("Location", location)
            resp.content_type = "text/html; charset=utf-8"
            resp.data = f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
            return
        resp.set_header("Request-Id", request_id())
        origin = req.get_header("Origin")
        if origin:
            resp.set_header("Access-Control-Allow-Origin", origin)
            for name, value in CORS_HEADERS:
                resp.set_header(name, value)
        if method == "OPTIONS":
            # Real: 200, empty body, `Content-Length: 0`, no Content-Type (Go sniffs nothing from no body).
            resp.status = 200
            resp.content_type = None
            resp.data = b""
            return
        version = self.config.kapacitor_version
        if self._auth_fails(req, resp, path):
            return
        resolved = self.router.resolve(method, path)
        if resolved is None and path.startswith(CONTROL_PREFIX):
            resolved = self._resolve_control(method, path)
        if resolved is None and path.startswith(PREVIEW + "/"):
            path = path.replace(PREVIEW, BASE, 1)
            resp.append_header("X-Kapacitor-Version", version)
            if self._auth_fails(req, resp, path):
                return
            resolved = self.router.resolve(method, path)
        resp.append_header("X-Kapacitor-Version", version)
        if resolved is None:
            self._write(resp, Reply(404, raw=self._not_found))
            return
        route, params = resolved
        call = Call(req=req, state=self.state, config=self.config, params=params, path=path)
        try:
            reply = route.handler(call)
        except HttpError as exc:
            reply = self._error_reply(exc)
        except Exception as exc:
            # A bug of the mock, never a behaviour of Kapacitor: answer in the API's error format,
            # log the traceback and count it so tests can insist on zero.
            self.state.internal_errors += 1
            log.exception("unhandled error in %s %s", method, path)
            message = f"internal mock error: {type(exc).__name__}"
            reply = Reply(500, raw=gojson.dumps_pretty(error_body(message, self.config.at_least_1_6)))
        try:
            self.state.commit()  # --data-dir: what this request changed is on disk before it is answered
        except Exception as exc:
            self.state.internal_errors += 1
            log.exception("cannot persist the state after %s %s", method, path)
            message = f"internal mock error: cannot persist the change: {type(exc).__name__}"
            reply = Reply(500, raw=gojson.dumps_pretty(error_body(message, self.config.at_least_1_6)))
        self._write(resp, reply)

    def _auth_fails(self, req: falcon.Request, resp: falcon.Response, path: str) -> bool:
        """With auth on, every routed request (the catch-all 404 and the mock's own `/mock/`
        control routes included) is authenticated first."""
        if not self.config.auth:
            return False
        try:
            auth.verify_request(req, self.state, self.config, path)
        except AuthFailure as exc:
            resp.append_header("X-Kapacitor-Version", self.config.kapacitor_version)
            self._write(resp, self._error_reply(exc))
            return True
        return False

    def _error_reply(self, exc: HttpError) -> Reply:
        answer = error_answer(exc, self.config.at_least_1_6)
        return Reply(answer.status, raw=answer.body, content_type=answer.content_type, headers=answer.headers)

    def _resolve_control(self, method: str, path: str) -> tuple[Any, dict[str, str]] | None:
        for m, regex, handler in self._control:
            match = regex.match(path) if m == method else None
            if match:
                return _ControlRoute(handler), match.groupdict()
        return None

    @staticmethod
    def _write(resp: falcon.Response, reply: Reply) -> None:
        resp.status = reply.status
        # Every route behind `jsonContent` labels its answer JSON, 204s included (ping, DELETEs,
        # config POSTs); routes without it (Flux tasks' NoJSON) answer `content_type=None`.
        resp.content_type = reply.content_type
        for name, value in reply.headers:
            resp.set_header(name, value)
        if reply.stream is not None:
            resp.stream = reply.stream
        elif reply.raw is not None:
            resp.data = reply.raw
        elif reply.body is not None:
            resp.data = gojson.dumps_pretty(reply.body) if reply.pretty else gojson.dumps_compact(reply.body)
        else:
            resp.data = b""


class _ControlRoute:
    __slots__ = ("handler",)

    def __init__(self, handler: Any) -> None:
        self.handler = handler


class MockApp(falcon.App[falcon.Request, falcon.Response]):
    """A Falcon app that also exposes the mock's state and configuration (tests, backups)."""

    mock_state: MockState
    mock_config: MockConfig

    def __call__(self, env: dict[str, Any], start_response: Any) -> Any:
        """Three details of Go's net/http and Kapacitor's handler chain that Falcon does not have:
        repeated headers stay separate lines (v1preview's version header); a JSON body longer than
        the 2048-byte response buffer goes out chunked, without Content-Length (the handlers never
        set one); and with `Accept-Encoding: gzip` every answer of a route behind `gzipFilter` is
        compressed with `Content-Encoding: gzip`, 204s and errors included."""
        if _gzip_wanted(env):
            return self._gzipped(env, start_response)
        chunked = False

        def go_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal chunked
            headers = _split_repeated(headers)
            length = ctype = ""
            for name, value in headers:
                low = name.lower()
                if low == "content-length":
                    length = value
                elif low == "content-type":
                    ctype = value
            if length.isdigit() and int(length) > GO_RESPONSE_BUFFER and ctype.startswith("application/json"):
                chunked = True
                headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            return start_response(status, headers, exc_info)

        body = super().__call__(env, go_start_response)
        return _Unsized(body) if chunked else body

    def _gzipped(self, env: dict[str, Any], start_response: Any) -> Any:
        """httpd.gzipFilter: the whole answer compressed; Content-Length is the compressed size,
        or the answer is chunked when that passes the 2048-byte buffer. A redirect of the path
        cleaner and a streaming body (never behind the filter) are passed on as they are."""
        box: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            box["status"], box["headers"] = status, _split_repeated(headers)
            return lambda data: None

        result = super().__call__(env, capture)
        status: str = box["status"]
        headers: list[tuple[str, str]] = box["headers"]
        if status.startswith("301") or not isinstance(result, list):
            start_response(status, headers)
            return result
        data = b"".join(result)
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
        headers.append(("Content-Encoding", "gzip"))
        if status[:3] in ("204", "304") or env.get("REQUEST_METHOD") == "HEAD":
            start_response(status, headers)
            return [b""]
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        if str(env.get("PATH_INFO") or "").startswith(PREVIEW + "/"):
            # The preview route runs the whole v1 chain inside its own: compressed twice behind one
            # Content-Encoding (behaviour §1.1).
            packed = gzip.compress(packed, compresslevel=6, mtime=0)
        if len(packed) <= GO_RESPONSE_BUFFER:
            headers.append(("Content-Length", str(len(packed))))
            start_response(status, headers)
            return [packed]
        start_response(status, headers)
        return _Unsized([packed])


#: Routes registered with `NoGzip` (storage backup, the preview log stream, Flux tasks), the CORS preflight
#: (answered before the handler chain) and the mock's own control routes are never compressed.
_NO_GZIP = (BASE + "/storage/backup", PREVIEW + "/storage/backup", PREVIEW + "/logs", BASE + "/api/v2/",
            PREVIEW + "/api/v2/", CONTROL_PREFIX)


def _gzip_wanted(env: dict[str, Any]) -> bool:
    """`strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")` on a route behind the filter."""
    if "gzip" not in env.get("HTTP_ACCEPT_ENCODING", "") or env.get("REQUEST_METHOD") == "OPTIONS":
        return False
    path = str(env.get("PATH_INFO") or "")
    return not any(path == p or path.startswith(p.rstrip("/") + "/") for p in _NO_GZIP)


_REPEATED = frozenset({"x-kapacitor-version"})
#: net/http's bufferBeforeChunkingSize: a longer body is sent before its length is known.
GO_RESPONSE_BUFFER = 2048


class _Unsized:
    """The body without `len()`, so the server frames it chunked instead of counting it."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def __iter__(self) -> Any:
        return iter(self.body)

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


def _split_repeated(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One header line per value for the headers Go writes as repeated lines."""
    if not any(name.lower() in _REPEATED and ", " in value for name, value in headers):
        return headers
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() in _REPEATED:
            out.extend((name, part) for part in value.split(", "))
        else:
            out.append((name, value))
    return out


def create_app(config: MockConfig | None = None, state: MockState | None = None) -> MockApp:
    """Build the WSGI app; the state is injectable so tests and `--restore` can pre-load it."""
    config = config or MockConfig()
    state = state or MockState(config)
    app = MockApp(media_type=falcon.MEDIA_JSON)
    app.req_options.strip_url_path_trailing_slash = False
    app.req_options.keep_blank_qs_values = True
    app.resp_options.default_media_type = None  # type: ignore[assignment]  # every reply sets its own
    app.add_sink(KapacitorSink(config, state), prefix="/")
    app.mock_state = state
    app.mock_config = config
    return app
