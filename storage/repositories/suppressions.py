"""The suppression list: addresses a workspace must never email again."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from core.emails import normalize_email
from core.enums import SuppressionReason
from core.errors import NotFound
from core.ids import new_id
from core.pagination import DEFAULT_PAGE_SIZE
from storage.models import Suppression
from storage.repositories.base import Page, ScopedRepository


class SuppressionRepository(ScopedRepository[Suppression]):
    model = Suppression
    noun = "suppression"
    sortable = {"created_at": "created_at", "email": "email"}
    searchable = ("email",)

    async def search(
        self,
        *,
        reason: SuppressionReason | None = None,
        q: str | None = None,
        sort: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Suppression]:
        """Suppressions for ``reason`` whose address contains ``q``."""
        where = [] if reason is None else [Suppression.reason == reason]
        return await self.list(where=where, q=q, sort=sort, limit=limit, cursor=cursor)

    async def suppress(self, email: str, reason: SuppressionReason) -> bool:
        """Add ``email``; returns False if it was already suppressed (the first reason is kept)."""
        result = await self.session.execute(
            insert(Suppression)
            .values(
                id=new_id(),
                workspace_id=self.workspace_id,
                email=normalize_email(email),
                reason=reason,
            )
            .on_conflict_do_nothing()
            .returning(Suppression.id)
        )
        return result.first() is not None

    async def find(self, email: str) -> Suppression | None:
        """The suppression of ``email`` (any case), or ``None``."""
        return await self.session.scalar(
            self._scoped().where(Suppression.email == email.strip().lower())
        )

    async def suppressed_among(self, emails: Iterable[str]) -> set[str]:
        wanted = {email.strip().lower() for email in emails}
        if not wanted:
            return set()
        rows = await self.session.scalars(
            select(Suppression.email).where(
                Suppression.workspace_id == self.workspace_id, Suppression.email.in_(wanted)
            )
        )
        return set(rows.all())

    async def is_suppressed(self, email: str) -> bool:
        return bool(await self.suppressed_among([email]))

    async def lift(self, email: str) -> None:
        result = await self.session.execute(
            delete(Suppression)
            .where(
                Suppression.workspace_id == self.workspace_id,
                Suppression.email == email.strip().lower(),
            )
            .returning(Suppression.id)
        )
        if result.first() is None:
            raise NotFound(f"{email} is not suppressed")
