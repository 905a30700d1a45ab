"""The shared artist catalogue: batch upsert, search, social profiles, snapshots; and each
workspace's contacts and notes on artists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ConsentState, ContactSource, SocialPlatform
from core.errors import Conflict, InvalidInput, NotFound
from storage.repositories.artists import ArtistFilter, ArtistRepository
from storage.repositories.contacts import ArtistContactRepository
from storage.repositories.notes import ArtistNoteRepository
from tests.factories import make_artist, make_user, make_workspace


def record(soundcloud_id: int, **fields: object) -> dict[str, object]:
    return {
        "soundcloud_id": soundcloud_id,
        "name": f"A{soundcloud_id}",
        "permalink": f"a{soundcloud_id}",
        **fields,
    }


class TestUpsert:
    async def test_new_artists_are_inserted_and_known_ones_refreshed(
        self, session: AsyncSession
    ) -> None:
        repo = ArtistRepository(session)
        first = await repo.upsert_many([record(1, followers=10), record(2, followers=20)])
        assert (first.inserted, first.updated) == (2, 0)

        second = await repo.upsert_many([record(2, followers=25, name="Renamed"), record(3)])
        assert (second.inserted, second.updated) == (1, 1)
        assert second.ids[2] == first.ids[2]
        refreshed = await repo.get(first.ids[2])
        assert (refreshed.name, refreshed.followers) == ("Renamed", 25)

    async def test_a_batch_that_repeats_an_artist_keeps_the_last_version(
        self, session: AsyncSession
    ) -> None:
        repo = ArtistRepository(session)
        result = await repo.upsert_many([record(7, followers=1), record(7, followers=2)])
        assert (result.inserted, len(result.ids)) == (1, 1)
        assert (await repo.get(result.ids[7])).followers == 2

    async def test_upsert_normalises_genres_country_and_missing_counts(
        self, session: AsyncSession
    ) -> None:
        repo = ArtistRepository(session)
        result = await repo.upsert_many(
            [
                record(
                    8,
                    genres=["Deep House", "deep  house", "Techno", ""],
                    country="de",
                    followers=None,
                    tracks=None,
                    city="Berlin",
                    verified=None,
                )
            ]
        )
        artist = await repo.get(result.ids[8])
        assert (
            artist.genres,
            artist.country,
            artist.followers,
            artist.tracks,
            artist.verified,
        ) == (
            ["deep house", "techno"],
            "DE",
            0,
            0,
            False,
        )

    async def test_a_large_batch_is_written_in_chunks(self, session: AsyncSession) -> None:
        repo = ArtistRepository(session)
        result = await repo.upsert_many(record(100_000 + n) for n in range(2_500))
        assert (result.inserted, len(result.ids)) == (2_500, 2_500)
        page = await repo.search(ArtistFilter(soundcloud_ids=[100_000, 102_499]))
        assert {a.soundcloud_id for a in page.items} == {100_000, 102_499}

    async def test_unicode_names_survive(self, session: AsyncSession) -> None:
        repo = ArtistRepository(session)
        result = await repo.upsert_many([record(9, name="Ólafur Ärnalds 🎹", city="Reykjavík")])
        assert (await repo.get(result.ids[9])).name == "Ólafur Ärnalds 🎹"

    async def test_an_empty_batch_does_nothing(self, session: AsyncSession) -> None:
        result = await ArtistRepository(session).upsert_many([])
        assert (result.inserted, result.updated, result.ids) == (0, 0, {})


class TestSearch:
    async def _catalogue(self, session: AsyncSession) -> ArtistRepository:
        repo = ArtistRepository(session)
        await repo.upsert_many(
            [
                record(
                    201,
                    name="Solar Drift",
                    genres=["house"],
                    city="Berlin",
                    country="DE",
                    followers=5_000,
                    verified=True,
                ),
                record(
                    202,
                    name="Night_Shift 100%",
                    genres=["techno"],
                    city="berlin",
                    country="DE",
                    followers=50_000,
                ),
                record(
                    203,
                    name="Lunar Tide",
                    genres=["house", "ambient"],
                    city="Lisbon",
                    country="PT",
                    followers=500,
                ),
            ]
        )
        return repo

    @pytest.mark.parametrize(
        ("criteria", "expected"),
        [
            (ArtistFilter(text="solar"), {201}),
            (ArtistFilter(text="_shift 100%"), {202}),
            (ArtistFilter(text="%"), {202}),
            (ArtistFilter(genre="House"), {201, 203}),
            (ArtistFilter(city="BERLIN"), {201, 202}),
            (ArtistFilter(country="pt"), {203}),
            (ArtistFilter(min_followers=1_000, max_followers=10_000), {201}),
            (ArtistFilter(verified=True), {201}),
            (ArtistFilter(genre="house", country="DE"), {201}),
        ],
    )
    async def test_filters_combine(
        self, session: AsyncSession, criteria: ArtistFilter, expected: set[int]
    ) -> None:
        repo = await self._catalogue(session)
        scoped = ArtistFilter(**{**criteria.__dict__, "soundcloud_ids": [201, 202, 203]})
        found = await repo.search(scoped)
        assert {a.soundcloud_id for a in found.items} == expected

    async def test_results_sort_by_followers_or_name(self, session: AsyncSession) -> None:
        repo = await self._catalogue(session)
        ids = ArtistFilter(soundcloud_ids=[201, 202, 203])
        assert [a.soundcloud_id for a in (await repo.search(ids)).items] == [202, 201, 203]
        assert [a.name for a in (await repo.search(ids, sort="name")).items] == [
            "Lunar Tide",
            "Night_Shift 100%",
            "Solar Drift",
        ]

    async def test_an_unknown_sort_field_names_the_allowed_ones(
        self, session: AsyncSession
    ) -> None:
        with pytest.raises(
            InvalidInput,
            match="sortable fields: created_at, followers, growth_30d, growth_7d, name",
        ):
            await ArtistRepository(session).search(sort="-password")

    async def test_has_contact_is_judged_per_workspace(self, session: AsyncSession) -> None:
        repo = await self._catalogue(session)
        mine, theirs = await make_workspace(session), await make_workspace(session)
        solar = await repo.find_by_soundcloud_id(201)
        assert solar is not None
        await ArtistContactRepository(session, mine.id).add(
            artist_id=solar.id, email="solar@drift.example", source=ContactSource.DESCRIPTION
        )
        ids = [201, 202, 203]
        with_contact = await repo.search(
            ArtistFilter(has_contact=True, workspace_id=mine.id, soundcloud_ids=ids)
        )
        without = await repo.search(
            ArtistFilter(has_contact=False, workspace_id=mine.id, soundcloud_ids=ids)
        )
        other = await repo.search(
            ArtistFilter(has_contact=True, workspace_id=theirs.id, soundcloud_ids=ids)
        )
        assert [a.soundcloud_id for a in with_contact.items] == [201]
        assert {a.soundcloud_id for a in without.items} == {202, 203}
        assert other.items == []


class TestProfilesAndSnapshots:
    async def test_social_profiles_are_upserted_by_url(self, session: AsyncSession) -> None:
        artist = await make_artist(session)
        repo = ArtistRepository(session)
        url = "https://instagram.com/solar"
        await repo.upsert_social_profiles(
            [{"artist_id": artist.id, "platform": "instagram", "url": url, "followers_count": 10}]
        )
        await repo.upsert_social_profiles(
            [
                {"artist_id": artist.id, "platform": "instagram", "url": url, "username": "solar"},
                {
                    "artist_id": artist.id,
                    "platform": "bandcamp",
                    "url": "https://solar.bandcamp.com",
                },
            ]
        )
        loaded = await repo.get(artist.id, with_profiles=True)
        by_platform = {p.platform: p for p in loaded.social_profiles}
        assert set(by_platform) == {SocialPlatform.INSTAGRAM, SocialPlatform.BANDCAMP}
        assert (
            by_platform[SocialPlatform.INSTAGRAM].username,
            by_platform[SocialPlatform.INSTAGRAM].followers_count,
        ) == ("solar", 10)

    async def test_profiles_are_not_loaded_unless_asked(self, session: AsyncSession) -> None:
        from sqlalchemy.exc import InvalidRequestError

        artist = await ArtistRepository(session).get((await make_artist(session)).id)
        session.expunge(artist)
        with pytest.raises(InvalidRequestError):
            _ = artist.social_profiles

    async def test_snapshots_chart_growth_and_ignore_repeats(self, session: AsyncSession) -> None:
        artist = await make_artist(session)
        repo = ArtistRepository(session)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        snaps = [
            {
                "artist_id": artist.id,
                "followers": 100 * (d + 1),
                "tracks": 3,
                "captured_at": start + timedelta(days=d),
            }
            for d in range(3)
        ]
        assert await repo.add_snapshots(snaps) == 3
        assert await repo.add_snapshots(snaps[:1]) == 0
        history = await repo.snapshots(artist.id, since=start + timedelta(days=1))
        assert [s.followers for s in history] == [200, 300]

    async def test_deleting_an_artist_removes_its_profiles_and_snapshots(
        self, session: AsyncSession
    ) -> None:
        artist = await make_artist(session)
        repo = ArtistRepository(session)
        await repo.add_snapshots([{"artist_id": artist.id, "followers": 1, "tracks": 1}])
        await repo.delete(artist.id)
        with pytest.raises(NotFound):
            await repo.get(artist.id)
        assert await repo.snapshots(artist.id) == []


class TestContactsAndNotes:
    async def test_a_contact_is_stored_normalised_and_only_once(
        self, session: AsyncSession
    ) -> None:
        workspace, artist = await make_workspace(session), await make_artist(session)
        repo = ArtistContactRepository(session, workspace.id)
        contact = await repo.add(
            artist_id=artist.id, email=" Booking@Solar.Example", source=ContactSource.MANUAL
        )
        assert (contact.email, contact.consent_state) == (
            "booking@solar.example",
            ConsentState.UNKNOWN,
        )
        with pytest.raises(Conflict):
            await repo.add(
                artist_id=artist.id, email="booking@solar.example", source=ContactSource.IMPORT
            )
        assert [c.id for c in (await repo.for_artist(artist.id)).items] == [contact.id]

    async def test_found_contacts_never_overwrite_the_teams_consent(
        self, session: AsyncSession
    ) -> None:
        workspace, artist = await make_workspace(session), await make_artist(session)
        repo = ArtistContactRepository(session, workspace.id)
        contact = await repo.add(
            artist_id=artist.id,
            email="a@solar.example",
            source=ContactSource.MANUAL,
            consent_state=ConsentState.WITHDRAWN,
        )
        added = await repo.add_found(
            [
                {"artist_id": artist.id, "email": "A@solar.example", "source": "description"},
                {"artist_id": artist.id, "email": "b@solar.example", "source": "link_in_bio"},
            ]
        )
        assert added == 1
        assert (await repo.get(contact.id)).consent_state is ConsentState.WITHDRAWN

    async def test_notes_are_kept_per_artist(self, session: AsyncSession) -> None:
        author = await make_user(session)
        workspace = await make_workspace(session, owner=author)
        first, second = await make_artist(session), await make_artist(session)
        repo = ArtistNoteRepository(session, workspace.id)
        note = await repo.add(artist_id=first.id, author_id=author.id, body="Loved the EP")
        await repo.add(artist_id=second.id, author_id=author.id, body="Other")
        assert [n.body for n in (await repo.for_artist(first.id)).items] == ["Loved the EP"]
        assert (await repo.update(note.id, {"body": "Edited"})).body == "Edited"

    async def test_a_note_on_an_unknown_artist_is_not_found(self, session: AsyncSession) -> None:
        import uuid

        workspace = await make_workspace(session)
        with pytest.raises(NotFound):
            await ArtistNoteRepository(session, workspace.id).add(
                artist_id=uuid.uuid4(), author_id=None, body="x"
            )


class TestAddMissing:
    async def test_listed_artists_are_left_as_they_are_and_new_ones_are_added(
        self, session: AsyncSession
    ) -> None:
        repo = ArtistRepository(session)
        first = await repo.upsert_many(
            [record(301, city="Berlin", followers=900, description="Keep", genres=["house"])]
        )
        result = await repo.add_missing(
            [
                record(301, name="Renamed", followers=5),
                record(302, city="Oslo"),
                record(302, city="Later"),
            ]
        )
        assert (result.inserted, result.ids[301]) == (frozenset({302}), first.ids[301])
        known = await repo.get(first.ids[301])
        assert (known.name, known.city, known.followers, known.description, known.genres) == (
            "A301",
            "Berlin",
            900,
            "Keep",
            ["house"],
        )
        new = await repo.get(result.ids[302])
        assert (new.city, new.followers, new.genres) == ("Oslo", 0, [])


class TestBatchesPastTheParameterLimit:
    """asyncpg binds at most 32,767 values a statement; a batch of any size still lands."""

    async def test_artists_and_their_contacts_are_added_in_any_number(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        records = [record(10_000 + i) for i in range(6000)]
        added = await ArtistRepository(session).add_missing(records)
        assert len(added.inserted) == 6000
        refreshed = await ArtistRepository(session).upsert_many(records[:3000])
        assert (refreshed.inserted, refreshed.updated) == (0, 3000)
        contacts = await ArtistContactRepository(session, workspace.id).add_many(
            [(artist_id, f"a{sc_id}@x.example") for sc_id, artist_id in added.ids.items()],
            source=ContactSource.IMPORT,
        )
        assert contacts == 6000


class TestContactAndNoteLookups:
    async def test_contacts_are_added_in_bulk_once_and_listed_per_artist(
        self, session: AsyncSession
    ) -> None:
        workspace, other = await make_workspace(session), await make_workspace(session)
        first, second = await make_artist(session), await make_artist(session)
        repo = ArtistContactRepository(session, workspace.id)
        added = await repo.add_many(
            [(first.id, "B@x.example"), (first.id, "a@x.example"), (second.id, "c@x.example")],
            source=ContactSource.IMPORT,
        )
        again = await repo.add_many([(first.id, "b@x.example")], source=ContactSource.IMPORT)
        await ArtistContactRepository(session, other.id).add_many(
            [(first.id, "theirs@x.example")], source=ContactSource.MANUAL
        )
        assert (added, again) == (3, 0)
        assert await repo.emails_by_artist([first.id, second.id]) == {
            first.id: ["a@x.example", "b@x.example"],
            second.id: ["c@x.example"],
        }
        assert await repo.count_for_artist(first.id) == 2
        contact = (await repo.for_artist(second.id)).items[0]
        assert (contact.source, contact.consent_state) == (
            ContactSource.IMPORT,
            ConsentState.UNKNOWN,
        )

    async def test_a_bad_address_in_a_batch_is_refused(self, session: AsyncSession) -> None:
        workspace, artist = await make_workspace(session), await make_artist(session)
        with pytest.raises(InvalidInput):
            await ArtistContactRepository(session, workspace.id).add_many(
                [(artist.id, "nope")], source=ContactSource.IMPORT
            )

    async def test_a_changed_email_is_normalised(self, session: AsyncSession) -> None:
        workspace, artist = await make_workspace(session), await make_artist(session)
        repo = ArtistContactRepository(session, workspace.id)
        contact = await repo.add(
            artist_id=artist.id, email="a@x.example", source=ContactSource.MANUAL
        )
        changed = await repo.update(contact.id, {"email": " New@X.Example "})
        assert changed.email == "new@x.example"

    async def test_a_row_is_found_only_under_its_artist_and_workspace(
        self, session: AsyncSession
    ) -> None:
        author = await make_user(session)
        workspace, other = (
            await make_workspace(session, owner=author),
            await make_workspace(session),
        )
        artist, elsewhere = await make_artist(session), await make_artist(session)
        contacts = ArtistContactRepository(session, workspace.id)
        notes = ArtistNoteRepository(session, workspace.id)
        contact = await contacts.add(
            artist_id=artist.id, email="a@x.example", source=ContactSource.MANUAL
        )
        note = await notes.add(artist_id=artist.id, author_id=author.id, body="x")
        assert (await contacts.get_for_artist(artist.id, contact.id)).id == contact.id
        assert (await notes.get_for_artist(artist.id, note.id)).id == note.id
        assert await notes.count_for_artist(artist.id) == 1
        for lookup in (
            contacts.get_for_artist(elsewhere.id, contact.id),
            notes.get_for_artist(elsewhere.id, note.id),
            ArtistContactRepository(session, other.id).get_for_artist(artist.id, contact.id),
            ArtistNoteRepository(session, other.id).get_for_artist(artist.id, note.id),
        ):
            with pytest.raises(NotFound):
                await lookup
        assert await ArtistNoteRepository(session, other.id).count_for_artist(artist.id) == 0
