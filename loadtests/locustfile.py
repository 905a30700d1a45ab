"""`make loadtest`: a realistic mix of users against a running Campaign Manager.

A simulated user is someone on a team using the web app: they browse and filter campaigns and
the artist catalogue, open one, search artists by name, create and edit campaigns, edit an email
template and preview it for an artist, look at the dashboard and the analytics, keep the live
socket open for a moment (as every signed-in tab does), and now and then start a small discovery
job, watch it and cancel it if it runs long. Every route and payload is the one the web app uses
(serve/routers, ui/src/pages).

Accounts are prepared once, before any user starts (``test_start``): ``--accounts`` of them (8),
``<--account-prefix>-<n>@loadtest.example``, logged in when they exist and registered when they
do not, each given a campaign and a template. Users share them round-robin, so a run makes no
sign-ups and only the first run against a service registers (within the default limit of 10 new
accounts per address per hour). If the catalogue has fewer than 20 artists, 20 are added, so
there is something to open and to preview templates for. None of this preparation appears in the
statistics.

This file imports nothing from the project, so it runs against any deployment:

    .venv/bin/locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --users 32 --spawn-rate 8 --run-time 1m

Limits on the service count against this run: the per-token limit (CM_REQUESTS_PER_TOKEN, 3000 a
minute) is shared by the users of an account (32 users on 8 accounts send about 300 a minute
each), and each workspace runs at most CM_DISCOVERY_JOBS_PER_WORKSPACE (2) discovery jobs at once,
so an account has one job at a time, started at most every 2 minutes. Discovery walks
the SoundCloud the service is configured for: run it against a stack pointed at the fixture site
(``campaign-manager demo``) rather than at soundcloud.com, or leave it out with
``--exclude-tags discovery``.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import Request, urlopen

import gevent
import websocket  # websocket-client, which Locust installs
from locust import FastHttpUser, between, events, tag, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner

log = logging.getLogger("loadtest")

API = "/api/v1"
DEFAULT_ACCOUNTS = 8
DEFAULT_PREFIX = "locust"
PASSWORD = "locust-password-123"
CATALOGUE_MINIMUM = 20
SETUP_TIMEOUT_SECONDS = 30.0
# An access token lives 15 minutes by default; one older than this is refreshed first.
REFRESH_AFTER_SECONDS = 600.0
# The live socket: the "ready" message must arrive within this, then the user listens for
# events this long before closing (a tab open on the dashboard).
LIVE_TIMEOUT_SECONDS = 10.0
LIVE_LISTEN_SECONDS = 2.0
# An account starts a discovery job at most this often (each job starts an actor process on
# the cluster: a team starts a few an hour, not one whenever the last ended), and cancels one
# still running after DISCOVERY_PATIENCE_SECONDS.
DISCOVERY_INTERVAL_SECONDS = 120.0
DISCOVERY_PATIENCE_SECONDS = 20.0
FINAL_JOB_STATUSES = frozenset({"completed", "failed", "cancelled"})

GENRES = ["techno", "house", "ambient", "hip hop", "indie", "drum & bass", "jazz", "pop"]
CITIES = ["Berlin", "London", "Paris", "Amsterdam", "Lisbon", "Detroit", "Lagos"]
CAMPAIGN_SORTS = ["-created_at", "name", "-budget", "-updated_at"]
ARTIST_SORTS = ["-followers", "name", "-created_at", "followers"]
TEMPLATE_SORTS = ["-created_at", "name", "-updated_at"]
SEARCH_WORDS = ["dj", "the", "sound", "music", "collective", "ba", "mo"]

TEMPLATE_SUBJECT = "New music from {{ artist.name }}"
TEMPLATE_HTML = (
    "<p>Hi {{ artist.name }},</p><p>We loved your tracks{% if artist.city %} from "
    "{{ artist.city }}{% endif %}. Could we talk about {{ campaign.name or 'a release' }}?</p>"
)
TEMPLATE_TEXT = "Hi {{ artist.name }}, we loved your tracks. Could we talk?"


@dataclass
class Account:
    """One prepared account and workspace, shared by several users."""

    email: str
    access_token: str
    refresh_token: str
    issued_at: float = field(default_factory=time.monotonic)
    campaign_ids: list[str] = field(default_factory=list)
    template_ids: list[str] = field(default_factory=list)
    # The account's discovery job: None, "starting" while a user starts one, or its id.
    job: str | None = None
    job_started: float = -DISCOVERY_INTERVAL_SECONDS
    refreshing: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Pool:
    """The prepared accounts and catalogue artists, handed to users round-robin."""

    accounts: list[Account] = field(default_factory=list)
    artist_ids: list[str] = field(default_factory=list)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def take(self) -> Account:
        return self.accounts[next(self._turn) % len(self.accounts)]


POOL = Pool()


class SetupError(RuntimeError):
    """The accounts could not be prepared: the run cannot start."""


def _call(
    host: str, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """One request outside Locust's statistics: (status, decoded JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = Request(f"{host.rstrip('/')}{path}", data=data, method=method, headers=headers)
    try:
        with urlopen(request, timeout=SETUP_TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read()
    except HTTPError as error:
        status, raw = error.code, error.read()
    except (URLError, OSError) as error:
        raise SetupError(f"{method} {host}{path}: {error}") from None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _expect(status: int, body: Any, wanted: int, what: str) -> Any:
    if status != wanted:
        detail = body.get("detail") if isinstance(body, dict) else body
        raise SetupError(f"{what}: HTTP {status} ({detail})")
    return body


def _sign_in(host: str, email: str) -> Account:
    """Log in, or register the account the first time (a failed login costs the service's
    failed-login limit one attempt; a registration costs its sign-up limit one)."""
    status, body = _call(host, "POST", f"{API}/auth/login", {"email": email, "password": PASSWORD})
    if status == 401:
        status, body = _call(
            host,
            "POST",
            f"{API}/auth/register",
            {"email": email, "password": PASSWORD, "display_name": email.split("@")[0]},
        )
        tokens = _expect(status, body, 201, f"register {email}")["tokens"]
    else:
        tokens = _expect(status, body, 200, f"log in {email}")
    return Account(email, tokens["access_token"], tokens["refresh_token"])


def _furnish(host: str, account: Account) -> None:
    """Give the account's workspace a campaign and a template, if it has none yet."""
    token = account.access_token
    status, body = _call(host, "GET", f"{API}/campaigns?limit=50", token=token)
    account.campaign_ids = [c["id"] for c in _expect(status, body, 200, "list campaigns")["items"]]
    if not account.campaign_ids:
        status, body = _call(host, "POST", f"{API}/campaigns", _campaign_body(), token)
        account.campaign_ids.append(_expect(status, body, 201, "create a campaign")["id"])
    status, body = _call(host, "GET", f"{API}/email-templates?limit=50", token=token)
    account.template_ids = [t["id"] for t in _expect(status, body, 200, "list templates")["items"]]
    if not account.template_ids:
        status, body = _call(host, "POST", f"{API}/email-templates", _template_body(), token)
        account.template_ids.append(_expect(status, body, 201, "create a template")["id"])


def _stock_catalogue(host: str, account: Account) -> list[str]:
    """The ids of up to 100 catalogue artists, adding some first if there are few."""
    token = account.access_token
    status, body = _call(host, "GET", f"{API}/artists?limit=100", token=token)
    ids = [a["id"] for a in _expect(status, body, 200, "search artists")["items"]]
    while len(ids) < CATALOGUE_MINIMUM:
        status, body = _call(host, "POST", f"{API}/artists", _artist_body(), token)
        if status == 409:  # that SoundCloud id was taken: draw another
            continue
        ids.append(_expect(status, body, 201, "add an artist")["id"])
    return ids


def prepare(host: str, *, accounts: int = DEFAULT_ACCOUNTS, prefix: str = DEFAULT_PREFIX) -> Pool:
    """Sign in (or register) ``accounts`` accounts and stock what the users need; fills and
    returns :data:`POOL`.

    Raises:
        SetupError: the service refused or did not answer.
    """
    started = time.monotonic()
    signed_in = [_sign_in(host, f"{prefix}-{n}@loadtest.example") for n in range(accounts)]
    for account in signed_in:
        _furnish(host, account)
    POOL.artist_ids = _stock_catalogue(host, signed_in[0])
    POOL.accounts = signed_in
    log.info(
        "prepared %d accounts and %d artists in %.1f s",
        len(signed_in),
        len(POOL.artist_ids),
        time.monotonic() - started,
    )
    return POOL


def _add_options(parser: Any) -> None:
    parser.add_argument(
        "--accounts",
        type=int,
        default=DEFAULT_ACCOUNTS,
        env_var="LOCUST_ACCOUNTS",
        help="accounts prepared before the run and shared by the users",
    )
    parser.add_argument(
        "--account-prefix",
        default=DEFAULT_PREFIX,
        env_var="LOCUST_ACCOUNT_PREFIX",
        help="their emails are <prefix>-<n>@loadtest.example",
    )


def _prepare_accounts(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return  # the workers prepare their own; the master runs no users
    options = environment.parsed_options
    host = environment.host or CampaignManagerUser.host
    try:
        prepare(
            host,
            accounts=max(1, getattr(options, "accounts", DEFAULT_ACCOUNTS)),
            prefix=getattr(options, "account_prefix", DEFAULT_PREFIX),
        )
    except SetupError as error:
        log.error("cannot prepare the load test's accounts: %s", error)
        environment.process_exit_code = 2
        if environment.runner is not None:
            # After the runner has finished starting (quitting inside its start is ignored).
            gevent.spawn(environment.runner.quit)


# Registered by call, not as decorators: Locust's event hooks are untyped.
events.init_command_line_parser.add_listener(_add_options)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_prepare_accounts)  # type: ignore[no-untyped-call]


def _campaign_body() -> dict[str, Any]:
    start = datetime.now(UTC).date() + timedelta(days=random.randrange(0, 60))
    return {
        "name": f"Load test {random.choice(GENRES)} release {uuid.uuid4().hex[:6]}",
        "type": random.choice(["release", "playlist_pitch", "premiere", "tour"]),
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=random.randrange(7, 90))).isoformat(),
        "budget_minor": random.randrange(10_000, 5_000_000),
        "currency": random.choice(["EUR", "USD", "GBP"]),
    }


def _template_body() -> dict[str, Any]:
    return {
        "name": f"Load test pitch {uuid.uuid4().hex[:6]}",
        "subject": TEMPLATE_SUBJECT,
        "body_html": TEMPLATE_HTML,
        "body_text": TEMPLATE_TEXT,
    }


def _artist_body() -> dict[str, Any]:
    soundcloud_id = random.randrange(10**12, 2 * 10**12)
    handle = f"loadtest-artist-{soundcloud_id}"
    return {
        "soundcloud_id": soundcloud_id,
        "name": f"Loadtest Artist {soundcloud_id % 100_000}",
        "permalink": handle,
        "genres": random.sample(GENRES, 2),
        "city": random.choice(CITIES),
        "country": random.choice(["DE", "GB", "FR", "NL", "PT", "US", "NG"]),
        "followers": random.randrange(0, 200_000),
        "tracks": random.randrange(0, 300),
    }


def _problem_type(response: Any) -> str:
    """The problem's stable ``type`` (so that Locust groups failures by kind), or the start of
    a body that is not problem+json (a proxy's error page)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("type"), str):
        return str(body["type"])
    return " ".join((response.text or "").split())[:80]


def _query(path: str, **params: Any) -> str:
    present = {k: v for k, v in params.items() if v is not None}
    return f"{path}?{urlencode(present)}" if present else path


class CampaignManagerUser(FastHttpUser):
    """Someone on a team, in the web app, on one of the prepared accounts."""

    host = "http://127.0.0.1:8000"
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        if not POOL.accounts:
            raise StopUser  # preparing failed, and the run is ending (see _prepare_accounts)
        self.account = POOL.take()

    # -- plumbing -----------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, name: str, *, expect: tuple[int, ...] = (200,), **kw: Any
    ) -> Any:
        """The decoded body of an expected answer, else None with the request marked failed."""
        self._refresh_if_old()
        with self.client.request(
            method, path, name=name, headers=self.account.headers, catch_response=True, **kw
        ) as response:
            if response.status_code not in expect:
                response.failure(f"HTTP {response.status_code} {_problem_type(response)}")
                return None
            if response.status_code == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                response.failure("the answer is not JSON")
                return None

    def _refresh_if_old(self) -> None:
        account = self.account
        if account.refreshing or time.monotonic() - account.issued_at < REFRESH_AFTER_SECONDS:
            return
        # Refresh tokens work once: one user of the account rotates, the others keep using the
        # old access token, still valid for minutes. No yield before the flag is set (gevent).
        account.refreshing = True
        try:
            with self.client.post(
                f"{API}/auth/refresh",
                json={"refresh_token": account.refresh_token},
                name=f"{API}/auth/refresh",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")
                    return
                tokens = response.json()
            account.access_token = tokens["access_token"]
            account.refresh_token = tokens["refresh_token"]
            account.issued_at = time.monotonic()
        finally:
            account.refreshing = False

    def _campaign_id(self) -> str:
        return random.choice(self.account.campaign_ids)

    def _template_id(self) -> str:
        return random.choice(self.account.template_ids)

    def _artist_id(self) -> str:
        return random.choice(POOL.artist_ids)

    # -- campaigns ----------------------------------------------------------------------------

    @task(8)
    def browse_campaigns(self) -> None:
        """The campaigns page: a filter or none, a sort, a page of 25 or 50."""
        path = _query(
            f"{API}/campaigns",
            status=random.choice([None, None, "draft", "active"]),
            q=random.choice([None, None, None, random.choice(GENRES)]),
            sort=random.choice(CAMPAIGN_SORTS),
            limit=random.choice([25, 50]),
        )
        page = self._send("GET", path, f"{API}/campaigns?[filters]")
        if page and page.get("items"):
            known = set(self.account.campaign_ids)
            self.account.campaign_ids.extend(c["id"] for c in page["items"] if c["id"] not in known)

    @task(5)
    def open_campaign(self) -> None:
        """A campaign's page: the campaign and the artists in it."""
        campaign_id = self._campaign_id()
        self._send("GET", f"{API}/campaigns/{campaign_id}", f"{API}/campaigns/[id]")
        self._send(
            "GET",
            f"{API}/campaigns/{campaign_id}/artists?limit=25",
            f"{API}/campaigns/[id]/artists",
        )

    @task(2)
    def create_campaign(self) -> None:
        created = self._send(
            "POST", f"{API}/campaigns", f"{API}/campaigns", expect=(201,), json=_campaign_body()
        )
        if created:
            self.account.campaign_ids.append(created["id"])

    @task(1)
    def edit_campaign(self) -> None:
        self._send(
            "PATCH",
            f"{API}/campaigns/{self._campaign_id()}",
            f"{API}/campaigns/[id]",
            json={
                "description": f"Edited under load at {datetime.now(UTC).isoformat()}",
                "budget_minor": random.randrange(10_000, 5_000_000),
            },
        )

    # -- artists ------------------------------------------------------------------------------

    @task(6)
    def browse_artists(self) -> None:
        """The artists page with its filters: genre, city, followers, contact, watched."""
        low = random.choice([None, 0, 1_000, 10_000])
        path = _query(
            f"{API}/artists",
            genre=random.choice([None, random.choice(GENRES)]),
            city=random.choice([None, None, random.choice(CITIES)]),
            min_followers=low,
            max_followers=None if low is None else random.choice([None, low + 100_000]),
            has_contact=random.choice([None, None, "true"]),
            sort=random.choice(ARTIST_SORTS),
            limit=random.choice([25, 50]),
        )
        self._send("GET", path, f"{API}/artists?[filters]")

    @task(3)
    def search_artists(self) -> None:
        """The search box: text in the name, permalink or username."""
        word = random.choice(SEARCH_WORDS)
        self._send("GET", _query(f"{API}/artists", q=word, limit=25), f"{API}/artists?q=[text]")

    @task(3)
    def open_artist(self) -> None:
        """An artist's page: the detail and its follower history."""
        artist_id = self._artist_id()
        self._send("GET", f"{API}/artists/{artist_id}", f"{API}/artists/[id]")
        self._send("GET", f"{API}/artists/{artist_id}/snapshots", f"{API}/artists/[id]/snapshots")

    # -- email templates ----------------------------------------------------------------------

    @task(2)
    def browse_templates(self) -> None:
        path = _query(f"{API}/email-templates", sort=random.choice(TEMPLATE_SORTS), limit=50)
        self._send("GET", path, f"{API}/email-templates?[filters]")

    @task(2)
    def edit_template(self) -> None:
        """Open a template, change its subject, save (the server renders it to check)."""
        template_id = self._template_id()
        name = f"{API}/email-templates/[id]"
        if self._send("GET", f"{API}/email-templates/{template_id}", name) is None:
            return
        subject = f"{TEMPLATE_SUBJECT} ({random.choice(GENRES)})"
        self._send("PATCH", f"{API}/email-templates/{template_id}", name, json={"subject": subject})

    @task(2)
    def preview_template(self) -> None:
        """The preview pane: render a template (an unsaved draft now and then) for an artist."""
        body: dict[str, Any] = {"artist_id": self._artist_id()}
        if random.random() < 0.5:
            body["campaign_id"] = self._campaign_id()
        if random.random() < 0.3:
            body["body_text"] = f"{TEMPLATE_TEXT} Draft {uuid.uuid4().hex[:4]}."
        self._send(
            "POST",
            f"{API}/email-templates/{self._template_id()}/preview",
            f"{API}/email-templates/[id]/preview",
            json=body,
        )

    @task(1)
    def create_template(self) -> None:
        created = self._send(
            "POST",
            f"{API}/email-templates",
            f"{API}/email-templates",
            expect=(201,),
            json=_template_body(),
        )
        if created:
            self.account.template_ids.append(created["id"])

    # -- dashboard and analytics --------------------------------------------------------------

    @task(4)
    def dashboard(self) -> None:
        """The dashboard's cards, as the page loads them."""
        since = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
        for path, name in [
            (f"{API}/analytics/overview", f"{API}/analytics/overview"),
            (
                _query(f"{API}/analytics/summary", interval="day", since=since.isoformat()),
                f"{API}/analytics/summary?interval=day",
            ),
            (
                _query(f"{API}/campaigns", sort="-created_at", limit=50),
                f"{API}/campaigns?[filters]",
            ),
            (_query(f"{API}/discovery-jobs", status="running", limit=10), f"{API}/discovery-jobs"),
            (_query(f"{API}/discovery-jobs", status="queued", limit=10), f"{API}/discovery-jobs"),
            (_query(f"{API}/audit-log", limit=10), f"{API}/audit-log"),
        ]:
            self._send("GET", path, name)

    @task(2)
    def analytics(self) -> None:
        """The analytics views: counts per week, the latest events."""
        self._send(
            "GET",
            _query(f"{API}/analytics/summary", interval="week"),
            f"{API}/analytics/summary?interval=week",
        )
        self._send("GET", _query(f"{API}/analytics/events", limit=50), f"{API}/analytics/events")

    # -- discovery ----------------------------------------------------------------------------

    @tag("discovery")
    @task(1)
    def discovery(self) -> None:
        """Start a small job when the account has none; otherwise follow it, and cancel it once
        it has run long enough."""
        account = self.account
        if account.job is None:
            if time.monotonic() - account.job_started < DISCOVERY_INTERVAL_SECONDS:
                return
            account.job = "starting"  # no yield before this: no other user starts one
            query = {"terms": [random.choice(GENRES)], "max_artists": 5, "max_depth": 0}
            job = self._send(
                "POST", f"{API}/discovery-jobs", f"{API}/discovery-jobs", expect=(201,), json=query
            )
            account.job = job["id"] if job else None
            account.job_started = time.monotonic()
            return
        if account.job == "starting":
            return
        job_id = account.job
        job = self._send("GET", f"{API}/discovery-jobs/{job_id}", f"{API}/discovery-jobs/[id]")
        if job is None or job.get("status") in FINAL_JOB_STATUSES:
            account.job = None
            return
        if time.monotonic() - account.job_started > DISCOVERY_PATIENCE_SECONDS:
            # 409: it finished in between, which is as good.
            self._send(
                "POST",
                f"{API}/discovery-jobs/{job_id}/cancel",
                f"{API}/discovery-jobs/[id]/cancel",
                expect=(200, 409),
            )
            account.job = None

    # -- live updates -------------------------------------------------------------------------

    @tag("live")
    @task(1)
    def live_updates(self) -> None:
        """Open the live socket as the web app does (the token in the query), wait for its
        ``ready`` message (reported as one request), listen briefly for events, close."""
        self._refresh_if_old()
        name = f"{API}/ws"
        started = time.perf_counter()
        socket: websocket.WebSocket | None = None
        error: Exception | None = None
        length = 0
        try:
            socket = websocket.create_connection(
                _live_url(self.host, self.account.access_token), timeout=LIVE_TIMEOUT_SECONDS
            )
            first = socket.recv()
            length = len(first)
            message = json.loads(first)
            if message.get("type") != "ready":
                error = ValueError(f"expected the ready message first, got {message!r:.120}")
        except Exception as exc:  # refused handshake, closed, timed out: all are failures
            error = exc
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
        )
        if socket is None:
            return
        try:
            if error is None:
                _listen(socket, LIVE_LISTEN_SECONDS)
        finally:
            socket.close(timeout=2)


def _live_url(host: str, token: str) -> str:
    parts = urlsplit(host)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = f"{parts.path.rstrip('/')}{API}/ws"
    return urlunsplit((scheme, parts.netloc, path, urlencode({"token": token}), ""))


def _listen(socket: websocket.WebSocket, seconds: float) -> int:
    """Read events until ``seconds`` have passed or the server closes; how many arrived."""
    deadline = time.monotonic() + seconds
    received = 0
    while (remaining := deadline - time.monotonic()) > 0:
        socket.settimeout(remaining)
        try:
            if not socket.recv():
                break
        except websocket.WebSocketTimeoutException:
            break
        except websocket.WebSocketConnectionClosedException:
            break
        received += 1
    return received
