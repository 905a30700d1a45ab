"""`make bench`, second half: discovery jobs against the fixture SoundCloud site, on this machine.

One run, five questions, each answered against a baseline measured in the same run:

  ingest   A discovery job with every limit lifted (no pacing, browser rendering off) walks a
           10,000-artist fixture site from a genre search until it has kept --artists artists.
           Its artists per second are compared with a bare aiohttp loop that fetches exactly
           the requests the job made (taken from the site's own log, in arrival order, with
           the same query strings and as many in flight as the scraper pool), parsing nothing
           and writing nothing, pass after pass for at least 2 s (timed per pass): the ceiling
           of "fetch these pages" here. Ratio: job / bare (the issue's aim: at least 0.5).
           The bare loop runs right after the job (Ray idle in the background) and again at
           the end (Ray stopped); ratios use the mean of both, and the drift between them
           shows. A diagnostic row runs the scrapers' own code
           (``actors.scraper_pool.Scraper``: fetch, retry, parse, find contacts) over the same
           artists in one process, streamed, without Ray or the database, to split the gap into
           "parsing" and "orchestration" (Ray calls, per-batch barriers and commits). All of it
           once per share of list pages the site answers 502 (--error-rates, default 0 and the
           fixture's own 0.02), each on a site of its own: with 502s the job retries after a
           back-off, which the bare loop, fetching the same requests, never waits for.
  pipeline On the first ingest case: the job from started_at to finished_at (seeding, the walk,
           every commit) against the scrapers alone over the same artists (aim: at least 0.6x
           their rate), and the CPU the whole machine spent per 1,000 artists, the fixture
           site's own CPU left out, for both (aim: the job at most 2x the scrapers alone).
  scale    A job keeping --scale-artists (50,000) of a --scale-graph (60,000) artist site, limits
           lifted, max_depth 5, its progress read every second: artists/s over its last tenth
           against its first tenth (aim: at least 0.8), and the job actor's peak memory.
  limit    A second job, 4 scraper actors, with ``soundcloud_requests_per_second`` and
           ``link_in_bio_requests_per_second`` set to --limit L, against a site that answers 429
           above L requests in any second. From the site's side: the achieved rate over the
           steady part of the run divided by L (aim: at least 0.9, never above 1), the most
           requests seen in any 1 s window (must not pass L), and the 429s (must be 0).
  two jobs Two jobs from two workspaces at once on the limited site, sharing the scraper pool
           and the limit L for --share-seconds: the API rate the site saw over L, split between
           the jobs as their own request counters are (aim: 0.4 to 0.6 each, never more than L
           in any second).

Its last lines are its aims (``loadtests.aims``), reported, not enforced, and "not measured"
when their step did not run: ``discovery-walk-vs-bare-502s-<share>`` per share of 502s (the
walk's artists/s over the bare loop's, at least 0.5x), ``discovery-limit-rate-api`` (steady
rate on the API host over the limit, 0.9x to 1x) and ``discovery-limit-peak-api`` (most API
requests in any 1 s window, at most the limit), ``discovery-job-vs-scrapers-alone``,
``discovery-cpu-s-per-1000-artists``, ``discovery-50k-last-vs-first-tenth`` and
``discovery-two-jobs-share-first`` / ``-second``.

Each fixture site runs in a child process of its own (unlimited for the ingest, limited for the
limit run), so no contender shares an event loop or a process with the server. The embedded
PostgreSQL and Redis are started once in a temporary data folder, and Ray locally
(``serve.runner.start_ray``: all cores, no dashboard), as ``campaign-manager serve`` does. Jobs
are real ``discovery_jobs`` rows run by ``actors.discovery.launch``.

Load goes to 127.0.0.1 only. Every process started is stopped at the end (and checked). Exit
status 1 when a job does not complete with the artists asked for, the limit run sees a 429, more
than L requests in a second or an achieved rate above L, or a process is left behind.

Internal: ``python -m loadtests.bench_discovery --child-site`` serves one fixture site.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import logging
import os
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp

from core.pacing import PacingPolicy
from loadtests import aims
from loadtests.harness import (
    bench_settings,
    database_session,
    end_run,
    fill,
    idle_gaps,
    machine,
    run_async,
    run_step,
    work_folder,
)
from loadtests.processes import HelperProcess, ProcessWatch, obey, stack_processes

LISTENERS = ("web", "api", "links")
GRAPH_SEED = 7
GENRE = "Techno"  # 1,279 tracks in the seed-7 graph: a search gives about 200 leads
MAX_DEPTH = 2
SITE_READY = "SITE-READY"
SITE_START_TIMEOUT_S = 60.0
JOB_TIMEOUT_S = 600.0
REQUEST_TIMEOUT_S = 30.0
# The bare loop fetches the job's requests again and again for at least this long (one pass
# takes well under a second), so its time per pass is not one short, noisy sample.
BARE_MIN_S = 2.0
# The limit run's steady part leaves out this much at each end: the first requests (client id,
# seeding search) and the last batch, when demand falls below the limit.
STEADY_TRIM_S = 1.0
# API requests per artist in a walk that expands every artist it keeps (user, tracks, web
# profiles, related artists, followings): sizes the limit run from --limit-seconds.
API_REQUESTS_PER_ARTIST = 5
# A pause between two arrivals at the site this long means nothing was in flight (the bare loop
# sends thousands of requests a second here): a batch barrier, a commit or a retry back-off.
IDLE_GAP_S = 0.03
# Seconds to wait after a job before measuring anything else: its actor exits
# actors.discovery.EXIT_DELAY_SECONDS (2 s) after the walk.
SETTLE_S = 3.0
# The aims (README, Performance): the walk ingests at least half as many artists per second as
# the bare loop fetches their pages; at a configured limit, the API host's steady rate is at
# least 0.9 of it and never above it, and no 1 s window holds more requests than the limit.
INGEST_AIM_AT_LEAST = 0.5
LIMIT_AIM_AT_LEAST, LIMIT_AIM_AT_MOST = 0.9, 1.0
# The whole pipeline (Ray, the database, commits) against the scrapers' own code over the same
# artists: at least 0.6 of its rate; and at most this many times its CPU per artist.
ALONE_AIM_AT_LEAST = 0.6
CPU_AIM_AT_MOST_X = 2.0
# A job of tens of thousands of artists ingests as fast over its last tenth as its first.
SCALE_AIM_AT_LEAST = 0.8
SCALE_MAX_DEPTH = 5
SCALE_TIMEOUT_S = 3600.0
# Two jobs at once against one limit: each gets 0.4-0.6 of it.
SHARE_AIM_AT_LEAST, SHARE_AIM_AT_MOST = 0.4, 0.6
# How often a long job's progress is read (its row is written every 0.5 s at most).
SAMPLE_EVERY_S = 1.0
# The share run is measured after both jobs have seeded and started walking.
SHARE_WARM_S = 5.0
_DETAILS_PATH = re.compile(r"^/users/(\d+)$")
_NEIGHBOURS_PATH = re.compile(r"^/users/(\d+)/relatedartists$")


class Request(NamedTuple):
    """One request as the fixture site saw it."""

    listener: str  # web, api or links
    arrived: float  # time.monotonic() in the site's process: the same clock as ours on Linux
    target: str  # path and query string
    status: int


# --------------------------------------------------------------------------------------------
# The fixture site, in a child process


def child_site(graph: int, rate_limit: float | None, error_rate: float) -> None:
    """Serve a ``FixtureSite``; print ``SITE-READY {urls}``, then answer one JSON line per
    command line on stdin (``client_id``, ``reset``, ``log``, ``max_in_window S``, ``stop``)."""
    from aiohttp import web

    from scraping.fixture import FixtureGraph, FixtureSite

    class RecordingSite(FixtureSite):
        """The fixture site, also keeping each request's query string: the site's own log has
        the path only, and the bare loop must ask for the very same pages (page sizes,
        offsets, client id)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.targets: list[str] = []

        def _observer(self, listener: str) -> Any:
            observe = super()._observer(listener)

            @web.middleware
            async def record(request: web.Request, handler: Any) -> web.StreamResponse:
                try:
                    return await observe(request, handler)
                finally:
                    # Appended right after the site's own log entry, with no await in
                    # between: targets[i] is the path and query of log[i].
                    self.targets.append(request.path_qs)

            return record

    async def serve() -> None:
        site = RecordingSite(
            FixtureGraph(graph, GRAPH_SEED), rate_limit=rate_limit, error_rate=error_rate
        )

        def reset() -> bool:
            site.reset_log()
            site.targets.clear()
            return True

        def log() -> list[tuple[str, float, str, int]]:
            return [
                (entry.listener, entry.arrived, target, entry.status)
                for entry, target in zip(site.log, site.targets, strict=True)
            ]

        def max_in_window(window: str) -> dict[str, int]:
            return {name: site.max_in_window(name, float(window)) for name in LISTENERS}

        async with site:
            urls = {"web": site.web_url, "api": site.api_url, "links": site.links_url}
            print(f"{SITE_READY} {json.dumps(urls)}", flush=True)
            await obey(
                {
                    "client_id": lambda: site.client_id,
                    "reset": reset,
                    "log": log,
                    "max_in_window": max_in_window,
                }
            )

    asyncio.run(serve())


class SiteProcess(HelperProcess):
    """A fixture site in a child process of its own, driven by lines on its stdin/stdout."""

    def __init__(
        self, name: str, work: Path, *, graph: int, rate_limit: float | None, error_rate: float
    ) -> None:
        argv = [sys.executable, "-m", "loadtests.bench_discovery", "--child-site"]
        argv += ["--graph", str(graph), "--error-rate", str(error_rate)]
        if rate_limit is not None:
            argv += ["--site-rate-limit", str(rate_limit)]
        super().__init__(
            f"fixture site {name}", argv, work / f"site-{name}.log", answer_timeout_s=60.0
        )
        self.urls: dict[str, str] = {}  # once ready

    def log(self) -> list[Request]:
        return [Request(*entry) for entry in self.call("log")]


def warm(site: SiteProcess) -> None:
    """One genre search: the site builds its search index on the first search, so both
    contenders meet a warm site. The log is cleared after."""
    client_id = site.call("client_id")
    url = (
        f"{site.urls['api']}/search/tracks?q=*&filter.genre_or_tag={GENRE}&limit=1"
        f"&client_id={client_id}"
    )

    async def get() -> None:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            await response.read()

    asyncio.run(get())
    site.call("reset")


# --------------------------------------------------------------------------------------------
# The contenders without Ray: the bare loop (baseline) and the scrapers alone (diagnostic)


@dataclass
class Contender:
    label: str
    seconds: float
    requests: int  # as the site counted them
    statuses: Counter[int]  # 0: no answer
    cpu_share: float  # CPU this process used, as a share of one core
    received_bytes: int = 0
    skipped: int = 0  # scrapers alone: artists or lists given up (ScrapeError)
    passes: int = 1  # bare loop: times the whole list was fetched (figures are per pass)
    cpu_seconds: float = 0.0  # scrapers alone: the machine's CPU for the run, the site's left out


def replay_urls(log: Sequence[Request], urls: dict[str, str], client_id: str) -> list[str]:
    """The absolute URLs of a site log, in order; API requests carry the current client id."""
    found = []
    for entry in log:
        target = entry.target
        if entry.listener == "api" and "client_id=" in target:
            parts = urlsplit(target)
            query = [
                (key, client_id if key == "client_id" else value)
                for key, value in parse_qsl(parts.query, keep_blank_values=True)
            ]
            target = f"{parts.path}?{urlencode(query)}"
        found.append(urls[entry.listener] + target)
    return found


async def bare_fetch(label: str, urls: list[str], concurrency: int) -> Contender:
    """Fetch every URL with ``concurrency`` in flight on one session: read the body, look at
    nothing, retry nothing. One pass takes a fraction of a second here, so the list is fetched
    again until BARE_MIN_S have passed; the figures are per pass."""
    statuses: Counter[int] = Counter()
    received = 0
    connector = aiohttp.TCPConnector(limit=concurrency, use_dns_cache=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def worker(session: aiohttp.ClientSession, pending: Iterator[str]) -> None:
        nonlocal received
        for url in pending:  # one shared iterator: each URL goes to exactly one worker
            try:
                async with session.get(url, allow_redirects=False) as response:
                    received += len(await response.read())
                    statuses[response.status] += 1
            except (aiohttp.ClientError, TimeoutError):
                statuses[0] += 1

    cpu = time.process_time()
    passes = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        while passes == 0 or time.perf_counter() - began < BARE_MIN_S:
            pending = iter(urls)
            await asyncio.gather(*(worker(session, pending) for _ in range(concurrency)))
            passes += 1
        elapsed = time.perf_counter() - began
    share = (time.process_time() - cpu) / elapsed if elapsed > 0 else 0.0
    return Contender(
        label,
        elapsed / passes,
        len(urls),
        statuses,
        share,
        received_bytes=received // passes,
        passes=passes,
    )


async def scrapers_alone(
    settings: Any, job_log: Sequence[Request], concurrency: int, site_pid: int
) -> Contender:
    """The scraper actors' own code in this process, no Ray and no database: the job's seed
    search, then every artist it read and every neighbour list it asked for, in the job's
    order, ``concurrency`` at a time and streamed (a slow artist holds only its own slot)."""
    from actors.discovery import LEADS_PER_SOURCE, NEIGHBOURS_PER_LIST
    from actors.scraper_pool import Scraper
    from core.discovery import DiscoveryQuery
    from scraping.errors import ScrapeError

    expand = list(DiscoveryQuery(genres=[GENRE]).expand)
    scraper = Scraper(settings)
    work: list[Callable[[], Awaitable[object]]] = []
    seen: set[tuple[str, int]] = set()
    for entry in job_log:
        path = urlsplit(entry.target).path if entry.listener == "api" else ""
        call: Callable[[], Awaitable[object]]
        if matched := _DETAILS_PATH.match(path):
            key = ("details", int(matched[1]))
            call = functools.partial(scraper.details, key[1])
        elif matched := _NEIGHBOURS_PATH.match(path):
            key = ("neighbours", int(matched[1]))
            call = functools.partial(scraper.neighbours, key[1], expand, NEIGHBOURS_PER_LIST)
        else:
            continue
        if key not in seen:  # a retried request is one call, as in the job
            seen.add(key)
            work.append(call)
    slots = asyncio.Semaphore(concurrency)
    skipped = 0

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        nonlocal skipped
        async with slots:
            try:
                await call()
            except ScrapeError:
                skipped += 1

    cpu = time.process_time()
    meter = CpuMeter(site_pid)
    meter.start()
    began = time.perf_counter()
    try:
        await one(functools.partial(scraper.leads, "genre", GENRE, LEADS_PER_SOURCE))
        await asyncio.gather(*(one(call) for call in work))
        seconds = time.perf_counter() - began
    finally:
        meter.stop()
        await scraper.close()
    share = (time.process_time() - cpu) / seconds if seconds > 0 else 0.0
    return Contender(
        "scrapers-alone", seconds, 0, Counter(), share, skipped=skipped, cpu_seconds=meter.seconds
    )


# --------------------------------------------------------------------------------------------
# Jobs


@dataclass
class JobRun:
    label: str
    status: str
    wall_s: float  # launch() to the final status in hand
    job_s: float  # the job row's started_at .. finished_at (nan when unknown)
    progress: dict[str, Any]
    error: str | None
    log: list[Request]
    launched_at: float  # time.monotonic(), the clock of the site's arrival times
    cpu_seconds: float = 0.0  # the machine's CPU from launch to final status, less the site's
    samples: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (s, progress)

    @property
    def kept(self) -> int:
        return int(self.progress.get("kept", 0))


async def _new_job(settings: Any, query: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A committed job in a new workspace, as the API creates it."""
    from storage.repositories.discovery_jobs import DiscoveryJobRepository
    from storage.repositories.users import UserRepository
    from storage.repositories.workspaces import WorkspaceRepository

    async with database_session(settings, transaction=True) as session:
        user = await UserRepository(session).create(
            email=f"bench-{uuid.uuid4().hex[:8]}@bench.example",
            password_hash="x",
            display_name="Bench",
        )
        workspace = await WorkspaceRepository(session).create(name="bench", owner_id=user.id)
        job = await DiscoveryJobRepository(session, workspace.id).submit(
            query=query.model_dump(mode="json"), created_by=user.id
        )
        return job.id, workspace.id


async def _job_row(settings: Any, job_id: uuid.UUID, workspace_id: uuid.UUID) -> Any:
    from storage.repositories.discovery_jobs import DiscoveryJobRepository

    async with database_session(settings) as session:
        return await DiscoveryJobRepository(session, workspace_id).get(job_id)


async def _cancel(settings: Any, job_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
    from core.enums import DiscoveryJobStatus
    from storage.repositories.discovery_jobs import DiscoveryJobRepository

    async with database_session(settings, transaction=True) as session:
        repo = DiscoveryJobRepository(session, workspace_id)
        if not (await repo.get(job_id)).status.is_final:
            await repo.set_status(job_id, DiscoveryJobStatus.CANCELLED)


def job_settings(
    base: Any, urls: dict[str, str], *, rate: float, actors: int, concurrency: int
) -> Any:
    """``base`` pointed at a fixture site: ``rate`` requests/s per host (0: unpaced)."""
    return base.model_copy(
        update={
            "soundcloud_web_url": urls["web"],
            "soundcloud_api_url": urls["api"],
            "soundcloud_link_in_bio_hosts": urlsplit(urls["links"]).netloc,
            "soundcloud_requests_per_second": rate,
            "link_in_bio_requests_per_second": rate,
            "scraper_actors": actors,
            "scraper_concurrency": concurrency,
            # No browser: the bare loop cannot render JavaScript either.
            "chromium_path": "",
        }
    )


def run_job(
    label: str,
    settings: Any,
    site: SiteProcess,
    max_artists: int,
    *,
    max_depth: int = MAX_DEPTH,
    with_log: bool = True,
    timeout_s: float = JOB_TIMEOUT_S,
) -> JobRun:
    """Create the job's row, launch it on Ray and wait for its final status, reading its
    progress every SAMPLE_EVERY_S; the site's log of the run comes back with it (``with_log``)."""
    from core.discovery import DiscoveryQuery

    query = DiscoveryQuery(genres=[GENRE], max_artists=max_artists, max_depth=max_depth)
    job_id, workspace_id = asyncio.run(_new_job(settings, query))
    asyncio.run(warm_pool(settings))
    site.call("reset")
    meter = CpuMeter(site.process.pid)
    meter.start()
    launched_at = time.monotonic()
    [status], samples = wait_for_jobs(settings, [(job_id, workspace_id)], timeout_s)
    wall = time.monotonic() - launched_at
    meter.stop()
    row = asyncio.run(_job_row(settings, job_id, workspace_id))
    job_s = float("nan")
    if isinstance(row.started_at, datetime) and isinstance(row.finished_at, datetime):
        job_s = (row.finished_at - row.started_at).total_seconds()
    return JobRun(
        label,
        status,
        wall,
        job_s,
        dict(row.progress or {}),
        row.error,
        site.log() if with_log else [],
        launched_at,
        cpu_seconds=meter.seconds,
        samples=[(at, progress[0]) for at, progress in samples],
    )


async def warm_pool(settings: Any) -> None:
    """Start the scraper pool these settings share, as the service does when it starts: the
    job meets warm scrapers (its own actor's start-up still counts)."""
    from actors.scraper_pool import ScraperPool

    pool = ScraperPool(settings, member="bench")
    try:
        await asyncio.wait_for(pool.warm(), SITE_START_TIMEOUT_S)
    finally:
        await pool.close()


def wait_for_jobs(
    settings: Any,
    jobs: Sequence[tuple[uuid.UUID, uuid.UUID]],
    timeout_s: float,
    *,
    stop_after_s: float | None = None,
) -> tuple[list[str], list[tuple[float, list[dict[str, Any]]]]]:
    """Launch ``jobs`` together and wait for their final statuses, reading every job's progress
    every SAMPLE_EVERY_S (``(seconds since launch, [progress per job])``). With
    ``stop_after_s``, jobs still running then are cancelled. A job past ``timeout_s`` is
    cancelled and its status says so."""
    import ray

    from actors.discovery import launch

    began = time.monotonic()
    refs = [launch(settings, job_id, workspace_id) for job_id, workspace_id in jobs]
    samples: list[tuple[float, list[dict[str, Any]]]] = []
    statuses: dict[int, str] = {}
    cancelled = False
    while len(statuses) < len(refs):
        ray.wait(refs, num_returns=len(refs), timeout=SAMPLE_EVERY_S)
        at = time.monotonic() - began
        rows = [asyncio.run(_job_row(settings, j, w)) for j, w in jobs]
        samples.append((at, [dict(row.progress or {}) for row in rows]))
        for index, ref in enumerate(refs):
            ready, _ = ray.wait([ref], timeout=0)
            if ready and index not in statuses:
                statuses[index] = str(ray.get(ref))
        late = at > timeout_s
        if not cancelled and (late or (stop_after_s is not None and at > stop_after_s)):
            for index, (job_id, workspace_id) in enumerate(jobs):
                if index not in statuses:
                    asyncio.run(_cancel(settings, job_id, workspace_id))
                    if late:
                        statuses[index] = f"timed out after {timeout_s:.0f} s"
            cancelled = True
    return [statuses[index] for index in range(len(refs))], samples


# --------------------------------------------------------------------------------------------
# Figures from the site's side


def busy_cpu_seconds() -> float:
    """CPU seconds this machine has spent busy (every core, every process) since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (float(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


@dataclass
class CpuMeter:
    """CPU the machine spent between ``start`` and ``stop``, less the fixture site's: what the
    work under test cost, whichever processes did it (Ray's, PostgreSQL's, Redis's, ours)."""

    site_pid: int
    began: float = 0.0
    site_began: float = 0.0
    seconds: float = 0.0

    def start(self) -> None:
        self.began, self.site_began = busy_cpu_seconds(), process_cpu_seconds(self.site_pid)

    def stop(self) -> float:
        site = process_cpu_seconds(self.site_pid) - self.site_began
        self.seconds = max(busy_cpu_seconds() - self.began - site, 0.0)
        return self.seconds


def request_span(log: Sequence[Request]) -> float:
    arrivals = [entry.arrived for entry in log]
    return max(arrivals) - min(arrivals) if len(arrivals) > 1 else 0.0


@dataclass
class Pace:
    listener: str
    requests: int
    too_many: int  # 429s
    max_in_1s: int
    span_s: float  # first to last arrival
    steady_rate: float | None  # arrivals per second over the span less STEADY_TRIM_S each end

    def ratio(self, limit: float) -> float | None:
        return None if self.steady_rate is None else self.steady_rate / limit


def pace_of(log: Sequence[Request], listener: str, max_in_1s: int) -> Pace:
    arrivals = sorted(entry.arrived for entry in log if entry.listener == listener)
    too_many = sum(1 for entry in log if entry.listener == listener and entry.status == 429)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    steady: float | None = None
    if span > 2 * STEADY_TRIM_S + 2:
        start, end = arrivals[0] + STEADY_TRIM_S, arrivals[-1] - STEADY_TRIM_S
        steady = sum(1 for t in arrivals if start <= t < end) / (end - start)
    return Pace(listener, len(arrivals), too_many, max_in_1s, span, steady)


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class IngestCase:
    """One ingest comparison on a site of its own, with one share of 502 answers."""

    error_rate: float
    site: SiteProcess
    run: JobRun | None = None
    baselines: list[Contender] = field(default_factory=list)
    alone: Contender | None = None

    @property
    def label(self) -> str:
        return f"ingest (502s {self.error_rate:g})"


@dataclass
class ScaleRun:
    """A long job: its kept artists over time, the rate over its first and last tenth."""

    run: JobRun
    first_rate: float | None = None  # artists/s while the first tenth was kept
    last_rate: float | None = None  # ... and the last tenth

    def measure(self, wanted: int) -> None:
        tenth = wanted / 10
        points = [(at, int(p.get("kept", 0))) for at, p in self.run.samples]
        self.first_rate = _rate_between(points, 0, tenth)
        self.last_rate = _rate_between(points, wanted - tenth, wanted)

    @property
    def ratio(self) -> float | None:
        if self.first_rate and self.last_rate is not None:
            return self.last_rate / self.first_rate
        return None


def _rate_between(points: Sequence[tuple[float, int]], low: float, high: float) -> float | None:
    """Artists per second from the first sample with at least ``low`` kept (past 0: from the
    first commit with any) to the first with at least ``high``."""
    start = next(((at, k) for at, k in points if (k >= low if low else k > 0)), None)
    end = next(((at, k) for at, k in points if k >= high), None)
    if start is None or end is None or end[0] <= start[0]:
        return None
    return (end[1] - start[1]) / (end[0] - start[0])


@dataclass
class ShareRun:
    """Two jobs at once against one limit: each one's share of it.

    A job's own counters move only when a scraper call answers (a call of two artists waits
    several seconds for its slots under a limit), so over a window they trail what the site saw.
    The site cannot tell the jobs apart. So each job's share is its part of the jobs' counted
    requests times the API rate the site saw over the window, divided by the limit (the counted
    rate alone when the site's count is not known).
    """

    statuses: list[str]
    seconds: float
    requests: list[int]
    limit: float
    site_api_requests: int | None = None  # what the site's API host saw over the same window

    @property
    def shares(self) -> list[float]:
        if not self.seconds or not sum(self.requests):
            return []
        if self.site_api_requests is None:
            return [n / (self.limit * self.seconds) for n in self.requests]
        site_share = self.site_api_requests / (self.limit * self.seconds)
        return [site_share * n / sum(self.requests) for n in self.requests]


@dataclass
class Bench:
    args: argparse.Namespace
    settings: Any = None  # core.settings.Settings with the embedded servers resolved
    cases: list[IngestCase] = field(default_factory=list)
    limited: JobRun | None = None
    limited_artists: int = 0
    paces: list[Pace] = field(default_factory=list)
    scale: ScaleRun | None = None
    shared: ShareRun | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def pool_size(self) -> int:
        return int(self.args.actors * self.args.concurrency)

    def check_job(self, run: JobRun, wanted: int) -> None:
        if run.status != "completed":
            self.failures.append(f"{run.label} job: {run.status} ({run.error or 'no error'})")
        elif run.kept != wanted:
            self.failures.append(f"{run.label} job: kept {run.kept} artists, not {wanted}")

    def step_ingest(self, case: IngestCase) -> None:
        args, site = self.args, case.site
        warm(site)
        settings = job_settings(
            self.settings, site.urls, rate=0, actors=args.actors, concurrency=args.concurrency
        )
        run = run_job(case.label, settings, site, args.artists)
        case.run = run
        self.check_job(run, args.artists)
        print(
            f"  job: {run.status}, {run.kept} kept in {run.wall_s:.1f} s ({len(run.log)} requests)",
            flush=True,
        )
        if not run.log:
            return
        # The job's actor lingers a moment before it exits, and Ray tidies up after it: let
        # that pass, so the baseline does not share the CPU with it.
        time.sleep(SETTLE_S)
        self.bare(case, "bare")
        site.call("reset")
        alone = run_async(scrapers_alone(settings, run.log, self.pool_size, site.process.pid))
        served = site.log()
        alone.requests = len(served)
        alone.statuses = Counter(entry.status for entry in served)
        case.alone = alone
        print(
            f"  scrapers alone: {alone.requests} requests in {alone.seconds:.2f} s "
            f"({alone.skipped} given up)",
            flush=True,
        )

    def bare(self, case: IngestCase, label: str) -> None:
        if case.run is None or not case.run.log:
            return
        urls = replay_urls(case.run.log, case.site.urls, case.site.call("client_id"))
        result: Contender = run_async(bare_fetch(label, urls, self.pool_size))
        case.baselines.append(result)
        print(
            f"  {label}: {result.requests} requests in {result.seconds:.2f} s a pass "
            f"({result.passes} passes, {result.requests / result.seconds:.0f} req/s)",
            flush=True,
        )

    def step_scale(self, site: SiteProcess) -> None:
        """One job of --scale-artists on a site of --scale-graph artists, limits lifted."""
        args = self.args
        warm(site)
        settings = job_settings(
            self.settings, site.urls, rate=0, actors=args.actors, concurrency=args.concurrency
        )
        run = run_job(
            "scale",
            settings,
            site,
            args.scale_artists,
            max_depth=SCALE_MAX_DEPTH,
            with_log=False,
            timeout_s=SCALE_TIMEOUT_S,
        )
        self.check_job(run, args.scale_artists)
        self.scale = ScaleRun(run)
        self.scale.measure(args.scale_artists)
        print(
            f"  scale job: {run.status}, {run.kept} kept in {run.wall_s:.1f} s, job actor peak "
            f"{run.progress.get('memory_peak_mb')} MB",
            flush=True,
        )

    def step_share(self, site: SiteProcess) -> None:
        """Two jobs from two workspaces at once against one configured limit, for
        --share-seconds: what each gets of it."""
        from core.discovery import DiscoveryQuery

        args = self.args
        limit = args.limit
        warm(site)
        settings = job_settings(
            self.settings, site.urls, rate=limit, actors=args.actors, concurrency=args.concurrency
        )
        query = DiscoveryQuery(genres=[GENRE], max_artists=100_000, max_depth=SCALE_MAX_DEPTH)
        jobs = [asyncio.run(_new_job(settings, query)) for _ in range(2)]
        asyncio.run(warm_pool(settings))
        launched = time.monotonic()
        statuses, samples = wait_for_jobs(
            settings, jobs, JOB_TIMEOUT_S, stop_after_s=args.share_seconds + SHARE_WARM_S
        )
        # From the first sample past the warm-up (both jobs walking) to the last before the stop.
        window = [
            (at, p) for at, p in samples if SHARE_WARM_S <= at <= args.share_seconds + SHARE_WARM_S
        ]
        if len(window) < 2:
            self.failures.append("share: too few progress samples")
            return
        (t0, first), (t1, last) = window[0], window[-1]
        requests = [
            int(b.get("scraper", {}).get("requests", 0))
            - int(a.get("scraper", {}).get("requests", 0))
            for a, b in zip(first, last, strict=True)
        ]
        seen = sum(
            1
            for entry in site.log()
            if entry.listener == "api" and launched + t0 <= entry.arrived < launched + t1
        )
        self.shared = ShareRun(statuses, t1 - t0, requests, limit, site_api_requests=seen)
        for status in statuses:
            if status != "cancelled":
                self.failures.append(f"share: a job ended {status} before it was stopped")
        windows = site.call("max_in_window", 1.0)
        if windows["api"] > limit:
            self.failures.append(
                f"share: {windows['api']} requests to api within 1 s, limit {limit:g}"
            )
        print(
            f"  two jobs: {requests} requests over {t1 - t0:.1f} s "
            f"(shares {', '.join(f'{x:.2f}' for x in self.shared.shares)} of {limit:g}/s)",
            flush=True,
        )

    def step_limit(self, site: SiteProcess) -> None:
        args = self.args
        limit = args.limit
        artists = args.limit_artists or max(
            10, round(limit * args.limit_seconds / API_REQUESTS_PER_ARTIST)
        )
        self.limited_artists = artists
        warm(site)
        settings = job_settings(
            self.settings, site.urls, rate=limit, actors=4, concurrency=args.concurrency
        )
        run = run_job("limit", settings, site, artists)
        self.limited = run
        self.check_job(run, artists)
        windows = site.call("max_in_window", 1.0)
        for listener in LISTENERS:
            pace = pace_of(run.log, listener, windows[listener])
            self.paces.append(pace)
            if pace.too_many:
                self.failures.append(f"limit: {pace.too_many} answers 429 on {listener}")
            if pace.max_in_1s > limit:
                self.failures.append(
                    f"limit: {pace.max_in_1s} requests to {listener} within 1 s, limit {limit:g}"
                )
            ratio = pace.ratio(limit)
            if ratio is not None and ratio > 1.0:
                self.failures.append(f"limit: {listener} achieved {ratio:.3f} of the limit")
        api = next(p for p in self.paces if p.listener == "api")
        if api.steady_rate is None:
            self.failures.append(
                f"limit: the API host saw requests for {api.span_s:.1f} s only, too short "
                "to measure (raise --limit-seconds)"
            )
        print(
            f"  limit job: {run.status}, {run.kept} kept in {run.wall_s:.1f} s "
            f"({len(run.log)} requests)",
            flush=True,
        )


def _statuses(counts: Counter[int]) -> str:
    return ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(counts.items()))


def _case_rows(case: IngestCase) -> str | None:
    """Print one ingest case's rows; returns its verdict on the aim, when it can be judged."""
    run = case.run
    assert run is not None
    bare_s = bare_seconds(case)

    def row(label: str, seconds: float, requests: int, baseline: bool = False) -> str:
        ratio = "baseline" if baseline else ""
        if not baseline and bare_s and seconds > 0:
            ratio = f"{bare_s / seconds:.2f}x"  # the same artists: the ratio of the rates
        per_s = run.kept / seconds if seconds > 0 else 0.0
        print(
            f"{label:<40} {case.error_rate:4g} {run.kept:7d} {seconds:8.2f} {per_s:9.1f} "
            f"{requests:8d} {ratio:>8}"
        )
        return ratio

    walk_s = request_span(run.log)
    headline = row("job: launch to final status", run.wall_s, len(run.log))
    if run.job_s == run.job_s:  # not nan
        row("job: started_at to finished_at", run.job_s, len(run.log))
    walk = row("job: first to last request (the walk)", walk_s, len(run.log))
    if case.alone is not None:
        row("scrapers alone: no Ray, no DB, streamed", case.alone.seconds, case.alone.requests)
    labels = {"bare": "Ray idle", "bare-end": "Ray stopped"}
    for base in case.baselines:
        row(f"bare loop, {labels.get(base.label, base.label)}", base.seconds, base.requests, True)
    aim = ingest_aim(case.error_rate, case)
    if aim.value is None:
        return None
    return (
        f"{'met' if aim.met else 'not met'} with 502s {case.error_rate:g} ({walk} over the walk, "
        f"{headline} from launch to final status)"
    )


def bare_seconds(case: IngestCase) -> float:
    """The bare loop's time per pass, the mean over its runs (0 when it never ran)."""
    timed = [b for b in case.baselines if b.seconds > 0]
    return sum(b.seconds for b in timed) / len(timed) if timed else 0.0


def ingest_aim(error_rate: float, case: IngestCase | None) -> aims.Aim:
    """The walk's artists/s over the bare loop's (the same artists: bare time over walk time)."""
    ratio: float | None = None
    if case is not None and case.run is not None:
        bare_s, walk_s = bare_seconds(case), request_span(case.run.log)
        if bare_s > 0 and walk_s > 0:
            ratio = bare_s / walk_s
    name = f"discovery-walk-vs-bare-502s-{error_rate:g}"
    return aims.judge(name, ratio, at_least=INGEST_AIM_AT_LEAST)


def limit_aims(bench: Bench) -> list[aims.Aim]:
    """On the API host, the one the walk keeps busy: its steady rate over the limit, and the
    most requests it saw in any 1 s window."""
    limit = bench.args.limit
    api = next((p for p in bench.paces if p.listener == "api"), None)
    return [
        aims.judge(
            "discovery-limit-rate-api",
            None if api is None else api.ratio(limit),
            at_least=LIMIT_AIM_AT_LEAST,
            at_most=LIMIT_AIM_AT_MOST,
            digits=3,
        ),
        aims.judge(
            "discovery-limit-peak-api",
            None if api is None else api.max_in_1s,
            at_most=limit,
            unit=" req/s",
            digits=0,
        ),
    ]


def pipeline_aims(bench: Bench) -> list[aims.Aim]:
    """On the first ingest case: the job (started_at to finished_at: seeding, the walk, every
    commit) against the scrapers alone over the same artists; and the CPU per 1,000 artists of
    a job (the scale job's when it ran: its actor's start-up no longer counts for much) against
    the scrapers alone's."""
    case = bench.cases[0] if bench.cases else None
    ratio = cpu = limit = None
    if case is not None and case.run is not None and case.alone is not None:
        run, alone = case.run, case.alone
        if run.job_s == run.job_s and run.job_s > 0:
            ratio = alone.seconds / run.job_s
        measured = bench.scale.run if bench.scale is not None else run
        if run.kept and measured.kept:
            cpu = 1000 * measured.cpu_seconds / measured.kept
            limit = CPU_AIM_AT_MOST_X * 1000 * alone.cpu_seconds / run.kept
    return [
        aims.judge("discovery-job-vs-scrapers-alone", ratio, at_least=ALONE_AIM_AT_LEAST),
        aims.judge("discovery-cpu-s-per-1000-artists", cpu, at_most=limit, unit=" s", digits=1),
    ]


def scale_aims(bench: Bench) -> list[aims.Aim]:
    scale = bench.scale
    return [
        aims.judge(
            f"discovery-{bench.args.scale_artists // 1000}k-last-vs-first-tenth",
            None if scale is None else scale.ratio,
            at_least=SCALE_AIM_AT_LEAST,
        )
    ]


def share_aims(bench: Bench) -> list[aims.Aim]:
    shares = bench.shared.shares if bench.shared is not None else []
    return [
        aims.judge(
            f"discovery-two-jobs-share-{name}",
            shares[index] if len(shares) > index else None,
            at_least=SHARE_AIM_AT_LEAST,
            at_most=SHARE_AIM_AT_MOST,
        )
        for index, name in enumerate(("first", "second"))
    ]


def aims_of(bench: Bench) -> list[aims.Aim]:
    """Every aim of the run, in order, also those a failed or missing step left unmeasured."""
    cases = {case.error_rate: case for case in bench.cases}
    ingest = [ingest_aim(rate, cases.get(rate)) for rate in bench.args.error_rates]
    scale = scale_aims(bench) if bench.args.scale_artists else []
    return [*ingest, *pipeline_aims(bench), *scale, *limit_aims(bench), *share_aims(bench)]


def report_ingest(bench: Bench) -> None:
    args = bench.args
    cases = [case for case in bench.cases if case.run is not None]
    if not cases:
        return
    print()
    fill(
        f"Ingest, limits lifted: genre {GENRE!r}, max_artists {args.artists}, max_depth "
        f"{MAX_DEPTH}; {args.actors} scraper actors x concurrency {args.concurrency} "
        f"({bench.pool_size} in flight), no pacing, browser off. 502s: the share of the site's "
        "list pages answered 502 (the job retries them after a back-off; the bare loop fetches "
        "the same requests and does not)."
    )
    header = (
        f"{'row':<40} {'502s':>4} {'artists':>7} {'seconds':>8} {'artists/s':>9} "
        f"{'requests':>8} {'vs bare':>8}"
    )
    print(header)
    print("-" * len(header))
    verdicts = [verdict for case in cases if (verdict := _case_rows(case))]
    for case in cases:
        run = case.run
        assert run is not None
        print()
        progress = run.progress
        scraper = progress.get("scraper", {})
        first = min(entry.arrived for entry in run.log) if run.log else run.launched_at
        gaps, idle = idle_gaps((entry.arrived for entry in run.log), IDLE_GAP_S)
        fill(
            f"502s {case.error_rate:g}. The job: {len(run.log)} requests "
            f"({_statuses(Counter(e.status for e in run.log))}), {scraper.get('retries', 0)} "
            f"retried; examined {progress.get('examined')}, kept {progress.get('kept')}, skipped "
            f"{progress.get('skipped', 0)}, contacts {progress.get('contacts')}. Its first "
            f"request reached the site {first - run.launched_at:.1f} s after launch (actors "
            f"starting). During the walk the site saw no request at all for {idle:.1f} s of "
            f"{request_span(run.log):.1f} s ({gaps} pauses of {IDLE_GAP_S * 1000:.0f} ms or "
            "more: per-batch barriers, commits, retry back-offs)."
        )
        if case.alone is not None:
            alone = case.alone
            given_up = "" if alone.skipped == 0 else f", {alone.skipped} given up"
            fill(
                f"Scrapers alone: {alone.requests} requests ({_statuses(alone.statuses)}"
                f"{given_up}), using {alone.cpu_share:.0%} of a core."
            )
        for base in case.baselines:
            fill(
                f"{base.label}: {base.passes} passes of {base.requests} requests "
                f"({_statuses(base.statuses)} in all), {base.received_bytes / 2**20:.1f} MiB a "
                f"pass, using {base.cpu_share:.0%} of a core."
            )
        timed = [b for b in case.baselines if b.seconds > 0]
        if len(timed) == 2:
            fill(
                f"The bare loop's rate changed by {timed[0].seconds / timed[1].seconds - 1:+.0%} "
                "from its first run to its last; vs bare uses the mean time of both."
            )
    print()
    for verdict in verdicts:
        fill(
            "Aim (the job ingests at least half as many artists per second as the bare loop "
            f"fetches their pages): {verdict}"
        )


def report_limit(bench: Bench) -> None:
    run, limit = bench.limited, bench.args.limit
    if run is None:
        return
    print()
    fill(
        f"At a configured limit: {limit:g} requests/s per host (the job's pacing and the site's "
        f"429 threshold), 4 scraper actors x concurrency {bench.args.concurrency}, "
        f"max_artists {bench.limited_artists}, 502 share 0; job {run.status}, "
        f"{run.kept} kept in {run.wall_s:.1f} s"
    )
    header = (
        f"{'host':<6} {'requests':>8} {'429s':>5} {'max in 1 s':>10} {'span s':>7} "
        f"{'steady req/s':>12} {'achieved/limit':>14}"
    )
    print(header)
    print("-" * len(header))
    for pace in bench.paces:
        ratio = pace.ratio(limit)
        steady = "-" if pace.steady_rate is None else f"{pace.steady_rate:.2f}"
        shown = "-" if ratio is None else f"{ratio:.3f}"
        print(
            f"{pace.listener:<6} {pace.requests:8d} {pace.too_many:5d} {pace.max_in_1s:10d} "
            f"{pace.span_s:7.1f} {steady:>12} {shown:>14}"
        )
    rate, peak = limit_aims(bench)
    if rate.value is not None:
        margin = PacingPolicy().margin
        met = rate.met and peak.met
        fill(
            "Aim (on the API host, the one the walk keeps busy: achieved/limit at least "
            f"{LIMIT_AIM_AT_LEAST:g}, never above {LIMIT_AIM_AT_MOST:g}): "
            f"{'met' if met else 'not met'} ({rate.value:.3f}; at most {peak.shown} in any 1 s "
            f"window, limit {limit:g}; pacing spaces requests (1 + {margin:g}) / limit apart, so "
            f"{1 / (1 + margin):.3f} is the most it can reach)"
        )


def report_pipeline(bench: Bench) -> None:
    case = bench.cases[0] if bench.cases else None
    if case is None or case.run is None or case.alone is None or not case.run.kept:
        return
    run, alone = case.run, case.alone
    per_1000 = 1000 / run.kept
    ratio, cpu = pipeline_aims(bench)
    print()
    fill(
        f"The whole pipeline against the scrapers alone (502s {case.error_rate:g}, the same "
        f"{run.kept} artists): the job ran {run.job_s:.2f} s from started_at to finished_at, "
        f"the scrapers' own code {alone.seconds:.2f} s ({ratio.shown}, aim at least "
        f"{ALONE_AIM_AT_LEAST:g}x). CPU per 1,000 artists, the whole machine less the fixture "
        f"site: this job {run.cpu_seconds * per_1000:.1f} s (launch to final status: its "
        f"actor's start-up, Ray, PostgreSQL, Redis and the scrapers), the scrapers alone "
        f"{alone.cpu_seconds * per_1000:.1f} s; the aim reads a job's steady cost (the scale "
        f"job's when it ran): {cpu.shown} against at most {CPU_AIM_AT_MOST_X:g}x the scrapers "
        f"alone's. The job actor's peak memory: {run.progress.get('memory_peak_mb')} MB."
    )


def report_scale(bench: Bench) -> None:
    scale = bench.scale
    if scale is None:
        return
    run = scale.run
    first = "-" if scale.first_rate is None else f"{scale.first_rate:.1f}"
    last = "-" if scale.last_rate is None else f"{scale.last_rate:.1f}"
    [aim] = scale_aims(bench)
    print()
    fill(
        f"At scale: one job keeping {bench.args.scale_artists:,} artists of a "
        f"{bench.args.scale_graph:,}-artist site (genre {GENRE!r}, max_depth {SCALE_MAX_DEPTH}, "
        f"limits lifted): {run.status}, {run.kept:,} kept in {run.wall_s:.0f} s "
        f"({run.kept / run.wall_s:.1f} artists/s overall), examined "
        f"{run.progress.get('examined')}, frontier left {run.progress.get('frontier')}. Kept "
        f"per second over the first tenth {first}, over the last tenth {last}: {aim.shown} "
        f"(aim at least {SCALE_AIM_AT_LEAST:g}x). Job actor peak memory "
        f"{run.progress.get('memory_peak_mb')} MB; CPU per 1,000 artists "
        f"{1000 * run.cpu_seconds / max(run.kept, 1):.1f} s."
    )


def report_share(bench: Bench) -> None:
    shared = bench.shared
    if shared is None:
        return
    print()
    fill(
        f"Two jobs at once, from two workspaces, against one limit of {shared.limit:g} "
        f"requests/s per host (the same scraper pool): over {shared.seconds:.1f} s of both "
        f"walking, their own counters show {shared.requests[0]} and {shared.requests[1]} "
        f"requests (they trail: a call's requests count when it answers), and the site's API "
        f"host saw {shared.site_api_requests}: {sum(shared.shares):.2f} of the limit, "
        f"{shared.shares[0]:.2f} and {shared.shares[1]:.2f} of it each, split as their counters "
        f"are (aim {SHARE_AIM_AT_LEAST:g}-{SHARE_AIM_AT_MOST:g} each)."
    )


def report(bench: Bench, machine_line: str) -> None:
    print()
    print(
        f"Discovery against the fixture SoundCloud site ({bench.args.graph:,} artists, "
        f"seed {GRAPH_SEED}; each site in a process of its own)"
    )
    print(machine_line)
    report_ingest(bench)
    report_pipeline(bench)
    report_scale(bench)
    report_limit(bench)
    report_share(bench)
    print()
    fill(
        "artists/s: artists the job kept per second (other rows: the same artists over their "
        "own time). Launch to final status is what a user waits (actor start-up included); "
        "started_at to finished_at is the job row's own span; first to last request is the "
        "walk as the site saw it. Scrapers alone: the scraper actors' code (fetch, retry, "
        "parse, contacts) over the job's artists and neighbour lists in one process, no Ray "
        "and no database, a diagnostic. Bare loop: the job's requests as the site logged "
        "them (retries and 502s included, same query strings, same order) fetched with the "
        "pool's number in flight, nothing parsed, over and over for at least "
        f"{BARE_MIN_S:g} s (seconds: per pass); vs bare divides by its artists/s (mean of its "
        "two runs). Limit run: steady req/s counts arrivals from 1 s after a host's first "
        "request to 1 s before its last; max in 1 s is the most arrivals in any 1 s window. "
        "The web and links hosts get far fewer requests than the limit (demand, not pacing, "
        "sets their rate), so the aim is read on the API host."
    )


def run(args: argparse.Namespace) -> int:
    from serve.runner import start_ray, stop_ray
    from serve.stack import LocalStack

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    work = work_folder("cm-bench-discovery-")
    machine_line = machine()
    given = bench_settings(work)
    bench = Bench(args=args)
    watch = ProcessWatch()
    sites: list[SiteProcess] = []
    ray_up = False
    code = 1
    try:
        with LocalStack(given) as stack:
            watch.track(stack_processes(work))
            print("bench: " + "; ".join(stack.started), flush=True)
            bench.settings = stack.settings
            began = time.monotonic()
            for error_rate in args.error_rates:
                site = SiteProcess(
                    f"unlimited-{error_rate:g}",
                    work,
                    graph=args.graph,
                    rate_limit=None,
                    error_rate=error_rate,
                )
                bench.cases.append(IngestCase(error_rate, site))
                sites.append(site)
            limited = SiteProcess(
                "limited", work, graph=args.graph, rate_limit=args.limit, error_rate=0.0
            )
            sites.append(limited)
            large = None
            if args.scale_artists:
                large = SiteProcess(
                    "large", work, graph=args.scale_graph, rate_limit=None, error_rate=0.0
                )
                sites.append(large)
            watch.track_children()
            for site in sites:
                site.urls = json.loads(site.wait_ready(SITE_READY, SITE_START_TIMEOUT_S))
            print(
                f"bench: {len(sites)} fixture sites up in {time.monotonic() - began:.1f} s",
                flush=True,
            )
            began = time.monotonic()
            start_ray(stack.settings)
            ray_up = True
            watch.track_children()
            print(f"bench: Ray up in {time.monotonic() - began:.1f} s", flush=True)
            steps: list[tuple[str, Callable[[], None]]] = [
                (case.label, functools.partial(bench.step_ingest, case)) for case in bench.cases
            ]
            if large is not None:
                steps.append(("scale", functools.partial(bench.step_scale, large)))
            steps.append(("limit", functools.partial(bench.step_limit, limited)))
            steps.append(("two jobs", functools.partial(bench.step_share, limited)))
            for name, step in steps:
                run_step(name, step, bench.failures)
                watch.track_children()
            began = time.monotonic()
            # stop_ray() also shuts Serve down, which says at INFO that there was none; Serve
            # sets its logger up when imported, so quieten it after the import.
            importlib.import_module("ray.serve")
            logging.getLogger("ray.serve").setLevel(logging.WARNING)
            stop_ray()
            ray_up = False
            print(f"bench: Ray stopped in {time.monotonic() - began:.1f} s", flush=True)
            for case in bench.cases:
                print(f"bench: {case.label}, bare loop again ...", flush=True)
                try:
                    bench.bare(case, "bare-end")
                except Exception as exc:
                    bench.failures.append(f"{case.label} bare-end: {type(exc).__name__}: {exc}")
            for site in sites:
                site.stop()
            report(bench, machine_line)
            code = 1 if bench.failures else 0
    finally:
        if ray_up:
            with contextlib.suppress(Exception):
                stop_ray()
        for site in sites:
            site.stop()
        # Ray's processes exit shortly after ray.shutdown(); give them a moment.
        leftovers = watch.end_survivors(wait_s=15.0)
        code = end_run(
            work,
            code=code,
            leftovers=leftovers,
            stopped=f"{len(watch.known)} checked: Ray, the fixture sites, PostgreSQL, Redis",
            failures=bench.failures,
            keep=args.keep,
            kept="site logs",
        )
        aims.report(aims_of(bench))
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Discovery jobs against a bare fetch loop, and at a configured rate "
        "limit, on the fixture SoundCloud site, on this machine."
    )
    parser.add_argument(
        "--artists", type=int, default=400, help="artists the ingest job keeps (default 400)"
    )
    parser.add_argument(
        "--limit", type=float, default=20.0, help="configured requests/s per host (default 20)"
    )
    parser.add_argument(
        "--limit-seconds",
        type=float,
        default=25.0,
        help="about how long the limit run sends requests (default 25; sizes its max_artists)",
    )
    parser.add_argument(
        "--limit-artists", type=int, default=0, help="max_artists of the limit run (overrides)"
    )
    parser.add_argument(
        "--error-rates",
        default=[0.0, 0.02],
        type=lambda text: [float(part) for part in text.split(",")],
        help="shares of list pages answered 502, one ingest comparison each (default 0,0.02; "
        "0.02 is the fixture's default)",
    )
    parser.add_argument("--error-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--actors", type=int, default=2, help="scraper actors of the ingest job (default 2)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="calls in flight per scraper actor (default 8)"
    )
    parser.add_argument(
        "--graph", type=int, default=10_000, help="artists in the fixture graph (default 10000)"
    )
    parser.add_argument(
        "--scale-artists",
        type=int,
        default=50_000,
        help="artists the scale job keeps (default 50000; 0 skips the scale run)",
    )
    parser.add_argument(
        "--scale-graph",
        type=int,
        default=60_000,
        help="artists in the scale run's fixture graph (default 60000)",
    )
    parser.add_argument(
        "--share-seconds",
        type=float,
        default=20.0,
        help="how long two jobs share one limit (default 20)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder and site logs")
    parser.add_argument("--child-site", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--site-rate-limit", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_site:
        child_site(args.graph, args.site_rate_limit, args.error_rate)
        return 0
    if min(args.artists, args.actors, args.concurrency) < 1 or args.graph < 100:
        parser.error("--artists, --actors and --concurrency must be positive, --graph >= 100")
    if args.scale_artists < 0 or (args.scale_artists and args.scale_graph < args.scale_artists):
        parser.error("--scale-artists must be >= 0 and --scale-graph at least as large")
    if args.share_seconds <= 2:
        parser.error("--share-seconds must be more than 2")
    if args.limit <= 0 or args.limit_seconds <= 0 or args.limit_artists < 0:
        parser.error("--limit and --limit-seconds must be positive")
    if not args.error_rates or not all(0 <= rate <= 1 for rate in args.error_rates):
        parser.error("--error-rates must be shares between 0 and 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
