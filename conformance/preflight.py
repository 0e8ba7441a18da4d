"""Is the target usable at all? Decided once, before any check, in a few seconds and one line.

A wrong URL or a server that is not Kapacitor would otherwise turn into a thousand failures (or
worse, a thousand skips and a PASS). Two kinds of answer: a usage error (the URL itself is wrong:
exit 4) and "target unusable" (nothing, or not Kapacitor, answers there: exit 3).
"""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import spec
from conformance.context import parse_version
from conformance.target import Client

#: How long the preflight waits for any one step; a Kapacitor ping answers in milliseconds.
STEP_TIMEOUT = 5.0
_API_PATH = re.compile(f"(?:{re.escape(spec.preview_base_path())}|{re.escape(spec.base_path())})/*$")
_STRICT_VERSION = re.compile(r"^v?\d+\.\d+(?:\.\d+)?(?:[-+.~][0-9A-Za-z.~+-]*)?$")


class BadTargetURL(ValueError):
    """The URL is wrong as written (usage error)."""


class TargetUnusable(Exception):
    """Nothing usable answers at the URL: unreachable, TLS mismatch, or not a Kapacitor API."""


@dataclass
class PingAnswer:
    status: int
    version_header: str | None
    warning: str | None = None


def check_url(url: str) -> str:
    """The base URL as the suite uses it, or BadTargetURL with what was probably meant."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        if "://" in text:
            raise BadTargetURL(f"--target {url!r}: the scheme must be http:// or https://")
        raise BadTargetURL(f"--target {url!r} has no scheme: did you mean --target http://{text.lstrip('/')} ?")
    if parts.username is not None or parts.password is not None:
        raise BadTargetURL("--target: give credentials with --auth USER:PASSWORD (or $KAPACITOR_AUTH), not in "
                           "the URL, where reports would show them")
    if parts.query or parts.fragment:
        raise BadTargetURL(f"--target {url!r}: the base URL takes no query or fragment")
    if _API_PATH.search(parts.path):
        base = urlunsplit((parts.scheme, parts.netloc, _API_PATH.sub("", parts.path), "", ""))
        raise BadTargetURL(f"--target {url!r} includes the API path: give the server's base URL, "
                           f"e.g. --target {base} (the suite adds {spec.base_path()} itself)")
    try:
        _ = parts.port
    except ValueError as exc:
        raise BadTargetURL(f"--target {url!r}: {exc}") from exc
    return text.rstrip("/")


def probe(url: str, *, timeout: float = STEP_TIMEOUT, auth: tuple[str, str] | None = None,
          force: bool = False) -> PingAnswer:
    """Connect, speak the right protocol, and ask the ping: TargetUnusable if any step fails."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    step = min(timeout, STEP_TIMEOUT)
    where = f"{host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=step)
    except ConnectionRefusedError as exc:
        raise TargetUnusable(f"cannot connect to {where}: connection refused (is the server running, "
                             "is the port right?)") from exc
    except socket.gaierror as exc:
        raise TargetUnusable(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    except TimeoutError as exc:
        raise TargetUnusable(f"cannot connect to {where}: no answer within {step:g}s") from exc
    except OSError as exc:
        raise TargetUnusable(f"cannot connect to {where}: {exc.strerror or exc}") from exc
    if parts.scheme == "https":
        _check_tls(sock, host, where, parts.path, step)
    else:
        sock.close()
    client = Client(url, timeout=max(step, 1.0), auth=auth)
    client.watch_health = False
    ex = client.get(spec.base_path() + "/ping")
    client.close()
    if ex.error:
        if parts.scheme == "http" and _speaks_tls(host, port, step):
            raise TargetUnusable(f"{where} speaks TLS, not plain HTTP: use https://{parts.netloc}{parts.path}")
        raise TargetUnusable(f"GET {ex.url} got no HTTP answer: {ex.error}")
    if parts.scheme == "http" and ex.status == 400 and b"HTTPS server" in ex.body[:300]:
        raise TargetUnusable(f"{where} speaks TLS, not plain HTTP: use https://{parts.netloc}{parts.path}")
    if ex.status in (401, 403):
        hint = "the credentials were rejected" if auth else "pass --auth USER:PASSWORD"
        raise TargetUnusable(f"target {url} requires authentication (ping answered {ex.status}): {hint}")
    version = ex.header("X-Kapacitor-Version")
    problem = None
    if ex.status != 204:
        problem = f"status {ex.status} {ex.reason} (a Kapacitor ping answers 204)"
    elif version is None:
        problem = "204 without an X-Kapacitor-Version header"
    elif not _STRICT_VERSION.match(version.strip()) or parse_version(version) is None:
        problem = f"204 with X-Kapacitor-Version {version[:60]!r}, which is not a version"
    if problem is None:
        return PingAnswer(ex.status, version)
    first = ex.body[:80].decode("utf-8", errors="backslashreplace")
    said = f"{problem}{f', body {first!r}' if first else ''}"
    line = f"this does not look like a Kapacitor API: GET {ex.url} answered {said}"
    if not force:
        raise TargetUnusable(line + " (pass --force to run the checks anyway)")
    return PingAnswer(ex.status, version, warning=line + " (--force: running anyway)")


def _check_tls(sock: socket.socket, host: str, where: str, path: str, step: float) -> None:
    ctx = ssl.create_default_context()
    sock.settimeout(step)
    try:
        with ctx.wrap_socket(sock, server_hostname=host):
            return
    except ssl.SSLCertVerificationError as exc:
        raise TargetUnusable(f"{where}: TLS certificate not accepted: {exc.verify_message or exc}") from exc
    except (ssl.SSLError, TimeoutError, OSError) as exc:
        failure = exc
    finally:
        sock.close()
    if _speaks_http(host, int(where.rsplit(":", 1)[1]), step):
        raise TargetUnusable(f"{where} speaks plain HTTP, not TLS: use http://{where}{path}")
    raise TargetUnusable(f"{where}: TLS handshake failed: {failure}")


def _raw_answer(host: str, port: int, data: bytes, step: float) -> bytes:
    try:
        with socket.create_connection((host, port), timeout=step) as s:
            s.sendall(data)
            return s.recv(64)
    except OSError:
        return b""


def _speaks_http(host: str, port: int, step: float) -> bool:
    req = f"GET {spec.base_path()}/ping HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
    return _raw_answer(host, port, req, step).startswith(b"HTTP/")


def _speaks_tls(host: str, port: int, step: float) -> bool:
    """Does a TLS handshake (certificate not judged) succeed where plain HTTP got no answer?"""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=step) as s, ctx.wrap_socket(s, server_hostname=host):
            return True
    except (OSError, ssl.SSLError):
        return False
