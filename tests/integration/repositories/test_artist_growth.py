"""Follower growth from snapshots, searches sorted and filtered by it, the artists a workspace
watches, and the tracked artists due for a refresh."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import CampaignStatus
from storage.models import Artist
from storage.repositories.artists import ArtistFilter, ArtistRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.watched_artists import WatchedArtistRepository
from tests.factories import make_artist, make_campaign, make_user, make_workspace

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


async def history(session: AsyncSession, artist: Artist, *points: tuple[float, int]) -> Artist:
    """Snapshots of ``artist``: (days before NOW, followers) each; the artist as it is then."""
    repo = ArtistRepository(session)
    await repo.add_snapshots(
        {
            "artist_id": artist.id,
            "followers": followers,
            "tracks": 1,
            "captured_at": NOW - timedelta(days=days),
        }
        for days, followers in points
    )
    await session.refresh(artist)
    return artist


def growth(artist: Artist) -> tuple[object, ...]:
    return (artist.growth_7d_gain, artist.growth_7d, artist.growth_30d_gain, artist.growth_30d)


class TestGrowth:
    async def test_growth_compares_the_latest_snapshot_with_the_last_one_before_each_window(
        self, session: AsyncSession
    ) -> None:
        artist = await history(
            session,
            await make_artist(session),
            (40, 500),
            (30, 800),  # exactly 30 days before the latest: the 30-day base
            (10, 900),
            (7.5, 1000),  # the last one at or before 7 days: the 7-day base
            (3, 1100),
            (0, 1200),
        )
        assert growth(artist) == (200, 20.0, 400, 50.0)

    async def test_a_history_shorter_than_most_of_the_window_has_no_growth_for_it(
        self, session: AsyncSession
    ) -> None:
        # Six days (86% of a week) count as a week; 24 days (80% of a month) as a month.
        week = await history(session, await make_artist(session), (6, 100), (0, 150))
        assert growth(week) == (50, 50.0, None, None)
        month = await history(session, await make_artist(session), (24, 200), (0, 100))
        assert growth(month) == (-100, -50.0, -100, -50.0)
        young = await history(session, await make_artist(session), (5, 100), (0, 150))
        assert growth(young) == (None, None, None, None)

    async def test_a_single_snapshot_or_none_leaves_growth_unknown(
        self, session: AsyncSession
    ) -> None:
        assert growth(await make_artist(session)) == (None, None, None, None)
        single = await history(session, await make_artist(session), (0, 100))
        assert growth(single) == (None, None, None, None)

    async def test_growth_from_zero_followers_has_a_gain_but_no_percent(
        self, session: AsyncSession
    ) -> None:
        artist = await history(session, await make_artist(session), (8, 0), (0, 40))
        assert growth(artist) == (40, None, None, None)

    async def test_a_new_snapshot_moves_the_window_and_only_touches_its_artist(
        self, session: AsyncSession
    ) -> None:
        artist = await history(session, await make_artist(session), (14, 100), (7, 200), (0, 300))
        other = await history(session, await make_artist(session), (8, 100), (0, 110))
        assert growth(artist)[:2] == (100, 50.0)
        moved = await ArtistRepository(session).add_snapshots(
            [{"artist_id": artist.id, "followers": 600, "tracks": 1, "captured_at": NOW}]
        )
        assert moved == 0  # the same moment again is ignored, and growth stays
        await ArtistRepository(session).add_snapshots(
            [
                {
                    "artist_id": artist.id,
                    "followers": 400,
                    "tracks": 1,
                    "captured_at": NOW + timedelta(days=1),
                }
            ]
        )
        await session.refresh(artist)
        await session.refresh(other)
        assert growth(artist)[:2] == (200, 100.0)
        assert growth(other)[:2] == (10, 10.0)


class TestSearchByGrowth:
    async def _artists(self, session: AsyncSession) -> dict[str, Artist]:
        tag = uuid.uuid4().hex[:8]
        made: dict[str, Artist] = {}
        for name, city, points in [
            ("fast", "Berlin", ((8, 100), (0, 200))),  # +100%
            ("steady", "Berlin", ((8, 100), (0, 110))),  # +10%
            ("tie", "Berlin", ((8, 1000), (0, 1100))),  # +10%, ties with steady
            ("falling", "Berlin", ((8, 100), (0, 50))),  # -50%
            ("new", "Berlin", ((1, 100), (0, 500))),  # unknown
            ("elsewhere", "Oslo", ((8, 100), (0, 400))),  # +300%, not in Berlin
        ]:
            artist = await make_artist(session, name=f"{name} {tag}", city=city, genres=["techno"])
            made[name] = await history(session, artist, *points)
        return made

    async def _names(
        self,
        repo: ArtistRepository,
        made: dict[str, Artist],
        sort: str,
        limit: int,
        **criteria: object,
    ) -> list[str]:
        names = {a.id: name for name, a in made.items()}
        scope = [a.soundcloud_id for a in made.values()]
        found: list[str] = []
        cursor: str | None = None
        while True:
            page = await repo.search(
                ArtistFilter(soundcloud_ids=scope, **criteria),  # type: ignore[arg-type]
                sort=sort,
                limit=limit,
                cursor=cursor,
            )
            found += [names[a.id] for a in page.items]
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    @pytest.mark.parametrize("limit", [1, 2, 50])
    async def test_growth_sorts_put_unknown_growth_last_both_ways_on_every_page(
        self, session: AsyncSession, limit: int
    ) -> None:
        made = await self._artists(session)
        repo = ArtistRepository(session)
        down = await self._names(repo, made, "-growth_7d", limit)
        up = await self._names(repo, made, "growth_7d", limit)
        tied = sorted(["steady", "tie"], key=lambda n: made[n].id)
        assert down == ["elsewhere", "fast", *reversed(tied), "falling", "new"]
        assert up == ["falling", *tied, "fast", "elsewhere", "new"]

    async def test_fastest_growing_techno_artists_in_berlin(self, session: AsyncSession) -> None:
        made = await self._artists(session)
        found = await self._names(
            ArtistRepository(session),
            made,
            "-growth_7d",
            50,
            genre="Techno",
            city="berlin",
            min_growth_7d=10.0,
        )
        assert found[0] == "fast" and sorted(found[1:]) == ["steady", "tie"]


class TestWatched:
    async def test_watching_is_idempotent_private_and_filters_searches(
        self, session: AsyncSession
    ) -> None:
        user = await make_user(session)
        mine, theirs = await make_workspace(session, owner=user), await make_workspace(session)
        watched, other = await make_artist(session), await make_artist(session)
        repo = WatchedArtistRepository(session, mine.id)
        assert await repo.watch(watched.id, by=user.id) is True
        assert await repo.watch(watched.id, by=user.id) is False
        ids = [watched.id, other.id]
        assert await repo.watched_among(ids) == {watched.id}
        assert await WatchedArtistRepository(session, theirs.id).watched_among(ids) == set()

        scope = [watched.soundcloud_id, other.soundcloud_id]
        catalogue = ArtistRepository(session)
        for workspace, flag, expected in [
            (mine.id, True, [watched.id]),
            (mine.id, False, [other.id]),
            (theirs.id, True, []),
        ]:
            page = await catalogue.search(
                ArtistFilter(watched=flag, workspace_id=workspace, soundcloud_ids=scope)
            )
            assert [a.id for a in page.items] == expected

        assert await repo.unwatch(watched.id) is True
        assert await repo.unwatch(watched.id) is False
        assert await repo.watched_among(ids) == set()


class TestDueForRefresh:
    async def test_tracked_artists_read_before_the_cutoff_come_least_recently_read_first(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)

        def read(days: float | None) -> dict[str, object]:
            return {"fetched_at": None if days is None else NOW - timedelta(days=days)}

        never = await make_artist(session, **read(None))
        watched_old = await make_artist(session, **read(10))
        watched_fresh = await make_artist(session, **read(0.5))
        in_active = await make_artist(session, **read(5))
        in_paused = await make_artist(session, **read(3))
        in_draft = await make_artist(session, **read(20))
        untracked = await make_artist(session, **read(30))

        watch = WatchedArtistRepository(session, workspace.id)
        for artist in (never, watched_old, watched_fresh):
            await watch.watch(artist.id, by=None)
        campaigns = CampaignRepository(session, workspace.id)
        active = await make_campaign(session, workspace=workspace)
        await campaigns.transition(active.id, CampaignStatus.ACTIVE)
        paused = await make_campaign(session, workspace=workspace)
        await campaigns.transition(paused.id, CampaignStatus.ACTIVE)
        await campaigns.transition(paused.id, CampaignStatus.PAUSED)
        draft = await make_campaign(session, workspace=workspace)
        await campaigns.add_artist(active.id, in_active.id)
        await campaigns.add_artist(active.id, watched_old.id)  # tracked twice, listed once
        await campaigns.add_artist(paused.id, in_paused.id)
        await campaigns.add_artist(draft.id, in_draft.id)

        mine = {
            a.id: name
            for name, a in [
                ("never", never),
                ("watched_old", watched_old),
                ("watched_fresh", watched_fresh),
                ("in_active", in_active),
                ("in_paused", in_paused),
                ("in_draft", in_draft),
                ("untracked", untracked),
            ]
        }
        repo = ArtistRepository(session)
        due = await repo.due_for_refresh(older_than=NOW - timedelta(days=1), limit=100_000)
        assert [mine[i] for i, _ in due if i in mine] == [
            "never",
            "watched_old",
            "in_active",
            "in_paused",
        ]
        assert (never.id, never.soundcloud_id) in due
        assert len(await repo.due_for_refresh(older_than=NOW, limit=2)) == 2
