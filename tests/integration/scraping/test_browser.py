"""LinkRenderer against a real Chromium and a local link-in-bio server whose links only exist
after JavaScript has run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from scraping.browser import DEFAULT_CHROMIUM, BrowserUnavailable, LinkRenderer
from scraping.contacts import links_from_html
from scraping.errors import FetchError
from tests.integration.scraping.conftest import RecordingPacer

pytestmark = pytest.mark.integration

needs_chromium = pytest.mark.skipif(
    not os.access(DEFAULT_CHROMIUM, os.X_OK), reason=f"no Chromium at {DEFAULT_CHROMIUM}"
)

# The page ships no links: like Linktree, it asks an API for them once loaded and builds the
# anchors itself.
SCRIPTED_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>lena | links</title></head>
<body>
<div id="root"><p>Loading…</p></div>
<script>
document.addEventListener("DOMContentLoaded", async () => {
  const response = await fetch("/api/lena/links");
  const links = await response.json();
  const root = document.getElementById("root");
  root.textContent = "";
  for (const link of links) {
    const anchor = document.createElement("a");
    anchor.href = link.url;
    anchor.textContent = link.title;
    root.appendChild(anchor);
  }
});
</script>
</body></html>
"""

LINKS = [
    {"title": "Bandcamp", "url": "https://lenasommer.bandcamp.com/"},
    {"title": "Email", "url": "mailto:booking@nightshift-agency.com?subject=Booking"},
    {
        "title": "Instagram",
        "url": "https://gate.sc/?url=https%3A%2F%2Finstagram.com%2Flena.sommer&token=x",
    },
    {"title": "About", "url": "/lena/about"},
    {"title": "Bandcamp again", "url": "https://lenasommer.bandcamp.com/"},
]

STATIC_PAGE = """<!DOCTYPE html>
<html><body>
<a href="https://ra.co/dj/lenasommer">RA</a>
<a href="tel:+4930123456">Call</a>
<a href="https://x.com/lenasommer">X</a>
</body></html>
"""

# Never lets the network go idle: the renderer must give up waiting and read what is there.
POLLING_PAGE = """<!DOCTYPE html>
<html><body>
<a href="https://soundcloud.com/lena-sommer">SoundCloud</a>
<script>setInterval(() => fetch("/api/lena/links"), 100);</script>
</body></html>
"""


def build_app() -> web.Application:
    async def html(request: web.Request) -> web.Response:
        pages = {"scripted": SCRIPTED_PAGE, "static": STATIC_PAGE, "polling": POLLING_PAGE}
        return web.Response(text=pages[request.match_info["page"]], content_type="text/html")

    async def links(request: web.Request) -> web.Response:
        return web.json_response(LINKS)

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/api/lena/links", links)
    app.router.add_get("/missing", missing)
    app.router.add_get("/{page}", html)
    return app


@pytest.fixture(scope="module")
async def base_url() -> AsyncIterator[str]:
    runner = web.AppRunner(build_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture(scope="module")
def host(base_url: str) -> list[str]:
    """The test server's host:port, allowed by name (it is on loopback, which is refused
    otherwise)."""
    return [urlsplit(base_url).netloc]


@pytest.fixture(scope="module")
async def renderer(host: list[str]) -> AsyncIterator[LinkRenderer]:
    async with LinkRenderer(timeout=15.0, allowed_hosts=host) as renderer:
        yield renderer


@needs_chromium
class TestRenderedLinks:
    async def test_finds_links_that_javascript_inserted(
        self, renderer: LinkRenderer, base_url: str
    ) -> None:
        links = await renderer.links(f"{base_url}/scripted")

        assert links == [
            "https://lenasommer.bandcamp.com/",
            "mailto:booking@nightshift-agency.com?subject=Booking",
            "https://instagram.com/lena.sommer",
            f"{base_url}/lena/about",
        ]

    async def test_the_plain_html_of_that_page_has_no_links(self, base_url: str) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base_url}/scripted") as response,
        ):
            html = await response.text()

        assert links_from_html(html, f"{base_url}/scripted") == []

    async def test_reads_a_static_page_and_skips_non_web_links(
        self, renderer: LinkRenderer, base_url: str
    ) -> None:
        assert await renderer.links(f"{base_url}/static") == [
            "https://ra.co/dj/lenasommer",
            "https://x.com/lenasommer",
        ]

    async def test_pages_rendered_at_once_each_get_their_own_links(
        self, renderer: LinkRenderer, base_url: str
    ) -> None:
        pages = ["scripted", "static", "scripted", "static"]

        results = await asyncio.gather(*(renderer.links(f"{base_url}/{page}") for page in pages))

        assert [len(links) for links in results] == [4, 2, 4, 2]

    async def test_a_page_that_never_goes_idle_still_gives_its_links(
        self, base_url: str, host: list[str]
    ) -> None:
        async with LinkRenderer(timeout=2.0, allowed_hosts=host) as renderer:
            links = await renderer.links(f"{base_url}/polling")

        assert links == ["https://soundcloud.com/lena-sommer"]

    async def test_an_http_error_page_is_a_fetch_error(
        self, renderer: LinkRenderer, base_url: str
    ) -> None:
        with pytest.raises(FetchError) as raised:
            await renderer.links(f"{base_url}/missing")

        assert raised.value.status == 404

    async def test_a_closed_renderer_starts_again_when_used(
        self, base_url: str, host: list[str]
    ) -> None:
        async with LinkRenderer(allowed_hosts=host) as renderer:
            await renderer.links(f"{base_url}/static")
            await renderer.aclose()

            assert await renderer.links(f"{base_url}/static") == [
                "https://ra.co/dj/lenasommer",
                "https://x.com/lenasommer",
            ]


@needs_chromium
class TestWhatAPageMayLoad:
    async def test_every_request_of_the_page_is_paced(self, base_url: str, host: list[str]) -> None:
        pacer = RecordingPacer()
        async with LinkRenderer(allowed_hosts=host, pacer=pacer) as renderer:
            links = await renderer.links(f"{base_url}/scripted")

        assert len(links) == 4
        # The page itself and the data its script fetched: two requests, two turns.
        assert pacer.turns == [host[0], host[0]]

    async def test_a_page_on_a_private_address_not_allowed_by_name_is_refused(
        self, base_url: str
    ) -> None:
        async with LinkRenderer(timeout=5.0) as renderer:
            with pytest.raises(FetchError, match="did not render"):
                await renderer.links(f"{base_url}/static")


class TestRefusals:
    @pytest.mark.parametrize(
        "url", ["file:///etc/hostname", "javascript:alert(1)", "about:blank", "/relative"]
    )
    async def test_only_http_pages_are_rendered(self, url: str) -> None:
        renderer = LinkRenderer()

        with pytest.raises(FetchError, match="only http"):
            await renderer.links(url)

    @pytest.mark.parametrize("executable", ["/nonexistent/chromium", "/bin/false"])
    async def test_a_browser_that_cannot_start_is_unavailable(
        self, executable: str, base_url: str, host: list[str]
    ) -> None:
        async with LinkRenderer(
            executable_path=executable, timeout=10.0, allowed_hosts=host
        ) as renderer:
            with pytest.raises(BrowserUnavailable):
                await renderer.links(f"{base_url}/static")
