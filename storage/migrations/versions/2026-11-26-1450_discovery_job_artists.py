"""discovery job results: the artists each job kept, with their scores

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discovery_job_artists",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("artist_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column(
            "found_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["artist_id"],
            ["artists.id"],
            name=op.f("fk_discovery_job_artists_artist_id_artists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["discovery_jobs.id"],
            name=op.f("fk_discovery_job_artists_job_id_discovery_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_discovery_job_artists_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "artist_id", name=op.f("pk_discovery_job_artists")),
    )
    op.create_index(
        op.f("ix_discovery_job_artists_artist_id"), "discovery_job_artists", ["artist_id"]
    )
    op.create_index(
        op.f("ix_discovery_job_artists_workspace_id"), "discovery_job_artists", ["workspace_id"]
    )
    op.create_index(
        "ix_discovery_job_artists_job_score", "discovery_job_artists", ["job_id", "score"]
    )


def downgrade() -> None:
    op.drop_table("discovery_job_artists")
