"""Mailboxes of a workspace (SMTP accounts and their limits)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from core.errors import Conflict
from core.outreach_rules import HOLDS_MAILBOX
from storage.models import Mailbox, OutreachCampaign
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

    async def delete(self, row_id: uuid.UUID) -> None:
        """Delete the mailbox; one an outreach is sending through (scheduled, sending or
        paused) is a 409: its mail would otherwise fall back to the outbox folder unseen."""
        await self.lock(row_id)
        using = await self.session.scalar(
            select(func.count())
            .select_from(OutreachCampaign)
            .where(
                OutreachCampaign.workspace_id == self.workspace_id,
                OutreachCampaign.mailbox_id == row_id,
                OutreachCampaign.status.in_(HOLDS_MAILBOX),
            )
        )
        if using:
            raise Conflict(
                f"{using} outreach campaign(s) send through this mailbox; cancel them or give "
                "them another mailbox first"
            )
        await super().delete(row_id)
