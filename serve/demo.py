"""``campaign-manager demo``: the whole service, offline, with a SoundCloud to discover.

Starts the project's SoundCloud-shaped fixture site (a deterministic graph of artists with
profile pages, API, link-in-bio pages and SoundCloud's failure modes) on loopback, points
discovery at it, runs the service, and makes sure a demo account exists to sign in with.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite

DEMO_EMAIL = "demo@campaign-manager.example"
DEMO_PASSWORD = "demo-password-123"
START_TIMEOUT_SECONDS = 30.0


class FixtureSiteThread:
    """The fixture site on an event loop of its own, so the blocking service can run beside it."""

    def __init__(self, artists: int, seed: int) -> None:
        self._artists = artists
        self._seed = seed
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fixture-site", daemon=True)
        self.site: FixtureSite | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> FixtureSite:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS) or self.site is None:
            raise RuntimeError(f"the fixture site did not start: {self.error}")
        return self.site

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self.error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        graph = FixtureGraph(self._artists, self._seed)
        async with FixtureSite(graph, log_requests=False) as site:
            self.site = site
            self._ready.set()
            await self._stop.wait()


def demo_settings(settings: Settings, site: FixtureSite, rate: float) -> Settings:
    """``settings`` with discovery pointed at the fixture site, paced at ``rate`` per host."""
    return settings.model_copy(
        update={
            "soundcloud_web_url": site.web_url,
            "soundcloud_api_url": site.api_url,
            "soundcloud_link_in_bio_hosts": urlsplit(site.links_url).netloc,
            "soundcloud_requests_per_second": rate,
            "link_in_bio_requests_per_second": rate,
        }
    )


def ensure_demo_account(base_url: str, say: Callable[[str], None]) -> None:
    """Sign the demo user in, registering it (with its own workspace) the first time."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        login = api.post(
            "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        if login.status_code != 200:
            registered = api.post(
                "/api/v1/auth/register",
                json={
                    "email": DEMO_EMAIL,
                    "password": DEMO_PASSWORD,
                    "display_name": "Demo",
                    "workspace_name": "Demo label",
                },
            )
            registered.raise_for_status()
            say(f"created the demo account {DEMO_EMAIL}")
    say(f"sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
    say(
        "start a discovery job, e.g.: POST "
        f"{base_url}/api/v1/discovery-jobs "
        '{"genres": ["techno"], "max_artists": 50}'
    )
