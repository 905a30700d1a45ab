"""Link-in-bio pages are optional: a scraper reading an artist gives them a bounded share of
its time, skips (and says why) what it cannot read in that time, and stops asking a host that
keeps failing. Scrapers here run without Ray, against the fixture site and the embedded Redis
that keeps their pacing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from actors.scraper_pool import LINK_IN_BIO_FAILURES, Scraper
from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite
from scraping.fixture.graph import FixtureUser
from tests.integration.scraping.conftest import SiteFactory

pytestmark = pytest.mark.integration


def linked_users(graph: FixtureGraph, count: int) -> list[FixtureUser]:
    """Artists whose profile links a link-in-bio page, and whose profile reads cleanly."""
    return [u for u in graph.users if u.link_page is not None and not u.malformed][:count]


@pytest.fixture
async def scraper_for(redis_url: str) -> AsyncIterator[Any]:
    made: list[Scraper] = []

    def make(site: FixtureSite, **overrides: Any) -> Scraper:
        settings = Settings(
            soundcloud_web_url=site.web_url,
            soundcloud_api_url=site.api_url,
            soundcloud_link_in_bio_hosts=urlsplit(site.links_url).netloc,
            soundcloud_requests_per_second=0,
            redis_url=redis_url,
            chromium_path="",
            **overrides,
            _env_file=None,
        )
        made.append(Scraper(settings))
        return made[-1]

    yield make
    for scraper in made:
        await scraper.close()


class TestAHostThatNeverAnswers:
    async def test_each_artist_is_read_within_the_budget_until_the_host_is_left_alone(
        self, start_site: SiteFactory, graph: FixtureGraph, scraper_for: Any
    ) -> None:
        site = await start_site(silent_links=True)
        scraper = scraper_for(site, link_in_bio_requests_per_second=0, link_in_bio_budget_seconds=1)
        users = linked_users(graph, LINK_IN_BIO_FAILURES + 2)
        reasons = [(await scraper.details(user.id)).unread_pages for user in users]
        # Out of time or out of tries (whichever bound struck first): the host failed.
        failed = [{"link_in_bio_timeout"}, {"link_in_bio_failed"}]
        assert all(set(reason) in failed for reason in reasons[:LINK_IN_BIO_FAILURES]), reasons
        assert reasons[LINK_IN_BIO_FAILURES:] == [["link_in_bio_host_down"]] * 2
        # The artists themselves are read in full: what their SoundCloud profile says is kept.
        details = await scraper.details(users[0].id)
        assert details.user.permalink == users[0].permalink
        assert {email for email, _ in details.emails} >= set(users[0].description_emails)


class TestAHostWhoseTurnIsFarAway:
    async def test_its_page_is_skipped_at_once_as_busy(
        self, start_site: SiteFactory, graph: FixtureGraph, scraper_for: Any
    ) -> None:
        site = await start_site()
        # One request per 100 s: the first page takes the turn, the next one's is too far
        # (robots.txt ignored: reading it would take that one turn).
        scraper = scraper_for(
            site, link_in_bio_requests_per_second=0.01, scraper_robots_txt="ignore"
        )
        first, second = linked_users(graph, 2)
        assert (await scraper.details(first.id)).unread_pages == []
        assert (await scraper.details(second.id)).unread_pages == ["link_in_bio_busy"]
        assert sum(1 for entry in site.log if entry.listener == "links") == 1
