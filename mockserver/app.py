"""`create_app()`: the Falcon WSGI app of the mock, with Kapacitor's global HTTP behaviour.

Falcon's own router would answer 405s and merge trailing slashes differently from Kapacitor's Go
mux, so the app has a single sink that applies the server's wrappers (path cleaning, v1preview
rewrite, CORS, OPTIONS short-circuit, version/request-id/content-type headers, error format) and
dispatches through `routing.Router`, whose table comes from the spec.
"""

from __future__ import annotations

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
from mockserver.errors import KapacitorError, PlainTextError
from mockserver.operations.registry import CONTROL, CONTROL_PREFIX, HANDLERS, Call, Reply
from mockserver.render import BASE, PREVIEW, error_body, go_clean_path
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
        path = req.path
        if ("//" in path or "/." in path) and (cleaned := go_clean_path(path)) != path:
            # Go's url.URL.String() escapes the path (control bytes, spaces, non-ASCII).
            location = quote(cleaned, safe="/!$&'()*+,;=:@[]-._~") + ("?" + req.query_string if req.query_string else "")
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
            # Real: 200, empty body, no Content-Type. WSGI validators insist on one for a 200.
            resp.status = 200
            resp.content_type = "text/plain; charset=utf-8"
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
        except PlainTextError as exc:
            reply = Reply(exc.status, raw=(exc.message + "\n").encode("utf-8"))
        except KapacitorError as exc:
            reply = Reply(exc.status, raw=gojson.dumps_pretty(error_body(exc.message, self.config.at_least_1_6)))
        except Exception as exc:
            # A bug of the mock, never a behaviour of Kapacitor: answer in the API's error format,
            # log the traceback and count it so tests can insist on zero.
            self.state.internal_errors += 1
            log.exception("unhandled error in %s %s", method, path)
            message = f"internal mock error: {type(exc).__name__}"
            reply = Reply(500, raw=gojson.dumps_pretty(error_body(message, self.config.at_least_1_6)))
        self._write(resp, reply)

    def _auth_fails(self, req: falcon.Request, resp: falcon.Response, path: str) -> bool:
        """With auth on, every routed request (the catch-all 404 and the mock's own `/mock/`
        control routes included) is authenticated first."""
        if not self.config.auth:
            return False
        failure = auth.check_request(req, self.state, self.config, path)
        if failure is None:
            return False
        resp.append_header("X-Kapacitor-Version", self.config.kapacitor_version)
        self._write(resp, Reply(failure[0], raw=failure[1]))
        return True

    def _resolve_control(self, method: str, path: str) -> tuple[Any, dict[str, str]] | None:
        for m, regex, handler in self._control:
            match = regex.match(path) if m == method else None
            if match:
                return _ControlRoute(handler), match.groupdict()
        return None

    @staticmethod
    def _write(resp: falcon.Response, reply: Reply) -> None:
        resp.status = reply.status
        # The real server also labels 204s as JSON; WSGI (PEP 3333 validators) forbids a
        # Content-Type on a bodiless 204, so the mock leaves it out there (recorded in PROVENANCE).
        resp.content_type = None if reply.status == 204 else reply.content_type
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


class MockApp(falcon.App):
    """A Falcon app that also exposes the mock's state and configuration (tests, backups)."""

    mock_state: MockState
    mock_config: MockConfig


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
