"""The mock's backup file: what `GET /storage/backup` sends and `--restore FILE` reads back.

A real server sends its BoltDB file; the mock has no BoltDB, so its backup is the JSON snapshot
of every store (`MockState.snapshot()`), wrapped in an envelope with a format marker and
gzip-compressed. The bytes are deterministic for a given state (gzip mtime 0, sorted keys), so
two backups of the same state compare equal.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from mockserver.errors import MockError
from mockserver.store.backup_schema import InvalidSnapshot, check_snapshot

FORMAT = "kapacitor-mock-backup"
VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"
_BOLT_MAGIC = b"\xed\xda\x0c\xed"  # little-endian 0xED0CDAED in the meta page, after its 16-byte header
#: Decompressed size a backup may have (a seed over HTTP is outside input: no gzip bombs).
MAX_BACKUP_BYTES = 256 * 1024 * 1024


class BackupError(MockError, ValueError):
    """The file is not a backup this mock can restore; the message says why."""


def dumps(snapshot: dict[str, Any], *, kapacitor_version: str = "") -> bytes:
    envelope = {"format": FORMAT, "version": VERSION, "kapacitor_version": kapacitor_version, "state": snapshot}
    try:
        text = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BackupError(f"the mock state cannot be serialised: {exc}") from None
    return gzip.compress(text.encode("utf-8", "surrogatepass"), compresslevel=6, mtime=0)


def loads(data: bytes) -> dict[str, Any]:
    """The snapshot inside a backup file, checked object by object, ready for `MockState.restore()`."""
    if len(data) >= 20 and data[16:20] == _BOLT_MAGIC:
        raise BackupError(
            "this is a BoltDB file (a real Kapacitor backup); the mock can only restore backups it made itself"
        )
    if not data.startswith(_GZIP_MAGIC):
        raise BackupError("not a kapacitor-mock backup: the file is not gzip-compressed")
    raw = _gunzip(data)
    try:
        envelope = json.loads(raw.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BackupError(f"corrupt kapacitor-mock backup: invalid JSON: {exc}") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise BackupError(f"not a kapacitor-mock backup: missing format marker {FORMAT!r}")
    version = envelope.get("version")
    if version != VERSION:
        raise BackupError(f"unsupported kapacitor-mock backup version {version!r} (this mock reads version {VERSION})")
    state = envelope.get("state")
    if not isinstance(state, dict):
        raise BackupError("corrupt kapacitor-mock backup: the state is not an object")
    validate(state)
    return state


def validate(snapshot: Any) -> None:
    """BackupError (one line: object and field) unless every object of `snapshot` can be restored."""
    try:
        check_snapshot(snapshot)
    except InvalidSnapshot as exc:
        raise BackupError(f"invalid kapacitor-mock backup: {exc}") from None
    except RecursionError:
        raise BackupError("invalid kapacitor-mock backup: nested too deeply") from None


def _gunzip(data: bytes, limit: int = MAX_BACKUP_BYTES) -> bytes:
    """Every gzip member of `data`, decompressed in bounded steps (BackupError past `limit`)."""
    out = bytearray()
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = inflater.decompress(rest, limit + 1 - len(out))
            while True:
                out += chunk
                if len(out) > limit:
                    raise BackupError(f"kapacitor-mock backup larger than {limit} bytes once decompressed")
                if inflater.eof or not inflater.unconsumed_tail:
                    break
                chunk = inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
            if not inflater.eof:
                raise BackupError("corrupt kapacitor-mock backup: Compressed file ended before the end-of-stream marker was reached")
            rest = inflater.unused_data.lstrip(b"\0")  # zero padding after a member is allowed, as in gzip
            if rest and not rest.startswith(_GZIP_MAGIC):
                raise BackupError("corrupt kapacitor-mock backup: trailing garbage after the compressed data")
    except zlib.error as exc:
        raise BackupError(f"corrupt kapacitor-mock backup: {exc}") from None
    return bytes(out)


def load_file(path: str) -> dict[str, Any]:
    """Read a backup file for `--restore` (OS errors propagate with their own message)."""
    with open(path, "rb") as fh:
        return loads(fh.read())
