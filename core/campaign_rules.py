"""The campaign state machine: draft -> scheduled -> active <-> paused -> completed | cancelled."""

from __future__ import annotations

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
