"""Mailboxes: the SMTP servers a workspace sends through, with their sending limits."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core import mailbox_rules as rules
from core.enums import SmtpTlsMode
from storage.models.base import Base, IdMixin, TimestampMixin, WorkspaceScopedMixin, text_enum


class Mailbox(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    """An SMTP account. The password is kept only sealed (``core.secret_box``); reads never
    carry it."""

    __tablename__ = "mailboxes"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
        CheckConstraint(f"per_minute BETWEEN 1 AND {rules.PER_MINUTE_MAX}", name="per_minute"),
        CheckConstraint(f"daily_cap BETWEEN 1 AND {rules.DAILY_CAP_MAX}", name="daily_cap"),
        CheckConstraint(f"ramp_start BETWEEN 1 AND {rules.DAILY_CAP_MAX}", name="ramp_start"),
        CheckConstraint(
            f"ramp_increment BETWEEN 0 AND {rules.DAILY_CAP_MAX}", name="ramp_increment"
        ),
        CheckConstraint(
            f"gap_min_seconds >= 0 AND gap_min_seconds <= gap_max_seconds "
            f"AND gap_max_seconds <= {rules.GAP_SECONDS_MAX}",
            name="gap_range",
        ),
        CheckConstraint(
            "window_start_hour BETWEEN 0 AND 23 AND window_end_hour BETWEEN 1 AND 24 "
            "AND window_start_hour <> window_end_hour",
            name="window_hours",
        ),
        CheckConstraint(
            "cardinality(window_weekdays) BETWEEN 1 AND 7 "
            "AND window_weekdays <@ ARRAY[1, 2, 3, 4, 5, 6, 7]::smallint[]",
            name="window_weekdays",
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int]
    tls_mode: Mapped[SmtpTlsMode] = mapped_column(text_enum(SmtpTlsMode, "smtp_tls_mode"))
    username: Mapped[str | None] = mapped_column(String(320))
    # A Fernet token (core.secret_box); NULL when the server takes no password.
    password_sealed: Mapped[str | None] = mapped_column(Text)
    from_name: Mapped[str] = mapped_column(String(200), default="")
    from_email: Mapped[str] = mapped_column(String(320))

    per_minute: Mapped[int] = mapped_column(default=rules.DEFAULT_PER_MINUTE)
    daily_cap: Mapped[int] = mapped_column(default=rules.DEFAULT_DAILY_CAP)
    ramp_start: Mapped[int] = mapped_column(default=rules.DEFAULT_RAMP_START)
    ramp_increment: Mapped[int] = mapped_column(default=rules.DEFAULT_RAMP_INCREMENT)
    gap_min_seconds: Mapped[int] = mapped_column(default=rules.DEFAULT_GAP_MIN_SECONDS)
    gap_max_seconds: Mapped[int] = mapped_column(default=rules.DEFAULT_GAP_MAX_SECONDS)
    # Hours and ISO weekdays (Monday = 1) in the recipient's local time; see core.sending_window.
    window_start_hour: Mapped[int] = mapped_column(
        SmallInteger, default=rules.DEFAULT_WINDOW_START_HOUR
    )
    window_end_hour: Mapped[int] = mapped_column(
        SmallInteger, default=rules.DEFAULT_WINDOW_END_HOUR
    )
    window_weekdays: Mapped[list[int]] = mapped_column(
        ARRAY(SmallInteger), default=lambda: list(rules.DEFAULT_WINDOW_WEEKDAYS)
    )
