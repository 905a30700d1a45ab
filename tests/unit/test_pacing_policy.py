"""The pacing rule (slots, slowdown, decay), the breaker for failing hosts and the fetcher's
retry delays: pure arithmetic."""

from __future__ import annotations

import pytest

from core.pacing import FailureBreaker, PacingPolicy
from scraping.fetcher import RetryPolicy
from scraping.pacing import LocalPacer


class TestSlotInterval:
    def test_slots_are_spaced_by_the_rate_stretched_by_the_margin(self) -> None:
        policy = PacingPolicy(default_rate=20, margin=0.05)
        assert policy.interval("api.example.com") == pytest.approx(1.05 / 20)

    def test_without_margin_the_interval_is_one_over_the_rate(self) -> None:
        assert PacingPolicy(default_rate=4, margin=0.0).interval("x.example") == 0.25

    @pytest.mark.parametrize("rate", [1, 2, 3, 10, 20, 100])
    def test_rate_plus_one_arrivals_each_up_to_a_margin_late_still_span_a_second(
        self, rate: int
    ) -> None:
        # The product's promise: the server never sees more than `rate` requests in one second,
        # even when the first of rate + 1 requests lands a full margin after its slot and the
        # last lands on time.
        policy = PacingPolicy(default_rate=rate, margin=0.05)
        interval = policy.interval("x.example")
        assert interval is not None
        first_arrival = 0.0 + policy.margin
        last_arrival = rate * interval
        assert last_arrival - first_arrival >= 1.0 - 1e-9

    def test_a_caller_may_be_late_by_half_the_margin_leaving_the_rest_for_the_network(
        self,
    ) -> None:
        policy = PacingPolicy(default_rate=10, margin=0.08)
        assert policy.late_tolerance == pytest.approx(0.04)
        assert policy.late_tolerance < policy.margin


class TestUnpacedDomains:
    def test_no_default_rate_leaves_every_domain_unpaced(self) -> None:
        policy = PacingPolicy()
        assert (policy.rate("a.example"), policy.interval("a.example")) == (None, None)

    @pytest.mark.parametrize("rate", [0, 0.0, -5])
    def test_a_zero_or_negative_rate_means_unpaced(self, rate: float) -> None:
        assert PacingPolicy(default_rate=rate).interval("a.example") is None

    def test_a_domain_can_be_exempted_from_the_default_rate(self) -> None:
        policy = PacingPolicy(default_rate=10, rates={"cdn.example": None}, margin=0.05)
        assert policy.interval("cdn.example") is None
        assert policy.interval("api.example") == pytest.approx(1.05 / 10)


class TestPerDomainOverride:
    def test_an_override_replaces_the_default_for_its_domain_only(self) -> None:
        policy = PacingPolicy(default_rate=10, rates={"api.example": 2})
        assert (policy.rate("api.example"), policy.rate("www.example")) == (2, 10)

    def test_the_domain_is_matched_without_regard_to_case(self) -> None:
        policy = PacingPolicy(default_rate=10, rates={"api.example": 2}, margin=0.05)
        assert policy.rate("API.Example") == 2
        assert policy.interval("Api.EXAMPLE") == pytest.approx(1.05 / 2)

    def test_an_override_written_in_capitals_still_applies(self) -> None:
        # A rate configured as "API.Example" must not silently leave the domain unpaced.
        policy = PacingPolicy(rates={"API.Example": 2})
        assert policy.rate("api.example") == 2
        assert policy.rate("Api.Example") == 2


class TestDecay:
    @pytest.fixture
    def policy(self) -> PacingPolicy:
        return PacingPolicy(default_rate=10, half_life=10.0, max_factor=32.0)

    def test_right_after_an_error_the_factor_is_untouched(self, policy: PacingPolicy) -> None:
        assert policy.decayed(5.0, 0.0) == pytest.approx(5.0)

    def test_the_slowdown_above_one_halves_every_half_life(self, policy: PacingPolicy) -> None:
        assert policy.decayed(5.0, 10.0) == pytest.approx(3.0)
        assert policy.decayed(5.0, 20.0) == pytest.approx(2.0)
        assert policy.decayed(9.0, 30.0) == pytest.approx(2.0)

    def test_the_decay_is_smooth_between_half_lives(self, policy: PacingPolicy) -> None:
        assert 3.0 < policy.decayed(5.0, 5.0) < 5.0

    def test_the_factor_never_falls_below_one(self, policy: PacingPolicy) -> None:
        assert policy.decayed(32.0, 1e6) >= 1.0
        assert policy.decayed(32.0, 1e6) == pytest.approx(1.0)

    @pytest.mark.parametrize("factor", [1.0, 0.5, 0.0])
    def test_a_factor_at_or_below_one_decays_to_exactly_one(
        self, policy: PacingPolicy, factor: float
    ) -> None:
        assert policy.decayed(factor, 3.0) == 1.0

    def test_a_clock_that_steps_back_does_not_raise_the_factor(self, policy: PacingPolicy) -> None:
        assert policy.decayed(4.0, -30.0) == pytest.approx(4.0)


class TestAfterError:
    @pytest.fixture
    def policy(self) -> PacingPolicy:
        return PacingPolicy(default_rate=10, max_factor=32.0)

    @pytest.mark.parametrize(("before", "after"), [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0), (16, 32)])
    def test_an_error_doubles_the_factor(
        self, policy: PacingPolicy, before: float, after: float
    ) -> None:
        assert policy.after_error(before) == after

    def test_the_first_error_slows_down_even_from_a_factor_below_one(
        self, policy: PacingPolicy
    ) -> None:
        assert policy.after_error(0.5) == 2.0

    @pytest.mark.parametrize("before", [20.0, 31.9, 32.0])
    def test_the_factor_stops_at_the_cap(self, policy: PacingPolicy, before: float) -> None:
        assert policy.after_error(before) == 32.0

    def test_an_error_never_lowers_a_factor_already_above_the_cap(
        self, policy: PacingPolicy
    ) -> None:
        # E.g. the cap was lowered in the settings while a domain was slowed down.
        assert policy.after_error(50.0) == 50.0

    def test_repeated_errors_only_ever_raise_the_factor(self, policy: PacingPolicy) -> None:
        factors = [1.0]
        for _ in range(8):
            factors.append(policy.after_error(factors[-1]))
        assert factors == sorted(factors)
        assert factors[-1] == 32.0


class TestRetryDelay:
    @pytest.mark.parametrize(("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0)])
    def test_the_delay_is_jittered_under_an_exponential_ceiling(
        self, attempt: int, ceiling: float
    ) -> None:
        policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)

    def test_the_jitter_spreads_callers_apart(self) -> None:
        policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
        assert len({policy.delay(3) for _ in range(50)}) > 1

    @pytest.mark.parametrize("attempt", [7, 12, 40])
    def test_the_ceiling_is_capped_at_max_delay(self, attempt: int) -> None:
        policy = RetryPolicy(base_delay=0.5, max_delay=10.0)
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(5.0 <= delay <= 10.0 for delay in delays)

    def test_retry_after_wins_over_the_backoff(self) -> None:
        policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
        assert policy.delay(1, retry_after=7.0) == 7.0
        assert policy.delay(5, retry_after=0.0) == 0.0

    def test_retry_after_is_capped_at_max_delay(self) -> None:
        assert RetryPolicy(max_delay=30.0).delay(1, retry_after=3600.0) == 30.0

    def test_a_retry_after_in_the_past_means_retry_now(self) -> None:
        assert RetryPolicy().delay(2, retry_after=-12.0) == 0.0


class TestFailureBreaker:
    def test_a_host_is_asked_until_it_fails_the_threshold_in_a_row(self) -> None:
        breaker = FailureBreaker(threshold=3, cooldown=60)
        for now in (0.0, 1.0):
            breaker.failed("links.example", now)
        assert breaker.allows("links.example", 2.0)
        breaker.failed("links.example", 2.0)
        assert not breaker.allows("links.example", 3.0)
        assert not breaker.allows("LINKS.example", 61.0)
        assert breaker.allows("other.example", 3.0)

    def test_a_success_in_between_starts_the_count_again(self) -> None:
        breaker = FailureBreaker(threshold=2, cooldown=60)
        breaker.failed("links.example", 0.0)
        breaker.succeeded("links.example")
        breaker.failed("links.example", 1.0)
        assert breaker.allows("links.example", 2.0)

    def test_after_the_cooldown_one_caller_tries_and_the_others_wait_for_its_outcome(
        self,
    ) -> None:
        breaker = FailureBreaker(threshold=1, cooldown=10)
        breaker.failed("links.example", 0.0)
        assert breaker.allows("links.example", 10.0)
        assert not breaker.allows("links.example", 10.5)
        breaker.failed("links.example", 11.0)
        assert not breaker.allows("links.example", 20.5)
        assert breaker.allows("links.example", 21.0)
        breaker.succeeded("links.example")
        assert breaker.allows("links.example", 21.1)

    def test_a_breaker_that_could_never_close_is_refused(self) -> None:
        with pytest.raises(ValueError, match="threshold"):
            FailureBreaker(threshold=0)


class TestBoundedTurns:
    async def test_a_turn_further_away_than_the_caller_waits_is_refused_at_once(self) -> None:
        pacer = LocalPacer(PacingPolicy(default_rate=0.01))
        assert await pacer.wait_turn("links.example", max_wait=1.0)
        # The next slot is 100 s away: refused, however often asked, other hosts unaffected.
        assert not await pacer.wait_turn("links.example", max_wait=1.0)
        assert not await pacer.wait_turn("links.example", max_wait=1.0)
        assert await pacer.wait_turn("other.example", max_wait=1.0)
