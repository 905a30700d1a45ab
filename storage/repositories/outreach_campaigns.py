"""Outreach campaigns: a template sent on a schedule from one sender, optionally for a campaign."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from core.emails import normalize_email
from storage.models import Campaign, EmailTemplate, OutreachCampaign
from storage.repositories.base import ScopedRepository


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
