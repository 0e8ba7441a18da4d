"""`--access-log`: one line per request (method, path, status, milliseconds), written when the
answer is complete, so streamed answers are timed to their end."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def open_log(target: str) -> logging.Logger:
    """A dedicated logger writing bare lines to `target` (`-` = standard error)."""
    logger = logging.getLogger("kapacitor-mock.access")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler: logging.Handler = logging.StreamHandler(sys.stderr) if target == "-" else logging.FileHandler(target)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    return logger


class AccessLog:
    """WSGI middleware; the app underneath is untouched (headers, bodies, streaming)."""

    def __init__(self, app: Callable[..., Any], logger: logging.Logger) -> None:
        self.app = app
        self.logger = logger

    def __call__(self, env: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["-"]

        def recording(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        body = self.app(env, recording)
        wrapper = _SizedClosing if hasattr(body, "__len__") else _Closing
        return wrapper(body, lambda: self._line(env, status[0], started))

    def _line(self, env: dict[str, Any], status: str, started: float) -> None:
        path = env.get("PATH_INFO", "")
        query = env.get("QUERY_STRING", "")
        # PATH_INFO is latin-1 decoded bytes (PEP 3333); show it as the client sent it.
        shown = path.encode("latin-1", "replace").decode("utf-8", "replace") + ("?" + query if query else "")
        if not shown.isprintable():
            shown = shown.encode("unicode_escape").decode("ascii")  # one line per request, always
        ms = (time.perf_counter() - started) * 1000
        self.logger.info("%s %s %s %.1fms", env.get("REQUEST_METHOD", "-"), shown, status, ms)


class _Closing:
    """The body iterable, plus a callback when the server closes it (after the last byte)."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()


class _SizedClosing(_Closing):
    """Keeps `len()` visible: waitress sets Content-Length from a one-item body list."""

    def __len__(self) -> int:
        return len(self.body)  # type: ignore[arg-type]
