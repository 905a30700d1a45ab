"""A pacer for one process: the ``core.pacing`` rule kept in memory.

Good for the scraper used on its own (a script, a test). Scraper pools spread over several
processes or nodes use the Redis pacer (``storage.pacing.RedisPacer``), which keeps the same
rule in one place for all of them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from core.pacing import PacingPolicy


@dataclass
class _DomainState:
    next_slot: float = 0.0
    factor: float = 1.0
    error_at: float = 0.0
    burst: float = 0.0
    burst_at: float = 0.0


class LocalPacer:
    """Paces requests per domain within this process (fits ``scraping.fetcher.Pacer``)."""

    def __init__(self, policy: PacingPolicy) -> None:
        self.policy = policy
        self._domains: dict[str, _DomainState] = {}

    def _state(self, domain: str) -> _DomainState:
        return self._domains.setdefault(domain, _DomainState())

    async def wait_turn(self, domain: str, max_wait: float | None = None) -> bool:
        interval = self.policy.interval(domain)
        if interval is None:
            return True
        state = self._state(domain)
        while True:
            now = time.monotonic()
            factor = self.policy.decayed(state.factor, now - state.error_at)
            slot = max(now, state.next_slot)
            if max_wait is not None and slot - now > max_wait:
                return False
            state.next_slot = slot + interval * factor
            if slot > now:
                await asyncio.sleep(slot - now)
            if time.monotonic() - slot <= self.policy.late_tolerance:
                return True

    async def slow_down(self, domain: str, status: int | None = 429) -> None:
        """Record a retryable error answer (``status`` ``None``: no answer); see
        ``PacingPolicy.after_failure`` for which ones slow the domain down."""
        interval = self.policy.interval(domain)
        if interval is None:
            return
        state = self._state(domain)
        now = time.monotonic()
        after = self.policy.after_failure(
            status,
            self.policy.decayed(state.factor, now - state.error_at),
            self.policy.decayed_burst(state.burst, now - state.burst_at, interval),
        )
        if not self.policy.says_too_fast(status):
            state.burst, state.burst_at = after.burst, now
        if after.slows:
            state.factor, state.error_at = after.factor, now
            state.next_slot = max(state.next_slot, now + interval * after.factor)
