"""An outreach's send queue: the email records its actor claims, hands to senders and settles.

The exactly-once protocol lives here, in three kinds of transaction:

1. :meth:`SendQueue.claim` moves due records ``queued -> sending`` and writes each one's stable
   Message-ID, committed before any of them is handed to a sender (so before SMTP DATA).
2. :meth:`SendQueue.settle` writes what the senders answered: ``sent``, ``bounced`` (and the
   address suppressed), ``failed``, ``unknown``, or back to ``queued`` for a retry or a message
   never attempted; with an analytics event per message and the next follow-up queued.
3. Records still ``sending`` when an actor starts (:meth:`SendQueue.handed_out`), or whose
   sender died, are settled from the send ledger (``storage/send_ledger.py``): what a sender
   reported, back to the queue if no sender had started them, else ``unknown``. An unknown one
   is never sent again unless a user asks (:meth:`SendQueue.resend`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.delivery import MAX_ATTEMPTS, Delivery, Result, error_text, retry_delay
from core.enums import EmailStatus, SuppressionReason
from core.errors import Conflict
from core.ids import new_id
from core.messages import message_domain, message_id_for
from storage.models import Artist, EmailRecord, OutreachStep, Suppression
from storage.repositories.analytics_events import AnalyticsEventRepository, NewEvent
from storage.repositories.base import chunks
from storage.repositories.suppressions import SuppressionRepository

# What a record of a recipient who engaged this way stops: their later follow-ups are skipped.
_ENDS_SEQUENCE = (EmailStatus.REPLIED, EmailStatus.BOUNCED)
_INTERRUPTED = (
    "the send was interrupted (the sender or the service stopped) after the message was handed "
    "to the server; it may or may not have been delivered, so it is not sent again unless you "
    "resend it"
)
_EVENT_OF: dict[Result, str] = {
    Result.SENT: "email.sent",
    Result.RETRY: "email.deferred",
    Result.BOUNCED: "email.bounced",
    Result.FAILED: "email.failed",
    Result.UNKNOWN: "email.unknown",
}


@dataclass(frozen=True)
class Candidate:
    """A due record, before it is claimed: enough to decide whether its window is open."""

    id: uuid.UUID
    country: str | None
    city: str | None
    # Claims so far: claiming it now makes it claim ``claims + 1``.
    claims: int


@dataclass(frozen=True)
class Claimed:
    """A record handed out for sending, with what its message is built from."""

    id: uuid.UUID
    to_email: str
    step: int
    message_id: str
    attempts: int
    # The record's claim count: its send-ledger entry (storage/send_ledger.py).
    claim: int
    artist: Artist | None


@dataclass(frozen=True)
class Settled:
    """What one :meth:`SendQueue.settle` did, by result, for the actor's counters and events."""

    counts: dict[Result, int]
    suppressed: list[str]
    follow_ups: int
    failed_for_good: int


class SendQueue:
    """The send queue of one outreach in one workspace; every call runs in the caller's
    transaction."""

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, outreach_id: uuid.UUID
    ) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.outreach_id = outreach_id

    def _mine(self) -> tuple[Any, ...]:
        return (
            EmailRecord.workspace_id == self.workspace_id,
            EmailRecord.outreach_campaign_id == self.outreach_id,
        )

    async def skip_ended(self) -> int:
        """Mark ``skipped`` every queued record whose address is suppressed, and every queued
        follow-up of a recipient who replied or bounced; returns how many."""
        earlier = EmailRecord.__table__.alias("earlier")
        suppressed = exists().where(
            Suppression.workspace_id == self.workspace_id,
            Suppression.email == EmailRecord.to_email,
        )
        ended = exists().where(
            earlier.c.outreach_campaign_id == EmailRecord.outreach_campaign_id,
            earlier.c.to_email == EmailRecord.to_email,
            or_(earlier.c.status.in_(_ENDS_SEQUENCE), earlier.c.replied_at.is_not(None)),
        )
        result = await self.session.execute(
            update(EmailRecord)
            .where(
                *self._mine(),
                EmailRecord.status == EmailStatus.QUEUED,
                or_(suppressed, and_(EmailRecord.step > 0, ended)),
            )
            .values(
                status=EmailStatus.SKIPPED,
                error="the recipient replied, bounced or unsubscribed first",
                updated_at=func.now(),
            )
            .returning(EmailRecord.id),
            execution_options={"synchronize_session": False},
        )
        return len(result.all())

    async def due(self, now: datetime, limit: int) -> list[Candidate]:
        """Up to ``limit`` queued records due at ``now``, in claim order, locked for this
        transaction (``SKIP LOCKED``: a second actor for the outreach would get others)."""
        rows = await self.session.execute(
            select(EmailRecord.id, Artist.country, Artist.city, EmailRecord.claims)
            .outerjoin(Artist, Artist.id == EmailRecord.artist_id)
            .where(
                *self._mine(),
                EmailRecord.status == EmailStatus.QUEUED,
                or_(EmailRecord.send_after.is_(None), EmailRecord.send_after <= now),
            )
            .order_by(EmailRecord.step, EmailRecord.created_at, EmailRecord.id)
            .limit(limit)
            .with_for_update(of=EmailRecord, skip_locked=True)
        )
        return [Candidate(*row) for row in rows]

    async def postpone(self, until: dict[uuid.UUID, datetime]) -> None:
        """Leave these queued records until the given times (their windows open then)."""
        if until:
            await self.session.execute(
                update(EmailRecord),
                [{"id": record_id, "send_after": at} for record_id, at in until.items()],
            )

    async def claim(self, record_ids: Sequence[uuid.UUID], sender_email: str) -> list[Claimed]:
        """Move these (locked, queued) records to ``sending`` with their Message-IDs."""
        if not record_ids:
            return []
        await self.session.execute(
            update(EmailRecord)
            .where(EmailRecord.id.in_(record_ids))
            .values(
                status=EmailStatus.SENDING,
                message_id=func.concat(
                    "<", cast(EmailRecord.id, String), f"@{message_domain(sender_email)}>"
                ),
                attempts=EmailRecord.attempts + 1,
                claims=EmailRecord.claims + 1,
                updated_at=func.now(),
            ),
            execution_options={"synchronize_session": False},
        )
        rows = await self.session.execute(
            select(EmailRecord, Artist)
            .outerjoin(Artist, Artist.id == EmailRecord.artist_id)
            .where(EmailRecord.id.in_(record_ids))
            .execution_options(populate_existing=True)
        )
        claimed = {
            record.id: Claimed(
                id=record.id,
                to_email=record.to_email,
                step=record.step,
                message_id=record.message_id or message_id_for(record.id, sender_email),
                attempts=record.attempts,
                claim=record.claims,
                artist=artist,
            )
            for record, artist in rows
        }
        return [claimed[record_id] for record_id in record_ids if record_id in claimed]

    async def settle(
        self,
        deliveries: Sequence[Delivery],
        *,
        claims: Mapping[uuid.UUID, int],
        steps: Sequence[OutreachStep],
        retry_base: timedelta,
    ) -> Settled:
        """Write what the senders answered for claimed records (see the module). Only a
        record still ``sending`` under the claim the answer is for is written: an answer for
        a claim someone else has since settled (a second actor, a recovery) changes nothing."""
        now = datetime.now(UTC)
        counts: dict[Result, int] = {}
        updates: list[dict[str, Any]] = []
        events: list[NewEvent] = []
        bounced: list[str] = []
        sent: list[uuid.UUID] = []
        failed_for_good = 0
        attempts = await self._still_sending(claims)
        deliveries = [d for d in deliveries if d.record_id in attempts]
        for delivery in deliveries:
            result = delivery.result
            row: dict[str, Any] = {"id": delivery.record_id}
            error = error_text(delivery.code, delivery.message) if delivery.message else None
            if result is Result.SENT:
                row.update(status=EmailStatus.SENT, sent_at=delivery.at or now, error=None)
                sent.append(delivery.record_id)
            elif result is Result.NOT_ATTEMPTED:
                # Never handed over: as it was, the attempt given back.
                row.update(
                    status=EmailStatus.QUEUED,
                    send_after=delivery.retry_at,
                    message_id=None,
                    attempts=max(attempts.get(delivery.record_id, 1) - 1, 0),
                )
            elif result is Result.RETRY:
                tried = attempts.get(delivery.record_id, 1)
                if tried >= MAX_ATTEMPTS:
                    result = Result.FAILED
                    failed_for_good += 1
                    row.update(status=EmailStatus.FAILED, error=error)
                else:
                    wait = retry_delay(tried, retry_base)
                    row.update(
                        status=EmailStatus.QUEUED,
                        send_after=max(delivery.retry_at or now, now + wait),
                        error=error,
                    )
            elif result is Result.BOUNCED:
                row.update(status=EmailStatus.BOUNCED, error=error)
            elif result is Result.FAILED:
                row.update(status=EmailStatus.FAILED, error=error)
            else:
                row.update(status=EmailStatus.UNKNOWN, error=error or _INTERRUPTED)
            updates.append(row)
            counts[result] = counts.get(result, 0) + 1
            event = _EVENT_OF.get(result)
            if event is not None:
                events.append(self._event(delivery, event, error))
        if updates:
            await self.session.execute(update(EmailRecord), updates)
        addresses = await self._addresses(
            [d.record_id for d in deliveries if d.result is Result.BOUNCED]
        )
        suppressions = SuppressionRepository(self.session, self.workspace_id)
        for address in addresses:
            if await suppressions.suppress(address, SuppressionReason.BOUNCED):
                bounced.append(address)
        await AnalyticsEventRepository(self.session, self.workspace_id).record_many(events)
        follow_ups = await self._queue_follow_ups(sent, steps, now)
        return Settled(counts, bounced, follow_ups, failed_for_good)

    def _event(self, delivery: Delivery, event_type: str, error: str | None) -> NewEvent:
        data: dict[str, Any] = {"outreach_campaign_id": str(self.outreach_id)}
        if error:
            data["error"] = error
        return NewEvent(
            entity_type="email_record",
            entity_id=delivery.record_id,
            event_type=event_type,
            data=data,
            occurred_at=delivery.at,
        )

    async def _still_sending(self, claims: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, int]:
        """The attempts of the records still ``sending`` under these claims, locked."""
        if not claims:
            return {}
        rows = await self.session.execute(
            select(EmailRecord.id, EmailRecord.attempts, EmailRecord.claims)
            .where(
                *self._mine(),
                EmailRecord.id.in_(list(claims)),
                EmailRecord.status == EmailStatus.SENDING,
            )
            .with_for_update()
        )
        return {
            record_id: attempts
            for record_id, attempts, claim in rows
            if claims.get(record_id) == claim
        }

    async def _addresses(self, record_ids: Sequence[uuid.UUID]) -> list[str]:
        if not record_ids:
            return []
        rows = await self.session.scalars(
            select(EmailRecord.to_email).where(EmailRecord.id.in_(record_ids))
        )
        return sorted(set(rows.all()))

    async def _queue_follow_ups(
        self, sent: Sequence[uuid.UUID], steps: Sequence[OutreachStep], now: datetime
    ) -> int:
        """Queue each sent message's next step, ``delay_days`` after it went."""
        if not sent or not steps:
            return 0
        by_position = {step.position: step for step in steps}
        rows = await self.session.execute(
            select(
                EmailRecord.to_email, EmailRecord.artist_id, EmailRecord.step, EmailRecord.sent_at
            ).where(EmailRecord.id.in_(sent))
        )
        values = []
        for to_email, artist_id, step, sent_at in rows:
            following = by_position.get(step + 1)
            if following is None:
                continue
            values.append(
                {
                    "id": new_id(),
                    "workspace_id": self.workspace_id,
                    "outreach_campaign_id": self.outreach_id,
                    "artist_id": artist_id,
                    "to_email": to_email,
                    "step": step + 1,
                    "send_after": (sent_at or now) + timedelta(days=following.delay_days),
                    "idempotency_key": f"{self.outreach_id}:{to_email}:{step + 1}",
                    "status": EmailStatus.QUEUED,
                }
            )
        added = 0
        statement = insert(EmailRecord).on_conflict_do_nothing().returning(EmailRecord.id)
        for chunk in chunks(values, values_per_item=9):
            added += len((await self.session.execute(statement, list(chunk))).all())
        return added

    async def handed_out(self) -> list[tuple[uuid.UUID, int]]:
        """``(record id, claim)`` of every record left ``sending``: a previous actor handed
        them out and did not settle them (see the send ledger)."""
        rows = await self.session.execute(
            select(EmailRecord.id, EmailRecord.claims).where(
                *self._mine(), EmailRecord.status == EmailStatus.SENDING
            )
        )
        return [(record_id, claim) for record_id, claim in rows]

    async def waiting(self) -> tuple[int, datetime | None]:
        """How many records are still queued or being sent, and when the earliest queued one
        is due (``None``: now, or none is queued)."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(EmailRecord.send_after)).where(
                    *self._mine(),
                    EmailRecord.status.in_((EmailStatus.QUEUED, EmailStatus.SENDING)),
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def sent_since(self, since: datetime) -> int:
        """Messages of this outreach handed to the server since ``since`` (its daily limit)."""
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    *self._mine(),
                    EmailRecord.sent_at >= since,
                )
            )
            or 0
        )

    async def resend(self, record_id: uuid.UUID) -> EmailRecord:
        """Queue an ``unknown`` or ``failed`` record again, at the user's word (it may reach
        the recipient twice if the first attempt did arrive)."""
        record = await self.session.scalar(
            select(EmailRecord)
            .where(*self._mine(), EmailRecord.id == record_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if record is None:
            raise Conflict(f"email record {record_id} is not in this outreach campaign")
        if record.status not in (EmailStatus.UNKNOWN, EmailStatus.FAILED):
            raise Conflict(
                f"email record {record_id} is {record.status.value}; only an unknown or failed "
                "one can be sent again"
            )
        if await SuppressionRepository(self.session, self.workspace_id).is_suppressed(
            record.to_email
        ):
            raise Conflict(f"{record.to_email} is on the suppression list")
        record.status = EmailStatus.QUEUED
        record.send_after = None
        record.attempts = 0
        record.message_id = None
        await self.session.flush()
        await self.session.refresh(record)
        return record
