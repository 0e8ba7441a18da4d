"""The mock's one error hierarchy.

Every error the mock raises on purpose is a `MockError`. The ones a client sees are `HttpError`s,
and `render.error_answer` is the only code that turns them into a status and a body (moto's
exceptions.py idea): the layer that knows a failure raises it, the HTTP layer answers it.

    MockError
    ├── HttpError                 answered by render.error_answer
    │   ├── KapacitorError        {"error": m, "message": m}, pretty, with `status`
    │   │   ├── BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, ServerError
    │   │   ├── AuthFailure       the same object, compact and without a newline
    │   │   └── PlainTextError    the message as plain text plus newline (the write endpoint)
    │   └── FluxError             InfluxDB 2 platform errors of the Flux task API
    └── the domain errors of parsers and decoders (line protocol, TICKscript, JSON, globs...),
        which the operations layer wraps into the message the real server answers with

Messages written in more than one place have a named constructor below, so each text exists once.
"""

from __future__ import annotations

from mockserver.gotext import go_quote


class MockError(Exception):
    """Root of every error the mock raises on purpose; anything else escaping a handler is a bug."""


class HttpError(MockError):
    """An error the client sees; its form is decided by `render.error_answer`."""


class KapacitorError(HttpError):
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


class AuthFailure(KapacitorError):
    """Authentication (401) and authorization (403) failures: the error object written compactly."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status)


class PlainTextError(KapacitorError):
    """Errors the real server writes as plain text plus newline (the write endpoint)."""

    status = 400


class FluxError(HttpError):
    """An error of the InfluxDB 2 task API, answered `{"code", "message"}`; a plain Go error is an
    `internal error` whose text is hidden."""

    def platform_code(self) -> str:
        return "internal error"

    def platform_message(self) -> str:
        return "An internal error has occurred"


# ---- named constructors of messages raised in more than one place ---------------------------------


def invalid_json() -> BadRequest:
    """A task or template body that is not the expected JSON object."""
    return BadRequest("invalid JSON")


def invalid_task_type() -> BadRequest:
    """A task type other than stream/batch (the decoder's zero value prints as `invalid`)."""
    return BadRequest("invalid task type: invalid")


def unknown_template(template_id: str) -> BadRequest:
    """A task that names a template which does not exist."""
    return BadRequest(f"unknown template {template_id}: err: no template exists")


def no_template() -> NotFound:
    return NotFound("no template exists")


def no_task() -> NotFound:
    return NotFound("no task exists")


def invalid_tickscript(reason: object) -> BadRequest:
    return BadRequest(f"invalid TICKscript: {reason}")


def must_specify_dbrp() -> BadRequest:
    """A stream task whose script names no database/retention policy and whose body gives none."""
    return BadRequest("must specify dbrp")


def unsupported_field(name: str) -> BadRequest:
    """A `fields` query parameter naming something that is not a field of the listed object."""
    return BadRequest(f"unsupported field {go_quote(name)}")


def unknown_section(section: str) -> NotFound:
    return NotFound(f"unknown section: {section}")


def must_provide_query() -> BadRequest:
    return BadRequest("must provide query")


def replay_exists() -> ServerError:
    return ServerError("replay already exists")
