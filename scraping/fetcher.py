"""HTTP GETs for the scraper: allowed hosts only, robots.txt obeyed when asked, answered from a
short cache when it can be, paced per domain, retried with capped backoff, and counted.

SoundCloud sends no ``Retry-After`` with its 429s, so a 408, 429 or 5xx is retried after an
exponential delay with full jitter (``Retry-After`` wins when a server does send one); each
retry waits for a pacing slot of its own, and the pacer is told the status, so that a 429 or
503 slows the whole domain down while a stray 502 does not (``core.pacing``). 401/403/404 are
not retried here: what they mean (a stale client id, a private page) is the caller's to decide.

Two context variables let one fetcher serve several callers (a shared scraper actor running
calls for several jobs) with per-call figures and bounds: ``call_stats`` and
``pacing_wait_limit``. Set them around a call; tasks started inside it inherit them.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp

from core import metrics
from scraping.errors import DisallowedHost, FetchError, HostBusy, MalformedPage, RobotsDisallowed
from scraping.response_cache import CachedAnswer, ResponseCache
from scraping.robots import RobotsPolicy

USER_AGENT = "CampaignManager/0.1 (+https://github.com/campaign-manager; artist discovery)"
# Redirects are followed by hand so each hop passes the allowed-host check.
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NOT_MODIFIED = 304

call_stats: ContextVar[FetchStats | None] = ContextVar("call_stats", default=None)
"""When set, everything any ``FetchStats`` records in this context (requests, retries,
failures, statuses, named counters, the SoundCloud client's and the scraper's own) is also
recorded in this one: the figures of one call of a fetcher shared by many."""

pacing_wait_limit: ContextVar[float | None] = ContextVar("pacing_wait_limit", default=None)
"""When set, a request whose pacing slot is further away than this many seconds is not sent:
``HostBusy`` is raised at once. The bound is the smaller of this and the fetcher's own
``max_pacing_wait`` (near 0: take only a free slot, as a refresh that must not delay jobs)."""


def domain_of(url: str) -> str:
    """The pacing and allow-list key of a URL: its host, with the port when one is given."""
    return urlsplit(url).netloc.lower()


class Pacer(Protocol):
    """Decides when the next request to a domain may leave, possibly for many processes at once."""

    async def wait_turn(self, domain: str, max_wait: float | None = None) -> bool:
        """Return True when a request to ``domain`` may be sent now; False at once, taking no
        slot, when the next slot is more than ``max_wait`` seconds away (``None``: no bound)."""

    async def slow_down(self, domain: str, status: int | None = 429) -> None:
        """Record a retryable error answer from ``domain`` (``status`` ``None``: no answer).

        A 429 or 503 slows the domain down; other errors only when they come densely
        (``core.pacing.PacingPolicy.after_failure``). Errors never shrink the delay."""


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


_ONCE = RetryPolicy(attempts=1)


@dataclass
class FetchStats:
    """Live counters for one fetcher (or several sharing it): what a job reports as it goes.

    Every change is also made to ``call_stats`` when that is set (and another object).
    """

    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    retries: int = 0
    failures: int = 0
    received_bytes: int = 0
    latency_total: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)

    def _targets(self) -> tuple[FetchStats, ...]:
        mirror = call_stats.get()
        return (self,) if mirror is None or mirror is self else (self, mirror)

    def count(self, name: str, n: int = 1) -> None:
        """Add to a named counter (``malformed``, ``client_id_refreshes``, ``artists`` ...)."""
        for stats in self._targets():
            stats.counters[name] += n

    def record(self, status: int | None, seconds: float, size: int) -> None:
        """Count one request sent and its answer (``status`` ``None``: no answer)."""
        for stats in self._targets():
            stats.requests += 1
            stats.latency_total += seconds
            stats.received_bytes += size
            stats.statuses["error" if status is None else str(status)] += 1

    def retried(self) -> None:
        """Count one retry of a request."""
        for stats in self._targets():
            stats.retries += 1

    def failed(self) -> None:
        """Count one request given up (an answer not retried, or retries used up)."""
        for stats in self._targets():
            stats.failures += 1

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
    """GETs through one aiohttp session, for any number of concurrent callers.

    Args:
        session: the aiohttp session every request goes through.
        pacer: spaces the requests to each domain (``None``: unpaced).
        allowed_hosts: the netlocs that may be fetched (``None``: any).
        retry: how often and after how long a retryable answer is tried again.
        stats: where to count (a new ``FetchStats`` when not given).
        timeout: seconds for one request.
        max_pacing_wait: a request whose slot is further away than this is not sent
            (``HostBusy``); for optional hosts. See also ``pacing_wait_limit``.
        robots: obey robots.txt as this policy reads it (``None``: robots.txt is ignored).
        cache: answer repeated GETs from this cache (``None`` or a ttl of 0: never).
        host_class: what the hosts are, for the metrics (``core.metrics.HOST_*``).
    """

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
        robots: RobotsPolicy | None = None,
        cache: ResponseCache | None = None,
        host_class: str = metrics.HOST_OTHER,
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
        self.robots = robots
        self.cache = cache if cache is not None and cache.enabled else None
        self.host_class = host_class

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
            RobotsDisallowed: robots.txt forbids the URL (or a redirect); nothing was sent.
            HostBusy: the pacer's next slot is further away than ``max_pacing_wait`` (or
                ``pacing_wait_limit``).
            FetchError: a non-2xx answer, or retries used up (``status`` says which status).
        """
        return await self._get(url, params, obey_robots=True, use_cache=True)

    async def _get(
        self,
        url: str,
        params: Mapping[str, str] | None,
        *,
        obey_robots: bool,
        use_cache: bool,
        retry: RetryPolicy | None = None,
    ) -> bytes:
        self.check_allowed(url)
        if obey_robots:
            await self._check_robots(url, params)
        cache = self.cache if use_cache else None
        key: str | None = None
        cached: CachedAnswer | None = None
        if cache is not None:
            key = cache.key(url, params)
            cached = cache.lookup(key)
            if cached is not None and cached.fresh:
                self.stats.count("cache_hits")
                return cached.body
        # A stale answer with a validator is asked about, not fetched again (a 304 reuses it).
        conditions = cached.conditions if cached is not None else {}
        first = (url, params)
        for _ in range(MAX_REDIRECTS + 1):
            answer = await self._with_retries(url, params, conditions, retry or self.retry)
            if answer.status == _NOT_MODIFIED and cached is not None and key is not None:
                assert cache is not None
                cache.revalidated(key)
                self.stats.count("cache_revalidated")
                return cached.body
            if answer.location is None:
                if cache is not None and key is not None:
                    cache.store(key, answer.body, answer.headers)
                return answer.body
            url, params, conditions = urljoin(url, answer.location), None, {}
            self.check_allowed(url)
            if obey_robots:
                await self._check_robots(url, None)
        raise FetchError(_with_query(*first), f"more than {MAX_REDIRECTS} redirects")

    async def _check_robots(self, url: str, params: Mapping[str, str] | None) -> None:
        if self.robots is None:
            return
        full = _with_query(url, params)
        if not await self.robots.allows(full, user_agent=USER_AGENT, read=self._read_robots):
            self.stats.count("robots_disallowed")
            raise RobotsDisallowed(full)

    async def _read_robots(self, url: str) -> bytes:
        # Paced like any request, but neither checked against robots.txt (it is robots.txt)
        # nor cached here (the policy keeps what it read for its own ttl), and tried once: a
        # robots.txt that cannot be read allows everything until it is asked again, so retrying
        # it would only make the page behind it wait.
        return await self._get(url, None, obey_robots=False, use_cache=False, retry=_ONCE)

    async def _with_retries(
        self,
        url: str,
        params: Mapping[str, str] | None,
        conditions: Mapping[str, str],
        retry: RetryPolicy,
    ) -> _Answer:
        domain = domain_of(url)
        for attempt in range(1, retry.attempts + 1):
            answer = await self._once(url, params, domain, conditions)
            status = answer.status
            if status is not None and (200 <= status < 300 or answer.location is not None):
                return answer
            if status == _NOT_MODIFIED and conditions:
                return answer
            if status is not None and status not in self.retry.statuses:
                self.stats.failed()
                raise FetchError(url, f"HTTP {status}", status=status)
            if self.pacer is not None:
                await self.pacer.slow_down(domain, status)
            if attempt == retry.attempts:
                break
            self.stats.retried()
            metrics.SCRAPER_RETRIES.inc(host_class=self.host_class)
            await asyncio.sleep(retry.delay(attempt, _retry_after(answer.headers)))
        self.stats.failed()
        raise FetchError(
            url,
            f"gave up after {retry.attempts} attempts "
            f"(last: {'no answer' if status is None else f'HTTP {status}'})",
            status=status,
        )

    def pacing_bound(self) -> float | None:
        """How far away a pacing slot may be for a request to wait for it here and now: the
        smaller of ``max_pacing_wait`` and ``pacing_wait_limit`` (``None``: no bound)."""
        bounds = [b for b in (self.max_pacing_wait, pacing_wait_limit.get()) if b is not None]
        return min(bounds, default=None)

    async def _once(
        self,
        url: str,
        params: Mapping[str, str] | None,
        domain: str,
        conditions: Mapping[str, str],
    ) -> _Answer:
        if self.pacer is not None:
            bound = self.pacing_bound()
            waiting = time.monotonic()
            if not await self.pacer.wait_turn(domain, bound):
                self.stats.count("pacing_busy")
                metrics.PACING_BUSY.inc(host_class=self.host_class)
                raise HostBusy(domain, bound or 0.0)
            metrics.PACING_WAIT_SECONDS.observe(
                time.monotonic() - waiting, host_class=self.host_class
            )
        started = time.monotonic()
        try:
            async with self.session.get(
                url,
                params=params,
                allow_redirects=False,
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT, **conditions},
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
        seconds = time.monotonic() - started
        self.stats.record(answer.status, seconds, len(answer.body))
        status = "error" if answer.status is None else str(answer.status)
        metrics.SCRAPER_REQUESTS.inc(host_class=self.host_class, status=status)
        metrics.SCRAPER_REQUEST_SECONDS.observe(seconds, host_class=self.host_class)
        return answer


def _with_query(url: str, params: Mapping[str, str] | None) -> str:
    """``url`` with ``params`` appended to its query, as the request will ask for it."""
    if not params:
        return url
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(list(params.items()))}"


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
