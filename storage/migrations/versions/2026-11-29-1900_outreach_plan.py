"""outreach plan: template types, an outreach's mailbox, follow-up steps

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every template written so far opened a conversation: they are all initial ones.
    op.add_column(
        "email_templates",
        sa.Column("type", sa.String(length=32), server_default="initial", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_email_templates_template_type"),
        "email_templates",
        "type IN ('initial', 'follow_up')",
    )

    op.add_column("outreach_campaigns", sa.Column("mailbox_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_outreach_campaigns_mailbox_id_mailboxes"),
        "outreach_campaigns",
        "mailboxes",
        ["mailbox_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_outreach_campaigns_mailbox_id"), "outreach_campaigns", ["mailbox_id"])

    op.create_table(
        "outreach_steps",
        sa.Column("outreach_campaign_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("delay_days", sa.Integer(), nullable=False),
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
        sa.CheckConstraint(
            "delay_days BETWEEN 1 AND 365", name=op.f("ck_outreach_steps_delay_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["outreach_campaign_id"],
            ["outreach_campaigns.id"],
            name=op.f("fk_outreach_steps_outreach_campaign_id_outreach_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["email_templates.id"],
            name=op.f("fk_outreach_steps_template_id_email_templates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_outreach_steps_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_steps")),
        sa.UniqueConstraint(
            "outreach_campaign_id",
            "position",
            name=op.f("uq_outreach_steps_outreach_campaign_id_position"),
        ),
    )
    op.create_index(op.f("ix_outreach_steps_created_at"), "outreach_steps", ["created_at"])
    op.create_index(op.f("ix_outreach_steps_template_id"), "outreach_steps", ["template_id"])
    op.create_index(op.f("ix_outreach_steps_workspace_id"), "outreach_steps", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("outreach_steps")
    op.drop_index(op.f("ix_outreach_campaigns_mailbox_id"), table_name="outreach_campaigns")
    op.drop_constraint(
        op.f("fk_outreach_campaigns_mailbox_id_mailboxes"), "outreach_campaigns", type_="foreignkey"
    )
    op.drop_column("outreach_campaigns", "mailbox_id")
    op.drop_constraint(op.f("ck_email_templates_template_type"), "email_templates", type_="check")
    op.drop_column("email_templates", "type")
