"""Invitations are emailed through the sender path: into the outbox folder by default, through
``CM_SMTP_URL`` when it is set; an invitation whose mail fails still stands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email import message_from_bytes, policy

import httpx
import pytest
from fastapi import FastAPI

from core.errors import ConfigurationError
from core.notices import parse_smtp_url
from core.settings import Settings
from tests.conftest import free_port
from tests.serve.conftest import client_of, register, running_app
from tests.smtp_server import Recorder, recording_server


@pytest.fixture(scope="module")
async def relay_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
async def relayed_app(app_settings: Settings, relay_port: int) -> AsyncIterator[FastAPI]:
    settings = app_settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{relay_port}?tls=none&from=hello@label.example",
            "smtp_timeout_seconds": 3.0,
        }
    )
    async with running_app(settings) as app:
        yield app


class TestInvitationMail:
    async def test_without_a_relay_the_invitation_lands_in_the_outbox_with_its_code(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        invited = await local_api.post(
            "/api/v1/invitations",
            json={"email": "sam@label.example", "role": "editor"},
            headers=owner.headers,
        )
        assert invited.status_code == 201, invited.text
        assert invited.json()["delivery"] == "outbox"
        listed = await local_api.get("/api/v1/outbox", headers=owner.headers)
        [entry] = listed.json()["items"]
        assert entry["to"] == "sam@label.example"
        shown = await local_api.get(f"/api/v1/outbox/{entry['id']}", headers=owner.headers)
        token = invited.json()["token"]
        # The link opens the web app's accept page with the code filled in.
        assert f"/invitations/accept?code={token}" in shown.json()["text"]
        assert f"/invitations/accept?code={token}" in shown.json()["html"]

    async def test_through_the_relay_the_invitee_receives_it(
        self, relayed_app: FastAPI, relay_port: int
    ) -> None:
        recorder = Recorder()
        async with client_of(relayed_app, timeout=60) as api:
            owner = await register(api)
            async with recording_server(recorder, port=relay_port):
                invited = await api.post(
                    "/api/v1/invitations",
                    json={"email": "kim@label.example", "role": "viewer"},
                    headers=owner.headers,
                )
        assert invited.status_code == 201, invited.text
        assert invited.json()["delivery"] == "smtp"
        [received] = recorder.received
        assert received.to == "kim@label.example"
        message = message_from_bytes(received.data, policy=policy.default)
        assert message["From"].addresses[0].addr_spec == "hello@label.example"
        assert invited.json()["token"] in received.data.decode()

    async def test_a_relay_that_is_down_leaves_the_invitation_standing(
        self, relayed_app: FastAPI
    ) -> None:
        async with client_of(relayed_app, timeout=60) as api:
            owner = await register(api)
            invited = await api.post(
                "/api/v1/invitations",
                json={"email": "lee@label.example", "role": "viewer"},
                headers=owner.headers,
            )
            assert invited.status_code == 201, invited.text
            assert invited.json()["delivery"].startswith(
                "not sent: connect: cannot connect to 127.0.0.1"
            )
            listed = await api.get("/api/v1/invitations", headers=owner.headers)
            assert [i["email"] for i in listed.json()["items"]] == ["lee@label.example"]

    async def test_a_relay_refusing_the_invitee_is_reported_at_rcpt(
        self, relayed_app: FastAPI, relay_port: int
    ) -> None:
        recorder = Recorder(refuse={"ray@label.example": 550})
        async with client_of(relayed_app, timeout=60) as api:
            owner = await register(api)
            async with recording_server(recorder, port=relay_port):
                invited = await api.post(
                    "/api/v1/invitations",
                    json={"email": "ray@label.example", "role": "viewer"},
                    headers=owner.headers,
                )
            assert invited.status_code == 201, invited.text
            assert invited.json()["delivery"] == "not sent: rcpt: 550 mailbox unavailable"
            listed = await api.get("/api/v1/invitations", headers=owner.headers)
            assert [i["email"] for i in listed.json()["items"]] == ["ray@label.example"]
        assert recorder.refused == [("ray@label.example", 550)]
        assert recorder.received == []


class TestSmtpUrl:
    def test_a_url_gives_host_port_tls_login_and_sender(self) -> None:
        relay = parse_smtp_url("smtp://me%40x.example:p%3Ass@mail.x.example?from=a@x.example")
        assert (relay.host, relay.port, relay.tls_mode.value) == ("mail.x.example", 587, "starttls")
        assert (relay.username, relay.password, relay.sender) == (
            "me@x.example",
            "p:ss",
            "a@x.example",
        )
        assert parse_smtp_url("smtps://mail.x.example").port == 465

    @pytest.mark.parametrize(
        "url", ["http://mail.x.example", "smtp://", "smtp://h?tls=maybe", "smtp://h:99999"]
    )
    def test_a_bad_url_names_the_setting(self, url: str) -> None:
        with pytest.raises(ConfigurationError) as refused:
            parse_smtp_url(url)
        assert refused.value.setting == "CM_SMTP_URL"
