"""Mailbox bodies (SMTP account, sending limits and window, the connection test) and the outbox
that holds mail while no mailbox is configured."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from core import mailbox_rules as rules
from core.enums import SmtpStage, SmtpTlsMode
from serve.schemas.common import ReadModel, not_null
from serve.schemas.outreach import EmailAddress

MAX_PASSWORD_CHARS = 1_000
DEFAULT_PORTS = {SmtpTlsMode.STARTTLS: 587, SmtpTlsMode.TLS: 465, SmtpTlsMode.NONE: 25}

# One line of text: these end up in SMTP commands and mail headers, where a line break would
# start a command or header of the user's choosing.
_ONE_LINE = r"^[^\r\n\x00]*$"
Host = Annotated[
    str,
    Field(max_length=253, description="Host name or IP address of the SMTP server."),
    AfterValidator(rules.check_host),
]
PerMinute = Annotated[int, Field(ge=1, le=rules.PER_MINUTE_MAX, description="Messages a minute.")]
DailyCap = Annotated[
    int, Field(ge=1, le=rules.DAILY_CAP_MAX, description="Messages a day, once ramped up.")
]
RampStart = Annotated[
    int, Field(ge=1, le=rules.DAILY_CAP_MAX, description="The daily cap on the first day.")
]
RampIncrement = Annotated[
    int, Field(ge=0, le=rules.DAILY_CAP_MAX, description="Added to the daily cap each day.")
]
GapSeconds = Annotated[
    int,
    Field(ge=0, le=rules.GAP_SECONDS_MAX, description="Seconds between sends, drawn at random."),
]
StartHour = Annotated[
    int, Field(ge=0, le=23, description="Recipient's local hour the window opens.")
]
EndHour = Annotated[
    int,
    Field(
        ge=1,
        le=24,
        description="Local hour the window closes (24: midnight); below the start: next day.",
    ),
]
Weekdays = Annotated[
    list[Annotated[int, Field(ge=1, le=7)]],
    Field(min_length=1, max_length=7, description="ISO weekdays, Monday = 1 ... Sunday = 7."),
]
Password = Annotated[
    SecretStr,
    Field(min_length=1, max_length=MAX_PASSWORD_CHARS, description="Write-only; never returned."),
]


def _distinct_days(days: list[int] | None) -> list[int] | None:
    if days is not None and len(set(days)) != len(days):
        raise ValueError("must not repeat a weekday")
    return sorted(days) if days is not None else None


class MailboxCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=_ONE_LINE)
    host: Host
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 587, 465 or 25 by tls_mode."
    )
    tls_mode: SmtpTlsMode = SmtpTlsMode.STARTTLS
    username: str | None = Field(
        default=None,
        min_length=1,
        max_length=320,
        pattern=_ONE_LINE,
        description="No login if unset.",
    )
    password: Password | None = None
    from_name: str = Field(default="", max_length=200, pattern=_ONE_LINE)
    from_email: EmailAddress
    per_minute: PerMinute = rules.DEFAULT_PER_MINUTE
    daily_cap: DailyCap = rules.DEFAULT_DAILY_CAP
    ramp_start: RampStart = rules.DEFAULT_RAMP_START
    ramp_increment: RampIncrement = rules.DEFAULT_RAMP_INCREMENT
    gap_min_seconds: GapSeconds = rules.DEFAULT_GAP_MIN_SECONDS
    gap_max_seconds: GapSeconds = rules.DEFAULT_GAP_MAX_SECONDS
    window_start_hour: StartHour = rules.DEFAULT_WINDOW_START_HOUR
    window_end_hour: EndHour = rules.DEFAULT_WINDOW_END_HOUR
    window_weekdays: Weekdays = Field(default_factory=lambda: list(rules.DEFAULT_WINDOW_WEEKDAYS))

    _days = field_validator("window_weekdays")(_distinct_days)


class MailboxUpdate(BaseModel):
    """Fields to change. ``username`` or ``password`` null removes it; left out keeps it."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=_ONE_LINE)
    host: Host | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    tls_mode: SmtpTlsMode | None = None
    username: str | None = Field(default=None, min_length=1, max_length=320, pattern=_ONE_LINE)
    password: Password | None = None
    from_name: str | None = Field(default=None, max_length=200, pattern=_ONE_LINE)
    from_email: EmailAddress | None = None
    per_minute: PerMinute | None = None
    daily_cap: DailyCap | None = None
    ramp_start: RampStart | None = None
    ramp_increment: RampIncrement | None = None
    gap_min_seconds: GapSeconds | None = None
    gap_max_seconds: GapSeconds | None = None
    window_start_hour: StartHour | None = None
    window_end_hour: EndHour | None = None
    window_weekdays: Weekdays | None = None

    _days = field_validator("window_weekdays")(_distinct_days)
    _present = field_validator(
        "name",
        "host",
        "port",
        "tls_mode",
        "from_name",
        "from_email",
        "per_minute",
        "daily_cap",
        "ramp_start",
        "ramp_increment",
        "gap_min_seconds",
        "gap_max_seconds",
        "window_start_hour",
        "window_end_hour",
        "window_weekdays",
        mode="before",
    )(not_null)


class MailboxRead(ReadModel):
    id: uuid.UUID
    name: str
    host: str
    port: int
    tls_mode: SmtpTlsMode
    username: str | None
    has_password: bool = Field(description="Whether a password is stored (it is never shown).")
    from_name: str
    from_email: str
    per_minute: int
    daily_cap: int
    ramp_start: int
    ramp_increment: int
    gap_min_seconds: int
    gap_max_seconds: int
    window_start_hour: int
    window_end_hour: int
    window_weekdays: list[int]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, mailbox: Any) -> MailboxRead:
        fields = {
            name: getattr(mailbox, name) for name in cls.model_fields if name != "has_password"
        }
        return cls(**fields, has_password=mailbox.password_sealed is not None)


class ConnectionTestRead(BaseModel):
    """The server's answer to a test connection: ``stage`` is the last step done, or the one
    that failed (then ``ok`` is false); ``code`` is the server's reply code when it answered."""

    ok: bool
    stage: SmtpStage
    code: int | None
    message: str


class OutboxEntryRead(ReadModel):
    id: uuid.UUID
    to: str
    subject: str
    date: datetime
    size: int = Field(description="Bytes of the .eml file.")


class HeaderRead(BaseModel):
    name: str
    value: str


class OutboxMessageRead(OutboxEntryRead):
    headers: list[HeaderRead]
    text: str | None = Field(description="The text/plain part, if any.")
    html: str | None = Field(description="The text/html part, if any.")
