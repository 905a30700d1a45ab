"""Rate limits (429 with Retry-After) and Idempotency-Key retries."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from serve.app import build_app
from tests.serve.conftest import Account, register


@pytest.fixture
async def strict_api(app_settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process with tiny limits (its own Redis namespace is the same server, so the
    keys it counts are its own tokens and addresses)."""
    settings = app_settings.model_copy(
        update={
            "requests_per_token": 3,
            "login_attempts_per_ip": 4,
            "login_attempts_per_account": 100,
            "data_dir": tmp_path,
        }
    )
    app = build_app(settings)
    transport = httpx.ASGITransport(app=app, client=(f"10.9.{uuid.uuid4().int % 250}.7", 1234))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


class TestRateLimits:
    async def test_requests_beyond_the_per_token_limit_are_429(
        self, strict_api: httpx.AsyncClient
    ) -> None:
        account = await register(strict_api)
        statuses = [
            (await strict_api.get("/api/v1/campaigns", headers=account.headers)).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        refused = await strict_api.get("/api/v1/campaigns", headers=account.headers)
        assert 1 <= int(refused.headers["retry-after"]) <= 60

    async def test_a_fresh_token_has_its_own_allowance(self, strict_api: httpx.AsyncClient) -> None:
        account = await register(strict_api)
        for _ in range(3):
            await strict_api.get("/api/v1/me", headers=account.headers)
        tokens = (
            await strict_api.post(
                "/api/v1/auth/login", json={"email": account.email, "password": account.password}
            )
        ).json()
        again = await strict_api.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert again.status_code == 200

    async def test_login_attempts_from_one_address_are_limited_across_accounts(
        self, strict_api: httpx.AsyncClient
    ) -> None:
        statuses = [
            (
                await strict_api.post(
                    "/api/v1/auth/login",
                    json={"email": f"u{n}@label.example", "password": "wrong password"},
                )
            ).status_code
            for n in range(5)
        ]
        assert statuses == [401, 401, 401, 401, 429]


class TestIdempotency:
    async def test_a_retried_create_returns_the_first_answer_and_creates_once(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        headers = {**owner.headers, "Idempotency-Key": str(uuid.uuid4())}
        body = {"name": "Retried launch", "budget_minor": 1000}
        first = await api.post("/api/v1/campaigns", json=body, headers=headers)
        second = await api.post("/api/v1/campaigns", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        listed = (await api.get("/api/v1/campaigns?q=Retried", headers=owner.headers)).json()[
            "items"
        ]
        assert len(listed) == 1

    async def test_concurrent_duplicates_create_once(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        headers = {**owner.headers, "Idempotency-Key": str(uuid.uuid4())}
        body = {"name": "Racing launch"}
        responses = await asyncio.gather(
            *(api.post("/api/v1/campaigns", json=body, headers=headers) for _ in range(5))
        )
        assert sorted({r.status_code for r in responses}) in ([201], [201, 409])
        listed = (await api.get("/api/v1/campaigns?q=Racing", headers=owner.headers)).json()[
            "items"
        ]
        assert len(listed) == 1

    async def test_the_same_key_with_another_body_is_refused(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        headers = {**owner.headers, "Idempotency-Key": str(uuid.uuid4())}
        await api.post("/api/v1/campaigns", json={"name": "One"}, headers=headers)
        other = await api.post("/api/v1/campaigns", json={"name": "Two"}, headers=headers)
        assert other.status_code == 422
        assert other.json()["errors"][0]["field"] == "Idempotency-Key"

    async def test_keys_are_per_caller(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        key = str(uuid.uuid4())
        mine = await api.post(
            "/api/v1/campaigns",
            json={"name": "Mine"},
            headers={**owner.headers, "Idempotency-Key": key},
        )
        theirs = await api.post(
            "/api/v1/campaigns",
            json={"name": "Mine"},
            headers={**stranger.headers, "Idempotency-Key": key},
        )
        assert theirs.status_code == 201
        assert theirs.json()["id"] != mine.json()["id"]
        assert "idempotent-replayed" not in theirs.headers

    async def test_a_failed_request_is_not_replayed_when_the_fix_is_retried(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        headers = {**owner.headers, "Idempotency-Key": str(uuid.uuid4())}
        # 4xx answers are stored too: a retry of the same bad request gets the same 422.
        bad = await api.post("/api/v1/campaigns", json={"name": ""}, headers=headers)
        again = await api.post("/api/v1/campaigns", json={"name": ""}, headers=headers)
        assert bad.status_code == again.status_code == 422
        assert again.headers["idempotent-replayed"] == "true"

    async def test_an_overlong_key_names_the_header(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await api.post(
            "/api/v1/campaigns",
            json={"name": "x"},
            headers={**owner.headers, "Idempotency-Key": "k" * 300},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "Idempotency-Key"
