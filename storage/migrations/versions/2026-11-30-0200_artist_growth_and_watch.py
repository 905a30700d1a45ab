"""artist growth and watched artists: follower growth over 7 and 30 days kept on each artist
(sortable, with NULLs last either way), and the artists a workspace watches

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GROWTH_INDEXES = [
    (f"ix_artists_{column}_nulls_{end}", column, infinity)
    for column in ("growth_7d", "growth_30d")
    for end, infinity in (("low", "-Infinity"), ("high", "Infinity"))
]

# The rule of ``ArtistRepository.add_snapshots`` (storage/repositories/artists.py), for the
# snapshots taken before this revision: growth over a window ends at the artist's latest
# snapshot and starts at the last one at or before the window's start; failing that, at the
# first one inside the window if it covers 80% of it; else it is unknown.
_BACKFILL = """
WITH latest AS (
    SELECT DISTINCT ON (artist_id) artist_id, followers, captured_at
    FROM artist_snapshots
    ORDER BY artist_id, captured_at DESC
),
bases AS (
    SELECT
        latest.artist_id,
        latest.followers AS now,
        coalesce(
            (SELECT s.followers FROM artist_snapshots s
             WHERE s.artist_id = latest.artist_id
               AND s.captured_at <= latest.captured_at - interval '7 days'
             ORDER BY s.captured_at DESC LIMIT 1),
            (SELECT s.followers FROM artist_snapshots s
             WHERE s.artist_id = latest.artist_id
               AND s.captured_at > latest.captured_at - interval '7 days'
               AND s.captured_at <= latest.captured_at - interval '5.6 days'
             ORDER BY s.captured_at ASC LIMIT 1)
        ) AS base_7d,
        coalesce(
            (SELECT s.followers FROM artist_snapshots s
             WHERE s.artist_id = latest.artist_id
               AND s.captured_at <= latest.captured_at - interval '30 days'
             ORDER BY s.captured_at DESC LIMIT 1),
            (SELECT s.followers FROM artist_snapshots s
             WHERE s.artist_id = latest.artist_id
               AND s.captured_at > latest.captured_at - interval '30 days'
               AND s.captured_at <= latest.captured_at - interval '24 days'
             ORDER BY s.captured_at ASC LIMIT 1)
        ) AS base_30d
    FROM latest
)
UPDATE artists SET
    growth_7d_gain = bases.now - bases.base_7d,
    growth_7d = CASE WHEN bases.base_7d > 0
        THEN (bases.now - bases.base_7d) * 100.0 / bases.base_7d END,
    growth_30d_gain = bases.now - bases.base_30d,
    growth_30d = CASE WHEN bases.base_30d > 0
        THEN (bases.now - bases.base_30d) * 100.0 / bases.base_30d END
FROM bases
WHERE artists.id = bases.artist_id
"""


def upgrade() -> None:
    op.add_column("artists", sa.Column("growth_7d", sa.Float(), nullable=True))
    op.add_column("artists", sa.Column("growth_7d_gain", sa.Integer(), nullable=True))
    op.add_column("artists", sa.Column("growth_30d", sa.Float(), nullable=True))
    op.add_column("artists", sa.Column("growth_30d_gain", sa.Integer(), nullable=True))
    op.execute(_BACKFILL)
    for name, column, infinity in _GROWTH_INDEXES:
        op.create_index(
            name,
            "artists",
            [sa.text(f"coalesce({column}, '{infinity}'::double precision)"), "id"],
            unique=False,
        )
    op.create_table(
        "watched_artists",
        sa.Column("artist_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artist_id"],
            ["artists.id"],
            name=op.f("fk_watched_artists_artist_id_artists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_watched_artists_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_watched_artists_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_artists")),
        sa.UniqueConstraint(
            "workspace_id", "artist_id", name=op.f("uq_watched_artists_workspace_id_artist_id")
        ),
    )
    op.create_index(
        op.f("ix_watched_artists_artist_id"), "watched_artists", ["artist_id"], unique=False
    )
    op.create_index(
        op.f("ix_watched_artists_workspace_id"), "watched_artists", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_watched_artists_workspace_id"), table_name="watched_artists")
    op.drop_index(op.f("ix_watched_artists_artist_id"), table_name="watched_artists")
    op.drop_table("watched_artists")
    for name, _, _ in _GROWTH_INDEXES:
        op.drop_index(name, table_name="artists")
    op.drop_column("artists", "growth_30d_gain")
    op.drop_column("artists", "growth_30d")
    op.drop_column("artists", "growth_7d_gain")
    op.drop_column("artists", "growth_7d")
