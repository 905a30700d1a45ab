"""The robots.txt policy: which URLs a site's robots.txt lets our user agent fetch.

Each origin's ``/robots.txt`` is read once (through the fetcher that asks, so the read is paced
and retried like any request) and kept for ``ttl`` seconds. What an answer means follows RFC
9309 where it is clear:

- 2xx: its rules (``urllib.robotparser``; the first 512 KiB, as the RFC allows).
- 4xx (404, 410, also 401/403): there are no rules; everything is allowed.
- 5xx, no answer, a redirect off the allowed hosts: the rules last read for that origin keep
  applying if there are any; otherwise everything is allowed for now. Either way the file is
  read again after ``retry_after`` seconds, not a full ttl.

That last choice departs from the RFC and Google, which treat an unreachable robots.txt as
"disallow everything" for a while. Here every request is already paced below the site's limit
and the fetcher's own retries have just shown the host failing; disallowing everything would
turn a blip on one file into a failed discovery job, while a short retry period lets real
rules take effect within a minute of the site answering again.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from scraping.errors import FetchError, HostBusy, ScrapeError

MAX_ROBOTS_BYTES = 512 * 1024
"""RFC 9309: a crawler must parse at least 500 KiB of a robots.txt; the rest is ignored."""

ReadRobots = Callable[[str], Awaitable[bytes]]
"""Reads a robots.txt URL: the body of a 2xx answer, or ``FetchError`` (``status`` says which
status; ``None``: no answer)."""


@dataclass
class _Rules:
    parser: urllib.robotparser.RobotFileParser | None
    """``None``: everything is allowed."""
    expires: float


class RobotsPolicy:
    """Answers "may this URL be fetched?" from each origin's robots.txt, read on first use.

    Args:
        ttl: seconds a robots.txt that was read (or found missing) is trusted.
        retry_after: seconds after which a robots.txt that could not be read is tried again.
        clock: the time, in seconds (``time.monotonic``; tests pass their own).
    """

    def __init__(
        self,
        *,
        ttl: float = 3600.0,
        retry_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or retry_after <= 0:
            raise ValueError("ttl and retry_after must be positive")
        self.ttl = ttl
        self.retry_after = retry_after
        self._clock = clock
        self._rules: dict[str, _Rules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allows(self, url: str, *, user_agent: str, read: ReadRobots) -> bool:
        """Whether ``user_agent`` may fetch ``url``; reads the origin's robots.txt with
        ``read`` when it is not known or too old.

        Raises:
            HostBusy: robots.txt had to be read and no pacing slot was free soon enough.
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        rules = await self._rules_of(origin, read)
        if rules.parser is None:
            return True
        return rules.parser.can_fetch(user_agent, url)

    def forget(self) -> None:
        """Drop every robots.txt read so far (the next request reads them again)."""
        self._rules.clear()

    async def _rules_of(self, origin: str, read: ReadRobots) -> _Rules:
        rules = self._rules.get(origin)
        if rules is not None and rules.expires > self._clock():
            return rules
        # One read per origin however many requests wait for it.
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            rules = self._rules.get(origin)
            if rules is not None and rules.expires > self._clock():
                return rules
            rules = await self._read(origin, read, previous=rules)
            self._rules[origin] = rules
            return rules

    async def _read(self, origin: str, read: ReadRobots, *, previous: _Rules | None) -> _Rules:
        try:
            body = await read(f"{origin}/robots.txt")
        except HostBusy:
            raise  # nothing was learnt: the next request asks again
        except FetchError as error:
            if error.status is not None and 400 <= error.status < 500:
                return _Rules(None, self._clock() + self.ttl)
            return self._unreadable(previous)
        except ScrapeError:
            return self._unreadable(previous)
        parser = urllib.robotparser.RobotFileParser()
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        parser.parse(text.splitlines())
        return _Rules(parser, self._clock() + self.ttl)

    def _unreadable(self, previous: _Rules | None) -> _Rules:
        parser = previous.parser if previous is not None else None
        return _Rules(parser, self._clock() + self.retry_after)
