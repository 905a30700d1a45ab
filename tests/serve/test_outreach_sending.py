"""Outreach that sends, end to end: the API launches, the outreach actor claims and settles,
sender actors send to a real SMTP server on loopback (aiosmtpd) or to the outbox folder.

These tests run the actors on the session's Ray; the SMTP server runs in the test's own event
loop, which keeps serving while a test awaits its polls.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.settings import Settings
from serve.app import build_app
from tests.serve.conftest import Account, register
from tests.serve.test_outreach_api import OUTREACH, create_outreach, create_template
from tests.smtp_server import Recorder, recording_server

pytestmark = pytest.mark.usefixtures("ray_cluster")

MAILBOXES = "/api/v1/mailboxes"
# Every poll of these tests ends: an outreach that does not finish in this long has failed.
WAIT_SECONDS = 120.0


@pytest.fixture(scope="module")
async def sending_app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    """The app, its actors told to retry a 4xx after a second instead of minutes."""
    settings = app_settings.model_copy(
        update={"smtp_retry_seconds": 1.0, "smtp_timeout_seconds": 5.0}
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(sending_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sending_app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", timeout=60
    ) as api:
        yield api


async def wait_for(
    check: Callable[[], Awaitable[Any]], what: str, seconds: float = WAIT_SECONDS
) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def mailbox_for(api: httpx.AsyncClient, who: Account, port: int, **limits: Any) -> str:
    body = {
        "name": f"Relay {uuid.uuid4().hex[:6]}",
        "host": "127.0.0.1",
        "port": port,
        "tls_mode": "none",
        "from_name": "Label",
        "from_email": "promo@label.example",
        "per_minute": 10_000,
        "daily_cap": 100_000,
        "ramp_start": 100_000,
        "gap_min_seconds": 0,
        "gap_max_seconds": 0,
        "window_start_hour": 0,
        "window_end_hour": 24,
        "window_weekdays": [1, 2, 3, 4, 5, 6, 7],
        **limits,
    }
    created = await api.post(MAILBOXES, json=body, headers=who.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def an_outreach(
    api: httpx.AsyncClient, who: Account, recipients: list[str], **fields: Any
) -> str:
    template = await create_template(
        api,
        who,
        subject="New music for {{ contact.email }}",
        body_html='<p>Hi! Listen <a href="https://music.example/track">here</a>.</p>',
        body_text="",
    )
    assert template.status_code == 201, template.text
    created = await create_outreach(
        api, who, template.json()["id"], daily_limit=fields.pop("daily_limit", 10_000), **fields
    )
    assert created.status_code == 201, created.text
    outreach_id = str(created.json()["id"])
    for start in range(0, len(recipients), 1000):
        queued = await api.post(
            f"{OUTREACH}/{outreach_id}/recipients",
            json={"recipients": [{"to_email": e} for e in recipients[start : start + 1000]]},
            headers=who.headers,
        )
        assert queued.status_code == 200, queued.text
    return outreach_id


async def progress(api: httpx.AsyncClient, who: Account, outreach_id: str) -> dict[str, Any]:
    answer = await api.get(f"{OUTREACH}/{outreach_id}/progress", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def until_status(
    api: httpx.AsyncClient, who: Account, outreach_id: str, *statuses: str
) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        found = await progress(api, who, outreach_id)
        return found if found["status"] in statuses else None

    return dict(await wait_for(check, f"outreach {outreach_id} to be {statuses}"))


class TestSendingThroughSmtp:
    async def test_every_recipient_receives_one_message_and_the_outreach_completes(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        async with recording_server(recorder) as server:
            mailbox = await mailbox_for(client, owner, server.port)
            recipients = [f"artist{i}@music.example" for i in range(60)]
            outreach_id = await an_outreach(client, owner, recipients, mailbox_id=mailbox)
            launched = await client.post(f"{OUTREACH}/{outreach_id}/launch", headers=owner.headers)
            assert launched.status_code == 200, launched.text
            assert launched.json()["status"] == "sending"
            done = await until_status(client, owner, outreach_id, "completed")
        assert done["counts"] == {"sent": 60}
        assert sorted(r.to for r in recorder.received) == sorted(recipients)
