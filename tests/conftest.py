"""Session-wide real servers: embedded PostgreSQL and Redis and an S3-compatible server (moto),
each started once for the whole run in a temporary folder and stopped at the end; the
SoundCloud fixture site, one Ray instance and one Serve deployment of the app (the API tests
and the browser tests share them)."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite
from storage import migrator
from storage.database import create_engine
from storage.embedded import EmbeddedPostgres, EmbeddedRedis

if TYPE_CHECKING:
    from ray.cluster_utils import Cluster


# `make test` runs the suite in two processes (pytest-xdist, `--dist loadgroup`): the tests that
# use the session's Ray and its Serve deployment (tests/serve, tests/e2e) all in one of them, so
# Ray starts once, and the rest (unit, integration, and the CLI's subprocesses, which start Rays
# of their own) in the other, alongside. Run alone, pytest ignores the groups.
RAY_GROUP = {"serve", "e2e"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.relative_to(here).parts[0] in RAY_GROUP:
            item.add_marker(pytest.mark.xdist_group("ray"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def postgres_url(servers_dir: Path) -> Iterator[str]:
    """URL of the embedded server's maintenance database ``postgres``."""
    server = EmbeddedPostgres(servers_dir / "postgres")
    url = server.start()
    yield url
    server.stop()


def database_url_for(postgres_url: str, name: str) -> str:
    return postgres_url.replace("/postgres?", f"/{name}?", 1)


async def create_database(postgres_url: str, name: str) -> str:
    """Create an empty database ``name`` (dropping any old one) and return its URL."""
    admin = create_engine(postgres_url, pool_size=1)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return database_url_for(postgres_url, name)


@pytest.fixture(scope="session")
async def database_url(postgres_url: str) -> str:
    """A database built by ``alembic upgrade head``, shared by the session."""
    url = await create_database(postgres_url, "campaign_manager_test")
    engine = create_engine(url, pool_size=1)
    await migrator.upgrade(engine)
    await engine.dispose()
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test; the code under
    test may commit or use savepoints freely."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture(scope="session")
def redis_url(servers_dir: Path) -> Iterator[str]:
    server = EmbeddedRedis(servers_dir / "redis")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto in server mode) on loopback."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
async def soundcloud_site() -> AsyncIterator[FixtureSite]:
    """The SoundCloud-shaped fixture site the app's discovery jobs walk (2,000 artists)."""
    async with FixtureSite(FixtureGraph(artists=2000, seed=11)) as site:
        yield site


def fixture_site_settings(site: FixtureSite) -> dict[str, object]:
    """Settings that point discovery at a fixture site, unpaced."""
    return {
        "soundcloud_web_url": site.web_url,
        "soundcloud_api_url": site.api_url,
        "soundcloud_link_in_bio_hosts": urlsplit(site.links_url).netloc,
        "soundcloud_requests_per_second": 0,
        "link_in_bio_requests_per_second": 0,
    }


@pytest.fixture(scope="session")
def app_settings(
    database_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    soundcloud_site: FixtureSite,
) -> Settings:
    return Settings(
        **fixture_site_settings(soundcloud_site),  # type: ignore[arg-type]
        data_dir=tmp_path_factory.mktemp("app-data"),
        database_url=database_url,
        redis_url=redis_url,
        serve_replica_cpus=0.25,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        login_attempts_per_ip=100_000,
        login_attempts_per_account=5,
        registrations_per_ip=100_000,
        # Far above what a hostile template's memory bound takes on a loaded machine, so the
        # bound a test expects is the one met first.
        template_render_seconds=5,
        # Tests aim jobs at sites of their own, each with a pool of its own: let those go soon.
        scraper_idle_seconds=10,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Cluster]:
    """The session's one Ray: the head node of a ``ray.cluster_utils.Cluster`` (2 CPUs, no
    dashboard, on loopback), so that a test can add a worker node and remove it again
    (tests/serve/test_multi_node.py). Every other test sees one node, as with ``ray.init``."""
    import ray
    from ray.cluster_utils import Cluster

    from serve.runner import RAY_PROXY_ENVIRONMENT, local_ray_on_loopback

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Ray's processes report their metrics every second instead of every 10 s, so that a value
    # an actor recorded shows on /metrics a moment later (tests/serve/test_metrics.py).
    os.environ.setdefault("RAY_metrics_report_interval_ms", "1000")
    os.environ.update(RAY_PROXY_ENVIRONMENT)  # as `campaign-manager serve` starts Ray
    local_ray_on_loopback()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 2,
            "include_dashboard": False,
            "object_store_memory": 128 * 1024 * 1024,
        },
    )
    forget_cluster_address(cluster.address)
    ray.init(address=cluster.address, log_to_driver=False, namespace="campaign-manager-tests")
    yield cluster
    from ray import serve as ray_serve

    ray_serve.shutdown()  # type: ignore[no-untyped-call]
    ray.shutdown()
    # Not cluster.shutdown(): that also deletes the machine's "latest cluster" file, whoever
    # wrote it.
    for node in [*cluster.worker_nodes, cluster.head_node]:
        if node is not None:
            cluster.remove_node(node)


def forget_cluster_address(address: str) -> None:
    """Undo ``Cluster``'s note of its address in /tmp/ray/ray_current_cluster, which would make
    every ``ray.init()`` without an address on this machine (another test run's, say) join this
    session's Ray instead of starting its own."""
    from ray._common.utils import get_ray_address_file

    note = Path(get_ray_address_file(None))
    try:
        if note.read_text() == address:
            note.unlink()
    except OSError:
        pass


@pytest.fixture(scope="session")
def served_url(ray_cluster: None, app_settings: Settings) -> Iterator[str]:
    """Base URL of the API running on Ray Serve (Serve's HTTP proxy on a free loopback port)."""
    from ray import serve as ray_serve

    from serve.deployment import APP_NAME, build_application

    port = free_port()
    ray_serve.start(http_options={"host": "127.0.0.1", "port": port})
    ray_serve.run(build_application(app_settings), name=APP_NAME, route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    ray_serve.delete(APP_NAME)
