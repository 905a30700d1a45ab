"""SoundCloud users and tracks from the API's full objects and its short, null-ridden forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scraping.errors import MalformedObject
from scraping.objects import SoundCloudTrack, SoundCloudUser, parse_tag_list, parse_timestamp


def full_user(**overrides: Any) -> dict[str, Any]:
    """A user object as ``/users/{id}`` and ``/resolve`` return it."""
    user: dict[str, Any] = {
        "avatar_url": "https://i1.sndcdn.com/avatars-000123456789-abcdef-large.jpg",
        "city": "Berlin",
        "comments_count": 12,
        "country_code": "DE",
        "created_at": "2014-06-12T18:03:44Z",
        "description": "Deep house from Berlin.\nBookings: booking@nightshift-agency.com",
        "followers_count": 48213,
        "followings_count": 311,
        "first_name": "Lena",
        "full_name": "Lena Sommer",
        "id": 123456789,
        "kind": "user",
        "last_modified": "2024-02-28T09:15:00Z",
        "last_name": "Sommer",
        "likes_count": 540,
        "permalink": "lena-sommer",
        "permalink_url": "https://soundcloud.com/lena-sommer",
        "playlist_count": 4,
        "reposts_count": None,
        "track_count": 37,
        "uri": "https://api.soundcloud.com/users/123456789",
        "urn": "soundcloud:users:123456789",
        "username": "Lena Sommer",
        "verified": False,
        "badges": {"pro": False, "pro_unlimited": True, "verified": False},
        "station_urn": "soundcloud:system-playlists:artist-stations:123456789",
    }
    user.update(overrides)
    return user


def full_track(**overrides: Any) -> dict[str, Any]:
    track: dict[str, Any] = {
        "id": 987654321,
        "kind": "track",
        "urn": "soundcloud:tracks:987654321",
        "title": "Nachtfahrt (Original Mix)",
        "permalink_url": "https://soundcloud.com/lena-sommer/nachtfahrt",
        "created_at": "2024-03-01T12:00:00Z",
        "display_date": "2024-03-08T00:00:00Z",
        "duration": 402000,
        "genre": "Deep House",
        "tag_list": 'house "deep house" berlin',
        "description": "Out now on Spree Records",
        "playback_count": 15023,
        "likes_count": 880,
        "reposts_count": 41,
        "comment_count": 17,
        "label_name": "Spree Records",
        "publisher_metadata": {"id": 987654321, "artist": "Lena Sommer"},
        "user_id": 123456789,
        "user": {
            "id": 123456789,
            "kind": "user",
            "permalink": "lena-sommer",
            "username": "Lena Sommer",
            "avatar_url": None,
            "verified": False,
        },
    }
    track.update(overrides)
    return track


class TestUserFromApi:
    def test_a_full_user_keeps_every_field(self) -> None:
        user = SoundCloudUser.from_api(full_user())

        assert user == SoundCloudUser(
            id=123456789,
            permalink="lena-sommer",
            username="Lena Sommer",
            full_name="Lena Sommer",
            city="Berlin",
            country_code="DE",
            description="Deep house from Berlin.\nBookings: booking@nightshift-agency.com",
            avatar_url="https://i1.sndcdn.com/avatars-000123456789-abcdef-large.jpg",
            permalink_url="https://soundcloud.com/lena-sommer",
            followers_count=48213,
            followings_count=311,
            track_count=37,
            verified=False,
            created_at=datetime(2014, 6, 12, 18, 3, 44, tzinfo=UTC),
            last_modified=datetime(2024, 2, 28, 9, 15, tzinfo=UTC),
        )

    def test_a_short_search_result_with_only_identity_parses(self) -> None:
        user = SoundCloudUser.from_api({"id": 42, "permalink": "minimal"})

        assert (user.id, user.permalink, user.username, user.followers_count) == (
            42,
            "minimal",
            None,
            None,
        )
        assert user.verified is False
        assert user.created_at is None

    def test_null_fields_become_none_instead_of_failing(self) -> None:
        nulls = {
            key: None for key in full_user() if key not in {"id", "permalink", "kind", "verified"}
        }

        user = SoundCloudUser.from_api(full_user(**nulls))

        assert user.username is None
        assert user.city is None
        assert user.description is None
        assert user.track_count is None
        assert user.last_modified is None
        assert user.verified is False

    def test_the_urn_names_the_user_for_web_profiles(self) -> None:
        assert SoundCloudUser.from_api(full_user()).urn == "soundcloud:users:123456789"

    def test_a_numeric_string_id_is_accepted(self) -> None:
        assert SoundCloudUser.from_api(full_user(id="123456789")).id == 123456789

    @pytest.mark.parametrize(
        ("city", "expected"),
        [
            ("  Berlin \n", "Berlin"),
            ("", None),
            ("   ", None),
            (7, None),
            ("São Paulo", "São Paulo"),
        ],
    )
    def test_city_is_stripped_and_blank_is_none(self, city: object, expected: str | None) -> None:
        assert SoundCloudUser.from_api(full_user(city=city)).city == expected

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("de", "DE"),
            (" gb ", "GB"),
            ("DEU", None),
            ("D", None),
            ("", None),
            ("1A", None),
            ("ÄÖ", None),
            (276, None),
        ],
    )
    def test_country_code_is_two_upper_case_letters_or_none(
        self, code: object, expected: str | None
    ) -> None:
        assert SoundCloudUser.from_api(full_user(country_code=code)).country_code == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (48213, 48213),
            (0, 0),
            ("1200", 1200),
            (" 7 ", 7),
            (1200.0, 1200),
            (12.5, None),
            (float("nan"), None),
            (True, None),
            (False, None),
            (-3, None),
            ("-3", None),
            ("1.2k", None),
            ([], None),
        ],
    )
    def test_counts_are_non_negative_ints_or_none(self, raw: object, expected: int | None) -> None:
        user = SoundCloudUser.from_api(full_user(followers_count=raw, track_count=raw))

        assert user.followers_count == expected
        assert user.track_count == expected

    @pytest.mark.parametrize(
        ("verified", "badges", "expected"),
        [
            (True, None, True),
            (False, {"verified": True}, True),
            (None, {"pro": True}, False),
            ("true", "verified", False),
        ],
    )
    def test_verified_comes_from_the_flag_or_the_badge(
        self, verified: object, badges: object, expected: bool
    ) -> None:
        user = SoundCloudUser.from_api(full_user(verified=verified, badges=badges))

        assert user.verified is expected

    @pytest.mark.parametrize(
        "username", ["DJ Ünïcødé", "夜の音楽", "🌙 moonwalker 🌙", "Ørsted & Ñandú", "موسيقى"]
    )
    def test_unicode_names_survive_unchanged(self, username: str) -> None:
        user = SoundCloudUser.from_api(full_user(username=username, full_name=username))

        assert (user.username, user.full_name) == (username, username)

    @pytest.mark.parametrize(
        "data",
        [
            pytest.param(full_user(kind="track"), id="a track"),
            pytest.param(full_user(kind="playlist"), id="a playlist"),
            pytest.param({"permalink": "no-id"}, id="missing id"),
            pytest.param(full_user(id=None), id="null id"),
            pytest.param(full_user(id="abc"), id="non-numeric id"),
            pytest.param(full_user(id=0), id="zero id"),
            pytest.param(full_user(id=-5), id="negative id"),
            pytest.param(full_user(id=True), id="boolean id"),
            pytest.param({"id": 1}, id="missing permalink"),
            pytest.param(full_user(permalink=""), id="blank permalink"),
            pytest.param(full_user(permalink=123), id="non-string permalink"),
        ],
    )
    def test_an_object_without_identity_is_malformed(self, data: dict[str, Any]) -> None:
        with pytest.raises(MalformedObject):
            SoundCloudUser.from_api(data)

    @pytest.mark.parametrize("data", [None, [], "user", 42])
    def test_a_non_object_is_malformed(self, data: Any) -> None:
        with pytest.raises(MalformedObject):
            SoundCloudUser.from_api(data)

    def test_a_null_kind_is_read_as_a_user(self) -> None:
        assert SoundCloudUser.from_api(full_user(kind=None)).id == 123456789


class TestTrackFromApi:
    def test_a_full_track_keeps_the_fields_discovery_uses(self) -> None:
        track = SoundCloudTrack.from_api(full_track())

        assert track.id == 987654321
        assert track.title == "Nachtfahrt (Original Mix)"
        assert track.genre == "Deep House"
        assert track.tags == ("house", "deep house", "berlin")
        assert track.created_at == datetime(2024, 3, 1, 12, tzinfo=UTC)
        assert track.display_date == datetime(2024, 3, 8, tzinfo=UTC)
        assert (track.playback_count, track.likes_count) == (15023, 880)
        assert track.user_id == 123456789
        assert track.user is not None
        assert (track.user.id, track.user.permalink) == (123456789, "lena-sommer")

    def test_an_empty_genre_is_none(self) -> None:
        assert SoundCloudTrack.from_api(full_track(genre="")).genre is None

    def test_a_missing_tag_list_gives_no_tags(self) -> None:
        assert SoundCloudTrack.from_api(full_track(tag_list=None)).tags == ()

    def test_an_embedded_user_without_permalink_is_dropped_not_fatal(self) -> None:
        track = SoundCloudTrack.from_api(full_track(user={"id": 5, "username": "short"}))

        assert track.user is None
        assert track.user_id == 123456789

    @pytest.mark.parametrize("user", [None, "lena", [], {"kind": "track", "id": 1}])
    def test_an_unusable_embedded_user_is_none(self, user: object) -> None:
        assert SoundCloudTrack.from_api(full_track(user=user)).user is None

    def test_the_uploader_id_falls_back_to_the_embedded_user(self) -> None:
        track = SoundCloudTrack.from_api(full_track(user_id=None))

        assert track.user_id == 123456789

    def test_a_track_with_only_an_id_parses(self) -> None:
        track = SoundCloudTrack.from_api({"id": 1})

        assert track == SoundCloudTrack(
            id=1,
            title=None,
            permalink_url=None,
            genre=None,
            tags=(),
            created_at=None,
            display_date=None,
            playback_count=None,
            likes_count=None,
            user_id=None,
            user=None,
        )

    @pytest.mark.parametrize(
        "data",
        [
            pytest.param(full_track(kind="user"), id="a user"),
            pytest.param(full_track(id=None), id="null id"),
            pytest.param({"title": "no id"}, id="missing id"),
            pytest.param([], id="not an object"),
        ],
    )
    def test_a_track_without_identity_is_malformed(self, data: Any) -> None:
        with pytest.raises(MalformedObject):
            SoundCloudTrack.from_api(data)


class TestParseTagList:
    @pytest.mark.parametrize(
        ("tag_list", "expected"),
        [
            ('house "deep house" berlin', ["house", "deep house", "berlin"]),
            ('"deep house" "tech house"', ["deep house", "tech house"]),
            ("techno", ["techno"]),
            ("  lots   of\tspace  ", ["lots", "of", "space"]),
            ('"  spaced   out  " tag', ["spaced out", "tag"]),
            ('house "deep house', ["house", "deep house"]),
            ('"" empty', ["empty"]),
            (
                'Drum&Bass "Lo-Fi" 夜 "musique électronique"',
                ["Drum&Bass", "Lo-Fi", "夜", "musique électronique"],
            ),
            ("", []),
            (None, []),
        ],
    )
    def test_splits_on_spaces_and_keeps_quoted_tags_whole(
        self, tag_list: str | None, expected: list[str]
    ) -> None:
        assert parse_tag_list(tag_list) == expected


class TestParseTimestamp:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
            ("2024-03-01T12:00:00.123Z", datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)),
            ("2024-03-01T14:00:00+02:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
            ("2019/05/03 11:22:33 +0000", datetime(2019, 5, 3, 11, 22, 33, tzinfo=UTC)),
            ("2019/05/03 13:22:33 +0200", datetime(2019, 5, 3, 11, 22, 33, tzinfo=UTC)),
            ("2024-03-01T12:00:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ],
    )
    def test_reads_soundcloud_timestamps_as_aware_utc(self, value: str, expected: datetime) -> None:
        parsed = parse_timestamp(value)

        assert parsed == expected
        assert parsed is not None
        assert parsed.utcoffset() is not None
        assert parsed.tzinfo == UTC

    @pytest.mark.parametrize(
        "value",
        [None, "", "   ", "yesterday", "2024-13-45T99:00:00Z", "2019/05/03", 1709294400, []],
    )
    def test_garbage_is_none(self, value: object) -> None:
        assert parse_timestamp(value) is None
