"""Outreach bodies: email templates and their preview, outreach campaigns and their recipients,
email records and the suppression list."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from core import outreach_rules
from core.emails import normalize_email
from core.enums import EmailStatus, OutreachStatus, SuppressionReason, TemplateType
from core.errors import InvalidInput
from serve.schemas.common import ReadModel, UtcDatetime, not_null

MAX_BODY_CHARS = 100_000
MAX_RECIPIENTS = 1_000


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


# Trimmed and lower-cased; a bad address is a 422 naming its field with the other field errors.
EmailAddress = Annotated[str, Field(max_length=320), AfterValidator(_email)]


class EmailTemplateCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=500, description="A Jinja2 template, one line.")
    body_html: str = Field(
        default="", max_length=MAX_BODY_CHARS, description="A Jinja2 template, autoescaped."
    )
    body_text: str = Field(
        default="", max_length=MAX_BODY_CHARS, description="A Jinja2 template, not escaped."
    )
    type: TemplateType = Field(
        default=TemplateType.INITIAL,
        description="initial: an outreach's first message; follow_up: a follow-up step's.",
    )


class EmailTemplateUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=500)
    body_html: str | None = Field(default=None, max_length=MAX_BODY_CHARS)
    body_text: str | None = Field(default=None, max_length=MAX_BODY_CHARS)
    type: TemplateType | None = None

    _present = field_validator("name", "subject", "body_html", "body_text", "type", mode="before")(
        not_null
    )


class EmailTemplateRead(ReadModel):
    id: uuid.UUID
    name: str
    subject: str
    body_html: str
    body_text: str
    type: TemplateType
    created_at: datetime
    updated_at: datetime


class TemplateVariableRead(ReadModel):
    name: str = Field(examples=["artist.name"])
    description: str


class PreviewRequest(BaseModel):
    artist_id: uuid.UUID = Field(description="A catalogue artist to render the template for.")
    campaign_id: uuid.UUID | None = Field(
        default=None, description="A campaign of the workspace, for ``campaign.name``."
    )
    contact_email: EmailAddress | None = Field(
        default=None,
        description="For ``contact.email``; default: the workspace's newest contact of the artist.",
    )
    # A draft being edited, rendered in place of the saved part (checked as saving would).
    subject: str | None = Field(
        default=None, min_length=1, max_length=500, description="Unsaved subject to render."
    )
    body_html: str | None = Field(
        default=None, max_length=MAX_BODY_CHARS, description="Unsaved HTML body to render."
    )
    body_text: str | None = Field(
        default=None, max_length=MAX_BODY_CHARS, description="Unsaved text body to render."
    )


class PreviewRead(ReadModel):
    subject: str
    html: str
    text: str


class OutreachCampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    template_id: uuid.UUID
    campaign_id: uuid.UUID | None = None
    scheduled_at: UtcDatetime | None = None
    sender_email: EmailAddress
    sender_name: str = Field(default="", max_length=200)
    daily_limit: int = Field(default=50, ge=1, le=10_000, description="Messages a day at most.")
    mailbox_id: uuid.UUID | None = Field(
        default=None, description="A mailbox of the workspace; none: the outbox folder."
    )


class OutreachCampaignUpdate(BaseModel):
    # ``status`` is not here on purpose: it moves only through sending. Unknown fields are a
    # 422 rather than silently ignored, so {"status": ...} says so instead of answering 200.
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    template_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    scheduled_at: UtcDatetime | None = None
    sender_email: EmailAddress | None = None
    sender_name: str | None = Field(default=None, max_length=200)
    daily_limit: int | None = Field(default=None, ge=1, le=10_000)
    mailbox_id: uuid.UUID | None = Field(default=None, description="null: the outbox folder.")

    _present = field_validator(
        "name", "template_id", "sender_email", "sender_name", "daily_limit", mode="before"
    )(not_null)


class OutreachCampaignRead(ReadModel):
    id: uuid.UUID
    name: str
    template_id: uuid.UUID
    campaign_id: uuid.UUID | None
    status: OutreachStatus
    scheduled_at: datetime | None
    sender_email: str
    sender_name: str
    daily_limit: int
    mailbox_id: uuid.UUID | None
    pause_reason: str | None = Field(
        description="Why the system paused it (a server's answer, a schedule found long past)."
    )
    launched_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OutreachProgressRead(BaseModel):
    """Where an outreach is: its status and how many of its messages are in each state."""

    status: OutreachStatus
    pause_reason: str | None
    counts: dict[EmailStatus, int] = Field(description="Email records by status.")
    total: int


class Recipient(BaseModel):
    to_email: EmailAddress
    artist_id: uuid.UUID | None = Field(default=None, description="A catalogue artist.")


class RecipientsAdd(BaseModel):
    recipients: list[Recipient] = Field(min_length=1, max_length=MAX_RECIPIENTS)


class RecipientsQueued(BaseModel):
    """Where each recipient of the request went; the three counts add up to all of them."""

    queued: int
    skipped_suppressed: int = Field(description="On the workspace's suppression list.")
    skipped_duplicates: int = Field(description="Already queued, or repeated in the request.")


class RecipientsFromCampaign(BaseModel):
    campaign_id: uuid.UUID | None = Field(
        default=None, description="A campaign of the workspace; default: the outreach's own."
    )


class CampaignRecipientsQueued(BaseModel):
    """Where each artist of the campaign went; the counts add up to all of them."""

    queued: int
    skipped_suppressed: int = Field(
        description="Every usable address of the artist is on the suppression list."
    )
    skipped_no_contact: int = Field(description="The workspace holds no address for the artist.")
    skipped_withdrawn_consent: int = Field(
        description="Every address of the artist has its consent withdrawn."
    )
    skipped_duplicates: int = Field(
        description="The artist or the chosen address is already in the outreach."
    )
    remaining: int = Field(
        description=f"Artists left for another call: one call queues at most {MAX_RECIPIENTS}."
    )


class OutreachStepCreate(BaseModel):
    template_id: uuid.UUID = Field(description="A follow_up template of the workspace.")
    delay_days: int = Field(
        ge=outreach_rules.DELAY_DAYS_MIN,
        le=outreach_rules.DELAY_DAYS_MAX,
        description="Days after the previous message of the outreach to the same recipient.",
    )


class OutreachStepRead(ReadModel):
    id: uuid.UUID
    outreach_campaign_id: uuid.UUID
    position: int = Field(description="Steps run in increasing position.")
    template_id: uuid.UUID
    delay_days: int
    created_at: datetime


class PlanDayRead(ReadModel):
    day: date = Field(description="A UTC calendar day.")
    messages: int


class SendPlanRead(BaseModel):
    """When the queued messages would go, as things stand."""

    mailbox_id: uuid.UUID | None = Field(description="null: the outbox folder.")
    start_at: datetime = Field(description="Now, or the schedule when it is later.")
    queued: int = Field(description="Messages queued in all.")
    planned: int = Field(
        description=f"Messages the plan covers: the first {MAX_RECIPIENTS} queued, in send order."
    )
    first_send_at: datetime | None
    last_send_at: datetime | None
    days_needed: int = Field(description="Calendar days (UTC) from the first send to the last.")
    days: list[PlanDayRead] = Field(description="Days with sends, at most a year of them.")
    days_truncated: bool


class EmailRecordRead(ReadModel):
    id: uuid.UUID
    outreach_campaign_id: uuid.UUID
    artist_id: uuid.UUID | None
    to_email: str
    step: int = Field(description="0 for the first message, n for the n-th follow-up.")
    send_after: datetime | None
    status: EmailStatus
    message_id: str | None
    attempts: int
    error: str | None
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    replied_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SuppressionCreate(BaseModel):
    email: EmailAddress
    reason: SuppressionReason = SuppressionReason.MANUAL


class SuppressionRead(ReadModel):
    id: uuid.UUID
    email: str
    reason: SuppressionReason
    created_at: datetime
