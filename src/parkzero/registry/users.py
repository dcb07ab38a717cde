"""Users (argon2-hashed passwords, roles) and API keys for meter gateways.

An API key is shown once when created (`pzk_<prefix>_<secret>`); the store keeps only its SHA-256, which is
enough for a 256-bit random secret and cheap enough to check on every upload.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parkzero.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import ROLES, Scope
from parkzero.store import Store

_hasher = PasswordHasher()
_USER_COLS = "id, username, role, park_id, enterprise_id, display_name, active, created_at"
MIN_PASSWORD = 8


def create_user(
    store: Store,
    scope: Scope,
    username: str,
    password: str,
    role: str,
    *,
    park_code: str | None = None,
    enterprise_code: str | None = None,
    display_name: str | None = None,
) -> dict:
    scope.require_operator()
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password must have at least {MIN_PASSWORD} characters")
    if not username or len(username) > 64:
        raise ValidationFailed("username must have 1-64 characters")
    park_id = repo.park_id(store, scope, park_code) if park_code else scope.park_id
    enterprise_id = None
    if role == "enterprise":
        if not (park_code and enterprise_code):
            raise ValidationFailed("an enterprise user needs --park and --enterprise")
        enterprise_id = repo.get_entity(store, scope, "enterprises", park_code, enterprise_code)["id"]
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone("SELECT 1 FROM users WHERE username = ?", (username,)):
            raise Conflict(f"user {username!r} exists already")
        store.db.execute(
            "INSERT INTO users (username, password_hash, role, park_id, enterprise_id, display_name, active, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, TRUE, ?)",
            (username, _hasher.hash(password), role, park_id, enterprise_id, display_name, datetime.now(UTC)),
        )
        user = get_user(store, username)
        store.audit(
            scope.actor,
            "create",
            "users",
            user["id"],
            after=user,
            park_id=park_id,
            enterprise_id=enterprise_id,
        )
    return user


def get_user(store: Store, username: str) -> dict:
    rows = store.db.fetchdicts(f"SELECT {_USER_COLS} FROM users WHERE username = ?", (username,))
    if not rows:
        raise NotFound(f"no user {username!r}")
    return rows[0]


def list_users(store: Store, scope: Scope) -> list[dict]:
    scope.require_operator()
    where, params = ("", []) if scope.is_system else (" WHERE park_id = ?", [scope.park_id])
    return store.db.fetchdicts(f"SELECT {_USER_COLS} FROM users{where} ORDER BY username", params)


def set_password(store: Store, scope: Scope, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password must have at least {MIN_PASSWORD} characters")
    user = get_user(store, username)
    own = scope.actor == username
    operator_here = scope.role == "operator" and (scope.park_id is None or scope.park_id == user["park_id"])
    if not (scope.is_system or own or operator_here):
        raise (
            NotFound(f"no user {username!r}")
            if scope.role == "operator"
            else Forbidden("you may change only your own password")
        )
    with store.db.write_lock, store.db.transaction():
        store.db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (_hasher.hash(password), user["id"]))
        store.audit(scope.actor, "set_password", "users", user["id"])


def authenticate(store: Store, username: str, password: str) -> Scope:
    """The scope of a user whose password matches; Unauthorized otherwise (same message either way)."""
    row = store.db.fetchone(
        "SELECT password_hash, role, park_id, enterprise_id, active FROM users WHERE username = ?",
        (username,),
    )
    if row is None:
        _hasher.hash(password)  # same cost whether or not the user exists
        raise Unauthorized("wrong username or password")
    password_hash, role, park_id, enterprise_id, active = row
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong username or password") from None
    if not active:
        raise Unauthorized("this user is disabled")
    return Scope(actor=username, role=role, park_id=park_id, enterprise_id=enterprise_id)


def scope_of(store: Store, username: str) -> Scope:
    """The current scope of a user (role or tenant may have changed since a token was issued)."""
    row = store.db.fetchone("SELECT role, park_id, enterprise_id, active FROM users WHERE username = ?", (username,))
    if row is None or not row[3]:
        raise Unauthorized("unknown or disabled user")
    return Scope(actor=username, role=row[0], park_id=row[1], enterprise_id=row[2])


# -- API keys for gateways ---------------------------------------------------------------------------
def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    store: Store, scope: Scope, name: str, park_code: str, enterprise_code: str | None = None
) -> tuple[str, dict]:
    """Create a gateway key; returns (the key, shown only now; its record)."""
    scope.require_operator()
    pid = repo.park_id(store, scope, park_code)
    eid = repo.get_entity(store, scope, "enterprises", park_code, enterprise_code)["id"] if enterprise_code else None
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = f"pzk_{prefix}_{secret}"
    with store.db.write_lock, store.db.transaction():
        store.db.execute(
            "INSERT INTO api_keys (name, prefix, key_hash, park_id, enterprise_id, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, prefix, _digest(key), pid, eid, scope.actor, datetime.now(UTC)),
        )
        store.audit(
            scope.actor,
            "create",
            "api_keys",
            prefix,
            after={"name": name, "prefix": prefix},
            park_id=pid,
            enterprise_id=eid,
        )
    return key, {"name": name, "prefix": prefix, "park": park_code, "enterprise": enterprise_code}


def revoke_api_key(store: Store, scope: Scope, prefix: str) -> None:
    scope.require_operator()
    with store.db.write_lock, store.db.transaction():
        row = store.db.fetchone("SELECT park_id FROM api_keys WHERE prefix = ? AND revoked_at IS NULL", (prefix,))
        if row is None or not scope.can_see(row[0], None):
            raise NotFound(f"no active API key {prefix!r}")
        store.db.execute("UPDATE api_keys SET revoked_at = ? WHERE prefix = ?", (datetime.now(UTC), prefix))
        store.audit(scope.actor, "revoke", "api_keys", prefix, park_id=row[0])


def scope_of_api_key(store: Store, key: str) -> Scope:
    """A gateway's scope: it may write readings of its park (or of its one enterprise)."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "pzk":
        raise Unauthorized("malformed API key")
    row = store.db.fetchone(
        "SELECT name, key_hash, park_id, enterprise_id, revoked_at FROM api_keys WHERE prefix = ?",
        (parts[1],),
    )
    if row is None or row[4] is not None or not hmac.compare_digest(row[1], _digest(key)):
        raise Unauthorized("unknown or revoked API key")
    role = "enterprise" if row[3] is not None else "operator"
    return Scope(actor=f"gateway:{row[0]}", role=role, park_id=row[2], enterprise_id=row[3])
