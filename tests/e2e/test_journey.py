"""The whole journey in a real browser, on the embedded stack, the fixture SoundCloud site and a
loopback SMTP server: sign up, discover, fill a campaign, write a template, set up a mailbox,
launch outreach and watch its counters move live, unsubscribe from a received message, record a
transaction and see the budget change; then a viewer who cannot edit, and a second workspace
that sees none of it."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.conftest import PASSWORD, check_page, sign_in, sign_up
from tests.smtp_server import Recorder, SmtpServer, recording_server

pytestmark = pytest.mark.integration


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Recorder, SmtpServer]]:
    recorder = Recorder()
    async with recording_server(recorder) as server:
        yield recorder, server


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@label.example"


async def dashboard_heading(page: Page) -> None:
    await expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


async def open_from_navigation(page: Page, name: str) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()


def received_unsubscribe_path(message: EmailMessage) -> str:
    """The path of the unsubscribe link in a received message (its host is the service's
    public URL, which in tests is not the port the test server listens on)."""
    header = str(message["List-Unsubscribe"])
    url = re.search(r"<(https?://[^>]+)>", header)
    assert url, f"no unsubscribe URL in {header!r}"
    return urlsplit(url.group(1)).path


async def test_the_whole_journey(
    context: BrowserContext,
    page: Page,
    served_url: str,
    smtp: tuple[Recorder, SmtpServer],
) -> None:
    recorder, server = smtp
    owner = unique("owner")
    await sign_up(page, owner, workspace="Nightshift Records")
    await check_page(page, "dashboard")

    # A campaign with a budget.
    await open_from_navigation(page, "Campaigns")
    await page.get_by_role("button", name="New campaign").click()
    form = page.get_by_role("form", name="New campaign")
    await form.get_by_label("Name", exact=True).fill("Autumn techno push")
    await form.get_by_label("Budget", exact=True).fill("500")
    await form.get_by_role("button", name="Create campaign").click()
    await expect(page.get_by_role("heading", level=1, name="Autumn techno push")).to_be_visible()
    campaign_url = page.url
    await expect(page.get_by_test_id("campaign-spent")).to_be_visible()
    spent_before = await page.get_by_test_id("campaign-spent").inner_text()

    # Discovery on the fixture site; its progress moves on the job's page.
    await open_from_navigation(page, "Discovery")
    await check_page(page, "discovery")
    job_form = page.get_by_role("form", name="New discovery job")
    await job_form.get_by_label("Genres", exact=True).fill("techno")
    await job_form.get_by_label("Maximum artists", exact=True).fill("12")
    await job_form.get_by_role("button", name="Start discovery").click()
    await expect(page).to_have_url(re.compile(r"/discovery/[0-9a-f-]{36}$"))
    await expect(page.get_by_test_id("job-status")).to_have_text(
        re.compile("completed", re.I), timeout=120_000
    )
    await expect(page.get_by_test_id("count-kept")).not_to_have_text("0")
    await check_page(page, "discovery-job")

    # Its artists into the campaign.
    results = page.get_by_role("table", name=re.compile("Artists this job kept"))
    await results.get_by_role("checkbox", name="Select all shown artists").check()
    adding = page.get_by_role("form", name="Add to campaign")
    await adding.get_by_label("Campaign", exact=True).select_option(
        label="Autumn techno push (draft)"
    )
    await adding.get_by_role("button", name="Add to campaign").click()
    await expect(page.get_by_role("status").filter(has_text="Added")).to_contain_text(
        "Autumn techno push"
    )

    # A template with variables, previewed for a real artist.
    await open_from_navigation(page, "Templates")
    await page.get_by_role("button", name="New template").click()
    await page.get_by_label("Name", exact=True).fill("First contact")
    await page.get_by_label("Subject", exact=True).fill("{{ artist.name }} x Nightshift")
    await page.get_by_label("Body", exact=True).fill(
        "Hi {{ artist.name }}, we love your sound. {{ unsubscribe_url }}"
    )
    await page.get_by_role("button", name="Create template").click()
    await expect(page.get_by_role("button", name="Save template")).to_be_visible()
    await expect(page.get_by_test_id("preview-subject")).to_contain_text("x Nightshift")
    await check_page(page, "template-editor")

    # A mailbox on the loopback SMTP server.
    await open_from_navigation(page, "Mailboxes")
    await page.get_by_role("button", name="New mailbox").click()
    mailbox = page.get_by_role("form", name="Add a mailbox")
    await mailbox.get_by_label("Name", exact=True).fill("Label relay")
    await mailbox.get_by_label("SMTP host", exact=True).fill("127.0.0.1")
    await mailbox.get_by_label("Security", exact=True).select_option("none")
    await mailbox.get_by_label("Port", exact=True).fill(str(server.port))
    await mailbox.get_by_label("From address", exact=True).fill("hello@nightshift.example")
    # A test relay: no pause between messages, and open every hour of every day.
    await mailbox.get_by_label("Messages per minute", exact=True).fill("600")
    await mailbox.get_by_label("Shortest gap (seconds)", exact=True).fill("0")
    await mailbox.get_by_label("Longest gap (seconds)", exact=True).fill("0")
    await mailbox.get_by_label("Opens at hour", exact=True).fill("0")
    await mailbox.get_by_label("Closes at hour", exact=True).fill("24")
    for day in ("Saturday", "Sunday"):
        await mailbox.get_by_label(day, exact=True).check()
    await mailbox.get_by_role("button", name="Add mailbox").click()
    await expect(page.get_by_role("button", name="Test connection of Label relay")).to_be_visible()
    await check_page(page, "mailboxes")

    # Outreach for the campaign, launched; its counters move without a reload.
    await page.goto(campaign_url)
    await page.get_by_role("link", name="New outreach").click()
    outreach = page.get_by_role("form", name="New outreach campaign")
    await outreach.get_by_label("Name", exact=True).fill("Autumn first contact")
    await outreach.get_by_label("Template", exact=True).select_option(label="First contact")
    await outreach.get_by_label("Mailbox", exact=True).select_option(
        label="Label relay (hello@nightshift.example)"
    )
    await outreach.get_by_label("Sender email", exact=True).fill("hello@nightshift.example")
    await outreach.get_by_role("button", name="Create outreach").click()
    await expect(page).to_have_url(re.compile(r"/outreach/[0-9a-f-]{36}$"))
    from_campaign = page.get_by_role("form", name="Add a campaign's artists")
    await from_campaign.get_by_role("button", name="Add the campaign's artists").click()
    await expect(page.get_by_test_id("outreach-count-queued")).not_to_have_text("0")
    queued = int((await page.get_by_test_id("outreach-count-total").inner_text()).replace(",", ""))
    reloads: list[str] = []
    page.on("framenavigated", lambda frame: reloads.append(frame.url))
    await (
        page.get_by_role("group", name="Outreach actions")
        .get_by_role("button", name="Launch")
        .click()
    )
    await expect(page.get_by_test_id("outreach-count-sent")).to_have_text(
        f"{queued:,}", timeout=120_000
    )
    await expect(page.get_by_test_id("outreach-status")).to_have_text(re.compile("completed", re.I))
    assert reloads == [], "the counters should move without the page reloading"
    await check_page(page, "outreach")
    assert len(recorder.received) == queued

    # A recipient unsubscribes from the message they received.
    received = message_from_bytes(recorder.received[0].data, policy=policy.default)
    assert isinstance(received, EmailMessage)
    recipient = await context.new_page()
    await recipient.goto(served_url + received_unsubscribe_path(received))
    await recipient.get_by_role("button", name="Unsubscribe").click()
    await expect(recipient.get_by_text(re.compile("unsubscribed", re.I)).first).to_be_visible()
    await recipient.close()

    # A transaction on the campaign; the budget figures change.
    await page.goto(campaign_url)
    await check_page(page, "campaign")
    add = page.get_by_role("form", name="Add a transaction to this campaign")
    await add.get_by_label("Type", exact=True).select_option("expense")
    await add.get_by_label("Amount", exact=True).fill("125")
    await add.get_by_label("Category", exact=True).fill("ads")
    await add.get_by_role("button", name="Add transaction").click()
    await expect(page.get_by_test_id("campaign-spent")).not_to_have_text(spent_before)
    await expect(page.get_by_test_id("campaign-spent")).to_contain_text("125")
    chart = page.get_by_role("figure", name="Spent against budget for Autumn techno push")
    await chart.get_by_text("Show the numbers").click()
    await expect(
        chart.get_by_role("table", name="Spent against budget for Autumn techno push")
    ).to_contain_text("125")

    # The rest of the main pages, checked and captured.
    for name, label in (
        ("campaigns", "Campaigns"),
        ("artists", "Artists"),
        ("templates", "Templates"),
        ("outreach-list", "Outreach"),
        ("outbox", "Outbox"),
        ("transactions", "Transactions"),
        ("audit-log", "Audit log"),
        ("members", "Members"),
        ("settings", "Settings"),
    ):
        await open_from_navigation(page, label)
        await check_page(page, name)
    await open_from_navigation(page, "Artists")
    await page.get_by_role("table").get_by_role("link").first.click()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await check_page(page, "artist")


async def test_a_viewer_sees_but_cannot_edit(
    context: BrowserContext, page: Page, served_url: str
) -> None:
    owner_email, viewer_email = unique("owner"), unique("viewer")
    await sign_up(page, owner_email, workspace="Label with a viewer")
    async with httpx.AsyncClient(base_url=served_url, timeout=30) as api:
        login = await api.post(
            "/api/v1/auth/login", json={"email": owner_email, "password": PASSWORD}
        )
        owner = {"Authorization": f"Bearer {login.json()['access_token']}"}
        await api.post("/api/v1/campaigns", json={"name": "Spring tour"}, headers=owner)
        invited = await api.post(
            "/api/v1/invitations", json={"email": viewer_email, "role": "viewer"}, headers=owner
        )
        assert invited.status_code == 201, invited.text
    await page.get_by_role("button", name="Sign out").click()

    # The invitee follows the emailed link, creates an account, and accepts.
    await page.goto(f"/invitations/accept?code={invited.json()['token']}")
    await page.get_by_role("link", name=re.compile("create an account", re.I)).click()
    await sign_up_here(page, viewer_email)
    await page.get_by_role("button", name=re.compile("accept", re.I)).click()
    await dashboard_heading(page)

    await open_from_navigation(page, "Campaigns")
    await expect(page.get_by_role("link", name="Spring tour")).to_be_visible()
    await expect(page.get_by_role("button", name="New campaign")).to_have_count(0)
    await page.get_by_role("link", name="Spring tour").click()
    await expect(page.get_by_role("heading", level=1, name="Spring tour")).to_be_visible()
    await expect(page.get_by_role("button", name="Edit campaign")).to_have_count(0)
    await expect(page.get_by_role("group", name="Change status")).to_have_count(0)
    await open_from_navigation(page, "Templates")
    await expect(page.get_by_role("button", name="New template")).to_have_count(0)
    await check_page(page, "viewer-campaigns")


async def sign_up_here(page: Page, email: str) -> None:
    """Fill the sign-up form the page is on (reached from a link that keeps ``next``)."""
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Your name", exact=True).fill("Sam")
    await page.get_by_role("button", name="Create account").click()


async def test_a_second_workspace_sees_none_of_the_firsts_data(
    browser_context_pair: tuple[Page, Page],
) -> None:
    first, second = browser_context_pair
    await sign_up(first, unique("first"), workspace="First label")
    await open_from_navigation(first, "Campaigns")
    await first.get_by_role("button", name="New campaign").click()
    await (
        first.get_by_role("form", name="New campaign")
        .get_by_label("Name", exact=True)
        .fill("Secret plan")
    )
    await first.get_by_role("button", name="Create campaign").click()
    await expect(first.get_by_role("heading", level=1, name="Secret plan")).to_be_visible()
    secret_url = urlsplit(first.url).path

    await sign_up(second, unique("second"), workspace="Second label")
    await open_from_navigation(second, "Campaigns")
    await expect(second.get_by_text("Secret plan")).to_have_count(0)
    await second.goto(secret_url)
    await expect(second.get_by_role("heading", level=1, name="Campaign not found")).to_be_visible()
    await expect(second.get_by_text("Secret plan")).to_have_count(0)
    for label in ("Templates", "Outreach", "Transactions", "Audit log"):
        await open_from_navigation(second, label)
        await expect(second.get_by_text("Secret plan")).to_have_count(0)


@pytest.fixture
async def browser_context_pair(
    context: BrowserContext, browser: object, served_url: str
) -> AsyncIterator[tuple[Page, Page]]:
    """Two people in two browsers (separate storage): one page each."""
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    other = await browser.new_context(base_url=served_url)
    try:
        yield await context.new_page(), await other.new_page()
    finally:
        await other.close()


async def test_sign_in_page_is_accessible(page: Page) -> None:
    await page.goto("/login")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await check_page(page, "login")
    await page.goto("/signup")
    await check_page(page, "signup")
    email = unique("returning")
    await sign_up(page, email, workspace="Returning label")
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, email)


async def test_signing_in_and_moving_around_by_keyboard_alone(page: Page) -> None:
    email = unique("keyboard")
    await sign_up(page, email, workspace="Keyboard label")
    await page.get_by_role("button", name="Sign out").click()
    await page.goto("/login")

    await page.get_by_label("Email", exact=True).focus()
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await dashboard_heading(page)

    # The first Tab reaches the skip link, which moves the focus past the navigation.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()
    # Every navigation link is reachable with Tab and followed with Enter.
    campaigns = page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")
    for _ in range(40):
        await page.keyboard.press("Shift+Tab")
        if await campaigns.evaluate("link => link === document.activeElement"):
            break
    await expect(campaigns).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1, name="Campaigns")).to_be_visible()
    await page.get_by_role("button", name="New campaign").focus()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Typed campaign")
    await expect(
        page.get_by_role("form", name="New campaign").get_by_label("Name", exact=True)
    ).to_have_value("Typed campaign")
