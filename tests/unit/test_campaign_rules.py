from __future__ import annotations

import pytest

from core.campaign_rules import ALLOWED_TRANSITIONS, can_transition, ensure_transition, is_final
from core.enums import CampaignStatus as S
from core.errors import InvalidTransition


class TestTransitions:
    @pytest.mark.parametrize(
        ("current", "target"),
        [
            (S.DRAFT, S.SCHEDULED),
            (S.SCHEDULED, S.ACTIVE),
            (S.ACTIVE, S.PAUSED),
            (S.PAUSED, S.ACTIVE),
            (S.ACTIVE, S.COMPLETED),
            (S.PAUSED, S.CANCELLED),
            (S.DRAFT, S.CANCELLED),
        ],
    )
    def test_the_designed_path_is_allowed(self, current: S, target: S) -> None:
        ensure_transition(current, target)

    @pytest.mark.parametrize(
        ("current", "target"),
        [
            (S.DRAFT, S.PAUSED),
            (S.DRAFT, S.COMPLETED),
            (S.COMPLETED, S.ACTIVE),
            (S.CANCELLED, S.DRAFT),
            (S.ACTIVE, S.DRAFT),
            (S.ACTIVE, S.ACTIVE),
        ],
    )
    def test_other_moves_are_refused_with_the_allowed_ones_named(
        self, current: S, target: S
    ) -> None:
        with pytest.raises(InvalidTransition, match="allowed next states"):
            ensure_transition(current, target)

    def test_completed_and_cancelled_are_final(self) -> None:
        assert {s for s in S if is_final(s)} == {S.COMPLETED, S.CANCELLED}

    def test_every_status_has_a_rule(self) -> None:
        assert set(ALLOWED_TRANSITIONS) == set(S)
        assert not can_transition(S.COMPLETED, S.CANCELLED)
