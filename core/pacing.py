"""How fast the scraper may talk to each domain: the pure rule shared by every pacer.

Requests to a domain leave at evenly spaced slots. The spacing is stretched by ``margin`` so
that a request which reaches the server up to ``margin`` seconds after its slot (event-loop
wake-up, the network) can never make the server see more than ``rate`` requests in any window
of one second: with slots ``(1 + margin) / rate`` apart, ``rate + 1`` arrivals span at least
``1 + margin - margin`` seconds. A caller that wakes up later than ``late_tolerance`` after
its slot gives the slot up and takes the next one, so a stalled event loop costs throughput,
never a burst.

Errors are read for what they say. A 429 or 503 says "too fast": it multiplies the spacing by
``factor`` (doubled per such answer, up to ``max_factor``), which decays back to 1 with
``half_life`` once they stop. Any other server error (500, 502, 504, 408, no answer) says "this
request failed": the fetcher retries it, and it leaves the spacing alone, because against a
site that answers 502 to one request in six a doubling per 502 held the rate at a small
fraction of the limit for good, for no gain. Such errors only count as "too fast" when they
come densely: a ``burst`` score adds 1 per error and halves every ``burst_slots`` slots, and
while it is above what ``burst_share`` of the slots failing would give, each one slows the
domain down like a 429 (a dead or overwhelmed host is backed off from; a steady trickle is
not). Nothing here ever lowers the factor but time, and every retry takes a slot of its own,
so the limit holds whatever the errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

TOO_FAST_STATUSES = frozenset({429, 503})
"""Answers that say "you are sending too fast" (503 is what proxies and CDNs send for it)."""


@dataclass(frozen=True)
class PacingPolicy:
    """Per-domain request rates (requests per second; ``None`` means unpaced)."""

    default_rate: float | None = None
    rates: Mapping[str, float | None] = field(default_factory=dict)
    # 80 ms: on a loaded 2-core machine a request can reach the server 50 ms after its slot.
    margin: float = 0.08
    half_life: float = 10.0
    max_factor: float = 32.0
    # 20 slots (1 s at 20 req/s): long enough that one sixth of the slots failing (a score of
    # about 4.8) never reaches the threshold of half of them failing (about 14.4) by chance.
    burst_slots: float = 20.0
    burst_share: float = 0.5

    def __post_init__(self) -> None:
        # Host names are case-insensitive: an override written "API.Example.com" must still apply.
        object.__setattr__(self, "rates", {d.lower(): r for d, r in self.rates.items()})

    @property
    def late_tolerance(self) -> float:
        """How late a request may leave after its slot; a later one takes a new slot instead.

        Half the margin: the other half covers the trip from our socket to the server.
        """
        return self.margin / 2

    def rate(self, domain: str) -> float | None:
        return self.rates.get(domain.lower(), self.default_rate)

    def interval(self, domain: str) -> float | None:
        """Seconds between two request slots for ``domain`` before any slowdown."""
        rate = self.rate(domain)
        if rate is None or rate <= 0:
            return None
        return (1.0 + self.margin) / rate

    def decayed(self, factor: float, seconds_since_error: float) -> float:
        """The slowdown factor some time after the last error (never below 1)."""
        if factor <= 1.0:
            return 1.0
        halvings = max(seconds_since_error, 0.0) / self.half_life
        return 1.0 + (factor - 1.0) * math.exp(-math.log(2.0) * halvings)

    def after_error(self, factor: float) -> float:
        """The factor right after one more "too fast" answer: doubled, capped, never lower."""
        return max(factor, min(self.max_factor, max(factor, 1.0) * 2.0))

    @staticmethod
    def says_too_fast(status: int | None) -> bool:
        """Whether an answer (``None``: no answer at all) always slows its domain down."""
        return status in TOO_FAST_STATUSES

    @property
    def burst_threshold(self) -> float:
        """The burst score above which server errors slow the domain down.

        A score that gains 1 per error and halves every ``burst_slots`` slots settles at
        ``share * burst_slots / ln 2`` when ``share`` of the slots fail.
        """
        return self.burst_share * self.burst_slots / math.log(2.0)

    def decayed_burst(self, burst: float, seconds_since: float, interval: float) -> float:
        """The burst score some time after it was last raised (slots ``interval`` apart)."""
        if burst <= 0.0:
            return 0.0
        halvings = max(seconds_since, 0.0) / (self.burst_slots * interval)
        return burst * math.exp(-math.log(2.0) * halvings)

    def after_failure(self, status: int | None, factor: float, burst: float) -> AfterFailure:
        """The state right after one more retryable error answer, from the decayed ``factor``
        and ``burst``: a "too fast" answer slows down (the factor doubles and the decay starts
        again); another error adds 1 to the burst score and slows down only when the score is
        then above the threshold."""
        if self.says_too_fast(status):
            return AfterFailure(self.after_error(factor), burst, slows=True)
        burst += 1.0
        if burst > self.burst_threshold:
            return AfterFailure(self.after_error(factor), burst, slows=True)
        return AfterFailure(factor, burst, slows=False)


class AfterFailure(NamedTuple):
    """A domain's pacing state after an error answer (see ``PacingPolicy.after_failure``)."""

    factor: float
    burst: float
    slows: bool
    """Whether the domain slows down: its factor and error time are stored, its next slot
    pushed out by the new spacing."""


@dataclass
class _HostFailures:
    consecutive: int = 0
    closed_until: float = 0.0


@dataclass
class FailureBreaker:
    """Stops asking a host that keeps failing, for a while: after ``threshold`` failures in a
    row (no answer, a timeout, retries used up) the host is left alone for ``cooldown``
    seconds; then one caller may try it again, and only a success closes the breaker.

    For optional hosts (link-in-bio pages): a dead one must cost a few bounded tries, not a
    wait per artist. Times are the caller's clock (``time.monotonic()``), so the rule stays pure.
    """

    threshold: int = 3
    cooldown: float = 60.0
    _hosts: dict[str, _HostFailures] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.cooldown <= 0:
            raise ValueError("a breaker needs threshold >= 1 and a positive cooldown")

    def allows(self, host: str, now: float) -> bool:
        """Whether a request to ``host`` may be tried now. Past the cool-down one trial goes
        through, and the host stays closed to others for another cool-down meanwhile."""
        state = self._hosts.get(host.lower())
        if state is None or state.consecutive < self.threshold:
            return True
        if now < state.closed_until:
            return False
        state.closed_until = now + self.cooldown
        return True

    def succeeded(self, host: str) -> None:
        self._hosts.pop(host.lower(), None)

    def failed(self, host: str, now: float) -> None:
        state = self._hosts.setdefault(host.lower(), _HostFailures())
        state.consecutive += 1
        if state.consecutive >= self.threshold:
            state.closed_until = max(state.closed_until, now + self.cooldown)
