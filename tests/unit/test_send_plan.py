"""The send plan: caps, ramp-up, spacing and recipient-local windows decide when messages go."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.mailbox_rules import SendingLimits
from core.send_plan import Pace, PlanDay, plan_sends, schedule
from core.sending_window import SendingWindow

UTC_ZONE = ZoneInfo("UTC")
EVERY_DAY = frozenset(range(1, 8))
WORKDAYS = frozenset(range(1, 6))
# Tuesday 1 December 2026, 06:00 UTC.
TUESDAY_6AM = datetime(2026, 12, 1, 6, tzinfo=UTC)


def limits(**overrides: int) -> SendingLimits:
    """Limits that let everything through at once unless a test tightens one."""
    values = {
        "per_minute": 600,
        "daily_cap": 10_000,
        "ramp_start": 10_000,
        "ramp_increment": 0,
        "gap_min_seconds": 0,
        "gap_max_seconds": 0,
        **overrides,
    }
    return SendingLimits(**values)


def times(zones: list[ZoneInfo], pace: Pace, start: datetime) -> list[datetime]:
    return [at for _, at in sorted(schedule(zones, pace, start))]


class TestTheOutbox:
    def test_only_the_outreachs_daily_limit_holds_and_a_full_day_moves_to_utc_midnight(
        self,
    ) -> None:
        plan = plan_sends([UTC_ZONE] * 5, Pace(daily_limit=2), TUESDAY_6AM)
        assert plan.messages == 5
        assert plan.first_send_at == TUESDAY_6AM
        assert plan.last_send_at == datetime(2026, 12, 3, tzinfo=UTC)
        assert plan.days == [
            PlanDay(date(2026, 12, 1), 2),
            PlanDay(date(2026, 12, 2), 2),
            PlanDay(date(2026, 12, 3), 1),
        ]
        assert plan.days_needed == 3

    def test_nothing_queued_is_an_empty_plan(self) -> None:
        plan = plan_sends([], Pace(daily_limit=50), TUESDAY_6AM)
        assert (plan.messages, plan.first_send_at, plan.days_needed, plan.days) == (0, None, 0, [])


class TestSpacing:
    def test_the_per_minute_limit_spaces_sends_evenly(self) -> None:
        pace = Pace(daily_limit=100, limits=limits(per_minute=2))
        sent = times([UTC_ZONE] * 3, pace, TUESDAY_6AM)
        assert [at - TUESDAY_6AM for at in sent] == [timedelta(seconds=s) for s in (0, 30, 60)]

    def test_the_random_gap_counts_at_its_mean(self) -> None:
        pace = Pace(daily_limit=100, limits=limits(gap_min_seconds=60, gap_max_seconds=180))
        sent = times([UTC_ZONE] * 3, pace, TUESDAY_6AM)
        assert [at - TUESDAY_6AM for at in sent] == [timedelta(minutes=m) for m in (0, 2, 4)]


class TestDailyCaps:
    def test_a_new_mailbox_ramps_up_day_by_day_to_its_cap(self) -> None:
        pace = Pace(daily_limit=100, limits=limits(daily_cap=4, ramp_start=2, ramp_increment=1))
        plan = plan_sends([UTC_ZONE] * 12, pace, TUESDAY_6AM)
        assert [d.messages for d in plan.days] == [2, 3, 4, 3]

    def test_a_mailbox_in_use_for_days_starts_further_up_its_ramp(self) -> None:
        pace = Pace(
            daily_limit=100,
            limits=limits(daily_cap=50, ramp_start=2, ramp_increment=1),
            ramp_origin=date(2026, 11, 26),  # five days before the start
        )
        plan = plan_sends([UTC_ZONE] * 20, pace, TUESDAY_6AM)
        assert [d.messages for d in plan.days] == [7, 8, 5]

    def test_the_outreachs_daily_limit_binds_below_the_mailboxs_cap(self) -> None:
        pace = Pace(daily_limit=3, limits=limits(daily_cap=100, ramp_start=100))
        plan = plan_sends([UTC_ZONE] * 7, pace, TUESDAY_6AM)
        assert [d.messages for d in plan.days] == [3, 3, 1]


class TestRecipientWindows:
    def test_each_recipient_gets_the_window_of_their_own_time_zone(self) -> None:
        # 06:00 UTC is 15:00 in Tokyo (open) and 01:00 in New York (opens at 14:00 UTC).
        new_york, tokyo = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
        pace = Pace(daily_limit=100, limits=limits(), window=SendingWindow(9, 17, EVERY_DAY))
        sent = dict(schedule([new_york, tokyo], pace, TUESDAY_6AM))
        assert sent == {1: TUESDAY_6AM, 0: datetime(2026, 12, 1, 14, tzinfo=UTC)}

    def test_a_recipient_asleep_does_not_hold_up_one_who_is_awake(self) -> None:
        new_york, tokyo = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
        pace = Pace(
            daily_limit=100,
            limits=limits(gap_min_seconds=600, gap_max_seconds=600),
            window=SendingWindow(9, 17, EVERY_DAY),
        )
        order = [index for index, _ in schedule([new_york] * 2 + [tokyo] * 2, pace, TUESDAY_6AM)]
        assert order == [2, 3, 0, 1]

    def test_a_window_past_midnight_runs_into_the_next_day(self) -> None:
        # Friday 22:00 to Saturday 06:00 in Berlin (UTC+1 in December): 21:00 to 05:00 UTC.
        pace = Pace(
            daily_limit=100,
            limits=limits(gap_min_seconds=3600, gap_max_seconds=3600),
            window=SendingWindow(22, 6, frozenset({5})),
        )
        friday_noon = datetime(2026, 12, 4, 12, tzinfo=UTC)
        plan = plan_sends([ZoneInfo("Europe/Berlin")] * 10, pace, friday_noon)
        assert plan.first_send_at == datetime(2026, 12, 4, 21, tzinfo=UTC)
        assert plan.days == [
            PlanDay(date(2026, 12, 4), 3),  # 21:00, 22:00, 23:00 UTC
            PlanDay(date(2026, 12, 5), 5),  # 00:00 to 04:00 UTC; 05:00 is 06:00 in Berlin
            PlanDay(date(2026, 12, 11), 2),  # the next Friday night
        ]

    def test_weekends_are_skipped_when_the_window_has_only_workdays(self) -> None:
        pace = Pace(daily_limit=1, limits=limits(), window=SendingWindow(9, 17, WORKDAYS))
        friday_afternoon = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
        sent = times([UTC_ZONE] * 2, pace, friday_afternoon)
        assert sent == [friday_afternoon, datetime(2026, 12, 7, 9, tzinfo=UTC)]


class TestBounds:
    def test_the_day_list_is_cut_at_its_bound_but_the_totals_cover_everything(self) -> None:
        plan = plan_sends([UTC_ZONE] * 5, Pace(daily_limit=1), TUESDAY_6AM, max_days=3)
        assert len(plan.days) == 3
        assert plan.days_truncated
        assert (plan.messages, plan.days_needed) == (5, 5)

    def test_a_start_without_a_time_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            plan_sends([UTC_ZONE], Pace(daily_limit=1), datetime(2026, 12, 1))
