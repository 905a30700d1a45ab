"""Telling an outage of PostgreSQL or Redis from every other error, from the errors the drivers
really raise, and the waits between attempts while one lasts."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from storage.database import create_engine
from storage.outages import RetryBackoff, unavailable_part
from storage.redis_client import create_redis


async def raised_by(work: object) -> BaseException:
    try:
        await work  # type: ignore[misc]
    except BaseException as exc:
        return exc
    raise AssertionError("it did not fail")


class TestUnavailablePart:
    async def test_an_absent_database_server_is_the_database(self, tmp_path: Path) -> None:
        engine = create_engine(f"postgresql://nobody@/none?host={tmp_path}", pool_size=1)

        async def query() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        try:
            error = await raised_by(query())
        finally:
            await engine.dispose()

        # SQLAlchemy passes a failed connect on as the bare OSError the socket raised.
        assert isinstance(error, OSError)
        assert unavailable_part(error) == "database"

    async def test_an_absent_redis_server_is_the_cache(self, tmp_path: Path) -> None:
        redis = create_redis(f"unix://{tmp_path}/redis.sock")
        try:
            error = await raised_by(redis.ping())
        finally:
            await redis.aclose()

        assert unavailable_part(error) == "cache"

    def test_a_missing_file_elsewhere_is_no_outage(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError) as raised:
            (tmp_path / "missing").read_bytes()

        assert unavailable_part(raised.value) is None

    @pytest.mark.parametrize(
        ("error", "part"),
        [
            (sa_exc.OperationalError("SELECT 1", {}, Exception("server closed")), "database"),
            (sa_exc.TimeoutError("QueuePool limit reached"), "database"),
            (asyncpg.CannotConnectNowError("the database system is starting up"), "database"),
            (asyncpg.AdminShutdownError("terminating connection"), "database"),
            (sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")), None),
            (ValueError("not an outage"), None),
        ],
    )
    def test_driver_errors_by_kind(self, error: BaseException, part: str | None) -> None:
        assert unavailable_part(error) == part

    def test_an_error_raised_from_an_outage_is_one(self) -> None:
        def step() -> None:
            try:
                raise asyncpg.CannotConnectNowError("starting up")
            except asyncpg.PostgresError as cause:
                raise RuntimeError("the step failed") from cause

        with pytest.raises(RuntimeError) as raised:
            step()

        assert unavailable_part(raised.value) == "database"

    def test_an_outage_inside_an_exception_group_is_found(self) -> None:
        group = ExceptionGroup("tasks", [ValueError("x"), asyncpg.AdminShutdownError("down")])

        assert unavailable_part(group) == "database"


class TestRetryBackoff:
    def test_waits_grow_to_the_cap_and_start_over_after_a_quiet_spell(self) -> None:
        now = [0.0]
        backoff = RetryBackoff(base=1.0, cap=8.0, reset_after=60.0, clock=lambda: now[0])

        delays = []
        for _ in range(6):
            delays.append(backoff.next_delay())
            now[0] += 1.0
        now[0] += 61.0
        after_quiet = backoff.next_delay()

        ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
        assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
        assert 0.5 <= after_quiet <= 1.0
