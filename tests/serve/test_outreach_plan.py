"""An outreach's plan over the API: template types, the mailbox it sends through, follow-up
steps, recipients taken from a campaign's artists, and the send-plan preview."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.enums import ContactSource, OutreachStatus
from serve.schemas.outreach import MAX_RECIPIENTS
from storage.database import create_sessionmaker
from storage.models import CampaignArtist, OutreachCampaign
from storage.repositories.artists import ArtistRepository
from storage.repositories.contacts import ArtistContactRepository
from tests.serve.conftest import Account, join, register
from tests.serve.test_mailboxes_api import mailbox_body
from tests.serve.test_outreach_api import (
    OUTREACH,
    SUPPRESSIONS,
    TEMPLATES,
    catalogue_artist,
    create_outreach,
    create_template,
    fields_of,
    queue,
)

MAILBOXES = "/api/v1/mailboxes"
# A Monday far enough ahead that "now" never overtakes it.
MONDAY_6AM = "2030-01-07T06:00:00Z"


async def template_id(api: httpx.AsyncClient, who: Account, type_: str = "initial") -> str:
    created = await create_template(api, who, name=f"T {uuid.uuid4().hex[:6]}", type=type_)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def outreach(api: httpx.AsyncClient, who: Account, **fields: object) -> dict[str, Any]:
    created = await create_outreach(api, who, await template_id(api, who), **fields)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def mailbox_id(api: httpx.AsyncClient, who: Account, **limits: object) -> str:
    created = await api.post(MAILBOXES, json=mailbox_body(**limits), headers=who.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def campaign_id(api: httpx.AsyncClient, who: Account) -> str:
    created = await api.post(
        "/api/v1/campaigns", json={"name": "Spring release", "type": "release"}, headers=who.headers
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def artist_in(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    who: Account,
    campaign: str,
    *contacts: tuple[str, str],
    **fields: object,
) -> str:
    """A catalogue artist in ``campaign`` with ``(email, consent_state)`` contacts."""
    artist = await catalogue_artist(engine, **fields)
    added = await api.post(
        f"/api/v1/campaigns/{campaign}/artists", json={"artist_id": artist}, headers=who.headers
    )
    assert added.status_code == 201, added.text
    for email, consent in contacts:
        contact = await api.post(
            f"/api/v1/artists/{artist}/contacts",
            json={"email": email, "consent_state": consent},
            headers=who.headers,
        )
        assert contact.status_code == 201, contact.text
    return artist


async def many_artists_in(engine: AsyncEngine, who: Account, campaign: str, count: int) -> None:
    """``count`` catalogue artists in ``campaign``, each with one address, written in bulk."""
    workspace = uuid.UUID(who.workspace_id)
    base = uuid.uuid4().int % 10**12
    records = [
        {"soundcloud_id": base + n, "name": f"Bulk {n}", "permalink": f"bulk-{base + n}"}
        for n in range(count)
    ]
    async with create_sessionmaker(engine).begin() as session:
        ids = (await ArtistRepository(session).upsert_many(records)).ids
        await ArtistContactRepository(session, workspace).add_many(
            ((ids[base + n], f"bulk-{base + n}@artist.example") for n in range(count)),
            source=ContactSource.MANUAL,
        )
        await session.execute(
            insert(CampaignArtist),
            [
                {
                    "id": uuid.uuid4(),
                    "workspace_id": workspace,
                    "campaign_id": uuid.UUID(campaign),
                    "artist_id": artist_id,
                }
                for artist_id in ids.values()
            ],
        )


async def set_status(engine: AsyncEngine, outreach_id: str, status: OutreachStatus) -> None:
    # Only sending moves the status, and sending is not built yet.
    async with create_sessionmaker(engine).begin() as session:
        await session.execute(
            update(OutreachCampaign)
            .where(OutreachCampaign.id == uuid.UUID(outreach_id))
            .values(status=status)
        )


class TestTemplateTypes:
    async def test_a_template_is_initial_unless_made_a_follow_up_and_the_type_round_trips(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        plain = await create_template(local_api, owner, name="Pitch")
        assert plain.json()["type"] == "initial"
        follow = await create_template(local_api, owner, name="Nudge", type="follow_up")
        assert follow.status_code == 201, follow.text
        url = f"{TEMPLATES}/{follow.json()['id']}"
        assert (await local_api.get(url, headers=owner.headers)).json()["type"] == "follow_up"

        patched = await local_api.patch(url, json={"type": "initial"}, headers=owner.headers)
        assert patched.status_code == 200, patched.text
        assert (await local_api.get(url, headers=owner.headers)).json()["type"] == "initial"

    async def test_the_list_filters_by_type(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        await template_id(local_api, owner, "initial")
        follow_up = await template_id(local_api, owner, "follow_up")
        listed = await local_api.get(TEMPLATES, params={"type": "follow_up"}, headers=owner.headers)
        assert [t["id"] for t in listed.json()["items"]] == [follow_up]
        everything = await local_api.get(TEMPLATES, headers=owner.headers)
        assert len(everything.json()["items"]) == 2

    async def test_an_unknown_or_null_type_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        created = await create_template(local_api, owner, type="reminder")
        assert created.status_code == 422
        assert fields_of(created) == {"type"}
        url = f"{TEMPLATES}/{await template_id(local_api, owner)}"
        nulled = await local_api.patch(url, json={"type": None}, headers=owner.headers)
        assert nulled.status_code == 422
        assert fields_of(nulled) == {"type"}


class TestOutreachMailbox:
    async def test_an_outreach_sends_through_its_mailbox_or_the_outbox(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        mailbox = await mailbox_id(local_api, owner)
        created = await outreach(local_api, owner, mailbox_id=mailbox)
        assert created["mailbox_id"] == mailbox
        url = f"{OUTREACH}/{created['id']}"
        to_outbox = await local_api.patch(url, json={"mailbox_id": None}, headers=owner.headers)
        assert to_outbox.status_code == 200, to_outbox.text
        assert (await local_api.get(url, headers=owner.headers)).json()["mailbox_id"] is None
        assert (await outreach(local_api, owner))["mailbox_id"] is None

    async def test_another_workspaces_mailbox_is_a_404_on_create_and_update(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner, stranger = await register(local_api), await register(local_api, name="Stranger")
        theirs = await mailbox_id(local_api, stranger)
        created = await create_outreach(
            local_api, owner, await template_id(local_api, owner), mailbox_id=theirs
        )
        assert created.status_code == 404
        assert "mailbox" in created.json()["detail"]
        mine = await outreach(local_api, owner)
        patched = await local_api.patch(
            f"{OUTREACH}/{mine['id']}", json={"mailbox_id": theirs}, headers=owner.headers
        )
        assert patched.status_code == 404
        assert (await local_api.get(f"{OUTREACH}/{mine['id']}", headers=owner.headers)).json()[
            "mailbox_id"
        ] is None

    async def test_deleting_the_mailbox_moves_the_outreach_to_the_outbox(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        mailbox = await mailbox_id(local_api, owner)
        created = await outreach(local_api, owner, mailbox_id=mailbox)
        deleted = await local_api.delete(f"{MAILBOXES}/{mailbox}", headers=owner.headers)
        assert deleted.status_code == 204, deleted.text
        read = await local_api.get(f"{OUTREACH}/{created['id']}", headers=owner.headers)
        assert read.json()["mailbox_id"] is None


class TestFollowUpSteps:
    async def test_steps_are_added_in_order_listed_and_deleted(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        steps = f"{OUTREACH}/{(await outreach(local_api, owner))['id']}/steps"
        added = []
        for delay in (3, 7):
            response = await local_api.post(
                steps,
                json={
                    "template_id": await template_id(local_api, owner, "follow_up"),
                    "delay_days": delay,
                },
                headers=owner.headers,
            )
            assert response.status_code == 201, response.text
            added.append(response.json())
        listed = (await local_api.get(steps, headers=owner.headers)).json()
        assert [(s["position"], s["delay_days"]) for s in listed] == [(1, 3), (2, 7)]

        deleted = await local_api.delete(f"{steps}/{added[0]['id']}", headers=owner.headers)
        assert deleted.status_code == 204, deleted.text
        assert [s["id"] for s in (await local_api.get(steps, headers=owner.headers)).json()] == [
            added[1]["id"]
        ]
        again = await local_api.delete(f"{steps}/{added[0]['id']}", headers=owner.headers)
        assert again.status_code == 404

    async def test_a_step_needs_a_follow_up_template_of_the_workspace(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner, stranger = await register(local_api), await register(local_api, name="Stranger")
        steps = f"{OUTREACH}/{(await outreach(local_api, owner))['id']}/steps"
        initial = await local_api.post(
            steps,
            json={"template_id": await template_id(local_api, owner), "delay_days": 3},
            headers=owner.headers,
        )
        assert initial.status_code == 422
        assert fields_of(initial) == {"template_id"}
        assert "follow_up" in initial.json()["detail"]
        theirs = await local_api.post(
            steps,
            json={
                "template_id": await template_id(local_api, stranger, "follow_up"),
                "delay_days": 3,
            },
            headers=owner.headers,
        )
        assert theirs.status_code == 404
        assert (await local_api.get(steps, headers=owner.headers)).json() == []

    async def test_a_template_that_a_step_sends_stays_a_follow_up(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        steps = f"{OUTREACH}/{(await outreach(local_api, owner))['id']}/steps"
        follow_up = await template_id(local_api, owner, "follow_up")
        step = await local_api.post(
            steps, json={"template_id": follow_up, "delay_days": 3}, headers=owner.headers
        )
        assert step.status_code == 201, step.text
        url = f"{TEMPLATES}/{follow_up}"
        refused = await local_api.patch(url, json={"type": "initial"}, headers=owner.headers)
        assert refused.status_code == 409
        assert (await local_api.get(url, headers=owner.headers)).json()["type"] == "follow_up"

        await local_api.delete(f"{steps}/{step.json()['id']}", headers=owner.headers)
        allowed = await local_api.patch(url, json={"type": "initial"}, headers=owner.headers)
        assert allowed.status_code == 200, allowed.text

    async def test_a_delay_outside_one_to_365_days_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        steps = f"{OUTREACH}/{(await outreach(local_api, owner))['id']}/steps"
        follow_up = await template_id(local_api, owner, "follow_up")
        for delay in (0, 366):
            response = await local_api.post(
                steps, json={"template_id": follow_up, "delay_days": delay}, headers=owner.headers
            )
            assert response.status_code == 422
            assert fields_of(response) == {"delay_days"}

    async def test_steps_change_only_while_the_outreach_is_a_draft(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        created = await outreach(local_api, owner)
        steps = f"{OUTREACH}/{created['id']}/steps"
        follow_up = await template_id(local_api, owner, "follow_up")
        step = await local_api.post(
            steps, json={"template_id": follow_up, "delay_days": 3}, headers=owner.headers
        )
        assert step.status_code == 201, step.text

        await set_status(engine, created["id"], OutreachStatus.SENDING)
        added = await local_api.post(
            steps, json={"template_id": follow_up, "delay_days": 5}, headers=owner.headers
        )
        assert added.status_code == 409
        assert "sending" in added.json()["detail"] and "draft" in added.json()["detail"]
        removed = await local_api.delete(f"{steps}/{step.json()['id']}", headers=owner.headers)
        assert removed.status_code == 409
        assert len((await local_api.get(steps, headers=owner.headers)).json()) == 1

    async def test_a_viewer_reads_steps_but_cannot_change_them(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        viewer = await join(local_api, owner, "viewer")
        steps = f"{OUTREACH}/{(await outreach(local_api, owner))['id']}/steps"
        follow_up = await template_id(local_api, owner, "follow_up")
        refused = await local_api.post(
            steps, json={"template_id": follow_up, "delay_days": 3}, headers=viewer.headers
        )
        assert refused.status_code == 403
        assert (await local_api.get(steps, headers=viewer.headers)).status_code == 200


class TestRecipientsFromCampaign:
    async def test_each_artist_is_queued_once_at_their_best_usable_address(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        campaign = await campaign_id(local_api, owner)
        created = await outreach(local_api, owner, campaign_id=campaign)
        tag = uuid.uuid4().hex[:8]

        def address(name: str) -> str:
            return f"{name}-{tag}@artist.example"

        for gone in ("bounced", "other-bounced"):
            suppressed = await local_api.post(
                SUPPRESSIONS, json={"email": address(gone)}, headers=owner.headers
            )
            assert suppressed.status_code == 201, suppressed.text
        assert (
            await queue(local_api, owner, created["id"], {"to_email": address("queued")})
        ).json()["queued"] == 1

        best = await artist_in(
            local_api,
            engine,
            owner,
            campaign,
            (address("unknown"), "unknown"),
            (address("granted"), "granted"),
        )
        public = await artist_in(
            local_api, engine, owner, campaign, (address("public"), "public_business")
        )
        rerouted = await artist_in(
            local_api,
            engine,
            owner,
            campaign,
            (address("other-bounced"), "granted"),
            (address("second"), "unknown"),
        )
        await artist_in(local_api, engine, owner, campaign, (address("bounced"), "granted"))
        await artist_in(local_api, engine, owner, campaign, (address("gone"), "withdrawn"))
        await artist_in(local_api, engine, owner, campaign)
        await artist_in(local_api, engine, owner, campaign, (address("queued"), "granted"))

        url = f"{OUTREACH}/{created['id']}/recipients/from-campaign"
        response = await local_api.post(url, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "queued": 3,
            "skipped_suppressed": 1,
            "skipped_no_contact": 1,
            "skipped_withdrawn_consent": 1,
            "skipped_duplicates": 1,
            "remaining": 0,
        }
        records = await local_api.get(
            "/api/v1/email-records",
            params={"outreach_campaign_id": created["id"], "limit": 50},
            headers=owner.headers,
        )
        assert records.status_code == 200, records.text
        by_artist = {r["artist_id"]: r["to_email"] for r in records.json()["items"]}
        assert by_artist[best] == address("granted")
        assert by_artist[public] == address("public")
        assert by_artist[rerouted] == address("second")

        again = await local_api.post(url, json={}, headers=owner.headers)
        assert again.json()["queued"] == 0
        assert again.json()["skipped_duplicates"] == 4

    async def test_one_call_queues_up_to_the_recipient_limit_and_the_next_the_rest(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        campaign = await campaign_id(local_api, owner)
        created = await outreach(local_api, owner, campaign_id=campaign)
        await many_artists_in(engine, owner, campaign, MAX_RECIPIENTS + 3)

        url = f"{OUTREACH}/{created['id']}/recipients/from-campaign"
        first = await local_api.post(url, headers=owner.headers)
        assert first.status_code == 200, first.text
        assert (first.json()["queued"], first.json()["remaining"]) == (MAX_RECIPIENTS, 3)
        second = (await local_api.post(url, headers=owner.headers)).json()
        assert (second["queued"], second["remaining"]) == (3, 0)
        assert second["skipped_duplicates"] == MAX_RECIPIENTS

    async def test_an_outreach_of_no_campaign_must_name_one(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        created = await outreach(local_api, owner)
        url = f"{OUTREACH}/{created['id']}/recipients/from-campaign"
        refused = await local_api.post(url, headers=owner.headers)
        assert refused.status_code == 409
        assert "campaign_id" in refused.json()["detail"]

        campaign = await campaign_id(local_api, owner)
        await artist_in(
            local_api, engine, owner, campaign, (f"{uuid.uuid4().hex}@artist.example", "unknown")
        )
        named = await local_api.post(url, json={"campaign_id": campaign}, headers=owner.headers)
        assert named.status_code == 200, named.text
        assert named.json()["queued"] == 1

    async def test_another_workspaces_campaign_is_a_404(self, local_api: httpx.AsyncClient) -> None:
        owner, stranger = await register(local_api), await register(local_api, name="Stranger")
        theirs = await campaign_id(local_api, stranger)
        created = await outreach(local_api, owner)
        response = await local_api.post(
            f"{OUTREACH}/{created['id']}/recipients/from-campaign",
            json={"campaign_id": theirs},
            headers=owner.headers,
        )
        assert response.status_code == 404


class TestSendPlan:
    async def test_the_outbox_sends_as_fast_as_the_outreachs_daily_limit(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        created = await outreach(local_api, owner, daily_limit=2, scheduled_at=MONDAY_6AM)
        recipients: list[dict[str, object]] = [
            {"to_email": f"r{n}-{uuid.uuid4().hex[:6]}@a.example"} for n in range(5)
        ]
        assert (await queue(local_api, owner, created["id"], *recipients)).status_code == 200

        plan = await local_api.get(f"{OUTREACH}/{created['id']}/plan", headers=owner.headers)
        assert plan.status_code == 200, plan.text
        body = plan.json()
        assert body["mailbox_id"] is None
        assert (body["queued"], body["planned"], body["days_needed"]) == (5, 5, 3)
        assert body["start_at"] == body["first_send_at"] == "2030-01-07T06:00:00Z"
        assert [(d["day"], d["messages"]) for d in body["days"]] == [
            ("2030-01-07", 2),
            ("2030-01-08", 2),
            ("2030-01-09", 1),
        ]
        assert body["days_truncated"] is False

    async def test_a_mailbox_ramps_up_and_waits_for_each_recipients_window(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        mailbox = await mailbox_id(
            local_api,
            owner,
            per_minute=10,
            daily_cap=100,
            ramp_start=1,
            ramp_increment=1,
            gap_min_seconds=0,
            gap_max_seconds=0,
            window_start_hour=9,
            window_end_hour=17,
            window_weekdays=[1, 2, 3, 4, 5, 6, 7],
        )
        created = await outreach(
            local_api, owner, mailbox_id=mailbox, daily_limit=50, scheduled_at=MONDAY_6AM
        )
        # 06:00 UTC is 15:00 in Tokyo, open: the first day's one message goes there at once.
        # New York opens at 14:00 UTC (09:00 EST); the second day allows two, 6 s apart (10 a
        # minute).
        tokyo = await catalogue_artist(engine, city="Tokyo", country="jp")
        new_york = await catalogue_artist(engine, city="New York", country="us")
        recipients: list[dict[str, object]] = [
            {"to_email": f"{place}-{uuid.uuid4().hex[:6]}@a.example", "artist_id": artist}
            for place, artist in (("ny1", new_york), ("ny2", new_york), ("tokyo", tokyo))
        ]
        assert (await queue(local_api, owner, created["id"], *recipients)).status_code == 200

        body = (
            await local_api.get(f"{OUTREACH}/{created['id']}/plan", headers=owner.headers)
        ).json()
        assert body["mailbox_id"] == mailbox
        assert body["first_send_at"] == "2030-01-07T06:00:00Z"
        assert body["last_send_at"] == "2030-01-08T14:00:06Z"
        assert [(d["day"], d["messages"]) for d in body["days"]] == [
            ("2030-01-07", 1),
            ("2030-01-08", 2),
        ]
        assert body["days_needed"] == 2

    async def test_another_workspaces_outreach_has_no_plan(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner, stranger = await register(local_api), await register(local_api, name="Stranger")
        created = await outreach(local_api, owner)
        response = await local_api.get(f"{OUTREACH}/{created['id']}/plan", headers=stranger.headers)
        assert response.status_code == 404
