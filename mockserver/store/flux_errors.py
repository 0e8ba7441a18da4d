"""InfluxDB 2 platform errors (code + message chain) as Kapacitor's Flux task service reports them,
and the 16-hex-digit IDs of tasks and runs."""

from __future__ import annotations

from mockserver.errors import FluxError

# ---- platform errors ------------------------------------------------------------------------------

E_INTERNAL = "internal error"
E_NOT_FOUND = "not found"
E_CONFLICT = "conflict"
E_INVALID = "invalid"
E_UNPROCESSABLE = "unprocessable entity"


class GoError(FluxError):
    """A plain Go error (not a platform error): its code is `internal error`."""


class PlatformError(FluxError):
    """InfluxDB 2's errors.Error: a code, a message and an optional wrapped error."""

    def __init__(self, code: str = "", msg: str = "", err: Exception | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.err = err
        self.origin: PlatformError = self

    def fresh(self) -> PlatformError:
        """A raisable copy of a sentinel: raising the shared instance would pin its traceback
        (and the request frames in it) for the life of the process."""
        copy = PlatformError(self.code, self.msg, self.err)
        copy.origin = self.origin
        return copy

    def is_(self, sentinel: PlatformError) -> bool:
        """Go's `err == ErrX` for sentinels."""
        return self.origin is sentinel

    def __str__(self) -> str:
        if self.msg and self.err is not None:
            return f"{self.msg}: {self.err}"
        if self.msg:
            return self.msg
        if self.err is not None:
            return str(self.err)
        return f"<{self.code}>"

    def platform_code(self) -> str:
        return error_code(self)

    def platform_message(self) -> str:
        return str(self)


def error_code(err: Exception) -> str:
    """The first code found walking the chain from the outside in (`internal error` if none)."""
    if not isinstance(err, PlatformError):
        return E_INTERNAL
    if err.code:
        return err.code
    if err.err is not None:
        return error_code(err.err)
    return E_INTERNAL


TASK_NOT_FOUND = PlatformError(E_NOT_FOUND, "task not found")
RUN_NOT_FOUND = PlatformError(E_NOT_FOUND, "run not found")
NO_RUNS_FOUND = PlatformError(E_NOT_FOUND, "no matching runs found")
RUN_ALREADY_QUEUED = PlatformError(E_CONFLICT, "run already queued")
OUT_OF_BOUNDS_LIMIT = PlatformError(E_UNPROCESSABLE, "run limit is out of bounds, must be between 1 and 500")
INVALID_ID = PlatformError(E_INVALID, "invalid ID")
INVALID_ID_LENGTH = PlatformError(E_INVALID, "id must have a length of 16 bytes")



def decode_id(text: str) -> int:
    """platform.ID from its 16-hex-digit form (any case; zero is invalid)."""
    if len(text.encode("utf-8", "surrogatepass")) != 16:
        raise INVALID_ID_LENGTH.fresh()
    if not all(c in "0123456789abcdefABCDEF" for c in text):
        raise INVALID_ID.fresh()
    value = int(text, 16)
    if value == 0:
        raise INVALID_ID.fresh()
    return value


def encode_id(value: int) -> str:
    return f"{value:016x}"
