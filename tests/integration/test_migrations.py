"""Migrations build the whole schema from nothing and take it all away again."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrator
from storage.database import create_engine
from storage.models import Base
from tests.conftest import create_database


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


class TestUpgradeAndDowngrade:
    async def test_upgrade_creates_every_model_table_and_downgrade_removes_them(
        self, postgres_url: str
    ) -> None:
        engine = create_engine(
            await create_database(postgres_url, "migrations_roundtrip"), pool_size=1
        )
        try:
            await migrator.upgrade(engine)
            assert await migrator.current_revision(engine) == migrator.head_revision()
            assert set(Base.metadata.tables) <= await table_names(engine)

            await migrator.downgrade(engine, "base")
            assert await migrator.current_revision(engine) is None
            assert await table_names(engine) <= {"alembic_version"}

            await migrator.upgrade(engine)
            assert set(Base.metadata.tables) <= await table_names(engine)
        finally:
            await engine.dispose()

    async def test_schema_after_upgrade_matches_the_models(self, database_url: str) -> None:
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                diff = await connection.run_sync(
                    lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
                )
        finally:
            await engine.dispose()
        assert diff == [], f"models and migrations disagree: {diff}"

    async def test_upgrade_is_a_no_op_when_already_at_head(self, database_url: str) -> None:
        engine = create_engine(database_url, pool_size=1)
        try:
            await migrator.upgrade(engine)
            async with engine.connect() as connection:
                count = await connection.scalar(text("SELECT count(*) FROM alembic_version"))
            assert count == 1
        finally:
            await engine.dispose()
