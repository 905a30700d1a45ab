"""`make bench`, pacing: how much of a configured rate limit the scraper uses against a site that
answers 502 to about one request in six, against the same scraper on a site without errors.

The scraper's code alone (``scraping.fetcher.Fetcher`` + ``SoundCloudClient`` + the production
``storage.pacing.RedisPacer`` on an embedded Redis; no Ray, no database) reads artists
(``/users/{id}``) from a fixture SoundCloud site with --concurrency calls in flight, for
--seconds per run, at a configured rate of --limit requests/s; the site itself answers 429
above --limit requests in any second. Three runs, each with a pacing schedule of its own:

  clean       the site never fails: the baseline of what pacing alone leaves of the limit.
  502s        the site answers 502 to --error-rate of ALL its API requests (the fetcher
              retries them; the pacer is told each status and only slows down for 429/503 or a
              dense burst of errors).
  old-rule    the same site, with every error reported to the pacer as "too fast" (what the
              fetcher did before: each 5xx doubled the spacing): a diagnostic row, no aim.

Each run's rate is counted from the site's own log: API requests that arrived over the run,
leaving out its first --trim seconds (the first requests queue up at once), as a fraction of
the limit; the most requests in any 1 s window, and the 429s.

Its last lines are its aims (``loadtests.aims``): ``pacing-502s-vs-limit`` (the 502 run's rate
over the limit, at least 0.5x: the issue's "half its limit or more", never above 1x),
``pacing-clean-vs-limit`` (at least 0.9x, never above 1x) and ``pacing-peak-<run>`` (the most
API requests in any 1 s window, at most the limit). Exit status 1 when any run's site saw more
than --limit requests in a second or answered a 429, a run failed, or a process is left behind.

The fixture sites run in child processes of their own (so the scraper shares no event loop with
them); load goes to 127.0.0.1 only. Internal: ``python -m loadtests.bench_pacing --child-site``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from loadtests import aims
from loadtests.harness import end_run, fill, machine, run_async, run_step, work_folder
from loadtests.processes import HelperProcess, ProcessWatch, obey, redis_processes

GRAPH_SEED = 7
GRAPH_ARTISTS = 2_000
SITE_READY = "SITE-READY"
SITE_START_TIMEOUT_S = 60.0
RUNS = ("clean", "502s", "old-rule")
# The aims: the issue asks that a site answering 502 to one request in six is "still used at
# half its limit or more, and never above it"; without errors pacing should leave little unused.
AIM_502S_AT_LEAST = 0.5
AIM_CLEAN_AT_LEAST = 0.9


# --------------------------------------------------------------------------------------------
# The fixture site, in a child process


def child_site(rate_limit: float, error_rate: float) -> None:
    """Serve a ``FixtureSite`` whose 502s hit every API request; print ``SITE-READY {urls}``,
    then answer one JSON line per command on stdin (``client_id``, ``user_ids N``, ``reset``,
    ``api_log``, ``max_in_window``, ``stop``)."""
    from scraping.fixture import FixtureGraph, FixtureSite

    async def serve() -> None:
        graph = FixtureGraph(GRAPH_ARTISTS, GRAPH_SEED)
        site = FixtureSite(
            graph, rate_limit=rate_limit, error_rate=error_rate, error_scope="all", etags=False
        )

        def user_ids(count: str) -> list[int]:
            return [user.id for user in graph.users if not user.malformed][: int(count)]

        def reset() -> bool:
            site.reset_log()
            return True

        def api_log() -> list[tuple[float, int]]:
            return [(e.arrived, e.status) for e in site.log if e.listener == "api"]

        async with site:
            urls = {"web": site.web_url, "api": site.api_url}
            print(f"{SITE_READY} {json.dumps(urls)}", flush=True)
            await obey(
                {
                    "client_id": lambda: site.client_id,
                    "user_ids": user_ids,
                    "reset": reset,
                    "api_log": api_log,
                    "max_in_window": lambda: site.max_in_window("api"),
                }
            )

    asyncio.run(serve())


class SiteProcess(HelperProcess):
    def __init__(self, name: str, work: Path, *, rate_limit: float, error_rate: float) -> None:
        argv = [sys.executable, "-m", "loadtests.bench_pacing", "--child-site"]
        argv += ["--limit", str(rate_limit), "--error-rate", str(error_rate)]
        super().__init__(
            f"fixture site {name}", argv, work / f"site-{name}.log", answer_timeout_s=60.0
        )
        self.urls: dict[str, str] = {}  # once ready


# --------------------------------------------------------------------------------------------
# One run: the scraper alone, for a while


class EveryErrorSlowsDown:
    """The pacer as the fetcher used it before: every retryable error reported as a 429."""

    def __init__(self, pacer: Any) -> None:
        self._pacer = pacer

    async def wait_turn(self, domain: str, max_wait: float | None = None) -> bool:
        return bool(await self._pacer.wait_turn(domain, max_wait))

    async def slow_down(self, domain: str, status: int | None = 429) -> None:
        await self._pacer.slow_down(domain, 429)


@dataclass
class Run:
    label: str
    seconds: float  # the measured window: from --trim after the first arrival to the end
    requests: int  # API requests that arrived in that window
    statuses: Counter[int]  # of every API request of the run
    max_in_1s: int
    reads: int  # artists read
    skipped: int  # reads given up (retries used up)
    retries: int

    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else float("nan")


async def read_artists(
    *,
    urls: dict[str, str],
    client_id: str,
    user_ids: list[int],
    redis_url: str,
    limit: float,
    concurrency: int,
    seconds: float,
    old_rule: bool,
) -> tuple[float, int, int, int]:
    """Read artists for ``seconds`` with ``concurrency`` calls in flight; returns when the
    run ended (``time.monotonic()``), the reads, those given up, and the retries."""
    from core.pacing import PacingPolicy
    from scraping.errors import ScrapeError
    from scraping.fetcher import Fetcher, Pacer
    from scraping.soundcloud import SoundCloudClient, SoundCloudEndpoints
    from storage.pacing import RedisPacer
    from storage.redis_client import create_redis

    redis = create_redis(redis_url)
    namespace = f"bench-pacing-{uuid.uuid4().hex[:8]}"
    pacer: Pacer = RedisPacer(redis, PacingPolicy(default_rate=limit), namespace=namespace)
    if old_rule:
        pacer = EveryErrorSlowsDown(pacer)
    endpoints = SoundCloudEndpoints(
        web_url=urls["web"], api_url=urls["api"], assets_url=urls["web"]
    )
    ids = itertools.cycle(user_ids)
    reads = skipped = 0
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            fetcher = Fetcher(http, pacer=pacer, allowed_hosts=endpoints.hosts())
            client = SoundCloudClient(fetcher, endpoints, client_id=client_id)

            async def worker() -> None:
                nonlocal reads, skipped
                while True:
                    try:
                        await client.user(next(ids))
                        reads += 1
                    except ScrapeError:
                        skipped += 1

            workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
            await asyncio.sleep(seconds)
            ended = time.monotonic()
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            retries = fetcher.stats.retries
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{namespace}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    return ended, reads, skipped, retries


def run_once(
    label: str, site: SiteProcess, redis_url: str, args: argparse.Namespace, user_ids: list[int]
) -> Run:
    site.call("reset")
    ended, reads, skipped, retries = run_async(
        read_artists(
            urls=site.urls,
            client_id=site.call("client_id"),
            user_ids=user_ids,
            redis_url=redis_url,
            limit=args.limit,
            concurrency=args.concurrency,
            seconds=args.seconds,
            old_rule=label == "old-rule",
        )
    )
    log = [(float(at), int(status)) for at, status in site.call("api_log")]
    start = min((at for at, _ in log), default=ended) + args.trim
    in_window = sum(1 for at, _ in log if start <= at < ended)
    return Run(
        label,
        seconds=max(ended - start, 0.0),
        requests=in_window,
        statuses=Counter(status for _, status in log),
        max_in_1s=int(site.call("max_in_window")),
        reads=reads,
        skipped=skipped,
        retries=retries,
    )


# --------------------------------------------------------------------------------------------
# Report


def report(runs: dict[str, Run], args: argparse.Namespace, machine_line: str) -> None:
    print()
    print(f"machine: {machine_line}")
    fill(
        f"Pacing: the scraper alone (Fetcher + SoundCloudClient + RedisPacer on an embedded "
        f"Redis) reading /users/{{id}} for {args.seconds:g} s per run, {args.concurrency} calls in "
        f"flight, configured rate {args.limit:g} requests/s on a site that answers 429 above "
        f"{args.limit:g}/s; 502s: {args.error_rate:.3f} of every API request. Rate: API "
        f"requests that reached the site after its first {args.trim:g} s, per second, over the "
        "limit."
    )
    header = (
        f"{'run':<10} {'rate/limit':>10} {'req/s':>7} {'max 1s':>6} {'reads':>6} "
        f"{'gave up':>7} {'retries':>7}  statuses"
    )
    print(header)
    print("-" * len(header))
    for label in RUNS:
        run = runs.get(label)
        if run is None:
            print(f"{label:<10} {'not measured':>10}")
            continue
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(run.statuses.items()))
        print(
            f"{label:<10} {run.rate() / args.limit:>9.2f}x {run.rate():>7.1f} "
            f"{run.max_in_1s:>6} {run.reads:>6} {run.skipped:>7} {run.retries:>7}  {statuses}"
        )
    clean, failing = runs.get("clean"), runs.get("502s")
    if clean is not None and failing is not None and clean.rate() > 0:
        print(f"502s run vs clean run, same machine: {failing.rate() / clean.rate():.2f}x")


def aims_of(runs: dict[str, Run], limit: float) -> list[aims.Aim]:
    def ratio(label: str) -> float | None:
        run = runs.get(label)
        return None if run is None else run.rate() / limit

    def peak(label: str) -> float | None:
        run = runs.get(label)
        return None if run is None else float(run.max_in_1s)

    return [
        aims.judge("pacing-502s-vs-limit", ratio("502s"), at_least=AIM_502S_AT_LEAST, at_most=1.0),
        aims.judge(
            "pacing-clean-vs-limit", ratio("clean"), at_least=AIM_CLEAN_AT_LEAST, at_most=1.0
        ),
        *(
            aims.judge(f"pacing-peak-{label}", peak(label), at_most=limit, unit=" req/s", digits=0)
            for label in RUNS
        ),
    ]


# --------------------------------------------------------------------------------------------
# The run


def run(args: argparse.Namespace) -> int:
    from storage.embedded import EmbeddedRedis

    work = work_folder("cm-bench-pacing-")
    machine_line = machine()
    watch = ProcessWatch()
    failures: list[str] = []
    runs: dict[str, Run] = {}
    sites: list[SiteProcess] = []
    redis_server = EmbeddedRedis(work / "redis")
    code = 1
    try:
        began = time.monotonic()
        redis_url = redis_server.start()
        watch.track(redis_processes(redis_url))
        clean = SiteProcess("clean", work, rate_limit=args.limit, error_rate=0.0)
        failing = SiteProcess("502s", work, rate_limit=args.limit, error_rate=args.error_rate)
        sites = [clean, failing]
        watch.track_children()
        for site in sites:
            site.urls = json.loads(site.wait_ready(SITE_READY, SITE_START_TIMEOUT_S))
        user_ids = [int(user_id) for user_id in clean.call("user_ids", 1000)]
        print(f"bench: Redis and 2 fixture sites up in {time.monotonic() - began:.1f} s")
        for label, site in (("clean", clean), ("502s", failing), ("old-rule", failing)):

            def step(label: str = label, site: SiteProcess = site) -> None:
                runs[label] = run_once(label, site, redis_url, args, user_ids)

            run_step(label, step, failures, digits=1)
        for label, measured in runs.items():
            if measured.max_in_1s > args.limit:
                failures.append(f"{label}: {measured.max_in_1s} requests in one second")
            if measured.statuses[429]:
                failures.append(f"{label}: the site answered {measured.statuses[429]} 429s")
        report(runs, args, machine_line)
        code = 1 if failures else 0
    finally:
        for site in sites:
            site.stop()
        with contextlib.suppress(Exception):
            redis_server.stop()
        leftovers = watch.end_survivors(wait_s=10.0)
        code = end_run(
            work,
            code=code,
            leftovers=leftovers,
            stopped=f"{len(watch.known)} checked: the fixture sites, Redis",
            failures=failures,
            keep=args.keep,
            kept="site logs",
        )
        aims.report(aims_of(runs, args.limit))
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="How much of a rate limit the scraper uses against a site answering 502 "
        "to one request in six, against a site without errors, on this machine."
    )
    parser.add_argument(
        "--limit", type=float, default=20.0, help="configured requests/s (default 20)"
    )
    parser.add_argument(
        "--error-rate",
        type=float,
        default=1 / 6,
        help="share of API requests answered 502 (default 1/6)",
    )
    parser.add_argument(
        "--seconds", type=float, default=12.0, help="seconds each run reads (default 12)"
    )
    parser.add_argument(
        "--trim", type=float, default=1.0, help="first seconds left out of a rate (default 1)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and site logs")
    parser.add_argument("--child-site", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_site:
        child_site(args.limit, args.error_rate)
        return 0
    if args.limit <= 0 or args.concurrency < 1 or not 0 <= args.error_rate < 1:
        parser.error("--limit and --concurrency must be positive, --error-rate in [0, 1)")
    if args.seconds <= args.trim + 1 or args.trim < 0:
        parser.error("--seconds must be more than --trim + 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
