"""Users: global accounts, looked up by id or by (case-insensitive) email."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.emails import normalize_email
from core.errors import NotFound
from storage.models import User
from storage.repositories.base import write_guard


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, *, email: str, password_hash: str, display_name: str = "") -> User:
        user = User(
            email=normalize_email(email), password_hash=password_hash, display_name=display_name
        )
        async with write_guard(self.session, "user"):
            self.session.add(user)
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user

    async def find_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.strip().lower()))

    async def update(self, user_id: uuid.UUID, values: Mapping[str, Any]) -> User:
        user = await self.get(user_id)
        async with write_guard(self.session, "user"):
            for name, value in values.items():
                setattr(user, name, normalize_email(value) if name == "email" else value)
        await self.session.refresh(user)
        return user

    async def delete(self, user_id: uuid.UUID) -> None:
        await self.session.delete(await self.get(user_id))
        await self.session.flush()
