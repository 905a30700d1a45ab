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


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    object_store: ObjectStore
    # Child processes that render email templates; they start on first use.
    templates: TemplateRunner

    @classmethod
    def open(cls, settings: Settings) -> Resources:
        """Build clients for the configured servers; nothing connects until first use."""
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError("resolve CM_DATABASE_URL and CM_REDIS_URL before opening resources")
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            redis=create_redis(settings.redis_url),
            object_store=build_object_store(settings),
            templates=TemplateRunner(RenderLimits(seconds=settings.template_render_seconds)),
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
