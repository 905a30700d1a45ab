"""The campaign state machine (draft -> scheduled -> active <-> paused -> completed | cancelled),
the moves the calendar makes on its own, and spending against the budget."""

from __future__ import annotations

from datetime import date

from core.enums import CampaignStatus
from core.errors import InvalidTransition

_S = CampaignStatus

ALLOWED_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    _S.DRAFT: frozenset({_S.SCHEDULED, _S.ACTIVE, _S.CANCELLED}),
    _S.SCHEDULED: frozenset({_S.DRAFT, _S.ACTIVE, _S.CANCELLED}),
    _S.ACTIVE: frozenset({_S.PAUSED, _S.COMPLETED, _S.CANCELLED}),
    _S.PAUSED: frozenset({_S.ACTIVE, _S.COMPLETED, _S.CANCELLED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def can_transition(current: CampaignStatus, target: CampaignStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def ensure_transition(current: CampaignStatus, target: CampaignStatus) -> None:
    """Raise ``InvalidTransition`` unless ``current -> target`` is an allowed move."""
    if not can_transition(current, target):
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none (final state)"
        raise InvalidTransition(
            f"a {current} campaign cannot become {target}; allowed next states: {allowed}"
        )


def is_final(status: CampaignStatus) -> bool:
    return not ALLOWED_TRANSITIONS[status]


# The statuses the calendar moves on its own; every other one changes only when someone asks.
DATE_DRIVEN: frozenset[CampaignStatus] = frozenset({_S.SCHEDULED, _S.ACTIVE})


def status_by_date(
    status: CampaignStatus, start_date: date | None, end_date: date | None, today: date
) -> CampaignStatus | None:
    """The status a campaign moves to because of its dates on ``today``, or ``None`` to stay.

    - scheduled -> active once ``start_date <= today``;
    - active -> completed once ``end_date < today`` (the end day itself is still a campaign day);
    - scheduled -> completed once ``end_date < today``, straight away: its days are over, and
      passing through active would start its outreach for a window that has gone (the dates
      were set in the past, or nothing ran the calendar for a while). This is the calendar's
      move only; a person still cannot complete a scheduled campaign by hand.
    - draft, paused, completed and cancelled never move by date: a draft was not meant to start,
      a pause is someone's decision, and the last two are final.

    A missing date never triggers a move. ``today`` is the caller's calendar day (the scheduler
    uses UTC).
    """
    if status not in DATE_DRIVEN:
        return None
    if end_date is not None and end_date < today:
        return _S.COMPLETED
    if status is _S.SCHEDULED and start_date is not None and start_date <= today:
        return _S.ACTIVE
    return None


def is_over_budget(budget_minor: int, spent_minor: int) -> bool:
    """Spending passed the budget. A budget of 0 means none was set, so nothing is over it."""
    return budget_minor > 0 and spent_minor > budget_minor


def crossed_budget(budget_minor: int, spent_before_minor: int, spent_after_minor: int) -> bool:
    """A write took spending over the budget: within it before, over it after. A campaign
    already over its budget does not cross again until it has come back within it."""
    return is_over_budget(budget_minor, spent_after_minor) and not is_over_budget(
        budget_minor, spent_before_minor
    )
