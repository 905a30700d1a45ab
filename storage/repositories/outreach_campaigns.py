"""Outreach campaigns: a template sent on a schedule from one sender (a mailbox of the workspace,
or the outbox folder), optionally for a campaign."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import outreach_rules
from core.emails import normalize_email
from core.mailbox_rules import SendingLimits
from core.send_plan import Pace
from core.sending_window import SendingWindow, time_zone_for
from storage.models import Campaign, EmailTemplate, Mailbox, OutreachCampaign
from storage.repositories.base import ScopedRepository
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.mailboxes import MailboxRepository


class OutreachCampaignRepository(ScopedRepository[OutreachCampaign]):
    model = OutreachCampaign
    noun = "outreach campaign"
    sortable = {"created_at": "created_at", "updated_at": "updated_at", "name": "name"}

    async def create(self, **values: Any) -> OutreachCampaign:
        await self._check_references(values)
        if "sender_email" in values:
            values["sender_email"] = normalize_email(values["sender_email"], field="sender_email")
        return await super().create(**values)

    async def update(self, row_id: uuid.UUID, values: Mapping[str, Any]) -> OutreachCampaign:
        await self._check_references(values)
        if "sender_email" in values:
            values = {
                **values,
                "sender_email": normalize_email(values["sender_email"], field="sender_email"),
            }
        return await super().update(row_id, values)

    async def _check_references(self, values: Mapping[str, Any]) -> None:
        await self.require(EmailTemplate, values.get("template_id"), "email template")
        await self.require(Campaign, values.get("campaign_id"), "campaign")
        await self.require(Mailbox, values.get("mailbox_id"), "mailbox")

    async def plan_inputs(self, outreach: OutreachCampaign, *, limit: int) -> PlanInputs:
        """What a send plan of ``outreach`` needs: its pace (the mailbox's limits and window, or
        only its daily limit through the outbox) and the time zones of the first ``limit``
        queued recipients, in the order senders claim them."""
        records = EmailRecordRepository(self.session, self.workspace_id)
        queued, locations = await records.queued_locations(outreach.id, limit=limit)
        pace = Pace(daily_limit=outreach.daily_limit)
        if outreach.mailbox_id is not None:
            mailbox = await MailboxRepository(self.session, self.workspace_id).get(
                outreach.mailbox_id
            )
            first_sent = await records.first_sent_through(mailbox.id)
            limits, window = pace_of(mailbox)
            pace = Pace(
                daily_limit=outreach.daily_limit,
                limits=limits,
                window=window,
                ramp_origin=first_sent.astimezone(UTC).date() if first_sent else None,
            )
        zones = [time_zone_for(country, city) for country, city in locations]
        return PlanInputs(queued=queued, zones=zones, pace=pace)


@dataclass(frozen=True)
class PlanInputs:
    queued: int
    zones: list[ZoneInfo]
    pace: Pace


def pace_of(mailbox: Mailbox) -> tuple[SendingLimits, SendingWindow]:
    """A mailbox's sending limits and its window in the recipient's time."""
    return (
        SendingLimits(
            per_minute=mailbox.per_minute,
            daily_cap=mailbox.daily_cap,
            ramp_start=mailbox.ramp_start,
            ramp_increment=mailbox.ramp_increment,
            gap_min_seconds=mailbox.gap_min_seconds,
            gap_max_seconds=mailbox.gap_max_seconds,
        ),
        SendingWindow(
            mailbox.window_start_hour, mailbox.window_end_hour, frozenset(mailbox.window_weekdays)
        ),
    )


async def live_outreaches(session: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``(workspace id, outreach id)`` of every outreach, in any workspace, whose actor should
    be running (scheduled or sending)."""
    rows = await session.execute(
        select(OutreachCampaign.workspace_id, OutreachCampaign.id).where(
            OutreachCampaign.status.in_(outreach_rules.LIVE)
        )
    )
    return [(workspace_id, outreach_id) for workspace_id, outreach_id in rows]


async def workspace_of(session: AsyncSession, outreach_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(
        select(OutreachCampaign.workspace_id).where(OutreachCampaign.id == outreach_id)
    )
