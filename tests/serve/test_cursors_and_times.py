"""Cursors a client made by hand, and times and days at the edges of what can be stored."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from core.pagination import cursor_key
from core.settings import Settings
from tests.serve.conftest import Account, register

API = "/api/v1"

# (list route, sort, the sort column's kind): every kind of sort value a list pages on.
LISTS = [
    ("/campaigns", "name", "text"),
    ("/campaigns", "-created_at", "timestamp"),
    ("/campaigns", "budget", "integer"),
    ("/transactions", "occurred_on", "date"),
    ("/transactions", "-amount", "integer"),
    ("/suppressions", "email", "text"),
    ("/email-templates", "-updated_at", "timestamp"),
    ("/outreach-campaigns", "name", "text"),
    ("/analytics/events", "-occurred_at", "timestamp"),
    ("/audit-log", "-created_at", "timestamp"),
    ("/members", "created_at", "timestamp"),
    ("/artists", "-followers", "integer"),
]
# A value of every other kind, as a hand-made cursor carries it ([type tag, JSON value]).
FORGED_VALUES = {
    "text": ("s", "Zed"),
    "timestamp": ("t", "2026-11-26T04:30:00+00:00"),
    "date": ("d", "2026-11-26"),
    "integer": ("i", 1500),
    "uuid": ("u", "01930000-0000-7000-8000-000000000000"),
    "number as text": ("s", 1500),
    "text as timestamp": ("t", "soon"),
}


def hand_made(sort: str, tag: str, value: object, row_id: str | None = None) -> str:
    raw = json.dumps([sort, tag, value, row_id or str(uuid.uuid4())], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def signed(settings: Settings, payload: str) -> str:
    """``payload`` signed with the service's own key, as if the key had leaked: only the type
    check stands between it and SQL."""
    import hashlib
    import hmac

    assert settings.secret_key is not None
    key = cursor_key(settings.secret_key.get_secret_value())
    signature = hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16]
    return f"{payload}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


async def listed(
    api: httpx.AsyncClient, who: Account, path: str, **params: str | int
) -> httpx.Response:
    return await api.get(f"{API}{path}", params=params, headers=who.headers)


def cursor_refused(response: httpx.Response) -> bool:
    return response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == [
        "cursor"
    ]


def wrong_values(kind: str) -> list[tuple[str, Any]]:
    return [value for name, value in FORGED_VALUES.items() if name != kind]


class TestHandMadeCursors:
    @pytest.mark.parametrize(("path", "sort", "kind"), LISTS)
    async def test_an_unsigned_cursor_is_a_422_on_cursor_on_every_list(
        self, local_api: httpx.AsyncClient, path: str, sort: str, kind: str
    ) -> None:
        owner = await register(local_api)
        for tag, value in FORGED_VALUES.values():
            response = await listed(
                local_api, owner, path, sort=sort, cursor=hand_made(sort, tag, value)
            )
            assert cursor_refused(response), (tag, value, response.text)

    @pytest.mark.parametrize(("path", "sort", "kind"), LISTS)
    async def test_a_validly_signed_value_of_the_wrong_type_is_a_422_on_cursor(
        self,
        local_api: httpx.AsyncClient,
        app_settings: Settings,
        path: str,
        sort: str,
        kind: str,
    ) -> None:
        owner = await register(local_api)
        for tag, value in wrong_values(kind):
            cursor = signed(app_settings, hand_made(sort, tag, value))
            response = await listed(local_api, owner, path, sort=sort, cursor=cursor)
            assert cursor_refused(response), (tag, value, response.text)

    async def test_a_row_id_that_is_not_a_uuid_is_a_422_on_cursor(
        self, local_api: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        owner = await register(local_api)
        cursor = signed(app_settings, hand_made("name", "s", "Zed", row_id="17"))
        assert cursor_refused(
            await listed(local_api, owner, "/campaigns", sort="name", cursor=cursor)
        )

    async def test_a_cursor_edited_after_signing_is_a_422_on_cursor(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        for name in ("a", "b", "c"):
            created = await local_api.post(
                f"{API}/campaigns", json={"name": name}, headers=owner.headers
            )
            assert created.status_code == 201, created.text
        first = (await listed(local_api, owner, "/campaigns", sort="name", limit=1)).json()
        _, signature = first["next_cursor"].split(".")
        edited = f"{hand_made('name', 's', 'b')}.{signature}"
        assert cursor_refused(
            await listed(local_api, owner, "/campaigns", sort="name", limit=1, cursor=edited)
        )


class TestGenuineCursors:
    async def test_the_next_cursor_pages_through_every_row_once(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        for day in range(1, 6):
            created = await local_api.post(
                f"{API}/transactions",
                json={
                    "type": "income",
                    "amount_minor": 100 * day,
                    "currency": "EUR",
                    "occurred_on": f"2026-11-0{day}",
                },
                headers=owner.headers,
            )
            assert created.status_code == 201, created.text
        for sort in ("occurred_on", "-amount", "created_at"):
            seen: list[int] = []
            cursor = None
            while True:
                params: dict[str, str | int] = {"sort": sort, "limit": 2}
                if cursor is not None:
                    params["cursor"] = cursor
                page = (await listed(local_api, owner, "/transactions", **params)).json()
                seen += [row["amount_minor"] for row in page["items"]]
                if (cursor := page["next_cursor"]) is None:
                    break
            assert sorted(seen) == [100, 200, 300, 400, 500], sort

    async def test_a_cursor_of_another_sort_is_a_422_on_cursor(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        for name in ("a", "b"):
            await local_api.post(f"{API}/campaigns", json={"name": name}, headers=owner.headers)
        first = (await listed(local_api, owner, "/campaigns", sort="name", limit=1)).json()
        response = await listed(
            local_api, owner, "/campaigns", sort="-name", cursor=first["next_cursor"]
        )
        assert cursor_refused(response)


# Beyond year 9999 or before year 1 once converted to UTC: Python cannot even hold them.
UNHOLDABLE_TIMES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]
EDGE_DAYS = ["0001-01-01", "9999-12-31"]


def field_refused(response: httpx.Response, field: str) -> bool:
    if response.status_code != 422:
        return False
    return field in {e["field"] for e in response.json()["errors"]}


async def a_template_id(api: httpx.AsyncClient, who: Account) -> str:
    response = await api.post(
        f"{API}/email-templates",
        json={"name": "Pitch", "subject": "Hi", "body_html": "<p>Hi</p>", "body_text": "Hi"},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class TestEdgeOfRangeTimes:
    @pytest.mark.parametrize("when", UNHOLDABLE_TIMES)
    async def test_an_event_time_is_a_422_on_occurred_at(
        self, local_api: httpx.AsyncClient, when: str
    ) -> None:
        owner = await register(local_api)
        body = {"entity_type": "campaign", "event_type": "release.premiered", "occurred_at": when}
        response = await local_api.post(f"{API}/analytics/events", json=body, headers=owner.headers)
        assert field_refused(response, "occurred_at"), response.text

    @pytest.mark.parametrize("when", UNHOLDABLE_TIMES)
    async def test_an_outreach_schedule_is_a_422_on_scheduled_at(
        self, local_api: httpx.AsyncClient, when: str
    ) -> None:
        owner = await register(local_api)
        body = {
            "name": "Spring pitch",
            "template_id": await a_template_id(local_api, owner),
            "sender_email": "promo@label.example",
        }
        created = await local_api.post(
            f"{API}/outreach-campaigns", json={**body, "scheduled_at": when}, headers=owner.headers
        )
        assert field_refused(created, "scheduled_at"), created.text
        outreach = await local_api.post(
            f"{API}/outreach-campaigns", json=body, headers=owner.headers
        )
        assert outreach.status_code == 201, outreach.text
        updated = await local_api.patch(
            f"{API}/outreach-campaigns/{outreach.json()['id']}",
            json={"scheduled_at": when},
            headers=owner.headers,
        )
        assert field_refused(updated, "scheduled_at"), updated.text

    @pytest.mark.parametrize("when", UNHOLDABLE_TIMES)
    async def test_a_time_filter_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient, when: str
    ) -> None:
        owner = await register(local_api)
        for path, name in [
            ("/analytics/events", "since"),
            ("/analytics/events", "until"),
            ("/analytics/summary", "since"),
            (f"/artists/{uuid.uuid4()}/snapshots", "since"),
        ]:
            response = await listed(local_api, owner, path, **{name: when})
            assert field_refused(response, name), (path, response.text)

    async def test_times_inside_the_range_are_kept_as_the_same_instant(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        for sent, stored in [
            ("1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z"),
            ("8999-12-31T23:00:00-00:30", "8999-12-31T23:30:00Z"),
            ("2026-11-02T10:00:00", "2026-11-02T10:00:00Z"),
        ]:
            body = {"entity_type": "campaign", "event_type": "edge.seen", "occurred_at": sent}
            response = await local_api.post(
                f"{API}/analytics/events", json=body, headers=owner.headers
            )
            assert response.status_code == 201, response.text
            assert response.json()["occurred_at"].replace("+00:00", "Z") == stored


class TestEdgeOfRangeDays:
    @pytest.mark.parametrize("day", EDGE_DAYS)
    async def test_a_transaction_day_is_a_422_on_occurred_on(
        self, local_api: httpx.AsyncClient, day: str
    ) -> None:
        owner = await register(local_api)
        body = {"type": "income", "amount_minor": 100, "currency": "EUR", "occurred_on": day}
        response = await local_api.post(f"{API}/transactions", json=body, headers=owner.headers)
        assert field_refused(response, "occurred_on"), response.text

    @pytest.mark.parametrize("day", EDGE_DAYS)
    async def test_a_day_filter_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient, day: str
    ) -> None:
        owner = await register(local_api)
        for path in ("/transactions", "/transactions/summary"):
            for name in ("occurred_from", "occurred_to"):
                response = await listed(local_api, owner, path, **{name: day})
                assert field_refused(response, name), (path, name, response.text)

    @pytest.mark.parametrize("day", EDGE_DAYS)
    async def test_campaign_days_are_a_422_naming_them(
        self, local_api: httpx.AsyncClient, day: str
    ) -> None:
        owner = await register(local_api)
        for name in ("start_date", "end_date"):
            response = await local_api.post(
                f"{API}/campaigns", json={"name": "Tour", name: day}, headers=owner.headers
            )
            assert field_refused(response, name), response.text
