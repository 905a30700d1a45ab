from __future__ import annotations

from datetime import date

import pytest

from core.campaign_rules import (
    ALLOWED_TRANSITIONS,
    can_transition,
    crossed_budget,
    ensure_transition,
    is_final,
    is_over_budget,
    status_by_date,
)
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


TODAY = date(2026, 6, 15)
YESTERDAY = date(2026, 6, 14)
TOMORROW = date(2026, 6, 16)


class TestStatusByDate:
    @pytest.mark.parametrize(
        ("status", "start", "end", "moves_to"),
        [
            (S.SCHEDULED, TODAY, None, S.ACTIVE),  # starts on its first day
            (S.SCHEDULED, YESTERDAY, TOMORROW, S.ACTIVE),
            (S.SCHEDULED, YESTERDAY, TODAY, S.ACTIVE),  # the last day is still a campaign day
            (S.SCHEDULED, TOMORROW, None, None),
            (S.SCHEDULED, None, None, None),  # no start day: waits for a person
            (S.ACTIVE, YESTERDAY, YESTERDAY, S.COMPLETED),  # ends the day after its last day
            (S.ACTIVE, None, YESTERDAY, S.COMPLETED),
            (S.ACTIVE, YESTERDAY, TODAY, None),
            (S.ACTIVE, YESTERDAY, None, None),  # no end day: runs until someone ends it
        ],
    )
    def test_scheduled_campaigns_start_and_active_ones_end_on_their_dates(
        self, status: S, start: date | None, end: date | None, moves_to: S | None
    ) -> None:
        assert status_by_date(status, start, end, TODAY) == moves_to

    def test_a_scheduled_campaign_whose_days_are_over_completes_without_becoming_active(
        self,
    ) -> None:
        assert status_by_date(S.SCHEDULED, date(2026, 6, 1), YESTERDAY, TODAY) == S.COMPLETED
        assert status_by_date(S.SCHEDULED, None, YESTERDAY, TODAY) == S.COMPLETED

    @pytest.mark.parametrize("status", [S.DRAFT, S.PAUSED, S.COMPLETED, S.CANCELLED])
    def test_drafts_pauses_and_final_states_never_move_by_date(self, status: S) -> None:
        for start, end in ((YESTERDAY, None), (date(2026, 1, 1), YESTERDAY), (TODAY, TODAY)):
            assert status_by_date(status, start, end, TODAY) is None

    def test_a_move_by_date_of_an_active_campaign_is_one_a_person_may_make(self) -> None:
        for status in S:
            for start, end in ((YESTERDAY, YESTERDAY), (TODAY, None), (None, YESTERDAY)):
                target = status_by_date(status, start, end, TODAY)
                if target is not None and status is not S.SCHEDULED:
                    assert can_transition(status, target), (status, target)


class TestBudget:
    @pytest.mark.parametrize(
        ("budget", "spent", "over"),
        [(1000, 1001, True), (1000, 1000, False), (1000, 0, False), (0, 5, False)],
    )
    def test_over_budget_means_spent_more_than_a_budget_that_was_set(
        self, budget: int, spent: int, over: bool
    ) -> None:
        assert is_over_budget(budget, spent) is over

    @pytest.mark.parametrize(
        ("before", "after", "crossed"),
        [
            (900, 1001, True),
            (1000, 1001, True),  # exactly at the budget is still within it
            (900, 1000, False),
            (1001, 1500, False),  # already over: told once, not on every expense
            (1500, 900, False),  # coming back within is no crossing
        ],
    )
    def test_a_write_crosses_the_budget_only_from_within_to_over(
        self, before: int, after: int, crossed: bool
    ) -> None:
        assert crossed_budget(1000, before, after) is crossed

    def test_nothing_crosses_a_budget_of_zero(self) -> None:
        assert not crossed_budget(0, 0, 10_000)
