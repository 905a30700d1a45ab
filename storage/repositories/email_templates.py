"""Email templates (subject and bodies, rendered later with artist fields)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from core.enums import TemplateType
from core.errors import Conflict
from core.pagination import DEFAULT_PAGE_SIZE
from storage.models import EmailTemplate, OutreachStep
from storage.repositories.base import Page, ScopedRepository


class EmailTemplateRepository(ScopedRepository[EmailTemplate]):
    model = EmailTemplate
    noun = "email template"
    sortable = {"created_at": "created_at", "updated_at": "updated_at", "name": "name"}
    searchable = ("name",)

    async def search(
        self,
        *,
        type: TemplateType | None = None,
        q: str | None = None,
        sort: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[EmailTemplate]:
        """Templates of ``type`` (all when ``None``) whose name contains ``q``."""
        where = [] if type is None else [EmailTemplate.type == type]
        return await self.list(where=where, q=q, sort=sort, limit=limit, cursor=cursor)

    async def update(self, row_id: uuid.UUID, values: Mapping[str, Any]) -> EmailTemplate:
        """Change a template; one that follow-up steps send stays a follow-up."""
        if values.get("type", TemplateType.FOLLOW_UP) != TemplateType.FOLLOW_UP:
            step = await self.session.scalar(
                select(OutreachStep.id)
                .where(
                    OutreachStep.workspace_id == self.workspace_id,
                    OutreachStep.template_id == row_id,
                )
                .limit(1)
            )
            if step is not None:
                raise Conflict(
                    "the email template is sent by follow-up steps; remove them before making "
                    "it an initial template"
                )
        return await super().update(row_id, values)
