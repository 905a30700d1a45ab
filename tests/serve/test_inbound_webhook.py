"""The inbound webhook: signed reports of bounces and complaints from a mail provider, and the
route that tells an admin where to send them and how to sign them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.keys import derive_key
from core.settings import Settings
from storage.events import EventSubscription
from tests.serve.conftest import Account, fields_of, join, register, workspace_events
from tests.serve.test_tracking import (
    Delivered,
    analytics,
    audit,
    deliver,
    next_event,
    record_of,
    suppressed,
)

SETTINGS_PATH = "/api/v1/inbound-webhook"
BOUNCED_TO = "gone@artist.example"
COMPLAINED_TO = "angry@artist.example"


def events_path(workspace_id: str) -> str:
    return f"/inbound/{workspace_id}/events"


def signature(secret_hex: str, timestamp: str, body: bytes) -> str:
    """The header value, computed here as the documentation says, not by the code under test."""
    mac = hmac.new(bytes.fromhex(secret_hex), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def report(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


async def webhook(api: httpx.AsyncClient, who: Account) -> dict[str, Any]:
    response = await api.get(SETTINGS_PATH, headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def send(
    api: httpx.AsyncClient,
    workspace_id: str,
    body: bytes,
    secret: str,
    *,
    timestamp: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``body`` signed with ``secret`` now (or at ``timestamp``); ``headers`` override."""
    sent_at = timestamp if timestamp is not None else str(int(time.time()))
    signed = {
        "Content-Type": "application/json",
        "X-CM-Timestamp": sent_at,
        "X-CM-Signature": signature(secret, sent_at, body),
        **(headers or {}),
    }
    return await api.post(
        events_path(workspace_id), content=body, headers={k: v for k, v in signed.items() if v}
    )


def assert_refused(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "www-authenticate" in response.headers
    detail: str = response.json()["detail"]
    return detail


@pytest.fixture
async def owner(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api)


@pytest.fixture
async def stranger(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api, name="Stranger")


@pytest.fixture
async def secret(local_api: httpx.AsyncClient, owner: Account) -> str:
    value: str = (await webhook(local_api, owner))["secret"]
    return value


@pytest.fixture
async def delivered(
    local_api: httpx.AsyncClient, engine: AsyncEngine, app_settings: Settings, owner: Account
) -> Delivered:
    return await deliver(local_api, engine, app_settings, owner, to=BOUNCED_TO)


@pytest.fixture
async def live(redis_url: str, owner: Account) -> AsyncIterator[EventSubscription]:
    async with workspace_events(redis_url, owner) as events:
        yield events


def message_id_of(delivered: Delivered) -> str:
    return str(delivered.message["Message-ID"])


class TestWebhookSettings:
    async def test_gives_the_url_and_the_workspace_key_derived_from_the_service_secret(
        self, local_api: httpx.AsyncClient, owner: Account, app_settings: Settings
    ) -> None:
        response = await local_api.get(SETTINGS_PATH, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert "no-store" in response.headers["cache-control"]
        body = response.json()
        assert body["url"] == f"{app_settings.public_url}/inbound/{owner.workspace_id}/events"
        assert app_settings.secret_key is not None
        expected = derive_key(
            app_settings.secret_key.get_secret_value(), f"inbound-webhook:{owner.workspace_id}"
        )
        assert body["secret"] == expected.hex()
        assert (body["signature_header"], body["timestamp_header"]) == (
            "X-CM-Signature",
            "X-CM-Timestamp",
        )

    async def test_each_workspace_has_its_own_secret(
        self, local_api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        mine, theirs = await webhook(local_api, owner), await webhook(local_api, stranger)
        assert mine["secret"] != theirs["secret"]
        assert mine["url"] != theirs["url"]

    async def test_the_example_is_a_request_the_webhook_accepts(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        body = await webhook(local_api, owner)
        example = body["example"]
        assert example["headers"]["X-CM-Signature"] == signature(
            body["secret"], example["headers"]["X-CM-Timestamp"], example["body"].encode()
        )
        response = await local_api.post(
            events_path(owner.workspace_id),
            content=example["body"].encode(),
            headers=example["headers"],
        )
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == len(json.loads(example["body"])["events"])

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_is_for_admins_and_owners_only(
        self, local_api: httpx.AsyncClient, owner: Account, role: str
    ) -> None:
        member = await join(local_api, owner, role)
        response = await local_api.get(SETTINGS_PATH, headers=member.headers)
        assert response.status_code == 403, response.text
        assert "secret" not in response.json()

        admin = await join(local_api, owner, "admin", name="Ada")
        assert (await webhook(local_api, admin))["url"] == (await webhook(local_api, owner))["url"]

    async def test_needs_a_login(self, local_api: httpx.AsyncClient) -> None:
        response = await local_api.get(SETTINGS_PATH)
        assert response.status_code == 401


class TestBounce:
    async def test_suppresses_marks_the_record_bounced_and_records_it(
        self,
        local_api: httpx.AsyncClient,
        owner: Account,
        secret: str,
        delivered: Delivered,
        live: EventSubscription,
    ) -> None:
        body = report(
            {
                "type": "bounce",
                "email": BOUNCED_TO.upper(),
                "message_id": message_id_of(delivered),
                "detail": "550 5.1.1 no such user",
            }
        )
        response = await send(local_api, owner.workspace_id, body, secret)
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 1, "suppressed": 1, "records_bounced": 1}

        assert await suppressed(local_api, owner) == [(BOUNCED_TO, "bounced")]
        record = await record_of(local_api, owner, delivered.record_id)
        assert record["status"] == "bounced"
        events = await analytics(local_api, owner, "email.bounced")
        assert [(e["entity_type"], e["entity_id"]) for e in events] == [
            ("email_record", delivered.record_id)
        ]
        assert events[0]["data"]["detail"] == "550 5.1.1 no such user"
        rows = await audit(local_api, owner, "inbound.report")
        assert [(r["actor_user_id"], r["data"]) for r in rows] == [
            (
                None,
                {"accepted": 1, "suppressed": 1, "records_bounced": 1, "system": "inbound"},
            )
        ]
        event = await next_event(live, "inbound.report")
        assert (event["actor"], event["system"], event["data"]["records_bounced"]) == (
            "system",
            "inbound",
            1,
        )

    async def test_finds_the_record_by_a_message_id_without_brackets(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str, delivered: Delivered
    ) -> None:
        bare = message_id_of(delivered).strip("<>")
        body = report({"type": "bounce", "email": BOUNCED_TO, "message_id": bare})
        response = await send(local_api, owner.workspace_id, body, secret)
        assert response.json()["records_bounced"] == 1, response.text
        assert (await record_of(local_api, owner, delivered.record_id))["status"] == "bounced"

    async def test_without_a_known_message_suppresses_and_records_it_on_the_suppression(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str
    ) -> None:
        body = report(
            {
                "type": "bounce",
                "email": "nobody@artist.example",
                "message_id": "<x@elsewhere.example>",
            }
        )
        response = await send(local_api, owner.workspace_id, body, secret)
        assert response.json() == {"accepted": 1, "suppressed": 1, "records_bounced": 0}
        events = await analytics(local_api, owner, "email.bounced")
        assert [e["entity_type"] for e in events] == ["suppression"]

    async def test_leaves_another_workspaces_record_alone(
        self,
        local_api: httpx.AsyncClient,
        engine: AsyncEngine,
        app_settings: Settings,
        owner: Account,
        stranger: Account,
        secret: str,
    ) -> None:
        theirs = await deliver(local_api, engine, app_settings, stranger, to=BOUNCED_TO)
        body = report({"type": "bounce", "email": BOUNCED_TO, "message_id": message_id_of(theirs)})
        response = await send(local_api, owner.workspace_id, body, secret)
        assert response.json() == {"accepted": 1, "suppressed": 1, "records_bounced": 0}
        assert (await record_of(local_api, stranger, theirs.record_id))["status"] == "sent"
        assert await suppressed(local_api, stranger) == []

    async def test_a_bounced_record_is_not_bounced_again(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str, delivered: Delivered
    ) -> None:
        first = report(
            {"type": "bounce", "email": BOUNCED_TO, "message_id": message_id_of(delivered)}
        )
        await send(local_api, owner.workspace_id, first, secret)
        again = report(
            {
                "type": "bounce",
                "email": BOUNCED_TO,
                "message_id": message_id_of(delivered),
                "detail": "later",
            }
        )
        response = await send(local_api, owner.workspace_id, again, secret)
        assert response.json() == {"accepted": 1, "suppressed": 0, "records_bounced": 0}
        assert (await record_of(local_api, owner, delivered.record_id))["error"] != "later"


class TestComplaint:
    async def test_suppresses_as_complained_and_leaves_the_record_as_it_was(
        self,
        local_api: httpx.AsyncClient,
        engine: AsyncEngine,
        app_settings: Settings,
        owner: Account,
        secret: str,
    ) -> None:
        sent = await deliver(local_api, engine, app_settings, owner, to=COMPLAINED_TO)
        body = report(
            {"type": "complaint", "email": COMPLAINED_TO, "message_id": message_id_of(sent)}
        )
        response = await send(local_api, owner.workspace_id, body, secret)
        assert response.json() == {"accepted": 1, "suppressed": 1, "records_bounced": 0}
        assert await suppressed(local_api, owner) == [(COMPLAINED_TO, "complained")]
        record = await record_of(local_api, owner, sent.record_id)
        assert (record["status"], record["error"]) == ("sent", None)
        events = await analytics(local_api, owner, "email.complained")
        assert [(e["entity_type"], e["entity_id"]) for e in events] == [
            ("email_record", sent.record_id)
        ]


class TestReplay:
    async def test_the_same_events_again_change_nothing(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str, delivered: Delivered
    ) -> None:
        body = report(
            {"type": "bounce", "email": BOUNCED_TO, "message_id": message_id_of(delivered)},
            {"type": "complaint", "email": COMPLAINED_TO},
            {"type": "complaint", "email": COMPLAINED_TO},
        )
        first = await send(local_api, owner.workspace_id, body, secret)
        assert first.json() == {"accepted": 3, "suppressed": 2, "records_bounced": 1}
        for _ in range(2):  # the provider retries, with a new timestamp and the same request
            again = await send(local_api, owner.workspace_id, body, secret)
            assert again.status_code == 200, again.text
            assert again.json() == {"accepted": 3, "suppressed": 0, "records_bounced": 0}

        assert sorted(await suppressed(local_api, owner)) == [
            (COMPLAINED_TO, "complained"),
            (BOUNCED_TO, "bounced"),
        ]
        assert len(await analytics(local_api, owner, "email.bounced")) == 1
        assert len(await analytics(local_api, owner, "email.complained")) == 1
        assert len(await audit(local_api, owner, "inbound.report")) == 1


class TestRefused:
    BODY = report({"type": "bounce", "email": BOUNCED_TO})

    async def assert_nothing_changed(self, api: httpx.AsyncClient, who: Account) -> None:
        assert await suppressed(api, who) == []
        assert await analytics(api, who, "email.bounced") == []

    async def test_a_tampered_body(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str
    ) -> None:
        now = str(int(time.time()))
        response = await local_api.post(
            events_path(owner.workspace_id),
            content=report({"type": "bounce", "email": "someone-else@artist.example"}),
            headers={
                "X-CM-Timestamp": now,
                "X-CM-Signature": signature(secret, now, self.BODY),
            },
        )
        assert_refused(response)
        await self.assert_nothing_changed(local_api, owner)

    async def test_a_tampered_timestamp(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str
    ) -> None:
        now = int(time.time())
        response = await send(
            local_api,
            owner.workspace_id,
            self.BODY,
            secret,
            timestamp=str(now),
            headers={"X-CM-Timestamp": str(now - 1)},
        )
        assert_refused(response)
        await self.assert_nothing_changed(local_api, owner)

    async def test_a_wrong_secret(self, local_api: httpx.AsyncClient, owner: Account) -> None:
        response = await send(local_api, owner.workspace_id, self.BODY, "00" * 32)
        assert_refused(response)
        await self.assert_nothing_changed(local_api, owner)

    async def test_another_workspaces_secret(
        self, local_api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        theirs = (await webhook(local_api, stranger))["secret"]
        response = await send(local_api, owner.workspace_id, self.BODY, theirs)
        assert_refused(response)
        await self.assert_nothing_changed(local_api, owner)
        await self.assert_nothing_changed(local_api, stranger)

    @pytest.mark.parametrize("offset", [-3600, -301 - 60, 301 + 60, 86_400])
    async def test_a_timestamp_far_from_now(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str, offset: int
    ) -> None:
        response = await send(
            local_api,
            owner.workspace_id,
            self.BODY,
            secret,
            timestamp=str(int(time.time()) + offset),
        )
        assert "seconds" in assert_refused(response)
        await self.assert_nothing_changed(local_api, owner)

    @pytest.mark.parametrize(
        "headers",
        [
            {"X-CM-Signature": ""},
            {"X-CM-Timestamp": ""},
            {"X-CM-Signature": "", "X-CM-Timestamp": ""},
            {"X-CM-Timestamp": "1e9"},
            {"X-CM-Timestamp": "-5"},
            {"X-CM-Signature": "sha1=abc"},
            {"X-CM-Signature": "sha256=" + "g" * 64},
        ],
    )
    async def test_missing_or_malformed_headers(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str, headers: dict[str, str]
    ) -> None:
        response = await send(local_api, owner.workspace_id, self.BODY, secret, headers=headers)
        assert_refused(response)
        await self.assert_nothing_changed(local_api, owner)

    async def test_an_unknown_workspace_answers_as_a_bad_signature_does(
        self, local_api: httpx.AsyncClient, owner: Account, app_settings: Settings
    ) -> None:
        wrong = await send(local_api, owner.workspace_id, self.BODY, "00" * 32)
        assert app_settings.secret_key is not None
        nowhere = str(uuid.uuid4())
        # Even signed with the key it would have, had it existed.
        key = derive_key(app_settings.secret_key.get_secret_value(), f"inbound-webhook:{nowhere}")
        unknown = await send(local_api, nowhere, self.BODY, key.hex())
        unsigned = await send(local_api, nowhere, self.BODY, "00" * 32)
        not_an_id = await send(local_api, "not-a-workspace", self.BODY, "00" * 32)
        answers = {
            (r.status_code, r.headers["www-authenticate"], json.dumps(r.json() | {"instance": ""}))
            for r in (wrong, unknown, unsigned, not_an_id)
        }
        assert len(answers) == 1, answers
        assert wrong.status_code == 401


class TestInvalidReports:
    async def test_more_than_a_thousand_events(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str
    ) -> None:
        events = [{"type": "complaint", "email": f"a{i}@artist.example"} for i in range(1001)]
        response = await send(local_api, owner.workspace_id, report(*events), secret)
        assert fields_of(response) == {"events"}
        assert await suppressed(local_api, owner) == []

    async def test_a_thousand_events_are_taken(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str
    ) -> None:
        events = [{"type": "complaint", "email": f"a{i}@artist.example"} for i in range(1000)]
        response = await send(local_api, owner.workspace_id, report(*events), secret)
        assert response.json() == {"accepted": 1000, "suppressed": 1000, "records_bounced": 0}

    @pytest.mark.parametrize(
        ("event", "field"),
        [
            ({"type": "delivered", "email": BOUNCED_TO}, "events.0.type"),
            ({"type": "bounce", "email": "not an address"}, "events.0.email"),
            ({"type": "bounce"}, "events.0.email"),
            (
                {"type": "bounce", "email": BOUNCED_TO, "message_id": "<no-at-sign>"},
                "events.0.message_id",
            ),
            ({"type": "bounce", "email": BOUNCED_TO, "detail": "x" * 1001}, "events.0.detail"),
            ({"type": "bounce", "email": "a\u0000b@artist.example"}, "events.0.email"),
            ({"type": "bounce", "email": BOUNCED_TO, "detail": "\ud800"}, "events.0.detail"),
        ],
    )
    async def test_a_bad_event_is_named(
        self,
        local_api: httpx.AsyncClient,
        owner: Account,
        secret: str,
        event: dict[str, Any],
        field: str,
    ) -> None:
        response = await send(local_api, owner.workspace_id, report(event), secret)
        assert fields_of(response) == {field}
        assert await suppressed(local_api, owner) == []

    @pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
    @pytest.mark.parametrize(
        "body",
        [
            b"",
            b"\x00\x00\x00",
            b"not json at all",
            b'{"events": [{"type": "bounce", "email": "a\\u0000b@artist.example"}]}',
            b'{"events": [{"type": "bounce", "email": "a\\ud800@artist.example"}]}',
            b'{"events": "all of them"}',
            b"[1, 2, 3]",
            b'{"events": [' + b"[" * 40 + b"]" * 40 + b"]}",
            "\ufeff{}".encode(),
            b"\xff\xfe{}",
        ],
    )
    async def test_garbage_is_a_client_error(
        self,
        local_api: httpx.AsyncClient,
        owner: Account,
        secret: str,
        body: bytes,
        content_type: str,
    ) -> None:
        response = await send(
            local_api, owner.workspace_id, body, secret, headers={"Content-Type": content_type}
        )
        assert 400 <= response.status_code < 500, response.text
        assert response.status_code != 401, response.text
        assert await suppressed(local_api, owner) == []

    async def test_a_body_over_the_limit(
        self, local_api: httpx.AsyncClient, owner: Account, secret: str, app_settings: Settings
    ) -> None:
        body = report(
            {"type": "bounce", "email": BOUNCED_TO, "pad": "x" * app_settings.max_body_bytes}
        )
        response = await send(local_api, owner.workspace_id, body, secret)
        assert response.status_code == 413, response.text
