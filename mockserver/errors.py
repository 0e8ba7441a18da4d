"""Domain errors, each carrying the HTTP status the real server answers with.

The store raises these; only the HTTP layer turns them into responses (moto's exceptions.py idea):
the status code of every failure is decided once, where the failure is known.
"""

from __future__ import annotations


class KapacitorError(Exception):
    """An error the real server reports as `{"error": msg, "message": msg}` with `status`."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(KapacitorError):
    status = 400


class Unauthorized(KapacitorError):
    status = 401


class Forbidden(KapacitorError):
    status = 403


class NotFound(KapacitorError):
    status = 404


class Unprocessable(KapacitorError):
    status = 422


class ServerError(KapacitorError):
    status = 500


class PlainTextError(KapacitorError):
    """Errors the real server writes as plain text plus newline (the write endpoint)."""

    status = 400
