"""/api/v1/artists over real HTTP on Ray Serve: the shared catalogue, each workspace's contacts
and notes, CSV import and export.

The catalogue is shared by every test of the session, so each test makes artists with its own
random SoundCloud ids and a name tag of its own, and searches by that tag.
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.repositories.artists import ArtistRepository
from tests.serve.conftest import Account, fields_of, join

ARTISTS = "/api/v1/artists"


def new_tag() -> str:
    return f"tag{secrets.token_hex(6)}"


def soundcloud_id() -> int:
    return 10**12 + secrets.randbelow(10**15)


async def add_artist(
    api: httpx.AsyncClient, who: Account, tag: str, name: str = "Artist", **fields: Any
) -> dict[str, Any]:
    sc_id = fields.pop("soundcloud_id", None) or soundcloud_id()
    body = {"soundcloud_id": sc_id, "name": f"{name} {tag}", "permalink": f"p{sc_id}", **fields}
    response = await api.post(ARTISTS, json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def search(api: httpx.AsyncClient, who: Account, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(ARTISTS, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def names(api: httpx.AsyncClient, who: Account, **params: Any) -> list[str]:
    return [artist["name"] for artist in await search(api, who, **params)]


def upload(text: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("artists.csv", text.encode(), "text/csv")}


async def import_csv(api: httpx.AsyncClient, who: Account, text: str) -> httpx.Response:
    return await api.post(f"{ARTISTS}/import", files=upload(text), headers=who.headers)


class TestCatalogue:
    async def test_an_editor_adds_an_artist_that_every_workspace_can_find_and_read(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        tag = new_tag()
        created = await add_artist(
            api, owner, tag, genres=["Deep House"], city="Berlin", country="de", followers=1200
        )
        assert (created["genres"], created["country"], created["followers"]) == (
            ["deep house"],
            "DE",
            1200,
        )
        assert [a["id"] for a in await search(api, stranger, q=tag)] == [created["id"]]
        detail = await api.get(f"{ARTISTS}/{created['id']}", headers=stranger.headers)
        assert detail.status_code == 200
        assert (detail.json()["name"], detail.json()["social_profiles"]) == (f"Artist {tag}", [])

    async def test_a_soundcloud_id_already_listed_is_a_409_and_the_listing_is_unchanged(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        tag = new_tag()
        first = await add_artist(api, owner, tag, followers=10)
        again = await api.post(
            ARTISTS,
            json={
                "soundcloud_id": first["soundcloud_id"],
                "name": "Hijacked",
                "permalink": "hijacked",
                "followers": 99,
            },
            headers=stranger.headers,
        )
        assert again.status_code == 409
        kept = (await api.get(f"{ARTISTS}/{first['id']}", headers=owner.headers)).json()
        assert (kept["name"], kept["followers"]) == (f"Artist {tag}", 10)

    async def test_detail_has_social_profiles_and_snapshots_chart_followers(
        self, api: httpx.AsyncClient, owner: Account, engine: AsyncEngine
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        artist_id = uuid.UUID(artist["id"])
        start = datetime(2026, 1, 1, tzinfo=UTC)
        # Discovery writes these; there is no API for them.
        async with AsyncSession(engine, expire_on_commit=False) as session:
            repo = ArtistRepository(session)
            await repo.upsert_social_profiles(
                [{"artist_id": artist_id, "platform": "instagram", "url": "https://ig.example/a"}]
            )
            await repo.add_snapshots(
                {
                    "artist_id": artist_id,
                    "followers": 100 * (day + 1),
                    "tracks": 1,
                    "captured_at": start + timedelta(days=day),
                }
                for day in range(3)
            )
            await session.commit()

        detail = (await api.get(f"{ARTISTS}/{artist_id}", headers=owner.headers)).json()
        assert [(p["platform"], p["url"]) for p in detail["social_profiles"]] == [
            ("instagram", "https://ig.example/a")
        ]
        url = f"{ARTISTS}/{artist_id}/snapshots"
        everything = (await api.get(url, headers=owner.headers)).json()
        assert [s["followers"] for s in everything] == [100, 200, 300]
        recent = await api.get(url, params={"since": "2026-01-02T00:00:00"}, headers=owner.headers)
        assert [s["followers"] for s in recent.json()] == [200, 300]

    async def test_an_unknown_artist_is_a_404_everywhere(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        missing = f"{ARTISTS}/{uuid.uuid4()}"
        for response in (
            await api.get(missing, headers=owner.headers),
            await api.get(f"{missing}/snapshots", headers=owner.headers),
            await api.get(f"{missing}/contacts", headers=owner.headers),
            await api.get(f"{missing}/notes", headers=owner.headers),
            await api.post(
                f"{missing}/contacts", json={"email": "a@b.example"}, headers=owner.headers
            ),
            await api.post(f"{missing}/notes", json={"body": "x"}, headers=owner.headers),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["type"] == "/problems/not-found"


class TestSearch:
    async def test_filters_combine(self, api: httpx.AsyncClient, owner: Account) -> None:
        tag = new_tag()
        await add_artist(
            api, owner, tag, "Solar", genres=["house"], city="Berlin", country="DE",
            followers=5_000, verified=True,
        )  # fmt: skip
        await add_artist(
            api, owner, tag, "Night", genres=["techno"], city="berlin", country="DE",
            followers=50_000,
        )  # fmt: skip
        await add_artist(
            api, owner, tag, "Lunar", genres=["house", "ambient"], city="Lisbon", country="PT",
            followers=500,
        )  # fmt: skip
        cases: list[tuple[dict[str, Any], set[str]]] = [
            ({}, {"Solar", "Night", "Lunar"}),
            ({"genre": "House"}, {"Solar", "Lunar"}),
            ({"city": "BERLIN"}, {"Solar", "Night"}),
            ({"country": "pt"}, {"Lunar"}),
            ({"min_followers": 1_000, "max_followers": 10_000}, {"Solar"}),
            ({"min_followers": 5_000}, {"Solar", "Night"}),
            ({"verified": "true"}, {"Solar"}),
            ({"verified": "false", "genre": "house"}, {"Lunar"}),
        ]
        for params, expected in cases:
            found = await names(api, owner, q=tag, **params)
            assert {name.split()[0] for name in found} == expected, params

    async def test_results_sort_and_page_through_a_cursor(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        tag = new_tag()
        for name, followers in [("Bravo", 30), ("Alpha", 10), ("Echo", 50), ("Delta", 40)]:
            await add_artist(api, owner, tag, name, followers=followers)
        await add_artist(api, owner, tag, "Charlie", followers=20)

        async def every_page(**params: Any) -> list[str]:
            seen: list[str] = []
            cursor = None
            while True:
                query = {"q": tag, "limit": 2, **params, **({"cursor": cursor} if cursor else {})}
                page = (await api.get(ARTISTS, params=query, headers=owner.headers)).json()
                assert len(page["items"]) <= 2
                seen += [artist["name"].split()[0] for artist in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    return seen

        assert await every_page() == ["Echo", "Delta", "Bravo", "Charlie", "Alpha"]
        assert await every_page(sort="name") == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
        assert await every_page(sort="-created_at") == [
            "Charlie", "Delta", "Echo", "Alpha", "Bravo",
        ]  # fmt: skip

    async def test_a_cursor_made_for_another_sort_is_a_422_naming_cursor(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        tag = new_tag()
        for name in ("One", "Two"):
            await add_artist(api, owner, tag, name)
        first = await api.get(ARTISTS, params={"q": tag, "limit": 1}, headers=owner.headers)
        cursor = first.json()["next_cursor"]
        assert cursor is not None
        response = await api.get(
            ARTISTS, params={"q": tag, "cursor": cursor, "sort": "name"}, headers=owner.headers
        )
        assert fields_of(response) == {"cursor"}


class TestValidation:
    async def test_a_follower_range_upside_down_names_both_ends(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        for path in (ARTISTS, f"{ARTISTS}/export"):
            method = api.get if path == ARTISTS else api.post
            response = await method(
                path, params={"min_followers": 10, "max_followers": 5}, headers=owner.headers
            )
            assert fields_of(response) == {"min_followers", "max_followers"}

    async def test_each_bad_search_parameter_is_named(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await api.get(
            ARTISTS,
            params={
                "country": "DEU",
                "min_followers": -1,
                "max_followers": 2**40,
                "verified": "maybe",
                "sort": "email",
                "limit": 0,
            },
            headers=owner.headers,
        )
        assert fields_of(response) == {
            "country", "min_followers", "max_followers", "verified", "sort", "limit",
        }  # fmt: skip

    async def test_each_bad_field_of_a_new_artist_is_named(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await api.post(
            ARTISTS,
            json={"soundcloud_id": 0, "name": "", "country": "Germany", "followers": -1},
            headers=owner.headers,
        )
        assert fields_of(response) == {
            "soundcloud_id", "name", "permalink", "country", "followers",
        }  # fmt: skip

    async def test_bad_contact_and_note_fields_are_named(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}"
        contact = await api.post(
            f"{url}/contacts",
            json={"email": "not an address", "consent_state": "maybe"},
            headers=owner.headers,
        )
        assert fields_of(contact) == {"email", "consent_state"}
        note = await api.post(f"{url}/notes", json={"body": ""}, headers=owner.headers)
        assert fields_of(note) == {"body"}
        made = await api.post(f"{url}/notes", json={"body": "Fine"}, headers=owner.headers)
        nulled = await api.patch(
            f"{url}/notes/{made.json()['id']}", json={"body": None}, headers=owner.headers
        )
        assert fields_of(nulled) == {"body"}


class TestAuthorisation:
    async def test_no_token_is_401(self, api: httpx.AsyncClient) -> None:
        for response in (
            await api.get(ARTISTS),
            await api.get(f"{ARTISTS}/{uuid.uuid4()}"),
            await api.post(ARTISTS, json={}),
            await api.post(f"{ARTISTS}/export"),
        ):
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"

    async def test_a_viewer_reads_and_exports_but_cannot_write(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        tag = new_tag()
        artist = await add_artist(api, owner, tag)
        url = f"{ARTISTS}/{artist['id']}"
        note = await api.post(f"{url}/notes", json={"body": "Hi"}, headers=owner.headers)
        contact = await api.post(
            f"{url}/contacts", json={"email": "v@tag.example"}, headers=owner.headers
        )
        viewer = await join(api, owner, "viewer")

        assert [a["id"] for a in await search(api, viewer, q=tag)] == [artist["id"]]
        assert (await api.get(f"{url}/notes", headers=viewer.headers)).json()["items"][0][
            "body"
        ] == "Hi"
        exported = await api.post(f"{ARTISTS}/export", params={"q": tag}, headers=viewer.headers)
        assert exported.status_code == 201

        for denied in (
            await api.post(
                ARTISTS,
                json={"soundcloud_id": soundcloud_id(), "name": "V", "permalink": "v"},
                headers=viewer.headers,
            ),
            await import_csv(api, viewer, f"soundcloud_id,name,permalink\n{soundcloud_id()},V,v\n"),
            await api.post(
                f"{url}/contacts", json={"email": "x@y.example"}, headers=viewer.headers
            ),
            await api.patch(
                f"{url}/contacts/{contact.json()['id']}",
                json={"consent_state": "granted"},
                headers=viewer.headers,
            ),
            await api.delete(f"{url}/contacts/{contact.json()['id']}", headers=viewer.headers),
            await api.post(f"{url}/notes", json={"body": "x"}, headers=viewer.headers),
            await api.patch(
                f"{url}/notes/{note.json()['id']}", json={"body": "x"}, headers=viewer.headers
            ),
            await api.delete(f"{url}/notes/{note.json()['id']}", headers=viewer.headers),
        ):
            assert denied.status_code == 403, denied.text
            assert "viewer" in denied.json()["detail"]
        assert await names(api, owner, q=tag) == [f"Artist {tag}"]

    async def test_the_shared_catalogue_cannot_be_edited_or_deleted_over_the_api(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}"
        assert (await api.patch(url, json={"name": "x"}, headers=owner.headers)).status_code == 405
        assert (await api.delete(url, headers=owner.headers)).status_code == 405
        assert (await api.get(url, headers=owner.headers)).json()["name"] == artist["name"]


class TestContacts:
    async def test_add_list_change_and_remove_a_contact(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}/contacts"
        added = await api.post(
            url, json={"email": " Booking@Solar.Example ", "source": "web_profile"},
            headers=owner.headers,
        )  # fmt: skip
        assert added.status_code == 201, added.text
        contact = added.json()
        assert (contact["email"], contact["source"], contact["consent_state"]) == (
            "booking@solar.example",
            "web_profile",
            "unknown",
        )
        duplicate = await api.post(
            url, json={"email": "BOOKING@solar.example"}, headers=owner.headers
        )
        assert duplicate.status_code == 409

        patched = await api.patch(
            f"{url}/{contact['id']}", json={"consent_state": "granted"}, headers=owner.headers
        )
        assert patched.json()["consent_state"] == "granted"
        listed = (await api.get(url, headers=owner.headers)).json()["items"]
        assert [(c["email"], c["consent_state"]) for c in listed] == [
            ("booking@solar.example", "granted")
        ]
        detail = await api.get(f"{ARTISTS}/{artist['id']}", headers=owner.headers)
        assert detail.json()["contacts_count"] == 1

        assert (
            await api.delete(f"{url}/{contact['id']}", headers=owner.headers)
        ).status_code == 204
        assert (await api.get(url, headers=owner.headers)).json()["items"] == []
        detail = await api.get(f"{ARTISTS}/{artist['id']}", headers=owner.headers)
        assert detail.json()["contacts_count"] == 0

    async def test_contacts_page_through_a_cursor(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}/contacts"
        for n in range(3):
            await api.post(url, json={"email": f"c{n}@tag.example"}, headers=owner.headers)
        first = (await api.get(url, params={"limit": 2}, headers=owner.headers)).json()
        second = (
            await api.get(
                url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=owner.headers
            )
        ).json()
        emails = [c["email"] for c in first["items"] + second["items"]]
        assert emails == ["c2@tag.example", "c1@tag.example", "c0@tag.example"]
        assert second["next_cursor"] is None

    async def test_another_workspace_sees_none_and_gets_404_for_each_contact(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        other = await add_artist(api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}/contacts"
        contact = (await api.post(url, json={"email": "a@b.example"}, headers=owner.headers)).json()

        assert (await api.get(url, headers=stranger.headers)).json()["items"] == []
        detail = await api.get(f"{ARTISTS}/{artist['id']}", headers=stranger.headers)
        assert detail.json()["contacts_count"] == 0
        one = f"{url}/{contact['id']}"
        wrong_artist = f"{ARTISTS}/{other['id']}/contacts/{contact['id']}"
        for response in (
            await api.patch(one, json={"consent_state": "withdrawn"}, headers=stranger.headers),
            await api.delete(one, headers=stranger.headers),
            await api.patch(
                wrong_artist, json={"consent_state": "withdrawn"}, headers=owner.headers
            ),
            await api.delete(wrong_artist, headers=owner.headers),
        ):
            assert response.status_code == 404
            assert response.json()["detail"] == f"contact {contact['id']} not found"
        kept = (await api.get(url, headers=owner.headers)).json()["items"]
        assert [(c["id"], c["consent_state"]) for c in kept] == [(contact["id"], "unknown")]
        # The same address is the stranger's to add to their own workspace.
        theirs = await api.post(url, json={"email": "a@b.example"}, headers=stranger.headers)
        assert theirs.status_code == 201


class TestNotes:
    async def test_write_list_edit_and_delete_a_note_signed_by_the_caller(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        editor = await join(api, owner, "editor")
        url = f"{ARTISTS}/{artist['id']}/notes"
        mine = (await api.post(url, json={"body": "Loved the EP"}, headers=owner.headers)).json()
        theirs = await api.post(url, json={"body": "Booked for May"}, headers=editor.headers)
        assert theirs.status_code == 201
        assert (mine["author_id"], theirs.json()["author_id"]) == (owner.user_id, editor.user_id)

        edited = await api.patch(
            f"{url}/{mine['id']}", json={"body": "Edited"}, headers=owner.headers
        )
        assert edited.json()["body"] == "Edited"
        listed = (await api.get(url, headers=owner.headers)).json()["items"]
        assert [n["body"] for n in listed] == ["Booked for May", "Edited"]
        detail = await api.get(f"{ARTISTS}/{artist['id']}", headers=owner.headers)
        assert detail.json()["notes_count"] == 2

        assert (await api.delete(f"{url}/{mine['id']}", headers=owner.headers)).status_code == 204
        assert [n["body"] for n in (await api.get(url, headers=owner.headers)).json()["items"]] == [
            "Booked for May"
        ]

    async def test_another_workspace_sees_none_and_gets_404_for_each_note(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}/notes"
        note = (await api.post(url, json={"body": "Private"}, headers=owner.headers)).json()

        assert (await api.get(url, headers=stranger.headers)).json()["items"] == []
        detail = await api.get(f"{ARTISTS}/{artist['id']}", headers=stranger.headers)
        assert detail.json()["notes_count"] == 0
        for response in (
            await api.patch(f"{url}/{note['id']}", json={"body": "x"}, headers=stranger.headers),
            await api.delete(f"{url}/{note['id']}", headers=stranger.headers),
        ):
            assert response.status_code == 404
        assert [n["body"] for n in (await api.get(url, headers=owner.headers)).json()["items"]] == [
            "Private"
        ]


class TestCachedReadsStayCorrect:
    async def test_has_contact_follows_contact_writes_at_once_and_per_workspace(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        tag = new_tag()
        artist = await add_artist(api, owner, tag)
        name = artist["name"]
        # Read first, so that the answers are cached before each write.
        assert await names(api, owner, q=tag, has_contact="true") == []
        assert await names(api, owner, q=tag, has_contact="false") == [name]

        contact = await api.post(
            f"{ARTISTS}/{artist['id']}/contacts",
            json={"email": "x@y.example"},
            headers=owner.headers,
        )
        assert await names(api, owner, q=tag, has_contact="true") == [name]
        assert await names(api, owner, q=tag, has_contact="false") == []
        assert await names(api, stranger, q=tag, has_contact="true") == []
        assert await names(api, stranger, q=tag, has_contact="false") == [name]

        await api.delete(
            f"{ARTISTS}/{artist['id']}/contacts/{contact.json()['id']}", headers=owner.headers
        )
        assert await names(api, owner, q=tag, has_contact="true") == []

    async def test_an_artist_added_by_another_workspace_shows_in_a_cached_search(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        tag = new_tag()
        assert await names(api, stranger, q=tag) == []
        await add_artist(api, owner, tag, "Fresh")
        assert await names(api, stranger, q=tag) == [f"Fresh {tag}"]
        await import_csv(
            api, owner, f"soundcloud_id,name,permalink\n{soundcloud_id()},Imported {tag},i\n"
        )
        assert sorted(await names(api, stranger, q=tag)) == [f"Fresh {tag}", f"Imported {tag}"]

    async def test_a_cached_detail_follows_notes_and_imports(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        tag = new_tag()
        artist = await add_artist(api, owner, tag, followers=1)
        url = f"{ARTISTS}/{artist['id']}"
        assert (await api.get(url, headers=stranger.headers)).json()["followers"] == 1
        assert (await api.get(url, headers=owner.headers)).json()["notes_count"] == 0
        await api.post(f"{url}/notes", json={"body": "n"}, headers=owner.headers)
        assert (await api.get(url, headers=owner.headers)).json()["notes_count"] == 1
        assert (await api.get(url, headers=owner.headers)).json()["contacts_count"] == 0
        await import_csv(
            api,
            owner,
            f"soundcloud_id,name,permalink,email\n{artist['soundcloud_id']},A,p,m@x.example\n",
        )
        assert (await api.get(url, headers=owner.headers)).json()["contacts_count"] == 1


class TestAuditLog:
    async def test_every_artist_write_leaves_an_audit_row(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        artist = await add_artist(api, owner, new_tag())
        url = f"{ARTISTS}/{artist['id']}"
        contact = (
            await api.post(f"{url}/contacts", json={"email": "a@b.example"}, headers=owner.headers)
        ).json()
        await api.patch(
            f"{url}/contacts/{contact['id']}",
            json={"consent_state": "granted"},
            headers=owner.headers,
        )
        await api.delete(f"{url}/contacts/{contact['id']}", headers=owner.headers)
        note = (await api.post(f"{url}/notes", json={"body": "x"}, headers=owner.headers)).json()
        await api.patch(f"{url}/notes/{note['id']}", json={"body": "y"}, headers=owner.headers)
        await api.delete(f"{url}/notes/{note['id']}", headers=owner.headers)
        await import_csv(api, owner, f"soundcloud_id,name,permalink\n{soundcloud_id()},I,i\n")
        tag = new_tag()
        export = await api.post(f"{ARTISTS}/export", params={"q": tag}, headers=owner.headers)

        audit = await api.get(
            "/api/v1/audit-log", params={"entity_type": "artist"}, headers=owner.headers
        )
        rows = audit.json()["items"]
        assert sorted(row["action"] for row in rows) == sorted(
            [
                "artist.create", "artist.contact_add", "artist.contact_update",
                "artist.contact_delete", "artist.note_add", "artist.note_update",
                "artist.note_delete", "artist.import",
            ]
        )  # fmt: skip
        assert {row["actor_user_id"] for row in rows} == {owner.user_id}
        assert {row["entity_id"] for row in rows if row["action"] != "artist.import"} == {
            artist["id"]
        }
        imported = next(row for row in rows if row["action"] == "artist.import")
        assert (imported["data"]["rows"], imported["data"]["inserted"]) == (1, 1)
        exports = await api.get(
            "/api/v1/audit-log", params={"action": "artist.export"}, headers=owner.headers
        )
        [exported] = exports.json()["items"]
        assert (exported["entity_id"], exported["data"]["filters"]) == (
            export.json()["id"],
            {"text": tag, "sort": "-followers"},
        )


class TestCsvImport:
    async def test_good_rows_are_imported_and_a_bad_row_is_reported_and_skipped(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        tag = new_tag()
        ids = [soundcloud_id() for _ in range(3)]
        text = (
            "soundcloud_id,name,permalink,genres,country,followers,verified,email\n"
            f"{ids[0]},Good {tag},good,House; Techno,de,1200,yes,Booking@Good.example\n"
            f"{ids[1]},Bad {tag},bad,,,many,,not-an-address\n"
            f"{ids[2]},Plain {tag},plain,,,,,\n"
        )
        response = await import_csv(api, owner, text)
        assert response.status_code == 200, response.text
        result = response.json()
        assert {
            k: result[k] for k in ("rows", "inserted", "existing", "skipped", "contacts_added")
        } == {"rows": 3, "inserted": 2, "existing": 0, "skipped": 1, "contacts_added": 1}
        assert {(e["row"], e["field"]) for e in result["errors"]} == {
            (3, "followers"),
            (3, "email"),
        }

        found = {a["name"]: a for a in await search(api, owner, q=tag)}
        assert set(found) == {f"Good {tag}", f"Plain {tag}"}
        good = found[f"Good {tag}"]
        assert (good["genres"], good["country"], good["followers"], good["verified"]) == (
            ["house", "techno"],
            "DE",
            1200,
            True,
        )
        contacts = await api.get(f"{ARTISTS}/{good['id']}/contacts", headers=owner.headers)
        assert [(c["email"], c["source"]) for c in contacts.json()["items"]] == [
            ("booking@good.example", "import")
        ]
        assert await names(api, owner, q=tag, has_contact="true") == [f"Good {tag}"]

    async def test_a_listed_artist_is_left_as_it_is_even_by_the_workspace_that_added_it(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        # The catalogue is shared: like POST's 409, a file may add artists but not change one.
        tag = new_tag()
        artist = await add_artist(
            api, owner, tag, city="Lisbon", followers=777, description="Keeps this"
        )
        response = await import_csv(
            api,
            owner,
            f"soundcloud_id,name,permalink\n{artist['soundcloud_id']},Renamed {tag},renamed\n",
        )
        assert (response.json()["inserted"], response.json()["existing"]) == (0, 1)
        after = (await api.get(f"{ARTISTS}/{artist['id']}", headers=owner.headers)).json()
        assert (after["name"], after["city"], after["followers"], after["description"]) == (
            artist["name"],
            "Lisbon",
            777,
            "Keeps this",
        )

    async def test_a_file_without_the_required_columns_is_a_422_naming_file(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        missing_column = await import_csv(api, owner, "soundcloud_id,name\n1,A\n")
        assert fields_of(missing_column) == {"file"}
        assert "permalink" in missing_column.json()["detail"]
        not_text = await api.post(
            f"{ARTISTS}/import",
            files={"file": ("a.csv", b"\xff\xfe\x00bad", "text/csv")},
            headers=owner.headers,
        )
        assert fields_of(not_text) == {"file"}
        no_file = await api.post(f"{ARTISTS}/import", headers=owner.headers)
        assert fields_of(no_file) == {"file"}


def parse(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


class TestCsvExport:
    async def test_an_export_downloads_and_re_imports_to_the_same_catalogue(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        tag = new_tag()
        ids = [soundcloud_id() for _ in range(3)]
        text = (
            "soundcloud_id,name,permalink,username,permalink_url,genres,city,country,"
            "followers,tracks,verified,email\n"
            f'{ids[0]},"=SUM(A1) {tag}",sum,user0,https://sc.example/sum,deep house;techno,'
            f"Berlin,DE,5000,12,true,a@x.example;b@x.example\n"
            f'{ids[1]},"-Dash, ""the"" Ørsted {tag}",dash,,,,,,40,0,false,\n'
            f"{ids[2]},@Mention {tag},mention,,,ambient,Lisbon,PT,300,3,false,c@x.example\n"
        )
        assert (await import_csv(api, owner, text)).json()["errors"] == []
        before = {a["soundcloud_id"]: a for a in await search(api, owner, q=tag)}
        assert len(before) == 3

        exported = await api.post(
            f"{ARTISTS}/export", params={"q": tag, "sort": "name"}, headers=owner.headers
        )
        assert exported.status_code == 201, exported.text
        export = exported.json()
        assert export["rows"] == 3
        download = await api.get(export["download_url"], headers=owner.headers)
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        rows = parse(download.content)
        by_name = await search(api, owner, q=tag, sort="name")
        assert [row["soundcloud_id"] for row in rows] == [str(a["soundcloud_id"]) for a in by_name]
        # Formula-like cells are defused for spreadsheets...
        assert {row["soundcloud_id"]: row["name"] for row in rows}[str(ids[1])] == (
            f'\'-Dash, "the" Ørsted {tag}'
        )
        assert {row["soundcloud_id"]: row["email"] for row in rows}[str(ids[0])] == (
            "a@x.example;b@x.example"
        )
        stranger_download = await api.get(export["download_url"], headers=stranger.headers)
        assert stranger_download.status_code == 404

        # A file naming listed artists changes nothing; re-importing the export neither.
        vandal = "soundcloud_id,name,permalink,genres,city,followers,verified\n" + "".join(
            f"{i},Changed {tag},changed,pop,Paris,1,true\n" for i in ids
        )
        assert (await import_csv(api, owner, vandal)).json()["existing"] == 3
        again = await api.post(
            f"{ARTISTS}/import",
            files={"file": (export["filename"], download.content, "text/csv")},
            headers=owner.headers,
        )
        assert again.status_code == 200, again.text
        assert {k: again.json()[k] for k in ("rows", "inserted", "existing", "errors")} == {
            "rows": 3,
            "inserted": 0,
            "existing": 3,
            "errors": [],
        }
        after = {a["soundcloud_id"]: a for a in await search(api, owner, q=tag)}

        def catalogue(artist: dict[str, Any]) -> dict[str, Any]:
            # ... and read back as they were.
            return {k: v for k, v in artist.items() if k != "updated_at"}

        assert {i: catalogue(a) for i, a in after.items()} == {
            i: catalogue(a) for i, a in before.items()
        }

    async def test_the_stranger_re_importing_an_export_gets_its_contacts(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        tag = new_tag()
        artist = await add_artist(api, owner, tag)
        await api.post(
            f"{ARTISTS}/{artist['id']}/contacts",
            json={"email": "m@x.example"},
            headers=owner.headers,
        )
        export = (
            await api.post(f"{ARTISTS}/export", params={"q": tag}, headers=owner.headers)
        ).json()
        data = (await api.get(export["download_url"], headers=owner.headers)).content
        assert await names(api, stranger, q=tag, has_contact="true") == []
        result = await import_csv(api, stranger, data.decode())
        assert result.json()["contacts_added"] == 1
        assert await names(api, stranger, q=tag, has_contact="true") == [artist["name"]]

    async def test_an_export_that_finds_nothing_is_a_header_only_file(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        export = (
            await api.post(f"{ARTISTS}/export", params={"q": new_tag()}, headers=owner.headers)
        ).json()
        assert export["rows"] == 0
        data = (await api.get(export["download_url"], headers=owner.headers)).content
        assert data.decode().splitlines() == [
            "soundcloud_id,name,permalink,username,permalink_url,genres,city,country,followers,"
            "tracks,verified,email"
        ]
