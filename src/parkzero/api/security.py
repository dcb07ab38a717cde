"""Short-lived JWTs (HS256) for logged-in users; the subject is the username, re-read on each request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from parkzero.errors import Unauthorized

ALGORITHM = "HS256"


def issue_token(username: str, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    return jwt.encode({"sub": username, "iat": now, "exp": now + timedelta(minutes=minutes)}, secret, ALGORITHM)


def read_token(token: str, secret: str) -> str:
    """The username in a valid token; Unauthorized when expired or forged."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; log in again") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("invalid token") from None
    return str(claims["sub"])
