"""sending: unknown and skipped email records, follow-up steps per record, outreach pause reasons

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = ("queued", "sending", "sent", "failed", "bounced", "opened", "clicked", "replied")
_NEW_STATUSES = (*_OLD_STATUSES, "unknown", "skipped")


def _status_check(statuses: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_email_records_email_status"), "email_records", type_="check")
    listed = ", ".join(f"'{status}'" for status in statuses)
    op.create_check_constraint(
        op.f("ck_email_records_email_status"), "email_records", f"status IN ({listed})"
    )


# Bounds of a mailbox's limits: (column, lowest, highest before, highest now). A relay on the
# local network (or a transactional provider) takes far more than a cold-mail inbox.
_LIMITS = (
    ("per_minute", 1, 600, 60_000),
    ("daily_cap", 1, 10_000, 1_000_000),
    ("ramp_start", 1, 10_000, 1_000_000),
    ("ramp_increment", 0, 10_000, 1_000_000),
)


def _limit_checks(*, now: bool) -> None:
    for column, low, before, after in _LIMITS:
        name = op.f(f"ck_mailboxes_{column}")
        op.drop_constraint(name, "mailboxes", type_="check")
        high = after if now else before
        op.create_check_constraint(name, "mailboxes", f"{column} BETWEEN {low} AND {high}")


def upgrade() -> None:
    _limit_checks(now=True)
    _status_check(_NEW_STATUSES)
    # Step 0 is the outreach's first message; step n its n-th follow-up.
    op.add_column(
        "email_records", sa.Column("step", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "email_records", sa.Column("send_after", sa.DateTime(timezone=True), nullable=True)
    )
    # How many times the record was handed to a sender (names its entries in the send ledger).
    op.add_column(
        "email_records", sa.Column("claims", sa.Integer(), server_default="0", nullable=False)
    )
    op.drop_constraint(
        op.f("uq_email_records_outreach_campaign_id_to_email"), "email_records", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_email_records_outreach_campaign_id_to_email_step"),
        "email_records",
        ["outreach_campaign_id", "to_email", "step"],
    )
    op.add_column("outreach_campaigns", sa.Column("pause_reason", sa.Text(), nullable=True))
    op.add_column(
        "outreach_campaigns",
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("outreach_campaigns", "launched_at")
    op.drop_column("outreach_campaigns", "pause_reason")
    op.execute("DELETE FROM email_records WHERE step > 0")
    op.drop_constraint(
        op.f("uq_email_records_outreach_campaign_id_to_email_step"), "email_records", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_email_records_outreach_campaign_id_to_email"),
        "email_records",
        ["outreach_campaign_id", "to_email"],
    )
    op.drop_column("email_records", "claims")
    op.drop_column("email_records", "send_after")
    op.drop_column("email_records", "step")
    op.execute("UPDATE email_records SET status = 'failed' WHERE status IN ('unknown', 'skipped')")
    _status_check(_OLD_STATUSES)
    for column, _, before, _ in _LIMITS:
        op.execute(f"UPDATE mailboxes SET {column} = LEAST({column}, {before})")
    _limit_checks(now=False)
