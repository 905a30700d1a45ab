"""Email records, one per recipient and step of an outreach campaign: queuing recipients,
their engagement (opens, clicks, replies) and reads.

Sending them (claiming ``queued -> sending``, settling what the server answered) is the send
queue's, ``storage/repositories/send_queue.py``, which keeps a message from going out twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.emails import normalize_email
from core.enums import EmailStatus
from core.errors import Conflict, NotFound
from core.ids import new_id
from storage.models import Artist, EmailRecord, OutreachCampaign
from storage.repositories.base import Page, ScopedRepository, chunks, write_guard

# Bound values an email record takes in an insert (the keys of ``enqueue``'s rows).
_VALUES_PER_ROW = 7

# Engagement only climbs: an open moves a sent record to opened, a click a sent or opened one to
# clicked. Any other status (replied, bounced, failed, one still being sent) stays as it is;
# the timestamps still say what happened.
_OPENED_FROM = frozenset({EmailStatus.SENT})
_CLICKED_FROM = frozenset({EmailStatus.SENT, EmailStatus.OPENED})


@dataclass(frozen=True)
class Engagement:
    """What one open or click did to a record: whether it was the record's first open or
    first click (only those change it). A hit on a message never delivered is no engagement
    (``delivered`` False) and changes nothing."""

    record: EmailRecord
    delivered: bool
    first_open: bool = False
    first_click: bool = False


async def record_for_link(session: AsyncSession, record_id: uuid.UUID) -> EmailRecord | None:
    """The record a signed link names, in whichever workspace it is: the link's signature, not
    a caller, vouches for it, so every write that follows is scoped to ``record.workspace_id``."""
    return await session.scalar(select(EmailRecord).where(EmailRecord.id == record_id))


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
        statement = insert(EmailRecord).on_conflict_do_nothing().returning(EmailRecord.id)
        added = 0
        for chunk in chunks(list(rows.values()), values_per_item=_VALUES_PER_ROW):
            added += len((await self.session.execute(statement, chunk)).all())
        return added

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

    async def mark_opened(self, record_id: uuid.UUID) -> Engagement:
        """Record an open of the record's message: the first sets ``opened_at`` (and moves a
        ``sent`` record to ``opened``); later ones change nothing."""
        return await self._engage(record_id, click=False)

    async def mark_clicked(self, record_id: uuid.UUID) -> Engagement:
        """Record a click in the record's message: the first sets ``clicked_at`` (and
        ``opened_at`` when no open was seen, since images may be blocked) and moves a ``sent``
        or ``opened`` record to ``clicked``; later ones change nothing."""
        return await self._engage(record_id, click=True)

    async def _engage(self, record_id: uuid.UUID, *, click: bool) -> Engagement:
        # The row lock makes concurrent hits (a mail client and its image proxy fetching the
        # same pixel) record one first open between them.
        record = await self.lock(record_id)
        # The Message-ID is written before SMTP DATA: a record without one never reached
        # anybody, so a hit on its links (a preview, a guessed test) is no engagement.
        if record.message_id is None:
            return Engagement(record, delivered=False)
        now = datetime.now(UTC)
        values: dict[str, Any] = {}
        if record.opened_at is None:
            values["opened_at"] = now
        if click and record.clicked_at is None:
            values["clicked_at"] = now
        if click and record.status in _CLICKED_FROM:
            values["status"] = EmailStatus.CLICKED
        elif not click and record.status in _OPENED_FROM:
            values["status"] = EmailStatus.OPENED
        if values:
            async with write_guard(self.session, self.noun):
                for name, value in values.items():
                    setattr(record, name, value)
            await self.session.refresh(record)
        return Engagement(
            record,
            delivered=True,
            first_open="opened_at" in values,
            first_click="clicked_at" in values,
        )

    async def mark_replied(self, record_id: uuid.UUID) -> tuple[EmailRecord, int]:
        """Record the recipient's reply to the record's message: ``replied`` (the first reply
        sets ``replied_at``), and their follow-ups in the outreach still queued ``skipped``.
        Returns the record and how many follow-ups were skipped. A message never handed to a
        server cannot have been answered (409)."""
        record = await self.lock(record_id)
        if not (record.status.delivered or record.status is EmailStatus.UNKNOWN):
            raise Conflict(
                f"email record {record_id} is {record.status.value}; only a sent message can "
                "be replied to"
            )
        if record.replied_at is None:
            record.replied_at = datetime.now(UTC)
        record.status = EmailStatus.REPLIED
        skipped = await self.session.execute(
            update(EmailRecord)
            .where(
                EmailRecord.workspace_id == self.workspace_id,
                EmailRecord.outreach_campaign_id == record.outreach_campaign_id,
                EmailRecord.to_email == record.to_email,
                EmailRecord.status == EmailStatus.QUEUED,
                EmailRecord.step > record.step,
            )
            .values(status=EmailStatus.SKIPPED, error="the recipient replied")
            .returning(EmailRecord.id),
            execution_options={"synchronize_session": False},
        )
        count = len(skipped.all())
        await self.session.flush()
        await self.session.refresh(record)
        return record, count

    async def by_message_id(self, message_id: str) -> EmailRecord | None:
        """The record whose message carried ``message_id`` (as written, with its brackets)."""
        return await self.session.scalar(self._scoped().where(EmailRecord.message_id == message_id))

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

    async def queued_locations(
        self, outreach_campaign_id: uuid.UUID, *, limit: int
    ) -> tuple[int, list[tuple[str | None, str | None]]]:
        """How many records of the outreach are queued, and the country and city of the artist
        of the first ``limit`` of them in the order senders claim them (``None`` for a recipient
        with no artist, or an artist with no location)."""
        queued = (
            EmailRecord.workspace_id == self.workspace_id,
            EmailRecord.outreach_campaign_id == outreach_campaign_id,
            EmailRecord.status == EmailStatus.QUEUED,
        )
        total = await self.session.scalar(
            select(func.count()).select_from(EmailRecord).where(*queued)
        )
        rows = await self.session.execute(
            select(Artist.country, Artist.city)
            .select_from(EmailRecord)
            .outerjoin(Artist, Artist.id == EmailRecord.artist_id)
            .where(*queued)
            .order_by(EmailRecord.created_at, EmailRecord.id)
            .limit(limit)
        )
        return int(total or 0), [(country, city) for country, city in rows]

    async def first_sent_through(self, mailbox_id: uuid.UUID) -> datetime | None:
        """When the mailbox first sent a message of this workspace (its ramp-up counts from that
        day), or ``None`` if it never has."""
        return await self.session.scalar(
            select(func.min(EmailRecord.sent_at))
            .join(OutreachCampaign, OutreachCampaign.id == EmailRecord.outreach_campaign_id)
            .where(
                EmailRecord.workspace_id == self.workspace_id,
                OutreachCampaign.mailbox_id == mailbox_id,
            )
        )
