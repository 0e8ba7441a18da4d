"""Users and their privileges (served only with --auth), with the auth service's rules.

Kapacitor stores a user as a name, a password hash, an admin flag and a map of API resources
(`/api`, `/api/write`, `/api/config`, `/api/ping`) to privileges. Permissions (`api`,
`config_api`, `write_points`, `all`, `none`) are only a client-side vocabulary converted to and
from that map, which is why e.g. `api` + `config_api` + `write_points` is reported as `["all"]`.
The map is what authorization walks, so the store keeps the map, not the permission list.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import bcrypt

from mockserver.errors import NotFound, ServerError
from mockserver.store.listing import SortedIndex
from mockserver.store.state import StoreState

#: Name of the implicit user of every request when authentication is off.
ANONYMOUS_ADMIN = "ADMIN_USER"
#: Bootstrap administrator created when the mock starts with auth enabled (a real server needs
#: one created before auth is switched on; the mock cannot ask for that, so it ships one).
DEFAULT_ADMIN_USER = "admin"
DEFAULT_ADMIN_PASSWORD = "admin"

PERMISSIONS = ("none", "api", "config_api", "write_points", "all")

ROOT_RESOURCE = "/api"
WRITE_RESOURCE = "/api/write"
PING_RESOURCE = "/api/ping"
CONFIG_RESOURCE = "/api/config"

#: Privilege values stored per resource: the auth service only ever grants these two.
ALL = "all"
NONE = "none"


@dataclass
class User:
    name: str
    admin: bool
    salt: str
    digest: str
    privileges: dict[str, str] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return "admin" if self.admin else "normal"

    @property
    def permissions(self) -> list[str]:
        return permissions_of(self.privileges)

    def check_password(self, password: str) -> bool:
        """bcrypt, as the auth service stores passwords; a salted SHA-256 digest (backups of
        earlier mock versions) is still accepted. A malformed stored hash matches nothing."""
        if self.digest.startswith("$2"):
            try:
                return bcrypt.checkpw(_password_bytes(password), self.digest.encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                return False
        try:
            salt = bytes.fromhex(self.salt)
        except ValueError:
            return False
        legacy = hashlib.sha256(salt + password.encode("utf-8", "surrogatepass")).hexdigest()
        return hmac.compare_digest(legacy, self.digest)


#: `[auth] bcrypt-cost` default of the real server.
DEFAULT_BCRYPT_COST = 10
#: bcrypt reads at most 72 bytes of a password (Go's bcrypt of the 1.5 era ignored the rest).
_BCRYPT_MAX_BYTES = 72
#: How long a verified password skips bcrypt (`[auth] cache-expiration` default: 10m).
CACHE_SECONDS = 600.0
_bootstrap_hashes: dict[tuple[str, int], str] = {}
_bootstrap_lock = threading.Lock()


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-8", "surrogatepass")[:_BCRYPT_MAX_BYTES]


def _hash_password(password: str, cost: int = DEFAULT_BCRYPT_COST) -> tuple[str, str]:
    """(salt, hash): bcrypt keeps its salt inside the hash, so the salt field stays empty."""
    return "", bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt(cost)).decode("ascii")


def _bootstrap_hash(password: str, cost: int) -> str:
    """One hash per process for the configured admin: every new mock state would otherwise pay
    a full bcrypt (tests build hundreds)."""
    with _bootstrap_lock:
        key = (password, cost)
        if key not in _bootstrap_hashes:
            _bootstrap_hashes[key] = _hash_password(password, cost)[1]
        return _bootstrap_hashes[key]


def privileges_for(permissions: list[str]) -> dict[str, str]:
    """Permissions → resource privileges, applied in request order like the server does.

    `api` grants the root but fences off write and config unless something already granted
    them, so the order of the list matters (e.g. `["write_points", "api"]` keeps writes).
    """
    privileges: dict[str, str] = {}
    for perm in permissions:
        if perm == "none":
            continue
        if perm == "api":
            privileges[ROOT_RESOURCE] = ALL
            privileges.setdefault(WRITE_RESOURCE, NONE)
            privileges.setdefault(CONFIG_RESOURCE, NONE)
        elif perm == "config_api":
            privileges[PING_RESOURCE] = ALL
            privileges[CONFIG_RESOURCE] = ALL
        elif perm == "write_points":
            privileges[PING_RESOURCE] = ALL
            privileges[WRITE_RESOURCE] = ALL
        elif perm == "all":
            privileges[ROOT_RESOURCE] = ALL
            privileges[CONFIG_RESOURCE] = ALL
            privileges[WRITE_RESOURCE] = ALL
        else:  # decoding already rejected anything else
            raise ValueError(f"unknown permission {perm}")
    return privileges


def permissions_of(privileges: dict[str, str]) -> list[str]:
    has_api = privileges.get(ROOT_RESOURCE) == ALL
    has_config = privileges.get(CONFIG_RESOURCE) == ALL
    has_write = privileges.get(WRITE_RESOURCE) == ALL
    if has_api and has_config and has_write:
        return ["all"]
    perms = []
    if has_api:
        perms.append("api")
    if has_config:
        perms.append("config_api")
    if has_write:
        perms.append("write_points")
    return perms


class UserStore:
    """Users by name, listed in byte order like the bolt-backed indexed store."""

    def __init__(self, state: StoreState) -> None:
        self.state = state
        self._lock = state.lock
        self.users: dict[str, User] = {}
        self.index = SortedIndex()
        config = getattr(state, "config", None)
        self.bootstrap_name = getattr(config, "auth_user", DEFAULT_ADMIN_USER)
        self.bootstrap_password = getattr(config, "auth_password", DEFAULT_ADMIN_PASSWORD)
        self.cost = int(getattr(config, "bcrypt_cost", DEFAULT_BCRYPT_COST))
        #: name → (keyed digest of the password last verified, expiry, stored hash it matched)
        self._verified: dict[str, tuple[bytes, float, str]] = {}
        self._cache_key = os.urandom(32)
        if config is not None and getattr(config, "auth", False):
            self.ensure_bootstrap()

    def ensure_bootstrap(self) -> None:
        """Create the configured administrator unless a user of that name exists."""
        with self._lock:
            if self.bootstrap_name and self.bootstrap_name not in self.users:
                digest = _bootstrap_hash(self.bootstrap_password, self.cost)
                self._put(User(self.bootstrap_name, True, "", digest, {}))

    # ---- queries ----------------------------------------------------------------------------------

    def get(self, name: str) -> User:
        user = self.users.get(name)
        if user is None:
            raise NotFound("no user exists")
        return user

    def find(self, name: str) -> User | None:
        return self.users.get(name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user whose password this is; a verified password is remembered for CACHE_SECONDS
        (keyed digest only) so requests do not pay bcrypt each time, as the server's cache does."""
        user = self.users.get(name)
        if user is None:
            return None
        key = hmac.new(self._cache_key, password.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        now = time.monotonic()
        hit = self._verified.get(name)
        if hit is not None and hit[2] == user.digest and hit[1] > now and hmac.compare_digest(hit[0], key):
            return user
        if not user.check_password(password):
            return None
        self._verified[name] = (key, now + CACHE_SECONDS, user.digest)
        return user

    def list_users(self, pattern: str, offset: int, limit: int) -> list[User]:
        """A negative limit lists every user, ignoring pattern and offset (IndexedStore quirk)."""
        with self._lock:
            if limit < 0:
                return [self.users[n] for n in self.index]
            window = self.index.deferred(pattern, offset, limit)
        names = window()  # glob matching outside the lock
        with self._lock:
            return [self.users[n] for n in names if n in self.users]

    # ---- mutations --------------------------------------------------------------------------------

    def create(self, name: str, password: str, admin: bool, permissions: list[str]) -> User | None:
        """None when the user exists: the server then answers an empty user and changes nothing."""
        salt, digest = _hash_password(password, self.cost)  # slow by design: not under the lock
        with self._lock:
            if name in self.users:
                return None
            user = User(name, admin, salt, digest, privileges_for(permissions))
            self._put(user)
            return user

    def update(self, name: str, password: str, *, set_type: bool, admin: bool, permissions: list[str] | None) -> User:
        hashed = _hash_password(password, self.cost) if password else None  # not under the lock
        with self._lock:
            old = self.users.get(name)
            if old is None:
                raise ServerError("failed to create user: updating user: no user exists")
            user = User(old.name, old.admin, old.salt, old.digest, dict(old.privileges))
            if hashed is not None:
                user.salt, user.digest = hashed
            if permissions is not None:
                user.privileges = privileges_for(permissions)
            if set_type:
                user.admin = admin
                if admin:
                    user.privileges = {}
            self._put(user)
            return user

    def delete(self, name: str) -> None:
        with self._lock:
            if self.users.pop(name, None) is not None:
                self.index.discard(name)
                self.state.touch("users", "users", name)
            self._verified.pop(name, None)

    def _put(self, user: User) -> None:
        if user.name not in self.users:
            self.index.add(user.name)
        self.users[user.name] = user
        self.state.touch("users", "users", user.name)

    # ---- backup -----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"users": [_user_json(self.users[n]) for n in self.index]}

    def item(self, section: str, key: str) -> dict[str, Any] | None:
        """One user of the snapshot (None: it is gone)."""
        user = self.users.get(key)
        return None if user is None else _user_json(user)

    def restore(self, data: dict[str, Any]) -> None:
        """Replace all users; the bootstrap admin is re-added if the snapshot lacks it, so a
        restored mock with auth on can still be logged into."""
        with self._lock:
            self.users.clear()
            self._verified.clear()
            self.index = SortedIndex()
            for raw in data.get("users", []):
                privileges = {str(k): (ALL if v == ALL else NONE) for k, v in (raw.get("privileges") or {}).items()}
                self._put(User(raw["name"], bool(raw.get("admin")), raw.get("salt", ""), raw["hash"], privileges))
            if getattr(getattr(self.state, "config", None), "auth", False):
                self.ensure_bootstrap()


def _user_json(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "admin": user.admin,
        "salt": user.salt,
        "hash": user.digest,
        "privileges": dict(sorted(user.privileges.items())),
    }
