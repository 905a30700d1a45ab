"""Spending against budget on campaign reads, kept fresh by every transaction write, and the one
write that takes a campaign over its budget told as an analytics event and a live event."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.enums import TransactionType
from storage.activity import Activity
from storage.budgets import BudgetWatch
from storage.database import create_sessionmaker
from storage.events import EventSubscription
from storage.redis_client import create_redis
from storage.repositories.campaigns import Spending
from storage.repositories.transactions import TransactionRepository
from tests.serve.conftest import Account, register, workspace_events

CAMPAIGNS = "/api/v1/campaigns"
TRANSACTIONS = "/api/v1/transactions"
OVER = "campaign.over_budget"


@pytest.fixture
async def owner(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api)


async def new_campaign(
    api: httpx.AsyncClient, who: Account, budget_minor: int = 10_000, currency: str = "EUR"
) -> str:
    response = await api.post(
        CAMPAIGNS,
        json={"name": "Tour", "budget_minor": budget_minor, "currency": currency},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    assert (response.json()["spent_minor"], response.json()["over_budget"]) == (0, False)
    return str(response.json()["id"])


async def spend(
    api: httpx.AsyncClient, who: Account, campaign_id: str | None, amount: int, **fields: object
) -> str:
    body = {
        "type": "expense",
        "amount_minor": amount,
        "currency": "EUR",
        "occurred_on": "2026-11-01",
        "campaign_id": campaign_id,
        **fields,
    }
    response = await api.post(TRANSACTIONS, json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def spent(api: httpx.AsyncClient, who: Account, campaign_id: str) -> tuple[int, bool]:
    """(spent_minor, over_budget) as one campaign's read says, then as the list says."""
    one = await api.get(f"{CAMPAIGNS}/{campaign_id}", headers=who.headers)
    assert one.status_code == 200, one.text
    listed = await api.get(CAMPAIGNS, headers=who.headers)
    [item] = [c for c in listed.json()["items"] if c["id"] == campaign_id]
    assert (item["spent_minor"], item["over_budget"]) == (
        one.json()["spent_minor"],
        one.json()["over_budget"],
    )
    return one.json()["spent_minor"], one.json()["over_budget"]


async def over_budget_events(
    api: httpx.AsyncClient, who: Account, campaign_id: str
) -> list[dict[str, Any]]:
    response = await api.get(
        "/api/v1/analytics/events",
        params={"event_type": OVER, "entity_id": campaign_id},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestSpendOnTheCampaignRead:
    async def test_expenses_of_the_campaign_in_its_currency_count_and_reads_stay_fresh(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(local_api, owner)
        other = await new_campaign(local_api, owner)
        # Read (and cache) both reads before any money moves.
        assert await spent(local_api, owner, campaign_id) == (0, False)

        await spend(local_api, owner, campaign_id, 6_000)
        assert await spent(local_api, owner, campaign_id) == (6_000, False)

        await spend(local_api, owner, campaign_id, 50_000, type="income")
        await spend(local_api, owner, campaign_id, 9_000, currency="USD")  # not converted
        await spend(local_api, owner, other, 9_000)
        await spend(local_api, owner, None, 9_000)
        assert await spent(local_api, owner, campaign_id) == (6_000, False)
        assert await spent(local_api, owner, other) == (9_000, False)

        extra = await spend(local_api, owner, campaign_id, 4_001)
        assert await spent(local_api, owner, campaign_id) == (10_001, True)

        fixed = await local_api.patch(
            f"{TRANSACTIONS}/{extra}", json={"amount_minor": 4_000}, headers=owner.headers
        )
        assert fixed.status_code == 200, fixed.text
        assert await spent(local_api, owner, campaign_id) == (10_000, False)  # at budget: within

        assert (
            await local_api.delete(f"{TRANSACTIONS}/{extra}", headers=owner.headers)
        ).status_code == 204
        assert await spent(local_api, owner, campaign_id) == (6_000, False)

    async def test_the_campaign_answers_of_writes_carry_the_spend(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(local_api, owner)
        await spend(local_api, owner, campaign_id, 3_000)
        lowered = await local_api.patch(
            f"{CAMPAIGNS}/{campaign_id}", json={"budget_minor": 2_000}, headers=owner.headers
        )
        assert (lowered.json()["spent_minor"], lowered.json()["over_budget"]) == (3_000, True)
        moved = await local_api.post(
            f"{CAMPAIGNS}/{campaign_id}/status", json={"status": "active"}, headers=owner.headers
        )
        assert (moved.json()["spent_minor"], moved.json()["over_budget"]) == (3_000, True)

    async def test_without_a_budget_nothing_is_over_it(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(local_api, owner, budget_minor=0)
        await spend(local_api, owner, campaign_id, 100_000)
        assert await spent(local_api, owner, campaign_id) == (100_000, False)
        assert await over_budget_events(local_api, owner, campaign_id) == []

    async def test_another_workspace_cannot_see_or_move_the_spend(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(local_api, owner)
        stranger = await register(local_api, name="Stranger")
        refused = await local_api.post(
            TRANSACTIONS,
            json={
                "type": "expense",
                "amount_minor": 20_000,
                "currency": "EUR",
                "occurred_on": "2026-11-01",
                "campaign_id": campaign_id,
            },
            headers=stranger.headers,
        )
        assert refused.status_code == 404
        assert await spent(local_api, owner, campaign_id) == (0, False)


@pytest.fixture
async def live(redis_url: str, owner: Account) -> AsyncIterator[EventSubscription]:
    async with workspace_events(redis_url, owner) as events:
        yield events


async def next_of_type(events: EventSubscription, event_type: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        async for event in events:
            if event["type"] == event_type:
                return event
    raise AssertionError(f"the event stream ended before {event_type}")


class TestCrossingTheBudget:
    async def test_the_expense_that_passes_the_budget_is_told_once(
        self, local_api: httpx.AsyncClient, owner: Account, live: EventSubscription
    ) -> None:
        campaign_id = await new_campaign(local_api, owner)
        await spend(local_api, owner, campaign_id, 10_000)  # at the budget: not over
        assert await over_budget_events(local_api, owner, campaign_id) == []

        await spend(local_api, owner, campaign_id, 1)
        [event] = await over_budget_events(local_api, owner, campaign_id)
        expected = {"spent_minor": 10_001, "budget_minor": 10_000, "currency": "EUR"}
        assert (event["entity_type"], event["data"]) == ("campaign", expected)
        told = await next_of_type(live, OVER)
        assert (told["entity_type"], told["entity_id"], told["data"]) == (
            "campaign",
            campaign_id,
            expected,
        )

        # Already over: more spending is no news.
        await spend(local_api, owner, campaign_id, 500)
        assert len(await over_budget_events(local_api, owner, campaign_id)) == 1

    async def test_coming_back_within_and_passing_again_is_told_again(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(local_api, owner)
        first = await spend(local_api, owner, campaign_id, 12_000)
        assert len(await over_budget_events(local_api, owner, campaign_id)) == 1
        await local_api.delete(f"{TRANSACTIONS}/{first}", headers=owner.headers)
        assert len(await over_budget_events(local_api, owner, campaign_id)) == 1
        await spend(local_api, owner, campaign_id, 10_001)
        assert len(await over_budget_events(local_api, owner, campaign_id)) == 2

    async def test_an_update_that_raises_the_amount_or_moves_an_expense_in_is_told(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        raised = await new_campaign(local_api, owner)
        expense = await spend(local_api, owner, raised, 9_000)
        response = await local_api.patch(
            f"{TRANSACTIONS}/{expense}", json={"amount_minor": 10_500}, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        assert [
            e["data"]["spent_minor"] for e in await over_budget_events(local_api, owner, raised)
        ] == [10_500]

        target = await new_campaign(local_api, owner)
        await spend(local_api, owner, target, 5_000)
        elsewhere = await spend(local_api, owner, None, 6_000)
        response = await local_api.patch(
            f"{TRANSACTIONS}/{elsewhere}", json={"campaign_id": target}, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        assert [
            e["data"]["spent_minor"] for e in await over_budget_events(local_api, owner, target)
        ] == [11_000]
        assert await spent(local_api, owner, target) == (11_000, True)

    async def test_an_import_that_passes_the_budget_is_told(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(local_api, owner)
        within = await new_campaign(local_api, owner)
        rows = "".join(
            f"expense,{amount},EUR,{day},{campaign}\n"
            for amount, day, campaign in (
                (6_000, "2026-11-01", campaign_id),
                (6_000, "2026-11-02", campaign_id),
                (1_000, "2026-11-02", within),
            )
        )
        response = await local_api.post(
            f"{TRANSACTIONS}/import",
            files={
                "file": (
                    "money.csv",
                    f"type,amount_minor,currency,occurred_on,campaign_id\n{rows}".encode(),
                    "text/csv",
                )
            },
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["created"] == 3
        [event] = await over_budget_events(local_api, owner, campaign_id)
        assert event["data"]["spent_minor"] == 12_000
        assert await over_budget_events(local_api, owner, within) == []
        assert await spent(local_api, owner, campaign_id) == (12_000, True)

    async def test_two_expenses_at_once_that_pass_the_budget_together_are_told_once(
        self, local_api: httpx.AsyncClient, owner: Account, engine: AsyncEngine, redis_url: str
    ) -> None:
        campaign_id = uuid.UUID(await new_campaign(local_api, owner))
        workspace_id = uuid.UUID(owner.workspace_id)
        sessions = create_sessionmaker(engine)
        redis = create_redis(redis_url)

        async def expense(session: AsyncSession) -> list[Spending]:
            """One route's write: watch, add 60.00 of the 100.00 budget, settle."""
            activity = Activity(session, redis, workspace_id, user_id=uuid.UUID(owner.user_id))
            budgets = BudgetWatch(session, workspace_id)
            await budgets.campaigns([campaign_id])
            await TransactionRepository(session, workspace_id).create(
                type=TransactionType.EXPENSE,
                amount_minor=6_000,
                currency="EUR",
                occurred_on=date(2026, 11, 1),
                campaign_id=campaign_id,
            )
            return await budgets.settle(activity)

        async def second_write() -> list[Spending]:
            async with sessions.begin() as session:
                return await expense(session)

        try:
            async with sessions.begin() as session:
                assert await expense(session) == []
                # The second starts while the first has not committed: it must wait for the
                # first's outcome rather than count without it (and neither would tell).
                second = asyncio.ensure_future(second_write())
                await asyncio.wait({second}, timeout=1.0)
            [crossed] = await asyncio.wait_for(second, 30)
        finally:
            await redis.aclose()
        assert crossed.spent_minor == 12_000
        [event] = await over_budget_events(local_api, owner, str(campaign_id))
        assert event["data"]["spent_minor"] == 12_000


class TestDailySummary:
    async def test_over_budget_events_are_counted_on_their_day(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        for _ in range(2):
            await spend(local_api, owner, await new_campaign(local_api, owner), 20_000)
        listed = await local_api.get(
            "/api/v1/analytics/events", params={"event_type": OVER}, headers=owner.headers
        )
        events: list[dict[str, Any]] = listed.json()["items"]
        days = sorted({e["occurred_at"][:10] for e in events})
        assert len(events) == 2
        summary = await local_api.get(
            "/api/v1/analytics/summary", params={"interval": "day"}, headers=owner.headers
        )
        assert summary.status_code == 200, summary.text
        buckets = {b["start"][:10]: b["counts"].get(OVER, 0) for b in summary.json()["buckets"]}
        assert {day: buckets.get(day) for day in days} == {
            day: sum(e["occurred_at"][:10] == day for e in events) for day in days
        }
        assert summary.json()["counts"][OVER] == 2
