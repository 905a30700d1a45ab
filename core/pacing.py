"""How fast the scraper may talk to each domain: the pure rule shared by every pacer.

Requests to a domain leave at evenly spaced slots. The spacing is stretched by ``margin`` so
that a request which reaches the server up to ``margin`` seconds after its slot (event-loop
wake-up, the network) can never make the server see more than ``rate`` requests in any window
of one second: with slots ``(1 + margin) / rate`` apart, ``rate + 1`` arrivals span at least
``1 + margin - margin`` seconds. Error responses multiply the spacing by ``factor`` (up to
``max_factor``); the factor decays back to 1 with ``half_life`` once errors stop, and an error
only ever raises it, so an error response never shortens the delay. A caller that wakes up
later than ``late_tolerance`` after its slot gives the slot up and takes the next one, so a
stalled event loop costs throughput, never a burst.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PacingPolicy:
    """Per-domain request rates (requests per second; ``None`` means unpaced)."""

    default_rate: float | None = None
    rates: Mapping[str, float | None] = field(default_factory=dict)
    # 80 ms: on a loaded 2-core machine a request can reach the server 50 ms after its slot.
    margin: float = 0.08
    half_life: float = 10.0
    max_factor: float = 32.0

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
        """The factor right after one more error response: doubled, capped, never lower."""
        return max(factor, min(self.max_factor, max(factor, 1.0) * 2.0))


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
