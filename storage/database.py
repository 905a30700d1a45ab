"""The async engine and session factory for PostgreSQL (SQLAlchemy asyncio over asyncpg)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def async_database_url(url: str) -> str:
    """``postgresql://...`` (any driver suffix) as the ``postgresql+asyncpg://...`` URL that
    SQLAlchemy needs."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))


def create_engine(
    url: str, *, pool_size: int = 10, statement_seconds: float | None = None
) -> AsyncEngine:
    """An engine; ``statement_seconds`` bounds every statement (and any wait for a lock)
    of its sessions, for a long-running actor that must not wait forever on a held row."""
    server_settings = {"application_name": "campaign-manager"}
    if statement_seconds is not None:
        server_settings["statement_timeout"] = str(round(statement_seconds * 1000))
        server_settings["lock_timeout"] = str(round(statement_seconds * 1000))
    return create_async_engine(
        async_database_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def ping_database(engine: AsyncEngine) -> None:
    """Raise if PostgreSQL does not answer a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
