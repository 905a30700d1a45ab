"""`make bench`, second half: discovery jobs against the fixture SoundCloud, on this machine.

One run, two questions, each answered against a baseline measured in the same run:

  ingest   A discovery job with every limit lifted (no pacing, browser rendering off) walks a
           10,000-artist fixture site from a genre until it has kept --artists artists. Its
           artists per second are compared with a bare aiohttp loop that fetches exactly the
           requests the job made (taken from the site's own log, in order, with the same number
           in flight as the scraper pool), parsing nothing and writing nothing: the ceiling of
           "fetch these pages" on this machine. The ratio job / bare is the result (aim: 0.5).
           The bare loop runs twice, right after the job (Ray idle in the background) and at
           the end (Ray stopped); the ratio uses their mean and the drift between them shows.
  limit    A second job, 4 scraper actors, with ``soundcloud_requests_per_second`` and
           ``link_in_bio_requests_per_second`` set to --limit L, against a site that answers 429
           above L requests in any second. From the site's side: the achieved rate over the
           steady part of the run divided by L (aim: 0.9, never above 1), the most requests
           seen in any 1 s window (must not pass L), and the 429s (must be 0).

The fixture site runs in a child process of its own (one per site: unlimited for the ingest,
limited for the limit run), so neither contender shares its event loop or its CPU time slice
with the server. The embedded PostgreSQL and Redis are started once in a temporary data folder,
and Ray locally (``serve.runner.start_ray``: all cores, no dashboard), as ``campaign-manager
serve`` would. Jobs are real ``discovery_jobs`` rows run by ``actors.discovery.launch``.

Load goes to 127.0.0.1 only. Every process started is stopped at the end (and checked). Exit
status 1 when a job does not complete, the limit run sees a 429 or more than L requests in a
second or an achieved rate above L, or a process is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import psutil

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
SITE_READY = "SITE-READY"
LISTENERS = ("web", "api", "links")
GRAPH_SEED = 7
GENRE = "Techno"  # 1,279 tracks in the seed-7 graph: plenty of leads for one search
JOB_TIMEOUT_S = 600.0
SITE_START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
# The limit run's steady part leaves out this much at each end: the first requests (client
# id, seeding search) and the last batch, when demand falls below the limit.
STEADY_TRIM_S = 1.0
# API requests per artist kept in a walk that expands every artist (user, tracks, web
# profiles, related artists, followings): sizes the limit run for --limit-seconds.
API_REQUESTS_PER_ARTIST = 5


# --------------------------------------------------------------------------------------------
# The fixture site, in a child process


def child_site(graph: int, rate_limit: float | None, error_rate: float) -> None:
    """Serve a ``FixtureSite``; print ``SITE-READY {urls}``, then answer one JSON line per
    command line on stdin (``client_id``, ``reset``, ``log``, ``max_in_window``, ``stop``)."""
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
                    return await observe(request, handler)  # type: ignore[no-any-return]
                finally:
                    # Appended right after the site's own log entry, with no await in
                    # between: targets[i] is the path and query of log[i].
                    self.targets.append(request.path_qs)

            return record

    def answer(value: Any) -> None:
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()

    async def serve() -> None:
        site = RecordingSite(
            FixtureGraph(graph, GRAPH_SEED), rate_limit=rate_limit, error_rate=error_rate
        )
        async with site:
            loop = asyncio.get_running_loop()
            urls = {"web": site.web_url, "api": site.api_url, "links": site.links_url}
            print(f"{SITE_READY} {json.dumps(urls)}", flush=True)
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                command, *args = line.split() or ["stop"]  # EOF: the parent has gone
                if command == "stop":
                    break
                if command == "client_id":
                    answer(site.client_id)
                elif command == "reset":
                    site.reset_log()
                    site.targets.clear()
                    answer(True)
                elif command == "log":
                    answer(
                        [
                            (entry.listener, entry.arrived, target, entry.status)
                            for entry, target in zip(site.log, site.targets, strict=True)
                        ]
                    )
                elif command == "max_in_window":
                    window = float(args[0])
                    answer({name: site.max_in_window(name, window) for name in LISTENERS})
                else:
                    answer({"error": f"unknown command {command!r}"})

    asyncio.run(serve())


class SiteProcess:
    """A fixture site in a child process of its own, driven by lines on its stdin/stdout."""

    def __init__(
        self, name: str, work: Path, *, graph: int, rate_limit: float | None, error_rate: float
    ) -> None:
        self.name = name
        self.log_path = work / f"site-{name}.log"
        argv = [sys.executable, "-m", "loadtests.bench_discovery", "--child-site"]
        argv += ["--graph", str(graph), "--error-rate", str(error_rate)]
        if rate_limit is not None:
            argv += ["--site-rate-limit", str(rate_limit)]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.urls: dict[str, str] = {}

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put("")  # EOF

    def _line(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"fixture site {self.name}: no answer in {timeout:.0f} s") from None
        if not line:
            tail = self.log_path.read_text(errors="replace").splitlines()[-10:]
            raise RuntimeError(f"fixture site {self.name} exited: " + "\n".join(tail))
        return line

    def wait_ready(self) -> dict[str, str]:
        line = self._line(SITE_START_TIMEOUT_S)
        if not line.startswith(SITE_READY):
            raise RuntimeError(f"fixture site {self.name}: unexpected {line[:200]!r}")
        self.urls = json.loads(line.split(" ", 1)[1])
        return self.urls

    def call(self, command: str, *args: object) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(" ".join([command, *map(str, args)]) + "\n")
        self.process.stdin.flush()
        return json.loads(self._line(60.0))

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.write("stop\n")
                self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


# --------------------------------------------------------------------------------------------
# The bare fetch loop


@dataclass
class Replay:
    label: str
    requests: int
    seconds: float
    statuses: Counter[int]
    received_bytes: int
    cpu_s: float  # CPU this process used for the loop

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def replay_urls(log: list[tuple[str, float, str, int]], urls: dict[str, str], client_id: str):  # type: ignore[no-untyped-def]
    """The absolute URLs of a site log, in order, API requests with the current client id."""
    found = []
    for listener, _, target, _ in log:
        if listener == "api" and "client_id=" in target:
            parts = urlsplit(target)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
            query = [(k, client_id if k == "client_id" else v) for k, v in query]
            target = f"{parts.path}?{urlencode(query)}"
        found.append(urls[listener] + target)
    return found


async def bare_fetch(label: str, urls: list[str], concurrency: int) -> Replay:
    """Fetch every URL once with ``concurrency`` in flight on one session: read the body, look
    at nothing, retry nothing."""
    statuses: Counter[int] = Counter()
    received = 0
    queue = iter(urls)
    connector = aiohttp.TCPConnector(limit=concurrency, use_dns_cache=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal received
        for url in queue:  # a shared iterator: each URL goes to exactly one worker
            try:
                async with session.get(url, allow_redirects=False) as response:
                    received += len(await response.read())
                    statuses[response.status] += 1
            except (aiohttp.ClientError, TimeoutError):
                statuses[0] += 1

    cpu = time.process_time()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    return Replay(label, len(urls), seconds, statuses, received, time.process_time() - cpu)


def run_async(coro: Any) -> Any:
    """Run on uvloop when installed (as bench_api's load generator does), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# --------------------------------------------------------------------------------------------
# Jobs


@dataclass
class JobRun:
    label: str
    status: str
    wall_s: float  # launch() to the final status in hand
    job_s: float  # the job row's started_at .. finished_at
    progress: dict[str, Any]
    error: str | None
    log: list[tuple[str, float, str, int]] = field(default_factory=list)
    launched_at: float = 0.0  # time.monotonic(), comparable with the site's arrival times

    @property
    def kept(self) -> int:
        return int(self.progress.get("kept", 0))


async def _new_job(settings: Any, query: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A committed job in a new workspace, as the API would create it."""
    from storage.database import create_engine, create_sessionmaker
    from storage.repositories.discovery_jobs import DiscoveryJobRepository
    from storage.repositories.users import UserRepository
    from storage.repositories.workspaces import WorkspaceRepository

    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine).begin() as session:
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
    finally:
        await engine.dispose()


async def _job_row(settings: Any, job_id: uuid.UUID, workspace_id: uuid.UUID) -> Any:
    from storage.database import create_engine, create_sessionmaker
    from storage.repositories.discovery_jobs import DiscoveryJobRepository

    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            return await DiscoveryJobRepository(session, workspace_id).get(job_id)
    finally:
        await engine.dispose()


async def _cancel(settings: Any, job_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
    from core.enums import DiscoveryJobStatus
    from storage.database import create_engine, create_sessionmaker
    from storage.repositories.discovery_jobs import DiscoveryJobRepository

    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine).begin() as session:
            repo = DiscoveryJobRepository(session, workspace_id)
            if not (await repo.get(job_id)).status.is_final:
                await repo.set_status(job_id, DiscoveryJobStatus.CANCELLED)
    finally:
        await engine.dispose()


def run_job(label: str, settings: Any, site: SiteProcess, query: Any) -> JobRun:
    """Create the job's row, launch it on Ray, wait for its final status; the site's log of
    the run comes back with it."""
    import ray

    from actors.discovery import launch

    job_id, workspace_id = asyncio.run(_new_job(settings, query))
    site.call("reset")
    launched_at = time.monotonic()
    ref = launch(settings, job_id, workspace_id)
    try:
        status = str(ray.get(ref, timeout=JOB_TIMEOUT_S))
    except ray.exceptions.GetTimeoutError:
        asyncio.run(_cancel(settings, job_id, workspace_id))
        status = f"timed out after {JOB_TIMEOUT_S:.0f} s"
    wall = time.monotonic() - launched_at
    row = asyncio.run(_job_row(settings, job_id, workspace_id))
    job_s = (
        (row.finished_at - row.started_at).total_seconds()
        if isinstance(row.started_at, datetime) and isinstance(row.finished_at, datetime)
        else float("nan")
    )
    return JobRun(
        label,
        status,
        wall,
        job_s,
        dict(row.progress or {}),
        row.error,
        log=site.call("log"),
        launched_at=launched_at,
    )


# --------------------------------------------------------------------------------------------
# The limit run, from the site's side


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


def pace_of(
    log: list[tuple[str, float, str, int]], listener: str, max_in_1s: int
) -> Pace:
    arrivals = sorted(arrived for name, arrived, _, _ in log if name == listener)
    too_many = sum(1 for name, _, _, status in log if name == listener and status == 429)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    steady: float | None = None
    if span > 2 * STEADY_TRIM_S + 2:
        start, end = arrivals[0] + STEADY_TRIM_S, arrivals[-1] - STEADY_TRIM_S
        inside = sum(1 for t in arrivals if start <= t < end)
        steady = inside / (end - start)
    return Pace(listener, len(arrivals), too_many, max_in_1s, span, steady)


# --------------------------------------------------------------------------------------------
# Processes


class ProcessWatch:
    """Every process this run started (pid and start time), found in its process tree, so
    none outlives the run and none of anybody else's is touched."""

    def __init__(self) -> None:
        self.known: dict[int, float] = {}

    def track(self) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            for proc in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    self.known.setdefault(proc.pid, proc.create_time())

    def add(self, procs: list[psutil.Process]) -> None:
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.known.setdefault(proc.pid, proc.create_time())

    def alive(self, wait_s: float = 0.0) -> list[psutil.Process]:
        deadline = time.monotonic() + wait_s
        while True:
            found = []
            for pid, created in self.known.items():
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc = psutil.Process(pid)
                    if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                        found.append(proc)
            if not found or time.monotonic() >= deadline:
                return found
            time.sleep(0.5)


def _stack_processes(work: Path) -> list[psutil.Process]:
    """The embedded PostgreSQL and Redis (their command lines name our data folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(str(work) in part for part in proc.info["cmdline"] or []):
                found.append(proc)
    return found


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class Bench:
    args: argparse.Namespace
    ingest: JobRun | None = None
    replays: list[Replay] = field(default_factory=list)
    limited: JobRun | None = None
    paces: list[Pace] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def job_settings(base: Any, urls: dict[str, str], *, rate: float, actors: int, concurrency: int):  # type: ignore[no-untyped-def]
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


def warm(site: SiteProcess) -> None:
    """One genre search before the job: the site builds its search index on the first search
    (both contenders then meet a warm site); the log is cleared after."""
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


def check_job(bench: Bench, run: JobRun, wanted: int) -> None:
    if run.status != "completed":
        bench.failures.append(f"{run.label} job: {run.status} ({run.error or 'no error text'})")
    elif run.kept != wanted:
        bench.failures.append(f"{run.label} job: kept {run.kept} artists, not {wanted}")


def step_ingest(bench: Bench, settings: Any, site: SiteProcess) -> None:
    from core.discovery import DiscoveryQuery

    args = bench.args
    warm(site)
    query = DiscoveryQuery(genres=[GENRE], max_artists=args.artists, max_depth=2)
    run = run_job(
        "ingest",
        job_settings(
            settings, site.urls, rate=0, actors=args.actors, concurrency=args.concurrency
        ),
        site,
        query,
    )
    bench.ingest = run
    check_job(bench, run, args.artists)
    print(
        f"  ingest job: {run.status}, {run.kept} kept in {run.wall_s:.1f} s "
        f"({len(run.log)} requests)",
        flush=True,
    )
    replay(bench, site, "bare")


def replay(bench: Bench, site: SiteProcess, label: str) -> None:
    run = bench.ingest
    if run is None or not run.log:
        return
    urls = replay_urls(run.log, site.urls, site.call("client_id"))
    result: Replay = run_async(
        bare_fetch(label, urls, bench.args.actors * bench.args.concurrency)
    )
    bench.replays.append(result)
    failed = result.statuses[0] + sum(n for s, n in result.statuses.items() if s >= 500)
    print(
        f"  {label}: {result.requests} requests in {result.seconds:.2f} s "
        f"({result.rps:.0f} req/s; {failed} 5xx or failed)",
        flush=True,
    )


def step_limit(bench: Bench, settings: Any, site: SiteProcess) -> None:
    from core.discovery import DiscoveryQuery

    args = bench.args
    limit = args.limit
    artists = args.limit_artists or max(
        10, round(limit * args.limit_seconds / API_REQUESTS_PER_ARTIST)
    )
    warm(site)
    query = DiscoveryQuery(genres=[GENRE], max_artists=artists, max_depth=2)
    run = run_job(
        "limit",
        job_settings(settings, site.urls, rate=limit, actors=4, concurrency=args.concurrency),
        site,
        query,
    )
    bench.limited = run
    check_job(bench, run, artists)
    windows = site.call("max_in_window", 1.0)
    for listener in LISTENERS:
        pace = pace_of(run.log, listener, windows[listener])
        bench.paces.append(pace)
        if pace.too_many:
            bench.failures.append(f"limit: {pace.too_many} answers 429 on {listener}")
        if pace.max_in_1s > limit:
            bench.failures.append(
                f"limit: {pace.max_in_1s} requests to {listener} within 1 s, limit {limit:g}"
            )
        ratio = pace.ratio(limit)
        if ratio is not None and ratio > 1.0:
            bench.failures.append(f"limit: {listener} achieved {ratio:.3f} of the limit")
    api = next(p for p in bench.paces if p.listener == "api")
    if api.steady_rate is None:
        bench.failures.append(
            f"limit: the API saw requests for only {api.span_s:.1f} s, too short to measure"
        )
    print(
        f"  limit job: {run.status}, {run.kept} kept in {run.wall_s:.1f} s "
        f"({len(run.log)} requests)",
        flush=True,
    )


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    model = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import ray

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.0f} GiB RAM, Python "
        f"{platform.python_version()}, Ray {ray.__version__}; load average before: {load}"
    )


def _statuses(log: list[tuple[str, float, str, int]]) -> str:
    counts = Counter(status for _, _, _, status in log)
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))


def report(bench: Bench, machine_line: str) -> None:
    args = bench.args
    print()
    print(
        f"Discovery against the fixture site ({args.graph:,} artists, seed {GRAPH_SEED}, "
        f"502 share {args.error_rate:g} on the ingest site)"
    )
    print(machine_line)
    run = bench.ingest
    if run is not None:
        pool = args.actors * args.concurrency
        print()
        print(
            f"Ingest, limits lifted: genre {GENRE!r}, max_artists {args.artists}, max_depth 2, "
            f"{args.actors} scraper actors x concurrency {args.concurrency}, browser off"
        )
        header = f"{'case':<34} {'artists':>7} {'seconds':>8} {'artists/s':>9} {'req/s':>7} {'vs bare':>8}"
        print(header)
        print("-" * len(header))
        bare = [r for r in bench.replays if r.seconds > 0]
        bare_s = sum(r.seconds for r in bare) / len(bare) if bare else 0.0
        requests = len(run.log)

        def row(label: str, artists: int, seconds: float, note: str = "") -> None:
            per_s = artists / seconds if seconds > 0 else 0.0
            ratio = f"{(artists / seconds) / (run.kept / bare_s):7.2f}x" if bare_s and seconds > 0 and run.kept else ""
            print(
                f"{label:<34} {artists:7d} {seconds:8.2f} {per_s:9.1f} "
                f"{requests / seconds if seconds > 0 else 0:7.0f} {note or ratio:>8}"
            )

        row("job, launch to final status", run.kept, run.wall_s)
        if run.job_s == run.job_s:  # not NaN
            row("job, started_at to finished_at", run.kept, run.job_s)
        if run.log:
            first = min(arrived for _, arrived, _, _ in run.log)
            last = max(arrived for _, arrived, _, _ in run.log)
            row("job, first to last request", run.kept, last - first)
        for replay_run in bench.replays:
            label = {
                "bare": f"bare loop ({pool} in flight), Ray idle",
                "bare-end": f"bare loop ({pool} in flight), Ray gone",
            }.get(replay_run.label, replay_run.label)
            row(label, run.kept, replay_run.seconds, "baseline")
        if run.log:
            first = min(arrived for _, arrived, _, _ in run.log)
            progress = run.progress
            scraper = progress.get("scraper", {})
            print()
            print(
                textwrap.fill(
                    f"The job: {requests} requests ({_statuses(run.log)}); examined "
                    f"{progress.get('examined')}, kept {progress.get('kept')}, skipped "
                    f"{progress.get('skipped', 0)}, contacts {progress.get('contacts')}; "
                    f"scraper retries {scraper.get('retries')}, mean request latency "
                    f"{scraper.get('mean_latency_ms')} ms. First request "
                    f"{first - run.launched_at:.1f} s after launch (actor start-up).",
                    100,
                )
            )
        for replay_run in bench.replays:
            print(
                f"{replay_run.label}: {replay_run.requests} requests, "
                f"{replay_run.received_bytes / 2**20:.1f} MiB, loop CPU "
                f"{replay_run.cpu_s / replay_run.seconds:.0%} of a core; statuses "
                + ", ".join(f"{s or 'failed'}: {n}" for s, n in sorted(replay_run.statuses.items()))
            )
        if len(bare) == 2 and bare[0].seconds > 0:
            print(
                f"The bare loop changed by {bare[0].seconds / bare[1].seconds - 1:+.0%} in rate "
                "from the first run to the last; ratios use the mean time of both."
            )
        if bare_s and run.wall_s > 0 and run.kept:
            ratio = (run.kept / run.wall_s) / (run.kept / bare_s)
            verdict = "met" if ratio >= 0.5 else "not met"
            print(
                f"Aim (the job ingests at least half as many artists per second as the bare "
                f"loop fetches their pages): {verdict} ({ratio:.2f}x launch to final status)"
            )
    limited = bench.limited
    if limited is not None:
        limit = args.limit
        print()
        print(
            f"At a configured limit: {limit:g} requests/s per host (the job's pacing and the "
            f"site's 429 limit), 4 scraper actors x concurrency {args.concurrency}, "
            f"max_artists {limited.kept}, 502 share 0; job {limited.status} in "
            f"{limited.wall_s:.1f} s"
        )
        header = (
            f"{'host':<8} {'requests':>8} {'429s':>5} {'max in 1 s':>10} {'span s':>7} "
            f"{'steady req/s':>12} {'achieved/limit':>14}"
        )
        print(header)
        print("-" * len(header))
        for pace in bench.paces:
            ratio = pace.ratio(limit)
            steady = "-" if pace.steady_rate is None else f"{pace.steady_rate:.2f}"
            shown = "-" if ratio is None else f"{ratio:.3f}"
            print(
                f"{pace.listener:<8} {pace.requests:8d} {pace.too_many:5d} "
                f"{pace.max_in_1s:10d} {pace.span_s:7.1f} {steady:>12} {shown:>14}"
            )
        api = next((p for p in bench.paces if p.listener == "api"), None)
        if api is not None and api.steady_rate is not None:
            ratio = api.steady_rate / limit
            verdict = "met" if 0.9 <= ratio <= 1.0 else "not met"
            print(
                f"Aim (on the API host, the one the walk keeps busy: achieved/limit at least "
                f"0.9, never above 1): {verdict} ({ratio:.3f}; at most {api.max_in_1s} "
                f"requests in any 1 s, limit {limit:g})"
            )
    print()
    legend = (
        "artists/s: artists the job kept (the bare loop: the same number) per second. "
        "seconds: launch to final status is what a user waits; started_at to finished_at is the "
        "job's own row (actor start-up excluded); first to last request is what the site saw. "
        "The bare loop fetches the job's requests (its retries and failed requests included, "
        "the same query strings, in the order the site received them) with the pool's number in "
        "flight and does nothing else; vs bare divides by its artists/s (the mean time of its "
        "runs). Limit run: steady req/s counts the arrivals at the host from 1 s after its "
        "first request to 1 s before its last; achieved/limit divides by the limit; max in 1 s "
        "is the most arrivals in any 1 s window (the site answers 429 above the limit). The web "
        "and links hosts see far fewer requests than the limit (demand, not pacing, sets their "
        "rate), so the aim is read on the API host."
    )
    print(textwrap.fill(legend, 100))
    for note in bench.notes:
        print(textwrap.fill(f"Note: {note}", 100, subsequent_indent="  "))


def run(args: argparse.Namespace) -> int:
    from pydantic import SecretStr

    from core.settings import Settings
    from serve.runner import start_ray, stop_ray
    from serve.stack import LocalStack

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    work = Path(tempfile.mkdtemp(prefix="cm-bench-discovery-"))
    print(f"bench: data in {work}", flush=True)
    machine_line = machine()
    given = Settings(
        data_dir=work / "data",
        database_url=None,  # always the embedded servers, whatever CM_* says
        redis_url=None,
        secret_key=SecretStr("bench-" + os.urandom(24).hex()),
        ray_address=None,
        _env_file=None,
    )
    bench = Bench(args=args)
    watch = ProcessWatch()
    sites: list[SiteProcess] = []
    code = 1
    ray_started = False
    try:
        with LocalStack(given) as stack:
            watch.add(_stack_processes(work))
            print("bench: " + "; ".join(stack.started), flush=True)
            began = time.monotonic()
            free = SiteProcess(
                "unlimited", work, graph=args.graph, rate_limit=None, error_rate=args.error_rate
            )
            limited = SiteProcess(
                "limited", work, graph=args.graph, rate_limit=args.limit, error_rate=0.0
            )
            sites += [free, limited]
            watch.track()
            free.wait_ready()
            limited.wait_ready()
            print(f"bench: two fixture sites up in {time.monotonic() - began:.1f} s", flush=True)
            began = time.monotonic()
            start_ray(stack.settings)
            ray_started = True
            watch.track()
            print(f"bench: Ray up in {time.monotonic() - began:.1f} s", flush=True)
            steps: list[tuple[str, Callable[[], None]]] = [
                ("ingest", lambda: step_ingest(bench, stack.settings, free)),
                ("limit", lambda: step_limit(bench, stack.settings, limited)),
            ]
            for name, step in steps:
                print(f"bench: {name} ...", flush=True)
                began = time.monotonic()
                try:
                    step()
                except Exception as exc:
                    bench.failures.append(f"{name}: {type(exc).__name__}: {exc}")
                    print(f"bench: {name} failed: {type(exc).__name__}: {exc}", flush=True)
                watch.track()
                print(f"bench: {name} took {time.monotonic() - began:.0f} s", flush=True)
            began = time.monotonic()
            watch.track()
            stop_ray()
            ray_started = False
            print(f"bench: Ray stopped in {time.monotonic() - began:.1f} s", flush=True)
            try:
                replay(bench, free, "bare-end")
            except Exception as exc:
                bench.failures.append(f"bare-end: {type(exc).__name__}: {exc}")
            for site in sites:
                site.stop()
            report(bench, machine_line)
            code = 1 if bench.failures else 0
    finally:
        if ray_started:
            with contextlib.suppress(Exception):
                stop_ray()
        for site in sites:
            site.stop()
        survivors = watch.alive(wait_s=15.0)
        leftovers = []
        for proc in survivors:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftovers.append(f"{proc.pid} {proc.name()}")
                proc.terminate()
        _, still = psutil.wait_procs(survivors, timeout=5)
        for proc in still:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        if leftovers:
            print(f"bench: processes left behind (now ended): {', '.join(leftovers)}")
            code = 1
        else:
            print(
                f"bench: every process it started has stopped ({len(watch.known)} checked: "
                "Ray, the fixture sites, PostgreSQL, Redis)"
            )
        if bench.failures:
            print("bench: FAILED:\n  " + "\n  ".join(bench.failures))
        if code == 0 and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"bench: data kept in {work}")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Discovery jobs against a bare fetch loop and at a configured rate limit, "
        "on the fixture SoundCloud site, on this machine."
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
        help="rough length of the limit run's requests, sizing its max_artists (default 25)",
    )
    parser.add_argument(
        "--limit-artists", type=int, default=0, help="max_artists of the limit run (overrides)"
    )
    parser.add_argument(
        "--error-rate",
        type=float,
        default=0.02,
        help="share of the ingest site's list pages answered 502 (default 0.02, the fixture's)",
    )
    parser.add_argument(
        "--actors", type=int, default=2, help="scraper actors of the ingest job (default 2)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="calls in flight per scraper actor (default 8)"
    )
    parser.add_argument(
        "--graph", type=int, default=10_000, help="artists in the fixture graph (default 10000)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--child-site", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--site-rate-limit", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_site:
        child_site(args.graph, args.site_rate_limit, args.error_rate)
        return 0
    if args.artists < 1 or args.actors < 1 or args.concurrency < 1 or args.graph < 100:
        parser.error("--artists, --actors, --concurrency must be positive, --graph >= 100")
    if args.limit <= 0 or args.limit_seconds <= 0 or args.limit_artists < 0:
        parser.error("--limit and --limit-seconds must be positive")
    if not 0 <= args.error_rate <= 1:
        parser.error("--error-rate must be between 0 and 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
