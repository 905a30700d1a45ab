"""A PATCH may clear what can be empty and must refuse null for the rest, naming the field: an
explicit null on a required column was a 500 (issue 7). Every field of every PATCH body in the
OpenAPI document is tried, so a field added later is covered too. In-process app."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.serve.conftest import Account, join, register

API = "/api/v1"


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def patch_targets(api: httpx.AsyncClient, owner: Account) -> dict[str, str]:
    """A concrete path for each PATCH route of the document, with rows the owner made."""
    headers = owner.headers
    campaign = await created(
        await api.post(f"{API}/campaigns", json={"name": "Tour"}, headers=headers)
    )
    artist = await created(
        await api.post(
            f"{API}/artists",
            json={
                "soundcloud_id": uuid.uuid4().int % 10**12 + 1,
                "name": "DJ Null",
                "permalink": f"dj-null-{uuid.uuid4().hex[:8]}",
            },
            headers=headers,
        )
    )
    await created(
        await api.post(
            f"{API}/campaigns/{campaign['id']}/artists",
            json={"artist_id": artist["id"]},
            headers=headers,
        )
    )
    contact = await created(
        await api.post(
            f"{API}/artists/{artist['id']}/contacts",
            json={"email": f"null-{uuid.uuid4().hex[:6]}@label.example"},
            headers=headers,
        )
    )
    note = await created(
        await api.post(f"{API}/artists/{artist['id']}/notes", json={"body": "n"}, headers=headers)
    )
    template = await created(
        await api.post(
            f"{API}/email-templates",
            json={"name": f"t-{uuid.uuid4().hex[:6]}", "subject": "Hi", "body_text": "Hi"},
            headers=headers,
        )
    )
    outreach = await created(
        await api.post(
            f"{API}/outreach-campaigns",
            json={
                "name": "Wave",
                "template_id": template["id"],
                "campaign_id": campaign["id"],
                "sender_email": "me@label.example",
            },
            headers=headers,
        )
    )
    transaction = await created(
        await api.post(
            f"{API}/transactions",
            json={
                "type": "expense",
                "amount_minor": 500,
                "currency": "EUR",
                "occurred_on": "2026-11-01",
                "campaign_id": campaign["id"],
            },
            headers=headers,
        )
    )
    mailbox = await created(
        await api.post(
            f"{API}/mailboxes",
            json={
                "name": "Relay",
                "host": "smtp.label.example",
                "username": "me",
                "password": "app-password",
                "from_email": "me@label.example",
            },
            headers=headers,
        )
    )
    member = await join(api, owner, "editor")
    members = await created(await api.get(f"{API}/members", headers=headers))
    member_id = next(m["id"] for m in members["items"] if m["user_id"] == member.user_id)
    return {
        "/api/v1/campaigns/{campaign_id}": f"{API}/campaigns/{campaign['id']}",
        "/api/v1/campaigns/{campaign_id}/artists/{artist_id}": (
            f"{API}/campaigns/{campaign['id']}/artists/{artist['id']}"
        ),
        "/api/v1/artists/{artist_id}/contacts/{contact_id}": (
            f"{API}/artists/{artist['id']}/contacts/{contact['id']}"
        ),
        "/api/v1/artists/{artist_id}/notes/{note_id}": (
            f"{API}/artists/{artist['id']}/notes/{note['id']}"
        ),
        "/api/v1/email-templates/{template_id}": f"{API}/email-templates/{template['id']}",
        "/api/v1/outreach-campaigns/{outreach_campaign_id}": (
            f"{API}/outreach-campaigns/{outreach['id']}"
        ),
        "/api/v1/transactions/{transaction_id}": f"{API}/transactions/{transaction['id']}",
        "/api/v1/workspace": f"{API}/workspace",
        "/api/v1/members/{member_id}": f"{API}/members/{member_id}",
        "/api/v1/mailboxes/{mailbox_id}": f"{API}/mailboxes/{mailbox['id']}",
    }


def patch_fields(app: FastAPI) -> dict[str, list[str]]:
    """Every PATCH route's body fields, from the OpenAPI document."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    found = {}
    for path, operations in document["paths"].items():
        if "patch" not in operations:
            continue
        content = operations["patch"]["requestBody"]["content"]["application/json"]
        name = content["schema"]["$ref"].rsplit("/", 1)[-1]
        found[path] = sorted(schemas[name]["properties"])
    return found


class TestNullInAPatch:
    async def test_clears_a_field_that_may_be_empty_or_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient, local_app: FastAPI
    ) -> None:
        owner = await register(local_api)
        targets = await patch_targets(local_api, owner)
        fields = patch_fields(local_app)
        assert set(fields) == set(targets), "a PATCH route this test does not know"
        outcomes = {}
        for route, names in fields.items():
            for name in names:
                response = await local_api.patch(
                    targets[route], json={name: None}, headers=owner.headers
                )
                outcomes[f"{route} {name}"] = response.status_code
                if response.status_code == 422:
                    named = {error["field"] for error in response.json()["errors"]}
                    assert name in named, response.text
                else:
                    # Cleared, or (for an input-only alternative such as a transaction's
                    # decimal ``amount``) taken as not given.
                    assert response.status_code == 200, (route, name, response.text)
        assert 500 not in outcomes.values()


@pytest.mark.parametrize("field", ["name", "type", "budget_minor", "currency"])
async def test_a_campaign_refuses_null_for_a_required_field(
    local_api: httpx.AsyncClient, field: str
) -> None:
    owner = await register(local_api)
    campaign = await created(
        await local_api.post(f"{API}/campaigns", json={"name": "Tour"}, headers=owner.headers)
    )
    response = await local_api.patch(
        f"{API}/campaigns/{campaign['id']}", json={field: None}, headers=owner.headers
    )
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]
