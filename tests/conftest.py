"""Session-wide real servers: embedded PostgreSQL and Redis and an S3-compatible server (moto),
each started once for the whole run in a temporary folder and stopped at the end."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import migrator
from storage.database import create_engine
from storage.embedded import EmbeddedPostgres, EmbeddedRedis


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
