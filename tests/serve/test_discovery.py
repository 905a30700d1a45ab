"""Discovery jobs end to end: the API on Ray Serve starts a job, its actor walks the fixture
SoundCloud site through scraper actors, and what it keeps lands in the catalogue.

Jobs here share the session's Ray, PostgreSQL and Redis. Jobs that measure the fixture site
get a site of their own, so no other job's requests are in its log.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import ray
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from actors.discovery import NAMESPACE, actor_name, launch
from actors.scraper_pool import actor_name as scraper_name
from actors.scraper_pool import pool_key
from core.discovery import DiscoveryQuery
from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite
from storage.database import create_sessionmaker
from storage.models import ArtistContact, ArtistSnapshot, DiscoveryJobArtist
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from storage.repositories.users import UserRepository
from storage.repositories.workspaces import WorkspaceRepository
from tests.conftest import fixture_site_settings, free_port
from tests.serve.conftest import Account, join, register

JOBS = "/api/v1/discovery-jobs"
JOB_TIMEOUT_SECONDS = 180


async def wait_for_job(api: httpx.AsyncClient, who: Account, job_id: str) -> dict[str, Any]:
    for _ in range(JOB_TIMEOUT_SECONDS * 4):
        job: dict[str, Any] = (await api.get(f"{JOBS}/{job_id}", headers=who.headers)).json()
        if job["status"] in {"completed", "failed", "cancelled"}:
            return job
        await asyncio.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish: {job}")


class TestStartingAJobThroughTheApi:
    async def test_a_job_finishes_and_its_artists_are_searchable(
        self, api: httpx.AsyncClient, owner: Account, soundcloud_site: FixtureSite
    ) -> None:
        graph = soundcloud_site.graph
        seed = max(graph.users, key=lambda u: len(graph.followings(u.id)))
        started = await api.post(
            JOBS,
            json={
                "seed_artists": [f"{soundcloud_site.web_url}/{seed.permalink}"],
                "max_artists": 25,
                "max_depth": 1,
            },
            headers=owner.headers,
        )
        assert started.status_code == 201, started.text
        assert started.json()["status"] == "queued"
        job = await wait_for_job(api, owner, started.json()["id"])
        assert job["status"] == "completed", job
        assert job["progress"]["kept"] == 25

        results = await api.get(
            f"{JOBS}/{job['id']}/artists", params={"limit": 100}, headers=owner.headers
        )
        found = results.json()["items"]
        assert len(found) == 25
        scores = [item["score"] for item in found]
        assert scores == sorted(scores, reverse=True)
        assert {item["artist"]["soundcloud_id"] for item in found} >= {seed.id}

        # Every kept artist is in the catalogue under its real name and permalink.
        for item in found[:5]:
            artist = item["artist"]
            searched = await api.get(
                "/api/v1/artists", params={"q": artist["permalink"]}, headers=owner.headers
            )
            assert artist["id"] in [a["id"] for a in searched.json()["items"]]
            real = graph.user_by_id(artist["soundcloud_id"])
            assert artist["permalink"] == real.permalink
            assert artist["followers"] == (real.followers_count or 0)

    async def test_contacts_found_by_the_job_belong_to_its_workspace_only(
        self,
        api: httpx.AsyncClient,
        owner: Account,
        stranger: Account,
        soundcloud_site: FixtureSite,
    ) -> None:
        graph = soundcloud_site.graph
        with_email = [u for u in graph.users if graph.expected_emails(u)][:2]
        # One whose link-in-bio page shows its links only after JavaScript ran: found through
        # Chromium, and only there.
        with_email += [
            next(
                u
                for u in graph.users
                if u.link_page is not None
                and u.link_page.scripted
                and u.link_page.emails
                and graph.expected_emails(u, javascript=False) != graph.expected_emails(u)
            )
        ]
        started = await api.post(
            JOBS,
            json={"seed_artists": [u.permalink for u in with_email], "max_depth": 0},
            headers=owner.headers,
        )
        job = await wait_for_job(api, owner, started.json()["id"])
        assert job["status"] == "completed", job
        assert job["progress"]["contacts"] >= 1
        results = (await api.get(f"{JOBS}/{job['id']}/artists", headers=owner.headers)).json()
        for item in results["items"]:
            artist_id = item["artist"]["id"]
            mine = await api.get(f"/api/v1/artists/{artist_id}/contacts", headers=owner.headers)
            theirs = await api.get(
                f"/api/v1/artists/{artist_id}/contacts", headers=stranger.headers
            )
            expected = graph.expected_emails(graph.user_by_id(item["artist"]["soundcloud_id"]))
            assert {c["email"] for c in mine.json()["items"]} == set(expected)
            assert theirs.json()["items"] == []
        assert (await api.get(f"{JOBS}/{job['id']}", headers=stranger.headers)).status_code == 404


class TestMalformedPages:
    async def test_a_malformed_profile_is_counted_and_skipped_not_fatal(
        self, api: httpx.AsyncClient, owner: Account, soundcloud_site: FixtureSite
    ) -> None:
        graph = soundcloud_site.graph
        broken = next(u for u in graph.users if u.malformed)
        fine = next(u for u in graph.users if not u.malformed)
        started = await api.post(
            JOBS,
            json={"seed_artists": [broken.permalink, fine.permalink], "max_depth": 0},
            headers=owner.headers,
        )
        job = await wait_for_job(api, owner, started.json()["id"])
        assert job["status"] == "completed", job
        assert job["progress"]["skipped_MalformedPage"] == 1
        assert job["progress"]["kept"] == 1
        results = (await api.get(f"{JOBS}/{job['id']}/artists", headers=owner.headers)).json()
        assert [item["artist"]["soundcloud_id"] for item in results["items"]] == [fine.id]


class TestBadQueries:
    async def test_a_query_without_a_starting_point_is_a_422(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        answer = await api.post(JOBS, json={"min_followers": 10}, headers=owner.headers)
        assert answer.status_code == 422
        assert "seed_artists" in answer.text

    async def test_a_seed_on_another_host_is_refused_before_anything_is_fetched(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        answer = await api.post(
            JOBS, json={"seed_artists": ["http://169.254.169.254/latest"]}, headers=owner.headers
        )
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "seed_artists"
        listed = await api.get(JOBS, headers=owner.headers)
        assert listed.json()["items"] == []

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"terms": ["x"], "min_followers": 10, "max_followers": 5}, "min_followers"),
            ({"terms": ["x"], "country": "Germany"}, "country"),
            ({"terms": ["x"], "max_artists": 0}, "max_artists"),
            ({"terms": ["x"], "unknown": 1}, "unknown"),
        ],
    )
    async def test_invalid_parameters_name_the_field(
        self, api: httpx.AsyncClient, owner: Account, body: dict[str, Any], field: str
    ) -> None:
        answer = await api.post(JOBS, json=body, headers=owner.headers)
        assert answer.status_code == 422
        assert field in answer.text

    async def test_viewers_cannot_start_jobs(self, api: httpx.AsyncClient, owner: Account) -> None:
        viewer = await join(api, owner, "viewer")
        answer = await api.post(JOBS, json={"terms": ["techno"]}, headers=viewer.headers)
        assert answer.status_code == 403


class TestJobsPerWorkspace:
    async def test_a_job_past_the_workspace_limit_is_a_429_naming_the_limit(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine, app_settings: Settings
    ) -> None:
        owner = await register(local_api)
        limit = app_settings.discovery_jobs_per_workspace
        for _ in range(limit):
            await job_in(engine, owner, DiscoveryQuery(seed_artists=["someone"]))
        answer = await local_api.post(
            JOBS, json={"seed_artists": ["someone"]}, headers=owner.headers
        )
        assert answer.status_code == 429, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "CM_DISCOVERY_JOBS_PER_WORKSPACE" in answer.json()["detail"]
        assert f"limit is {limit}" in answer.json()["detail"]
        listed = await local_api.get(JOBS, headers=owner.headers)
        assert len(listed.json()["items"]) == limit


class TestCancelling:
    async def test_a_queued_job_cancelled_never_runs_and_cannot_be_cancelled_twice(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        started = await api.post(
            JOBS, json={"terms": ["a"], "max_artists": 5000, "max_depth": 3}, headers=owner.headers
        )
        job_id = started.json()["id"]
        cancelled = await api.post(f"{JOBS}/{job_id}/cancel", headers=owner.headers)
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        await asyncio.sleep(2)
        job = (await api.get(f"{JOBS}/{job_id}", headers=owner.headers)).json()
        assert job["status"] == "cancelled"
        again = await api.post(f"{JOBS}/{job_id}/cancel", headers=owner.headers)
        assert again.status_code == 409

    async def test_a_job_cancelled_mid_walk_stops_at_its_next_batch_and_keeps_its_finds(
        self,
        app_settings: Settings,
        ray_cluster: None,
        engine: AsyncEngine,
        local_api: httpx.AsyncClient,
    ) -> None:
        owner = await register(local_api)
        async with FixtureSite(FixtureGraph(artists=800, seed=12)) as site:
            settings = app_settings.model_copy(
                update={**fixture_site_settings(site), "soundcloud_requests_per_second": 40}
            )
            job_id = await job_in(
                engine,
                owner,
                DiscoveryQuery(
                    seed_artists=[site.graph.users[3].permalink], max_artists=500, max_depth=3
                ),
            )
            workspace_id = uuid.UUID(owner.workspace_id)
            done = launch(settings, job_id, workspace_id)
            await until_kept(engine, job_id, workspace_id, 8)
            cancelled = await local_api.post(f"{JOBS}/{job_id}/cancel", headers=owner.headers)
            assert cancelled.status_code == 200, cancelled.text
            assert await asyncio.wait_for(done, JOB_TIMEOUT_SECONDS) == "cancelled"
            await asyncio.sleep(0.5)  # the scrapers hear of it
            requests_then = len(site.log)
            await asyncio.sleep(1.0)
            assert len(site.log) == requests_then, "the walk must stop reading"

        job = await job_row(engine, job_id, workspace_id)
        assert job.status == "cancelled"
        results = (await local_api.get(f"{JOBS}/{job_id}/artists", headers=owner.headers)).json()
        kept = job.progress["kept"]
        assert 8 <= kept < 500
        assert len(results["items"]) == min(kept, 50)
        async with create_sessionmaker(engine)() as session:
            assert await DiscoveryJobRepository(session, workspace_id).frontier_size(job_id) == 0
        assert await actor_gone(job_id)


async def new_job(engine: AsyncEngine, query: DiscoveryQuery) -> tuple[uuid.UUID, uuid.UUID]:
    """A committed job in a new workspace: ``(job_id, workspace_id)``."""
    async with create_sessionmaker(engine).begin() as session:
        user = await UserRepository(session).create(
            email=f"walker-{uuid.uuid4().hex[:8]}@label.example",
            password_hash="x",
            display_name="Walker",
        )
        workspace = await WorkspaceRepository(session).create(name="walks", owner_id=user.id)
        job = await DiscoveryJobRepository(session, workspace.id).submit(
            query=query.model_dump(mode="json"), created_by=user.id
        )
        return job.id, workspace.id


async def job_row(engine: AsyncEngine, job_id: uuid.UUID, workspace_id: uuid.UUID) -> Any:
    async with create_sessionmaker(engine)() as session:
        return await DiscoveryJobRepository(session, workspace_id).get(job_id)


async def until_kept(
    engine: AsyncEngine, job_id: uuid.UUID, workspace_id: uuid.UUID, at_least: int
) -> Any:
    """The job's row once it has committed ``at_least`` kept artists."""
    for _ in range(JOB_TIMEOUT_SECONDS * 10):
        job = await job_row(engine, job_id, workspace_id)
        if job.progress.get("kept", 0) >= at_least or job.status.is_final:
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} kept fewer than {at_least} artists in time")


async def job_in(engine: AsyncEngine, who: Account, query: DiscoveryQuery) -> uuid.UUID:
    """A committed, queued job in ``who``'s workspace (not started)."""
    async with create_sessionmaker(engine).begin() as session:
        job = await DiscoveryJobRepository(session, uuid.UUID(who.workspace_id)).submit(
            query=query.model_dump(mode="json"), created_by=uuid.UUID(who.user_id)
        )
        return job.id


async def run_to_the_end(settings: Settings, job_id: uuid.UUID, workspace_id: uuid.UUID) -> str:
    """Launch the job's actor and wait for its final status, for as long as a job test may."""
    return await asyncio.wait_for(launch(settings, job_id, workspace_id), JOB_TIMEOUT_SECONDS)


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """The base URL of a server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


async def actor_gone(job_id: uuid.UUID) -> bool:
    """Whether the job's actor has ended (it lingers a moment after its walk)."""
    for _ in range(JOB_TIMEOUT_SECONDS * 4):
        try:
            ray.get_actor(actor_name(job_id), namespace=NAMESPACE)
        except ValueError:
            return True
        await asyncio.sleep(0.25)
    return False


class TestADeadLinkInBioHost:
    async def test_the_walk_keeps_every_artist_and_counts_the_pages_it_skipped(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        async with FixtureSite(FixtureGraph(artists=400, seed=12), silent_links=True) as site:
            graph = site.graph
            linked = [u for u in graph.users if u.link_page is not None and not u.malformed][:8]
            unlinked = [u for u in graph.users if u.link_page is None and not u.malformed][:2]
            settings = app_settings.model_copy(
                update={
                    **fixture_site_settings(site),
                    # The link-in-bio host at its production pace: the artists' pages queue up
                    # for it, and those whose turn is too far away are skipped.
                    "link_in_bio_requests_per_second": 1,
                    "link_in_bio_budget_seconds": 3,
                    "scraper_actors": 1,
                }
            )
            seeds = [u.permalink for u in (*linked, *unlinked)]
            job_id, workspace_id = await new_job(
                engine, DiscoveryQuery(seed_artists=seeds, max_depth=0)
            )
            status = await run_to_the_end(settings, job_id, workspace_id)
            job = await job_row(engine, job_id, workspace_id)
            assert status == "completed", job.error
            assert job.progress["kept"] == len(seeds), job.progress
            assert job.progress.get("skipped", 0) == 0, job.progress
            unread = {
                key: count
                for key, count in job.progress.items()
                if key.startswith("skipped_link_in_bio_")
            }
            assert sum(unread.values()) >= len(linked), job.progress
            # No link page was read (its robots.txt was: the site still answers that).
            assert not any(
                entry.listener == "links" and entry.status == 200 and entry.path != "/robots.txt"
                for entry in site.log
            )


class TestAJobThatCanReadNothing:
    async def test_it_ends_failed_and_the_api_shows_why(
        self,
        app_settings: Settings,
        ray_cluster: None,
        engine: AsyncEngine,
        local_api: httpx.AsyncClient,
    ) -> None:
        owner = await register(local_api)
        nowhere = f"http://127.0.0.1:{free_port()}"
        settings = app_settings.model_copy(
            update={
                "soundcloud_web_url": nowhere,
                "soundcloud_api_url": nowhere,
                "soundcloud_client_id": "any",
            }
        )
        job_id = await job_in(
            engine, owner, DiscoveryQuery(seed_artists=["first", "second"], max_depth=0)
        )
        status = await run_to_the_end(settings, job_id, uuid.UUID(owner.workspace_id))
        assert status == "failed"
        shown = (await local_api.get(f"{JOBS}/{job_id}", headers=owner.headers)).json()
        assert shown["status"] == "failed"
        assert shown["progress"]["kept"] == 0
        assert "no artist could be read" in shown["error"]
        assert nowhere.removeprefix("http://") in shown["error"]
        # The audit log says so too, signed by the system.
        audit = await local_api.get(
            "/api/v1/audit-log",
            params={"entity_id": str(job_id), "action": "discovery_job.failed"},
            headers=owner.headers,
        )
        [row] = audit.json()["items"]
        assert row["actor_user_id"] is None
        assert row["data"]["system"] == "discovery"
        assert "no artist could be read" in row["data"]["error"]


class TestAJobThatRunsTooLong:
    async def test_it_ends_failed_at_its_time_limit_and_frees_its_actor(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        async with silent_server() as hanging:
            settings = app_settings.model_copy(
                update={
                    "soundcloud_web_url": hanging,
                    "soundcloud_api_url": hanging,
                    "soundcloud_client_id": "any",
                    "discovery_job_max_seconds": 3,
                }
            )
            job_id, workspace_id = await new_job(
                engine, DiscoveryQuery(seed_artists=["someone"], max_depth=0)
            )
            status = await run_to_the_end(settings, job_id, workspace_id)
            job = await job_row(engine, job_id, workspace_id)
            assert status == "failed"
            assert "CM_DISCOVERY_JOB_MAX_SECONDS" in job.error
            assert await actor_gone(job_id)


class TestClusterWideRateLimit:
    async def test_four_scraper_actors_never_exceed_the_configured_rate(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        rate = 10
        async with FixtureSite(FixtureGraph(artists=600, seed=5), rate_limit=rate) as site:
            settings = app_settings.model_copy(
                update={
                    **fixture_site_settings(site),
                    "soundcloud_requests_per_second": rate,
                    "link_in_bio_requests_per_second": rate,
                    "scraper_actors": 4,
                }
            )
            seed = site.graph.users[0]
            job_id, workspace_id = await new_job(
                engine, DiscoveryQuery(seed_artists=[seed.permalink], max_artists=10)
            )
            status = await launch(settings, job_id, workspace_id)
            job = await job_row(engine, job_id, workspace_id)
            assert status == "completed", job.error
            assert job.progress["kept"] == 10
            api_requests = sum(1 for entry in site.log if entry[0] == "api")
            assert api_requests > 2 * rate  # long enough to have measured something
            for listener in ("web", "api", "links"):
                assert site.max_in_window(listener, 1.0) <= rate, listener
            assert not any(entry[3] == 429 for entry in site.log)


class TestSurvivingTheSite:
    async def test_client_id_expiry_and_a_429_storm_are_survived(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        # The site allows 20 requests a second; the scrapers are told 80: 429s follow, and
        # the adaptive delay has to bring the pace down for the job to finish.
        async with FixtureSite(
            FixtureGraph(artists=600, seed=6), rate_limit=20, client_id_ttl=3.0
        ) as site:
            settings = app_settings.model_copy(
                update={
                    **fixture_site_settings(site),
                    "soundcloud_requests_per_second": 80,
                    "scraper_actors": 2,
                }
            )
            job_id, workspace_id = await new_job(
                engine,
                DiscoveryQuery(seed_artists=[site.graph.users[1].permalink], max_artists=12),
            )
            status = await launch(settings, job_id, workspace_id)
            job = await job_row(engine, job_id, workspace_id)
            assert status == "completed", job.error
            assert job.progress["kept"] == 12, job.progress
            statuses = job.progress["scraper"]["statuses"]
            assert statuses.get("429", 0) > 0, job.progress
            assert job.progress["scraper"]["client_id_refreshes"] >= 1


class TestResuming:
    async def test_a_job_killed_mid_run_resumes_without_duplicates(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        async with FixtureSite(FixtureGraph(artists=800, seed=9)) as site:
            settings = app_settings.model_copy(
                update={
                    **fixture_site_settings(site),
                    "soundcloud_requests_per_second": 30,
                    "scraper_actors": 2,
                    "scraper_concurrency": 2,
                }
            )
            job_id, workspace_id = await new_job(
                engine,
                DiscoveryQuery(
                    seed_artists=[site.graph.users[2].permalink], max_artists=40, max_depth=2
                ),
            )
            done = launch(settings, job_id, workspace_id)
            job = await until_kept(engine, job_id, workspace_id, 8)
            assert 8 <= job.progress["kept"] < 40, "the job must be killed mid-run"
            actor = ray.get_actor(actor_name(job_id), namespace=NAMESPACE)
            ray.kill(actor, no_restart=False)

            status = await done
            job = await job_row(engine, job_id, workspace_id)
            assert status == "completed", job.error
            assert job.progress["resumed"] >= 1
            assert job.progress["kept"] == 40
            async with create_sessionmaker(engine)() as session:
                results = await session.scalar(
                    select(func.count()).where(DiscoveryJobArtist.job_id == job_id)
                )
                assert results == 40
                kept_ids = select(DiscoveryJobArtist.artist_id).where(
                    DiscoveryJobArtist.job_id == job_id
                )
                # Other tests' jobs may have read the same artists: count this job's snapshots.
                snapshots = (
                    await session.execute(
                        select(ArtistSnapshot.artist_id, func.count())
                        .where(
                            ArtistSnapshot.artist_id.in_(kept_ids),
                            ArtistSnapshot.captured_at.between(job.started_at, job.finished_at),
                        )
                        .group_by(ArtistSnapshot.artist_id)
                    )
                ).all()
                assert len(snapshots) == 40
                assert {count for _, count in snapshots} == {1}
                contacts = (
                    await session.execute(
                        select(ArtistContact.artist_id, ArtistContact.email, func.count())
                        .where(ArtistContact.workspace_id == workspace_id)
                        .group_by(ArtistContact.artist_id, ArtistContact.email)
                    )
                ).all()
                assert all(count == 1 for _, _, count in contacts)


class TestADeadScraper:
    async def test_a_scraper_actor_that_dies_for_good_is_replaced_and_the_job_finishes(
        self, app_settings: Settings, ray_cluster: None, engine: AsyncEngine
    ) -> None:
        async with FixtureSite(FixtureGraph(artists=800, seed=13)) as site:
            settings = app_settings.model_copy(
                update={**fixture_site_settings(site), "soundcloud_requests_per_second": 40}
            )
            job_id, workspace_id = await new_job(
                engine,
                DiscoveryQuery(
                    seed_artists=[site.graph.users[4].permalink], max_artists=30, max_depth=3
                ),
            )
            done = launch(settings, job_id, workspace_id)
            job = await until_kept(engine, job_id, workspace_id, 5)
            assert job.progress["kept"] < 30, "the scraper must die mid-run"
            first = ray.get_actor(scraper_name(pool_key(settings), 0), namespace=NAMESPACE)
            ray.kill(first, no_restart=True)

            status = await asyncio.wait_for(done, JOB_TIMEOUT_SECONDS)
        job = await job_row(engine, job_id, workspace_id)
        assert status == "completed", job.error
        assert job.progress["kept"] == 30
        assert job.progress["scraper"]["scrapers_replaced"] >= 1
        replacement = ray.get_actor(scraper_name(pool_key(settings), 0), namespace=NAMESPACE)
        assert replacement._actor_id != first._actor_id
