"""Bounces and complaints reported after the fact (the inbound webhook), applied to one
workspace in the caller's transaction.

Each event puts its address on the suppression list (``bounced`` or ``complained``; an address
already there keeps its first reason). A bounce whose Message-ID names a record of the
workspace that was delivered (or may have been: ``unknown``) moves it to ``bounced``; a
complaint leaves the record as it is. Each change is an analytics event (``email.bounced``,
``email.complained``) on the record when the Message-ID names one, else on the suppression.

Applying the same event again changes nothing and records nothing: the suppression exists, the
record is no longer delivered. Concurrent reports of one event change things once between them
(the insert skips a conflict, the update re-checks the status under the row's lock).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import EmailStatus
from core.inbound import InboundEvent, InboundEventType
from storage.models import EmailRecord, Workspace
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.suppressions import SuppressionRepository

# A report can only bounce a message that went out: one still queued or sending has not, and a
# failed, skipped or already bounced one has nothing left to change.
BOUNCES_FROM = frozenset(
    status for status in EmailStatus if status.delivered or status is EmailStatus.UNKNOWN
)
_NO_DETAIL = "reported as bounced through the inbound webhook"


@dataclass(frozen=True)
class InboundOutcome:
    """What applying a report did."""

    accepted: int
    suppressed: int
    records_bounced: int

    @property
    def changed(self) -> bool:
        return bool(self.suppressed or self.records_bounced)


async def lock_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> bool:
    """Whether ``workspace_id`` exists; if it does, it cannot be deleted before the caller's
    transaction ends (``FOR KEY SHARE``), so the rows written for it find it there."""
    found = await session.scalar(
        select(Workspace.id)
        .where(Workspace.id == workspace_id)
        .with_for_update(read=True, key_share=True)
    )
    return found is not None


async def apply_inbound_events(
    session: AsyncSession, workspace_id: uuid.UUID, events: Sequence[InboundEvent]
) -> InboundOutcome:
    """Apply ``events`` in order to ``workspace_id`` (see the module)."""
    suppressions = SuppressionRepository(session, workspace_id)
    records = EmailRecordRepository(session, workspace_id)
    analytics = AnalyticsEventRepository(session, workspace_id)
    suppressed = bounced = 0
    for event in events:
        reason = event.type.suppression_reason
        added = await suppressions.suppress(event.email, reason)
        record: EmailRecord | None = None
        record_bounced = False
        if event.message_id is not None:
            if event.type is InboundEventType.BOUNCE:
                record = await _bounce(session, workspace_id, event)
                record_bounced = record is not None
            if record is None:
                record = await records.by_message_id(event.message_id)
        suppressed += added
        bounced += record_bounced
        if not (added or record_bounced):
            continue
        data: dict[str, str] = {"email": event.email, "reason": reason.value, "source": "inbound"}
        if event.message_id is not None:
            data["message_id"] = event.message_id
        if event.detail:
            data["detail"] = event.detail
        if record is not None:
            data["email_record_id"] = str(record.id)
            data["outreach_campaign_id"] = str(record.outreach_campaign_id)
            await analytics.record(
                entity_type="email_record",
                entity_id=record.id,
                event_type=event.type.analytics_event,
                data=data,
            )
        else:
            suppression = await suppressions.find(event.email)
            assert suppression is not None
            await analytics.record(
                entity_type="suppression",
                entity_id=suppression.id,
                event_type=event.type.analytics_event,
                data=data,
            )
    return InboundOutcome(accepted=len(events), suppressed=suppressed, records_bounced=bounced)


async def _bounce(
    session: AsyncSession, workspace_id: uuid.UUID, event: InboundEvent
) -> EmailRecord | None:
    """Move the workspace's delivered record with the event's Message-ID to ``bounced``; the
    record, or ``None`` when no such record is in a status a bounce changes."""
    moved: EmailRecord | None = await session.scalar(
        update(EmailRecord)
        .where(
            EmailRecord.workspace_id == workspace_id,
            EmailRecord.message_id == event.message_id,
            EmailRecord.status.in_(BOUNCES_FROM),
        )
        .values(
            status=EmailStatus.BOUNCED,
            error=event.detail or _NO_DETAIL,
            updated_at=func.now(),
        )
        .returning(EmailRecord),
        execution_options={"synchronize_session": False},
    )
    return moved
