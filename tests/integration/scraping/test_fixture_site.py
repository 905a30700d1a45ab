"""The SoundCloud-shaped fixture site: a deterministic graph, served over HTTP in the shapes
SOUNDCLOUD.md describes, with SoundCloud's failure modes (stale client ids, 429 storms, 502s)
and a request log that tests and benchmarks read from the server's side."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import statistics
import urllib.robotparser
from collections import Counter
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from scraping.fixture import FixtureGraph, FixtureSite
from scraping.fixture.graph import FixtureUser, tag_slug
from scraping.fixture.search import SearchIndex
from scraping.fixture.site import LoggedRequest
from tests.integration.scraping.conftest import SiteFactory

pytestmark = pytest.mark.integration

HYDRATION = re.compile(r"<script>window\.__sc_hydration = (.*?);</script>", re.DOTALL)
DAY = date(2026, 6, 1)


def hydration_text(page: str) -> str:
    found = HYDRATION.search(page)
    assert found is not None, "no hydration script"
    return found[1]


def hydration_of(page: str) -> dict[str, Any]:
    return {entry["hydratable"]: entry["data"] for entry in json.loads(hydration_text(page))}


async def fetch(
    http: aiohttp.ClientSession, url: str, /, **params: str
) -> tuple[int, str, CIMultiDictProxy[str]]:
    async with http.get(url, params=params) as response:
        return response.status, await response.text(), response.headers


async def api(http: aiohttp.ClientSession, site: FixtureSite, path: str, /, **params: str) -> Any:
    """An API call with the current client id; fails the test unless it answers 200."""
    url = path if "://" in path else f"{site.api_url}{path}"
    status, body, _ = await fetch(http, url, client_id=site.client_id, **params)
    assert status == 200, body
    return json.loads(body)


async def walk(http: aiohttp.ClientSession, site: FixtureSite, path: str, /, **params: str) -> Any:
    """Every item of a paged list, following next_href (and adding the client id back)."""
    page = await api(http, site, path, linked_partitioning="1", **params)
    items = list(page["collection"])
    while page["next_href"]:
        page = await api(http, site, page["next_href"])
        items += page["collection"]
    return items


async def next_client_id(site: FixtureSite) -> str:
    """Wait for the clock-driven rotation (the site has no event to wait on) and return the
    new id."""
    current = site.client_id
    while site.client_id == current:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    return site.client_id


def usable(users: list[FixtureUser]) -> list[FixtureUser]:
    return [user for user in users if not user.malformed]


@pytest.fixture(scope="module")
def big_graph() -> FixtureGraph:
    return FixtureGraph(10_000, seed=7, today=DAY)


class TestGraphGeneration:
    def test_the_same_seed_builds_the_same_graph(self) -> None:
        first, second = FixtureGraph(300, seed=3, today=DAY), FixtureGraph(300, seed=3, today=DAY)

        assert first.users == second.users
        assert [first.followings(u.id) for u in first.users] == [
            second.followings(u.id) for u in second.users
        ]

    def test_another_seed_builds_another_graph(self) -> None:
        first, second = FixtureGraph(300, seed=3, today=DAY), FixtureGraph(300, seed=4, today=DAY)

        assert [u.permalink for u in first.users] != [u.permalink for u in second.users]

    def test_a_10000_artist_graph_has_unique_ids_and_lowercase_slug_permalinks(
        self, big_graph: FixtureGraph
    ) -> None:
        permalinks = [user.permalink for user in big_graph.users]

        assert len(big_graph.users) == 10_000
        assert len({user.id for user in big_graph.users}) == 10_000
        assert len(set(permalinks)) == 10_000
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p) for p in permalinks)
        assert any("-" in p for p in permalinks) and any(re.search(r"\d", p) for p in permalinks)

    def test_every_artist_follows_3_to_30_others(self, big_graph: FixtureGraph) -> None:
        for user in big_graph.users:
            followed = big_graph.followings(user.id)
            assert 3 <= len(followed) <= 30
            assert user not in followed
            assert len({f.id for f in followed}) == len(followed)
            assert user.followings_count == len(followed)

    def test_reach_follows_a_power_law(self, big_graph: FixtureGraph) -> None:
        followers = [user.followers_count for user in big_graph.users]

        assert statistics.median(followers) < 500
        assert 0.005 < sum(count > 5_000 for count in followers) / len(followers) < 0.05
        assert any(count >= 1_000_000 for count in followers)

    def test_popular_artists_are_followed_most_and_mostly_within_their_genre(
        self, big_graph: FixtureGraph
    ) -> None:
        by_reach = sorted(big_graph.users, key=lambda u: -u.followers_count)
        edges = [(u, f) for u in big_graph.users for f in big_graph.followings(u.id)]

        top = statistics.mean(len(big_graph.followers(u.id)) for u in by_reach[:100])
        bottom = statistics.mean(len(big_graph.followers(u.id)) for u in by_reach[5_000:])
        assert top > 5 * bottom
        assert sum(u.genre == f.genre for u, f in edges) / len(edges) > 0.5

    def test_shares_of_verified_malformed_and_link_in_bio_artists(
        self, big_graph: FixtureGraph
    ) -> None:
        users = big_graph.users
        pages = [u.link_page for u in users if u.link_page is not None]

        assert 0.01 < sum(u.verified for u in users) / len(users) < 0.03
        assert sum(u.malformed for u in users) == 50
        assert 0.07 < len(pages) / len(users) < 0.13
        assert 0.35 < sum(page.scripted for page in pages) / len(pages) < 0.65

    def test_profiles_are_as_messy_as_real_ones(self, big_graph: FixtureGraph) -> None:
        users = big_graph.users
        descriptions = [u.description for u in users if u.description]

        assert any(u.full_name is None for u in users)
        assert any(u.city is None and u.country_code for u in users)
        assert any(
            re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", u.username) for u in users
        )
        assert any(re.search(r"[\u0590-\u06ff]", u.username) for u in users)
        assert any(re.search(r"[\U0001f300-\U0001faff]", u.username) for u in users)
        for marker in ("[at]", "(at)", "{at}", "[dot]", "(dot) co (dot) uk", "gate.sc?url="):
            assert any(marker in d for d in descriptions), marker
        assert any("gate.sc/?url=" in d for d in descriptions)
        assert any(re.search(r"\w@\w+\.\w+", d) for d in descriptions)

    def test_tracks_spread_over_the_last_three_years(self, big_graph: FixtureGraph) -> None:
        created = [track.created_at.date() for track in big_graph.tracks]

        assert min(created) >= DAY - timedelta(days=3 * 366)
        assert max(created) <= DAY
        assert sum(DAY - day < timedelta(days=30) for day in created) > 100
        assert sum(DAY - day > timedelta(days=2 * 365) for day in created) > 100
        assert all(0 <= user.track_count <= 6 for user in big_graph.users)

    def test_tag_lists_quote_multi_word_tags(self, big_graph: FixtureGraph) -> None:
        track = next(t for t in big_graph.tracks if any(" " in tag for tag in t.tags))
        multi_word = next(tag for tag in track.tags if " " in tag)

        assert f'"{multi_word}"' in track.tag_list
        assert multi_word in big_graph.tags

    def test_a_scripted_link_page_only_yields_its_address_to_a_browser(
        self, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if u.link_page and u.link_page.scripted)
        assert user.link_page is not None

        assert user.link_page.emails <= graph.expected_emails(user)
        assert not user.link_page.emails & graph.expected_emails(user, javascript=False)

    def test_a_link_page_only_in_the_web_profiles_needs_the_web_profiles(
        self, graph: FixtureGraph
    ) -> None:
        user = next(u for u in graph.users if u.link_page and not u.link_page_in_description)
        assert user.link_page is not None

        assert user.link_page.emails <= graph.expected_emails(user)
        assert not user.link_page.emails & graph.expected_emails(user, web_profiles=False)


class TestDeterministicPages:
    async def test_two_sites_on_the_same_seed_serve_byte_identical_pages(
        self, http: aiohttp.ClientSession
    ) -> None:
        graphs = [FixtureGraph(200, seed=11, today=DAY) for _ in range(2)]
        # A static link page: a scripted one hides the site's address in base64.
        user = next(
            u for u in graphs[0].users if u.tracks and u.link_page and not u.link_page.scripted
        )
        assert user.link_page is not None
        paths = [
            ("web", "/"),
            ("web", f"/{user.permalink}"),
            ("web", f"/{user.permalink}/{user.tracks[0].permalink}"),
            ("links", f"/{user.link_page.name}"),
            ("api", f"/users/{user.id}/followings"),
            ("api", f"/users/soundcloud:users:{user.id}/web-profiles"),
        ]
        bodies = []
        for graph in graphs:
            async with FixtureSite(graph, error_rate=0.0) as site:
                bases = {"web": site.web_url, "api": site.api_url, "links": site.links_url}
                served = []
                for listener, path in paths:
                    _, body, _ = await fetch(http, bases[listener] + path, client_id=site.client_id)
                    for name, base in bases.items():
                        body = body.replace(base, name).replace(quote(base, safe=""), name)
                    served.append(body)
                bodies.append(served)

        assert bodies[0] == bodies[1]


class TestPages:
    async def test_the_home_page_hydrates_the_client_id_and_links_a_bundle_holding_it(
        self, site: FixtureSite, http: aiohttp.ClientSession
    ) -> None:
        _, page, _ = await fetch(http, f"{site.web_url}/")
        hydration = hydration_of(page)
        bundles = re.findall(r'<script crossorigin src="([^"]+)"></script>', page)
        sources = [(await fetch(http, url))[1] for url in bundles]

        assert {"anonymousId", "features", "experiments", "geoip"} <= set(hydration)
        assert hydration["apiClient"] == {"id": site.client_id, "isExpiring": False}
        assert re.fullmatch(r"[A-Za-z0-9]{32}", site.client_id)
        assert "window.__sc_version" in page
        assert len(bundles) > 2
        assert all(re.fullmatch(rf"{site.web_url}/assets/\d+-[0-9a-f]+\.js", u) for u in bundles)
        assert [s for s in sources if f'client_id:"{site.client_id}"' in s] == [sources[-1]]

    async def test_a_profile_page_hydrates_the_full_user(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in usable(graph.users) if u.description and u.full_name)
        _, page, _ = await fetch(http, f"{site.web_url}/{user.permalink}")
        hydrated = hydration_of(page)["user"]

        assert hydrated["id"] == user.id
        assert hydrated["kind"] == "user"
        assert hydrated["permalink_url"] == f"{site.web_url}/{user.permalink}"
        assert hydrated["username"] == user.username
        assert hydrated["followers_count"] == user.followers_count
        assert hydrated["description"] == site.urls.rebase(user.description or "")
        assert hydrated["badges"]["verified"] == user.verified
        assert hydration_of(page)["apiClient"]["id"] == site.client_id

    async def test_a_description_closing_a_tag_cannot_end_the_script(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in usable(graph.users) if u.description and "</3" in u.description)
        _, page, _ = await fetch(http, f"{site.web_url}/{user.permalink}")

        assert "<\\/3" in hydration_text(page)
        assert "</3" in hydration_of(page)["user"]["description"]

    async def test_a_malformed_profile_has_truncated_hydration(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in graph.users if u.malformed)
        status, page, _ = await fetch(http, f"{site.web_url}/{user.permalink}")

        assert status == 200
        with pytest.raises(json.JSONDecodeError):
            hydration_of(page)

    async def test_a_track_page_hydrates_the_sound(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in usable(graph.users) if u.tracks)
        track = user.tracks[0]
        _, page, _ = await fetch(http, f"{site.web_url}/{user.permalink}/{track.permalink}")
        sound = hydration_of(page)["sound"]

        assert (sound["id"], sound["kind"], sound["title"]) == (track.id, "track", track.title)
        assert sound["user"]["permalink"] == user.permalink

    async def test_unknown_pages_are_404_html(
        self, site: FixtureSite, http: aiohttp.ClientSession
    ) -> None:
        for url in (
            f"{site.web_url}/no-such-artist-anywhere",
            f"{site.web_url}/assets/99-nope.js",
            f"{site.links_url}/no_such_page",
        ):
            status, body, headers = await fetch(http, url)
            assert (status, headers["Content-Type"]) == (404, "text/html; charset=utf-8"), url
            assert "<html" in body

    async def test_a_static_link_page_lists_its_links_and_a_mailto(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        page = next(u.link_page for u in graph.users if u.link_page and not u.link_page.scripted)
        _, body, _ = await fetch(http, f"{site.links_url}/{page.name}")
        hrefs = re.findall(r'<a href="([^"]+)"', body)

        assert {href.removeprefix("mailto:").split("?")[0] for href in hrefs} >= page.emails
        assert f"{site.web_url}/" in " ".join(hrefs)  # its SoundCloud link points at the site

    async def test_a_scripted_link_page_shows_no_link_without_javascript(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        page = next(u.link_page for u in graph.users if u.link_page and u.link_page.scripted)
        _, body, _ = await fetch(http, f"{site.links_url}/{page.name}")

        assert "<script>" in body
        assert "<a " not in body and "mailto" not in body
        assert not any(email in body for email in page.emails)


class TestClientIdCheck:
    async def test_a_call_without_a_client_id_is_401_json(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        status, body, _ = await fetch(http, f"{site.api_url}/users/{graph.users[0].id}")

        assert status == 401
        assert json.loads(body)["errors"] == [{"error_message": "invalid_client"}]

    async def test_a_made_up_client_id_is_401(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        status, _, _ = await fetch(
            http, f"{site.api_url}/users/{graph.users[0].id}", client_id="x" * 32
        )

        assert status == 401

    async def test_an_expired_client_id_is_401_and_the_new_one_is_on_the_home_page(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        old = site.client_id
        url = f"{site.api_url}/users/{graph.users[0].id}"
        assert (await fetch(http, url, client_id=old))[0] == 200

        new = site.expire_client_id()
        _, home, _ = await fetch(http, f"{site.web_url}/")

        assert new != old
        assert (await fetch(http, url, client_id=old))[0] == 401
        assert hydration_of(home)["apiClient"]["id"] == new
        assert (await fetch(http, url, client_id=new))[0] == 200

    async def test_with_a_ttl_the_id_rotates_and_the_previous_one_stays_valid_for_a_while(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(client_id_ttl=0.5)
        url = f"{site.api_url}/users/{graph.users[0].id}"
        first = site.client_id
        second = await next_client_id(site)

        assert second != first
        assert (await fetch(http, url, client_id=first))[0] == 200
        await next_client_id(site)
        assert (await fetch(http, url, client_id=first))[0] == 401


class TestPaging:
    async def test_next_href_is_on_the_api_host_without_the_client_id(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = max(graph.users, key=lambda u: len(graph.followers(u.id)))
        page = await api(http, site, f"/users/{user.id}/followers", limit="5")
        next_href = urlsplit(page["next_href"])

        assert f"{next_href.scheme}://{next_href.netloc}" == site.api_url
        assert "client_id" not in parse_qs(next_href.query)
        assert parse_qs(next_href.query)["offset"] == ["5"]
        assert len(page["collection"]) == 5

    async def test_following_next_href_walks_the_whole_list_once(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = max(graph.users, key=lambda u: len(graph.followers(u.id)))
        walked = await walk(http, site, f"/users/{user.id}/followers", limit="7")

        assert [item["id"] for item in walked] == [f.id for f in graph.followers(user.id)]

    async def test_the_last_page_has_a_null_next_href(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = graph.users[0]
        page = await api(http, site, f"/users/{user.id}/followings", limit="200")

        assert page["next_href"] is None
        assert len(page["collection"]) == user.followings_count

    async def test_limit_is_clamped_to_200_and_defaults_to_10_for_search_and_20_for_lists(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        popular = max(graph.users, key=lambda u: len(graph.followers(u.id)))

        assert (
            len((await api(http, site, "/search/users", q="", limit="5000"))["collection"]) == 200
        )
        assert len((await api(http, site, "/search/users", q=""))["collection"]) == 10
        assert len((await api(http, site, f"/users/{popular.id}/followers"))["collection"]) == 20

    async def test_a_limit_that_is_not_a_number_is_400(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        status, _, _ = await fetch(
            http,
            f"{site.api_url}/users/{graph.users[0].id}/followings",
            client_id=site.client_id,
            limit="many",
        )

        assert status == 400


class TestSearch:
    async def test_search_pages_carry_total_results_and_a_stable_query_urn(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        expected = SearchIndex(graph).users("Berlin")
        first = await api(http, site, "/search/users", q="berlin", limit="5")
        second = await api(http, site, first["next_href"])

        assert first["total_results"] == second["total_results"] == len(expected) > 5
        assert re.fullmatch(r"soundcloud:search:[0-9a-f]{32}", first["query_urn"])
        assert first["query_urn"] == second["query_urn"]
        assert [u["id"] for u in first["collection"] + second["collection"]] == [
            u.id for u in expected[:10]
        ]

    async def test_search_matches_words_of_names_cities_genres_and_tags_in_any_case(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in usable(graph.users) if u.city and u.tracks and u.tracks[0].tags)
        tag = user.tracks[0].tags[0]
        assert user.city is not None

        for query in (user.permalink.upper(), user.city.lower(), user.genre, tag):
            found = await walk(http, site, "/search/users", q=query, limit="200")
            assert user.id in {item["id"] for item in found}, query

    async def test_search_results_are_the_short_user_form_with_some_nulls(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        found = await walk(http, site, "/search/users", q="", limit="200")

        assert len(found) == len(graph.users)
        assert not any("description" in item for item in found)
        assert any(item["followers_count"] is None for item in found)
        assert any(item["city"] is None and item.get("permalink") for item in found)

    async def test_malformed_users_show_up_in_collections_without_a_permalink(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        found = await walk(http, site, "/search/users", q="", limit="200")
        broken = {item["id"] for item in found if "permalink" not in item}

        assert broken == {user.id for user in graph.users if user.malformed}

    async def test_track_search_filters_on_genre_or_tag(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        found = await walk(
            http, site, "/search/tracks", q="", limit="200", **{"filter.genre_or_tag": "techno"}
        )

        assert found
        for item in found:
            track = graph.track_by_id(item["id"])
            assert "techno" in {tag_slug(track.genre), *(tag_slug(tag) for tag in track.tags)}

    async def test_the_mixed_search_returns_users_and_tracks(
        self, site: FixtureSite, http: aiohttp.ClientSession
    ) -> None:
        found = await walk(http, site, "/search", q="midnight", limit="200")

        assert {item["kind"] for item in found} == {"user", "track"}


class TestApiObjects:
    async def test_resolve_tells_users_and_tracks_apart_by_kind(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in usable(graph.users) if u.tracks)
        track = user.tracks[0]
        as_user = await api(http, site, "/resolve", url=f"{site.web_url}/{user.permalink}")
        as_track = await api(
            http, site, "/resolve", url=f"{site.web_url}/{user.permalink}/{track.permalink}"
        )

        assert (as_user["kind"], as_user["id"]) == ("user", user.id)
        assert (as_track["kind"], as_track["id"], as_track["user_id"]) == (
            "track",
            track.id,
            user.id,
        )
        assert as_track["tag_list"] == track.tag_list

    async def test_unknown_ids_and_urls_are_404_json(
        self, site: FixtureSite, http: aiohttp.ClientSession
    ) -> None:
        for path, params in (
            ("/users/1", {}),
            ("/tracks/1/related", {}),
            ("/resolve", {"url": f"{site.web_url}/no-such-artist-anywhere"}),
            ("/resolve", {"url": "https://example.com/someone"}),
            ("/no/such/endpoint", {}),
        ):
            status, body, _ = await fetch(
                http, f"{site.api_url}{path}", client_id=site.client_id, **params
            )
            assert (status, json.loads(body)["code"]) == (404, 404), path

    async def test_lists_of_tracks_and_related_artists_answer(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in usable(graph.users) if len(u.tracks) > 2)
        tracks = await walk(http, site, f"/users/{user.id}/tracks")
        top = await walk(http, site, f"/users/{user.id}/toptracks")
        related = await walk(http, site, f"/users/{user.id}/relatedartists")
        similar = await walk(http, site, f"/tracks/{user.tracks[0].id}/related")

        assert sorted(t["id"] for t in tracks) == sorted(t.id for t in user.tracks)
        assert [t["playback_count"] for t in top] == sorted(
            (t.playback_count for t in user.tracks), reverse=True
        )
        assert related and {a["id"] for a in related} <= {
            u.id for u in graph.users if u.genre == user.genre
        }
        assert similar and user.tracks[0].id not in {t["id"] for t in similar}

    async def test_recent_tracks_take_a_multi_word_tag_hyphenated_or_spaced(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        hyphenated = await api(http, site, "/recent-tracks/deep-house", limit="50")
        spaced = await api(http, site, f"/recent-tracks/{quote('deep house')}", limit="50")
        dates = [t["created_at"] for t in hyphenated["collection"]]

        assert hyphenated["collection"] == spaced["collection"]
        assert hyphenated["collection"]
        assert dates == sorted(dates, reverse=True)

    async def test_web_profiles_list_url_network_title_and_username(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        user = next(u for u in graph.users if u.link_page and len(u.web_profiles) > 2)
        assert user.link_page is not None
        profiles = await api(http, site, f"/users/soundcloud:users:{user.id}/web-profiles")
        unwrapped = [
            parse_qs(urlsplit(p["url"]).query)["url"][0] if "gate.sc" in p["url"] else p["url"]
            for p in profiles
        ]

        assert all(set(p) == {"url", "network", "title", "username"} for p in profiles)
        assert f"{site.links_url}/{user.link_page.name}" in unwrapped

    async def test_web_profiles_can_demand_a_logged_in_client(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(web_profiles_need_auth=True)
        status, _, _ = await fetch(
            http,
            f"{site.api_url}/users/soundcloud:users:{graph.users[0].id}/web-profiles",
            client_id=site.client_id,
        )

        assert status == 401


class TestRateLimit:
    async def test_a_burst_over_the_limit_gets_429s_in_both_body_forms_without_retry_after(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(rate_limit=10)
        url = f"{site.api_url}/users/{graph.users[0].id}"

        async def call() -> tuple[int, str, str | None, str | None]:
            async with http.get(url, params={"client_id": site.client_id}) as response:
                headers = response.headers
                return (
                    response.status,
                    await response.text(),
                    headers.get("Retry-After"),
                    headers.get("x-ratelimit-limit"),
                )

        answers = await asyncio.gather(*(call() for _ in range(30)))
        assert site.max_in_window("api") == 30  # the burst fell within one second
        slowed = [body for status, body, _, _ in answers if status == 429]

        assert Counter(status for status, *_ in answers) == {200: 10, 429: 20}
        assert set(slowed) == {"Please slow down.", '{"error":"rate_limit_exceeded"}'}
        assert all(retry_after is None for _, _, retry_after, _ in answers)
        assert all(limit == "10" for *_, limit in answers)

    async def test_each_listener_is_limited_on_its_own(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(rate_limit=5)
        url = f"{site.api_url}/users/{graph.users[0].id}"
        await asyncio.gather(*(fetch(http, url, client_id=site.client_id) for _ in range(20)))

        assert (await fetch(http, f"{site.web_url}/{graph.users[0].permalink}"))[0] == 200
        assert site.counts()["api"][429] > 0


class TestServerErrors:
    async def test_paged_lists_answer_502_at_the_configured_rate_and_a_retry_can_succeed(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(error_rate=0.25)
        url = f"{site.api_url}/users/{graph.users[0].id}/followings"
        statuses = [(await fetch(http, url, client_id=site.client_id))[0] for _ in range(400)]

        assert set(statuses) == {200, 502}
        assert 60 < statuses.count(502) < 140
        assert any(a == 502 and b == 200 for a, b in itertools.pairwise(statuses))

    async def test_the_errors_repeat_from_the_seed(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        runs = []
        for _ in range(2):
            site = await start_site(error_rate=0.25)
            url = f"{site.api_url}/users/{graph.users[0].id}/followings"
            runs.append([(await fetch(http, url, client_id=site.client_id))[0] for _ in range(40)])

        assert runs[0] == runs[1]

    async def test_single_objects_never_answer_502(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(error_rate=1.0)
        user_url = f"{site.api_url}/users/{graph.users[0].id}"
        single, _, _ = await fetch(http, user_url, client_id=site.client_id)
        paged, _, _ = await fetch(http, f"{user_url}/tracks", client_id=site.client_id)

        assert (single, paged) == (200, 502)

    async def test_with_every_request_in_scope_single_objects_answer_502_too(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(error_rate=0.25, error_scope="all")
        url = f"{site.api_url}/users/{graph.users[0].id}"
        statuses = [(await fetch(http, url, client_id=site.client_id))[0] for _ in range(200)]

        assert set(statuses) == {200, 502}
        assert 25 < statuses.count(502) < 75

    async def test_with_every_request_in_scope_robots_txt_never_fails(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(error_rate=1.0, error_scope="all")
        assert (await fetch(http, f"{site.api_url}/robots.txt"))[0] == 200
        assert (await fetch(http, f"{site.api_url}/users/1", client_id=site.client_id))[0] == 502

    async def test_an_unknown_error_scope_is_refused(self, graph: FixtureGraph) -> None:
        with pytest.raises(ValueError, match="error_scope"):
            FixtureSite(graph, error_scope="some")  # type: ignore[arg-type]


class TestRobotsTxt:
    async def test_each_listener_serves_one_without_a_client_id(
        self, site: FixtureSite, http: aiohttp.ClientSession
    ) -> None:
        for base in (site.web_url, site.api_url, site.links_url):
            status, body, headers = await fetch(http, f"{base}/robots.txt")
            assert status == 200
            assert headers["Content-Type"].startswith("text/plain")
            assert body.startswith("User-agent: *\n")

    async def test_by_default_the_web_host_allows_what_discovery_reads(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        _, body, _ = await fetch(http, f"{site.web_url}/robots.txt")
        rules = urllib.robotparser.RobotFileParser()
        rules.parse(body.splitlines())
        user = graph.users[0]
        for path in ("/", f"/{user.permalink}", "/assets/49.js"):
            assert rules.can_fetch("CampaignManager", f"{site.web_url}{path}"), path
        assert not rules.can_fetch("CampaignManager", f"{site.web_url}/search?q=x")

    async def test_the_disallowed_paths_can_be_chosen_per_listener(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(robots_disallowed={"web": ["/private-artist"], "api": []})
        assert (await fetch(http, f"{site.web_url}/robots.txt"))[1] == (
            "User-agent: *\nDisallow: /private-artist\n"
        )
        assert (await fetch(http, f"{site.api_url}/robots.txt"))[1] == "User-agent: *\nDisallow:\n"
        assert "Disallow: /admin" in (await fetch(http, f"{site.links_url}/robots.txt"))[1]

    async def test_a_listener_that_does_not_exist_is_refused(self, graph: FixtureGraph) -> None:
        with pytest.raises(ValueError, match="robots_disallowed"):
            FixtureSite(graph, robots_disallowed={"cdn": ["/"]})


class TestETags:
    async def test_a_200_carries_an_etag_and_asking_with_it_gets_an_empty_304(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        url = f"{site.api_url}/users/{graph.users[0].id}?client_id={site.client_id}"
        async with http.get(url) as response:
            etag = response.headers["ETag"]
        async with http.get(url, headers={"If-None-Match": etag}) as response:
            assert (response.status, await response.read()) == (304, b"")
        async with http.get(url, headers={"If-None-Match": '"other"'}) as response:
            assert response.status == 200
        assert [entry.status for entry in site.log] == [200, 304, 200]

    async def test_another_body_has_another_etag(
        self, site: FixtureSite, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        tags = set()
        for user in graph.users[:3]:
            tags.add((await fetch(http, f"{site.web_url}/{user.permalink}"))[2]["ETag"])
        assert len(tags) == 3

    async def test_etags_can_be_turned_off(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(etags=False)
        assert "ETag" not in (await fetch(http, f"{site.web_url}/"))[2]


class TestRequestLog:
    async def test_every_request_is_logged_with_listener_path_and_status(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        await fetch(http, f"{site.web_url}/")
        await fetch(http, f"{site.api_url}/users/1")
        await fetch(http, f"{site.links_url}/nobody_here")

        assert [(e.listener, e.path, e.status) for e in site.log] == [
            ("web", "/", 200),
            ("api", "/users/1", 401),
            ("links", "/nobody_here", 404),
        ]
        assert site.counts()["api"] == {401: 1}

    async def test_reset_log_forgets_earlier_requests(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        await fetch(http, f"{site.web_url}/")
        site.reset_log()

        assert site.log == []
        assert site.counts() == {"web": {}, "api": {}, "links": {}}

    async def test_max_in_window_slides_over_arrival_times(self, start_site: SiteFactory) -> None:
        site = await start_site()
        site.log.extend(
            LoggedRequest(listener, arrived, "/", 200)
            for listener, arrived in [
                ("api", 10.0),
                ("api", 10.1),
                ("api", 10.5),
                ("web", 10.6),
                ("api", 11.05),
                ("api", 11.2),
            ]
        )

        assert site.max_in_window("api") == 3
        assert site.max_in_window("api", window=2.0) == 5
        assert site.max_in_window("api", window=0.05) == 1
        assert site.max_in_window("links") == 0
