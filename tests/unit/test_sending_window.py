"""Recipients' time zones from country and city, and when a window lets a message go."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput
from core.sending_window import SendingWindow, next_send_time, time_zone_for

WORKDAYS = frozenset({1, 2, 3, 4, 5})
BERLIN = ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class TestTimeZoneFromCountryAndCity:
    def test_a_city_with_its_own_zone_gets_it(self) -> None:
        assert time_zone_for("DE", "Berlin").key == "Europe/Berlin"

    def test_los_angeles_and_new_york_are_told_apart(self) -> None:
        assert time_zone_for("US", "Los Angeles").key == "America/Los_Angeles"
        assert time_zone_for("us", "new-york").key == "America/New_York"

    def test_accents_and_case_do_not_matter(self) -> None:
        assert time_zone_for("BR", "são paulo").key == "America/Sao_Paulo"

    def test_an_unknown_city_gets_the_countrys_principal_zone(self) -> None:
        assert time_zone_for("US", "Brooklyn").key == "America/New_York"
        assert time_zone_for("DE", None).key == "Europe/Berlin"

    def test_a_city_of_another_country_does_not_win_over_the_country(self) -> None:
        assert time_zone_for("DE", "Zurich").key == "Europe/Berlin"

    def test_without_a_country_a_city_matching_one_zone_is_used(self) -> None:
        assert time_zone_for(None, "Tokyo").key == "Asia/Tokyo"

    def test_an_unknown_country_and_city_is_utc(self) -> None:
        assert time_zone_for("XX", "Atlantis").key == "UTC"
        assert time_zone_for(None, None).key == "UTC"


class TestNextSendTime:
    def test_inside_the_window_a_message_may_go_now(self) -> None:
        window = SendingWindow(9, 17, WORKDAYS)
        now = utc(2026, 1, 14, 12, 0)  # Wednesday, 13:00 in Berlin
        assert next_send_time(window, BERLIN, now) == now

    def test_before_the_window_it_waits_for_the_local_opening(self) -> None:
        window = SendingWindow(9, 17, WORKDAYS)
        # Wednesday 06:00 UTC is 07:00 in Berlin (CET): the window opens at 08:00 UTC.
        assert next_send_time(window, BERLIN, utc(2026, 1, 14, 6)) == utc(2026, 1, 14, 8)

    def test_the_same_instant_is_in_the_window_in_one_city_and_not_another(self) -> None:
        window = SendingWindow(9, 17, WORKDAYS)
        now = utc(2026, 1, 14, 15, 0)  # 10:00 in New York, 07:00 in Los Angeles
        assert next_send_time(window, time_zone_for("US", "New York"), now) == now
        assert next_send_time(window, time_zone_for("US", "Los Angeles"), now) == utc(
            2026, 1, 14, 17
        )

    def test_after_fridays_window_it_waits_for_monday(self) -> None:
        window = SendingWindow(9, 17, WORKDAYS)
        friday_evening = utc(2026, 1, 16, 18)  # 19:00 in Berlin
        assert next_send_time(window, BERLIN, friday_evening) == utc(2026, 1, 19, 8)

    def test_a_window_past_midnight_stays_open_into_the_next_day(self) -> None:
        window = SendingWindow(22, 6, frozenset({5}))  # Friday 22:00 to Saturday 06:00
        saturday_early = utc(2026, 1, 17, 3)  # 04:00 Saturday in Berlin
        assert next_send_time(window, BERLIN, saturday_early) == saturday_early
        saturday_noon = utc(2026, 1, 17, 11)
        assert next_send_time(window, BERLIN, saturday_noon) == utc(2026, 1, 23, 21)

    def test_a_window_to_hour_24_ends_at_midnight(self) -> None:
        window = SendingWindow(20, 24, frozenset({3}))
        assert next_send_time(window, BERLIN, utc(2026, 1, 14, 22, 59)) == utc(2026, 1, 14, 22, 59)
        assert next_send_time(window, BERLIN, utc(2026, 1, 14, 23)) == utc(2026, 1, 21, 19)

    def test_the_window_keeps_local_hours_across_a_dst_change(self) -> None:
        window = SendingWindow(9, 17, WORKDAYS)
        # Berlin moves to summer time on Sunday 2026-03-29: 09:00 is 08:00 UTC before, 07:00 after.
        assert next_send_time(window, BERLIN, utc(2026, 3, 27, 5)) == utc(2026, 3, 27, 8)
        assert next_send_time(window, BERLIN, utc(2026, 3, 30, 5)) == utc(2026, 3, 30, 7)

    def test_a_window_opening_in_the_skipped_hour_opens_when_the_clocks_jump(self) -> None:
        window = SendingWindow(2, 4, frozenset({7}))  # 02:00 does not exist on 2026-03-29
        opens = next_send_time(window, BERLIN, utc(2026, 3, 28, 12))
        assert opens == utc(2026, 3, 29, 1)
        assert opens.astimezone(BERLIN).hour == 3

    def test_a_window_closing_in_the_repeated_hour_closes_at_its_first_pass(self) -> None:
        window = SendingWindow(0, 2, frozenset({7}))  # 2026-10-25: 02:00-03:00 happens twice
        # 00:30 UTC is 02:30 summer time, after the window closed at 02:00 summer time.
        assert next_send_time(window, BERLIN, utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 31, 23)

    def test_a_time_without_a_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            next_send_time(SendingWindow(9, 17, WORKDAYS), BERLIN, datetime(2026, 1, 14))


class TestWindowRules:
    @pytest.mark.parametrize(
        ("start", "end", "days", "field"),
        [
            (24, 5, {1}, "window_start_hour"),
            (9, 0, {1}, "window_end_hour"),
            (9, 9, {1}, "window_end_hour"),
            (9, 17, set(), "window_weekdays"),
            (9, 17, {0}, "window_weekdays"),
            (9, 17, {8}, "window_weekdays"),
        ],
    )
    def test_an_invalid_window_names_its_field(
        self, start: int, end: int, days: set[int], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            SendingWindow(start, end, frozenset(days))
        assert [p.field for p in refused.value.problems] == [field]
