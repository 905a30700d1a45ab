"""Who a request comes from, and the limits on logging in and signing up that rest on it;
credentials are never replayed from the idempotency store; role messages read correctly."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.settings import Settings, proxy_networks
from serve.app import build_app
from serve.security import client_address
from tests.serve.conftest import Account, join, register

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
WRONG = "wrong password"

ClientFor = Callable[[str], httpx.AsyncClient]


def an_address() -> str:
    """A private address no other test uses, so the limits it counts are this test's own."""
    return ".".join(["10", *(str(random.randrange(1, 255)) for _ in range(3))])


async def strict_app(
    stack: AsyncExitStack, app_settings: Settings, tmp_path: Path, **limits: Any
) -> ClientFor:
    """The app in-process with the given settings; returns a maker of clients that each
    connect from their own address."""
    app: FastAPI = build_app(app_settings.model_copy(update={"data_dir": tmp_path, **limits}))
    await stack.enter_async_context(app.router.lifespan_context(app))

    def client_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30)

    return client_from


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


async def log_in(client: httpx.AsyncClient, account: Account, password: str, **headers: str) -> int:
    response = await client.post(
        LOGIN, json={"email": account.email, "password": password}, headers=headers
    )
    return response.status_code


def scope(peer: str, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 1234), "headers": headers}


class TestClientAddress:
    def test_without_trusted_proxies_the_header_is_ignored(self) -> None:
        assert client_address(scope("203.0.113.9", "198.51.100.1"), ()) == "203.0.113.9"

    def test_a_peer_that_is_not_a_trusted_proxy_cannot_choose_its_address(self) -> None:
        trusted = proxy_networks("10.0.0.0/8")
        assert client_address(scope("203.0.113.9", "10.1.2.3"), trusted) == "203.0.113.9"

    def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client(self) -> None:
        trusted = proxy_networks("10.0.0.5")
        # The client wrote "1.2.3.4" itself; the proxy appended what it saw.
        request = scope("10.0.0.5", "1.2.3.4, 198.51.100.7")
        assert client_address(request, trusted) == "198.51.100.7"

    def test_a_chain_of_trusted_proxies_is_walked_from_the_right(self) -> None:
        trusted = proxy_networks("10.0.0.0/8, 2001:db8::/32")
        request = scope("10.0.0.5", "1.2.3.4, 198.51.100.7:5555", "[2001:db8::1]:443, 10.0.0.9")
        assert client_address(request, trusted) == "198.51.100.7"

    def test_a_trusted_proxy_without_the_header_is_the_client(self) -> None:
        assert client_address(scope("10.0.0.5"), proxy_networks("10.0.0.5")) == "10.0.0.5"


class TestForwardedForFromUntrustedClients:
    async def test_rotating_forwarded_for_over_serve_still_reaches_the_limit(
        self, api: httpx.AsyncClient
    ) -> None:
        # Serve's proxy must not rewrite the address from the header (FORWARDED_ALLOW_IPS is
        # empty): otherwise each attempt counts for a new address and none is ever refused.
        account = await register(api, name="Rotating")
        statuses = [
            await log_in(api, account, WRONG, **{"X-Forwarded-For": an_address()}) for _ in range(6)
        ]
        assert statuses == [401] * 5 + [429]  # login_attempts_per_account=5 in app_settings

    async def test_only_a_trusted_proxy_decides_the_address(
        self, stack: AsyncExitStack, app_settings: Settings, tmp_path: Path
    ) -> None:
        proxy = an_address()
        client_from = await strict_app(
            stack, app_settings, tmp_path, login_attempts_per_ip=2, trusted_proxies=proxy
        )
        account = await register(client_from(an_address()))
        via_proxy = client_from(proxy)
        first, second = an_address(), an_address()
        statuses = [
            await log_in(
                via_proxy, account, WRONG, **{"X-Forwarded-For": f"{an_address()}, {first}"}
            )
            for _ in range(3)
        ]
        assert statuses == [401, 401, 429]
        # Another client behind the same proxy has its own allowance.
        assert await log_in(via_proxy, account, WRONG, **{"X-Forwarded-For": second}) == 401
        # A client that is not the proxy cannot borrow one either.
        direct = client_from(an_address())
        assert await log_in(direct, account, WRONG, **{"X-Forwarded-For": second}) == 401
        assert await log_in(direct, account, WRONG, **{"X-Forwarded-For": second}) == 401
        assert await log_in(direct, account, WRONG, **{"X-Forwarded-For": an_address()}) == 429


class TestLoginLimitsCountFailuresOnly:
    async def test_correct_logins_are_never_refused(
        self, stack: AsyncExitStack, app_settings: Settings, tmp_path: Path
    ) -> None:
        client_from = await strict_app(
            stack,
            app_settings,
            tmp_path,
            login_attempts_per_ip=3,
            login_attempts_per_account=3,
            login_failures_per_account_total=3,
        )
        client = client_from(an_address())
        account = await register(client)
        assert [await log_in(client, account, account.password) for _ in range(8)] == [200] * 8

    async def test_failures_lock_the_address_not_the_owner(
        self, stack: AsyncExitStack, app_settings: Settings, tmp_path: Path
    ) -> None:
        client_from = await strict_app(stack, app_settings, tmp_path, login_attempts_per_account=3)
        owner_client, attacker = client_from(an_address()), client_from(an_address())
        account = await register(owner_client)
        statuses = [await log_in(attacker, account, WRONG) for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert await log_in(attacker, account, account.password) == 429
        assert await log_in(owner_client, account, account.password) == 200

    async def test_failures_from_many_addresses_meet_the_account_ceiling(
        self, stack: AsyncExitStack, app_settings: Settings, tmp_path: Path
    ) -> None:
        client_from = await strict_app(
            stack,
            app_settings,
            tmp_path,
            login_attempts_per_account=100,
            login_failures_per_account_total=4,
        )
        account = await register(client_from(an_address()))
        statuses = [await log_in(client_from(an_address()), account, WRONG) for _ in range(5)]
        assert statuses == [401] * 4 + [429]
        refused = await client_from(an_address()).post(
            LOGIN, json={"email": account.email, "password": WRONG}
        )
        assert refused.json()["detail"] == "too many failed logins for this account"


class TestRegistrationLimit:
    async def test_sign_ups_from_one_address_are_limited(
        self, stack: AsyncExitStack, app_settings: Settings, tmp_path: Path
    ) -> None:
        client_from = await strict_app(stack, app_settings, tmp_path, registrations_per_ip=2)
        client = client_from(an_address())
        await register(client)
        await register(client)
        refused = await client.post(
            "/api/v1/auth/register",
            json={
                "email": f"third-{uuid.uuid4().hex[:8]}@label.example",
                "password": "long enough",
            },
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        await register(client_from(an_address()))  # another address has its own allowance


class TestCredentialsAreNeverReplayed:
    async def test_a_refresh_retried_with_the_same_key_is_a_reuse(
        self, local_api: httpx.AsyncClient
    ) -> None:
        account = await register(local_api)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        body = {"refresh_token": account.refresh_token}
        first = await local_api.post(REFRESH, json=body, headers=headers)
        assert first.status_code == 200, first.text
        again = await local_api.post(REFRESH, json=body, headers=headers)
        assert again.status_code == 401
        assert "idempotent-replayed" not in again.headers
        # The reuse revoked the whole family, the pair the first answer gave included.
        successor = {"refresh_token": first.json()["refresh_token"]}
        assert (await local_api.post(REFRESH, json=successor)).status_code == 401

    async def test_a_login_retried_with_the_same_key_gets_fresh_tokens(
        self, local_api: httpx.AsyncClient
    ) -> None:
        account = await register(local_api)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        body = {"email": account.email, "password": account.password}
        first = await local_api.post(LOGIN, json=body, headers=headers)
        second = await local_api.post(LOGIN, json=body, headers=headers)
        assert first.status_code == second.status_code == 200
        assert first.json()["refresh_token"] != second.json()["refresh_token"]


class TestRoleMessages:
    @pytest.mark.parametrize(("role", "article"), [("editor", "an"), ("viewer", "a")])
    async def test_a_refusal_names_the_role_with_its_article(
        self, local_api: httpx.AsyncClient, role: str, article: str
    ) -> None:
        owner = await register(local_api)
        member = await join(local_api, owner, role)
        response = await local_api.post(
            "/api/v1/invitations",
            json={"email": "someone@label.example", "role": "viewer"},
            headers=member.headers,
        )
        assert response.status_code == 403
        assert response.json()["detail"].startswith(f"{article} {role} cannot ")
        assert "the admin role" in response.json()["detail"]
