"""/api/v1/email-templates, outreach-campaigns, email-records and suppressions over real HTTP on
Ray Serve."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_sessionmaker
from storage.repositories.artists import ArtistRepository
from storage.repositories.audit_log import AuditLogRepository
from tests.serve.conftest import Account, fields_of, join

TEMPLATES = "/api/v1/email-templates"
OUTREACH = "/api/v1/outreach-campaigns"
RECORDS = "/api/v1/email-records"
SUPPRESSIONS = "/api/v1/suppressions"


async def create_template(api: httpx.AsyncClient, who: Account, **fields: object) -> httpx.Response:
    body = {
        "name": "Pitch",
        "subject": "New music for {{ artist.name }}",
        "body_html": "<p>Hi {{ artist.name }} from {{ artist.city }}!</p>",
        "body_text": "Hi {{ artist.name }}",
        **fields,
    }
    return await api.post(TEMPLATES, json=body, headers=who.headers)


async def create_outreach(
    api: httpx.AsyncClient, who: Account, template_id: str, **fields: object
) -> httpx.Response:
    body = {
        "name": "Spring pitch",
        "template_id": template_id,
        "sender_email": "Promo@Label.Example",
        "sender_name": "Mia at Label",
        **fields,
    }
    return await api.post(OUTREACH, json=body, headers=who.headers)


async def an_outreach(api: httpx.AsyncClient, who: Account, **fields: object) -> dict[str, str]:
    template = await create_template(api, who)
    assert template.status_code == 201, template.text
    outreach = await create_outreach(api, who, template.json()["id"], **fields)
    assert outreach.status_code == 201, outreach.text
    body: dict[str, str] = outreach.json()
    return body


async def queue(
    api: httpx.AsyncClient, who: Account, outreach_id: str, *recipients: dict[str, object]
) -> httpx.Response:
    return await api.post(
        f"{OUTREACH}/{outreach_id}/recipients",
        json={"recipients": list(recipients)},
        headers=who.headers,
    )


async def catalogue_artist(engine: AsyncEngine, **fields: object) -> str:
    """An artist in the shared catalogue, committed the way discovery would store it."""
    soundcloud_id = uuid.uuid4().int % 10**15
    record = {
        "soundcloud_id": soundcloud_id,
        "name": "Nova & the <Waves>",
        "soundcloud_username": "nova-waves",
        "permalink": f"nova-{soundcloud_id}",
        "permalink_url": f"https://soundcloud.com/nova-{soundcloud_id}",
        "city": "Berlin",
        "country": "de",
        "genres": ["Deep House", "techno"],
        "followers": 12_500,
        "tracks": 42,
        **fields,
    }
    async with create_sessionmaker(engine).begin() as session:
        result = await ArtistRepository(session).upsert_many([record])
    return str(result.ids[soundcloud_id])


async def audit_actions(engine: AsyncEngine, who: Account, entity_type: str) -> list[str]:
    async with create_sessionmaker(engine)() as session:
        page = await AuditLogRepository(session, uuid.UUID(who.workspace_id)).search(
            entity_type=entity_type
        )
    return sorted(entry.action for entry in page.items)


class TestTemplateLifecycle:
    async def test_create_read_update_list_and_delete(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        created = await create_template(api, owner)
        assert created.status_code == 201, created.text
        template = created.json()
        url = f"{TEMPLATES}/{template['id']}"
        assert (await api.get(url, headers=owner.headers)).json()["subject"] == (
            "New music for {{ artist.name }}"
        )

        patched = await api.patch(
            url, json={"subject": "Hello {{ artist.username }}"}, headers=owner.headers
        )
        assert patched.status_code == 200, patched.text
        assert (await api.get(url, headers=owner.headers)).json()["subject"] == (
            "Hello {{ artist.username }}"
        )
        listed = await api.get(TEMPLATES, headers=owner.headers)
        assert [t["name"] for t in listed.json()["items"]] == ["Pitch"]

        assert (await api.delete(url, headers=owner.headers)).status_code == 204
        assert (await api.get(url, headers=owner.headers)).status_code == 404
        assert await audit_actions(engine, owner, "email_template") == [
            "email_template.create",
            "email_template.delete",
            "email_template.update",
        ]

    async def test_the_list_filters_by_name_and_sorts(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for name in ("Pitch B", "Follow-up", "Pitch A"):
            assert (await create_template(api, owner, name=name)).status_code == 201
        found = await api.get(f"{TEMPLATES}?q=pitch&sort=name", headers=owner.headers)
        assert [t["name"] for t in found.json()["items"]] == ["Pitch A", "Pitch B"]
        newest_first = await api.get(f"{TEMPLATES}?sort=-created_at", headers=owner.headers)
        assert [t["name"] for t in newest_first.json()["items"]] == [
            "Pitch A",
            "Follow-up",
            "Pitch B",
        ]

    async def test_a_duplicate_name_is_a_409(self, api: httpx.AsyncClient, owner: Account) -> None:
        assert (await create_template(api, owner)).status_code == 201
        again = await create_template(api, owner)
        assert again.status_code == 409
        assert again.json()["type"] == "/problems/conflict"

    async def test_the_variables_are_documented(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await api.get(f"{TEMPLATES}/variables", headers=owner.headers)
        assert response.status_code == 200
        names = [v["name"] for v in response.json()]
        assert names[:2] == ["artist.name", "artist.username"]
        assert {"contact.email", "campaign.name", "sender.email", "unsubscribe_url"} <= set(names)


class TestTemplateValidation:
    async def test_each_bad_field_is_named(self, api: httpx.AsyncClient, owner: Account) -> None:
        response = await api.post(
            TEMPLATES, json={"name": "", "body_html": "x" * 100_001}, headers=owner.headers
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert fields_of(response) == {"name", "subject", "body_html"}

    async def test_a_syntax_error_names_the_part_and_its_line(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await create_template(api, owner, body_html="<p>\nHi {{ artist.name }</p>")
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "body_html", "message": "line 2: unexpected '}'"}
        ]

    async def test_a_misspelled_variable_is_refused_when_saved(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await create_template(api, owner, subject="For {{ artist.nmae }}")
        assert response.status_code == 422
        (error,) = response.json()["errors"]
        assert error["field"] == "subject"
        assert error["message"].startswith("line 1: artist has no field 'nmae'")
        assert (await api.get(TEMPLATES, headers=owner.headers)).json()["items"] == []

    async def test_a_bad_change_leaves_the_template_as_it_was(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        template = (await create_template(api, owner)).json()
        url = f"{TEMPLATES}/{template['id']}"
        refused = await api.patch(
            url, json={"body_text": "{% for x in %}", "name": "New"}, headers=owner.headers
        )
        assert refused.status_code == 422
        assert fields_of(refused) == {"body_text"}
        nulled = await api.patch(url, json={"body_html": None}, headers=owner.headers)
        assert nulled.status_code == 422
        assert fields_of(nulled) == {"body_html"}
        assert (await api.get(url, headers=owner.headers)).json()["name"] == "Pitch"

    async def test_a_template_needs_a_body(self, api: httpx.AsyncClient, owner: Account) -> None:
        response = await create_template(api, owner, body_html="", body_text=" ")
        assert response.status_code == 422
        assert fields_of(response) == {"body_html", "body_text"}
        template = (await create_template(api, owner, body_html="")).json()
        emptied = await api.patch(
            f"{TEMPLATES}/{template['id']}", json={"body_text": ""}, headers=owner.headers
        )
        assert emptied.status_code == 422

    async def test_a_sandbox_escape_is_refused(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await create_template(api, owner, body_text="{{ ''.__class__.__mro__ }}")
        assert response.status_code == 422
        assert "private attribute '__class__'" in response.json()["detail"]


class TestPreview:
    async def test_a_template_renders_for_a_catalogue_artist(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        artist_id = await catalogue_artist(engine)
        campaign = await api.post(
            "/api/v1/campaigns", json={"name": "Spring release"}, headers=owner.headers
        )
        template = (
            await create_template(
                api,
                owner,
                subject="{{ artist.name }}: {{ campaign.name }}",
                body_text=(
                    "{{ artist.genres }} in {{ artist.city }}, {{ artist.followers }} followers,"
                    " to {{ contact.email }} from {{ sender.email }}, {{ unsubscribe_url }}"
                ),
            )
        ).json()
        response = await api.post(
            f"{TEMPLATES}/{template['id']}/preview",
            json={
                "artist_id": artist_id,
                "campaign_id": campaign.json()["id"],
                "contact_email": "Nova@Music.Example",
            },
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        preview = response.json()
        assert preview["subject"] == "Nova & the <Waves>: Spring release"
        assert preview["html"] == "<p>Hi Nova &amp; the &lt;Waves&gt; from Berlin!</p>"
        assert preview["text"] == (
            f"deep house, techno in Berlin, 12500 followers, to nova@music.example"
            f" from {owner.email}, https://unsubscribe.invalid/preview"
        )

    async def test_a_viewer_may_preview_and_optional_fields_render_empty(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        artist_id = await catalogue_artist(engine, city=None)
        template = (
            await create_template(
                api,
                owner,
                body_text="[{{ artist.city }}][{{ contact.email }}][{{ campaign.name }}]",
            )
        ).json()
        viewer = await join(api, owner, "viewer")
        response = await api.post(
            f"{TEMPLATES}/{template['id']}/preview",
            json={"artist_id": artist_id},
            headers=viewer.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["text"] == "[][][]"

    async def test_an_unsaved_draft_renders_in_place_of_the_saved_parts(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        artist_id = await catalogue_artist(engine)
        template = (await create_template(api, owner, body_text="saved {{ artist.name }}")).json()
        url = f"{TEMPLATES}/{template['id']}/preview"
        draft = await api.post(
            url,
            json={"artist_id": artist_id, "body_text": "draft for {{ artist.city }}"},
            headers=owner.headers,
        )
        broken = await api.post(
            url, json={"artist_id": artist_id, "subject": "{{ artist.name"}, headers=owner.headers
        )
        emptied = await api.post(
            url,
            json={"artist_id": artist_id, "body_text": "", "body_html": ""},
            headers=owner.headers,
        )
        saved = await api.get(f"{TEMPLATES}/{template['id']}", headers=owner.headers)

        assert draft.status_code == 200, draft.text
        assert draft.json()["text"] == "draft for Berlin"
        assert broken.status_code == 422
        assert fields_of(broken) == {"subject"}
        assert emptied.status_code == 422
        assert saved.json()["body_text"] == "saved {{ artist.name }}"

    async def test_an_unknown_artist_is_a_404(self, api: httpx.AsyncClient, owner: Account) -> None:
        template = (await create_template(api, owner)).json()
        response = await api.post(
            f"{TEMPLATES}/{template['id']}/preview",
            json={"artist_id": str(uuid.uuid4())},
            headers=owner.headers,
        )
        assert response.status_code == 404
        assert "artist" in response.json()["detail"]

    async def test_another_workspaces_template_or_campaign_is_a_404(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account, engine: AsyncEngine
    ) -> None:
        artist_id = await catalogue_artist(engine)
        template = (await create_template(api, owner)).json()
        theirs = await api.post("/api/v1/campaigns", json={"name": "X"}, headers=stranger.headers)
        for who, body in (
            (stranger, {"artist_id": artist_id}),
            (owner, {"artist_id": artist_id, "campaign_id": theirs.json()["id"]}),
        ):
            response = await api.post(
                f"{TEMPLATES}/{template['id']}/preview", json=body, headers=who.headers
            )
            assert response.status_code == 404


class TestTemplateInUse:
    async def test_a_template_used_by_an_outreach_campaign_cannot_be_deleted(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        url = f"{TEMPLATES}/{outreach['template_id']}"
        refused = await api.delete(url, headers=owner.headers)
        assert refused.status_code == 409
        assert "still in use" in refused.json()["detail"]
        assert (await api.get(url, headers=owner.headers)).status_code == 200
        await api.delete(f"{OUTREACH}/{outreach['id']}", headers=owner.headers)
        assert (await api.delete(url, headers=owner.headers)).status_code == 204


class TestOutreachLifecycle:
    async def test_create_read_update_list_and_delete(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        outreach = await an_outreach(api, owner, scheduled_at="2026-12-01T09:00:00+01:00")
        assert (outreach["status"], outreach["sender_email"], outreach["daily_limit"]) == (
            "draft",
            "promo@label.example",
            50,
        )
        url = f"{OUTREACH}/{outreach['id']}"
        scheduled = (await api.get(url, headers=owner.headers)).json()["scheduled_at"]
        assert datetime.fromisoformat(scheduled) == datetime(2026, 12, 1, 8, tzinfo=UTC)
        patched = await api.patch(
            url, json={"daily_limit": 30, "sender_name": "Mia"}, headers=owner.headers
        )
        assert patched.status_code == 200, patched.text
        read = (await api.get(url, headers=owner.headers)).json()
        assert (read["daily_limit"], read["sender_name"], read["name"]) == (
            30,
            "Mia",
            "Spring pitch",
        )
        listed = await api.get(OUTREACH, headers=owner.headers)
        assert [o["id"] for o in listed.json()["items"]] == [outreach["id"]]

        assert (await api.delete(url, headers=owner.headers)).status_code == 204
        assert (await api.get(url, headers=owner.headers)).status_code == 404
        assert await audit_actions(engine, owner, "outreach_campaign") == [
            "outreach_campaign.create",
            "outreach_campaign.delete",
            "outreach_campaign.update",
        ]

    async def test_the_list_filters_by_status_and_campaign(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign = (
            await api.post("/api/v1/campaigns", json={"name": "Tour"}, headers=owner.headers)
        ).json()
        template = (await create_template(api, owner)).json()
        linked = (
            await create_outreach(
                api, owner, template["id"], name="Linked", campaign_id=campaign["id"]
            )
        ).json()
        await create_outreach(api, owner, template["id"], name="Loose")
        by_campaign = await api.get(
            f"{OUTREACH}?campaign_id={campaign['id']}", headers=owner.headers
        )
        assert [o["id"] for o in by_campaign.json()["items"]] == [linked["id"]]
        drafts = await api.get(f"{OUTREACH}?status=draft&sort=name", headers=owner.headers)
        assert [o["name"] for o in drafts.json()["items"]] == ["Linked", "Loose"]
        sending = await api.get(f"{OUTREACH}?status=sending", headers=owner.headers)
        assert sending.json()["items"] == []

    async def test_the_status_cannot_be_set_by_a_change(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        url = f"{OUTREACH}/{outreach['id']}"
        refused = await api.patch(url, json={"status": "sending"}, headers=owner.headers)
        assert refused.status_code == 422
        assert fields_of(refused) == {"status"}
        nulled = await api.patch(
            url, json={"sender_email": None, "daily_limit": None}, headers=owner.headers
        )
        assert nulled.status_code == 422
        assert fields_of(nulled) == {"sender_email", "daily_limit"}
        cleared = await api.patch(url, json={"scheduled_at": None}, headers=owner.headers)
        assert cleared.status_code == 200
        assert (await api.get(url, headers=owner.headers)).json()["status"] == "draft"


class TestOutreachValidation:
    async def test_each_bad_field_is_named(self, api: httpx.AsyncClient, owner: Account) -> None:
        response = await api.post(
            OUTREACH,
            json={
                "name": "",
                "template_id": "not-a-uuid",
                "sender_email": "nobody",
                "daily_limit": 0,
                "scheduled_at": "9999-12-31T23:59:59-12:00",
            },
            headers=owner.headers,
        )
        assert response.status_code == 422
        assert fields_of(response) == {
            "name",
            "template_id",
            "sender_email",
            "daily_limit",
            "scheduled_at",
        }

    async def test_an_unknown_template_or_campaign_is_a_404(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        assert (await create_outreach(api, owner, str(uuid.uuid4()))).status_code == 404
        template = (await create_template(api, owner)).json()
        response = await create_outreach(api, owner, template["id"], campaign_id=str(uuid.uuid4()))
        assert response.status_code == 404
        assert "campaign" in response.json()["detail"]


class TestRecipients:
    async def test_suppressed_and_duplicate_addresses_are_skipped(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        await api.post(SUPPRESSIONS, json={"email": "gone@x.example"}, headers=owner.headers)
        first = await queue(
            api,
            owner,
            outreach["id"],
            {"to_email": "a@x.example"},
            {"to_email": " A@X.example "},
            {"to_email": "GONE@x.example"},
            {"to_email": "b@x.example"},
        )
        assert first.status_code == 200, first.text
        assert first.json() == {"queued": 2, "skipped_suppressed": 1, "skipped_duplicates": 1}
        again = await queue(
            api, owner, outreach["id"], {"to_email": "b@x.example"}, {"to_email": "c@x.example"}
        )
        assert again.json() == {"queued": 1, "skipped_suppressed": 0, "skipped_duplicates": 1}
        records = await api.get(
            f"{RECORDS}?outreach_campaign_id={outreach['id']}", headers=owner.headers
        )
        assert sorted((r["to_email"], r["status"]) for r in records.json()["items"]) == [
            ("a@x.example", "queued"),
            ("b@x.example", "queued"),
            ("c@x.example", "queued"),
        ]

    async def test_a_recipient_may_name_a_catalogue_artist(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        artist_id = await catalogue_artist(engine)
        outreach = await an_outreach(api, owner)
        queued = await queue(
            api, owner, outreach["id"], {"to_email": "nova@x.example", "artist_id": artist_id}
        )
        assert queued.json()["queued"] == 1
        (record,) = (await api.get(RECORDS, headers=owner.headers)).json()["items"]
        assert record["artist_id"] == artist_id

    async def test_an_unknown_artist_queues_nothing(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        response = await queue(
            api,
            owner,
            outreach["id"],
            {"to_email": "a@x.example"},
            {"to_email": "b@x.example", "artist_id": str(uuid.uuid4())},
        )
        assert response.status_code == 404
        assert (await api.get(RECORDS, headers=owner.headers)).json()["items"] == []

    async def test_a_bad_address_is_named_by_its_position(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        response = await queue(
            api, owner, outreach["id"], {"to_email": "a@x.example"}, {"to_email": "not mail"}
        )
        assert response.status_code == 422
        assert fields_of(response) == {"recipients.1.to_email"}
        empty = await queue(api, owner, outreach["id"])
        assert fields_of(empty) == {"recipients"}

    async def test_a_viewer_cannot_queue_and_a_stranger_cannot_see_the_campaign(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account, engine: AsyncEngine
    ) -> None:
        outreach = await an_outreach(api, owner)
        viewer = await join(api, owner, "viewer")
        recipient = {"to_email": "a@x.example"}
        assert (await queue(api, viewer, outreach["id"], recipient)).status_code == 403
        assert (await queue(api, stranger, outreach["id"], recipient)).status_code == 404
        assert (await api.get(RECORDS, headers=owner.headers)).json()["items"] == []
        await queue(api, owner, outreach["id"], recipient)
        assert await audit_actions(engine, owner, "outreach_campaign") == [
            "outreach_campaign.create",
            "outreach_campaign.recipients_add",
        ]


class TestEmailRecords:
    async def test_records_come_a_page_at_a_time(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        addresses = [f"r{n}@x.example" for n in range(5)]
        await queue(api, owner, outreach["id"], *({"to_email": a} for a in addresses))
        seen: list[str] = []
        pages = 0
        url = f"{RECORDS}?limit=2&sort=created_at"
        while url:
            page = (await api.get(url, headers=owner.headers)).json()
            assert len(page["items"]) <= 2
            seen += [r["to_email"] for r in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            url = f"{RECORDS}?limit=2&sort=created_at&cursor={cursor}" if cursor else ""
        assert (pages, sorted(seen)) == (3, addresses)

    async def test_the_list_filters_by_outreach_campaign_and_status(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        template = (await create_template(api, owner)).json()
        first = (await create_outreach(api, owner, template["id"], name="One")).json()
        second = (await create_outreach(api, owner, template["id"], name="Two")).json()
        await queue(api, owner, first["id"], {"to_email": "a@x.example"})
        await queue(api, owner, second["id"], {"to_email": "b@x.example"})
        of_second = await api.get(
            f"{RECORDS}?outreach_campaign_id={second['id']}&status=queued", headers=owner.headers
        )
        assert [r["to_email"] for r in of_second.json()["items"]] == ["b@x.example"]
        sent = await api.get(f"{RECORDS}?status=sent", headers=owner.headers)
        assert sent.json()["items"] == []
        bad = await api.get(f"{RECORDS}?status=lost&cursor=nonsense", headers=owner.headers)
        assert bad.status_code == 422
        assert fields_of(bad) == {"status"}

    async def test_one_record_reads_back_and_records_are_read_only(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        await queue(api, owner, outreach["id"], {"to_email": "a@x.example"})
        (listed,) = (await api.get(RECORDS, headers=owner.headers)).json()["items"]
        read = await api.get(f"{RECORDS}/{listed['id']}", headers=owner.headers)
        assert read.json() == listed
        assert (read.json()["attempts"], read.json()["sent_at"]) == (0, None)
        assert (await api.post(RECORDS, json={}, headers=owner.headers)).status_code == 405
        assert (
            await api.delete(f"{RECORDS}/{listed['id']}", headers=owner.headers)
        ).status_code == 405


class TestSuppressions:
    async def test_suppress_list_and_lift_an_address(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        created = await api.post(
            SUPPRESSIONS,
            json={"email": " Gone@X.example", "reason": "unsubscribed"},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        assert (created.json()["email"], created.json()["reason"]) == (
            "gone@x.example",
            "unsubscribed",
        )
        again = await api.post(
            SUPPRESSIONS,
            json={"email": "gone@x.example", "reason": "bounced"},
            headers=owner.headers,
        )
        assert (again.status_code, again.json()["reason"]) == (200, "unsubscribed")
        await api.post(SUPPRESSIONS, json={"email": "other@x.example"}, headers=owner.headers)

        manual = await api.get(f"{SUPPRESSIONS}?reason=manual", headers=owner.headers)
        assert [s["email"] for s in manual.json()["items"]] == ["other@x.example"]
        by_email = await api.get(f"{SUPPRESSIONS}?sort=email&q=x.ex", headers=owner.headers)
        assert [s["email"] for s in by_email.json()["items"]] == [
            "gone@x.example",
            "other@x.example",
        ]

        assert (
            await api.delete(f"{SUPPRESSIONS}/Gone@X.example", headers=owner.headers)
        ).status_code == 204
        assert (
            await api.delete(f"{SUPPRESSIONS}/gone@x.example", headers=owner.headers)
        ).status_code == 404
        remaining = await api.get(SUPPRESSIONS, headers=owner.headers)
        assert [s["email"] for s in remaining.json()["items"]] == ["other@x.example"]
        assert await audit_actions(engine, owner, "suppression") == [
            "suppression.create",
            "suppression.create",
            "suppression.delete",
        ]

    async def test_a_bad_address_is_named(self, api: httpx.AsyncClient, owner: Account) -> None:
        response = await api.post(
            SUPPRESSIONS, json={"email": "nope", "reason": "lost"}, headers=owner.headers
        )
        assert response.status_code == 422
        assert fields_of(response) == {"email", "reason"}

    async def test_a_viewer_reads_but_cannot_change_the_list(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        await api.post(SUPPRESSIONS, json={"email": "gone@x.example"}, headers=owner.headers)
        viewer = await join(api, owner, "viewer")
        listed = await api.get(SUPPRESSIONS, headers=viewer.headers)
        assert [s["email"] for s in listed.json()["items"]] == ["gone@x.example"]
        added = await api.post(SUPPRESSIONS, json={"email": "x@x.example"}, headers=viewer.headers)
        assert added.status_code == 403
        lifted = await api.delete(f"{SUPPRESSIONS}/gone@x.example", headers=viewer.headers)
        assert lifted.status_code == 403

    async def test_suppressions_are_per_workspace(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        await api.post(SUPPRESSIONS, json={"email": "gone@x.example"}, headers=owner.headers)
        assert (await api.get(SUPPRESSIONS, headers=stranger.headers)).json()["items"] == []
        lifted = await api.delete(f"{SUPPRESSIONS}/gone@x.example", headers=stranger.headers)
        assert lifted.status_code == 404
        # The stranger's workspace may still email the address.
        outreach = await an_outreach(api, stranger)
        queued = await queue(api, stranger, outreach["id"], {"to_email": "gone@x.example"})
        assert queued.json()["queued"] == 1
        assert [
            s["email"] for s in (await api.get(SUPPRESSIONS, headers=owner.headers)).json()["items"]
        ] == ["gone@x.example"]


class TestAuthorisation:
    async def test_no_token_is_401_everywhere(self, api: httpx.AsyncClient) -> None:
        for url in (TEMPLATES, f"{TEMPLATES}/variables", OUTREACH, RECORDS, SUPPRESSIONS):
            response = await api.get(url)
            assert response.status_code == 401, url
        assert (await api.post(TEMPLATES, json={})).status_code == 401

    async def test_a_viewer_reads_but_cannot_write(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        viewer = await join(api, owner, "viewer")
        template_url = f"{TEMPLATES}/{outreach['template_id']}"
        outreach_url = f"{OUTREACH}/{outreach['id']}"
        assert (await api.get(template_url, headers=viewer.headers)).status_code == 200
        assert (await api.get(outreach_url, headers=viewer.headers)).status_code == 200
        for response in (
            await create_template(api, viewer, name="Mine"),
            await api.patch(template_url, json={"name": "x"}, headers=viewer.headers),
            await api.delete(template_url, headers=viewer.headers),
            await create_outreach(api, viewer, outreach["template_id"]),
            await api.patch(outreach_url, json={"name": "x"}, headers=viewer.headers),
            await api.delete(outreach_url, headers=viewer.headers),
        ):
            assert response.status_code == 403
            assert "viewer" in response.json()["detail"]

    async def test_an_editor_writes(self, api: httpx.AsyncClient, owner: Account) -> None:
        editor = await join(api, owner, "editor")
        outreach = await an_outreach(api, editor)
        assert (await queue(api, editor, outreach["id"], {"to_email": "a@x.example"})).json()[
            "queued"
        ] == 1

    async def test_another_workspace_gets_404_for_every_verb(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        outreach = await an_outreach(api, owner)
        await queue(api, owner, outreach["id"], {"to_email": "a@x.example"})
        (record,) = (await api.get(RECORDS, headers=owner.headers)).json()["items"]
        template_url = f"{TEMPLATES}/{outreach['template_id']}"
        outreach_url = f"{OUTREACH}/{outreach['id']}"
        for response in (
            await api.get(template_url, headers=stranger.headers),
            await api.patch(template_url, json={"name": "x"}, headers=stranger.headers),
            await api.delete(template_url, headers=stranger.headers),
            await api.get(outreach_url, headers=stranger.headers),
            await api.patch(outreach_url, json={"name": "x"}, headers=stranger.headers),
            await api.delete(outreach_url, headers=stranger.headers),
            await api.get(f"{RECORDS}/{record['id']}", headers=stranger.headers),
        ):
            assert response.status_code == 404
        for url in (
            TEMPLATES,
            OUTREACH,
            RECORDS,
            f"{RECORDS}?outreach_campaign_id={outreach['id']}",
        ):
            assert (await api.get(url, headers=stranger.headers)).json()["items"] == [], url
        assert (await api.get(outreach_url, headers=owner.headers)).json()["name"] == "Spring pitch"

    async def test_an_outreach_campaign_cannot_use_another_workspaces_template(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        theirs = (await create_template(api, stranger)).json()
        assert (await create_outreach(api, owner, theirs["id"])).status_code == 404
        outreach = await an_outreach(api, owner)
        moved = await api.patch(
            f"{OUTREACH}/{outreach['id']}",
            json={"template_id": theirs["id"]},
            headers=owner.headers,
        )
        assert moved.status_code == 404
        assert (await api.get(f"{OUTREACH}/{outreach['id']}", headers=owner.headers)).json()[
            "template_id"
        ] == outreach["template_id"]
