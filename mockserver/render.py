"""Links and error bodies: the only place that knows how the real server spells URLs and errors."""

from __future__ import annotations

import posixpath
from typing import Any, NamedTuple

import spec
from mockserver import gojson
from mockserver.errors import AuthFailure, FluxError, HttpError, KapacitorError, PlainTextError
from mockserver.gotext import go_bytes

BASE = spec.base_path()
PREVIEW = spec.preview_base_path()


def go_path_join(*parts: str) -> str:
    """Go's path.Join: join with `/` and clean (`.`/`..` resolved, no trailing slash)."""
    joined = "/".join(p for p in parts if p)
    if not joined:
        return ""
    cleaned = posixpath.normpath(joined)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def go_clean_path(path: str) -> str:
    """The Go mux's cleanPath: path.Clean, keeping a trailing slash, always rooted."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    cleaned = go_path_join(path) or "/"
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def link(*parts: str, rel: str = "self") -> dict[str, str]:
    return {"rel": rel, "href": go_path_join(*parts)}


def raw_link(href: str, rel: str = "self") -> dict[str, str]:
    """A link whose href is used as given (the request URI echoed by topic and handler lists)."""
    return {"rel": rel, "href": href}


def error_body(message: str, with_message: bool) -> dict[str, Any]:
    """`{"error": m, "message": m}` since 1.6; `{"error": m}` before."""
    if with_message:
        return {"error": message, "message": message}
    return {"error": message}


JSON_TYPE = "application/json; charset=utf-8"

#: InfluxDB 2 platform error codes and the statuses its HTTP layer answers them with.
PLATFORM_STATUS = {
    "internal error": 500,
    "not implemented": 501,
    "invalid": 400,
    "unprocessable entity": 422,
    "empty value": 400,
    "conflict": 422,
    "not found": 404,
    "unavailable": 503,
    "forbidden": 403,
    "too many requests": 429,
    "unauthorized": 401,
    "method not allowed": 405,
    "request too large": 413,
}


class ErrorAnswer(NamedTuple):
    status: int
    body: bytes
    content_type: str | None = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def error_answer(exc: HttpError, with_message: bool) -> ErrorAnswer:
    """The one mapping from an error to what the real server answers for it."""
    match exc:
        case PlainTextError():
            return ErrorAnswer(exc.status, go_bytes(exc.message + "\n"))  # invalid bytes as sent
        case AuthFailure():
            body = gojson.dumps_compact(error_body(exc.message, with_message)).rstrip(b"\n")
            return ErrorAnswer(exc.status, body)
        case KapacitorError():
            return ErrorAnswer(exc.status, gojson.dumps_pretty(error_body(exc.message, with_message)))
        case FluxError():
            code = exc.platform_code()
            body = gojson.dumps_compact({"code": code, "message": exc.platform_message()}).rstrip(b"\n")
            return ErrorAnswer(PLATFORM_STATUS.get(code, 500), body, headers=(("X-Platform-Error-Code", code),))
    raise TypeError(f"no HTTP form for {type(exc).__name__}")
