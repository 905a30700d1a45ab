"""The per-process connections an app replica holds: PostgreSQL, Redis and the object store.

Created in the FastAPI lifespan (never at import time), so each Ray Serve replica opens its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.settings import Settings
from core.template_runner import RenderLimits, TemplateRunner
from storage.database import create_engine, create_sessionmaker
from storage.object_store import ObjectStore, build_object_store
from storage.redis_client import create_redis

# A request waits at most this long for PostgreSQL to answer one statement: a server that stops
# answering on an open connection costs a 503, not a request that never ends.
REQUEST_COMMAND_SECONDS = 30.0


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    object_store: ObjectStore
    # Child processes that render email templates; they start on first use.
    templates: TemplateRunner
    # CM_DATABASE_READ_URL's engine, which the sessionmaker's cached reads use (None: primary).
    read_engine: AsyncEngine | None = None

    @classmethod
    def open(cls, settings: Settings) -> Resources:
        """Build clients for the configured servers; nothing connects until first use."""
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError("resolve CM_DATABASE_URL and CM_REDIS_URL before opening resources")
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            command_seconds=REQUEST_COMMAND_SECONDS,
        )
        read_engine = None
        if settings.database_read_url is not None:
            read_engine = create_engine(
                settings.database_read_url,
                pool_size=settings.database_pool_size,
                command_seconds=REQUEST_COMMAND_SECONDS,
            )
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine, read_engine=read_engine),
            redis=create_redis(settings.redis_url),
            object_store=build_object_store(settings),
            templates=TemplateRunner(RenderLimits(seconds=settings.template_render_seconds)),
            read_engine=read_engine,
        )

    @property
    def secret_key(self) -> str:
        if self.settings.secret_key is None:
            raise ValueError("CM_SECRET_KEY must be resolved before serving")
        return self.settings.secret_key.get_secret_value()

    async def close(self) -> None:
        await self.templates.close()
        await self.object_store.close()
        await self.redis.aclose()
        await self.engine.dispose()
        if self.read_engine is not None:
            await self.read_engine.dispose()
