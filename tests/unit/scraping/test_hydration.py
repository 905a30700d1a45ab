"""Reading SoundCloud pages: hydration, script bundles and the API client id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scraping.errors import MalformedObject, MalformedPage
from scraping.hydration import (
    client_id_from_hydration,
    client_id_from_script,
    parse_hydration,
    script_urls,
    user_from_page,
)

CLIENT_ID = "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF"

PROFILE_USER: dict[str, Any] = {
    "avatar_url": "https://i1.sndcdn.com/avatars-000555-xyz-large.jpg",
    "city": "Tokyo ",
    "country_code": "jp",
    "created_at": "2016-01-20T08:30:00Z",
    # "</" in a string is why SoundCloud escapes it; a raw one would end the <script>.
    "description": "夜の音楽 🌙 <b>live</b> sets\nBookings: yoru [at] nightowl [dot] jp",
    "followers_count": 9120,
    "followings_count": 87,
    "full_name": "夜 Yoru",
    "id": 555000111,
    "kind": "user",
    "last_modified": "2024-01-05T10:00:00Z",
    "permalink": "yoru-music",
    "permalink_url": "https://soundcloud.com/yoru-music",
    "track_count": 23,
    "username": "YORU 夜",
    "verified": False,
    "badges": {"pro": True, "pro_unlimited": False, "verified": True},
}


def hydration_json(entries: list[dict[str, Any]]) -> str:
    # What the page's server does: "</" inside strings is written as "<\/" so no string can
    # close the <script> element early.
    return json.dumps(entries, ensure_ascii=False).replace("</", "<\\/")


def profile_entries(user: object = PROFILE_USER) -> list[dict[str, Any]]:
    return [
        {"hydratable": "anonymousId", "data": "748392-104857-382910-573829"},
        {
            "hydratable": "features",
            "data": {"features": ["v2_use_onetrust_tcfv2", "mobi_use_new_player", "cookie_banner"]},
        },
        {
            "hydratable": "experiments",
            "data": {"listening_layer": {"variant": "b"}, "search_ranking": None},
        },
        {
            "hydratable": "geoip",
            "data": {"country_code": "DE", "country_name": "Germany", "region": "BE"},
        },
        {"hydratable": "privacySettings", "data": {"allows_messages_from_unfollowed_users": True}},
        {"hydratable": "apiClient", "data": {"id": CLIENT_ID, "isExpiring": False}},
        {"hydratable": "user", "data": user},
    ]


def profile_page(hydration: str | None = None, *, separator: str = " ") -> str:
    """A profile page laid out the way soundcloud.com serves one."""
    hydration_script = (
        ""
        if hydration is None
        else f"<script>window.__sc_hydration{separator}={separator}{hydration};</script>"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>YORU 夜 | Listen to music on SoundCloud</title>
<link rel="canonical" href="https://soundcloud.com/yoru-music">
<meta property="og:title" content="YORU 夜">
<script crossorigin src="https://a-v2.sndcdn.com/assets/0-4f8a1b2c.js"></script>
</head>
<body>
<div id="app"><noscript><h1>YORU 夜</h1></noscript></div>
<script>window.__sc_version="1709294400"</script>
{hydration_script}
<script src="/assets/vendor-1a2b3c.js" crossorigin="anonymous" defer></script>
<script type="text/javascript" crossorigin src="https://a-v2.sndcdn.com/assets/49-8d7e6f.js"></script>
</body>
</html>
"""


class TestParseHydration:
    def test_returns_every_hydratable_by_name(self) -> None:
        hydration = parse_hydration(profile_page(hydration_json(profile_entries())))

        assert set(hydration) == {
            "anonymousId",
            "features",
            "experiments",
            "geoip",
            "privacySettings",
            "apiClient",
            "user",
        }
        assert hydration["anonymousId"] == "748392-104857-382910-573829"
        assert hydration["geoip"]["country_code"] == "DE"

    def test_escaped_closing_tags_inside_strings_are_decoded(self) -> None:
        html = profile_page(hydration_json(profile_entries()))
        assert "<\\/b>" in html  # the page really carries the escaped form

        hydration = parse_hydration(html)

        assert hydration["user"]["description"].startswith("夜の音楽 🌙 <b>live</b> sets\n")

    @pytest.mark.parametrize("separator", ["", " ", "\n", "\n\t  "])
    def test_whitespace_around_the_assignment_does_not_matter(self, separator: str) -> None:
        html = profile_page(hydration_json(profile_entries()), separator=separator)

        assert parse_hydration(html)["user"]["id"] == 555000111

    def test_pretty_printed_json_across_many_lines_parses(self) -> None:
        html = profile_page(json.dumps(profile_entries(), indent=2))

        assert parse_hydration(html)["apiClient"]["id"] == CLIENT_ID

    def test_a_large_hydration_parses_whole(self) -> None:
        tracks = [{"id": n, "kind": "track", "title": f"Track {n} </script>"} for n in range(5000)]
        entries = [*profile_entries(), {"hydratable": "tracks", "data": tracks}]

        hydration = parse_hydration(profile_page(hydration_json(entries)))

        assert len(hydration["tracks"]) == 5000
        assert hydration["tracks"][-1]["title"] == "Track 4999 </script>"

    def test_a_page_without_hydration_is_malformed(self) -> None:
        with pytest.raises(MalformedPage, match=r"no window\.__sc_hydration"):
            parse_hydration(profile_page(None))

    def test_truncated_json_is_malformed(self) -> None:
        text = hydration_json(profile_entries())
        html = profile_page(None) + f"<script>window.__sc_hydration = {text[: len(text) // 2]}"

        with pytest.raises(MalformedPage, match="not valid JSON"):
            parse_hydration(html)

    @pytest.mark.parametrize(
        "hydration",
        [
            pytest.param("[{'hydratable': 'user'}]", id="single quotes"),
            pytest.param("[{}, ]", id="trailing comma"),
            pytest.param("undefined", id="not JSON"),
        ],
    )
    def test_invalid_json_is_malformed(self, hydration: str) -> None:
        with pytest.raises(MalformedPage):
            parse_hydration(profile_page(hydration))

    @pytest.mark.parametrize(
        "hydration",
        [
            pytest.param('{"hydratable": "user", "data": {}}', id="an object, not a list"),
            pytest.param('["user"]', id="a list of strings"),
            pytest.param('[{"hydratable": "user"}]', id="an entry without data"),
            pytest.param('[{"name": "user", "data": {}}]', id="an entry without a name"),
            pytest.param('[{"hydratable": 7, "data": {}}]', id="a name that is not a string"),
        ],
    )
    def test_json_of_the_wrong_shape_is_malformed(self, hydration: str) -> None:
        with pytest.raises(MalformedPage):
            parse_hydration(profile_page(hydration))

    def test_an_empty_hydration_is_an_empty_mapping(self) -> None:
        assert parse_hydration(profile_page("[]")) == {}


class TestClientIdFromHydration:
    def test_reads_the_api_client_id(self) -> None:
        hydration = parse_hydration(profile_page(hydration_json(profile_entries())))

        assert client_id_from_hydration(hydration) == CLIENT_ID

    @pytest.mark.parametrize(
        "hydration",
        [
            {},
            {"apiClient": None},
            {"apiClient": "abc"},
            {"apiClient": {"isExpiring": False}},
            {"apiClient": {"id": ""}},
            {"apiClient": {"id": 123}},
        ],
    )
    def test_is_none_without_a_usable_id(self, hydration: dict[str, Any]) -> None:
        assert client_id_from_hydration(hydration) is None


class TestScriptUrls:
    def test_lists_script_sources_in_page_order_made_absolute(self) -> None:
        html = profile_page(hydration_json(profile_entries()))

        assert script_urls(html, "https://soundcloud.com/yoru-music") == [
            "https://a-v2.sndcdn.com/assets/0-4f8a1b2c.js",
            "https://soundcloud.com/assets/vendor-1a2b3c.js",
            "https://a-v2.sndcdn.com/assets/49-8d7e6f.js",
        ]

    def test_markup_inside_inline_scripts_is_not_read_as_tags(self) -> None:
        html = (
            "<script>document.write('<script src=\"https://evil.example/x.js\"><\\/script>')"
            '</script><script src="/real.js"></script>'
        )

        assert script_urls(html, "https://soundcloud.com/") == ["https://soundcloud.com/real.js"]

    def test_entities_in_attributes_are_decoded_and_duplicates_dropped(self) -> None:
        html = (
            '<script src="https://a-v2.sndcdn.com/app.js?v=1&amp;lang=en"></script>'
            "<SCRIPT SRC='https://a-v2.sndcdn.com/app.js?v=1&lang=en'></SCRIPT>"
            '<script src="  "></script><script async></script>'
        )

        assert script_urls(html, "https://soundcloud.com/") == [
            "https://a-v2.sndcdn.com/app.js?v=1&lang=en"
        ]


class TestClientIdFromScript:
    @pytest.mark.parametrize(
        "bundle",
        [
            f'(e.exports={{env:"production",client_id:"{CLIENT_ID}",api:"https://api-v2"}})',
            f'var t={{client_id: "{CLIENT_ID}"}}',
            f'n.client_id="{CLIENT_ID}",n.app_version="1709294400"',
            f'r="https://api-v2.soundcloud.com/me?client_id={CLIENT_ID}&app_version=1"',
            f'{{"client_id":"{CLIENT_ID}"}}',
        ],
    )
    def test_finds_the_id_in_the_forms_bundles_use(self, bundle: str) -> None:
        assert client_id_from_script(bundle) == CLIENT_ID

    @pytest.mark.parametrize(
        "bundle",
        [
            'client_id:"tooShort123"',
            f'client_id:"{CLIENT_ID}EXTRA"',
            f'my_client_id:"{CLIENT_ID}"',
            f'"{CLIENT_ID}"',
            "function(){return 1}",
        ],
    )
    def test_finds_nothing_that_is_not_a_32_character_client_id(self, bundle: str) -> None:
        assert client_id_from_script(bundle) is None


class TestUserFromPage:
    def test_reads_the_profile_user(self) -> None:
        user = user_from_page(profile_page(hydration_json(profile_entries())))

        assert (user.id, user.permalink, user.username) == (555000111, "yoru-music", "YORU 夜")
        assert (user.city, user.country_code, user.verified) == ("Tokyo", "JP", True)
        assert user.description is not None
        assert "yoru [at] nightowl [dot] jp" in user.description

    def test_a_page_without_a_user_is_malformed(self) -> None:
        entries = [entry for entry in profile_entries() if entry["hydratable"] != "user"]

        with pytest.raises(MalformedPage, match="no user"):
            user_from_page(profile_page(hydration_json(entries)))

    def test_a_user_without_permalink_is_a_malformed_object(self) -> None:
        entries = profile_entries({**PROFILE_USER, "permalink": None})

        with pytest.raises(MalformedObject):
            user_from_page(profile_page(hydration_json(entries)))

    def test_a_page_without_hydration_is_malformed(self) -> None:
        with pytest.raises(MalformedPage):
            user_from_page("<html><body>Something went wrong</body></html>")
