"""HTTP GETs for the scraper: allowed hosts only, paced per domain, retried with capped backoff,
and counted.

SoundCloud sends no ``Retry-After`` with its 429s, so a 408, 429 or 5xx is retried after an
exponential delay with full jitter (``Retry-After`` wins when a server does send one), and the
pacer is told to slow the whole domain down. 401/403/404 are not retried here: what they mean
(a stale client id, a private page) is the caller's to decide.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp

from scraping.errors import DisallowedHost, FetchError, HostBusy, MalformedPage

USER_AGENT = "CampaignManager/0.1 (+https://github.com/campaign-manager; artist discovery)"
# Redirects are followed by hand so each hop passes the allowed-host check.
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def domain_of(url: str) -> str:
    """The pacing and allow-list key of a URL: its host, with the port when one is given."""
    return urlsplit(url).netloc.lower()


class Pacer(Protocol):
    """Decides when the next request to a domain may leave, possibly for many processes at once."""

    async def wait_turn(self, domain: str, max_wait: float | None = None) -> bool:
        """Return True when a request to ``domain`` may be sent now; False at once, taking no
        slot, when the next slot is more than ``max_wait`` seconds away (``None``: no bound)."""

    async def slow_down(self, domain: str) -> None:
        """Record an error answer from ``domain``: the delay grows; errors never shrink it."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1``: full jitter under a capped exponential."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 30))
        return random.uniform(ceiling / 2, ceiling)


@dataclass
class FetchStats:
    """Live counters for one fetcher (or several sharing it): what a job reports as it goes."""

    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    retries: int = 0
    failures: int = 0
    received_bytes: int = 0
    latency_total: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)

    def count(self, name: str, n: int = 1) -> None:
        """Add to a named counter (``malformed``, ``client_id_refreshes``, ``artists`` ...)."""
        self.counters[name] += n

    def record(self, status: int | None, seconds: float, size: int) -> None:
        self.requests += 1
        self.latency_total += seconds
        self.received_bytes += size
        self.statuses["error" if status is None else str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready summary, with rates per minute since the stats were created."""
        minutes = max(time.monotonic() - self.started, 1e-9) / 60
        return {
            "requests": self.requests,
            "retries": self.retries,
            "failures": self.failures,
            "received_bytes": self.received_bytes,
            "mean_latency_ms": round(1000 * self.latency_total / self.requests, 1)
            if self.requests
            else None,
            "requests_per_minute": round(self.requests / minutes, 1),
            "statuses": dict(self.statuses),
            **dict(self.counters),
        }


@dataclass(frozen=True)
class _Answer:
    status: int | None
    headers: Mapping[str, str]
    body: bytes
    location: str | None


class Fetcher:
    """GETs through one aiohttp session, for any number of concurrent callers."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        pacer: Pacer | None = None,
        allowed_hosts: Collection[str] | None = None,
        retry: RetryPolicy | None = None,
        stats: FetchStats | None = None,
        timeout: float = 30.0,
        max_pacing_wait: float | None = None,
    ) -> None:
        self.session = session
        self.pacer = pacer
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        )
        self.retry = retry or RetryPolicy()
        self.stats = stats or FetchStats()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # For optional hosts: a request whose turn is further away than this is not sent.
        self.max_pacing_wait = max_pacing_wait

    def check_allowed(self, url: str) -> None:
        """Raise ``DisallowedHost`` unless the URL is http(s) on an allowed host."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise DisallowedHost(url)
        if self.allowed_hosts is not None and parts.netloc.lower() not in self.allowed_hosts:
            raise DisallowedHost(url)

    async def get_text(self, url: str, params: Mapping[str, str] | None = None) -> str:
        return (await self.get_bytes(url, params)).decode("utf-8", errors="replace")

    async def get_json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        body = await self.get_bytes(url, params)
        try:
            return json.loads(body)
        except ValueError as exc:
            self.stats.count("malformed")
            raise MalformedPage(f"{url}: not JSON ({exc})") from exc

    async def get_bytes(self, url: str, params: Mapping[str, str] | None = None) -> bytes:
        """The body of a 2xx answer, following redirects within the allowed hosts.

        Raises:
            DisallowedHost: the URL (or a redirect) leaves the allowed hosts.
            HostBusy: the pacer's next slot is further away than ``max_pacing_wait``.
            FetchError: a non-2xx answer, or retries used up (``status`` says which status).
        """
        for _ in range(MAX_REDIRECTS + 1):
            self.check_allowed(url)
            answer = await self._with_retries(url, params)
            if answer.location is None:
                return answer.body
            url, params = urljoin(url, answer.location), None
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    async def _with_retries(self, url: str, params: Mapping[str, str] | None) -> _Answer:
        domain = domain_of(url)
        for attempt in range(1, self.retry.attempts + 1):
            answer = await self._once(url, params, domain)
            status = answer.status
            if status is not None and (200 <= status < 300 or answer.location is not None):
                return answer
            if status is not None and status not in self.retry.statuses:
                self.stats.failures += 1
                raise FetchError(url, f"HTTP {status}", status=status)
            if self.pacer is not None:
                await self.pacer.slow_down(domain)
            if attempt == self.retry.attempts:
                break
            self.stats.retries += 1
            await asyncio.sleep(self.retry.delay(attempt, _retry_after(answer.headers)))
        self.stats.failures += 1
        raise FetchError(
            url,
            f"gave up after {self.retry.attempts} attempts "
            f"(last: {'no answer' if status is None else f'HTTP {status}'})",
            status=status,
        )

    async def _once(self, url: str, params: Mapping[str, str] | None, domain: str) -> _Answer:
        if self.pacer is not None and not await self.pacer.wait_turn(domain, self.max_pacing_wait):
            self.stats.count("pacing_busy")
            raise HostBusy(domain, self.max_pacing_wait or 0.0)
        started = time.monotonic()
        try:
            async with self.session.get(
                url,
                params=params,
                allow_redirects=False,
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
            ) as response:
                body = await response.read()
                location = response.headers.get("Location")
                answer = _Answer(
                    response.status,
                    response.headers,
                    body,
                    location if response.status in _REDIRECTS and location else None,
                )
        except (aiohttp.ClientError, TimeoutError):
            answer = _Answer(None, {}, b"", None)
        self.stats.record(answer.status, time.monotonic() - started, len(answer.body))
        return answer


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
