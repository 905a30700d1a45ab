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

    @property
    def host_failing(self) -> bool:
        """Whether the host is down or overloaded (no answer, 5xx or 429 to the end), rather
        than that it answered about this one page (404, 410 ...)."""
        return self.status is None or self.status == 429 or self.status >= 500


class MalformedPage(ScrapeError):
    """A page or API answer whose shape is not what SoundCloud serves (counted and skipped)."""


class MalformedObject(MalformedPage):
    """One user or track object without the fields everything else depends on (id, permalink)."""


class ClientIdUnavailable(ScrapeError):
    """No API client id could be found on the home page, in its hydration or in its JS bundles."""


class HostBusy(ScrapeError):
    """The pacer's next slot for a host is further away than the caller agreed to wait (an
    optional host, such as a link-in-bio service, that must not hold up the walk)."""

    def __init__(self, domain: str, max_wait: float) -> None:
        super().__init__(f"{domain}: no request slot within {max_wait:g} s")
        self.domain = domain


class HostDown(ScrapeError):
    """A host failed so many times in a row that it is left alone for a while."""

    def __init__(self, domain: str) -> None:
        super().__init__(f"{domain}: failing repeatedly, not asked again for a while")
        self.domain = domain


class RobotsDisallowed(ScrapeError):
    """A URL the site's robots.txt forbids to our user agent (nothing was sent for it)."""

    def __init__(self, url: str) -> None:
        super().__init__(f"refusing to fetch {url}: robots.txt disallows it")
        self.url = url
