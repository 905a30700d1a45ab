"""Who is calling: the bearer token, the member it stands for, and what their role allows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.enums import Role
from core.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    """An authenticated member acting in one workspace."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role
    token_id: str

    def require(self, role: Role, action: str) -> None:
        if not self.role.at_least(role):
            raise Forbidden(f"a {self.role} cannot {action}; it needs the {role} role or higher")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <access token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <access token>'")
    return token.strip()
