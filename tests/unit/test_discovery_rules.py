"""The discovery query's validation, seed URLs and the scoring rule (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from core.discovery import Candidate, DiscoveryQuery, matches, score, seed_permalink
from core.errors import InvalidInput

NOW = datetime(2026, 11, 26, tzinfo=UTC)
WEB = "https://soundcloud.com"


def candidate(**fields: object) -> Candidate:
    values: dict[str, object] = {
        "followers": 1000,
        "tracks": 10,
        "verified": False,
        "has_email": False,
        "has_profiles": False,
        "last_track_at": NOW - timedelta(days=10),
        "city": "Berlin",
        "country": "DE",
    }
    values.update(fields)
    return Candidate(**values)  # type: ignore[arg-type]


class TestQueryValidation:
    def test_a_query_needs_somewhere_to_start(self) -> None:
        with pytest.raises(ValidationError, match="terms, genres, tags, seed_artists or city"):
            DiscoveryQuery(min_followers=5)

    def test_a_city_alone_is_searched_by_name(self) -> None:
        assert DiscoveryQuery(city="  Berlin ").search_terms == ["Berlin"]
        assert DiscoveryQuery(city="Berlin", terms=["dub"]).search_terms == ["dub"]

    def test_follower_bounds_must_be_in_order(self) -> None:
        with pytest.raises(ValidationError, match="min_followers"):
            DiscoveryQuery(terms=["x"], min_followers=10, max_followers=5)

    def test_country_is_an_upper_case_two_letter_code(self) -> None:
        assert DiscoveryQuery(terms=["x"], country="de").country == "DE"
        with pytest.raises(ValidationError, match="country"):
            DiscoveryQuery(terms=["x"], country="D1")

    def test_repeated_and_blank_words_are_dropped(self) -> None:
        query = DiscoveryQuery(terms=["deep  house", "deep house", " "], tags=["Lo-Fi"])
        assert query.terms == ["deep house"]
        assert query.tags == ["Lo-Fi"]

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="surprise"):
            DiscoveryQuery.model_validate({"terms": ["x"], "surprise": 1})


class TestSeeds:
    @pytest.mark.parametrize(
        ("seed", "permalink"),
        [
            ("https://soundcloud.com/Some-Artist", "some-artist"),
            ("https://www.soundcloud.com/some_artist/tracks", "some_artist"),
            ("some-artist", "some-artist"),
            ("/some-artist/", "some-artist"),
        ],
    )
    def test_profile_urls_and_permalinks_are_accepted(self, seed: str, permalink: str) -> None:
        assert seed_permalink(seed, WEB) == permalink

    @pytest.mark.parametrize(
        "seed",
        [
            "http://169.254.169.254/latest/meta-data",
            "https://evil.example/some-artist",
            "ftp://soundcloud.com/some-artist",
            "https://soundcloud.com.evil.example/x",
        ],
    )
    def test_urls_on_other_hosts_are_refused(self, seed: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            seed_permalink(seed, WEB)
        assert raised.value.problems[0].field == "seed_artists"

    @pytest.mark.parametrize("seed", ["", "https://soundcloud.com/", "discover", "a b", "ü"])
    def test_what_is_not_a_profile_is_refused(self, seed: str) -> None:
        with pytest.raises(InvalidInput):
            seed_permalink(seed, WEB)

    def test_the_allowed_host_follows_the_configured_site(self) -> None:
        assert seed_permalink("http://127.0.0.1:8765/abc", "http://127.0.0.1:8765") == "abc"
        with pytest.raises(InvalidInput):
            seed_permalink("https://soundcloud.com/abc", "http://127.0.0.1:8765")


class TestFilters:
    def test_an_artist_inside_every_filter_matches(self) -> None:
        query = DiscoveryQuery(
            terms=["x"],
            city="berlin",
            country="DE",
            min_followers=500,
            max_followers=5000,
            active_within_days=30,
        )
        assert matches(query, candidate(), now=NOW)

    @pytest.mark.parametrize(
        ("fields", "changes"),
        [
            ({"min_followers": 5000}, {}),
            ({"max_followers": 10}, {}),
            ({"max_followers": 10}, {"followers": None}),
            ({"country": "FR"}, {}),
            ({"city": "Paris"}, {}),
            ({"active_within_days": 5}, {}),
            ({"active_within_days": 5}, {"last_track_at": None}),
        ],
    )
    def test_an_artist_outside_one_filter_does_not(
        self, fields: dict[str, object], changes: dict[str, object]
    ) -> None:
        query = DiscoveryQuery.model_validate({"terms": ["x"], **fields})
        assert not matches(query, candidate(**changes), now=NOW)


class TestScore:
    def test_a_way_to_get_in_touch_outranks_reach_alone(self) -> None:
        reachable = score(candidate(followers=2_000, has_email=True), now=NOW)
        famous = score(candidate(followers=200_000), now=NOW)
        assert reachable > famous

    def test_recent_activity_counts(self) -> None:
        active = score(candidate(), now=NOW)
        silent = score(candidate(last_track_at=NOW - timedelta(days=800)), now=NOW)
        assert active > silent

    def test_scores_stay_between_0_and_100(self) -> None:
        best = candidate(
            followers=10**9, tracks=500, verified=True, has_email=True, has_profiles=True,
            last_track_at=NOW,
        )  # fmt: skip
        worst = candidate(followers=None, tracks=None, last_track_at=None)
        assert score(best, now=NOW) == 100
        assert score(worst, now=NOW) == 0
