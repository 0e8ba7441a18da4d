"""Links and error bodies: the only place that knows how the real server spells URLs and errors."""

from __future__ import annotations

import posixpath
from typing import Any

import spec

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
