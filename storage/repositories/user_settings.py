"""Per-user settings inside a workspace: JSON values under string keys."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.ids import new_id
from storage.models import UserSetting


class UserSettingRepository:
    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.user_id = user_id

    def _mine(self) -> tuple[Any, ...]:
        return (UserSetting.workspace_id == self.workspace_id, UserSetting.user_id == self.user_id)

    async def all(self) -> dict[str, dict[str, Any]]:
        rows = await self.session.scalars(
            select(UserSetting).where(*self._mine()).order_by(UserSetting.key)
        )
        return {row.key: row.value for row in rows}

    async def get(self, key: str) -> dict[str, Any]:
        value = await self.session.scalar(
            select(UserSetting.value).where(*self._mine(), UserSetting.key == key)
        )
        if value is None:
            raise NotFound(f"setting {key!r} not found")
        return dict(value)

    async def put(self, key: str, value: dict[str, Any]) -> None:
        statement = insert(UserSetting).values(
            id=new_id(),
            workspace_id=self.workspace_id,
            user_id=self.user_id,
            key=key,
            value=value,
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["workspace_id", "user_id", "key"],
                set_={"value": statement.excluded.value, "updated_at": func.now()},
            )
        )

    async def delete(self, key: str) -> None:
        result = await self.session.execute(
            delete(UserSetting)
            .where(*self._mine(), UserSetting.key == key)
            .returning(UserSetting.id)
        )
        if result.first() is None:
            raise NotFound(f"setting {key!r} not found")
