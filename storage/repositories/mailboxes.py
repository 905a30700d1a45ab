"""Mailboxes of a workspace (SMTP accounts and their limits)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Mailbox
from storage.repositories.base import ScopedRepository


class MailboxRepository(ScopedRepository[Mailbox]):
    model = Mailbox
    noun = "mailbox"
    sortable = {"created_at": "created_at", "updated_at": "updated_at", "name": "name"}
    searchable = ("name", "host", "from_email")

    async def count(self) -> int:
        """How many mailboxes the workspace has (none: mail goes to the outbox folder)."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(Mailbox)
            .where(Mailbox.workspace_id == self.workspace_id)
        )
        return int(found or 0)
