"""A thin HTTP client over `http.client` that sends paths exactly as given and records every exchange.

`requests`/`urllib3` normalise `.` and `..` path segments, but both are valid Kapacitor IDs, so the
suite speaks HTTP itself. Every exchange is kept so that a failing check can show the request, the
response and a `curl` line that reproduces it.
"""

from __future__ import annotations

import base64
import http.client
import json
import shlex
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

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
                "headers": [list(h) for h in self.request_headers],
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


class Client:
    """Keeps one keep-alive connection per thread; every exchange is handed to the listeners."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, keep: int = 500,
                 auth: tuple[str, str] | None = None) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"target must be an http(s) URL, got {base_url!r}")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.root = parts.path  # a target mounted below a path prefix keeps it
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self.timeout = timeout
        self._local = threading.local()
        self.history: deque[Exchange] = deque(maxlen=keep)
        self.listeners: list[Callable[[Exchange], None]] = []
        self.count = 0
        self.default_headers: list[tuple[str, str]] = []
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self.default_headers.append(("Authorization", f"Basic {token}"))

    # -- connection handling ------------------------------------------------------------------
    def _connection(self, fresh: bool = False) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn, True
        if conn is not None:
            conn.close()
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = cls(self._netloc, timeout=self.timeout)
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
        """Send one request. `path` is sent verbatim apart from percent-encoding non-ASCII bytes."""
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
        started = time.perf_counter()
        for attempt in range(2):
            conn, reused = self._connection(fresh=attempt > 0)
            try:
                if timeout is not None:
                    conn.timeout = timeout
                    if conn.sock is not None:
                        conn.sock.settimeout(timeout)
                conn.putrequest(method, target, skip_accept_encoding=True)
                for name, value in hdrs:
                    conn.putheader(name, value)
                if data is not None or method in ("POST", "PUT", "PATCH"):
                    conn.putheader("Content-Length", str(len(data or b"")))
                conn.endheaders(data)
                resp = conn.getresponse()
                ex.status, ex.reason = resp.status, resp.reason
                ex.response_headers = list(resp.getheaders())
                if read_limit is not None:
                    ex.body = self._read_some(resp, read_limit)
                    self.close()
                else:
                    ex.body = resp.read()
                    if resp.will_close:
                        self.close()
                ex.error = None
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                ex.error = f"{type(exc).__name__}: {exc}"
                if not reused:  # a fresh connection failing is a real answer, not a stale keep-alive
                    break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                ex.error = f"{type(exc).__name__}: {exc}"
                break
            finally:
                if timeout is not None and getattr(self._local, "conn", None) is not None:
                    self._local.conn.timeout = self.timeout
                    if self._local.conn.sock is not None:
                        self._local.conn.sock.settimeout(self.timeout)
        ex.elapsed = time.perf_counter() - started
        self.count += 1
        self.history.append(ex)
        for listener in list(self.listeners):
            listener(ex)
        return ex

    @staticmethod
    def _read_some(resp: http.client.HTTPResponse, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            while size < limit:
                chunk = resp.read1(limit - size) if hasattr(resp, "read1") else resp.read(limit - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (TimeoutError, OSError):
            pass
        return b"".join(chunks)

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
