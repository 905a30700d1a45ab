"""Access tokens (short-lived JWTs) and refresh tokens (opaque, stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core.errors import Unauthorized

ALGORITHM = "HS256"
AUDIENCE = "campaign-manager"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    workspace_id: uuid.UUID
    token_id: str
    expires_at: datetime


def issue_access_token(
    secret: str, *, user_id: uuid.UUID, workspace_id: uuid.UUID, ttl_seconds: int
) -> tuple[str, datetime]:
    """Sign a token naming the user and the workspace it acts in; returns it and its expiry."""
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_seconds)
    claims = {
        "sub": str(user_id),
        "wid": str(workspace_id),
        "jti": secrets.token_urlsafe(12),
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def decode_access_token(secret: str, token: str) -> AccessClaims:
    """Verify signature, audience and expiry; any failure is ``Unauthorized``."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "wid", "exp", "jti"]},
        )
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            workspace_id=uuid.UUID(claims["wid"]),
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("access token expired; refresh it") from None
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise Unauthorized("access token is not valid") from None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 is enough: refresh tokens are 256 random bits, not guessable passwords."""
    return hashlib.sha256(token.encode()).hexdigest()
