"""`--data-dir`: the mock's state on disk, durable before an answer leaves the server.

The state layer journals *rows*: one JSON value per object, addressed by (family, section, key)
— a task, a template, an alert topic with its events, a user ... (`MockState` decides the layout
and which rows a request changed). This module only stores rows. It uses SQLite from the standard
library in WAL mode with `synchronous=FULL`: every batch of changed rows is one transaction whose
commit fsyncs the write-ahead log, so an acknowledged change survives `kill -9` (and power loss,
as far as the disk honours fsync), a half-written batch is rolled back by SQLite on the next open,
and the cost of a write is that of the rows it changed, never of the whole state.

The directory belongs to the mock: anything in it that is not the mock's own file is refused at
start (a wrong `--data-dir` must not be mistaken for an empty state), and so is a database of
another application, a newer layout, or one that fails SQLite's integrity check. An exclusive
lock keeps a second mock off the same directory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence

from mockserver.errors import MockError
from mockserver.store import MockState, Row, snapshot_of
from mockserver.store.backup import BackupError, validate

try:  # POSIX only; without it a second mock on the same directory is not detected.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

DATA_FILE = "kapacitor-mock.sqlite3"
LOCK_FILE = "kapacitor-mock.lock"
#: Files SQLite keeps next to the database in WAL mode.
_OWN_FILES = frozenset({DATA_FILE, DATA_FILE + "-wal", DATA_FILE + "-shm", DATA_FILE + "-journal", LOCK_FILE})
#: `PRAGMA application_id` of the mock's data file ("KMck"), so a foreign SQLite file is told apart.
APPLICATION_ID = 0x4B4D636B
#: `PRAGMA user_version`: the row layout; bump when it changes incompatibly.
LAYOUT_VERSION = 1


class PersistenceError(MockError):
    """The data directory cannot be used; the message is one line for the user."""


class DataDir:
    """An open data directory: `load()` at start, then `write()` per change batch."""

    def __init__(self, path: str, conn: sqlite3.Connection, lock_fd: int | None) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        self._mutex = threading.Lock()  # one connection, used from every worker thread

    # ---- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str) -> DataDir:
        """Create or open `path`; PersistenceError (one line) for anything that is not ours."""
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)  # it holds password hashes
        except OSError as exc:
            raise PersistenceError(f"cannot create data directory {path}: {exc.strerror or exc}") from None
        if not os.path.isdir(path):
            raise PersistenceError(f"{path} is not a directory")
        try:
            foreign = sorted(name for name in os.listdir(path) if name not in _OWN_FILES)
        except OSError as exc:
            raise PersistenceError(f"cannot read data directory {path}: {exc.strerror or exc}") from None
        if foreign:
            raise PersistenceError(
                f"{path} is not a kapacitor-mock data directory: unexpected file {foreign[0]!r}"
                + (f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else "")
            )
        lock_fd = _lock(path)
        try:
            conn = _connect(os.path.join(path, DATA_FILE))
        except BaseException:
            _unlock(lock_fd)
            raise
        return cls(path, conn, lock_fd)

    # ---- reading and writing ------------------------------------------------------------------

    def load(self) -> list[Row]:
        """Every stored row in write order (an update keeps its row's place, like a dict)."""
        with self._mutex:
            try:
                cursor = self._conn.execute("SELECT family, section, key, value FROM items ORDER BY rowid")
                rows: list[Row] = []
                for family, section, key, text in cursor:
                    if not (isinstance(family, str) and isinstance(section, str) and isinstance(key, str)):
                        raise PersistenceError(f"corrupt data file in {self.path}: a row has a non-text address")
                    try:
                        value = json.loads(text)
                    except (TypeError, ValueError):
                        raise PersistenceError(
                            f"corrupt data file in {self.path}: {family}/{section} {key!r} is not valid JSON"
                        ) from None
                    rows.append((family, section, key, value))
                return rows
            except sqlite3.DatabaseError as exc:
                raise PersistenceError(f"corrupt data file in {self.path}: {exc}") from None

    def write(self, rows: Sequence[Row]) -> None:
        """Store a batch atomically and durably (the commit fsyncs); raises on I/O failure."""
        upserts = [(f, s, k, _dumps(v)) for f, s, k, v in rows if v is not None]
        deletes = [(f, s, k) for f, s, k, v in rows if v is None]
        with self._mutex:
            self._transaction(upserts, deletes, replace=False)

    def replace_all(self, rows: Iterable[Row]) -> None:
        """Make the stored rows exactly `rows` in one transaction (restore, seed, reset)."""
        upserts = [(f, s, k, _dumps(v)) for f, s, k, v in rows if v is not None]
        with self._mutex:
            self._transaction(upserts, [], replace=True)

    def _transaction(
        self, upserts: list[tuple[str, str, str, str]], deletes: list[tuple[str, str, str]], *, replace: bool
    ) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if replace:
                conn.execute("DELETE FROM items")
            if deletes:
                conn.executemany("DELETE FROM items WHERE family = ? AND section = ? AND key = ?", deletes)
            if upserts:
                conn.executemany(
                    "INSERT INTO items (family, section, key, value) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (family, section, key) DO UPDATE SET value = excluded.value",
                    upserts,
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._mutex:
            self._conn.close()
            _unlock(self._lock_fd)
            self._lock_fd = None


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _connect(file: str) -> sqlite3.Connection:
    existed = os.path.exists(file) and os.path.getsize(file) > 0
    try:
        conn = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise PersistenceError(f"cannot open {file}: {exc}") from None
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if existed:
            if app_id != APPLICATION_ID:
                raise PersistenceError(
                    f"{file} is not a kapacitor-mock data file (an SQLite database of another application)"
                )
            if version != LAYOUT_VERSION:
                raise PersistenceError(
                    f"{file} has data layout {version}; this kapacitor-mock reads layout {LAYOUT_VERSION}"
                )
            check = conn.execute("PRAGMA quick_check(100)").fetchall()
            if check != [("ok",)]:
                problems = [line for (text,) in check for line in str(text).splitlines() if not line.startswith("***")]
                first = problems[0] if problems else "unknown damage"
                raise PersistenceError(f"corrupt data file {file}: SQLite integrity check failed ({first})")
        if conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise PersistenceError(f"cannot switch {file} to write-ahead logging")
        conn.execute("PRAGMA synchronous=FULL")
        if not existed:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS items (family TEXT NOT NULL, section TEXT NOT NULL, key TEXT NOT NULL,"
                " value TEXT NOT NULL, PRIMARY KEY (family, section, key))"
            )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {LAYOUT_VERSION}")
            conn.execute("COMMIT")
        conn.execute("SELECT count(*) FROM items").fetchone()
    except PersistenceError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise PersistenceError(f"{file} is not a usable kapacitor-mock data file: {exc}") from None
    return conn


def _lock(path: str) -> int | None:
    if fcntl is None:  # pragma: no cover
        return None
    lock_path = os.path.join(path, LOCK_FILE)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise PersistenceError(f"cannot create {lock_path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise PersistenceError(f"{path} is in use by another kapacitor-mock") from None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing releases the flock


def start(state: MockState, path: str, *, restoring: bool = False) -> DataDir:
    """Open `path`, load what it holds into `state` (validated like a backup) and journal from now on.

    `restoring`: the state was just loaded from `--restore`; that needs an empty directory, so a
    restart with the same command line cannot silently throw away what was stored since.
    """
    data = DataDir.open(path)
    try:
        rows = data.load()
        if rows:
            if restoring:
                raise PersistenceError(f"{path} already holds a state; --restore needs an empty data directory")
            try:
                snapshot = snapshot_of(rows)
                validate(snapshot)
                state.restore(snapshot)
            except (ValueError, BackupError) as exc:
                raise PersistenceError(f"corrupt data in {path}: {exc}") from None
        state.attach(data)
    except BaseException:
        data.close()
        raise
    return data
