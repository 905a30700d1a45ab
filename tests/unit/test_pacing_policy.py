"""The pacing rule (slots, slowdown, decay, which errors slow a domain down), the breaker for
failing hosts and the fetcher's retry delays: pure arithmetic."""

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


def run_of_answers(policy: PacingPolicy, failing: list[int | None]) -> list[bool]:
    """Feed one answer per slot (``0``: a success) through the rule, slots spaced at the
    domain's interval; for each error, whether it slowed the domain down."""
    interval = policy.interval("api.example")
    assert interval is not None
    factor, error_at, burst, burst_at = 1.0, 0.0, 0.0, 0.0
    slowed = []
    for slot, status in enumerate(failing):
        if status == 0:
            continue
        now = slot * interval
        after = policy.after_failure(
            status,
            policy.decayed(factor, now - error_at),
            policy.decayed_burst(burst, now - burst_at, interval),
        )
        if not policy.says_too_fast(status):
            burst, burst_at = after.burst, now
        if after.slows:
            factor, error_at = after.factor, now
        slowed.append(after.slows)
    return slowed


class TestWhichErrorsSlowDown:
    @pytest.fixture
    def policy(self) -> PacingPolicy:
        return PacingPolicy(default_rate=20)

    @pytest.mark.parametrize("status", [429, 503])
    def test_too_fast_answers_double_the_factor_at_once(
        self, policy: PacingPolicy, status: int
    ) -> None:
        after = policy.after_failure(status, 1.0, 0.0)
        assert after.slows
        assert after.factor == 2.0
        assert policy.after_failure(status, after.factor, after.burst).factor == 4.0

    @pytest.mark.parametrize("status", [500, 502, 504, 408, None])
    def test_a_single_server_error_or_lost_answer_leaves_the_factor_alone(
        self, policy: PacingPolicy, status: int | None
    ) -> None:
        after = policy.after_failure(status, 1.0, 0.0)
        assert not after.slows
        assert after.factor == 1.0
        assert after.burst == 1.0

    def test_a_502_in_every_six_requests_never_slows_the_domain(self, policy: PacingPolicy) -> None:
        # The site: one answer in six is a 502, for a long job (10,000 slots).
        answers: list[int | None] = [502 if slot % 6 == 5 else 0 for slot in range(10_000)]
        slowed = run_of_answers(policy, answers)
        assert len(slowed) == 10_000 // 6
        assert not any(slowed)

    def test_a_502_trickle_at_a_low_rate_never_slows_the_domain_either(self) -> None:
        # The burst window is counted in slots, so it holds whatever the rate.
        answers: list[int | None] = [502 if slot % 6 == 5 else 0 for slot in range(600)]
        assert not any(run_of_answers(PacingPolicy(default_rate=0.5), answers))

    def test_a_host_answering_only_502s_is_slowed_down_after_a_short_burst(
        self, policy: PacingPolicy
    ) -> None:
        slowed = run_of_answers(policy, [502] * 40)
        first = slowed.index(True)
        assert 5 <= first <= 20
        assert all(slowed[first:])

    def test_a_dead_host_that_never_answers_is_slowed_down_too(self, policy: PacingPolicy) -> None:
        assert any(run_of_answers(policy, [None] * 40))

    def test_a_short_burst_of_502s_is_forgiven_once_it_has_passed(
        self, policy: PacingPolicy
    ) -> None:
        # Eight failures in a row, then the usual trickle: no slowdown at any point.
        burst: list[int | None] = [502] * 8
        answers = burst + [502 if slot % 6 == 5 else 0 for slot in range(600)]
        assert not any(run_of_answers(policy, answers))

    def test_the_burst_score_fades_by_half_every_burst_slots_slots(
        self, policy: PacingPolicy
    ) -> None:
        interval = policy.interval("api.example")
        assert interval is not None
        span = policy.burst_slots * interval
        assert policy.decayed_burst(8.0, span, interval) == pytest.approx(4.0)
        assert policy.decayed_burst(8.0, 2 * span, interval) == pytest.approx(2.0)
        assert policy.decayed_burst(8.0, -span, interval) == pytest.approx(8.0)
        assert policy.decayed_burst(0.0, span, interval) == 0.0

    def test_the_threshold_is_the_settled_score_of_half_the_slots_failing(
        self, policy: PacingPolicy
    ) -> None:
        # Every other slot failing, for long: the score settles just under the threshold.
        answers: list[int | None] = [502 if slot % 2 else 0 for slot in range(2_000)]
        interval = policy.interval("api.example")
        assert interval is not None
        burst, at = 0.0, 0.0
        for slot, status in enumerate(answers):
            if status:
                burst = policy.decayed_burst(burst, slot * interval - at, interval) + 1
                at = slot * interval
        assert burst == pytest.approx(policy.burst_threshold, rel=0.1)

    def test_no_error_ever_lowers_the_factor(self, policy: PacingPolicy) -> None:
        for status in (429, 502, None, 503, 500):
            assert policy.after_failure(status, 8.0, 0.0).factor >= 8.0


class TestLocalPacerReadsErrors:
    async def test_a_429_pushes_the_next_slot_out(self) -> None:
        # One request per 100 s: any slowdown puts the next slot minutes away.
        pacer = LocalPacer(PacingPolicy(default_rate=0.01))
        await pacer.slow_down("api.example", 429)
        assert not await pacer.wait_turn("api.example", max_wait=1.0)

    async def test_a_bare_slow_down_counts_as_too_fast(self) -> None:
        pacer = LocalPacer(PacingPolicy(default_rate=0.01))
        await pacer.slow_down("api.example")
        assert not await pacer.wait_turn("api.example", max_wait=1.0)

    async def test_a_few_502s_leave_the_next_slot_where_it_was(self) -> None:
        pacer = LocalPacer(PacingPolicy(default_rate=0.01))
        for _ in range(3):
            await pacer.slow_down("api.example", 502)
        assert await pacer.wait_turn("api.example", max_wait=1.0)


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
