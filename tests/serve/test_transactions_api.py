"""/api/v1/transactions over real HTTP on Ray Serve: CRUD, summaries, CSV import and export."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.serve.conftest import Account, fields_of, join

URL = "/api/v1/transactions"


async def create(api: httpx.AsyncClient, who: Account, **fields: object) -> httpx.Response:
    body = {
        "type": "expense",
        "amount_minor": 1250,
        "currency": "eur",
        "category": "ads",
        "occurred_on": "2026-11-01",
        **fields,
    }
    return await api.post(URL, json=body, headers=who.headers)


async def created(api: httpx.AsyncClient, who: Account, **fields: object) -> dict[str, Any]:
    response = await create(api, who, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_campaign(api: httpx.AsyncClient, who: Account) -> str:
    response = await api.post("/api/v1/campaigns", json={"name": "Tour"}, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def import_csv(api: httpx.AsyncClient, who: Account, text: str | bytes) -> httpx.Response:
    data = text.encode() if isinstance(text, str) else text
    return await api.post(
        f"{URL}/import", files={"file": ("money.csv", data, "text/csv")}, headers=who.headers
    )


async def summary(api: httpx.AsyncClient, who: Account, **params: str) -> dict[str, Any]:
    response = await api.get(f"{URL}/summary", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestTransactionLifecycle:
    async def test_create_read_update_list_and_delete(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        transaction = await created(api, owner, description="Instagram ads")
        assert (transaction["amount_minor"], transaction["amount"], transaction["currency"]) == (
            1250,
            "12.50",
            "EUR",
        )
        assert transaction["created_by"] == owner.user_id
        url = f"{URL}/{transaction['id']}"

        assert (await api.get(url, headers=owner.headers)).json()["description"] == "Instagram ads"
        patched = await api.patch(
            url, json={"amount_minor": 990, "category": "promo"}, headers=owner.headers
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["amount"], patched.json()["category"]) == ("9.90", "promo")
        assert (await api.get(url, headers=owner.headers)).json()["amount_minor"] == 990

        listed = (await api.get(URL, headers=owner.headers)).json()
        assert [(t["id"], t["category"]) for t in listed["items"]] == [(transaction["id"], "promo")]

        assert (await api.delete(url, headers=owner.headers)).status_code == 204
        assert (await api.get(url, headers=owner.headers)).status_code == 404
        assert (await api.get(URL, headers=owner.headers)).json()["items"] == []

    async def test_a_transaction_can_belong_to_a_campaign_and_be_unlinked(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        transaction = await created(api, owner, campaign_id=campaign_id)
        assert transaction["campaign_id"] == campaign_id
        unlinked = await api.patch(
            f"{URL}/{transaction['id']}", json={"campaign_id": None}, headers=owner.headers
        )
        assert unlinked.json()["campaign_id"] is None


class TestDecimalAmounts:
    async def test_a_decimal_amount_is_read_in_the_currency_minor_unit(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for amount, currency, minor in (("12.5", "EUR", 1250), ("1500", "JPY", 1500)):
            transaction = await created(
                api, owner, amount_minor=None, amount=amount, currency=currency
            )
            assert transaction["amount_minor"] == minor
        kuwaiti = await created(api, owner, amount_minor=None, amount="1.234", currency="KWD")
        assert (kuwaiti["amount_minor"], kuwaiti["amount"]) == (1234, "1.234")

    async def test_an_amount_that_could_be_misread_is_refused_naming_amount(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for amount, currency in (
            ("12.345", "EUR"),  # more decimals than cents
            ("12.5", "JPY"),  # yen has no minor unit
            ("1,50", "EUR"),  # decimal comma or thousands separator?
            ("1e3", "EUR"),
            ("-5", "EUR"),
            ("0.00", "EUR"),
            (12.5, "EUR"),  # a JSON number: binary floating point
        ):
            response = await create(api, owner, amount_minor=None, amount=amount, currency=currency)
            assert fields_of(response) == {"amount"}, (amount, currency)
        both = await create(api, owner, amount_minor=1250, amount="12.50")
        assert fields_of(both) == {"amount"}
        assert "not both" in both.json()["errors"][0]["message"]
        assert (await api.get(URL, headers=owner.headers)).json()["items"] == []

    async def test_no_amount_at_all_names_amount_minor(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        assert fields_of(await create(api, owner, amount_minor=None)) == {"amount_minor"}

    async def test_a_changed_decimal_amount_needs_its_currency(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        url = f"{URL}/{(await created(api, owner))['id']}"
        missing = await api.patch(url, json={"amount": "3.00"}, headers=owner.headers)
        assert fields_of(missing) == {"currency"}
        changed = await api.patch(
            url, json={"amount": "300", "currency": "JPY"}, headers=owner.headers
        )
        assert (changed.json()["amount_minor"], changed.json()["currency"]) == (300, "JPY")


class TestValidation:
    async def test_each_bad_field_is_named(self, api: httpx.AsyncClient, owner: Account) -> None:
        response = await create(
            api,
            owner,
            type="gift",
            amount_minor=0,
            currency="euro",
            category="",
            occurred_on="yesterday",
            campaign_id="not-an-id",
        )
        assert fields_of(response) == {
            "type",
            "amount_minor",
            "currency",
            "category",
            "occurred_on",
            "campaign_id",
        }

    async def test_a_required_field_cannot_be_patched_to_null(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        url = f"{URL}/{(await created(api, owner))['id']}"
        response = await api.patch(
            url, json={"currency": None, "occurred_on": None}, headers=owner.headers
        )
        assert fields_of(response) == {"currency", "occurred_on"}

    async def test_bad_list_parameters_are_named(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        bad_sort = await api.get(URL, params={"sort": "description"}, headers=owner.headers)
        assert fields_of(bad_sort) == {"sort"}
        backwards = await api.get(
            URL,
            params={"occurred_from": "2026-11-02", "occurred_to": "2026-11-01"},
            headers=owner.headers,
        )
        assert fields_of(backwards) == {"occurred_to"}
        assert fields_of(
            await api.get(f"{URL}/summary", params={"group_by": "year"}, headers=owner.headers)
        ) == {"group_by"}


class TestListing:
    async def test_filters_pick_by_type_campaign_category_and_dates(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        ads = await created(api, owner, occurred_on="2026-10-05", campaign_id=campaign_id)
        fee = await created(api, owner, type="income", category="fee", occurred_on="2026-11-05")

        async def ids(**params: str) -> list[str]:
            response = await api.get(URL, params=params, headers=owner.headers)
            assert response.status_code == 200, response.text
            return [t["id"] for t in response.json()["items"]]

        assert await ids() == [fee["id"], ads["id"]]
        assert await ids(type="income") == [fee["id"]]
        assert await ids(campaign_id=campaign_id) == [ads["id"]]
        assert await ids(category="ads") == [ads["id"]]
        assert await ids(occurred_from="2026-11-01") == [fee["id"]]
        assert await ids(occurred_to="2026-10-31") == [ads["id"]]
        assert await ids(sort="occurred_on") == [ads["id"], fee["id"]]

    async def test_pages_follow_the_cursor_without_repeats(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for amount in (500, 100, 400, 200, 300):
            await created(api, owner, amount_minor=amount)
        seen: list[int] = []
        cursor = None
        for _ in range(5):
            params = {"sort": "-amount", "limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await api.get(URL, params=params, headers=owner.headers)).json()
            seen += [t["amount_minor"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [500, 400, 300, 200, 100]

    async def test_pages_by_date_follow_the_cursor(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for day in (1, 2, 3):
            await created(api, owner, occurred_on=f"2026-11-0{day}")
        first = await api.get(URL, params={"limit": 2}, headers=owner.headers)
        assert first.status_code == 200, first.text
        second = await api.get(
            URL, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=owner.headers
        )
        days = [t["occurred_on"] for t in first.json()["items"] + second.json()["items"]]
        assert days == ["2026-11-03", "2026-11-02", "2026-11-01"]


class TestAuthorisation:
    async def test_no_token_is_401(self, api: httpx.AsyncClient) -> None:
        for response in (
            await api.get(URL),
            await api.get(f"{URL}/summary", params={"group_by": "month"}),
            await api.post(f"{URL}/export"),
        ):
            assert response.status_code == 401

    async def test_a_viewer_reads_and_exports_but_cannot_write(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        transaction = await created(api, owner)
        viewer = await join(api, owner, "viewer")
        url = f"{URL}/{transaction['id']}"
        assert (await api.get(url, headers=viewer.headers)).status_code == 200
        assert (await api.post(f"{URL}/export", headers=viewer.headers)).status_code == 201
        for response in (
            await create(api, viewer),
            await api.patch(url, json={"amount_minor": 1}, headers=viewer.headers),
            await api.delete(url, headers=viewer.headers),
            await import_csv(api, viewer, "type,amount,currency,occurred_on\n"),
        ):
            assert response.status_code == 403, response.text
        assert (await api.get(url, headers=owner.headers)).json()["amount_minor"] == 1250

    async def test_an_editor_writes(self, api: httpx.AsyncClient, owner: Account) -> None:
        editor = await join(api, owner, "editor")
        assert (await create(api, editor)).status_code == 201

    async def test_another_workspace_gets_404_for_every_verb(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        transaction = await created(api, owner)
        url = f"{URL}/{transaction['id']}"
        for response in (
            await api.get(url, headers=stranger.headers),
            await api.patch(url, json={"amount_minor": 1}, headers=stranger.headers),
            await api.delete(url, headers=stranger.headers),
        ):
            assert response.status_code == 404
        assert (await api.get(URL, headers=stranger.headers)).json()["items"] == []
        assert (await summary(api, stranger, group_by="category"))["groups"] == []
        assert (await api.get(url, headers=owner.headers)).json()["amount_minor"] == 1250

    async def test_a_transaction_cannot_reference_another_workspace_campaign(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        their_campaign = await new_campaign(api, stranger)
        refused = await create(api, owner, campaign_id=their_campaign)
        assert refused.status_code == 404
        url = f"{URL}/{(await created(api, owner))['id']}"
        relinked = await api.patch(url, json={"campaign_id": their_campaign}, headers=owner.headers)
        assert relinked.status_code == 404
        assert (await api.get(url, headers=owner.headers)).json()["campaign_id"] is None


class TestSummary:
    async def test_currencies_are_never_added_together(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        await created(api, owner, type="income", amount_minor=10_000, currency="EUR")
        await created(api, owner, type="expense", amount_minor=2_500, currency="EUR")
        await created(api, owner, type="income", amount_minor=700, currency="USD")
        await created(api, owner, type="expense", amount_minor=300, currency="USD")

        body = await summary(api, owner, group_by="category")
        money = [
            (g["key"], g["currency"], g["income_minor"], g["expense_minor"], g["net_minor"])
            for g in body["groups"]
        ]
        assert money == [("ads", "EUR", 10_000, 2_500, 7_500), ("ads", "USD", 700, 300, 400)]
        assert [(t["currency"], t["net_minor"], t["count"]) for t in body["totals"]] == [
            ("EUR", 7_500, 2),
            ("USD", 400, 2),
        ]

    async def test_groups_by_campaign_and_month_within_the_dates(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        await created(api, owner, occurred_on="2026-10-31", campaign_id=campaign_id)
        await created(api, owner, occurred_on="2026-11-01")
        await created(api, owner, occurred_on="2026-12-01")

        by_campaign = await summary(api, owner, group_by="campaign")
        assert [(g["key"], g["count"]) for g in by_campaign["groups"]] == [
            (campaign_id, 1),
            (None, 2),
        ]
        autumn = await summary(
            api, owner, group_by="month", occurred_from="2026-10-01", occurred_to="2026-11-30"
        )
        assert [(g["key"], g["expense_minor"]) for g in autumn["groups"]] == [
            ("2026-10", 1250),
            ("2026-11", 1250),
        ]
        assert (autumn["occurred_from"], autumn["occurred_to"]) == ("2026-10-01", "2026-11-30")

    async def test_a_write_is_seen_by_the_next_summary(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        first = await created(api, owner)
        assert (await summary(api, owner, group_by="month"))["totals"][0]["expense_minor"] == 1250
        await created(api, owner, amount_minor=50)
        assert (await summary(api, owner, group_by="month"))["totals"][0]["expense_minor"] == 1300
        await api.delete(f"{URL}/{first['id']}", headers=owner.headers)
        assert (await summary(api, owner, group_by="month"))["totals"][0]["expense_minor"] == 50


class TestCsvImport:
    async def test_good_rows_are_imported_and_bad_rows_reported(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        their_campaign = await new_campaign(api, stranger)
        text = (
            "type,amount,amount_minor,currency,category,description,occurred_on,campaign_id\n"
            f"income,12.50,,EUR,fees,Gig,2026-11-01,{campaign_id}\n"
            "expense,,300,jpy,ads,,2026-11-02,\n"
            "gift,1.00,,EUR,,,2026-11-03,\n"
            "income,1.999,,EUR,,,2026-11-03,\n"
            "income,5,,EUR,,,03/11/2026,\n"
            f"income,5,,EUR,,,2026-11-04,{their_campaign}\n"
            "income,,,EUR,,,2026-11-04,\n"
        )
        response = await import_csv(api, owner, text)
        assert response.status_code == 200, response.text
        result = response.json()
        assert (result["created"], result["skipped"]) == (2, 5)
        assert [(e["row"], e["field"]) for e in result["errors"]] == [
            (4, "type"),
            (5, "amount"),
            (6, "occurred_on"),
            (7, "campaign_id"),
            (8, "amount_minor"),
        ]
        listed = (await api.get(URL, params={"sort": "occurred_on"}, headers=owner.headers)).json()
        assert [
            (t["type"], t["amount_minor"], t["currency"], t["category"], t["campaign_id"])
            for t in listed["items"]
        ] == [
            ("income", 1250, "EUR", "fees", campaign_id),
            ("expense", 300, "JPY", "ads", None),
        ]

    async def test_the_import_is_in_the_audit_log(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        await import_csv(api, owner, "type,amount,currency,occurred_on\nincome,1,EUR,2026-11-01\n")
        log = await api.get(
            "/api/v1/audit-log", params={"action": "transaction.import"}, headers=owner.headers
        )
        [entry] = log.json()["items"]
        assert entry["data"] == {"created": 1, "skipped": 0, "filename": "money.csv"}

    async def test_a_file_without_a_required_column_is_a_422_naming_file(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        missing_currency = await import_csv(api, owner, "type,amount,occurred_on\n")
        assert fields_of(missing_currency) == {"file"}
        assert "currency" in missing_currency.json()["detail"]
        no_amount = await import_csv(api, owner, "type,currency,occurred_on\nincome,EUR,2026-11-01")
        assert fields_of(no_amount) == {"file"}
        assert fields_of(await import_csv(api, owner, b"\xff\xfe not utf-8")) == {"file"}
        missing_file = await api.post(f"{URL}/import", headers=owner.headers)
        assert fields_of(missing_file) == {"file"}


class TestExportRoundTrip:
    async def test_an_export_downloads_and_reimports_to_the_same_totals(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        await created(api, owner, type="income", amount_minor=123_456, currency="EUR")
        await created(api, owner, type="expense", amount_minor=1_001, currency="EUR")
        await created(api, owner, type="income", amount_minor=5_000, currency="JPY")
        await created(api, owner, type="expense", amount_minor=1_234, currency="KWD")

        exported = await api.post(f"{URL}/export", headers=owner.headers)
        assert exported.status_code == 201, exported.text
        export = exported.json()
        assert export["rows"] == 4
        download = await api.get(export["download_url"], headers=owner.headers)
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert sorted((r["amount"], r["currency"]) for r in rows) == [
            ("1.234", "KWD"),
            ("10.01", "EUR"),
            ("1234.56", "EUR"),
            ("5000", "JPY"),
        ]

        reimported = await import_csv(api, stranger, download.content)
        assert reimported.json() == {"created": 4, "skipped": 0, "errors": []}
        theirs = await summary(api, stranger, group_by="category")
        ours = await summary(api, owner, group_by="category")
        assert theirs["totals"] == ours["totals"]
        assert theirs["groups"] == ours["groups"]

    async def test_the_export_holds_only_the_filtered_rows_of_the_workspace(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        await created(api, owner, type="income", category="fees")
        await created(api, owner, type="expense", category="ads")
        await created(api, stranger, type="income", category="fees")
        export = (
            await api.post(f"{URL}/export", params={"type": "income"}, headers=owner.headers)
        ).json()
        text = (await api.get(export["download_url"], headers=owner.headers)).text
        assert [r["category"] for r in csv.DictReader(io.StringIO(text))] == ["fees"]
        assert (await api.get(export["download_url"], headers=stranger.headers)).status_code == 404


class TestCachedReadsAfterCampaignDelete:
    async def test_a_deleted_campaign_disappears_from_cached_transactions(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        tx = await created(api, owner, campaign_id=campaign_id)
        before = await api.get(f"{URL}/{tx['id']}", headers=owner.headers)
        assert before.json()["campaign_id"] == campaign_id
        listed = await api.get(URL, params={"campaign_id": campaign_id}, headers=owner.headers)
        assert [t["id"] for t in listed.json()["items"]] == [tx["id"]]

        deleted = await api.delete(f"/api/v1/campaigns/{campaign_id}", headers=owner.headers)
        assert deleted.status_code == 204
        after = await api.get(f"{URL}/{tx['id']}", headers=owner.headers)
        assert after.json()["campaign_id"] is None
        relisted = await api.get(URL, params={"campaign_id": campaign_id}, headers=owner.headers)
        assert relisted.json()["items"] == []
