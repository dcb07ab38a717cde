"""PACT partners: OAuth2 clients of the park's PACT host (client credentials over HTTP Basic).

A partner (a customer's or a supplier's system) is registered by the park operator and gets a client id and a
secret, shown once; the store keeps the secret's argon2 hash. `POST /auth/token` exchanges them for a short-lived
JWT whose audience is ``pact``: a login token of a user is not a PACT token and a PACT token opens no user route
(PyJWT refuses a token with an audience where none is expected). A partner sees only the published footprints
shared with it (`parkzero.footprint.records`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parkzero.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

AUDIENCE = "pact"
ALGORITHM = "HS256"
_hasher = PasswordHasher()


class TokenExpired(Unauthorized):
    """A PACT access token past its expiry (the spec's ``TokenExpired``)."""


@dataclass(frozen=True)
class Partner:
    """An active PACT client of one park."""

    id: int
    client_id: str
    name: str
    park_id: int


def create(store: Store, scope: Scope, park_code: str, name: str) -> tuple[str, dict]:
    """Register a partner; returns (the secret, shown only now; the record with its ``client_id``)."""
    scope.require_operator()
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed("a partner needs a name of 1-200 characters")
    pid = repo.park_id(store, scope, park_code)
    client_id = f"pact-{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    with store.db.write_lock, store.db.transaction():
        if store.db.fetchone(
            "SELECT 1 FROM pact_clients WHERE park_id = ? AND name = ? AND revoked_at IS NULL", (pid, name)
        ):
            raise Conflict(f"partner {name!r} exists already in park {park_code!r}")
        store.db.execute(
            "INSERT INTO pact_clients (client_id, secret_hash, name, park_id, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (client_id, _hasher.hash(secret), name, pid, scope.actor, datetime.now(UTC)),
        )
        store.audit(scope.actor, "create", "pact_clients", client_id, after={"name": name}, park_id=pid)
    return secret, {"client_id": client_id, "name": name, "park": park_code}


def list_partners(store: Store, scope: Scope, park_code: str) -> list[dict]:
    """The park's partners (operator, or a tenant choosing whom to share with); secrets never leave the store."""
    if scope.role not in ("operator", "enterprise", "system"):
        scope.require_operator()
    pid = repo.park_id(store, scope, park_code)
    return store.db.fetchdicts(
        "SELECT client_id, name, created_at, revoked_at FROM pact_clients WHERE park_id = ? ORDER BY id", (pid,)
    )


def revoke(store: Store, scope: Scope, park_code: str, client_id: str) -> None:
    scope.require_operator()
    pid = repo.park_id(store, scope, park_code)
    with store.db.write_lock, store.db.transaction():
        row = store.db.fetchone(
            "SELECT id FROM pact_clients WHERE park_id = ? AND client_id = ? AND revoked_at IS NULL", (pid, client_id)
        )
        if row is None:
            raise NotFound(f"no active partner {client_id!r} in park {park_code!r}")
        store.db.execute("UPDATE pact_clients SET revoked_at = ? WHERE id = ?", (datetime.now(UTC), row[0]))
        store.audit(scope.actor, "revoke", "pact_clients", client_id, park_id=pid)


def partner_id(store: Store, scope: Scope, park_code: str, client_id: str) -> int:
    """The row id of an active partner of the park, for sharing."""
    pid = repo.park_id(store, scope, park_code)
    row = store.db.fetchone(
        "SELECT id FROM pact_clients WHERE park_id = ? AND client_id = ? AND revoked_at IS NULL", (pid, client_id)
    )
    if row is None:
        raise NotFound(f"no active partner {client_id!r} in park {park_code!r}")
    return int(row[0])


def authenticate(store: Store, client_id: str, secret: str) -> Partner:
    """The partner whose credentials these are; Unauthorized for unknown, revoked or wrong ones (one message)."""
    row = store.db.fetchone(
        "SELECT id, secret_hash, name, park_id FROM pact_clients WHERE client_id = ? AND revoked_at IS NULL",
        (client_id,),
    )
    try:
        if row is None:
            raise VerificationError
        _hasher.verify(row[1], secret)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("client authentication failed") from None
    return Partner(int(row[0]), client_id, row[2], int(row[3]))


def issue_token(partner: Partner, signing_key: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": partner.client_id, "aud": AUDIENCE, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, signing_key, ALGORITHM)


def partner_of_token(store: Store, token: str, signing_key: str) -> Partner:
    """The active partner a PACT access token was issued to; TokenExpired or Unauthorized otherwise."""
    try:
        claims = jwt.decode(
            token, signing_key, algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["sub", "exp", "aud"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired("the access token has expired; request a new one at /auth/token") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("invalid access token") from None
    row = store.db.fetchone(
        "SELECT id, name, park_id FROM pact_clients WHERE client_id = ? AND revoked_at IS NULL", (claims["sub"],)
    )
    if row is None:
        raise Unauthorized("the partner of this token is unknown or revoked")
    return Partner(int(row[0]), str(claims["sub"]), row[1], int(row[2]))
