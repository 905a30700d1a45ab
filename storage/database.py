"""The async engine and session factory for PostgreSQL (SQLAlchemy asyncio over asyncpg), and
the routing of cached reads to a read replica (``CM_DATABASE_READ_URL``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from core import telemetry

# Set only around the loads of cached reads (serve/reads.py): statements run in that context go
# to the read engine of a session that has one; everything else stays on the primary.
_replica_reads: ContextVar[bool] = ContextVar("cm_replica_reads", default=False)
_READ_ENGINE = "cm_read_engine"


def async_database_url(url: str) -> str:
    """``postgresql://...`` (any driver suffix) as the ``postgresql+asyncpg://...`` URL that
    SQLAlchemy needs."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))


# A server that is down or unreachable fails a connection attempt within this (asyncpg's own
# default is 60 s), so a request answers 503 instead of hanging.
CONNECT_TIMEOUT_SECONDS = 5.0
# The longest a caller waits for a pooled connection when all of them are in use.
POOL_TIMEOUT_SECONDS = 10.0
# What a statement may take, the answer included, when the server stops answering on an open
# connection (a frozen host, a dropped route): the client gives up after ``statement_seconds``
# plus this margin, so the server's own timeout is the one normally met.
COMMAND_MARGIN_SECONDS = 5.0


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    statement_seconds: float | None = None,
    command_seconds: float | None = None,
) -> AsyncEngine:
    """An engine; ``statement_seconds`` bounds every statement (and any wait for a lock)
    of its sessions, for a long-running actor that must not wait forever on a held row.

    ``command_seconds`` bounds, on the client, the wait for each statement's answer (it
    defaults to ``statement_seconds`` plus a margin; without either, only connecting is
    bounded, as migrations need). A pooled connection is pinged before reuse, so connections
    that died with a restarted server are replaced without failing anyone's request.
    """
    server_settings = {"application_name": "campaign-manager"}
    if statement_seconds is not None:
        server_settings["statement_timeout"] = str(round(statement_seconds * 1000))
        server_settings["lock_timeout"] = str(round(statement_seconds * 1000))
        if command_seconds is None:
            command_seconds = statement_seconds + COMMAND_MARGIN_SECONDS
    connect_args: dict[str, Any] = {
        "server_settings": server_settings,
        "timeout": CONNECT_TIMEOUT_SECONDS,
    }
    if command_seconds is not None:
        connect_args["command_timeout"] = command_seconds
    engine = create_async_engine(
        async_database_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args=connect_args,
    )
    telemetry.instrument_engine(engine)  # SQL spans, in a process that traces
    return engine


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside, sessions made by a sessionmaker with a ``read_engine`` read from it.

    A read replica may trail the primary by its replication lag, so only reads that tolerate
    that belong here (the cached list and detail reads); a session without a read engine, or
    one flushing writes, keeps using the primary.
    """
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRoutingSession(Session):
    """A session bound to the primary that sends statements run inside :func:`replica_reads`
    to the read engine in its ``info`` (SQLAlchemy's documented ``get_bind`` routing)."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> Engine | Connection:
        read_engine: AsyncEngine | None = self.info.get(_READ_ENGINE)
        if read_engine is not None and _replica_reads.get() and not self._flushing:
            return read_engine.sync_engine
        return super().get_bind(mapper, **kw)


def create_sessionmaker(
    engine: AsyncEngine, *, read_engine: AsyncEngine | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; with ``read_engine``, those inside :func:`replica_reads` read
    from it (a read replica), in a connection of their own within the session's transaction."""
    if read_engine is None:
        return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=ReplicaRoutingSession,
        info={_READ_ENGINE: read_engine},
    )


async def ping_database(engine: AsyncEngine) -> None:
    """Raise if PostgreSQL does not answer a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
