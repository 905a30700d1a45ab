"""/api/v1/analytics, /api/v1/settings and /api/v1/audit-log over real HTTP on Ray Serve."""

from __future__ import annotations

from typing import Any

import httpx

from tests.serve.conftest import Account, fields_of, join

EVENTS = "/api/v1/analytics/events"
SETTINGS = "/api/v1/settings"
AUDIT = "/api/v1/audit-log"


async def record(api: httpx.AsyncClient, who: Account, **fields: object) -> httpx.Response:
    body = {"entity_type": "campaign", "event_type": "release.premiered", **fields}
    return await api.post(EVENTS, json=body, headers=who.headers)


async def recorded(api: httpx.AsyncClient, who: Account, **fields: object) -> dict[str, Any]:
    response = await record(api, who, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_campaign(api: httpx.AsyncClient, who: Account, name: str = "Tour") -> str:
    response = await api.post("/api/v1/campaigns", json={"name": name}, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class TestAnalyticsEvents:
    async def test_recorded_events_are_listed_newest_first_and_filtered(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        premiered = await recorded(
            api,
            owner,
            entity_id=campaign_id,
            data={"views": 3},
            occurred_at="2026-11-01T10:00:00Z",
        )
        assert (premiered["entity_id"], premiered["data"]) == (campaign_id, {"views": 3})
        await recorded(
            api, owner, entity_type="artist", event_type="profile.viewed", occurred_at="2026-11-02"
        )

        async def types(**params: str) -> list[str]:
            response = await api.get(EVENTS, params=params, headers=owner.headers)
            assert response.status_code == 200, response.text
            return [e["event_type"] for e in response.json()["items"]]

        assert await types() == ["profile.viewed", "release.premiered"]
        assert await types(entity_type="campaign") == ["release.premiered"]
        assert await types(entity_id=campaign_id) == ["release.premiered"]
        assert await types(event_type="profile.viewed") == ["profile.viewed"]
        assert await types(since="2026-11-02T00:00:00Z") == ["profile.viewed"]
        assert await types(until="2026-11-02T00:00:00+00:00") == ["release.premiered"]

    async def test_pages_follow_the_cursor(self, api: httpx.AsyncClient, owner: Account) -> None:
        for day in (1, 2, 3):
            await recorded(api, owner, data={"day": day}, occurred_at=f"2026-11-0{day}T12:00:00Z")
        first = (await api.get(EVENTS, params={"limit": 2}, headers=owner.headers)).json()
        second = (
            await api.get(
                EVENTS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=owner.headers
            )
        ).json()
        assert [e["data"]["day"] for e in first["items"] + second["items"]] == [3, 2, 1]
        assert second["next_cursor"] is None

    async def test_bad_fields_are_named(self, api: httpx.AsyncClient, owner: Account) -> None:
        response = await record(
            api,
            owner,
            entity_type="Campaign!",
            event_type="",
            entity_id="nope",
            data=["not", "an", "object"],
            occurred_at="soon",
        )
        assert fields_of(response) == {
            "entity_type",
            "event_type",
            "entity_id",
            "data",
            "occurred_at",
        }
        too_big = await record(api, owner, data={"blob": "x" * 20_000})
        assert fields_of(too_big) == {"data"}
        bad_filter = await api.get(EVENTS, params={"since": "monday"}, headers=owner.headers)
        assert fields_of(bad_filter) == {"since"}

    async def test_viewers_read_but_only_editors_record(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        await recorded(api, owner)
        viewer = await join(api, owner, "viewer")
        assert len((await api.get(EVENTS, headers=viewer.headers)).json()["items"]) == 1
        assert (await record(api, viewer)).status_code == 403
        assert (await api.get(EVENTS)).status_code == 401
        editor = await join(api, owner, "editor", name="Eddie")
        assert (await record(api, editor)).status_code == 201

    async def test_another_workspace_sees_none_of_them(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        await recorded(api, owner)
        assert (await api.get(EVENTS, headers=stranger.headers)).json()["items"] == []
        summary = await api.get("/api/v1/analytics/summary", headers=stranger.headers)
        assert summary.json()["total"] == 0


class TestAnalyticsSummary:
    async def test_counts_by_type_overall_and_per_day(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for when, kind in (
            ("2026-11-01T09:00:00Z", "email.opened"),
            ("2026-11-01T23:59:00Z", "email.opened"),
            ("2026-11-01T23:30:00-02:00", "email.clicked"),  # 01:30 on the 2nd in UTC
            ("2026-11-09T08:00:00Z", "email.opened"),
        ):
            await recorded(api, owner, event_type=kind, occurred_at=when)

        url = "/api/v1/analytics/summary"
        overall = (await api.get(url, headers=owner.headers)).json()
        assert (overall["total"], overall["counts"], overall["buckets"]) == (
            4,
            {"email.clicked": 1, "email.opened": 3},
            [],
        )
        daily = (await api.get(url, params={"interval": "day"}, headers=owner.headers)).json()
        assert [(b["start"][:10], b["counts"]) for b in daily["buckets"]] == [
            ("2026-11-01", {"email.opened": 2}),
            ("2026-11-02", {"email.clicked": 1}),
            ("2026-11-09", {"email.opened": 1}),
        ]
        weekly = (
            await api.get(
                url,
                params={"interval": "week", "until": "2026-11-09T00:00:00Z"},
                headers=owner.headers,
            )
        ).json()
        # 2026-11-01 is a Sunday: its week started on Monday 26 October.
        assert [(b["start"][:10], b["counts"]) for b in weekly["buckets"]] == [
            ("2026-10-26", {"email.opened": 2}),
            ("2026-11-02", {"email.clicked": 1}),
        ]

    async def test_an_unknown_interval_is_a_422_naming_interval(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await api.get(
            "/api/v1/analytics/summary", params={"interval": "hour"}, headers=owner.headers
        )
        assert fields_of(response) == {"interval"}


class TestOverview:
    async def test_the_dashboard_counts_the_workspace(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        await join(api, owner, "viewer")
        active = await new_campaign(api, owner, "Live")
        await api.post(
            f"/api/v1/campaigns/{active}/status", json={"status": "active"}, headers=owner.headers
        )
        await new_campaign(api, owner, "Draft")
        for type_, amount, currency in (
            ("income", 5_000, "EUR"),
            ("expense", 1_500, "EUR"),
            ("expense", 800, "USD"),
        ):
            response = await api.post(
                "/api/v1/transactions",
                json={
                    "type": type_,
                    "amount_minor": amount,
                    "currency": currency,
                    "occurred_on": "2026-11-01",
                },
                headers=owner.headers,
            )
            assert response.status_code == 201, response.text
        await new_campaign(api, stranger)

        response = await api.get("/api/v1/analytics/overview", headers=owner.headers)
        assert response.status_code == 200, response.text
        overview = response.json()
        assert overview["campaigns_by_status"] == {
            "draft": 1,
            "scheduled": 0,
            "active": 1,
            "paused": 0,
            "completed": 0,
            "cancelled": 0,
        }
        assert set(overview["email_records_by_status"].values()) == {0}
        assert [
            (t["currency"], t["income_minor"], t["expense_minor"], t["net_minor"])
            for t in overview["transactions_by_currency"]
        ] == [("EUR", 5_000, 1_500, 3_500), ("USD", 0, 800, -800)]
        assert overview["members"] == 2

        theirs = (await api.get("/api/v1/analytics/overview", headers=stranger.headers)).json()
        assert (theirs["campaigns_by_status"]["draft"], theirs["members"]) == (1, 1)
        assert theirs["transactions_by_currency"] == []


class TestSettings:
    async def test_put_get_list_and_delete_own_settings(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        theme = f"{SETTINGS}/ui.theme"
        put = await api.put(theme, json={"value": {"mode": "dark"}}, headers=owner.headers)
        assert put.status_code == 200, put.text
        assert put.json() == {"key": "ui.theme", "value": {"mode": "dark"}}
        await api.put(theme, json={"value": {"mode": "light"}}, headers=owner.headers)
        await api.put(
            f"{SETTINGS}/dashboard_v2", json={"value": {"cards": [1, 2]}}, headers=owner.headers
        )

        assert (await api.get(theme, headers=owner.headers)).json()["value"] == {"mode": "light"}
        assert (await api.get(SETTINGS, headers=owner.headers)).json() == [
            {"key": "dashboard_v2", "value": {"cards": [1, 2]}},
            {"key": "ui.theme", "value": {"mode": "light"}},
        ]
        assert (await api.delete(theme, headers=owner.headers)).status_code == 204
        assert (await api.get(theme, headers=owner.headers)).status_code == 404
        assert (await api.delete(theme, headers=owner.headers)).status_code == 404

    async def test_bad_keys_and_values_are_named(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for key in ("UI.Theme", "a" * 101, "x y"):
            response = await api.put(f"{SETTINGS}/{key}", json={"value": {}}, headers=owner.headers)
            assert fields_of(response) == {"key"}, key
        for value in ("dark", [1, 2], None, {"blob": "x" * 20_000}):
            response = await api.put(
                f"{SETTINGS}/ui.theme", json={"value": value}, headers=owner.headers
            )
            assert fields_of(response) == {"value"}, value
        assert fields_of(await api.get(f"{SETTINGS}/Nope", headers=owner.headers)) == {"key"}

    async def test_a_viewer_manages_only_their_own_settings(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        await api.put(
            f"{SETTINGS}/ui.theme", json={"value": {"mode": "dark"}}, headers=owner.headers
        )
        viewer = await join(api, owner, "viewer")
        assert (await api.get(SETTINGS, headers=viewer.headers)).json() == []
        assert (await api.get(f"{SETTINGS}/ui.theme", headers=viewer.headers)).status_code == 404
        put = await api.put(
            f"{SETTINGS}/ui.theme", json={"value": {"mode": "light"}}, headers=viewer.headers
        )
        assert put.status_code == 200, put.text
        assert (await api.get(f"{SETTINGS}/ui.theme", headers=owner.headers)).json()["value"] == {
            "mode": "dark"
        }
        assert (await api.delete(f"{SETTINGS}/ui.theme", headers=viewer.headers)).status_code == 204
        assert (await api.get(f"{SETTINGS}/ui.theme", headers=owner.headers)).status_code == 200

    async def test_settings_belong_to_the_workspace_and_need_a_token(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        await api.put(
            f"{SETTINGS}/ui.theme", json={"value": {"mode": "dark"}}, headers=owner.headers
        )
        assert (await api.get(SETTINGS, headers=stranger.headers)).json() == []
        assert (await api.get(f"{SETTINGS}/ui.theme", headers=stranger.headers)).status_code == 404
        assert (await api.get(SETTINGS)).status_code == 401


class TestAuditLog:
    async def test_a_campaign_created_through_the_api_is_logged_with_its_actor(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        editor = await join(api, owner, "editor")
        campaign_id = await new_campaign(api, editor, "Spring release")
        response = await api.get(AUDIT, params={"action": "campaign.create"}, headers=owner.headers)
        assert response.status_code == 200, response.text
        [entry] = response.json()["items"]
        assert (entry["actor_user_id"], entry["entity_type"], entry["entity_id"]) == (
            editor.user_id,
            "campaign",
            campaign_id,
        )
        assert entry["data"] == {"name": "Spring release"}

    async def test_writes_of_every_kind_are_logged_newest_first(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        transaction = await api.post(
            "/api/v1/transactions",
            json={
                "type": "income",
                "amount_minor": 100,
                "currency": "EUR",
                "occurred_on": "2026-11-01",
                "campaign_id": campaign_id,
            },
            headers=owner.headers,
        )
        await api.delete(f"/api/v1/transactions/{transaction.json()['id']}", headers=owner.headers)
        await api.put(f"{SETTINGS}/ui.theme", json={"value": {"a": 1}}, headers=owner.headers)
        await recorded(api, owner)

        entries = (await api.get(AUDIT, headers=owner.headers)).json()["items"]
        assert [e["action"] for e in entries][:5] == [
            "analytics_event.create",
            "setting.update",
            "transaction.delete",
            "transaction.create",
            "campaign.create",
        ]
        assert {e["actor_user_id"] for e in entries} == {owner.user_id}
        about_transaction = await api.get(
            AUDIT,
            params={"entity_type": "transaction", "entity_id": transaction.json()["id"]},
            headers=owner.headers,
        )
        assert [e["action"] for e in about_transaction.json()["items"]] == [
            "transaction.delete",
            "transaction.create",
        ]

    async def test_filters_by_actor_and_pages_with_the_cursor(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        admin = await join(api, owner, "admin")
        for name in ("One", "Two", "Three"):
            await new_campaign(api, admin, name)
        await new_campaign(api, owner, "Mine")

        names: list[str] = []
        cursor = None
        for _ in range(4):
            params: dict[str, str | int] = {
                "actor_user_id": admin.user_id,
                "entity_type": "campaign",
                "limit": 2,
            }
            if cursor:
                params["cursor"] = cursor
            page = (await api.get(AUDIT, params=params, headers=admin.headers)).json()
            names += [e["data"]["name"] for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert names == ["Three", "Two", "One"]

    async def test_only_owners_and_admins_read_it(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        await new_campaign(api, owner)
        for role in ("viewer", "editor"):
            member = await join(api, owner, role)
            denied = await api.get(AUDIT, headers=member.headers)
            assert denied.status_code == 403
            assert "audit log" in denied.json()["detail"]
        admin = await join(api, owner, "admin", name="Ada")
        assert (await api.get(AUDIT, headers=admin.headers)).json()["items"]
        assert (await api.get(AUDIT)).status_code == 401

    async def test_another_workspace_sees_none_of_the_entries(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        campaign_id = await new_campaign(api, owner)
        response = await api.get(AUDIT, params={"entity_id": campaign_id}, headers=stranger.headers)
        assert response.json()["items"] == []
        assert (
            await api.get(AUDIT, params={"entity_id": campaign_id}, headers=owner.headers)
        ).json()["items"]
