"""Email templates, outreach campaigns, one email record per recipient, and the suppression list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import outreach_rules
from core.enums import EmailStatus, OutreachStatus, SuppressionReason, TemplateType
from storage.models.base import Base, IdMixin, TimestampMixin, WorkspaceScopedMixin, text_enum


class EmailTemplate(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    __tablename__ = "email_templates"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[TemplateType] = mapped_column(
        text_enum(TemplateType, "template_type"),
        default=TemplateType.INITIAL,
        server_default=TemplateType.INITIAL.value,
    )


class OutreachCampaign(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    __tablename__ = "outreach_campaigns"
    __table_args__ = (CheckConstraint("daily_limit > 0", name="daily_limit_positive"),)

    name: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    template_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("email_templates.id", ondelete="RESTRICT")
    )
    status: Mapped[OutreachStatus] = mapped_column(
        text_enum(OutreachStatus, "outreach_status"), default=OutreachStatus.DRAFT
    )
    scheduled_at: Mapped[datetime | None]
    sender_email: Mapped[str] = mapped_column(String(320))
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    daily_limit: Mapped[int] = mapped_column(default=50)
    # Why a paused outreach stopped when the system paused it (a server's answer, a schedule
    # found long past); NULL when a user paused it or it is not paused.
    pause_reason: Mapped[str | None] = mapped_column(Text)
    launched_at: Mapped[datetime | None]
    # NULL sends through the outbox folder (no SMTP server, no mailbox limits).
    mailbox_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="SET NULL"), index=True
    )


class OutreachStep(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    """A follow-up: a template sent ``delay_days`` after the outreach's previous message to a
    recipient who has not answered. Steps run in ``position`` order."""

    __tablename__ = "outreach_steps"
    __table_args__ = (
        UniqueConstraint("outreach_campaign_id", "position"),
        CheckConstraint(
            f"delay_days BETWEEN {outreach_rules.DELAY_DAYS_MIN} "
            f"AND {outreach_rules.DELAY_DAYS_MAX}",
            name="delay_days_range",
        ),
    )

    outreach_campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outreach_campaigns.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    template_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("email_templates.id", ondelete="RESTRICT"), index=True
    )
    delay_days: Mapped[int]


class EmailRecord(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    """One message to one recipient. Claimed (``sending``) before the SMTP call and marked after,
    so a crash never sends twice and never skips silently."""

    __tablename__ = "email_records"
    __table_args__ = (
        UniqueConstraint("outreach_campaign_id", "to_email", "step"),
        UniqueConstraint("workspace_id", "idempotency_key"),
        Index("ix_email_records_status", "outreach_campaign_id", "status"),
    )

    outreach_campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outreach_campaigns.id", ondelete="CASCADE")
    )
    artist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("artists.id", ondelete="SET NULL")
    )
    to_email: Mapped[str] = mapped_column(String(320))
    # 0: the outreach's first message; n: its n-th follow-up step.
    step: Mapped[int] = mapped_column(default=0, server_default="0")
    # Not sent before this time (a follow-up's delay, a retry's backoff, a closed window).
    send_after: Mapped[datetime | None]
    # Times the record was handed to a sender; names its entries in the send ledger
    # (storage/send_ledger.py). ``attempts`` counts only those the server answered or refused.
    claims: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[EmailStatus] = mapped_column(
        text_enum(EmailStatus, "email_status"), default=EmailStatus.QUEUED
    )
    message_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]


class Suppression(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    """An address the workspace must never email again (unsubscribed, bounced, complained)."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    email: Mapped[str] = mapped_column(String(320))
    reason: Mapped[SuppressionReason] = mapped_column(
        text_enum(SuppressionReason, "suppression_reason")
    )
