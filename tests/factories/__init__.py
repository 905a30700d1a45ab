"""Typed factories that build rows through the real repositories."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import CampaignType, TransactionType
from storage.models import (
    Artist,
    Campaign,
    EmailTemplate,
    OutreachCampaign,
    Transaction,
    User,
    Workspace,
)
from storage.repositories.artists import ArtistRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.email_templates import EmailTemplateRepository
from storage.repositories.outreach_campaigns import OutreachCampaignRepository
from storage.repositories.transactions import TransactionRepository
from storage.repositories.users import UserRepository
from storage.repositories.workspaces import WorkspaceRepository

_counter = itertools.count(1)


async def make_user(session: AsyncSession, *, email: str | None = None) -> User:
    n = next(_counter)
    return await UserRepository(session).create(
        email=email or f"user{n}-{uuid.uuid4().hex[:6]}@example.com",
        password_hash="argon2-hash-not-used-here",
        display_name=f"User {n}",
    )


async def make_workspace(
    session: AsyncSession, *, owner: User | None = None, name: str = "Team"
) -> Workspace:
    owner = owner or await make_user(session)
    return await WorkspaceRepository(session).create(name=name, owner_id=owner.id)


async def make_artist(session: AsyncSession, **overrides: Any) -> Artist:
    soundcloud_id = overrides.pop("soundcloud_id", 10_000_000 + next(_counter))
    record = {
        "soundcloud_id": soundcloud_id,
        "name": f"Artist {soundcloud_id}",
        "permalink": f"artist-{soundcloud_id}",
        "followers": 1000,
        "tracks": 10,
        **overrides,
    }
    repo = ArtistRepository(session)
    result = await repo.upsert_many([record])
    return await repo.get(result.ids[soundcloud_id])


async def make_campaign(
    session: AsyncSession, *, workspace: Workspace, **overrides: Any
) -> Campaign:
    values = {"name": f"Campaign {next(_counter)}", "type": CampaignType.RELEASE, **overrides}
    return await CampaignRepository(session, workspace.id).create(**values)


async def make_template(
    session: AsyncSession, *, workspace: Workspace, **overrides: Any
) -> EmailTemplate:
    values = {
        "name": f"Template {next(_counter)}",
        "subject": "Hi {{ artist.name }}",
        "body_text": "Hello {{ artist.name }}",
        **overrides,
    }
    return await EmailTemplateRepository(session, workspace.id).create(**values)


async def make_outreach(
    session: AsyncSession, *, workspace: Workspace, **overrides: Any
) -> OutreachCampaign:
    if "template_id" not in overrides:
        overrides["template_id"] = (await make_template(session, workspace=workspace)).id
    values = {
        "name": f"Outreach {next(_counter)}",
        "sender_email": "promo@label.example",
        **overrides,
    }
    return await OutreachCampaignRepository(session, workspace.id).create(**values)


async def make_transaction(
    session: AsyncSession, *, workspace: Workspace, **overrides: Any
) -> Transaction:
    values = {
        "type": TransactionType.EXPENSE,
        "amount_minor": 1250,
        "currency": "EUR",
        "category": "ads",
        "occurred_on": date(2026, 11, 1),
        **overrides,
    }
    return await TransactionRepository(session, workspace.id).create(**values)
