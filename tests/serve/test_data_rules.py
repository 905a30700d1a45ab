"""Data rules at the API: text search, money input, references across workspaces, and what
error messages may show (issue 7, the data-rule items of defects 5 and 6). In-process app."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.serve.conftest import Account, fields_of, register

API = "/api/v1"


async def ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_campaign(api: httpx.AsyncClient, who: Account, **fields: object) -> dict[str, Any]:
    body = {"name": "Tour", **fields}
    return await ok(await api.post(f"{API}/campaigns", json=body, headers=who.headers))


async def new_template(api: httpx.AsyncClient, who: Account, name: str) -> dict[str, Any]:
    body = {"name": name, "subject": "Hello", "body_text": "Hi"}
    return await ok(await api.post(f"{API}/email-templates", json=body, headers=who.headers))


async def new_transaction(api: httpx.AsyncClient, who: Account, **fields: object) -> httpx.Response:
    body = {
        "type": "expense",
        "amount_minor": 500,
        "currency": "EUR",
        "occurred_on": "2026-11-01",
        **fields,
    }
    return await api.post(f"{API}/transactions", json=body, headers=who.headers)


# The texts each list holds; a search must match these characters literally. Each text starts
# with its character, so that a tag put in front of it stays next to it.
LITERAL = {"a_b": "a_b", "%": "%100", "\\": "\\slash"}
DECOYS = ("axb", "plain")


async def found(api: httpx.AsyncClient, who: Account, path: str, q: str, key: str) -> set[str]:
    page = await ok(await api.get(f"{API}/{path}", params={"q": q}, headers=who.headers), 200)
    return {item[key] for item in page["items"]}


class TestSearchMatchesLikeCharactersLiterally:
    @pytest.mark.parametrize("q", list(LITERAL))
    async def test_campaign_names(self, local_api: httpx.AsyncClient, q: str) -> None:
        owner = await register(local_api)
        for name in (*LITERAL.values(), *DECOYS):
            await new_campaign(local_api, owner, name=name)
        assert await found(local_api, owner, "campaigns", q, "name") == {LITERAL[q]}

    @pytest.mark.parametrize("q", list(LITERAL))
    async def test_email_template_names(self, local_api: httpx.AsyncClient, q: str) -> None:
        owner = await register(local_api)
        for name in (*LITERAL.values(), *DECOYS):
            await new_template(local_api, owner, name)
        assert await found(local_api, owner, "email-templates", q, "name") == {LITERAL[q]}

    @pytest.mark.parametrize("q", list(LITERAL))
    async def test_suppressed_addresses(self, local_api: httpx.AsyncClient, q: str) -> None:
        owner = await register(local_api)
        for local in (*LITERAL.values(), *DECOYS):
            body = {"email": f"{local}@label.example"}
            await ok(await local_api.post(f"{API}/suppressions", json=body, headers=owner.headers))
        expected = {f"{LITERAL[q]}@label.example"}
        assert await found(local_api, owner, "suppressions", q, "email") == expected

    @pytest.mark.parametrize("q", list(LITERAL))
    async def test_catalogue_artists(self, local_api: httpx.AsyncClient, q: str) -> None:
        # The catalogue is shared by every test: a tag keeps this test's artists apart.
        owner = await register(local_api)
        tag = uuid.uuid4().hex[:12]
        for number, text in enumerate((*LITERAL.values(), *DECOYS)):
            body = {
                "soundcloud_id": uuid.uuid4().int % 10**12 + number,
                "name": f"{tag}{text}",
                "permalink": f"p-{tag}-{number}",
            }
            await ok(await local_api.post(f"{API}/artists", json=body, headers=owner.headers))
        expected = {f"{tag}{LITERAL[q]}"}
        assert await found(local_api, owner, "artists", tag + q, "name") == expected


class TestCurrencies:
    @pytest.mark.parametrize("code", ["ZZZ", "XXX", "XTS", "XAU", "XDR"])
    async def test_codes_that_are_not_money_are_refused_by_name(
        self, local_api: httpx.AsyncClient, code: str
    ) -> None:
        owner = await register(local_api)
        assert fields_of(await new_transaction(local_api, owner, currency=code)) == {"currency"}
        campaign = await local_api.post(
            f"{API}/campaigns", json={"name": "Tour", "currency": code}, headers=owner.headers
        )
        assert fields_of(campaign) == {"currency"}

    async def test_a_null_campaign_currency_is_refused_by_name(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        campaign = await new_campaign(local_api, owner)
        cleared = await local_api.patch(
            f"{API}/campaigns/{campaign['id']}", json={"currency": None}, headers=owner.headers
        )
        assert fields_of(cleared) == {"currency"}

    async def test_real_currencies_are_accepted_in_any_case(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        stored = await ok(await new_transaction(local_api, owner, currency="chf", amount_minor=1))
        assert (stored["currency"], stored["amount"]) == ("CHF", "0.01")
        campaign = await new_campaign(local_api, owner, currency="xof", budget_minor=500)
        assert campaign["currency"] == "XOF"


class TestChangingACurrencyNeedsTheAmount:
    async def test_a_transaction_keeps_its_value_unless_the_amount_is_restated(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        stored = await ok(await new_transaction(local_api, owner))  # 5.00 EUR
        url = f"{API}/transactions/{stored['id']}"

        refused = await local_api.patch(url, json={"currency": "JPY"}, headers=owner.headers)
        assert "amount" in fields_of(refused)
        unchanged = await ok(await local_api.get(url, headers=owner.headers), 200)
        assert (unchanged["amount"], unchanged["currency"]) == ("5.00", "EUR")

        restated = await local_api.patch(
            url, json={"currency": "JPY", "amount": "800"}, headers=owner.headers
        )
        body = await ok(restated, 200)
        assert (body["amount_minor"], body["currency"]) == (800, "JPY")
        in_minor = await local_api.patch(
            url, json={"currency": "EUR", "amount_minor": 525}, headers=owner.headers
        )
        assert (await ok(in_minor, 200))["amount"] == "5.25"

    async def test_naming_the_same_currency_again_needs_no_amount(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        stored = await ok(await new_transaction(local_api, owner))
        url = f"{API}/transactions/{stored['id']}"
        same = await local_api.patch(
            url, json={"currency": "eur", "category": "ads"}, headers=owner.headers
        )
        assert (await ok(same, 200))["amount"] == "5.00"

    async def test_a_campaign_budget_follows_the_same_rule(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        funded = await new_campaign(local_api, owner, budget_minor=50_000, currency="EUR")
        url = f"{API}/campaigns/{funded['id']}"
        refused = await local_api.patch(url, json={"currency": "JPY"}, headers=owner.headers)
        assert fields_of(refused) == {"budget_minor"}
        restated = await local_api.patch(
            url, json={"currency": "JPY", "budget_minor": 80_000}, headers=owner.headers
        )
        assert (await ok(restated, 200))["currency"] == "JPY"
        # Nothing budgeted means the same in every currency.
        unfunded = await new_campaign(local_api, owner)
        moved = await local_api.patch(
            f"{API}/campaigns/{unfunded['id']}", json={"currency": "USD"}, headers=owner.headers
        )
        assert (await ok(moved, 200))["currency"] == "USD"


class TestAmountsMustBeIntegers:
    @pytest.mark.parametrize("value", [True, "1", 12.5, "1e3"])
    async def test_a_boolean_string_or_fraction_is_not_an_amount(
        self, local_api: httpx.AsyncClient, value: object
    ) -> None:
        owner = await register(local_api)
        assert fields_of(await new_transaction(local_api, owner, amount_minor=value)) == {
            "amount_minor"
        }
        stored = await ok(await new_transaction(local_api, owner))
        patched = await local_api.patch(
            f"{API}/transactions/{stored['id']}",
            json={"amount_minor": value},
            headers=owner.headers,
        )
        assert fields_of(patched) == {"amount_minor"}
        campaign = await local_api.post(
            f"{API}/campaigns", json={"name": "Tour", "budget_minor": value}, headers=owner.headers
        )
        assert fields_of(campaign) == {"budget_minor"}

    async def test_a_json_number_is_not_a_major_unit_amount(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        refused = await new_transaction(local_api, owner, amount_minor=None, amount=5)
        assert "amount" in fields_of(refused)

    async def test_csv_cells_still_give_amounts_in_minor_units(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        text = "type,amount_minor,currency,occurred_on\nincome,1250,EUR,2026-11-01\n"
        imported = await local_api.post(
            f"{API}/transactions/import",
            files={"file": ("money.csv", text.encode(), "text/csv")},
            headers=owner.headers,
        )
        assert (await ok(imported, 200))["created"] == 1


class TestEventsReferOnlyToTheirOwnWorkspace:
    async def test_another_workspaces_campaign_is_not_found(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        stranger = await register(local_api, name="Stranger")
        theirs = await new_campaign(local_api, stranger)
        mine = await new_campaign(local_api, owner)

        async def record(entity_type: str, entity_id: object) -> httpx.Response:
            body = {"entity_type": entity_type, "entity_id": entity_id, "event_type": "seen"}
            return await local_api.post(f"{API}/analytics/events", json=body, headers=owner.headers)

        refused = await record("campaign", theirs["id"])
        assert refused.status_code == 404, refused.text
        assert refused.json()["type"] == "/problems/not-found"
        assert (await record("campaign", str(uuid.uuid4()))).status_code == 404
        assert (await record("campaign", mine["id"])).status_code == 201
        # A type the app does not keep is the caller's own business.
        assert (await record("release", theirs["id"])).status_code == 201
        events = await ok(
            await local_api.get(
                f"{API}/analytics/events",
                params={"entity_id": theirs["id"]},
                headers=stranger.headers,
            ),
            200,
        )
        assert events["items"] == []

    async def test_a_catalogue_artist_must_exist(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        body = {"entity_type": "artist", "entity_id": str(uuid.uuid4()), "event_type": "seen"}
        missing = await local_api.post(f"{API}/analytics/events", json=body, headers=owner.headers)
        assert missing.status_code == 404


class TestMessagesShowNoInternalNames:
    async def test_registering_an_address_twice_names_the_email_not_the_constraint(
        self, local_api: httpx.AsyncClient
    ) -> None:
        first = await register(local_api)
        again = await local_api.post(
            f"{API}/auth/register",
            json={"email": first.email, "password": "another long password"},
        )
        assert again.status_code == 409, again.text
        detail = again.json()["detail"]
        assert "uq_" not in detail and "users" not in detail
        assert detail == "a user with this email already exists"

    async def test_a_duplicate_template_name_is_named(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        await new_template(local_api, owner, "Pitch")
        again = await local_api.post(
            f"{API}/email-templates",
            json={"name": "Pitch", "subject": "Hi", "body_text": "Hi"},
            headers=owner.headers,
        )
        assert again.status_code == 409, again.text
        assert again.json()["detail"] == "an email template with this name already exists"

    async def test_a_template_in_use_says_what_uses_it(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        template = await new_template(local_api, owner, "Pitch")
        body = {"name": "Wave", "template_id": template["id"], "sender_email": "me@label.example"}
        await ok(
            await local_api.post(f"{API}/outreach-campaigns", json=body, headers=owner.headers)
        )
        refused = await local_api.delete(
            f"{API}/email-templates/{template['id']}", headers=owner.headers
        )
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert detail == "the email template is still in use by outreach campaigns"

    async def test_a_missing_export_names_what_was_asked_not_where_it_is_kept(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        export = await ok(await local_api.post(f"{API}/transactions/export", headers=owner.headers))
        missing_id = uuid.uuid4()
        response = await local_api.get(
            f"{API}/exports/{missing_id}/{export['filename']}", headers=owner.headers
        )
        assert response.status_code == 404, response.text
        detail = response.json()["detail"]
        assert owner.workspace_id not in detail and "exports/" not in detail
        assert str(missing_id) in detail and export["filename"] in detail
