"""Outreach that sends, end to end: the API launches, the outreach actor claims and settles,
sender actors send to a real SMTP server on loopback (aiosmtpd) or to the outbox folder.

These tests run the actors on the session's Ray; the SMTP server runs in the test's own event
loop, which keeps serving while a test awaits its polls.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import ray
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from actors.outreach import actor_name, keep_live_outreaches_running
from actors.scheduler import move_campaigns_on_dates, start_scheduler
from actors.senders import sender_name
from core.delivery import Delivery, Result
from core.enums import EmailStatus, OutreachStatus
from core.settings import Settings
from storage.database import create_sessionmaker
from storage.models import EmailRecord, OutreachCampaign
from storage.repositories.send_queue import SendQueue
from tests.conftest import free_port
from tests.serve.conftest import Account, client_of, register, running_app
from tests.serve.test_outreach_api import OUTREACH, create_outreach, create_template
from tests.smtp_server import Recorder, recording_server, smtp_server

pytestmark = pytest.mark.usefixtures("ray_cluster")

MAILBOXES = "/api/v1/mailboxes"
# Every poll of these tests ends: an outreach that does not finish in this long has failed.
WAIT_SECONDS = 120.0


sending_settings: list[Settings] = []


@pytest.fixture(scope="module")
async def sending_app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    """The app, its actors told to retry a 4xx after a second instead of minutes."""
    settings = app_settings.model_copy(
        update={"smtp_retry_seconds": 1.0, "smtp_timeout_seconds": 5.0}
    )
    sending_settings.append(settings)
    async with running_app(settings) as app:
        yield app


@pytest.fixture
async def client(sending_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(sending_app, timeout=60) as api:
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


async def outreach_through(
    api: httpx.AsyncClient, who: Account, port: int, recipients: list[str]
) -> str:
    """An outreach to ``recipients`` through a new mailbox on the server at ``port``."""
    return await an_outreach(api, who, recipients, mailbox_id=await mailbox_for(api, who, port))


async def progress(api: httpx.AsyncClient, who: Account, outreach_id: str) -> dict[str, Any]:
    answer = await api.get(f"{OUTREACH}/{outreach_id}/progress", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def until_status(
    api: httpx.AsyncClient, who: Account, outreach_id: str, *statuses: str
) -> dict[str, Any]:
    last: dict[str, Any] = {}

    async def check() -> dict[str, Any] | None:
        found = await progress(api, who, outreach_id)
        last.update(found)
        return found if found["status"] in statuses else None

    try:
        return dict(await wait_for(check, f"outreach {outreach_id} to be {statuses}"))
    except AssertionError as timed_out:
        try:
            actor = ray.get_actor(actor_name(uuid.UUID(outreach_id)), namespace="campaign-manager")
            seen = await asyncio.wait_for(actor.state.remote(), timeout=10)
        except Exception as exc:
            seen = repr(exc)
        raise AssertionError(f"{timed_out}; it is {last}; its actor: {seen}") from None


async def records(engine: AsyncEngine, outreach_id: str) -> list[EmailRecord]:
    async with create_sessionmaker(engine)() as session:
        found = await session.scalars(
            select(EmailRecord).where(EmailRecord.outreach_campaign_id == uuid.UUID(outreach_id))
        )
        return list(found.all())


def addresses(count: int, tag: str = "artist") -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{tag}{i}.{run}@music.example" for i in range(count)]


async def launch(api: httpx.AsyncClient, who: Account, outreach_id: str) -> dict[str, Any]:
    launched = await api.post(f"{OUTREACH}/{outreach_id}/launch", headers=who.headers)
    assert launched.status_code == 200, launched.text
    return dict(launched.json())


def kill(name: str) -> None:
    """Kill an actor as a crash would; Ray restarts it."""
    ray.kill(ray.get_actor(name, namespace="campaign-manager"), no_restart=False)


async def poke(outreach_id: str) -> None:
    """What the scheduler does on every tick: make sure the actor runs and looks again."""
    actor = ray.get_actor(actor_name(uuid.UUID(outreach_id)), namespace="campaign-manager")
    await actor.ensure_running.remote()


def assert_exactly_once(
    recorder: Recorder, found: list[EmailRecord], *, unknown_at_most: int
) -> None:
    """No address got two messages; a record marked sent reached its address; a record that
    did not is unknown (or was never sent); at most ``unknown_at_most`` are unknown."""
    received = Counter(r.to for r in recorder.received)
    twice = {address: n for address, n in received.items() if n > 1}
    assert not twice, f"received more than once: {twice}"
    by_status = Counter(r.status.value for r in found)
    for record in found:
        if record.status.value == "sent":
            assert received[record.to_email] == 1, record.to_email
        elif record.status.value != "unknown":
            assert received[record.to_email] == 0, (record.to_email, record.status)
    assert by_status["unknown"] <= unknown_at_most, by_status
    assert by_status["sent"] + by_status["unknown"] == len(found), by_status


class TestSendingThroughSmtp:
    async def test_every_recipient_receives_one_message_and_the_outreach_completes(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        async with recording_server(recorder) as server:
            recipients = [f"artist{i}@music.example" for i in range(60)]
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            launched = await client.post(f"{OUTREACH}/{outreach_id}/launch", headers=owner.headers)
            assert launched.status_code == 200, launched.text
            assert launched.json()["status"] == "sending"
            done = await until_status(client, owner, outreach_id, "completed")
        assert done["counts"] == {"sent": 60}
        assert sorted(r.to for r in recorder.received) == sorted(recipients)
        # Every send is an analytics event, counted by day for the dashboard.
        summary = await client.get(
            "/api/v1/analytics/summary", params={"interval": "day"}, headers=owner.headers
        )
        assert summary.status_code == 200, summary.text
        totals: Counter[str] = Counter()
        for bucket in summary.json()["buckets"]:
            totals.update(bucket["counts"])
        assert totals["email.sent"] == 60
        assert totals["outreach_campaign.launch"] == 1
        assert totals["outreach_campaign.complete"] == 1

    async def test_kills_of_the_outreach_and_sender_actors_mid_send_never_send_twice(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        # A slow server keeps batches in flight, so every kill lands mid-send.
        recorder = Recorder(delay=0.02)
        settings = sending_settings[0]
        async with recording_server(recorder) as server:
            recipients = addresses(500)
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            await launch(client, owner, outreach_id)
            kills = [
                (60, actor_name(uuid.UUID(outreach_id))),
                (150, sender_name(0)),
                (250, actor_name(uuid.UUID(outreach_id))),
                (350, sender_name(1)),
            ]
            for at, name in kills:
                await wait_for(lambda at=at: _count(recorder, at), f"{at} messages received")
                kill(name)
            done = await until_status(client, owner, outreach_id, "completed")
        found = await records(engine, outreach_id)
        assert len(found) == 500
        # Only a message a killed sender had handed to the server (its DATA under way, one per
        # connection) can be unknown: the send ledger settles every other handed-out record.
        in_data = settings.sender_actors * settings.smtp_connections
        assert_exactly_once(recorder, found, unknown_at_most=len(kills) * in_data)
        assert done["counts"].get("sent", 0) >= 500 - len(kills) * in_data

    async def test_pause_then_resume_sends_no_message_twice(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recorder = Recorder(delay=0.02)
        async with recording_server(recorder) as server:
            recipients = addresses(150)
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            await launch(client, owner, outreach_id)
            await wait_for(lambda: _count(recorder, 30), "30 messages received")
            paused = await client.post(f"{OUTREACH}/{outreach_id}/pause", headers=owner.headers)
            assert paused.status_code == 200, paused.text
            assert paused.json()["status"] == "paused"
            # Batches handed out before the pause finish; then nothing more goes.
            await wait_for(lambda: _settled(engine, outreach_id), "the batches in flight to settle")
            after_pause = len(recorder.received)
            await asyncio.sleep(1.0)
            assert len(recorder.received) == after_pause
            assert after_pause < 150
            resumed = await client.post(f"{OUTREACH}/{outreach_id}/resume", headers=owner.headers)
            assert resumed.status_code == 200, resumed.text
            await until_status(client, owner, outreach_id, "completed")
        found = await records(engine, outreach_id)
        assert_exactly_once(recorder, found, unknown_at_most=0)
        assert sorted(r.to for r in recorder.received) == sorted(recipients)

    async def test_suppressed_and_unsubscribed_addresses_receive_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        async with recording_server(recorder) as server:
            recipients = addresses(20)
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            # Suppressed after they were queued, before the launch.
            for address, reason in ((recipients[0], "manual"), (recipients[1], "unsubscribed")):
                added = await client.post(
                    "/api/v1/suppressions",
                    json={"email": address, "reason": reason},
                    headers=owner.headers,
                )
                assert added.status_code == 201, added.text
            await launch(client, owner, outreach_id)
            done = await until_status(client, owner, outreach_id, "completed")
        assert done["counts"] == {"sent": 18, "skipped": 2}
        received = {r.to for r in recorder.received}
        assert received == set(recipients[2:])

    async def test_a_550_bounces_and_suppresses_and_a_421_is_tried_again(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recipients = addresses(10)
        bad, later = recipients[0], recipients[1]
        recorder = Recorder(refuse={bad: 550}, refuse_once={later: 421})
        async with recording_server(recorder) as server:
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            await launch(client, owner, outreach_id)
            done = await until_status(client, owner, outreach_id, "completed")
        assert done["counts"] == {"sent": 9, "bounced": 1}
        by_address = {r.to_email: r for r in await records(engine, outreach_id)}
        assert by_address[bad].status.value == "bounced"
        assert by_address[bad].error is not None and "550" in by_address[bad].error
        assert by_address[later].status.value == "sent" and by_address[later].attempts == 2
        assert (later, 421) in recorder.refused
        assert Counter(r.to for r in recorder.received)[later] == 1
        suppressed = await client.get(
            "/api/v1/suppressions", params={"q": bad}, headers=owner.headers
        )
        assert [s["reason"] for s in suppressed.json()["items"] if s["email"] == bad] == ["bounced"]

    async def test_a_server_that_hangs_up_at_one_address_does_not_hold_the_others(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recipients = addresses(6)
        recorder = Recorder(hang_up={recipients[0]})
        async with recording_server(recorder) as server:
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            await launch(client, owner, outreach_id)
            await wait_for(lambda: _count(recorder, 5), "the other addresses' messages")
            bad = await wait_for(
                lambda: _attempted(engine, outreach_id, recipients[0]), "the retry to be counted"
            )
            state = await progress(client, owner, outreach_id)
        assert state["status"] == "sending", state
        assert bad.status is EmailStatus.QUEUED and bad.attempts >= 1
        assert bad.error is not None and "closed the connection" in bad.error
        assert {r.to for r in recorder.received} == set(recipients[1:])
        cancelled = await client.post(f"{OUTREACH}/{outreach_id}/cancel", headers=owner.headers)
        assert cancelled.status_code == 200

    async def test_a_server_that_dies_mid_send_pauses_the_outreach_and_a_resume_finishes_it(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recorder = Recorder(delay=0.02)
        port = free_port()
        recipients = addresses(200)
        async with recording_server(recorder, port=port):
            mailbox = await mailbox_for(client, owner, port)
            outreach_id = await an_outreach(client, owner, recipients, mailbox_id=mailbox)
            await launch(client, owner, outreach_id)
            await wait_for(lambda: _count(recorder, 40), "40 messages received")
        paused = await until_status(client, owner, outreach_id, "paused")
        assert paused["pause_reason"] and "mail server failed" in paused["pause_reason"]
        async with recording_server(recorder, port=port):
            resumed = await client.post(f"{OUTREACH}/{outreach_id}/resume", headers=owner.headers)
            assert resumed.status_code == 200, resumed.text
            done = await until_status(client, owner, outreach_id, "completed")
        found = await records(engine, outreach_id)
        settings = sending_settings[0]
        # Only messages whose DATA was under way when the server went are unknown.
        assert_exactly_once(
            recorder, found, unknown_at_most=settings.sender_actors * settings.smtp_connections
        )
        assert done["counts"]["sent"] >= 200 - settings.sender_actors * settings.smtp_connections

    async def test_a_refused_login_pauses_the_outreach_with_the_answer_and_sends_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        async with smtp_server(auth=True) as server:
            mailbox = await mailbox_for(
                client, owner, server.port, username="user", password="wrong password"
            )
            outreach_id = await an_outreach(client, owner, addresses(5), mailbox_id=mailbox)
            await launch(client, owner, outreach_id)
            paused = await until_status(client, owner, outreach_id, "paused")
        assert "refused the login" in paused["pause_reason"]
        assert "535" in paused["pause_reason"]
        assert paused["counts"] == {"queued": 5}
        assert server.sink.messages == []

    async def test_limits_hold_by_the_servers_receive_times(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        async with recording_server(recorder) as server:
            mailbox = await mailbox_for(
                client, owner, server.port, per_minute=6, daily_cap=8, ramp_start=8
            )
            outreach_id = await an_outreach(client, owner, addresses(12), mailbox_id=mailbox)
            await launch(client, owner, outreach_id)
            await wait_for(lambda: _count(recorder, 6), "the first minute's messages")
            # The seventh may only go a minute after the first: none arrives meanwhile.
            await asyncio.sleep(3.0)
            assert len(recorder.received) == 6
            times = sorted(r.at for r in recorder.received)
            assert times[-1] - times[0] < 60
            state = await progress(client, owner, outreach_id)
            assert state["status"] == "sending"
            assert state["counts"]["queued"] == 6

    async def test_the_daily_cap_holds(self, client: httpx.AsyncClient) -> None:
        owner = await register(client)
        recorder = Recorder()
        async with recording_server(recorder) as server:
            mailbox = await mailbox_for(client, owner, server.port, daily_cap=3, ramp_start=3)
            outreach_id = await an_outreach(client, owner, addresses(7), mailbox_id=mailbox)
            await launch(client, owner, outreach_id)
            await wait_for(lambda: _count(recorder, 3), "the day's messages")
            await wait_for(
                lambda: _queued(client, owner, outreach_id, 4), "the rest to wait for tomorrow"
            )
            await asyncio.sleep(1.0)
        assert len(recorder.received) == 3

    async def test_a_long_past_schedule_does_not_fire_at_start_up(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        async with recording_server(recorder) as server:
            outreach_id = await outreach_through(client, owner, server.port, addresses(5))
            # As the service finds it after being down for two days over its schedule.
            async with create_sessionmaker(engine).begin() as session:
                await session.execute(
                    update(OutreachCampaign)
                    .where(OutreachCampaign.id == uuid.UUID(outreach_id))
                    .values(
                        status=OutreachStatus.SCHEDULED,
                        scheduled_at=datetime.now(UTC) - timedelta(days=2),
                    )
                )
            await keep_live_outreaches_running(sending_settings[0])
            paused = await until_status(client, owner, outreach_id, "paused")
            assert "long past" in paused["pause_reason"]
            await asyncio.sleep(1.0)
            assert recorder.received == []
            resumed = await client.post(f"{OUTREACH}/{outreach_id}/resume", headers=owner.headers)
            assert resumed.status_code == 200, resumed.text
            await until_status(client, owner, outreach_id, "completed")
        assert len(recorder.received) == 5

    async def test_a_follow_up_reaches_only_those_who_did_not_reply(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        recipients = addresses(4)
        async with recording_server(recorder) as server:
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            follow_up = await create_template(
                client,
                owner,
                name=f"Nudge {uuid.uuid4().hex[:6]}",
                type="follow_up",
                subject="Following up",
                body_text="Any thoughts?",
                body_html="",
            )
            assert follow_up.status_code == 201, follow_up.text
            step = await client.post(
                f"{OUTREACH}/{outreach_id}/steps",
                json={"template_id": follow_up.json()["id"], "delay_days": 2},
                headers=owner.headers,
            )
            assert step.status_code == 201, step.text
            await launch(client, owner, outreach_id)
            await wait_for(lambda: _count(recorder, 4), "the first messages")
            first = {r.to_email: r for r in await records(engine, outreach_id) if r.step == 0}
            replied = await client.post(
                f"/api/v1/email-records/{first[recipients[0]].id}/reply", headers=owner.headers
            )
            assert replied.status_code == 200, replied.text
            assert replied.json()["status"] == "replied"
            # Two days pass.
            async with create_sessionmaker(engine).begin() as session:
                await session.execute(
                    update(EmailRecord)
                    .where(
                        EmailRecord.outreach_campaign_id == uuid.UUID(outreach_id),
                        EmailRecord.step == 1,
                    )
                    .values(send_after=datetime.now(UTC))
                )
            await poke(outreach_id)
            done = await until_status(client, owner, outreach_id, "completed")
        follow_ups = [r for r in recorder.received if b"Following up" in r.data]
        assert sorted(r.to for r in follow_ups) == sorted(recipients[1:])
        assert done["counts"] == {"sent": 6, "replied": 1, "skipped": 1}

    async def test_open_click_and_unsubscribe_work_from_the_received_message(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        recipients = addresses(2)
        async with recording_server(recorder) as server:
            outreach_id = await outreach_through(client, owner, server.port, recipients)
            await launch(client, owner, outreach_id)
            await until_status(client, owner, outreach_id, "completed")
        by_to = {r.to: message_from_bytes(r.data, policy=policy.default) for r in recorder.received}
        first = by_to[recipients[0]]
        assert isinstance(first, EmailMessage)
        html_part = first.get_body(("html",))
        assert html_part is not None
        html = html_part.get_content()
        base = sending_settings[0].public_url
        pixel = re.search(rf'src="{re.escape(base)}(/t/o/[^"]+)"', html)
        click = re.search(rf'href="{re.escape(base)}(/t/c/[^"]+)"', html)
        assert pixel and click, html
        assert (await client.get(pixel.group(1))).status_code == 200
        followed = await client.get(click.group(1))
        assert followed.status_code in (302, 303, 307)
        assert followed.headers["location"] == "https://music.example/track"
        record = {r.to_email: r for r in await records(engine, outreach_id)}[recipients[0]]
        assert record.status.value == "clicked" and record.opened_at is not None
        # One-click unsubscribe from the header, no confirm; the page asks first.
        for to, one_click in ((recipients[0], True), (recipients[1], False)):
            header = str(by_to[to]["List-Unsubscribe"])
            link = re.search(rf"<{re.escape(base)}(/u/[^>]+)>", header)
            assert link, header
            if one_click:
                answer = await client.post(link.group(1), data={"List-Unsubscribe": "One-Click"})
            else:
                page = await client.get(link.group(1))
                assert page.status_code == 200 and "<form" in page.text
                answer = await client.post(link.group(1))
            assert answer.status_code == 200, answer.text
        listed = await client.get("/api/v1/suppressions", headers=owner.headers)
        reasons = {s["email"]: s["reason"] for s in listed.json()["items"]}
        assert reasons == {recipients[0]: "unsubscribed", recipients[1]: "unsubscribed"}


class TestScheduler:
    async def test_campaigns_move_on_their_dates_as_the_systems_write(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        created = await client.post(
            "/api/v1/campaigns",
            json={"name": "Tour", "type": "tour", "start_date": str(datetime.now(UTC).date())},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        campaign = created.json()["id"]
        scheduled = await client.post(
            f"/api/v1/campaigns/{campaign}/status",
            json={"status": "scheduled"},
            headers=owner.headers,
        )
        assert scheduled.status_code == 200, scheduled.text
        assert await move_campaigns_on_dates(sending_settings[0]) >= 1
        read = await client.get(f"/api/v1/campaigns/{campaign}", headers=owner.headers)
        assert read.json()["status"] == "active"
        audit = await client.get("/api/v1/audit-log", headers=owner.headers)
        moves = [e for e in audit.json()["items"] if e["action"] == "campaign.status"]
        assert moves[0]["data"]["system"] == "scheduler"
        assert moves[0]["data"]["status"] == "active"

    async def test_the_scheduler_actor_runs(self) -> None:
        scheduler = start_scheduler(sending_settings[0])
        assert await scheduler.ping.remote()


class TestOutbox:
    async def test_without_a_mailbox_messages_land_in_the_outbox_once_each(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await register(client)
        recipients = addresses(3)
        outreach_id = await an_outreach(client, owner, recipients)
        await launch(client, owner, outreach_id)
        done = await until_status(client, owner, outreach_id, "completed")
        assert done["counts"] == {"sent": 3}
        listed = await client.get("/api/v1/outbox", headers=owner.headers)
        assert listed.status_code == 200, listed.text
        assert sorted(item["to"] for item in listed.json()["items"]) == sorted(recipients)


class TestLifecycleConflicts:
    async def test_launch_without_recipients_is_a_409_that_says_so(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await register(client)
        outreach_id = await an_outreach(client, owner, [])
        answer = await client.post(f"{OUTREACH}/{outreach_id}/launch", headers=owner.headers)
        assert answer.status_code == 409
        assert "no queued recipients" in answer.json()["detail"]

    async def test_commands_out_of_order_are_409s_naming_the_status(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await register(client)
        outreach_id = await an_outreach(client, owner, addresses(1))
        for command in ("pause", "resume"):
            answer = await client.post(f"{OUTREACH}/{outreach_id}/{command}", headers=owner.headers)
            assert answer.status_code == 409, answer.text
            assert "draft" in answer.json()["detail"]
        cancelled = await client.post(f"{OUTREACH}/{outreach_id}/cancel", headers=owner.headers)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        again = await client.post(f"{OUTREACH}/{outreach_id}/launch", headers=owner.headers)
        assert again.status_code == 409 and "cancelled" in again.json()["detail"]

    async def test_a_running_outreach_keeps_its_mailbox_and_cannot_be_deleted(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await register(client)
        recorder = Recorder()
        async with recording_server(recorder) as server:
            mailbox = await mailbox_for(client, owner, server.port, daily_cap=1, ramp_start=1)
            outreach_id = await an_outreach(client, owner, addresses(3), mailbox_id=mailbox)
            await launch(client, owner, outreach_id)
            await wait_for(lambda: _count(recorder, 1), "the day's message")
        other = await mailbox_for(client, owner, 2525)
        for answer in (
            await client.delete(f"{OUTREACH}/{outreach_id}", headers=owner.headers),
            await client.delete(f"{MAILBOXES}/{mailbox}", headers=owner.headers),
            await client.patch(
                f"{OUTREACH}/{outreach_id}", json={"mailbox_id": other}, headers=owner.headers
            ),
        ):
            assert answer.status_code == 409, answer.text
        cancelled = await client.post(f"{OUTREACH}/{outreach_id}/cancel", headers=owner.headers)
        assert cancelled.status_code == 200, cancelled.text
        late = await client.post(
            f"{OUTREACH}/{outreach_id}/recipients",
            json={"recipients": [{"to_email": "late@music.example"}]},
            headers=owner.headers,
        )
        assert late.status_code == 409 and "cancelled" in late.json()["detail"]
        deleted = await client.delete(f"{OUTREACH}/{outreach_id}", headers=owner.headers)
        assert deleted.status_code == 204
        assert (
            await client.delete(f"{MAILBOXES}/{mailbox}", headers=owner.headers)
        ).status_code == 204

    async def test_an_answer_for_a_claim_settled_elsewhere_changes_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(client)
        outreach_id = await an_outreach(client, owner, addresses(1))
        [record] = await records(engine, outreach_id)
        # Handed out under its second claim (a second actor took it over after the first).
        async with create_sessionmaker(engine).begin() as session:
            await session.execute(
                update(EmailRecord)
                .where(EmailRecord.id == record.id)
                .values(status=EmailStatus.SENDING, claims=2)
            )
        async with create_sessionmaker(engine).begin() as session:
            queue = SendQueue(session, record.workspace_id, record.outreach_campaign_id)
            settled = await queue.settle(
                [Delivery(record.id, Result.NOT_ATTEMPTED)],
                claims={record.id: 1},
                steps=[],
                retry_base=timedelta(seconds=1),
            )
        assert settled.counts == {}
        [after] = await records(engine, outreach_id)
        assert (after.status, after.claims) == (EmailStatus.SENDING, 2)

    async def test_a_viewer_cannot_launch_and_a_stranger_sees_404(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await register(client)
        stranger = await register(client, name="Eve")
        outreach_id = await an_outreach(client, owner, addresses(1))
        answer = await client.post(f"{OUTREACH}/{outreach_id}/launch", headers=stranger.headers)
        assert answer.status_code == 404


def _count(recorder: Recorder, at_least: int) -> Awaitable[bool]:
    async def check() -> bool:
        return len(recorder.received) >= at_least

    return check()


async def _queued(api: httpx.AsyncClient, who: Account, outreach_id: str, count: int) -> bool:
    state = await progress(api, who, outreach_id)
    return bool(state["counts"] == {"sent": 3, "queued": count})


async def _attempted(engine: AsyncEngine, outreach_id: str, address: str) -> EmailRecord | None:
    [record] = [r for r in await records(engine, outreach_id) if r.to_email == address]
    return record if record.attempts >= 1 and record.status is EmailStatus.QUEUED else None


async def _settled(engine: AsyncEngine, outreach_id: str) -> bool:
    return not any(r.status.value == "sending" for r in await records(engine, outreach_id))
