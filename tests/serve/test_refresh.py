"""The artist refresher: tracked artists (watched, or in a live campaign) whose numbers are old
are re-read from the fixture site and leave follower snapshots, in the request slots discovery
jobs leave, without the site's rate limit ever being passed.

Each test has a fixture site of its own, so the site's log holds only its own requests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import ray
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from actors.discovery import launch
from actors.named import NAMESPACE
from actors.refresh import (
    ACTOR_NAME,
    RefreshReport,
    classify,
    refresh_due,
    start_interval,
    start_refresher,
)
from actors.scraper_pool import Skipped
from core.discovery import DiscoveryQuery
from core.enums import CampaignStatus
from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite
from scraping.fixture.graph import FixtureUser
from storage.database import create_sessionmaker
from storage.models import Artist, ArtistSnapshot
from storage.repositories.artists import ArtistRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.watched_artists import WatchedArtistRepository
from tests.conftest import fixture_site_settings
from tests.factories import make_campaign, make_user, make_workspace
from tests.serve.test_discovery import JOB_TIMEOUT_SECONDS, job_row, new_job

RATE = 20
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)
# A SoundCloud id the fixture site does not have: its profile answers 404.
GONE_ID = 999_000_001
ROUNDS = 30


def site_settings(app_settings: Settings, site: FixtureSite) -> Settings:
    return app_settings.model_copy(
        update={
            **fixture_site_settings(site),
            "soundcloud_requests_per_second": RATE,
            "link_in_bio_requests_per_second": RATE,
            "scraper_actors": 2,
        }
    )


def catalogue_row(user: FixtureUser, fetched_at: datetime) -> dict[str, Any]:
    """The artist as a stale catalogue would hold it: numbers that are not the site's."""
    return {
        "soundcloud_id": user.id,
        "name": user.username,
        "permalink": user.permalink,
        "followers": user.followers_count + 1000,
        "tracks": user.track_count + 7,
        "verified": not user.verified,
        "fetched_at": fetched_at,
    }


async def add_artists(
    engine: AsyncEngine,
    *,
    watched: Sequence[dict[str, Any]] = (),
    in_active_campaign: Sequence[dict[str, Any]] = (),
    in_draft_campaign: Sequence[dict[str, Any]] = (),
    untracked: Sequence[dict[str, Any]] = (),
) -> dict[int, uuid.UUID]:
    """Committed catalogue rows, tracked (or not) by one new workspace: their ids by
    SoundCloud id."""
    async with create_sessionmaker(engine).begin() as session:
        owner = await make_user(session)
        workspace = await make_workspace(session, owner=owner)
        rows = [*watched, *in_active_campaign, *in_draft_campaign, *untracked]
        result = await ArtistRepository(session).upsert_many(rows)
        ids = result.ids
        watching = WatchedArtistRepository(session, workspace.id)
        for row in watched:
            await watching.watch(ids[row["soundcloud_id"]], by=owner.id)
        campaigns = CampaignRepository(session, workspace.id)
        for status, members in (
            (CampaignStatus.ACTIVE, in_active_campaign),
            (CampaignStatus.DRAFT, in_draft_campaign),
        ):
            campaign = await make_campaign(session, workspace=workspace)
            if status is not CampaignStatus.DRAFT:
                await campaigns.transition(campaign.id, status)
            for row in members:
                await campaigns.add_artist(campaign.id, ids[row["soundcloud_id"]])
        return ids


async def artists_by_id(engine: AsyncEngine, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Artist]:
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalars(select(Artist).where(Artist.id.in_(ids)))
        return {artist.id: artist for artist in rows}


async def snapshots_of(
    engine: AsyncEngine, ids: Sequence[uuid.UUID], *, since: datetime
) -> dict[uuid.UUID, list[ArtistSnapshot]]:
    """Snapshots taken since ``since`` (fixture sites share SoundCloud ids, so earlier tests
    may have left snapshots for the same artists)."""
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalars(
            select(ArtistSnapshot)
            .where(ArtistSnapshot.artist_id.in_(ids), ArtistSnapshot.captured_at >= since)
            .order_by(ArtistSnapshot.captured_at)
        )
        found: dict[uuid.UUID, list[ArtistSnapshot]] = {artist_id: [] for artist_id in ids}
        for snapshot in rows:
            found[snapshot.artist_id].append(snapshot)
        return found


def profile_reads(site: FixtureSite, soundcloud_id: int) -> int:
    return sum(
        1
        for entry in site.log
        if entry.listener == "api" and entry.path == f"/users/{soundcloud_id}"
    )


class TestRefreshingWhileAJobRuns:
    async def test_tracked_artists_get_fresh_numbers_and_snapshots_within_the_rate_limit(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        graph = FixtureGraph(artists=300, seed=21)
        readable = [u for u in graph.users if not u.malformed]
        # The job keeps only artists with many followers; the tracked ones have few, so only
        # the refresher writes their numbers.
        small = [u for u in readable if u.followers_count < 100]
        seed = next(
            u
            for u in sorted(readable, key=lambda u: -len(graph.followings(u.id)))
            if u.followers_count >= 100
        )
        started = datetime.now(UTC)
        async with FixtureSite(graph, rate_limit=RATE) as site:
            settings = site_settings(app_settings, site)
            watched = [catalogue_row(u, LONG_AGO) for u in small[:5]]
            campaigned = [catalogue_row(u, LONG_AGO) for u in small[5:10]]
            gone = {
                "soundcloud_id": GONE_ID,
                "name": "gone",
                "permalink": "gone",
                "fetched_at": LONG_AGO,
            }
            tracked = await add_artists(
                engine, watched=[*watched, gone], in_active_campaign=campaigned
            )
            refreshed_users = small[:10]
            refreshed_ids = [tracked[u.id] for u in refreshed_users]
            gone_id = tracked[GONE_ID]

            job_id, workspace_id = await new_job(
                engine,
                DiscoveryQuery(
                    seed_artists=[seed.permalink], min_followers=100, max_artists=8, max_depth=1
                ),
            )
            job = launch(settings, job_id, workspace_id)
            reports: list[RefreshReport] = []
            for _ in range(ROUNDS):
                reports.append(await refresh_due(settings))
                snapshots = await snapshots_of(engine, refreshed_ids, since=started)
                if all(snapshots.values()):
                    break
            status = await asyncio.wait_for(job, JOB_TIMEOUT_SECONDS)

            assert status == "completed", (await job_row(engine, job_id, workspace_id)).error
            assert all(snapshots.values()), reports
            artists = await artists_by_id(engine, [*refreshed_ids, gone_id])
            for user in refreshed_users:
                artist_id = tracked[user.id]
                assert [s.followers for s in snapshots[artist_id]] == [user.followers_count or 0]
                artist = artists[artist_id]
                assert artist.followers == user.followers_count
                assert artist.tracks == user.track_count
                assert artist.verified == user.verified
                assert artist.fetched_at is not None and artist.fetched_at > LONG_AGO
            # The artist the site no longer has is marked read (not asked for every round) and
            # has no snapshot.
            gone_read_at = artists[gone_id].fetched_at
            assert gone_read_at is not None and gone_read_at > LONG_AGO
            assert (await snapshots_of(engine, [gone_id], since=started))[gone_id] == []
            assert sum(r.reasons["FetchError_404"] for r in reports) >= 1
            assert profile_reads(site, GONE_ID) == 1

            for listener in ("web", "api", "links"):
                assert site.max_in_window(listener, 1.0) <= RATE, listener
            assert not any(entry.status == 429 for entry in site.log)


class TestWhatIsNotRefreshed:
    async def test_fresh_and_untracked_artists_are_left_alone_by_the_refresher_actor(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        # SoundCloud ids are the same in every fixture graph, and the catalogue is shared: users
        # past those of other tests' graphs are tracked by this test alone.
        graph = FixtureGraph(artists=2600, seed=22)
        users = [u for u in graph.users[2500:] if not u.malformed]
        started = datetime.now(UTC)
        async with FixtureSite(graph, rate_limit=RATE) as site:
            settings = site_settings(app_settings, site)
            due, fresh, drafted, untracked = users[0], users[1], users[2], users[3]
            recently = datetime.now(UTC) - timedelta(hours=settings.refresh_interval_hours / 2)
            tracked = await add_artists(
                engine,
                watched=[catalogue_row(due, LONG_AGO), catalogue_row(fresh, recently)],
                in_draft_campaign=[catalogue_row(drafted, LONG_AGO)],
                untracked=[catalogue_row(untracked, LONG_AGO)],
            )
            refresher = start_refresher(settings)
            try:
                assert await refresher.ping.remote()
                for _ in range(ROUNDS * 4):
                    snapshots = await snapshots_of(engine, [tracked[due.id]], since=started)
                    if snapshots[tracked[due.id]]:
                        break
                    await asyncio.sleep(0.25)
            finally:
                ray.kill(ray.get_actor(ACTOR_NAME, namespace=NAMESPACE), no_restart=True)

            left_alone = [fresh, drafted, untracked]
            assert snapshots[tracked[due.id]], "the due artist was never refreshed"
            assert profile_reads(site, due.id) == 1
            for user in left_alone:
                assert profile_reads(site, user.id) == 0, user
            snapshots = await snapshots_of(
                engine, [tracked[u.id] for u in left_alone], since=started
            )
            assert all(found == [] for found in snapshots.values())
            artists = await artists_by_id(engine, [tracked[u.id] for u in left_alone])
            for user in left_alone:
                assert artists[tracked[user.id]].followers == user.followers_count + 1000


class TestReadingAnswers:
    @pytest.mark.parametrize(
        ("answer", "kind"),
        [
            ({"soundcloud_id": 1, "followers": 3, "tracks": 1, "verified": False}, "read"),
            # Answers about the artist: not asked again before its interval.
            (Skipped("FetchError", "http://api/users/1: HTTP 404", 404), "unreadable"),
            (Skipped("MalformedObject", "user without a permalink"), "unreadable"),
            # Answers about the host: the artist stays due.
            (Skipped("HostBusy", "api: no request slot within 0.05 s"), "trouble"),
            (
                Skipped("FetchError", "http://api/users/1: HTTP 429", 429, host_failing=True),
                "trouble",
            ),
            (
                Skipped(
                    "FetchError",
                    "http://api/users/1: gave up after 4 attempts (last: HTTP 503)",
                    503,
                    host_failing=True,
                ),
                "trouble",
            ),
            (
                Skipped(
                    "FetchError",
                    "http://api/users/1: gave up after 4 attempts (last: no answer)",
                    host_failing=True,
                ),
                "trouble",
            ),
            (RuntimeError("actor died"), "trouble"),
        ],
    )
    def test_only_answers_about_the_artist_end_its_turn(self, answer: object, kind: str) -> None:
        assert classify(answer)[0] == kind

    def test_the_refresh_takes_at_most_its_share_of_the_rate(self, app_settings: Settings) -> None:
        shared = app_settings.model_copy(
            update={"soundcloud_requests_per_second": 10, "refresh_rate_share": 0.25}
        )
        assert start_interval(shared) == pytest.approx(0.4)
        unlimited = app_settings.model_copy(update={"soundcloud_requests_per_second": 0})
        assert start_interval(unlimited) == 0
