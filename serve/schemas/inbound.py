"""The inbound webhook: where to send reports and how to sign them, what a report holds, and
the answer to one."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from core.inbound import (
    MAX_DETAIL_CHARS,
    MAX_EVENTS,
    MAX_MESSAGE_ID_CHARS,
    InboundEvent,
    InboundEventType,
    normalize_message_id,
)
from serve.schemas.outreach import EmailAddress

# PostgreSQL stores neither; the edge refuses them in JSON bodies, and this body is read here
# whatever its declared type.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError(
            "contains a NUL character or an unpaired surrogate, which cannot be stored"
        )
    return value


def _message_id(value: str) -> str:
    normalized = normalize_message_id(value)
    if normalized is None:
        raise ValueError("is not a Message-ID (<left@right>, printable ASCII)")
    return normalized


class InboundEventIn(BaseModel):
    type: InboundEventType
    email: Annotated[EmailAddress, AfterValidator(_storable)] = Field(
        description="The address that bounced or complained."
    )
    message_id: Annotated[str, AfterValidator(_message_id)] | None = Field(
        default=None,
        max_length=MAX_MESSAGE_ID_CHARS,
        description="The Message-ID of the message it is about, as sent (<...>).",
    )
    detail: Annotated[str, AfterValidator(_storable)] | None = Field(
        default=None, max_length=MAX_DETAIL_CHARS, description="The server's answer, say."
    )

    def to_event(self) -> InboundEvent:
        return InboundEvent(
            type=self.type, email=self.email, message_id=self.message_id, detail=self.detail
        )


class InboundReport(BaseModel):
    events: list[InboundEventIn] = Field(max_length=MAX_EVENTS)

    def to_events(self) -> list[InboundEvent]:
        return [event.to_event() for event in self.events]


class InboundResult(BaseModel):
    accepted: int = Field(description="Events in the report.")
    suppressed: int = Field(description="Addresses newly put on the suppression list.")
    records_bounced: int = Field(description="Email records newly marked bounced.")


class InboundWebhookExample(BaseModel):
    body: str = Field(description="A report body, byte for byte as signed.")
    headers: dict[str, str] = Field(
        description="The headers that sign it, as they would be sent now."
    )


class InboundWebhookRead(BaseModel):
    url: str = Field(description="Where to POST reports for this workspace.")
    secret: str = Field(description="This workspace's signing key, in hex.")
    signature_header: str = Field(
        description="Holds sha256=<hex HMAC-SHA256 of '{timestamp}.{body}' with the secret>."
    )
    timestamp_header: str = Field(description="Holds the time of sending in unix seconds.")
    tolerance_seconds: int = Field(description="How far the timestamp may be from the server's.")
    max_events: int = Field(description="Events one report may hold.")
    example: InboundWebhookExample
