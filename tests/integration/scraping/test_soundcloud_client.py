"""The SoundCloud client against the fixture site: finding and refreshing the client id,
paging through next_href, resolving URLs, skipping malformed objects and living without the
web-profiles endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
import pytest

from scraping.errors import ClientIdUnavailable, DisallowedHost, FetchError, MalformedPage
from scraping.fetcher import Fetcher
from scraping.fixture import FixtureGraph, FixtureSite
from scraping.objects import SoundCloudTrack, SoundCloudUser
from scraping.soundcloud import SoundCloudClient, SoundCloudEndpoints
from tests.integration.scraping.conftest import (
    FAST_RETRIES,
    SiteFactory,
    client_for,
    endpoints_of,
)

pytestmark = pytest.mark.integration


def api_calls(site: FixtureSite) -> list[tuple[str, int]]:
    return [(entry.path, entry.status) for entry in site.log if entry.listener == "api"]


def most_followed(graph: FixtureGraph) -> int:
    return max(graph.users, key=lambda u: len(graph.followers(u.id))).id


class TestClientId:
    async def test_it_comes_from_the_home_page_hydration(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http)

        assert await client.client_id() == site.client_id
        assert [(e.listener, e.path) for e in site.log] == [("web", "/")]

    async def test_without_hydration_it_comes_from_the_js_bundles(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(hydrated_client_id=False)
        client = client_for(site, http)

        assert await client.client_id() == site.client_id
        assert any(e.path.startswith("/assets/") for e in site.log)

    async def test_it_is_found_once_and_then_cached(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http)
        first = await client.client_id()

        assert await client.client_id() == first
        assert len(site.log) == 1

    async def test_a_home_page_with_neither_hydration_nor_bundles_is_unavailable(
        self, site: FixtureSite, http: aiohttp.ClientSession
    ) -> None:
        # The link-in-bio listener's home page is an ordinary page: no hydration, no bundles.
        endpoints = SoundCloudEndpoints(web_url=site.links_url, api_url=site.api_url)
        client = SoundCloudClient(Fetcher(http, allowed_hosts=endpoints.hosts()), endpoints)

        with pytest.raises(ClientIdUnavailable):
            await client.client_id()

    async def test_a_given_client_id_is_used_without_visiting_the_home_page(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http, client_id=site.client_id)

        assert (await client.user(graph.users[0].id)).id == graph.users[0].id
        assert [e.listener for e in site.log] == ["api"]


class _ExpiresEveryIdItReads(Fetcher):
    """A fetcher that expires the site's client id the moment it reads the home page, so
    every id the client learns is already stale."""

    def __init__(self, site: FixtureSite, http: aiohttp.ClientSession) -> None:
        super().__init__(http, allowed_hosts=endpoints_of(site).hosts(), retry=FAST_RETRIES)
        self.site = site

    async def get_text(self, url: str, params: Mapping[str, str] | None = None) -> str:
        text = await super().get_text(url, params)
        if urlsplit(url).path == "/":
            self.site.expire_client_id()
        return text


class TestStaleClientId:
    async def test_an_id_expiring_mid_walk_is_refreshed_once_and_the_walk_completes(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http, page_size=10)
        user_id = most_followed(graph)
        walked = []
        async for follower in client.followers(user_id, limit=45):
            walked.append(follower.id)
            if len(walked) == 15:
                site.expire_client_id()

        expected = [u.id for u in graph.followers(user_id) if not u.malformed][:45]
        assert walked == expected
        assert client.fetcher.stats.counters["client_id_refreshes"] == 1
        assert [status for _, status in api_calls(site)].count(401) == 1
        assert await client.client_id() == site.client_id

    async def test_many_calls_meeting_a_stale_id_at_once_refresh_it_once(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http)
        await client.client_id()
        site.expire_client_id()
        users = [user for user in graph.users if not user.malformed][:20]

        found = await asyncio.gather(*(client.user(user.id) for user in users))

        assert [user.id for user in found] == [user.id for user in users]
        assert client.fetcher.stats.counters["client_id_refreshes"] == 1
        assert [e.path for e in site.log if e.listener == "web"] == ["/", "/"]

    async def test_a_second_401_after_the_refresh_surfaces(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = SoundCloudClient(_ExpiresEveryIdItReads(site, http), endpoints_of(site))

        with pytest.raises(FetchError) as raised:
            await client.user(graph.users[0].id)

        assert raised.value.status == 401
        assert client.fetcher.stats.counters["client_id_refreshes"] == 1
        assert api_calls(site) == [(f"/users/{graph.users[0].id}", 401)] * 2

    async def test_a_stale_client_id_inside_a_url_is_replaced_not_repeated(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http)
        user = graph.users[0]

        found = await client.api(f"{site.api_url}/users/{user.id}?client_id={'x' * 32}")

        assert found["id"] == user.id
        assert api_calls(site) == [(f"/users/{user.id}", 200)]


class TestPaging:
    async def test_a_walk_follows_next_href_to_the_end_of_the_list(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http, page_size=25)
        user_id = most_followed(graph)
        followers = graph.followers(user_id)

        walked = [user.id async for user in client.followers(user_id)]

        assert walked == [u.id for u in followers if not u.malformed]
        assert len(api_calls(site)) == -(-len(followers) // 25)
        assert all(status == 200 for _, status in api_calls(site))

    async def test_a_limit_stops_the_walk_without_fetching_further_pages(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http, page_size=10)

        found = [user.permalink async for user in client.search_users("berlin", limit=25)]

        assert len(found) == 25
        assert len(api_calls(site)) == 3

    async def test_a_limit_beyond_the_list_yields_the_whole_list(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        user = graph.users[0]

        found = [u.id async for u in client.followings(user.id, limit=1_000)]

        assert found == [u.id for u in graph.followings(user.id) if not u.malformed]

    async def test_malformed_items_are_skipped_and_counted(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        found = [user async for user in client.search_users("")]
        malformed = [user for user in graph.users if user.malformed]

        assert len(found) == len(graph.users) - len(malformed)
        assert client.fetcher.stats.counters["malformed"] == len(malformed)
        assert not {user.id for user in found} & {user.id for user in malformed}

    async def test_track_lists_parse_into_tracks_with_their_tags(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if len(u.tracks) > 2 and not u.malformed)

        tracks = [track async for track in client.user_tracks(user.id)]

        assert {track.id: track.tags for track in tracks} == {t.id: t.tags for t in user.tracks}

    async def test_search_tracks_filters_on_genre_or_tag(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        tracks = [t async for t in client.search_tracks("", genre_or_tag="deep house", limit=50)]

        assert tracks
        for track in tracks:
            assert track.genre == "Deep House" or "deep house" in track.tags

    async def test_recent_tracks_take_a_multi_word_tag(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        tracks = [t async for t in client.recent_tracks("deep house", limit=30)]

        assert [t.id for t in tracks] == [t.id for t in graph.tagged_tracks("deep house")[:30]]

    async def test_related_artists_and_tracks_are_walked_like_any_list(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if u.tracks and not u.malformed)

        artists = [a.id async for a in client.related_artists(user.id, limit=5)]
        tracks = [t.id async for t in client.related_tracks(user.tracks[0].id, limit=5)]

        assert artists == [a.id for a in graph.related_artists(user.id) if not a.malformed][:5]
        assert tracks == [t.id for t in graph.related_tracks(user.tracks[0].id)][:5]


class TestResolve:
    async def test_a_profile_url_resolves_to_the_user(
        self, client: SoundCloudClient, site: FixtureSite, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if not u.malformed)

        found = await client.resolve(f"{site.web_url}/{user.permalink}?si=shared-link#top")

        assert isinstance(found, SoundCloudUser)
        assert (found.id, found.permalink, found.username) == (
            user.id,
            user.permalink,
            user.username,
        )

    async def test_a_track_url_resolves_to_the_track_and_its_uploader(
        self, client: SoundCloudClient, site: FixtureSite, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if u.tracks and not u.malformed)
        track = user.tracks[0]

        found = await client.resolve(f"{site.web_url}/{user.permalink}/{track.permalink}")

        assert isinstance(found, SoundCloudTrack)
        assert (found.id, found.title, found.user_id) == (track.id, track.title, user.id)

    async def test_a_bare_permalink_resolves_too(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if not u.malformed)

        found = await client.resolve(user.permalink)

        assert isinstance(found, SoundCloudUser) and found.id == user.id

    @pytest.mark.parametrize(
        "url_on",
        [
            pytest.param(lambda site: "https://evil.example/someone", id="another host"),
            pytest.param(lambda site: f"{site.links_url}/someone", id="link-in-bio host"),
            pytest.param(lambda site: f"{site.api_url}/users/1", id="api host"),
            pytest.param(lambda site: f"ftp{site.web_url[4:]}/someone", id="not http"),
            pytest.param(lambda site: f"{site.web_url}/", id="no page path"),
        ],
    )
    async def test_anything_but_a_soundcloud_page_is_refused_before_any_request(
        self,
        start_site: SiteFactory,
        http: aiohttp.ClientSession,
        url_on: Callable[[FixtureSite], str],
    ) -> None:
        site = await start_site()
        client = client_for(site, http)

        with pytest.raises(DisallowedHost):
            await client.resolve(url_on(site))

        assert site.log == []

    async def test_an_unknown_page_is_a_404(self, client: SoundCloudClient) -> None:
        with pytest.raises(FetchError) as raised:
            await client.resolve("no-such-artist-anywhere")

        assert raised.value.status == 404


class TestUsersAndProfiles:
    async def test_user_returns_the_full_api_object(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if u.description and not u.malformed)

        found = await client.user(user.id)

        assert (found.id, found.followers_count, found.track_count) == (
            user.id,
            user.followers_count,
            user.track_count,
        )
        assert found.description is not None

    async def test_profile_reads_the_user_from_the_page_hydration(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_for(site, http)
        user = next(u for u in graph.users if u.city and not u.malformed)

        found = await client.profile(user.permalink)

        assert (found.id, found.city, found.username) == (user.id, user.city, user.username)
        assert {e.listener for e in site.log} == {"web"}

    async def test_a_truncated_profile_page_is_malformed(
        self, client: SoundCloudClient, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if u.malformed)

        with pytest.raises(MalformedPage):
            await client.profile(user.permalink)


class TestWebProfiles:
    async def test_web_profiles_are_listed_with_their_urls(
        self, client: SoundCloudClient, site: FixtureSite, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if len(u.web_profiles) > 1)

        profiles = await client.web_profiles(user.id)

        assert [p["network"] for p in profiles] == [p.network for p in user.web_profiles]
        assert [p["url"] for p in profiles] == [site.urls.rebase(p.url) for p in user.web_profiles]

    async def test_a_401_means_logged_in_only_so_the_list_is_empty_and_the_id_kept(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(web_profiles_need_auth=True)
        client = client_for(site, http)
        user = next(u for u in graph.users if u.web_profiles)

        assert await client.web_profiles(user.id) == []
        assert client.fetcher.stats.counters["web_profiles_unavailable"] == 1
        assert client.fetcher.stats.counters["client_id_refreshes"] == 0
        assert len(api_calls(site)) == 1
