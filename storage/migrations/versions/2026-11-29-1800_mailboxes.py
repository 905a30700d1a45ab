"""mailboxes: SMTP accounts with a sealed password and sending limits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column(
            "tls_mode",
            sa.Enum(
                "starttls",
                "tls",
                "none",
                name="smtp_tls_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("username", sa.String(length=320), nullable=True),
        sa.Column("password_sealed", sa.Text(), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("from_email", sa.String(length=320), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("ramp_start", sa.Integer(), nullable=False),
        sa.Column("ramp_increment", sa.Integer(), nullable=False),
        sa.Column("gap_min_seconds", sa.Integer(), nullable=False),
        sa.Column("gap_max_seconds", sa.Integer(), nullable=False),
        sa.Column("window_start_hour", sa.SmallInteger(), nullable=False),
        sa.Column("window_end_hour", sa.SmallInteger(), nullable=False),
        sa.Column("window_weekdays", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name=op.f("ck_mailboxes_port_range")),
        sa.CheckConstraint("per_minute BETWEEN 1 AND 600", name=op.f("ck_mailboxes_per_minute")),
        sa.CheckConstraint("daily_cap BETWEEN 1 AND 10000", name=op.f("ck_mailboxes_daily_cap")),
        sa.CheckConstraint("ramp_start BETWEEN 1 AND 10000", name=op.f("ck_mailboxes_ramp_start")),
        sa.CheckConstraint(
            "ramp_increment BETWEEN 0 AND 10000", name=op.f("ck_mailboxes_ramp_increment")
        ),
        sa.CheckConstraint(
            "gap_min_seconds >= 0 AND gap_min_seconds <= gap_max_seconds "
            "AND gap_max_seconds <= 3600",
            name=op.f("ck_mailboxes_gap_range"),
        ),
        sa.CheckConstraint(
            "window_start_hour BETWEEN 0 AND 23 AND window_end_hour BETWEEN 1 AND 24 "
            "AND window_start_hour <> window_end_hour",
            name=op.f("ck_mailboxes_window_hours"),
        ),
        sa.CheckConstraint(
            "cardinality(window_weekdays) BETWEEN 1 AND 7 "
            "AND window_weekdays <@ ARRAY[1, 2, 3, 4, 5, 6, 7]::smallint[]",
            name=op.f("ck_mailboxes_window_weekdays"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_mailboxes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_mailboxes_workspace_id_name")),
    )
    op.create_index(op.f("ix_mailboxes_created_at"), "mailboxes", ["created_at"])
    op.create_index(op.f("ix_mailboxes_workspace_id"), "mailboxes", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("mailboxes")
