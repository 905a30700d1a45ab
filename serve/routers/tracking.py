"""The public links in sent mail: the open pixel, click redirects and the unsubscribe page.

They live at the site's root, on the paths ``core/messages.py`` writes into messages, not under
``/api/v1``, and stay out of the OpenAPI document: mail clients, their image proxies and
browsers call them, never API clients. There is no login: a signed token
(``core/link_tokens.py``) names the email record, and every write is scoped to that record's own
workspace and recorded through ``storage/activity.py`` as the system (``"tracking"``).

- ``GET /t/o/{token}`` answers a 1x1 transparent GIF, never cached, whatever happens: a bad
  token or a failure to record still shows nothing broken in the reader's mail. The first open
  of a delivered message sets ``opened_at`` (``sent`` becomes ``opened``) with an
  ``email.opened`` analytics event, an audit row and a live event; later opens (image proxies
  fetch again) change nothing, so the pixel writes at most once per record.
- ``GET /t/c/{token}`` is a 302 to exactly the URL the token was minted with, never anywhere
  else: a bad token is a 404 page. Each click is an ``email.clicked`` analytics event with its
  URL, up to ``CM_RECORDED_CLICKS_PER_IP`` a minute per client address (beyond it the redirect
  still happens, unrecorded); the first click also sets ``clicked_at`` (and ``opened_at``, when
  images were blocked) and moves ``sent`` or ``opened`` to ``clicked``. Recording is best
  effort: the link works whatever the database does.
- ``GET /u/{token}`` shows a page asking to confirm, and changes nothing: link scanners fetch
  every link in a message. ``POST /u/{token}`` (the page's button, and RFC 8058 one-click with
  its ``List-Unsubscribe=One-Click`` body, which is not required) puts the address on the
  workspace's suppression list as ``unsubscribed`` with an ``email.unsubscribed`` analytics
  event, a ``suppression.create`` audit row and live event, and answers 200 with a page saying
  so. Again is harmless: an address already suppressed is left as it is. At most
  ``CM_UNSUBSCRIBES_PER_IP`` POSTs a minute per client address (beyond: 429 with Retry-After).
  ``EmailStatus`` has no ``unsubscribed``: the record keeps its status, and the suppression
  and the analytics event (on the record) say it.

Pages are small, self-contained HTML (no external asset) under a strict Content-Security-Policy.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import math
import uuid
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import SuppressionReason
from core.errors import NotFound
from core.link_tokens import LinkSigner, LinkTokenRefused, RecordUnsubscribe, UnsubscribeTarget
from core.messages import CLICK_PATH, OPEN_PATH, UNSUBSCRIBE_PATH
from serve.dependencies import ClientAddress, ResourcesDep
from serve.resources import Resources
from storage.activity import Activity
from storage.models import EmailRecord
from storage.rate_limits import RateLimiter
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.base import write_guard
from storage.repositories.email_records import (
    EmailRecordRepository,
    Engagement,
    record_for_link,
)
from storage.repositories.suppressions import SuppressionRepository

log = logging.getLogger(__name__)

# Not ``router``: serve.routers mounts every ``router`` under /api/v1; serve/app.py mounts this
# one at the root.
public_router = APIRouter(include_in_schema=False)

SYSTEM = "tracking"
LIMIT_WINDOW_SECONDS = 60

# A 1x1 GIF whose one pixel is transparent.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NOT_CACHED = {"Cache-Control": "no-store, max-age=0", "X-Content-Type-Options": "nosniff"}

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
    "color:#1a1a1a;background:#fff}h1{font-size:1.4rem}"
    "button{font:inherit;padding:.5rem 1.25rem;cursor:pointer}"
)
# Nothing but the page's own style block may load or run, and the form posts only back here.
_CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()}'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    **_NOT_CACHED,
    "Content-Security-Policy": _CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


@public_router.get(OPEN_PATH + "{token}")
async def open_pixel(token: str, resources: ResourcesDep) -> Response:
    """The open pixel."""
    try:
        record_id = LinkSigner(resources.secret_key).verify_open(token)
    except LinkTokenRefused:
        return _pixel()
    try:
        await _record_engagement(resources, record_id)
    except Exception:
        log.exception("recording an open of email record %s failed", record_id)
    return _pixel()


@public_router.get(CLICK_PATH + "{token}")
async def follow_click(token: str, resources: ResourcesDep, address: ClientAddress) -> Response:
    """A tracked link: redirects to the URL the message linked to."""
    try:
        target = LinkSigner(resources.secret_key).verify_click(token)
    except LinkTokenRefused:
        return _not_found_page()
    try:
        counted = await RateLimiter(resources.redis).hit(
            f"clicks:ip:{address}",
            limit=resources.settings.recorded_clicks_per_ip,
            window_seconds=LIMIT_WINDOW_SECONDS,
        )
        await _record_engagement(
            resources, target.record_id, click_url=target.url, count_click=counted.allowed
        )
    except Exception:
        log.exception("recording a click in email record %s failed", target.record_id)
    return Response(
        status_code=302,
        headers={
            **_NOT_CACHED,
            "Location": _location(target.url),
            "Referrer-Policy": "no-referrer",
        },
    )


@public_router.get(UNSUBSCRIBE_PATH + "{token}")
async def unsubscribe_page(token: str, resources: ResourcesDep) -> Response:
    """The unsubscribe page: asks to confirm."""
    try:
        target = LinkSigner(resources.secret_key).verify_unsubscribe(token)
    except LinkTokenRefused:
        return _not_found_page()
    async with resources.sessionmaker() as session:
        recipient = await _recipient(session, target)
        if recipient is None:
            return _not_found_page()
        suppressed = await SuppressionRepository(session, recipient.workspace_id).is_suppressed(
            recipient.address
        )
    if suppressed:
        return _unsubscribed_page(recipient.address)
    return _page(
        200,
        "Unsubscribe",
        f"<p>Stop emails from this sender to <strong>{escape(masked(recipient.address))}"
        "</strong>?</p>"
        # The same body a one-click client sends, so both reach the same POST.
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>',
    )


@public_router.post(UNSUBSCRIBE_PATH + "{token}")
async def unsubscribe(
    token: str, request: Request, resources: ResourcesDep, address: ClientAddress
) -> Response:
    """Unsubscribe: the page's button and RFC 8058 one-click."""
    try:
        target = LinkSigner(resources.secret_key).verify_unsubscribe(token)
    except LinkTokenRefused:
        return _not_found_page()
    allowed = await RateLimiter(resources.redis).hit(
        f"unsubscribe:ip:{address}",
        limit=resources.settings.unsubscribes_per_ip,
        window_seconds=LIMIT_WINDOW_SECONDS,
    )
    if not allowed.allowed:
        return _page(
            429,
            "Too many requests",
            "<p>Too many unsubscribe requests from your network. Please try again in a minute.</p>",
            headers={"Retry-After": str(max(1, math.ceil(allowed.retry_after)))},
        )
    async with resources.sessionmaker.begin() as session:
        recipient = await _recipient(session, target)
        if recipient is None:
            return _not_found_page()
        activity = Activity(
            session,
            resources.redis,
            recipient.workspace_id,
            system=SYSTEM,
            request_id=request.headers.get("x-request-id"),
        )
        try:
            await _suppress(activity, recipient)
        except NotFound:
            # An address link of a workspace that has since been deleted.
            return _not_found_page()
    await activity.after_commit()
    return _unsubscribed_page(recipient.address)


@dataclass(frozen=True)
class _Recipient:
    """Whom an unsubscribe link stands for."""

    workspace_id: uuid.UUID
    address: str
    record: EmailRecord | None


async def _recipient(session: AsyncSession, target: UnsubscribeTarget) -> _Recipient | None:
    if isinstance(target, RecordUnsubscribe):
        record = await record_for_link(session, target.record_id)
        if record is None:
            return None
        return _Recipient(record.workspace_id, record.to_email, record)
    return _Recipient(target.workspace_id, target.address, None)


async def _suppress(activity: Activity, recipient: _Recipient) -> None:
    """Suppress the recipient's address in its workspace, recording it the first time."""
    session, workspace_id = activity.session, recipient.workspace_id
    suppressions = SuppressionRepository(session, workspace_id)
    async with write_guard(session, "suppression"):
        added = await suppressions.suppress(recipient.address, SuppressionReason.UNSUBSCRIBED)
    if not added:
        return
    suppression = await suppressions.find(recipient.address)
    assert suppression is not None
    data: dict[str, str] = {"email": suppression.email, "reason": suppression.reason}
    record = recipient.record
    if record is not None:
        data["email_record_id"] = str(record.id)
        data["outreach_campaign_id"] = str(record.outreach_campaign_id)
    await AnalyticsEventRepository(session, workspace_id).record(
        entity_type="email_record" if record is not None else "suppression",
        entity_id=record.id if record is not None else suppression.id,
        event_type="email.unsubscribed",
        data=data,
    )
    activity.invalidate("analytics_event")
    await activity.record("suppression.create", "suppression", suppression.id, data)


async def _record_engagement(
    resources: Resources,
    record_id: uuid.UUID,
    *,
    click_url: str | None = None,
    count_click: bool = False,
) -> None:
    """Record an open (``click_url`` None) or a click in the record's workspace; a click's
    analytics event only when ``count_click``."""
    async with resources.sessionmaker.begin() as session:
        record = await record_for_link(session, record_id)
        if record is None:
            return
        activity = Activity(session, resources.redis, record.workspace_id, system=SYSTEM)
        records = EmailRecordRepository(session, record.workspace_id)
        if click_url is None:
            engagement = await records.mark_opened(record.id)
        else:
            engagement = await records.mark_clicked(record.id)
        await _log_engagement(activity, engagement, click_url, count_click=count_click)
    await activity.after_commit()


async def _log_engagement(
    activity: Activity, engagement: Engagement, click_url: str | None, *, count_click: bool
) -> None:
    if not engagement.delivered:
        return
    record = engagement.record
    analytics = AnalyticsEventRepository(activity.session, record.workspace_id)
    data: dict[str, str] = {"outreach_campaign_id": str(record.outreach_campaign_id)}
    if engagement.first_open:
        await analytics.record(
            entity_type="email_record", entity_id=record.id, event_type="email.opened", data=data
        )
    counted = click_url is not None and count_click
    if counted:
        await analytics.record(
            entity_type="email_record",
            entity_id=record.id,
            event_type="email.clicked",
            data={**data, "url": click_url or ""},
        )
    if engagement.first_open or counted:
        activity.invalidate("analytics_event")
    changed = {**data, "status": record.status}
    if click_url is not None:
        changed["url"] = click_url
    action = "email_record.click" if click_url is not None else "email_record.open"
    if engagement.first_open or engagement.first_click:
        await activity.record(action, "email_record", record.id, changed)
    elif counted:
        # A repeated click changes no row: its analytics event is its record, so it is only
        # announced live, not audited.
        activity.announce(action, "email_record", record.id, changed)


def masked(address: str) -> str:
    """``address`` with most of its local part hidden (``m***a@label.example``): enough for its
    owner to recognise it, not enough to read it off a forwarded link."""
    local, _, domain = address.rpartition("@")
    shown = local[:1] + "***" + (local[-1:] if len(local) > 3 else "")
    return f"{shown}@{domain}"


def _location(url: str) -> str:
    """``url`` as a ``Location`` value: exactly as minted when it is ASCII (the usual case);
    otherwise the way a browser would have followed the original link, its host in IDNA and
    every other non-ASCII character percent-encoded as UTF-8 (headers carry only ASCII)."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    userinfo, at, host_port = parts.netloc.rpartition("@")
    host, colon, port = host_port.rpartition(":")
    if not (colon and port.isdigit()):
        host, colon, port = host_port, "", ""
    with contextlib.suppress(UnicodeError):  # then left to the percent-encoding below
        host = host.encode("idna").decode("ascii")
    # urlsplit keeps the netloc as written, right after the scheme's "//".
    start = url.index("//") + 2
    end = start + len(parts.netloc)
    return _ascii(f"{url[:start]}{userinfo}{at}{host}{colon}{port}{url[end:]}")


# Every printable ASCII character stays as it is; only what lies beyond ASCII is encoded.
_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))


def _ascii(text: str) -> str:
    return quote(text, safe=_PRINTABLE_ASCII)


def _pixel() -> Response:
    return Response(PIXEL_GIF, media_type="image/gif", headers=_NOT_CACHED)


def _page(
    status: int, title: str, body: str, *, headers: dict[str, str] | None = None
) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def _unsubscribed_page(address: str) -> HTMLResponse:
    return _page(
        200,
        "You are unsubscribed",
        f"<p><strong>{escape(masked(address))}</strong> will get no more emails from this "
        "sender.</p>",
    )


def _not_found_page() -> HTMLResponse:
    return _page(
        404,
        "Link not found",
        "<p>This link is not valid. If you followed it from an email, it may have been cut "
        "or changed on the way.</p>",
    )
