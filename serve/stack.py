"""The local stack the CLI composes: the data folder, embedded PostgreSQL and Redis when no
external URL is set, and migrations. Everything it starts it stops, in reverse order."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from core.errors import ConfigurationError
from core.settings import Settings
from storage import migrator
from storage.database import create_engine, ping_database
from storage.embedded import EmbeddedPostgres, EmbeddedRedis, prepare_data_dir
from storage.object_store import build_object_store
from storage.redis_client import create_redis, ping_redis

CONNECT_TIMEOUT_SECONDS = 5.0


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class LocalStack:
    """Context manager making ``settings`` point at running, reachable servers (embedded ones
    started here when no URL is set), with the schema at head."""

    def __init__(
        self, settings: Settings, *, migrate: bool = True, for_service: bool = True
    ) -> None:
        self._given = settings
        self._migrate = migrate
        # Commands that only touch the database (migrate, user create) need no Redis or objects.
        self._for_service = for_service
        self._exit = ExitStack()
        self.settings = settings
        self.started: list[str] = []

    def __enter__(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._exit.close()

    def _start(self) -> None:
        settings = self._given
        prepare_data_dir(settings.data_dir)
        updates: dict[str, object] = {}
        if settings.uses_embedded_postgres:
            postgres = EmbeddedPostgres(settings.postgres_data_dir)
            self._exit.callback(postgres.stop)
            updates["database_url"] = postgres.start()
            self.started.append(f"PostgreSQL (embedded, data in {settings.postgres_data_dir})")
        if self._for_service and settings.uses_embedded_redis:
            redis = EmbeddedRedis(settings.redis_data_dir)
            self._exit.callback(redis.stop)
            updates["redis_url"] = redis.start()
            self.started.append(f"Redis (embedded, data in {settings.redis_data_dir})")
        if settings.secret_key is None:
            updates["secret_key"] = SecretStr(load_or_create_secret(settings.secret_key_file))
        self.settings = settings.model_copy(update=updates)
        asyncio.run(self._prepare())

    async def _prepare(self) -> None:
        settings = self.settings
        assert settings.database_url is not None
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            await _must_answer(
                "CM_DATABASE_URL",
                f"cannot connect to {redact(settings.database_url)}",
                ping_database(engine),
            )
            if self._migrate:
                await migrator.upgrade(engine)
        finally:
            await engine.dispose()
        if not self._for_service:
            return
        assert settings.redis_url is not None
        client = create_redis(settings.redis_url)
        try:
            await _must_answer(
                "CM_REDIS_URL",
                f"cannot connect to {redact(settings.redis_url)}",
                ping_redis(client),
            )
        finally:
            await client.aclose()
        store = build_object_store(settings)
        try:
            setting = "CM_S3_BUCKET" if settings.uses_s3 else "CM_DATA_DIR"
            await _must_answer(setting, "object store unusable", store.check())
        finally:
            await store.close()


async def _must_answer(setting: str, problem: str, probe: Awaitable[None]) -> None:
    """Await ``probe`` with a deadline; any failure becomes one line naming ``setting``."""
    try:
        await asyncio.wait_for(probe, CONNECT_TIMEOUT_SECONDS)
    except Exception as exc:
        raise ConfigurationError(setting, f"{problem} ({_reason(exc)})") from None


def load_or_create_secret(path: Path) -> str:
    """The signing key kept in the data folder, created (owner-readable only) on first use, so
    tokens stay valid across restarts without anyone having to configure a secret."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigurationError("CM_SECRET_KEY", f"the key in {path} is too short")
    return key


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_SECONDS:g}s"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
