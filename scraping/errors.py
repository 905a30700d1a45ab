"""What can go wrong while scraping. Job code counts and skips these; nothing here is fatal to a
walk over many pages."""

from __future__ import annotations


class ScrapeError(Exception):
    """Base of every error raised by ``scraping``."""


class DisallowedHost(ScrapeError):
    """A URL outside the hosts the scraper may fetch (user input never chooses what we fetch)."""

    def __init__(self, url: str) -> None:
        super().__init__(f"refusing to fetch {url}: its host is not an allowed SoundCloud host")
        self.url = url


class FetchError(ScrapeError):
    """A request that did not produce a usable answer after its retries."""

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status


class MalformedPage(ScrapeError):
    """A page or API answer whose shape is not what SoundCloud serves (counted and skipped)."""


class MalformedObject(MalformedPage):
    """One user or track object without the fields everything else depends on (id, permalink)."""


class ClientIdUnavailable(ScrapeError):
    """No API client id could be found on the home page, in its hydration or in its JS bundles."""
