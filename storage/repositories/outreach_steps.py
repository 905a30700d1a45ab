"""Follow-up steps of an outreach campaign, kept in ``position`` order.

Steps change only while their outreach is a draft (``core.outreach_rules.require_draft``): the
outreach row is locked first, so a launch that moves the status waits for the change or sees it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select

from core import outreach_rules
from core.errors import Conflict, NotFound
from storage.models import EmailTemplate, OutreachCampaign, OutreachStep
from storage.repositories.base import ScopedRepository


class OutreachStepRepository(ScopedRepository[OutreachStep]):
    model = OutreachStep
    noun = "outreach step"
    sortable = {"created_at": "created_at", "position": "position"}
    default_sort = "position"

    async def for_outreach(self, outreach_campaign_id: uuid.UUID) -> list[OutreachStep]:
        """The outreach's steps, first to last (at most ``MAX_STEPS``)."""
        await self._outreach(outreach_campaign_id)
        rows = await self.session.scalars(
            self._scoped()
            .where(OutreachStep.outreach_campaign_id == outreach_campaign_id)
            .order_by(OutreachStep.position)
        )
        return list(rows.all())

    async def append(
        self, outreach_campaign_id: uuid.UUID, *, template_id: uuid.UUID, delay_days: int
    ) -> OutreachStep:
        """Add a step after the last one: ``template_id`` must be a follow-up template of the
        workspace, and the outreach a draft with fewer than ``MAX_STEPS`` steps."""
        outreach = await self._outreach(outreach_campaign_id, for_update=True)
        outreach_rules.require_draft(outreach.status, "steps")
        template = await self.session.scalar(
            select(EmailTemplate).where(
                EmailTemplate.workspace_id == self.workspace_id, EmailTemplate.id == template_id
            )
        )
        if template is None:
            raise NotFound(f"email template {template_id} not found")
        outreach_rules.require_follow_up(template.type)
        count, last = (
            await self.session.execute(
                select(func.count(), func.max(OutreachStep.position)).where(
                    OutreachStep.outreach_campaign_id == outreach_campaign_id
                )
            )
        ).one()
        if count >= outreach_rules.MAX_STEPS:
            raise Conflict(
                f"an outreach campaign has at most {outreach_rules.MAX_STEPS} follow-up steps"
            )
        return await self.create(
            outreach_campaign_id=outreach_campaign_id,
            position=(last or 0) + 1,
            template_id=template_id,
            delay_days=delay_days,
        )

    async def remove(self, outreach_campaign_id: uuid.UUID, step_id: uuid.UUID) -> None:
        """Delete a step of a draft outreach; the others keep their positions (gaps are fine:
        positions only order the steps)."""
        outreach = await self._outreach(outreach_campaign_id, for_update=True)
        outreach_rules.require_draft(outreach.status, "steps")
        result = await self.session.execute(
            delete(OutreachStep)
            .where(
                OutreachStep.workspace_id == self.workspace_id,
                OutreachStep.outreach_campaign_id == outreach_campaign_id,
                OutreachStep.id == step_id,
            )
            .returning(OutreachStep.id)
        )
        if result.first() is None:
            raise NotFound(f"{self.noun} {step_id} not found")

    async def _outreach(
        self, outreach_campaign_id: uuid.UUID, *, for_update: bool = False
    ) -> OutreachCampaign:
        statement = select(OutreachCampaign).where(
            OutreachCampaign.workspace_id == self.workspace_id,
            OutreachCampaign.id == outreach_campaign_id,
        )
        if for_update:
            statement = statement.with_for_update()
        outreach = await self.session.scalar(statement)
        if outreach is None:
            raise NotFound(f"outreach campaign {outreach_campaign_id} not found")
        return outreach
