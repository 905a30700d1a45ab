"""The public links in sent mail, followed from real messages: the open pixel, click redirects
and the unsubscribe page with its one-click POST."""

from __future__ import annotations

import asyncio
import email
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from core.delivery import Delivery, Result
from core.link_tokens import AddressUnsubscribe, LinkSigner
from core.messages import MESSAGE_POLICY, MailAddress, TrackingLinks, build_message, message_id_for
from core.settings import Settings
from core.templating import RenderedEmail
from serve.app import build_app
from storage.database import create_sessionmaker
from storage.events import EventSubscription
from storage.repositories.send_queue import SendQueue
from tests.serve.conftest import Account, register, workspace_events
from tests.serve.test_outreach_api import (
    OUTREACH,
    RECORDS,
    SUPPRESSIONS,
    create_outreach,
    create_template,
    queue,
)

SENDER = "promo@label.example"
RECIPIENT = "nova-waves@artist.example"
LINKED = "https://label.example/release/7?utm_source=mail&id=a%20b#listen"
EVENT_TIMEOUT_SECONDS = 10


@dataclass
class Delivered:
    """A message as its recipient got it, and its email record."""

    who: Account
    record_id: str
    outreach_id: str
    message: EmailMessage

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        content: str = part.get_content()
        return content

    @property
    def pixel(self) -> str:
        return _path(re.findall(r'<img src="([^"]+)"', self.html)[-1])

    @property
    def click(self) -> str:
        return _path(next(h for h in _hrefs(self.html) if "/t/c/" in h))

    @property
    def unsubscribe(self) -> str:
        header = str(self.message["List-Unsubscribe"])
        return _path(re.findall(r"<(https?://[^>]+)>", header)[0])


def _hrefs(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def _path(url: str) -> str:
    """The path of a link on CM_PUBLIC_URL, to follow on the in-process app."""
    return urlsplit(url).path


def tampered(path: str) -> str:
    """``path`` with one character of its token changed."""
    head, token = path.rsplit("/", 1)
    middle = len(token) // 2
    swapped = "A" if token[middle] != "A" else "B"
    return f"{head}/{token[:middle]}{swapped}{token[middle + 1 :]}"


async def an_outreach(api: httpx.AsyncClient, who: Account) -> dict[str, Any]:
    """A new outreach campaign with a template of its own (names are unique per workspace)."""
    name = f"Pitch {uuid.uuid4().hex[:8]}"
    template = await create_template(api, who, name=name)
    assert template.status_code == 201, template.text
    outreach = await create_outreach(api, who, template.json()["id"], name=name)
    assert outreach.status_code == 201, outreach.text
    body: dict[str, Any] = outreach.json()
    return body


async def queued_record(
    api: httpx.AsyncClient, who: Account, to: str = RECIPIENT
) -> dict[str, Any]:
    outreach = await an_outreach(api, who)
    queued = await queue(api, who, outreach["id"], {"to_email": to})
    assert queued.json()["queued"] == 1, queued.text
    listed = await api.get(
        RECORDS, params={"outreach_campaign_id": outreach["id"]}, headers=who.headers
    )
    record: dict[str, Any] = listed.json()["items"][0]
    return record


async def deliver(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    who: Account,
    *,
    to: str = RECIPIENT,
    html: str = f'<html><body><p>Hi Nova, <a href="{LINKED}">listen</a></p></body></html>',
) -> Delivered:
    """A queued record claimed and settled sent through the send queue, as an outreach actor
    does with its sender's answer, and the message it sent, built with the app's secret and
    public URL and read back as the recipient's client would."""
    record = await queued_record(api, who, to)
    record_id = uuid.UUID(record["id"])
    message_id = message_id_for(record_id, SENDER)
    async with create_sessionmaker(engine).begin() as session:
        queue = SendQueue(
            session, uuid.UUID(who.workspace_id), uuid.UUID(record["outreach_campaign_id"])
        )
        now = datetime.now(UTC)
        due = await queue.due(now, 1)
        [claimed] = await queue.claim([candidate.id for candidate in due], SENDER)
        assert (claimed.id, claimed.message_id) == (record_id, message_id)
        settled = await queue.settle(
            [Delivery(record_id, Result.SENT, code=250, message="queued", at=now)],
            claims={record_id: claimed.claim},
            steps=[],
            retry_base=timedelta(minutes=1),
        )
        assert settled.counts == {Result.SENT: 1}
    assert settings.secret_key is not None
    built = build_message(
        RenderedEmail(subject="New music", html=html, text=""),
        sender=MailAddress(SENDER, "Mia at Label"),
        recipient=MailAddress(to),
        message_id=message_id,
        links=TrackingLinks.for_record(
            settings.public_url, settings.secret_key.get_secret_value(), record_id
        ),
        date=datetime.now(UTC),
    )
    received = email.message_from_bytes(built.as_bytes(), policy=MESSAGE_POLICY)
    assert isinstance(received, EmailMessage)
    return Delivered(who, record["id"], record["outreach_campaign_id"], received)


async def record_of(api: httpx.AsyncClient, who: Account, record_id: str) -> dict[str, Any]:
    response = await api.get(f"{RECORDS}/{record_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def analytics(api: httpx.AsyncClient, who: Account, event_type: str) -> list[dict[str, Any]]:
    response = await api.get(
        "/api/v1/analytics/events", params={"event_type": event_type}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def audit(api: httpx.AsyncClient, who: Account, action: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/audit-log", params={"action": action}, headers=who.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def suppressed(api: httpx.AsyncClient, who: Account) -> list[tuple[str, str]]:
    response = await api.get(SUPPRESSIONS, headers=who.headers)
    assert response.status_code == 200, response.text
    return [(s["email"], s["reason"]) for s in response.json()["items"]]


async def next_event(events: EventSubscription, event_type: str) -> dict[str, Any]:
    async with asyncio.timeout(EVENT_TIMEOUT_SECONDS):
        async for event in events:
            if event["type"] == event_type:
                return event
    raise AssertionError(f"the event stream ended before {event_type}")


def assert_is_page(response: httpx.Response, status: int) -> str:
    """The page's HTML, once it proves self-contained and locked down."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "form-action 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "no-store" in response.headers["cache-control"]
    assert "location" not in response.headers
    page = response.text
    assert " src=" not in page and "<link" not in page and "<script" not in page
    return page


@pytest.fixture
async def owner(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api)


@pytest.fixture
async def stranger(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api, name="Stranger")


@pytest.fixture
async def delivered(
    local_api: httpx.AsyncClient, engine: AsyncEngine, app_settings: Settings, owner: Account
) -> Delivered:
    return await deliver(local_api, engine, app_settings, owner)


@pytest.fixture
async def live(redis_url: str, owner: Account) -> AsyncIterator[EventSubscription]:
    async with workspace_events(redis_url, owner) as events:
        yield events


class TestOpenPixel:
    async def test_answers_a_transparent_gif_and_records_the_first_open_once(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        for _ in range(2):  # the mail client, then its image proxy
            response = await local_api.get(delivered.pixel)
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/gif"
            assert "no-store" in response.headers["cache-control"]
            gif = response.content
            assert gif.startswith(b"GIF89a") and gif[6:10] == b"\x01\x00\x01\x00"

        record = await record_of(local_api, owner, delivered.record_id)
        assert record["status"] == "opened"
        assert record["opened_at"] is not None and record["clicked_at"] is None
        opened = await analytics(local_api, owner, "email.opened")
        assert [(e["entity_id"], e["data"]["outreach_campaign_id"]) for e in opened] == [
            (delivered.record_id, delivered.outreach_id)
        ]
        rows = await audit(local_api, owner, "email_record.open")
        assert [(r["entity_id"], r["actor_user_id"], r["data"]["system"]) for r in rows] == [
            (delivered.record_id, None, "tracking")
        ]

    async def test_tells_the_workspace_live(
        self, local_api: httpx.AsyncClient, delivered: Delivered, live: EventSubscription
    ) -> None:
        await local_api.get(delivered.pixel)
        event = await next_event(live, "email_record.open")
        assert (event["entity_id"], event["actor"], event["system"]) == (
            delivered.record_id,
            "system",
            "tracking",
        )
        assert event["data"]["status"] == "opened"

    async def test_a_tampered_token_still_answers_a_gif_and_records_nothing(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        for path in (tampered(delivered.pixel), "/t/o/" + "A" * 5000, "/t/o/not-a-token"):
            response = await local_api.get(path)
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/gif"
        record = await record_of(local_api, owner, delivered.record_id)
        assert (record["status"], record["opened_at"]) == ("sent", None)
        assert await analytics(local_api, owner, "email.opened") == []

    async def test_an_open_after_a_click_leaves_the_record_clicked(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        await local_api.get(delivered.click)
        await local_api.get(delivered.pixel)
        assert (await record_of(local_api, owner, delivered.record_id))["status"] == "clicked"
        # The click already counted the open images did not show.
        assert len(await analytics(local_api, owner, "email.opened")) == 1

    async def test_a_message_never_sent_records_no_open(
        self, local_api: httpx.AsyncClient, app_settings: Settings, owner: Account
    ) -> None:
        record = await queued_record(local_api, owner)
        assert app_settings.secret_key is not None
        token = LinkSigner(app_settings.secret_key.get_secret_value()).open_token(
            uuid.UUID(record["id"])
        )
        response = await local_api.get(f"/t/o/{token}")
        assert response.headers["content-type"] == "image/gif"
        after = await record_of(local_api, owner, record["id"])
        assert (after["status"], after["opened_at"]) == ("queued", None)
        assert await analytics(local_api, owner, "email.opened") == []


class TestClickRedirect:
    async def test_redirects_exactly_to_the_linked_url_and_records_each_click(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        for _ in range(2):
            response = await local_api.get(delivered.click)
            assert response.status_code == 302
            assert response.headers["location"] == LINKED
            assert "no-store" in response.headers["cache-control"]

        record = await record_of(local_api, owner, delivered.record_id)
        assert record["status"] == "clicked"
        assert record["clicked_at"] is not None and record["opened_at"] is not None
        clicks = await analytics(local_api, owner, "email.clicked")
        assert [(e["entity_id"], e["data"]["url"]) for e in clicks] == [
            (delivered.record_id, LINKED)
        ] * 2
        # The first click changed the record; the second is only counted.
        rows = await audit(local_api, owner, "email_record.click")
        assert [(r["entity_id"], r["data"]["url"]) for r in rows] == [(delivered.record_id, LINKED)]

    async def test_tells_the_workspace_live(
        self, local_api: httpx.AsyncClient, delivered: Delivered, live: EventSubscription
    ) -> None:
        await local_api.get(delivered.click)
        event = await next_event(live, "email_record.click")
        assert (event["entity_id"], event["data"]["url"], event["data"]["status"]) == (
            delivered.record_id,
            LINKED,
            "clicked",
        )

    async def test_a_link_beyond_ascii_leads_where_a_browser_would_have_gone(
        self,
        local_api: httpx.AsyncClient,
        engine: AsyncEngine,
        app_settings: Settings,
        owner: Account,
    ) -> None:
        html = '<p><a href="https://bücher.example/über?q=ä">shop</a></p>'
        delivered = await deliver(local_api, engine, app_settings, owner, html=html)
        response = await local_api.get(delivered.click)
        assert response.status_code == 302
        assert response.headers["location"] == "https://xn--bcher-kva.example/%C3%BCber?q=%C3%A4"

    async def test_a_tampered_or_foreign_token_is_a_404_page_and_never_a_redirect(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        record_id = uuid.UUID(delivered.record_id)
        elsewhere = LinkSigner("another-service-secret").click_token(
            record_id, "https://evil.example/"
        )
        for path in (tampered(delivered.click), f"/t/c/{elsewhere}", "/t/c/" + "A" * 5000):
            page = assert_is_page(await local_api.get(path), 404)
            assert "evil.example" not in page
        record = await record_of(local_api, owner, delivered.record_id)
        assert (record["status"], record["clicked_at"]) == ("sent", None)
        assert await analytics(local_api, owner, "email.clicked") == []


class TestTokensNameTheirRecord:
    async def test_a_link_touches_only_its_own_workspace(
        self,
        local_api: httpx.AsyncClient,
        engine: AsyncEngine,
        app_settings: Settings,
        owner: Account,
        stranger: Account,
    ) -> None:
        # Both workspaces wrote to the same address; the owner's links say nothing to the other.
        mine = await deliver(local_api, engine, app_settings, owner)
        theirs = await deliver(local_api, engine, app_settings, stranger)
        await local_api.get(mine.pixel)
        await local_api.get(mine.click)
        posted = await local_api.post(mine.unsubscribe, data={"List-Unsubscribe": "One-Click"})
        assert posted.status_code == 200

        assert (await record_of(local_api, owner, mine.record_id))["status"] == "clicked"
        untouched = await record_of(local_api, stranger, theirs.record_id)
        assert (untouched["status"], untouched["opened_at"], untouched["clicked_at"]) == (
            "sent",
            None,
            None,
        )
        assert await suppressed(local_api, owner) == [(RECIPIENT, "unsubscribed")]
        assert await suppressed(local_api, stranger) == []
        for event_type in ("email.opened", "email.clicked", "email.unsubscribed"):
            assert await analytics(local_api, stranger, event_type) == []


class TestUnsubscribePage:
    async def test_a_get_shows_a_confirm_form_with_the_address_masked_and_changes_nothing(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        page = assert_is_page(await local_api.get(delivered.unsubscribe), 200)
        assert "n***s@artist.example" in page and RECIPIENT not in page
        assert '<form method="post">' in page and "<button" in page
        assert await suppressed(local_api, owner) == []
        assert await analytics(local_api, owner, "email.unsubscribed") == []

    async def test_the_body_link_is_the_one_in_the_header(self, delivered: Delivered) -> None:
        assert any(_path(h) == delivered.unsubscribe for h in _hrefs(delivered.html))

    async def test_a_bad_token_is_a_404_page(
        self, local_api: httpx.AsyncClient, delivered: Delivered
    ) -> None:
        assert_is_page(await local_api.get(tampered(delivered.unsubscribe)), 404)
        # An open token is not an unsubscribe token.
        assert_is_page(await local_api.get("/u/" + delivered.pixel.rsplit("/", 1)[1]), 404)
        assert_is_page(await local_api.post(tampered(delivered.unsubscribe)), 404)

    async def test_a_link_whose_record_is_gone_is_a_404_page(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        deleted = await local_api.delete(
            f"{OUTREACH}/{delivered.outreach_id}", headers=owner.headers
        )
        assert deleted.status_code == 204, deleted.text
        assert_is_page(await local_api.get(delivered.unsubscribe), 404)
        assert_is_page(await local_api.post(delivered.unsubscribe), 404)
        # The message's links still lead where they did.
        assert (await local_api.get(delivered.click)).headers["location"] == LINKED


class TestUnsubscribe:
    async def test_the_form_suppresses_the_address_once(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        for _ in range(2):
            response = await local_api.post(
                delivered.unsubscribe, data={"List-Unsubscribe": "One-Click"}
            )
            page = assert_is_page(response, 200)
            assert "n***s@artist.example" in page and "<form" not in page

        assert await suppressed(local_api, owner) == [(RECIPIENT, "unsubscribed")]
        events = await analytics(local_api, owner, "email.unsubscribed")
        assert [(e["entity_type"], e["entity_id"]) for e in events] == [
            ("email_record", delivered.record_id)
        ]
        rows = await audit(local_api, owner, "suppression.create")
        assert [(r["data"]["email"], r["data"]["system"], r["actor_user_id"]) for r in rows] == [
            (RECIPIENT, "tracking", None)
        ]
        # The page now says so, without a button to press again.
        again = assert_is_page(await local_api.get(delivered.unsubscribe), 200)
        assert "unsubscribed" in again and "<form" not in again

    async def test_a_one_click_post_as_multipart_suppresses_the_address(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        response = await local_api.post(
            delivered.unsubscribe, files={"List-Unsubscribe": (None, "One-Click")}
        )
        assert response.status_code == 200, response.text
        assert response.request.headers["content-type"].startswith("multipart/form-data")
        assert await suppressed(local_api, owner) == [(RECIPIENT, "unsubscribed")]

    async def test_the_suppressed_address_is_skipped_by_the_next_outreach(
        self, local_api: httpx.AsyncClient, delivered: Delivered, owner: Account
    ) -> None:
        await local_api.post(delivered.unsubscribe, data={"List-Unsubscribe": "One-Click"})
        outreach = await an_outreach(local_api, owner)
        queued = await queue(local_api, owner, outreach["id"], {"to_email": RECIPIENT})
        assert queued.json()["skipped_suppressed"] == 1, queued.text

    async def test_tells_the_workspace_live(
        self, local_api: httpx.AsyncClient, delivered: Delivered, live: EventSubscription
    ) -> None:
        await local_api.post(delivered.unsubscribe, data={"List-Unsubscribe": "One-Click"})
        event = await next_event(live, "suppression.create")
        assert (event["data"]["email"], event["data"]["email_record_id"], event["system"]) == (
            RECIPIENT,
            delivered.record_id,
            "tracking",
        )


@pytest.fixture
async def strict_app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    """The app allowing two unsubscribe POSTs a minute per address."""
    app = build_app(app_settings.model_copy(update={"unsubscribes_per_ip": 2}))
    async with app.router.lifespan_context(app):
        yield app


class TestUnsubscribeLimit:
    async def test_a_third_post_a_minute_from_one_address_is_refused_with_retry_after(
        self, strict_app: FastAPI, delivered: Delivered
    ) -> None:
        # An address of its own, so no other test's POSTs count against it.
        address = f"2001:db8::{uuid.uuid4().int % 0xFFFF:x}"
        transport = httpx.ASGITransport(app=strict_app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            answers = [(await client.post(delivered.unsubscribe)).status_code for _ in range(3)]
            assert answers == [200, 200, 429]
            refused = await client.post(delivered.unsubscribe)
        assert_is_page(refused, 429)
        assert int(refused.headers["retry-after"]) >= 1


class TestAddressUnsubscribe:
    """Mail sent without a record (an invitation) carries a link naming workspace and address."""

    async def test_suppresses_the_address_in_the_named_workspace(
        self, local_api: httpx.AsyncClient, app_settings: Settings, owner: Account
    ) -> None:
        assert app_settings.secret_key is not None
        signer = LinkSigner(app_settings.secret_key.get_secret_value())
        token = signer.unsubscribe_token(
            AddressUnsubscribe(uuid.UUID(owner.workspace_id), "Guest@Invited.Example")
        )
        page = assert_is_page(await local_api.get(f"/u/{token}"), 200)
        assert "g***t@invited.example" in page
        assert_is_page(await local_api.post(f"/u/{token}"), 200)
        assert await suppressed(local_api, owner) == [("guest@invited.example", "unsubscribed")]
        events = await analytics(local_api, owner, "email.unsubscribed")
        assert [(e["entity_type"], e["data"]["email"]) for e in events] == [
            ("suppression", "guest@invited.example")
        ]

    async def test_a_workspace_that_is_gone_is_a_404_page(
        self, local_api: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        assert app_settings.secret_key is not None
        token = LinkSigner(app_settings.secret_key.get_secret_value()).unsubscribe_token(
            AddressUnsubscribe(uuid.uuid4(), "guest@invited.example")
        )
        assert_is_page(await local_api.post(f"/u/{token}"), 404)
