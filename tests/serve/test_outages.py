"""Degrading well: with PostgreSQL or Redis down, every request that needs it is a 503 with
Retry-After naming the part (never a 500, a 401 or a hang), and everything works again by itself
once the server is back, the app never restarted.

The app runs in-process against servers of this module's own (an embedded PostgreSQL and Redis
in a temporary folder), which the tests stop and start; the session's servers are never touched.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import text

from actors.discovery import DiscoveryWalk
from core.enums import DiscoveryJobStatus
from core.settings import Settings
from storage import migrator
from storage.database import create_engine
from storage.embedded import EmbeddedPostgres, EmbeddedRedis
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from tests.serve.conftest import Account, client_of, register, running_app
from tests.serve.test_live_access import read_until_closed, serve_replica

# Bounds each phase of the load runs (writes flowing, the outage seen, writes resumed), so a
# broken recovery fails the test instead of hanging it.
RECOVERY_SECONDS = 20.0
CLIENTS = 4


@dataclass
class OwnServers:
    """An embedded PostgreSQL and Redis that this module may stop and start at will; each comes
    back at the same address, as a restarted external server does."""

    root: Path
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    database_url: str = ""
    redis_url: str = ""

    async def start_postgres(self) -> None:
        self.postgres = EmbeddedPostgres(self.root / "postgres")
        self.database_url = await asyncio.to_thread(self.postgres.start)

    async def stop_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.stop)

    async def start_redis(self) -> None:
        self.redis = EmbeddedRedis(self.root / "redis", socket_path=self.root / "redis.sock")
        self.redis_url = await asyncio.to_thread(self.redis.start)

    async def stop_redis(self) -> None:
        await asyncio.to_thread(self.redis.stop)


@pytest.fixture(scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OwnServers]:
    root = tmp_path_factory.mktemp("outages")
    own = OwnServers(root, EmbeddedPostgres(root / "postgres"), EmbeddedRedis(root / "redis"))
    await own.start_postgres()
    await own.start_redis()
    try:
        engine = create_engine(own.database_url, pool_size=1)
        await migrator.upgrade(engine)
        await engine.dispose()
        yield own
    finally:
        await own.stop_redis()
        await own.stop_postgres()


@pytest.fixture(scope="module")
async def app(servers: OwnServers) -> AsyncIterator[FastAPI]:
    settings = Settings(
        data_dir=servers.root / "data",
        database_url=servers.database_url,
        redis_url=servers.redis_url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        registrations_per_ip=100_000,
        login_attempts_per_ip=100_000,
        _env_file=None,
    )
    async with running_app(settings) as app:
        yield app


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client


def assert_unavailable(response: httpx.Response, part: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["type"] == "/problems/service-unavailable"
    assert body["part"] == part


async def log_in(api: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await api.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )


async def list_campaigns(api: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await api.get("/api/v1/campaigns", headers=account.headers)


async def create_campaign(api: httpx.AsyncClient, account: Account, name: str) -> httpx.Response:
    return await api.post(
        "/api/v1/campaigns",
        json={"name": name},
        headers={**account.headers, "Idempotency-Key": uuid.uuid4().hex},
    )


class TestRedisDown:
    async def test_requests_get_503_naming_the_cache_and_succeed_once_it_is_back(
        self, api: httpx.AsyncClient, servers: OwnServers
    ) -> None:
        account = await register(api)
        await servers.stop_redis()
        try:
            assert_unavailable(await log_in(api, account), "cache")
            assert_unavailable(await list_campaigns(api, account), "cache")
            assert_unavailable(await create_campaign(api, account, "while down"), "cache")
            health = await api.get("/healthz")
            assert health.status_code == 503
            assert health.json()["down"] == ["cache"]
        finally:
            await servers.start_redis()

        assert (await log_in(api, account)).status_code == 200
        assert (await list_campaigns(api, account)).status_code == 200
        assert (await create_campaign(api, account, "after")).status_code == 201
        assert (await api.get("/healthz")).status_code == 200


class TestPostgresDown:
    async def test_requests_get_503_naming_the_database_and_succeed_once_it_is_back(
        self, api: httpx.AsyncClient, servers: OwnServers
    ) -> None:
        account = await register(api)
        await servers.stop_postgres()
        try:
            # A lookup that failed is not a wrong password: never 401.
            assert_unavailable(await log_in(api, account), "database")
            assert_unavailable(await list_campaigns(api, account), "database")
            assert_unavailable(await create_campaign(api, account, "while down"), "database")
            health = await api.get("/healthz")
            assert health.status_code == 503
            assert health.json()["down"] == ["database"]
        finally:
            await servers.start_postgres()

        assert (await log_in(api, account)).status_code == 200
        assert (await list_campaigns(api, account)).status_code == 200
        assert (await create_campaign(api, account, "after")).status_code == 201
        assert (await api.get("/healthz")).status_code == 200


class TestLiveUpdatesWithoutRedis:
    async def test_sockets_are_told_to_come_back_later_and_can(
        self, api: httpx.AsyncClient, app: FastAPI, servers: OwnServers
    ) -> None:
        account = await register(api)
        async with serve_replica(app.state.resources.settings) as url:
            address = f"{url}?token={account.access_token}"
            async with websockets.connect(address) as socket:
                assert json.loads(await asyncio.wait_for(socket.recv(), 15))["type"] == "ready"
                await servers.stop_redis()
                try:
                    _, open_code, _ = await read_until_closed(socket)
                    async with websockets.connect(address) as newcomer:
                        _, new_code, reason = await read_until_closed(newcomer)
                finally:
                    await servers.start_redis()
            async with websockets.connect(address) as again:
                ready = json.loads(await asyncio.wait_for(again.recv(), 15))

        # 1013 "try again later", not a refused handshake or an internal error (1011).
        assert (open_code, new_code) == (1013, 1013)
        assert reason is not None and "try again later" in reason
        assert ready["type"] == "ready"


class TestActorsWait:
    async def test_a_discovery_job_meeting_an_outage_waits_for_the_database_not_fails(
        self,
        api: httpx.AsyncClient,
        app: FastAPI,
        servers: OwnServers,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        account = await register(api)
        workspace_id = uuid.UUID(account.workspace_id)
        async with app.state.resources.sessionmaker.begin() as session:
            jobs = DiscoveryJobRepository(session, workspace_id)
            job = await jobs.submit(query={"tags": ["techno"]}, created_by=None)
            # Cancelled: once it can read its row, the walk ends without scraping anything.
            await jobs.set_status(job.id, DiscoveryJobStatus.CANCELLED)
        walk = DiscoveryWalk(app.state.resources.settings, job.id, workspace_id)

        await servers.stop_postgres()
        try:
            running = asyncio.create_task(walk.run())
            async with asyncio.timeout(RECOVERY_SECONDS):
                while not any("resuming in" in r.getMessage() for r in caplog.records):
                    assert not running.done(), running.result()
                    await asyncio.sleep(0.05)
        finally:
            await servers.start_postgres()

        assert await asyncio.wait_for(running, RECOVERY_SECONDS) is DiscoveryJobStatus.CANCELLED


@dataclass
class Load:
    """Clients creating campaigns in a loop, and what they were told."""

    api: httpx.AsyncClient
    account: Account
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    async def client(self, number: int) -> None:
        round_ = 0
        while not self.stop.is_set():
            round_ += 1
            response = await create_campaign(self.api, self.account, f"load {number}-{round_}")
            self.statuses[response.status_code] += 1
            self.answered.set()
            if response.status_code == 201:
                self.acknowledged.append(response.json()["id"])
            elif response.status_code == 503:
                await asyncio.sleep(0.05)  # as a client honouring Retry-After would, but briefly
            else:
                self.unexpected.append(f"{response.status_code}: {response.text[:200]}")

    async def until(self, condition: str, check: Callable[[], bool]) -> None:
        try:
            async with asyncio.timeout(RECOVERY_SECONDS):
                while not check():
                    self.answered.clear()
                    await self.answered.wait()
        except TimeoutError:
            raise AssertionError(
                f"not within {RECOVERY_SECONDS:g} s: {condition} (answers so far: "
                f"{dict(self.statuses)}, {self.unexpected[:3]})"
            ) from None

    async def run_through(self, outage: Callable[[], Awaitable[None]]) -> None:
        """Clients running while ``outage()`` stops a server, waits and starts it again."""
        workers = [asyncio.create_task(self.client(n)) for n in range(CLIENTS)]
        try:
            await self.until("writes flow", lambda: len(self.acknowledged) >= 8)
            await outage()
            after = len(self.acknowledged)
            await self.until("writes resume", lambda: len(self.acknowledged) >= after + 8)
        finally:
            self.stop.set()
            await asyncio.gather(*workers)


async def stored_campaign_ids(database_url: str, ids: list[str]) -> set[str]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT id::text FROM campaigns WHERE id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": ids},
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


class TestUnderLoad:
    async def test_postgres_restarted_under_load_loses_no_acknowledged_write(
        self, api: httpx.AsyncClient, servers: OwnServers
    ) -> None:
        load = Load(api, await register(api))

        async def restart_postgres() -> None:
            await servers.stop_postgres()
            try:
                await load.until("the outage is seen", lambda: load.statuses[503] > 0)
            finally:
                await servers.start_postgres()

        await load.run_through(restart_postgres)

        assert load.unexpected == []
        assert set(load.statuses) <= {201, 503}
        assert load.statuses[503] > 0
        stored = await stored_campaign_ids(servers.database_url, load.acknowledged)
        assert stored == set(load.acknowledged)

    async def test_redis_restarted_under_load_degrades_to_503s_and_recovers(
        self, api: httpx.AsyncClient, servers: OwnServers
    ) -> None:
        load = Load(api, await register(api))

        async def restart_redis() -> None:
            await servers.stop_redis()
            try:
                await load.until("the outage is seen", lambda: load.statuses[503] > 0)
            finally:
                await servers.start_redis()

        await load.run_through(restart_redis)

        assert load.unexpected == []
        assert set(load.statuses) <= {201, 503}
        assert load.statuses[503] > 0
        stored = await stored_campaign_ids(servers.database_url, load.acknowledged)
        assert stored == set(load.acknowledged)
