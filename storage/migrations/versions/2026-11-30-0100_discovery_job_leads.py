"""discovery job leads: a job's frontier and seen set as rows, written a batch at a time

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 01:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discovery_job_leads",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("soundcloud_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("depth", sa.SmallInteger(), nullable=False),
        sa.Column("visited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["discovery_jobs.id"],
            name=op.f("fk_discovery_job_leads_job_id_discovery_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "soundcloud_id", name=op.f("pk_discovery_job_leads")),
    )
    op.create_index(
        "ix_discovery_job_leads_frontier",
        "discovery_job_leads",
        ["job_id", "priority"],
        postgresql_where=sa.text("NOT visited"),
    )


def downgrade() -> None:
    op.drop_index("ix_discovery_job_leads_frontier", table_name="discovery_job_leads")
    op.drop_table("discovery_job_leads")
