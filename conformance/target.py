"""A thin HTTP client over `http.client` that sends paths exactly as given and records every exchange.

`requests`/`urllib3` normalise `.` and `..` path segments, but both are valid Kapacitor IDs, so the
suite speaks HTTP itself. Every exchange is kept so that a failing check can show the request, the
response and a `curl` line that reproduces it.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import shlex
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import spec

_NO_JSON = object()
#: Printable ASCII that may stay literal in a request target; everything else is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"

QueryArg = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


@dataclass
class Exchange:
    """One request and what came back (or the transport error that came instead)."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    status: int = 0
    reason: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None
    _json: Any = field(default=_NO_JSON, repr=False)

    # -- response accessors -------------------------------------------------------------------
    def header(self, name: str) -> str | None:
        values = self.headers_all(name)
        return values[0] if values else None

    def headers_all(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.response_headers if k.lower() == low]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Decode the body as JSON (cached); raises ValueError when it is not JSON."""
        if self._json is _NO_JSON:
            self._json = json.loads(self.body.decode("utf-8"))
        return self._json

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    # -- reporting ----------------------------------------------------------------------------
    def curl(self) -> str:
        """A shell command that sends the same request (`--path-as-is` keeps `.` and `..`)."""
        words = ["curl", "-sS", "-i", "--path-as-is"]
        if self.method == "HEAD":
            words.append("-I")
        else:
            words += ["-X", self.method]
        words.append(self.url)
        for name, value in self.request_headers:
            if name.lower() in ("host", "content-length", "accept-encoding", "user-agent"):
                continue
            if name.lower() == "authorization":
                value = "<credentials>"
            words += ["-H", f"{name}: {value}"]
        if self.request_body is not None:
            words += ["--data-binary", self.request_body.decode("utf-8", errors="backslashreplace")]
        return " ".join(shlex.quote(w) for w in words)

    def to_dict(self, max_body: int = 4000) -> dict[str, Any]:
        def clip(data: bytes | None) -> str | None:
            if data is None:
                return None
            text = data.decode("utf-8", errors="backslashreplace")
            return text if len(text) <= max_body else text[:max_body] + f"... [{len(text) - max_body} more]"

        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": [[k, "<credentials>" if k.lower() == "authorization" else v]
                            for k, v in self.request_headers],
                "body": clip(self.request_body),
            },
            "response": {
                "status": self.status,
                "reason": self.reason,
                "headers": [list(h) for h in self.response_headers],
                "body": clip(self.body),
                "error": self.error,
            },
            "elapsed": round(self.elapsed, 4),
            "curl": self.curl(),
        }

    def summary(self) -> str:
        got = f"{self.status} {self.reason}" if not self.error else f"transport error: {self.error}"
        body = self.text[:300]
        return f"{self.method} {self.path} -> {got}" + (f"\n{body}" if body else "")


class TransportError(Exception):
    """The target did not answer with an HTTP response (connection refused, reset, timeout)."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(f"{exchange.method} {exchange.url}: {exchange.error}")
        self.exchange = exchange


def encode_segment(value: str) -> str:
    """Percent-encode one path segment; `.` and `..` stay literal on purpose."""
    return quote(value, safe="")


def encode_query(query: QueryArg) -> str:
    if not query:
        return ""
    items = list(query.items()) if isinstance(query, Mapping) else list(query)
    flat: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            flat.extend((key, str(v)) for v in value)
        else:
            flat.append((key, str(value)))
    return urlencode(flat, quote_via=quote)


#: Default cap on one response body: a larger answer is the finding "response too large".
DEFAULT_MAX_BODY = 8 * 1024 * 1024
#: Error texts that mark a request as never sent (the run is stopping), not as the target's answer.
NOT_SENT = "not sent"


class ResponseTooLarge(Exception):
    pass


class _Watchdog:
    """Shuts a connection's socket down when its request's total deadline passes.

    A socket timeout bounds one read only: a server trickling one byte every few seconds would
    hold a request forever. One daemon thread enforces the deadline of every request in flight."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, Any, list[bool]]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, sock: Any) -> tuple[int, list[bool]]:
        fired = [False]
        with self._cond:
            self._next += 1
            self._armed[self._next] = (deadline, sock, fired)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kcf-request-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()
            return self._next, fired

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.pop(token, None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for token, (deadline, sock, fired) in list(self._armed.items()):
                    if deadline <= now:
                        fired[0] = True
                        del self._armed[token]
                        with contextlib.suppress(OSError, ValueError, AttributeError):
                            sock.shutdown(socket.SHUT_RDWR)
                wait = min((d for d, _, _ in self._armed.values()), default=now + 60) - now
                self._cond.wait(max(0.01, wait))


_WATCHDOG = _Watchdog()


@dataclass
class Health:
    """Is the target still answering? Decided after transport errors by a ping on a fresh connection."""

    consecutive_failures: int = 0
    #: Set once the target stopped answering: the sentence of the finding.
    stopped: str | None = None
    #: The request after which it stopped (its curl line reproduces it).
    last_request: Exchange | None = None
    #: After this many transport failures in a row the target counts as stopped even if ping answers.
    max_consecutive: int = 25


class Client:
    """Keeps one keep-alive connection per thread; every exchange is handed to the listeners.

    Every request is bounded: `timeout` is a total deadline (connect, headers and body), bodies
    larger than `max_body` are not read, and once the target stopped answering no request is sent
    until `revive()` finds it answering again."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, keep: int = 500,
                 auth: tuple[str, str] | None = None, max_body: int = DEFAULT_MAX_BODY) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"target must be an http(s) URL, got {base_url!r}")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.root = parts.path  # a target mounted below a path prefix keeps it
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self.timeout = timeout
        self.max_body = max_body
        self._local = threading.local()
        self.history: deque[Exchange] = deque(maxlen=keep)
        self.listeners: list[Callable[[Exchange], None]] = []
        self.count = 0
        self.default_headers: list[tuple[str, str]] = []
        self.health = Health()
        #: Called before every request; may raise to stop a test (e.g. the run's --max-time passed).
        self.gate: Callable[[], None] | None = None
        #: (method, path) -> read only the head of this answer (a backup grows with the server's data).
        self.head_only: Callable[[str, str], bool] | None = None
        #: Watch for a dead target after transport errors (off for one-shot tools).
        self.watch_health = True
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self.default_headers.append(("Authorization", f"Basic {token}"))

    # -- connection handling ------------------------------------------------------------------
    def _new_connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._netloc, timeout=timeout)
        return http.client.HTTPConnection(self._netloc, timeout=timeout)

    def _connection(self, fresh: bool = False) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh and conn.sock is not None:
            return conn, True
        if conn is not None:
            conn.close()
        conn = self._new_connection(self.timeout)
        self._local.conn = conn
        return conn, False

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- requests -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        query: QueryArg = None,
        raw_query: str | None = None,
        json_body: Any = _NO_JSON,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        timeout: float | None = None,
        read_limit: int | None = None,
    ) -> Exchange:
        """Send one request. `path` is sent verbatim apart from percent-encoding non-ASCII bytes.

        `timeout` can only shorten the client's own deadline; `read_limit` reads a stream's first
        bytes (the deadline then ends the read without an error)."""
        if self.gate is not None:
            self.gate()
        if read_limit is None and self.head_only is not None and self.head_only(method, path):
            read_limit = self.max_body
        target = self.root + quote(path, safe=_PATH_SAFE)
        q = raw_query if raw_query is not None else encode_query(query)
        if q:
            target += "?" + q
        hdrs: list[tuple[str, str]] = [("Accept-Encoding", "identity"), ("User-Agent", "kapacitor-conformance"),
                                       *self.default_headers]
        data: bytes | None = None
        if json_body is not _NO_JSON:
            data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            hdrs.append(("Content-Type", "application/json"))
        elif body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else body
        if headers:
            extra = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
            names = {k.lower() for k, _ in extra}
            hdrs = [h for h in hdrs if h[0].lower() not in names] + extra
        ex = Exchange(method=method, url=self.base_url + target, request_headers=hdrs, request_body=data)
        budget = self.timeout if timeout is None else min(timeout, self.timeout)
        if self.health.stopped:
            ex.error = f"{NOT_SENT}: {self.health.stopped}"
        else:
            self._send(ex, target, hdrs, data, budget, read_limit)
            self._observe(ex)
        self.count += 1
        self.history.append(ex)
        for listener in list(self.listeners):
            listener(ex)
        return ex

    def _send(self, ex: Exchange, target: str, hdrs: list[tuple[str, str]], data: bytes | None, budget: float,
              read_limit: int | None) -> None:
        started = time.perf_counter()
        deadline = time.monotonic() + budget
        for attempt in range(2):
            conn, reused = self._connection(fresh=attempt > 0)
            token: int | None = None
            fired = [False]
            try:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("deadline passed")
                if conn.sock is None:
                    conn.timeout = remaining
                    conn.connect()
                assert conn.sock is not None
                conn.sock.settimeout(remaining)
                token, fired = _WATCHDOG.arm(deadline, conn.sock)
                conn.putrequest(ex.method, target, skip_accept_encoding=True)
                for name, value in hdrs:
                    conn.putheader(name, value)
                if data is not None or ex.method in ("POST", "PUT", "PATCH"):
                    conn.putheader("Content-Length", str(len(data or b"")))
                conn.endheaders(data)
                resp = conn.getresponse()
                ex.status, ex.reason = resp.status, resp.reason
                ex.response_headers = list(resp.getheaders())
                if read_limit is not None:
                    ex.body = self._read_some(resp, read_limit)
                    self.close()
                else:
                    ex.body = self._read_body(resp, fired, head=ex.method == "HEAD")
                    if resp.will_close:
                        self.close()
                ex.error = None
                break
            except ResponseTooLarge as exc:
                self.close()
                ex.error = str(exc)
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.ImproperConnectionState) as exc:
                self.close()
                ex.error = self._describe(exc, fired, budget)
                # A fresh connection failing is a real answer, not a stale keep-alive.
                if not reused or fired[0] or ex.status:
                    break
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self.close()
                ex.error = self._describe(exc, fired, budget)
                break
            finally:
                if token is not None:
                    _WATCHDOG.disarm(token)
                pooled = getattr(self._local, "conn", None)
                if pooled is not None and pooled.sock is not None:
                    with contextlib.suppress(OSError):
                        pooled.sock.settimeout(self.timeout)
        ex.elapsed = time.perf_counter() - started

    def _describe(self, exc: BaseException, fired: list[bool], budget: float) -> str:
        if fired[0] or isinstance(exc, TimeoutError):
            return f"timeout: no complete answer within {budget:g}s (--timeout)"
        if isinstance(exc, ssl.SSLError) and self._scheme == "https":
            return f"TLS handshake failed ({exc.reason or exc}): is the port plain HTTP? try http://"
        if isinstance(exc, http.client.BadStatusLine):
            return f"not an HTTP answer: {type(exc).__name__}: {str(exc)[:200]}"
        return f"{type(exc).__name__}: {exc}"

    def _read_body(self, resp: http.client.HTTPResponse, fired: list[bool], *, head: bool = False) -> bytes:
        """The whole body, but never more than `max_body` bytes in memory."""
        length = resp.getheader("Content-Length")
        if not head and length and length.strip().isdigit() and int(length) > self.max_body:
            raise ResponseTooLarge(f"response too large: Content-Length {int(length)} is over the "
                                   f"{self.max_body}-byte limit (--max-body); the body was not read")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_body:
                raise ResponseTooLarge(f"response too large: more than {self.max_body} bytes (--max-body); "
                                       "reading stopped there")
            chunks.append(chunk)
        if fired[0]:
            raise TimeoutError("deadline passed while reading the body")
        if not resp.isclosed():  # read1 stops at the end without marking the response done
            chunks.append(resp.read(self.max_body - size + 1)[: self.max_body - size])
        return b"".join(chunks)

    @staticmethod
    def _read_some(resp: http.client.HTTPResponse, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            while size < limit:
                chunk = resp.read1(limit - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (TimeoutError, OSError, http.client.HTTPException):
            pass
        return b"".join(chunks)

    # -- is the target still there? ------------------------------------------------------------
    def _observe(self, ex: Exchange) -> None:
        h = self.health
        if not ex.error or ex.error.startswith("response too large"):
            h.consecutive_failures = 0
            return
        h.consecutive_failures += 1
        if not self.watch_health:
            return
        if h.consecutive_failures >= h.max_consecutive:
            h.stopped = (f"the target stopped answering after {ex.method} {ex.path}: {h.consecutive_failures} "
                         "requests in a row got no HTTP response")
        elif not self.alive():
            h.stopped = f"the target stopped answering after {ex.method} {ex.path} (possible crash)"
        if h.stopped:
            h.last_request = ex

    def alive(self, attempts: int = 2) -> bool:
        """A ping on a fresh connection (never the pooled one), a few seconds at most."""
        for i in range(attempts):
            if i:
                time.sleep(0.5)
            conn = self._new_connection(min(self.timeout, 5.0))
            token: int | None = None
            try:
                conn.connect()
                assert conn.sock is not None
                token, _ = _WATCHDOG.arm(time.monotonic() + min(self.timeout, 5.0), conn.sock)
                conn.putrequest("GET", self.root + spec.base_path() + "/ping", skip_accept_encoding=True)
                for name, value in self.default_headers:
                    conn.putheader(name, value)
                conn.endheaders()
                resp = conn.getresponse()
                resp.read(1024)
                return True
            except (OSError, http.client.HTTPException, ValueError):
                continue
            finally:
                if token is not None:
                    _WATCHDOG.disarm(token)
                conn.close()
        return False

    def revive(self) -> bool:
        """Before cleanup: if a stopped target answers a ping again, allow requests again."""
        if self.health.stopped is None:
            return True
        if self.alive(attempts=1):
            self.health.stopped = None
            self.health.consecutive_failures = 0
            return True
        return False

    def get(self, path: str, **kw: Any) -> Exchange:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Exchange:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Exchange:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> Exchange:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Exchange:
        return self.request("DELETE", path, **kw)

    def head(self, path: str, **kw: Any) -> Exchange:
        return self.request("HEAD", path, **kw)
