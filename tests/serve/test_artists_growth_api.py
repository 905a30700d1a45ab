"""GET /api/v1/artists sorted and filtered by follower growth, and PUT/DELETE
/api/v1/artists/{id}/watch, on the in-process app (no Serve needed).

The catalogue is shared by every test of the session, so each test makes artists with a name
tag of its own and searches by it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.events import EventSubscription
from storage.repositories.artists import ArtistRepository
from tests.serve.conftest import Account, fields_of, join, register, workspace_events
from tests.serve.test_artists_api import ARTISTS, add_artist, new_tag

NOW = datetime(2026, 6, 30, tzinfo=UTC)


@pytest.fixture
async def owner(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api)


@pytest.fixture
async def stranger(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api, name="Stranger")


async def with_history(
    engine: AsyncEngine, artist: dict[str, Any], *points: tuple[int, int]
) -> None:
    """Snapshots (days before NOW, followers), as discovery or the refresh scheduler leaves them."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await ArtistRepository(session).add_snapshots(
            {
                "artist_id": uuid.UUID(artist["id"]),
                "followers": followers,
                "tracks": 1,
                "captured_at": NOW - timedelta(days=days),
            }
            for days, followers in points
        )
        await session.commit()


async def all_pages(api: httpx.AsyncClient, who: Account, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        response = await api.get(ARTISTS, params=params, headers=who.headers)
        assert response.status_code == 200, response.text
        found += response.json()["items"]
        if response.json()["next_cursor"] is None:
            return found
        params["cursor"] = response.json()["next_cursor"]


class TestGrowthSearch:
    async def test_fastest_growing_techno_artists_in_berlin_page_by_page(
        self, local_api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        tag = new_tag()
        made = {}
        for name, city, points in [
            ("Rising", "Berlin", ((8, 1000), (0, 1500))),  # +50%
            ("Steady", "Berlin", ((31, 100), (8, 105), (0, 110))),  # +4.8%, +10% in 30d
            ("Fresh", "Berlin", ((1, 10), (0, 90))),  # too young to say
            ("Abroad", "Oslo", ((8, 100), (0, 900))),  # +800%, elsewhere
        ]:
            made[name] = await add_artist(local_api, owner, tag, name, city=city, genres=["Techno"])
            await with_history(engine, made[name], *points)

        fastest = await all_pages(
            local_api, owner, q=tag, genre="techno", city="Berlin", sort="-growth_7d", limit=1
        )
        assert [a["name"].split()[0] for a in fastest] == ["Rising", "Steady", "Fresh"]
        rising = fastest[0]
        assert (rising["growth_7d"], rising["growth_7d_gain"], rising["growth_30d"]) == (
            50.0,
            500,
            None,
        )
        assert (fastest[2]["growth_7d"], fastest[2]["growth_7d_gain"]) == (None, None)

        slowest = await all_pages(local_api, owner, q=tag, sort="growth_7d", limit=2)
        assert [a["name"].split()[0] for a in slowest] == ["Steady", "Rising", "Abroad", "Fresh"]

        growing = await all_pages(local_api, owner, q=tag, min_growth_7d=40, sort="-growth_7d")
        assert [a["name"].split()[0] for a in growing] == ["Abroad", "Rising"]
        month = await all_pages(local_api, owner, q=tag, min_growth_30d=-100)
        assert [a["name"].split()[0] for a in month] == ["Steady"]
        assert month[0]["growth_30d_gain"] == 10

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"min_growth_7d": "nan"}, "min_growth_7d"),
            ({"min_growth_7d": "inf"}, "min_growth_7d"),
            ({"min_growth_30d": "1e400"}, "min_growth_30d"),
            ({"min_growth_30d": "1e12"}, "min_growth_30d"),
            ({"min_growth_7d": "-101"}, "min_growth_7d"),
            ({"min_growth_7d": "fast"}, "min_growth_7d"),
            ({"sort": "-growth_1y"}, "sort"),
            ({"sort": "growth_7d_nulls_low"}, "sort"),
            ({"watched": "maybe"}, "watched"),
            ({"sort": "-growth_7d", "cursor": "W10.AAAA"}, "cursor"),
        ],
    )
    async def test_hostile_input_is_a_422_naming_the_field(
        self, local_api: httpx.AsyncClient, owner: Account, params: dict[str, str], field: str
    ) -> None:
        response = await local_api.get(ARTISTS, params=params, headers=owner.headers)
        assert field in fields_of(response)

    async def test_a_cursor_of_one_growth_sort_is_refused_by_another(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        tag = new_tag()
        for name in ("One", "Two"):
            await add_artist(local_api, owner, tag, name)
        first = await local_api.get(
            ARTISTS, params={"q": tag, "sort": "-growth_7d", "limit": 1}, headers=owner.headers
        )
        cursor = first.json()["next_cursor"]
        assert cursor is not None
        swapped = await local_api.get(
            ARTISTS,
            params={"q": tag, "sort": "growth_7d", "limit": 1, "cursor": cursor},
            headers=owner.headers,
        )
        assert fields_of(swapped) == {"cursor"}


async def next_event(events: EventSubscription, event_type: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        async for event in events:
            if event["type"] == event_type:
                return event
    raise AssertionError(f"no {event_type} event")


class TestWatch:
    async def test_an_editor_watches_and_unwatches_and_only_the_workspace_sees_it(
        self,
        local_api: httpx.AsyncClient,
        owner: Account,
        stranger: Account,
        redis_url: str,
    ) -> None:
        tag = new_tag()
        watched = await add_artist(local_api, owner, tag, "Watched")
        await add_artist(local_api, owner, tag, "Other")
        url = f"{ARTISTS}/{watched['id']}/watch"

        async with workspace_events(redis_url, owner) as events:
            first = await local_api.put(url, headers=owner.headers)
            assert first.status_code == 204
            event = await next_event(events, "artist.watch")
        assert event["entity_id"] == watched["id"]
        assert (await local_api.put(url, headers=owner.headers)).status_code == 204

        mine = await all_pages(local_api, owner, q=tag, watched="true")
        assert [(a["id"], a["watched"]) for a in mine] == [(watched["id"], True)]
        rest = await all_pages(local_api, owner, q=tag, watched="false")
        assert [a["name"].split()[0] for a in rest] == ["Other"]
        assert await all_pages(local_api, stranger, q=tag, watched="true") == []
        theirs = await all_pages(local_api, stranger, q=tag)
        assert {a["watched"] for a in theirs} == {False}
        detail = await local_api.get(f"{ARTISTS}/{watched['id']}", headers=owner.headers)
        assert detail.json()["watched"] is True

        audit = await local_api.get(
            "/api/v1/audit-log", params={"entity_type": "artist"}, headers=owner.headers
        )
        actions = [row["action"] for row in audit.json()["items"]]
        assert actions.count("artist.watch") == 1  # the repeated PUT changed nothing

        for _ in range(2):
            assert (await local_api.delete(url, headers=owner.headers)).status_code == 204
        assert await all_pages(local_api, owner, q=tag, watched="true") == []
        detail = await local_api.get(f"{ARTISTS}/{watched['id']}", headers=owner.headers)
        assert detail.json()["watched"] is False

    async def test_a_viewer_sees_the_watch_but_cannot_change_it(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        viewer = await join(local_api, owner, "viewer")
        artist = await add_artist(local_api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}/watch"
        assert (await local_api.put(url, headers=owner.headers)).status_code == 204
        assert (await local_api.put(url, headers=viewer.headers)).status_code == 403
        assert (await local_api.delete(url, headers=viewer.headers)).status_code == 403
        detail = await local_api.get(f"{ARTISTS}/{artist['id']}", headers=viewer.headers)
        assert detail.json()["watched"] is True

    async def test_watching_an_unknown_artist_is_a_404(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        url = f"{ARTISTS}/{uuid.uuid4()}/watch"
        assert (await local_api.put(url, headers=owner.headers)).status_code == 404
        assert (await local_api.delete(url, headers=owner.headers)).status_code == 404
