"""Mailboxes over the API: the password is write-only, limits are checked, access follows roles
and workspaces, and the connection test reports the server's answer; the outbox lists and shows
each workspace's own messages."""

from __future__ import annotations

import json
import uuid
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from storage.models import AuditLogEntry, Mailbox
from storage.outbox import Outbox
from tests.serve.conftest import Account, join, register
from tests.smtp_server import PASSWORD, USER, smtp_server

SECRET = "mailbox-password-never-shown"


def mailbox_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": f"Label mail {uuid.uuid4().hex[:6]}",
        "host": "smtp.label.example",
        "username": "me@label.example",
        "password": SECRET,
        "from_name": "Label",
        "from_email": "me@label.example",
        **overrides,
    }


async def create(api: httpx.AsyncClient, owner: Account, **overrides: Any) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/mailboxes", json=mailbox_body(**overrides), headers=owner.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestCrud:
    async def test_create_fills_defaults_and_the_list_get_update_and_delete_follow(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        made = await create(local_api, owner, tls_mode="tls")
        assert made["port"] == 465
        assert (made["daily_cap"], made["ramp_start"], made["ramp_increment"]) == (100, 40, 2)
        assert made["window_weekdays"] == [1, 2, 3, 4, 5]
        url = f"/api/v1/mailboxes/{made['id']}"

        listed = await local_api.get("/api/v1/mailboxes", headers=owner.headers)
        assert [m["id"] for m in listed.json()["items"]] == [made["id"]]
        changed = await local_api.patch(
            url, json={"daily_cap": 30, "window_weekdays": [7, 6]}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["daily_cap"], changed.json()["window_weekdays"]) == (30, [6, 7])
        assert (await local_api.get(url, headers=owner.headers)).json()["daily_cap"] == 30

        assert (await local_api.delete(url, headers=owner.headers)).status_code == 204
        assert (await local_api.get(url, headers=owner.headers)).status_code == 404


class TestThePasswordIsWriteOnly:
    async def test_no_answer_or_audit_row_carries_it_and_the_row_holds_it_sealed(
        self, local_api: httpx.AsyncClient, local_app: FastAPI
    ) -> None:
        owner = await register(local_api)
        answers = [
            await local_api.post("/api/v1/mailboxes", json=mailbox_body(), headers=owner.headers)
        ]
        made = answers[0].json()
        url = f"/api/v1/mailboxes/{made['id']}"
        answers.append(await local_api.get(url, headers=owner.headers))
        answers.append(await local_api.get("/api/v1/mailboxes", headers=owner.headers))
        answers.append(
            await local_api.patch(url, json={"password": SECRET + "2"}, headers=owner.headers)
        )
        answers.append(
            await local_api.patch(url, json={"password": "x" * 1001}, headers=owner.headers)
        )
        assert made["has_password"] is True
        assert "password" not in made
        assert all(SECRET not in a.text for a in answers)
        assert answers[-1].status_code == 422

        async with local_app.state.resources.sessionmaker() as session:
            sealed = await session.scalar(
                select(Mailbox.password_sealed).where(Mailbox.id == uuid.UUID(made["id"]))
            )
            audit = await session.scalars(
                select(AuditLogEntry.data).where(AuditLogEntry.entity_id == uuid.UUID(made["id"]))
            )
            audit_text = json.dumps(list(audit.all()))
        assert sealed is not None and SECRET not in sealed
        assert "password" in audit_text  # the field name of the change, not its value
        assert SECRET not in audit_text

    async def test_a_null_password_removes_it(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        made = await create(local_api, owner)
        changed = await local_api.patch(
            f"/api/v1/mailboxes/{made['id']}", json={"password": None}, headers=owner.headers
        )
        assert changed.json()["has_password"] is False


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"per_minute": 60_001}, "per_minute"),
            ({"daily_cap": 0}, "daily_cap"),
            ({"gap_min_seconds": 300, "gap_max_seconds": 60}, "gap_max_seconds"),
            ({"window_start_hour": 9, "window_end_hour": 9}, "window_end_hour"),
            ({"window_weekdays": []}, "window_weekdays"),
            ({"window_weekdays": [1, 1]}, "window_weekdays"),
            ({"window_weekdays": [8]}, "window_weekdays.0"),
            ({"host": "smtp://mail.example.com"}, "host"),
            ({"host": "169.254.169.254"}, "host"),
            ({"port": 70000}, "port"),
            ({"from_name": "Label\r\nBcc: everyone@example.com"}, "from_name"),
            ({"from_email": "not-an-address"}, "from_email"),
        ],
    )
    async def test_a_bad_value_is_a_422_naming_the_field(
        self, local_api: httpx.AsyncClient, overrides: dict[str, Any], field: str
    ) -> None:
        owner = await register(local_api)
        response = await local_api.post(
            "/api/v1/mailboxes", json=mailbox_body(**overrides), headers=owner.headers
        )
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]

    async def test_an_update_is_checked_against_the_stored_limits(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        made = await create(local_api, owner, gap_min_seconds=60, gap_max_seconds=120)
        response = await local_api.patch(
            f"/api/v1/mailboxes/{made['id']}",
            json={"gap_min_seconds": 200},
            headers=owner.headers,
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["gap_max_seconds"]

    async def test_a_duplicate_name_is_a_409(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        made = await create(local_api, owner)
        again = await local_api.post(
            "/api/v1/mailboxes", json=mailbox_body(name=made["name"]), headers=owner.headers
        )
        assert again.status_code == 409


class TestAccess:
    async def test_a_viewer_reads_but_cannot_write_or_test(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        viewer = await join(local_api, owner, "viewer")
        made = await create(local_api, owner)
        url = f"/api/v1/mailboxes/{made['id']}"
        assert (await local_api.get(url, headers=viewer.headers)).status_code == 200
        attempts = [
            await local_api.post("/api/v1/mailboxes", json=mailbox_body(), headers=viewer.headers),
            await local_api.patch(url, json={"daily_cap": 1}, headers=viewer.headers),
            await local_api.delete(url, headers=viewer.headers),
            await local_api.post(f"{url}/test", headers=viewer.headers),
        ]
        assert [a.status_code for a in attempts] == [403, 403, 403, 403]

    async def test_another_workspace_gets_404_everywhere(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner, stranger = await register(local_api), await register(local_api, name="Stranger")
        made = await create(local_api, owner)
        url = f"/api/v1/mailboxes/{made['id']}"
        answers = [
            await local_api.get(url, headers=stranger.headers),
            await local_api.patch(url, json={"daily_cap": 1}, headers=stranger.headers),
            await local_api.delete(url, headers=stranger.headers),
            await local_api.post(f"{url}/test", headers=stranger.headers),
        ]
        assert [a.status_code for a in answers] == [404, 404, 404, 404]
        listed = await local_api.get("/api/v1/mailboxes", headers=stranger.headers)
        assert listed.json()["items"] == []


class TestConnectionTest:
    async def test_a_server_that_takes_the_login_answers_ok(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        async with smtp_server(auth=True) as server:
            made = await create(
                local_api,
                owner,
                host=server.host,
                port=server.port,
                tls_mode="none",
                username=USER,
                password=PASSWORD,
            )
            response = await local_api.post(
                f"/api/v1/mailboxes/{made['id']}/test", headers=owner.headers
            )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "ok": True,
            "stage": "auth",
            "code": 235,
            "message": response.json()["message"],
        }

    async def test_a_refused_login_is_ok_false_with_the_servers_answer(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        async with smtp_server(auth=True) as server:
            made = await create(
                local_api,
                owner,
                host=server.host,
                port=server.port,
                tls_mode="none",
                username=USER,
                password="wrong-password",
            )
            response = await local_api.post(
                f"/api/v1/mailboxes/{made['id']}/test", headers=owner.headers
            )
        assert response.status_code == 200
        body = response.json()
        assert (body["ok"], body["stage"], body["code"]) == (False, "auth", 535)
        assert "wrong-password" not in response.text

    async def test_a_closed_port_is_ok_false_at_connect(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        async with smtp_server() as server:
            port = server.port  # closed once the server has stopped
        made = await create(local_api, owner, host="127.0.0.1", port=port, tls_mode="none")
        response = await local_api.post(
            f"/api/v1/mailboxes/{made['id']}/test", headers=owner.headers
        )
        assert response.status_code == 200
        assert (response.json()["ok"], response.json()["stage"]) == (False, "connect")


def outbox_message(subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "me@label.example"
    mail["To"] = "dj@artist.example"
    mail["Subject"] = subject
    mail.set_content("Hello")
    mail.add_alternative("<p>Hello</p>", subtype="html")
    return mail


class TestOutbox:
    async def test_lists_newest_first_and_shows_a_message(
        self, local_api: httpx.AsyncClient, local_app: FastAPI
    ) -> None:
        owner = await register(local_api)
        outbox = Outbox.in_data_dir(local_app.state.resources.settings.data_dir)
        ws = uuid.UUID(owner.workspace_id)
        first = await outbox.write(ws, outbox_message("First"))
        await outbox.write(ws, outbox_message("Second"))

        page = await local_api.get("/api/v1/outbox?limit=1", headers=owner.headers)
        assert [m["subject"] for m in page.json()["items"]] == ["Second"]
        rest = await local_api.get(
            f"/api/v1/outbox?cursor={page.json()['next_cursor']}", headers=owner.headers
        )
        assert [m["id"] for m in rest.json()["items"]] == [str(first.id)]

        shown = await local_api.get(f"/api/v1/outbox/{first.id}", headers=owner.headers)
        assert shown.status_code == 200
        body = shown.json()
        assert (body["subject"], body["to"], body["html"]) == (
            "First",
            "dj@artist.example",
            "<p>Hello</p>\n",
        )
        assert {"name": "Subject", "value": "First"} in body["headers"]

    async def test_another_workspaces_message_is_a_404(
        self, local_api: httpx.AsyncClient, local_app: FastAPI
    ) -> None:
        owner, stranger = await register(local_api), await register(local_api, name="Stranger")
        outbox = Outbox.in_data_dir(local_app.state.resources.settings.data_dir)
        entry = await outbox.write(uuid.UUID(owner.workspace_id), outbox_message("Private"))
        shown = await local_api.get(f"/api/v1/outbox/{entry.id}", headers=stranger.headers)
        assert shown.status_code == 404
        listed = await local_api.get("/api/v1/outbox", headers=stranger.headers)
        assert listed.json()["items"] == []

    @pytest.mark.parametrize("message_id", ["..%2F..%2Fsecret_key", "x" * 10])
    async def test_an_id_that_is_not_one_is_refused(
        self, local_api: httpx.AsyncClient, message_id: str
    ) -> None:
        owner = await register(local_api)
        shown = await local_api.get(f"/api/v1/outbox/{message_id}", headers=owner.headers)
        assert shown.status_code in {404, 422}
        assert "secret" not in shown.text.replace("secret_key", "")

    async def test_a_bad_cursor_is_a_422_naming_it(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        listed = await local_api.get("/api/v1/outbox?cursor=nope", headers=owner.headers)
        assert listed.status_code == 422
        assert [e["field"] for e in listed.json()["errors"]] == ["cursor"]
