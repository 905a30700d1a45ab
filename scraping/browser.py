"""Links of pages that only exist after JavaScript runs (Linktree and other link-in-bio pages),
read through the system Chromium driven by Playwright.

Playwright's own browser downloads are never used: the machines this runs on have a Chromium
package and no route to the download servers. When to render at all (only link-in-bio hosts,
only when the plain HTML shows no links) is the caller's decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
from collections.abc import Collection
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from playwright.async_api import Browser, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from scraping.contacts import collect_links
from scraping.errors import FetchError, ScrapeError
from scraping.fetcher import Pacer, domain_of

DEFAULT_CHROMIUM = "/usr/bin/chromium"

_CHROMIUM_ARGS = (
    # Runs as root in containers, where Chromium's sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # No traffic of the browser's own: the network may be closed, and only the page matters.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_HREFS = "anchors => anchors.map(anchor => anchor.href)"
# What a page needs to show its links: documents, scripts and their data. The rest is weight.
_SKIPPED_RESOURCES = frozenset({"image", "media", "font", "stylesheet"})


def _private_host(host: str) -> bool:
    """Loopback, private and link-local addresses (and ``localhost``): never a page's business
    unless the host was allowed by name."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


"""``anchor.href`` is the resolved, absolute URL, unlike the ``href`` attribute."""


class BrowserUnavailable(ScrapeError):
    """Chromium is missing or would not start; the caller skips browser rendering."""


class LinkRenderer:
    """One headless Chromium, started lazily on first use, reused across pages, closed by
    ``aclose()``.

    Each page gets its own browser context, so cookies and storage never leak between sites.

    Args:
        executable_path: the Chromium binary.
        timeout: seconds allowed for a page, from the request until its network is idle
            (and for Chromium to start).
        max_pages: pages rendered at the same time.
        pacer: paces every request the page makes (the page's own scripts and data too), per
            host, like the fetcher's requests.
        max_pacing_wait: a request whose pacing slot is further away than this is aborted
            rather than waited for (``None``: no bound); the page then shows what it can.
        allowed_hosts: hosts (``host`` or ``host:port``) a page may reach on loopback or private
            addresses; everything else private is refused, so a page cannot make the scraper
            probe its own network.

    Images, media, fonts and stylesheets are never loaded.
    """

    def __init__(
        self,
        *,
        executable_path: str = DEFAULT_CHROMIUM,
        timeout: float = 15.0,
        max_pages: int = 2,
        pacer: Pacer | None = None,
        allowed_hosts: Collection[str] = (),
        max_pacing_wait: float | None = None,
    ) -> None:
        self._pacer = pacer
        self._max_pacing_wait = max_pacing_wait
        self._allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self._executable_path = executable_path
        self._timeout = timeout
        self._timeout_ms = timeout * 1000
        self._pages = asyncio.Semaphore(max_pages)
        self._starting = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    async def links(self, url: str) -> list[str]:
        """The absolute ``http(s)`` and ``mailto:`` links on the rendered page, gate-unwrapped,
        once each, in page order.

        Raises:
            FetchError: for a URL that is not ``http(s)``, a page that does not load in time,
                or an HTTP error status.
            BrowserUnavailable: when Chromium cannot be started.
        """
        if not url.lower().startswith(("http://", "https://")):
            raise FetchError(url, "only http(s) pages can be rendered")
        async with self._pages:
            browser = await self._browser_started()
            try:
                hrefs = await self._render(browser, url)
            except PlaywrightError as error:  # includes Playwright's TimeoutError
                raise FetchError(url, f"page did not render: {error.message}") from None
        return collect_links(hrefs)

    async def aclose(self) -> None:
        """Close the browser; a later ``links()`` starts a new one."""
        async with self._starting:
            browser, self._browser = self._browser, None
            playwright, self._playwright = self._playwright, None
            if browser is not None:
                await browser.close()
            if playwright is not None:
                await playwright.stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _render(self, browser: Browser, url: str) -> list[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        context = await browser.new_context()
        try:
            await context.route("**/*", self._gate)
            page = await context.new_page()
            response = await page.goto(url, wait_until="domcontentloaded", timeout=self._timeout_ms)
            if response is not None and response.status >= 400:
                raise FetchError(url, f"HTTP {response.status}", status=response.status)
            # Link-in-bio pages fetch their links after load; idle network means they are in.
            # Playwright reads a timeout of 0 as "none", so an exhausted budget skips the wait.
            remaining = deadline - loop.time()
            if remaining > 0:
                with contextlib.suppress(PlaywrightTimeout):
                    # A page that keeps polling still shows the links it has by now.
                    await page.wait_for_load_state("networkidle", timeout=remaining * 1000)
            hrefs: list[str] = await page.eval_on_selector_all("a[href]", _HREFS)
            return hrefs
        finally:
            await context.close()

    async def _gate(self, route: Route) -> None:
        """Every request of a page passes here: skipped, refused, or paced and sent."""
        request = route.request
        parts = urlsplit(request.url)
        host = domain_of(request.url)
        if request.resource_type in _SKIPPED_RESOURCES or (
            host not in self._allowed_hosts and _private_host(parts.hostname or "")
        ):
            await route.abort()
            return
        if (
            self._pacer is not None
            and parts.scheme in {"http", "https"}
            and not await self._pacer.wait_turn(host, self._max_pacing_wait)
        ):
            await route.abort()
            return
        await route.continue_()

    async def _browser_started(self) -> Browser:
        async with self._starting:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            # A crashed browser is replaced, and the driver that ran it with it.
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
            self._browser = None
            if not os.access(self._executable_path, os.X_OK):
                raise BrowserUnavailable(f"no Chromium executable at {self._executable_path}")
            playwright = await async_playwright().start()
            try:
                self._browser = await playwright.chromium.launch(
                    executable_path=self._executable_path,
                    headless=True,
                    args=list(_CHROMIUM_ARGS),
                    timeout=self._timeout_ms,
                )
            except PlaywrightError as error:
                await playwright.stop()
                raise BrowserUnavailable(f"Chromium did not start: {error.message}") from None
            self._playwright = playwright
            return self._browser
