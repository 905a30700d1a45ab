"""Two Ray nodes on this machine: the session's head and a worker node added for this test.

Serve replicas, scraper actors and sender actors spread over both nodes (Serve spreads replicas
by default; the scraper and sender pools ask for SPREAD). A discovery job is started through
the worker node's proxy, so the replica there starts it and its actor runs there (Ray places an
actor on its caller's node first), and it walks a rate-limited fixture site. Then the worker
node is removed mid-walk: the API answers throughout, the job resumes on the head and completes
although the replica that started it is gone, the site never sees more than its limit in any
second, and what ran on the worker runs on the head.

The worker's proxy gets a port of its own (Serve's ``RAY_SERVE_WORKER_PROXY_HTTP_PORT``, for
proxies sharing one machine); Serve's proxies route to a replica on their own node first. The
scraper pool is warmed from the driver, as ``campaign-manager serve`` warms the service's.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import ray
from ray import serve as ray_serve
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from actors.discovery import actor_name
from actors.named import NAMESPACE
from actors.scraper_pool import ScraperPool, pool_key
from actors.scraper_pool import actor_name as scraper_name
from actors.senders import sender_name, sender_pool
from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite
from serve.deployment import DEPLOYMENT_NAME, build_application
from storage.database import create_sessionmaker
from storage.models import DiscoveryJobArtist
from tests.conftest import fixture_site_settings, free_port
from tests.serve.conftest import register
from tests.serve.test_discovery import JOB_TIMEOUT_SECONDS, job_row, until_kept

if TYPE_CHECKING:
    from ray._private.node import Node
    from ray.cluster_utils import Cluster

APP_NAME = "multi-node"
ROUTE_PREFIX = "/multi-node"
RATE = 20  # requests per second the site allows, and the scrapers are told
MAX_ARTISTS = 20
# The node goes once the job has committed this many artists (of MAX_ARTISTS).
KEPT_BEFORE_REMOVAL = 3
POLL_SECONDS = 0.1
# The bound on waiting for Ray and Serve to place, start or put back what the test looks at.
SETTLE_SECONDS = 60


@dataclass(frozen=True)
class Poll:
    started: float
    ended: float
    outcome: int | str  # the HTTP status, or the exception's name


def actor_table() -> list[dict[str, Any]]:
    """Ray's actor table (the state API needs the dashboard; this does not)."""
    return list(ray._private.state.actors().values())


def nodes_of(names: list[str]) -> dict[str, str]:
    """The node each of these named actors runs on (those alive)."""
    return {
        a["Name"]: a["Address"]["NodeID"]
        for a in actor_table()
        if a["Name"] in names and a["State"] == "ALIVE"
    }


def replica_nodes(app_name: str, *, starting: bool = False) -> list[str]:
    """The nodes the application's live replicas run on, one entry per replica, sorted; with
    ``starting``, those placed and still starting too."""
    prefix = f"ServeReplica:{app_name}:{DEPLOYMENT_NAME}"
    states = {"ALIVE", "PENDING_CREATION"} if starting else {"ALIVE"}
    return sorted(
        a["Address"]["NodeID"]
        for a in actor_table()
        if a["ActorClassName"].startswith(prefix)
        and a["State"] in states
        # An address is the node's once Ray has placed the actor there (before, it names
        # the node that is placing it, and no IP address).
        and a["Address"]["IPAddress"]
    )


def existing_senders() -> int:
    """How many sender actors the session has started already (the app's, other tests')."""
    count = 0
    while True:
        try:
            ray.get_actor(sender_name(count), namespace=NAMESPACE)
        except ValueError:
            return count
        count += 1


def add_worker(cluster: Cluster, proxy_port: int) -> Node:
    """A worker node with 2 CPUs whose Serve proxy listens on ``proxy_port`` (the node's
    processes take the variable from this process's environment as they start)."""
    variable = "RAY_SERVE_WORKER_PROXY_HTTP_PORT"
    previous = os.environ.get(variable)
    os.environ[variable] = str(proxy_port)
    try:
        # In this thread: a new node sets signal handlers, which only the main thread may.
        node: Node = cluster.add_node(num_cpus=2, object_store_memory=128 * 1024 * 1024)
        return node
    finally:
        if previous is None:
            del os.environ[variable]
        else:
            os.environ[variable] = previous


def remove_if_there(cluster: Cluster, node: Node) -> None:
    if node in cluster.worker_nodes:
        cluster.remove_node(node)


def kill_quietly(name: str) -> None:
    with suppress(ValueError):
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {SETTLE_SECONDS} s: {what}")
        await asyncio.sleep(0.25)


async def answering(url: str) -> None:
    """Wait (bounded) for ``url`` to answer 200."""
    deadline = time.monotonic() + SETTLE_SECONDS
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            with suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer within {SETTLE_SECONDS} s")
            await asyncio.sleep(0.25)


async def until_final(engine: AsyncEngine, job_id: uuid.UUID, workspace_id: uuid.UUID) -> Any:
    """The job's row once it has ended (its actor's caller may be gone: there is no ref to
    await)."""
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while True:
        job = await job_row(engine, job_id, workspace_id)
        if job.status.is_final:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} did not end: {job.status} {job.progress}")
        await asyncio.sleep(0.2)


async def poll(url: str, headers: dict[str, str], log: list[Poll], stop: asyncio.Event) -> None:
    """GET ``url`` every ``POLL_SECONDS``, one request at a time, each on a new connection (a
    kept-alive connection to a proxy that has gone would fail the next request, not this one)."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        while not stop.is_set():
            started = time.monotonic()
            outcome: int | str
            try:
                outcome = (await client.get(url, headers=headers)).status_code
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            log.append(Poll(started, time.monotonic(), outcome))
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)


class TestTwoNodes:
    async def test_work_spreads_over_both_nodes_and_survives_losing_the_worker(
        self,
        ray_cluster: Cluster,
        served_url: str,
        api: httpx.AsyncClient,
        app_settings: Settings,
        engine: AsyncEngine,
    ) -> None:
        head = ray_cluster.head_node
        assert head is not None
        async with AsyncExitStack() as cleanup:
            worker_proxy = free_port()
            worker = add_worker(ray_cluster, worker_proxy)
            cleanup.push_async_callback(asyncio.to_thread, remove_if_there, ray_cluster, worker)
            both = sorted([head.node_id, worker.node_id])
            site = await cleanup.enter_async_context(
                FixtureSite(FixtureGraph(artists=800, seed=21), rate_limit=RATE)
            )
            settings = app_settings.model_copy(
                update={
                    **fixture_site_settings(site),
                    "soundcloud_requests_per_second": RATE,
                    "link_in_bio_requests_per_second": RATE,
                    "serve_replicas": 2,
                    "scraper_actors": 2,
                    "chromium_path": "",  # no browser: this is about the cluster
                }
            )
            owner = await register(api)

            # The API: a second application on the session's Serve (the session's own app and
            # its route are left alone), its two replicas one on each node. The pools below
            # start while the replicas do, once Serve has placed them: SPREAD takes nodes in
            # turn, so what asks for it must ask one group after another.
            cleanup.push_async_callback(asyncio.to_thread, ray_serve.delete, APP_NAME)
            deploying = asyncio.create_task(
                asyncio.to_thread(
                    ray_serve.run,
                    build_application(settings),
                    name=APP_NAME,
                    route_prefix=ROUTE_PREFIX,
                )
            )
            cleanup.push_async_callback(asyncio.wait_for, deploying, SETTLE_SECONDS)
            await until(
                lambda: len(replica_nodes(APP_NAME, starting=True)) == 2,
                "Serve places the app's replicas",
            )
            assert replica_nodes(APP_NAME, starting=True) == both

            # Senders: the pool grown by two (after the session's own), the new ones on both.
            have = existing_senders()
            new_senders = [sender_name(have), sender_name(have + 1)]
            for name in new_senders:
                cleanup.callback(kill_quietly, name)
            grown = settings.model_copy(update={"sender_actors": have + 2})
            senders = (await asyncio.to_thread(sender_pool, grown))[have:]
            assert await asyncio.gather(*(s.ping.remote() for s in senders)) == [True, True]
            assert sorted(nodes_of(new_senders).values()) == both

            # Scrapers: the job's pool, warmed from here as the service warms its own.
            scrapers = [scraper_name(pool_key(settings), index) for index in range(2)]
            for name in scrapers:
                cleanup.callback(kill_quietly, name)
            pool = ScraperPool(settings, member="multi-node-test")
            try:
                await pool.warm()
            finally:
                await pool.close()
            assert sorted(nodes_of(scrapers).values()) == both

            await asyncio.wait_for(deploying, SETTLE_SECONDS)
            assert replica_nodes(APP_NAME) == both
            worker_url = f"http://127.0.0.1:{worker_proxy}{ROUTE_PREFIX}"
            await answering(f"{worker_url}/healthz")

            # The job, started through the worker's proxy: the replica there launches it.
            async with httpx.AsyncClient(base_url=worker_url, timeout=30) as on_worker:
                started = await on_worker.post(
                    "/api/v1/discovery-jobs",
                    json={
                        "seed_artists": [site.graph.users[2].permalink],
                        "max_artists": MAX_ARTISTS,
                        "max_depth": 1,
                    },
                    headers=owner.headers,
                )
            assert started.status_code == 201, started.text
            job_id = uuid.UUID(started.json()["id"])
            workspace_id = uuid.UUID(owner.workspace_id)
            job_actor = actor_name(job_id)
            cleanup.callback(kill_quietly, job_actor)

            # From now on a client reads the job through the head's proxy, every POLL_SECONDS.
            polls: list[Poll] = []
            stop = asyncio.Event()
            url = f"{served_url}{ROUTE_PREFIX}/api/v1/discovery-jobs/{job_id}"
            poller = asyncio.create_task(poll(url, owner.headers, polls, stop))
            cleanup.push_async_callback(asyncio.wait_for, poller, SETTLE_SECONDS)
            cleanup.callback(stop.set)

            await until_kept(engine, job_id, workspace_id, KEPT_BEFORE_REMOVAL)
            [walker] = [a for a in actor_table() if a["Name"] == job_actor]
            # The job's actor and the caller that started it both on the worker.
            assert walker["Address"]["NodeID"] == worker.node_id
            assert walker["OwnerAddress"]["NodeID"] == worker.node_id

            # The worker node goes, mid-walk.
            removing = time.monotonic()
            await asyncio.to_thread(ray_cluster.remove_node, worker)
            removed = time.monotonic()
            at_removal = await job_row(engine, job_id, workspace_id)
            assert at_removal.progress["kept"] < MAX_ARTISTS, "the node must go mid-walk"

            job = await until_final(engine, job_id, workspace_id)
            assert job.status == "completed", (job.status, job.error)
            # The walk resumed from its checkpoint on the head, and wrote nothing twice.
            assert job.progress["resumed"] >= 1, job.progress
            assert job.progress["kept"] == MAX_ARTISTS, job.progress
            async with create_sessionmaker(engine)() as session:
                results = await session.scalar(
                    select(func.count()).where(DiscoveryJobArtist.job_id == job_id)
                )
            assert results == MAX_ARTISTS

            # The site's limit held over both nodes and through the loss of one.
            assert sum(1 for entry in site.log if entry.listener == "api") > 2 * RATE
            for listener in ("web", "api", "links"):
                assert site.max_in_window(listener, 1.0) <= RATE, listener
            assert not any(entry.status == 429 for entry in site.log)

            # What was on the worker is on the head: the senders and scrapers (restarted by
            # Ray, their handles still good) and the app's second replica (started by Serve).
            assert await asyncio.gather(*(s.ping.remote() for s in senders)) == [True, True]
            assert set(nodes_of(new_senders).values()) == {head.node_id}
            assert sorted(nodes_of(scrapers).values()) == [head.node_id] * 2
            await until(
                lambda: replica_nodes(APP_NAME) == [head.node_id] * 2,
                "Serve replaces the replica it lost",
            )

            # The API answered throughout: the only requests that may fail are those in flight
            # while the node's processes were being stopped (on the replica that went with it).
            stop.set()
            await asyncio.wait_for(poller, SETTLE_SECONDS)
            in_flight = [p for p in polls if p.started <= removed and p.ended >= removing]
            failed = [p for p in polls if p.outcome != 200]
            assert [p for p in failed if p not in in_flight] == [], (removing, removed, failed)
            assert sum(1 for p in polls if p.ended < removing) >= 3
            assert sum(1 for p in polls if p.started > removed) >= 5
