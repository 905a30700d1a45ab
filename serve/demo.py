"""``campaign-manager demo``: the whole service, offline, with a SoundCloud to discover.

Starts the project's SoundCloud-shaped fixture site (a deterministic graph of artists with
profile pages, API, link-in-bio pages and SoundCloud's failure modes) on loopback, points
discovery at it, runs the service, and makes sure a demo account exists to sign in with.

The first time, it then fills the demo workspace the way a team would, through the HTTP API, so
every rule, audit row and live event is the real one: a discovery job on the fixture site, three
campaigns (finished, active, scheduled) with the artists it found, outreach delivered to the
outbox with opens and clicks fetched like a mail client does and some replies, and a few weeks
of money in and out (:func:`fill_demo_workspace`).
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.messages import CLICK_PATH, OPEN_PATH
from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite

DEMO_EMAIL = "demo@campaign-manager.example"
DEMO_PASSWORD = "demo-password-123"
START_TIMEOUT_SECONDS = 30.0

# What the demo discovers: enough artists for three campaigns, few enough to take seconds.
DEMO_DISCOVERY: dict[str, Any] = {"genres": ["techno", "house"], "max_artists": 60, "max_depth": 1}
# Bounds on the waits of the fill; past them it says so and goes on with what there is.
DISCOVERY_WAIT_SECONDS = 45.0
OUTREACH_WAIT_SECONDS = 40.0
POLL_SECONDS = 0.5
# Every API call of the fill; the longest is a launch, which waits up to 20 s for its actor.
REQUEST_TIMEOUT_SECONDS = 30.0
# Shares of delivered messages their recipients open, click and answer (of those opened).
OPEN_SHARE = 0.6
CLICK_SHARE = 0.3
REPLY_SHARE = 0.3

SENDER_EMAIL = "promo@demo-label.example"
SENDER_NAME = "Demo label promo"
PROMO_URL = "https://demo-label.example/promos"
# The mail client the demo's recipients read with, as an image proxy would announce itself.
MAIL_CLIENT = "Mozilla/5.0 (demo mail client; campaign-manager demo)"

_DELIVERED = ("sent", "opened", "clicked", "replied")
_SETTLED = (*_DELIVERED, "failed", "bounced", "unknown", "skipped")
_OPEN_LINK = re.compile(r'(?:https?://[^\s"\'<>]*?)?(' + re.escape(OPEN_PATH) + r'[^\s"\'<>]+)')
_CLICK_LINK = re.compile(r'(?:https?://[^\s"\'<>]*?)?(' + re.escape(CLICK_PATH) + r'[^\s"\'<>]+)')


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
    """``settings`` with discovery pointed at the fixture site, paced at ``rate`` per host.

    Unless ``CM_PUBLIC_URL`` is set, the links in sent mail point at the address the demo
    listens on (the default would miss a demo started with ``--port``)."""
    update: dict[str, Any] = {
        "soundcloud_web_url": site.web_url,
        "soundcloud_api_url": site.api_url,
        "soundcloud_link_in_bio_hosts": urlsplit(site.links_url).netloc,
        "soundcloud_requests_per_second": rate,
        "link_in_bio_requests_per_second": rate,
    }
    if "public_url" not in settings.model_fields_set:
        host = settings.host if settings.host not in {"0.0.0.0", "::", ""} else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        update["public_url"] = f"http://{host}:{settings.port}"
    return settings.model_copy(update=update)


def ensure_demo_account(base_url: str, say: Callable[[str], None]) -> None:
    """Sign the demo user in, registering it (with its own workspace) the first time."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as api:
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


def prepare_demo(base_url: str, say: Callable[[str], None], *, fill: bool) -> None:
    """What the demo does once the service answers: the demo account, then (with ``fill``) the
    demo workspace filled the first time. A failed fill is said in one line; the service goes
    on. Ctrl-C during the fill stops it and the service."""
    ensure_demo_account(base_url, say)
    if not fill:
        return
    stop = threading.Event()
    with _stop_on_signals(stop):
        try:
            fill_demo_workspace(base_url, DEMO_EMAIL, DEMO_PASSWORD, say, stop=stop)
        except FillStopped:
            say("demo: stopped filling the workspace")
        except (DemoFillError, httpx.HTTPError) as exc:
            say(f"demo: could not fill the workspace: {exc}")


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C (and SIGTERM) set ``stop`` and then do what they did before (the service's own
    stop); only the main thread can handle signals, elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()
        before = previous.get(signum)
        if callable(before):
            before(signum, frame)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class DemoFillError(Exception):
    """The API refused a step of the fill; the message names the call and the answer."""


class FillStopped(Exception):
    """The fill was asked to stop (Ctrl-C)."""


@dataclass(frozen=True)
class CampaignPlan:
    """One demo campaign: its fields, dates relative to today and the statuses it goes through."""

    key: str
    name: str
    description: str
    type: str
    starts_in_days: int
    ends_in_days: int
    budget_minor: int
    # The moves it makes at once, from draft (a finished campaign is completed straight away:
    # the scheduler would complete it by its dates anyway).
    statuses: tuple[str, ...]
    # Share of the artists with an email address, and of those without, that it gets.
    contacted_share: float
    other_share: float
    # Artist statuses in the campaign, dealt in turn.
    artist_statuses: tuple[str, ...]


CAMPAIGNS = (
    CampaignPlan(
        key="finished",
        name="Midnight Circuit EP — release push",
        description="Four-track techno EP on Demo label: premieres, DJ support and press "
        "around release day.",
        type="release",
        starts_in_days=-49,
        ends_in_days=-12,
        budget_minor=250_000,
        statuses=("active", "completed"),
        contacted_share=0.35,
        other_share=0.3,
        artist_statuses=("completed", "completed", "declined", "confirmed"),
    ),
    CampaignPlan(
        key="active",
        name="Warehouse Sessions Vol. 3 — premiere invites",
        description="Premiere slots and DJ support for the compilation's lead tracks.",
        type="premiere",
        starts_in_days=-10,
        ends_in_days=21,
        budget_minor=180_000,
        statuses=("active",),
        contacted_share=0.45,
        other_share=0.3,
        artist_statuses=("contacted", "contacted", "confirmed", "proposed"),
    ),
    CampaignPlan(
        key="scheduled",
        name="Summer Open Air — tour support",
        description="Support acts and local promoters for the July open-air dates.",
        type="tour",
        starts_in_days=16,
        ends_in_days=62,
        budget_minor=400_000,
        statuses=("scheduled",),
        contacted_share=0.2,
        other_share=0.4,
        artist_statuses=("proposed",),
    ),
)


@dataclass(frozen=True)
class Money:
    """A demo transaction: ``campaign`` is a plan key or None; ``artist`` puts the n-th artist of
    that campaign's name into the description (``{artist}``)."""

    days_ago: int
    type: str
    amount_minor: int
    category: str
    description: str
    campaign: str | None = None
    artist: int | None = None


# The finished campaign ends 75.00 over its budget, the active one spends 85 % of its own.
TRANSACTIONS = (
    Money(47, "expense", 32_000, "mastering", "Mastering, four tracks", "finished"),
    Money(45, "expense", 60_000, "artist fees", "Remix fee — {artist}", "finished", 0),
    Money(40, "expense", 45_000, "artist fees", "Remix fee — {artist}", "finished", 1),
    Money(35, "expense", 55_000, "pr", "Press campaign, release month", "finished"),
    Money(36, "income", 31_870, "streaming royalties", "Distributor statement, last month"),
    Money(30, "expense", 38_000, "ads", "Instagram ads — release week", "finished"),
    Money(26, "expense", 27_500, "ads", "SoundCloud promotion — lead track", "finished"),
    Money(21, "expense", 2_900, "software", "Mailing and artwork tools"),
    Money(20, "income", 68_950, "bandcamp sales", "Bandcamp sales, release fortnight", "finished"),
    Money(14, "income", 41_230, "streaming royalties", "Streaming, release month", "finished"),
    Money(9, "expense", 40_000, "artist fees", "Premiere fee — {artist}", "active", 0),
    Money(8, "income", 150_000, "sync license", "Sync license — lead track", "finished"),
    Money(6, "expense", 35_000, "artist fees", "Premiere fee — {artist}", "active", 1),
    Money(5, "expense", 30_000, "ads", "Instagram ads — premiere teaser", "active"),
    Money(4, "income", 23_400, "bandcamp sales", "Bandcamp pre-orders", "active"),
    Money(3, "expense", 25_000, "premiere placement", "Blog premiere placement", "active"),
    Money(2, "expense", 22_500, "ads", "SoundCloud promotion — premiere", "active"),
    Money(1, "expense", 80_000, "venue deposit", "Open-air venue deposit", "scheduled"),
)

INITIAL_TEMPLATE = {
    "name": "Premiere invite",
    "type": "initial",
    "subject": "{{ artist.name }} x {{ campaign.name }}",
    "body_html": (
        "<p>Hi {{ artist.name }},</p>\n"
        "<p>we run {{ campaign.name }} at Demo label and have been playing your "
        "{{ artist.genres or 'music' }} tracks{% if artist.city %} here and in "
        "{{ artist.city }}{% endif %}. With {{ artist.followers }} followers on SoundCloud you "
        "are exactly who we would like on it.</p>\n"
        '<p>The promos and the plan are here: <a href="' + PROMO_URL + '">Demo label promos</a>. '
        "Would you be up for a premiere or a DJ mix?</p>\n"
        "<p>Best,<br>{{ sender.name }}</p>"
    ),
    "body_text": (
        "Hi {{ artist.name }},\n\n"
        "we run {{ campaign.name }} at Demo label and have been playing your "
        "{{ artist.genres or 'music' }} tracks. With {{ artist.followers }} followers on "
        "SoundCloud you are exactly who we would like on it.\n\n"
        "The promos and the plan: " + PROMO_URL + "\n\n"
        "Would you be up for a premiere or a DJ mix?\n\nBest,\n{{ sender.name }}"
    ),
}
FOLLOW_UP_TEMPLATE = {
    "name": "Premiere follow-up",
    "type": "follow_up",
    "subject": "Re: {{ artist.name }} x {{ campaign.name }}",
    "body_html": (
        "<p>Hi {{ artist.name }},</p>\n"
        "<p>a quick nudge on {{ campaign.name }}: a few premiere slots are still open. "
        "Shall I keep one for you?</p>\n<p>{{ sender.name }}</p>"
    ),
    "body_text": (
        "Hi {{ artist.name }},\n\na quick nudge on {{ campaign.name }}: a few premiere slots are "
        "still open. Shall I keep one for you?\n\n{{ sender.name }}"
    ),
}
FOLLOW_UP_DELAY_DAYS = 4


def fill_demo_workspace(
    base_url: str,
    email: str,
    password: str,
    say: Callable[[str], None],
    *,
    stop: threading.Event | None = None,
    today: date | None = None,
) -> None:
    """Fill ``email``'s workspace with a realistic few weeks of work through the API, once: a
    workspace that has any campaign is left as it is.

    Raises:
        DemoFillError: the API refused a step (the message names it).
        FillStopped: ``stop`` was set.
        httpx.HTTPError: the service could not be reached.
    """
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        filler = DemoFiller(http, say, stop or threading.Event(), today or datetime.now(UTC).date())
        filler.sign_in(email, password)
        filler.run()


class DemoFiller:
    """The steps of :func:`fill_demo_workspace` over one signed-in API client."""

    def __init__(
        self, http: httpx.Client, say: Callable[[str], None], stop: threading.Event, today: date
    ) -> None:
        self.http = http
        self.say = say
        self.stop = stop
        self.today = today
        # Seeded: the same fixture site gives the same opens, clicks and replies.
        self.rng = random.Random(7)

    # The API, one call at a time.

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: Sequence[int] = (200, 201),
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One API call; its JSON, or a ``DemoFillError`` naming the call and the answer."""
        if self.stop.is_set():
            raise FillStopped
        response = self.http.request(method, f"/api/v1{path}", json=json, params=params)
        if response.status_code not in expect:
            raise DemoFillError(
                f"{method} {path} answered {response.status_code}: {_why(response)}"
            )
        return response.json() if response.content else None

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a paged list (bounded: a demo workspace holds a few hundred rows)."""
        cursor = None
        for _ in range(50):
            query = {**(params or {}), "limit": 200} | ({"cursor": cursor} if cursor else {})
            page = self.call("GET", path, params=query)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def wait(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise FillStopped

    def sign_in(self, email: str, password: str) -> None:
        tokens = self.call("POST", "/auth/login", json={"email": email, "password": password})
        self.http.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    # The fill.

    def run(self) -> None:
        if self.call("GET", "/campaigns", params={"limit": 1})["items"]:
            self.say("demo: the workspace already has campaigns; left as it is")
            return
        started = time.monotonic()
        self.say("demo: filling the demo workspace through the API ...")
        artists, contacted = self.discover()
        campaigns = self.campaigns(artists, contacted)
        self.outreach(campaigns)
        self.money(campaigns)
        elapsed = time.monotonic() - started
        base = str(self.http.base_url).rstrip("/")
        self.say(f"demo: the workspace is ready at {base} ({elapsed:.0f} s)")

    def discover(self) -> tuple[list[dict[str, Any]], set[str]]:
        """Run (or reuse) the demo's discovery job; the artists it kept, best first, and the ids
        of those the workspace has an email address for."""
        started = time.monotonic()
        genres = " and ".join(DEMO_DISCOVERY["genres"])
        wanted = f"up to {DEMO_DISCOVERY['max_artists']} {genres} artists on the fixture site"
        job = self._demo_job()
        if job is None:
            job = self.call("POST", "/discovery-jobs", json=DEMO_DISCOVERY, expect=(201,))
            self.say(f"demo: discovering {wanted} ...")
        else:
            self.say(f"demo: using the discovery of {wanted} from the last start ...")
        deadline = started + DISCOVERY_WAIT_SECONDS
        while job["status"] in {"queued", "running"} and time.monotonic() < deadline:
            self.wait(POLL_SECONDS)
            job = self.call("GET", f"/discovery-jobs/{job['id']}")
        if job["status"] in {"queued", "running"}:
            job = self.call("POST", f"/discovery-jobs/{job['id']}/cancel", expect=(200, 409))
            self.say(
                f"demo: discovery was still running after {DISCOVERY_WAIT_SECONDS:.0f} s; "
                "stopped it there"
            )
        elif job["status"] == "failed":
            self.say(f"demo: discovery failed ({job['error']}); going on with what it kept")
        artists = [row["artist"] for row in self.pages(f"/discovery-jobs/{job['id']}/artists")]
        if not artists:
            raise DemoFillError("discovery kept no artists, so there is nothing to build on")
        found = {artist["id"] for artist in artists}
        contacted = {
            artist["id"]
            for artist in self.pages("/artists", {"has_contact": "true"})
            if artist["id"] in found
        }
        self.say(
            f"demo: discovery kept {len(artists)} artists, {len(contacted)} with an email "
            f"address ({time.monotonic() - started:.0f} s)"
        )
        return artists, contacted

    def _demo_job(self) -> dict[str, Any] | None:
        """The demo's own discovery job from an earlier start that stopped before campaigns."""
        for job in self.call("GET", "/discovery-jobs", params={"limit": 20})["items"]:
            query = job["query"]
            if (
                query.get("genres") == DEMO_DISCOVERY["genres"]
                and query.get("max_artists") == DEMO_DISCOVERY["max_artists"]
                and job["status"] in {"queued", "running", "completed"}
            ):
                return dict(job)
        return None

    def campaigns(
        self, artists: list[dict[str, Any]], contacted: set[str]
    ) -> dict[str, dict[str, Any]]:
        """The three demo campaigns with the artists dealt over them; by plan key, each with its
        ``artists`` (the artist rows it got)."""
        with_email = [a for a in artists if a["id"] in contacted]
        without = [a for a in artists if a["id"] not in contacted]
        shares = _deal(with_email, [plan.contacted_share for plan in CAMPAIGNS])
        others = _deal(without, [plan.other_share for plan in CAMPAIGNS])
        made: dict[str, dict[str, Any]] = {}
        for plan, mine, rest in zip(CAMPAIGNS, shares, others, strict=True):
            campaign = self.call(
                "POST",
                "/campaigns",
                expect=(201,),
                json={
                    "name": plan.name,
                    "description": plan.description,
                    "type": plan.type,
                    "start_date": str(self.today + timedelta(days=plan.starts_in_days)),
                    "end_date": str(self.today + timedelta(days=plan.ends_in_days)),
                    "budget_minor": plan.budget_minor,
                    "currency": "EUR",
                },
            )
            members = [*mine, *rest]
            for n, artist in enumerate(members):
                status = plan.artist_statuses[n % len(plan.artist_statuses)]
                self.call(
                    "POST",
                    f"/campaigns/{campaign['id']}/artists",
                    expect=(201,),
                    json={"artist_id": artist["id"], "status": status},
                )
            for status in plan.statuses:
                self.call("POST", f"/campaigns/{campaign['id']}/status", json={"status": status})
            campaign["artists"] = members
            made[plan.key] = campaign
        placed = sum(len(c["artists"]) for c in made.values())
        self.say(
            f"demo: 3 campaigns (finished, active, scheduled) with {placed} artists: "
            + ", ".join(f"'{plan.name}'" for plan in CAMPAIGNS)
        )
        return made

    def outreach(self, campaigns: dict[str, dict[str, Any]]) -> None:
        """A finished outreach for the finished campaign, one with a follow-up step for the
        active one; both delivered to the outbox, then opened, clicked and answered."""
        initial = self.call("POST", "/email-templates", expect=(201,), json=INITIAL_TEMPLATE)
        follow_up = self.call("POST", "/email-templates", expect=(201,), json=FOLLOW_UP_TEMPLATE)
        self.say("demo: email templates 'Premiere invite' and 'Premiere follow-up'")
        runs: list[tuple[dict[str, Any], int]] = []
        for key, name, step in (
            ("finished", "Midnight Circuit — first pitch", False),
            ("active", "Warehouse Sessions — premiere invites", True),
        ):
            outreach = self.call(
                "POST",
                "/outreach-campaigns",
                expect=(201,),
                json={
                    "name": name,
                    "template_id": initial["id"],
                    "campaign_id": campaigns[key]["id"],
                    "sender_email": SENDER_EMAIL,
                    "sender_name": SENDER_NAME,
                    "daily_limit": 500,
                },
            )
            if step:
                self.call(
                    "POST",
                    f"/outreach-campaigns/{outreach['id']}/steps",
                    expect=(201,),
                    json={"template_id": follow_up["id"], "delay_days": FOLLOW_UP_DELAY_DAYS},
                )
            queued = self.call(
                "POST", f"/outreach-campaigns/{outreach['id']}/recipients/from-campaign"
            )["queued"]
            if queued == 0:
                self.say(f"demo: outreach '{name}' has no artist with an address; not sent")
                continue
            self.call("POST", f"/outreach-campaigns/{outreach['id']}/launch")
            runs.append((outreach, queued))
        # Launched together: their actors start side by side.
        for outreach, queued in runs:
            self._await_delivery(outreach, queued)
        self.engage(campaigns)

    def _await_delivery(self, outreach: dict[str, Any], queued: int) -> None:
        """Wait until every first message of ``outreach`` has gone (its follow-ups wait their
        days), bounded; say how it went."""
        path = f"/outreach-campaigns/{outreach['id']}/progress"
        deadline = time.monotonic() + OUTREACH_WAIT_SECONDS
        while True:
            progress = self.call("GET", path)
            settled = sum(progress["counts"].get(status, 0) for status in _SETTLED)
            if (
                progress["status"] in {"completed", "cancelled", "paused"}
                or settled >= queued
                or time.monotonic() >= deadline
            ):
                break
            self.wait(POLL_SECONDS)
        counts = progress["counts"]
        sent = sum(counts.get(status, 0) for status in _DELIVERED)
        line = f"demo: outreach '{outreach['name']}' delivered {sent} of {queued} to the outbox"
        if progress["status"] == "completed":
            line += " (completed)"
        elif progress["status"] == "paused":
            line += f" (paused: {progress['pause_reason']})"
        elif settled < queued:
            line += f" (still sending after {OUTREACH_WAIT_SECONDS:.0f} s)"
        if counts.get("queued"):
            line += f"; {counts['queued']} follow-ups wait {FOLLOW_UP_DELAY_DAYS} days"
        self.say(line)

    def engage(self, campaigns: dict[str, dict[str, Any]]) -> None:
        """Recipients read their mail: the open pixel and some links fetched over HTTP as a
        mail client does, then some answers, marked as replies."""
        opened = clicked = 0
        with httpx.Client(
            base_url=str(self.http.base_url),
            timeout=REQUEST_TIMEOUT_SECONDS,
            headers={"User-Agent": MAIL_CLIENT},
            follow_redirects=False,
        ) as mail_client:
            for entry in self.pages("/outbox"):
                if self.rng.random() >= OPEN_SHARE:
                    continue
                message = self.call("GET", f"/outbox/{entry['id']}")
                body = message.get("html") or ""
                pixel = _OPEN_LINK.search(body)
                if pixel is None:
                    continue
                # The path on this service: CM_PUBLIC_URL may name an address this machine
                # cannot reach (a proxy in front of a server).
                mail_client.get(html.unescape(pixel.group(1))).raise_for_status()
                opened += 1
                links = _CLICK_LINK.findall(body)
                if links and self.rng.random() < CLICK_SHARE:
                    answer = mail_client.get(html.unescape(links[0]))
                    if answer.status_code != 302:
                        raise DemoFillError(f"a tracked link answered {answer.status_code}")
                    clicked += 1
        replied = 0
        by_artist = {artist["id"]: key for key, c in campaigns.items() for artist in c["artists"]}
        for record in self.pages("/email-records", {"sort": "created_at"}):
            if record["status"] not in {"opened", "clicked"} or self.rng.random() >= REPLY_SHARE:
                continue
            self.call("POST", f"/email-records/{record['id']}/reply")
            replied += 1
            key = by_artist.get(record["artist_id"])
            if key == "active":
                # An answer to a premiere invite is, in this demo, a yes.
                self.call(
                    "PATCH",
                    f"/campaigns/{campaigns[key]['id']}/artists/{record['artist_id']}",
                    json={"status": "confirmed"},
                )
        self.say(
            f"demo: recipients opened {opened} messages, clicked {clicked} links and replied "
            f"to {replied}"
        )

    def money(self, campaigns: dict[str, dict[str, Any]]) -> None:
        """A few weeks of fees, ad spend and income; one campaign over its budget."""
        for item in TRANSACTIONS:
            campaign = campaigns[item.campaign] if item.campaign else None
            description = item.description
            if campaign is not None and item.artist is not None:
                members = campaign["artists"]
                name = members[item.artist % len(members)]["name"] if members else "an artist"
                description = description.format(artist=name)
            self.call(
                "POST",
                "/transactions",
                expect=(201,),
                json={
                    "type": item.type,
                    "amount_minor": item.amount_minor,
                    "currency": "EUR",
                    "category": item.category,
                    "description": description,
                    "occurred_on": str(self.today - timedelta(days=item.days_ago)),
                    "campaign_id": campaign["id"] if campaign else None,
                },
            )
        over = [
            c["name"]
            for c in self.call("GET", "/campaigns", params={"limit": 10})["items"]
            if c["over_budget"]
        ]
        weeks = max(item.days_ago for item in TRANSACTIONS) // 7 + 1
        line = f"demo: {len(TRANSACTIONS)} transactions over the last {weeks} weeks"
        if over:
            line += f"; over budget: {', '.join(over)}"
        self.say(line)


def _deal(items: list[dict[str, Any]], shares: list[float]) -> list[list[dict[str, Any]]]:
    """``items`` split in order by ``shares`` (the last part takes what rounding leaves)."""
    parts: list[list[dict[str, Any]]] = []
    start = 0
    total = sum(shares)
    for n, share in enumerate(shares):
        end = len(items) if n == len(shares) - 1 else start + round(len(items) * share / total)
        parts.append(items[start:end])
        start = end
    return parts


def _why(response: httpx.Response) -> str:
    """The problem's detail (or title) of an error answer, else its text, on one line."""
    try:
        problem = response.json()
    except ValueError:
        return " ".join(response.text.split())[:300] or response.reason_phrase
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or problem)[:300]
    return str(problem)[:300]
