"""CM_DATABASE_READ_URL: the cached list and detail reads come from the read replica, writes
stay on the primary.

The "replica" is the session's embedded PostgreSQL reached as a role that can only read
(``default_transaction_read_only`` and SELECT grants only), so a write routed to it would fail;
what each engine sends is recorded with SQLAlchemy's cursor events, per request. A replica that
does not answer is an outage like the primary's: 503 with ``Retry-After``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from pydantic import ValidationError
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.settings import Settings
from tests.conftest import free_port
from tests.serve.conftest import client_of, register, running_app

pytestmark = pytest.mark.integration


def as_role(url: str, role: str) -> str:
    """``url`` logging in as ``role`` (the embedded server trusts its local socket)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


@pytest.fixture
async def reader_url(engine: AsyncEngine, database_url: str) -> AsyncIterator[str]:
    """A login role that can read every table and write none, and a URL that uses it."""
    role = f"cm_reader_{uuid.uuid4().hex[:8]}"
    database = urlsplit(database_url).path.lstrip("/")
    statements = [
        f"CREATE ROLE {role} LOGIN",
        f"ALTER ROLE {role} SET default_transaction_read_only = on",
        f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    ]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    yield as_role(database_url, role)
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP OWNED BY {role}"))
        await connection.execute(text(f"DROP ROLE {role}"))


class Statements:
    """The SQL an engine sends, recorded by SQLAlchemy's own cursor event."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.seen: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.seen.append(" ".join(statement.split()))

    def take(self) -> list[str]:
        """What was sent since the last take."""
        taken, self.seen = self.seen, []
        return taken


def selects_from(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and f" FROM {table} " in f"{s} "]


def writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]


class TestReadsFromTheReplica:
    async def test_lists_and_details_come_from_the_replica_and_writes_from_the_primary(
        self, app_settings: Settings, reader_url: str
    ) -> None:
        settings = app_settings.model_copy(update={"database_read_url": reader_url})
        async with running_app(settings) as app, client_of(app) as api:
            resources = app.state.resources
            async with resources.read_engine.connect() as connection:
                assert await connection.scalar(text("SELECT current_user")) == (
                    urlsplit(reader_url).username  # the read-only role
                )
            replica, primary = Statements(resources.read_engine), Statements(resources.engine)
            owner = await register(api)

            async def sent(
                method: str, url: str, **kwargs: Any
            ) -> tuple[Any, list[str], list[str]]:
                """The answer, and what the replica and the primary were sent for it."""
                replica.take(), primary.take()
                response = await api.request(method, url, headers=owner.headers, **kwargs)
                assert response.status_code in {200, 201}, response.text
                return response.json(), replica.take(), primary.take()

            body = {"name": "Replica release", "budget_minor": 1_000, "currency": "EUR"}
            created, on_replica, on_primary = await sent("POST", "/api/v1/campaigns", json=body)
            assert on_replica == []
            assert [s for s in writes(on_primary) if s.startswith("INSERT INTO campaigns")]

            listed, on_replica, on_primary = await sent("GET", "/api/v1/campaigns")
            assert [c["name"] for c in listed["items"]] == ["Replica release"]
            assert selects_from(on_replica, "campaigns")
            assert selects_from(on_primary, "campaigns") == []

            one, on_replica, on_primary = await sent("GET", f"/api/v1/campaigns/{created['id']}")
            assert one["name"] == "Replica release"
            assert selects_from(on_replica, "campaigns")
            assert selects_from(on_primary, "campaigns") == []

            _, on_replica, on_primary = await sent("GET", "/api/v1/artists?limit=5")
            assert selects_from(on_replica, "artists")
            assert selects_from(on_primary, "artists") == []

            # A write after reads: the primary (the read-only role would refuse it), and the
            # next read sees it.
            url = f"/api/v1/campaigns/{created['id']}"
            _, on_replica, on_primary = await sent("PATCH", url, json={"name": "Renamed"})
            assert on_replica == []
            assert [s for s in writes(on_primary) if s.startswith("UPDATE campaigns")]
            relisted, _, _ = await sent("GET", "/api/v1/campaigns")
            assert [c["name"] for c in relisted["items"]] == ["Renamed"]

    async def test_without_a_read_url_the_cached_reads_use_the_primary(
        self, app_settings: Settings
    ) -> None:
        assert app_settings.database_read_url is None
        async with running_app(app_settings) as app, client_of(app) as api:
            primary = Statements(app.state.resources.engine)
            owner = await register(api)
            primary.take()
            listed = await api.get("/api/v1/campaigns", headers=owner.headers)

        assert listed.status_code == 200, listed.text
        assert app.state.resources.read_engine is None
        assert selects_from(primary.take(), "campaigns")


class TestReplicaDown:
    async def test_a_read_replica_that_does_not_answer_gives_503_and_writes_still_work(
        self, app_settings: Settings
    ) -> None:
        # Nothing listens there: every connection to the replica is refused.
        down = f"postgresql://reader@127.0.0.1:{free_port()}/campaign_manager_test"
        settings = app_settings.model_copy(update={"database_read_url": down})
        async with running_app(settings) as app, client_of(app) as api:
            owner = await register(api)
            created = await api.post(
                "/api/v1/campaigns",
                json={"name": "Written anyway", "budget_minor": 1_000, "currency": "EUR"},
                headers=owner.headers,
            )
            assert created.status_code == 201, created.text

            listed = await api.get("/api/v1/campaigns", headers=owner.headers)

        # The outage mapping of serve/problems.py: a replica that is down is the database.
        assert listed.status_code == 503, listed.text
        assert listed.headers["content-type"] == "application/problem+json"
        assert listed.json()["type"] == "/problems/service-unavailable"
        assert "retry-after" in listed.headers


class TestSetting:
    def test_a_read_url_without_a_primary_is_refused(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.delenv("CM_DATABASE_URL", raising=False)

        with pytest.raises(ValidationError, match="CM_DATABASE_READ_URL needs CM_DATABASE_URL"):
            Settings(
                data_dir=tmp_path,
                database_read_url="postgresql://reader@replica.internal/cm",
                _env_file=None,
            )
