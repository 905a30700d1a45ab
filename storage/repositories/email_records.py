"""Email records, one per recipient of an outreach campaign.

A sender claims a record (``queued -> sending``) in its own transaction before talking to SMTP
and marks it ``sent`` or ``failed`` after, so a crash between the two is visible and never
causes a second send of a message that went out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from core.emails import normalize_email
from core.enums import EmailStatus
from core.errors import Conflict, NotFound
from core.ids import new_id
from storage.models import Artist, EmailRecord, OutreachCampaign
from storage.repositories.base import Page, ScopedRepository


class EmailRecordRepository(ScopedRepository[EmailRecord]):
    model = EmailRecord
    noun = "email record"
    sortable = {"created_at": "created_at", "updated_at": "updated_at"}

    async def enqueue(
        self, outreach_campaign_id: uuid.UUID, recipients: Iterable[Mapping[str, Any]]
    ) -> int:
        """Queue ``{to_email, artist_id?}`` recipients; one already queued for the campaign is
        skipped. Returns how many were new. An ``artist_id`` missing from the catalogue is a
        ``NotFound`` (and nothing is queued)."""
        await self.require(OutreachCampaign, outreach_campaign_id, "outreach campaign")
        rows: dict[str, dict[str, Any]] = {}
        for recipient in recipients:
            email = normalize_email(recipient["to_email"], field="to_email")
            rows[email] = {
                "id": new_id(),
                "workspace_id": self.workspace_id,
                "outreach_campaign_id": outreach_campaign_id,
                "artist_id": recipient.get("artist_id"),
                "to_email": email,
                "idempotency_key": f"{outreach_campaign_id}:{email}",
                "status": EmailStatus.QUEUED,
            }
        if not rows:
            return 0
        await self._require_artists(
            {row["artist_id"] for row in rows.values() if row["artist_id"] is not None}
        )
        result = await self.session.execute(
            insert(EmailRecord)
            .values(list(rows.values()))
            .on_conflict_do_nothing()
            .returning(EmailRecord.id)
        )
        return len(result.all())

    async def _require_artists(self, artist_ids: set[uuid.UUID]) -> None:
        # Checked first: a foreign-key violation in the bulk insert would abort the transaction.
        if not artist_ids:
            return
        found = set(
            (await self.session.scalars(select(Artist.id).where(Artist.id.in_(artist_ids)))).all()
        )
        missing = sorted(artist_ids - found)
        if missing:
            raise NotFound(f"artist {missing[0]} not found")

    async def claim_next(self, outreach_campaign_id: uuid.UUID, count: int) -> list[EmailRecord]:
        """Move up to ``count`` queued records to ``sending`` and return them. Concurrent
        claimers never get the same record (``FOR UPDATE SKIP LOCKED``)."""
        picked = (
            select(EmailRecord.id)
            .where(
                EmailRecord.workspace_id == self.workspace_id,
                EmailRecord.outreach_campaign_id == outreach_campaign_id,
                EmailRecord.status == EmailStatus.QUEUED,
            )
            .order_by(EmailRecord.created_at, EmailRecord.id)
            .limit(count)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.scalars(
            update(EmailRecord)
            .where(EmailRecord.id.in_(picked))
            .values(
                status=EmailStatus.SENDING, attempts=EmailRecord.attempts + 1, updated_at=func.now()
            )
            .returning(EmailRecord),
            execution_options={"synchronize_session": False},
        )
        return sorted(result.all(), key=lambda r: (r.created_at, r.id))

    async def mark_sent(self, record_id: uuid.UUID, message_id: str) -> EmailRecord:
        return await self._move(
            record_id,
            {EmailStatus.SENDING},
            EmailStatus.SENT,
            message_id=message_id,
            sent_at=datetime.now(UTC),
            error=None,
        )

    async def mark_failed(self, record_id: uuid.UUID, error: str) -> EmailRecord:
        return await self._move(record_id, {EmailStatus.SENDING}, EmailStatus.FAILED, error=error)

    async def _move(
        self,
        record_id: uuid.UUID,
        allowed_from: set[EmailStatus],
        target: EmailStatus,
        **values: Any,
    ) -> EmailRecord:
        record = await self.get(record_id)
        if record.status not in allowed_from:
            raise Conflict(f"email record {record_id} is {record.status}, cannot become {target}")
        return await self.update(record_id, {"status": target, **values})

    async def for_campaign(
        self,
        outreach_campaign_id: uuid.UUID,
        *,
        status: EmailStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[EmailRecord]:
        where = [EmailRecord.outreach_campaign_id == outreach_campaign_id]
        if status is not None:
            where.append(EmailRecord.status == status)
        return await self.list(where=where, limit=limit, cursor=cursor)

    async def count_by_status(self, outreach_campaign_id: uuid.UUID) -> dict[EmailStatus, int]:
        rows = await self.session.execute(
            select(EmailRecord.status, func.count())
            .where(
                EmailRecord.workspace_id == self.workspace_id,
                EmailRecord.outreach_campaign_id == outreach_campaign_id,
            )
            .group_by(EmailRecord.status)
        )
        return dict(rows.all())
