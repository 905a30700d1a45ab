"""Contact extraction: emails in every published form, gate links, platform mapping and the
findings of a profile and of a link-in-bio page."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from core.enums import ContactSource, SocialPlatform
from scraping.contacts import (
    DEFAULT_LINK_IN_BIO_HOSTS,
    ContactFindings,
    FoundEmail,
    FoundProfile,
    classify_link,
    collect_links,
    contacts_from_link_in_bio,
    contacts_from_profile,
    extract_emails,
    find_links,
    links_from_html,
    unwrap_gate,
)


def full_width(text: str) -> str:
    """``text`` in the full-width forms CJK keyboards type (U+FF01 to U+FF5E)."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def gate(url: str, *, slash: bool = False, host: str = "https://gate.sc") -> str:
    return f"{host}{'/' if slash else ''}?url={quote(url, safe='')}&token=a1b2c3-1-abcdef"


class TestExtractEmails:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Bookings: Name@Example.com", "name@example.com"),
            ("name [at] domain [dot] com", "name@domain.com"),
            ("name [ at ] domain [ dot ] com", "name@domain.com"),
            ("name (at) domain (dot) co (dot) uk", "name@domain.co.uk"),
            ("name(at)domain(dot)com", "name@domain.com"),
            ("name{at}domain.com", "name@domain.com"),
            ("name<at>domain<dot>com", "name@domain.com"),
            ("name[@]domain[.]com", "name@domain.com"),
            ("NAME [AT] DOMAIN [DOT] COM", "name@domain.com"),
            ("name @ domain . com", "name@domain.com"),
            ("name\uff20domain.com", "name@domain.com"),  # full-width at sign
            (full_width("name@domain.com"), "name@domain.com"),
            ("Bookings: name at domain dot com", "name@domain.com"),
            ("name at domain dot com", "name@domain.com"),
            ("Demos -> (name at domain dot co dot uk)", "name@domain.co.uk"),
            ("Mgmt \u2013 dj.name at label dot de\nsecond line", "dj.name@label.de"),
            ("BOOKINGS AT AGENCY DOT COM", "bookings@agency.com"),
            ('<a href="mailto:Booking@Label.com?subject=Gig">mail me</a>', "booking@label.com"),
            ("mailto:booking%40label.com", "booking@label.com"),
            (
                "Mail: first.last+promo@sub.label-records.co.uk.",
                "first.last+promo@sub.label-records.co.uk",
            ),
            ("(bookings@agency.com)", "bookings@agency.com"),
            ("contact:bookings@agency.com!", "bookings@agency.com"),
            ("联系\uff1ademo@label.cn 🎧", "demo@label.cn"),
            ("Écrivez à «contact@musique.fr»", "contact@musique.fr"),
            ("...name@example.com...", "name@example.com"),
        ],
    )
    def test_finds_plain_and_obfuscated_addresses(self, text: str, expected: str) -> None:
        assert extract_emails(text) == [expected]

    @pytest.mark.parametrize(
        "text",
        [
            "look at this dot",
            "I looked at google dot com yesterday",
            "Then I looked at google dot com.",
            "New mix: recorded at fabric dot london last summer",
            "we are at the club dot com is where",
            "meet me at home, dot your i's",
            "Live (at) Berghain",
            "Resident @ club.com every friday",
            "insta @dj.name",
            "follow @lena_sommer on all platforms",
            "TICKETS AT RA.CO",
            "image@2x.png logo@3x.JPG sprite@1.5x.webp icon@2x.svg app@2x.js site@x.css",
            "email me at",
            "name@localhost",
            "@@@ . @ .",
            "",
        ],
    )
    def test_prose_and_asset_names_are_not_addresses(self, text: str) -> None:
        assert extract_emails(text) == []

    def test_none_gives_nothing(self) -> None:
        assert extract_emails(None) == []

    def test_addresses_come_once_each_in_first_seen_order(self) -> None:
        text = (
            "Bookings: B@Agency.com\nDemos: demos [at] label [dot] com\n"
            "Again: b@agency.com, mailto:DEMOS@label.com and press@label.com"
        )

        assert extract_emails(text) == ["b@agency.com", "demos@label.com", "press@label.com"]

    def test_addresses_that_normalize_email_rejects_are_skipped(self) -> None:
        local = "x" * 65  # longer than an address's local part may be

        assert extract_emails(f"{local}@example.com ok@example.com") == ["ok@example.com"]


class TestUnwrapGate:
    TARGET = "https://www.instagram.com/lena.sommer/?hl=de&utm_source=sc"

    @pytest.mark.parametrize(
        "wrapped",
        [
            gate(TARGET),
            gate(TARGET, slash=True),
            gate(TARGET, host="http://gate.sc"),
            gate(TARGET, host="https://www.gate.sc", slash=True),
            gate(TARGET, host="HTTPS://GATE.SC"),
        ],
    )
    def test_decodes_the_target(self, wrapped: str) -> None:
        assert unwrap_gate(wrapped) == self.TARGET

    def test_nested_wrapping_is_unwrapped_completely(self) -> None:
        assert unwrap_gate(gate(gate(gate(self.TARGET), slash=True))) == self.TARGET

    @pytest.mark.parametrize(
        "url",
        [
            "https://www.instagram.com/lena.sommer",
            "https://gate.sc?token=abc",
            "https://gate.sc/?url=&token=abc",
            "https://gate.sc/other?url=https%3A%2F%2Fx.com",
            "https://notgate.sc?url=https%3A%2F%2Fx.com",
            "ftp://gate.sc?url=https%3A%2F%2Fx.com",
            "not a url",
        ],
    )
    def test_anything_else_is_returned_unchanged(self, url: str) -> None:
        assert unwrap_gate(url) == url


class TestFindLinks:
    def test_finds_scheme_links_and_bare_platform_links(self) -> None:
        text = (
            "New EP out now! https://lenasommer.bandcamp.com/album/nachtfahrt\n"
            "IG: instagram.com/lena.sommer | all links: linktr.ee/lenasommer\n"
            "Site: www.lenasommer.de/booking"
        )

        assert find_links(text) == [
            "https://lenasommer.bandcamp.com/album/nachtfahrt",
            "https://instagram.com/lena.sommer",
            "https://linktr.ee/lenasommer",
            "https://www.lenasommer.de/booking",
        ]

    @pytest.mark.parametrize("punctuation", [")", ".", ",", ";", "!", "?", ").", "!!"])
    def test_trailing_punctuation_is_not_part_of_the_link(self, punctuation: str) -> None:
        text = f"(see https://ra.co/dj/lenasommer{punctuation} and www.x.com/lena{punctuation}"

        assert find_links(text) == ["https://ra.co/dj/lenasommer", "https://www.x.com/lena"]

    def test_gate_links_are_unwrapped_and_deduplicated(self) -> None:
        target = "https://open.spotify.com/artist/4Z8W4fKeB5YxbusRsdQVPb"
        text = f"Spotify: {gate(target)}\nalso {gate(target, slash=True)} and {target}"

        assert find_links(text) == [target]

    @pytest.mark.parametrize(
        "text",
        [
            "write to lena@instagram.com",
            "feat.Name on vol.2 e.g. this",
            "netflix.com is not on the list of bare hosts",
            "the ra.com domain is not RA",
            "https:// nothing here",
        ],
    )
    def test_prose_email_domains_and_unknown_bare_hosts_are_not_links(self, text: str) -> None:
        assert find_links(text) == []

    def test_none_gives_nothing(self) -> None:
        assert find_links(None) == []


class TestClassifyLink:
    @pytest.mark.parametrize(
        ("url", "platform", "username"),
        [
            ("https://www.instagram.com/lena.sommer/", SocialPlatform.INSTAGRAM, "lena.sommer"),
            ("https://instagram.com/p/CxYz123/", SocialPlatform.INSTAGRAM, None),
            ("https://linktr.ee/lenasommer", SocialPlatform.LINKTREE, "lenasommer"),
            ("https://lenasommer.bandcamp.com/album/nacht", SocialPlatform.BANDCAMP, "lenasommer"),
            ("https://bandcamp.com/lenafan", SocialPlatform.BANDCAMP, None),
            ("https://open.spotify.com/artist/4Z8W4fKeB5Yx", SocialPlatform.SPOTIFY, None),
            ("https://open.spotify.com/user/lenasommer", SocialPlatform.SPOTIFY, "lenasommer"),
            ("https://spotify.com/de/album/xyz", SocialPlatform.SPOTIFY, None),
            ("https://www.youtube.com/@LenaSommer", SocialPlatform.YOUTUBE, "LenaSommer"),
            ("https://m.youtube.com/c/LenaSommerMusic", SocialPlatform.YOUTUBE, "LenaSommerMusic"),
            ("https://youtube.com/watch?v=dQw4w9WgXcQ", SocialPlatform.YOUTUBE, None),
            ("https://youtu.be/dQw4w9WgXcQ", SocialPlatform.YOUTUBE, None),
            (
                "https://www.facebook.com/lenasommermusic",
                SocialPlatform.FACEBOOK,
                "lenasommermusic",
            ),
            ("https://m.facebook.com/events/12345", SocialPlatform.FACEBOOK, None),
            ("https://fb.com/lenasommermusic", SocialPlatform.FACEBOOK, "lenasommermusic"),
            ("https://www.tiktok.com/@lena.sommer", SocialPlatform.TIKTOK, "lena.sommer"),
            ("https://twitter.com/lenasommer", SocialPlatform.TWITTER, "lenasommer"),
            ("https://x.com/lenasommer", SocialPlatform.TWITTER, "lenasommer"),
            ("https://x.com/intent/follow?screen_name=lena", SocialPlatform.TWITTER, None),
            (
                "https://www.beatport.com/artist/lena-sommer/123456",
                SocialPlatform.BEATPORT,
                "lena-sommer",
            ),
            ("https://www.beatport.com/label/spree/99", SocialPlatform.BEATPORT, None),
            ("https://ra.co/dj/lenasommer", SocialPlatform.RESIDENT_ADVISOR, "lenasommer"),
            (
                "https://www.residentadvisor.net/dj/lenasommer",
                SocialPlatform.RESIDENT_ADVISOR,
                "lenasommer",
            ),
            ("https://soundcloud.com/lena-sommer", SocialPlatform.SOUNDCLOUD, "lena-sommer"),
            (
                "https://m.soundcloud.com/lena-sommer/tracks",
                SocialPlatform.SOUNDCLOUD,
                "lena-sommer",
            ),
            ("https://soundcloud.com/discover", SocialPlatform.SOUNDCLOUD, None),
            ("https://www.lenasommer.de/booking", SocialPlatform.WEBSITE, None),
            ("http://notinstagram.com/lena", SocialPlatform.WEBSITE, None),
            ("https://instagram.com.evil.example/lena", SocialPlatform.WEBSITE, None),
        ],
    )
    def test_maps_domains_to_platforms_and_reads_the_username(
        self, url: str, platform: SocialPlatform, username: str | None
    ) -> None:
        profile = classify_link(url)

        assert profile is not None
        assert (profile.platform, profile.username) == (platform, username)

    def test_the_url_is_normalised(self) -> None:
        profile = classify_link("HTTPS://WWW.Instagram.COM/Lena.Sommer/?hl=de#top")

        assert profile == FoundProfile(
            SocialPlatform.INSTAGRAM, "https://www.instagram.com/Lena.Sommer?hl=de", "Lena.Sommer"
        )

    def test_a_percent_encoded_username_is_decoded(self) -> None:
        profile = classify_link("https://www.instagram.com/caf%C3%A9.music")

        assert profile is not None
        assert profile.username == "café.music"

    @pytest.mark.parametrize(
        "url",
        [
            "mailto:booking@label.com",
            "javascript:alert(1)",
            "/relative/path",
            "instagram.com/lena",
            "ftp://files.example.com/x",
            "https://",
            "https://host:notaport/x",
        ],
    )
    def test_non_http_links_are_not_profiles(self, url: str) -> None:
        assert classify_link(url) is None

    def test_a_listed_host_and_port_counts_as_link_in_bio(self) -> None:
        profile = classify_link(
            "http://127.0.0.1:8765/lenasommer/", link_in_bio_hosts=["127.0.0.1:8765"]
        )

        assert profile == FoundProfile(
            SocialPlatform.LINKTREE, "http://127.0.0.1:8765/lenasommer", "lenasommer"
        )

    def test_the_same_host_on_another_port_is_a_website(self) -> None:
        profile = classify_link("http://127.0.0.1:9999/lena", link_in_bio_hosts=["127.0.0.1:8765"])

        assert profile is not None
        assert profile.platform is SocialPlatform.WEBSITE

    def test_link_in_bio_services_are_websites_unless_listed(self) -> None:
        unlisted = classify_link("https://beacons.ai/lenasommer")
        listed = classify_link("https://beacons.ai/lenasommer", link_in_bio_hosts=["beacons.ai"])

        assert unlisted is not None
        assert listed is not None
        assert (unlisted.platform, listed.platform) == (
            SocialPlatform.WEBSITE,
            SocialPlatform.LINKTREE,
        )


class TestContactsFromProfile:
    DESCRIPTION = (
        "Deep house from Berlin 🇩🇪\n"
        "Bookings: booking [at] nightshift-agency [dot] com\n"
        "IG: instagram.com/lena.sommer\n"
        "All links: https://gate.sc?url=https%3A%2F%2Flinktr.ee%2Flenasommer&token=xyz"
    )
    WEB_PROFILES = (
        {
            "url": gate("https://lenasommer.bandcamp.com"),
            "network": "bandcamp",
            "title": "Bandcamp",
            "username": None,
        },
        {
            "url": "https://instagram.com/lena.sommer/",
            "network": "instagram",
            "title": "Instagram",
            "username": "lena.sommer",
        },
        {"url": "mailto:Demos@SpreeRecords.de", "network": "email", "title": "Demos"},
        {"url": "booking@nightshift-agency.com", "network": "email", "title": "Bookings"},
        {"url": "https://beacons.ai/lenasommer", "network": "personal", "title": "More"},
        {"url": None, "network": "website", "title": "broken"},
    )

    def test_collects_emails_profiles_and_link_in_bio_pages_once_each(self) -> None:
        findings = contacts_from_profile(self.DESCRIPTION, self.WEB_PROFILES)

        assert findings == ContactFindings(
            emails=(
                FoundEmail("booking@nightshift-agency.com", ContactSource.DESCRIPTION),
                FoundEmail("demos@spreerecords.de", ContactSource.WEB_PROFILE),
            ),
            profiles=(
                FoundProfile(
                    SocialPlatform.INSTAGRAM, "https://instagram.com/lena.sommer", "lena.sommer"
                ),
                FoundProfile(SocialPlatform.LINKTREE, "https://linktr.ee/lenasommer", "lenasommer"),
                FoundProfile(
                    SocialPlatform.BANDCAMP, "https://lenasommer.bandcamp.com", "lenasommer"
                ),
                FoundProfile(
                    SocialPlatform.LINKTREE, "https://beacons.ai/lenasommer", "lenasommer"
                ),
            ),
            link_in_bio_urls=("https://linktr.ee/lenasommer", "https://beacons.ai/lenasommer"),
        )

    def test_a_description_alone_is_enough(self) -> None:
        findings = contacts_from_profile("Demos: demos@label.com — soundcloud.com/lena-sommer")

        assert findings.emails == (FoundEmail("demos@label.com", ContactSource.DESCRIPTION),)
        assert [p.platform for p in findings.profiles] == [SocialPlatform.SOUNDCLOUD]
        assert findings.link_in_bio_urls == ()

    def test_an_empty_profile_finds_nothing(self) -> None:
        assert contacts_from_profile(None) == ContactFindings((), (), ())

    def test_extra_link_in_bio_hosts_add_to_the_defaults(self) -> None:
        findings = contacts_from_profile(
            "https://linktr.ee/lena and http://127.0.0.1:8765/lena",
            link_in_bio_hosts=["127.0.0.1:8765"],
        )

        assert findings.link_in_bio_urls == ("https://linktr.ee/lena", "http://127.0.0.1:8765/lena")


class TestLinksFromHtml:
    PAGE = """<!DOCTYPE html><html><head><title>lenasommer | Linktree</title></head><body>
    <div class="links">
      <a href="https://lenasommer.bandcamp.com/" data-testid="LinkButton">Bandcamp</a>
      <a data-testid="LinkButton" href="/lenasommer/tour">Tour dates</a>
      <a href="https://gate.sc/?url=https%3A%2F%2Fra.co%2Fdj%2Flenasommer&amp;token=x">RA</a>
      <a href="mailto:booking@nightshift-agency.com?subject=Booking%20request">Email</a>
      <a href="#top">top</a>
      <a href="javascript:void(0)">cookie settings</a>
      <a name="no-href">anchor</a>
      <a href="https://lenasommer.bandcamp.com/">Bandcamp again</a>
      <script>var fake = '<a href="https://evil.example/">';</script>
    </div></body></html>"""

    def test_lists_absolute_unwrapped_links_once_each(self) -> None:
        assert links_from_html(self.PAGE, "https://linktr.ee/lenasommer") == [
            "https://lenasommer.bandcamp.com/",
            "https://linktr.ee/lenasommer/tour",
            "https://ra.co/dj/lenasommer",
            "mailto:booking@nightshift-agency.com?subject=Booking%20request",
        ]

    def test_a_page_whose_links_come_from_javascript_has_none(self) -> None:
        html = "<html><body><div id='root'></div><script src='/app.js'></script></body></html>"

        assert links_from_html(html, "https://linktr.ee/lenasommer") == []


class TestCollectLinks:
    def test_keeps_http_and_mailto_links_unwrapped_in_order(self) -> None:
        hrefs = [
            " https://x.com/lena ",
            "mailto:a@b.com",
            gate("https://x.com/lena"),
            "tel:+4930123456",
            "about:blank",
            "javascript:void(0)",
        ]

        assert collect_links(hrefs) == ["https://x.com/lena", "mailto:a@b.com"]


class TestContactsFromLinkInBio:
    def test_reads_mailto_addresses_and_profiles(self) -> None:
        links = [
            "https://lenasommer.bandcamp.com/",
            "mailto:Booking@NightShift-Agency.com?subject=Booking%20request&cc=other@x.com",
            "https://www.instagram.com/lena.sommer",
            gate("https://open.spotify.com/artist/4Z8W4fKeB5Yx"),
            "https://linktr.ee/lenasommer",
            "https://linktr.ee/s/about",
            "mailto:booking@nightshift-agency.com",
        ]

        findings = contacts_from_link_in_bio(links)

        assert findings == ContactFindings(
            emails=(FoundEmail("booking@nightshift-agency.com", ContactSource.LINK_IN_BIO),),
            profiles=(
                FoundProfile(
                    SocialPlatform.BANDCAMP, "https://lenasommer.bandcamp.com", "lenasommer"
                ),
                FoundProfile(
                    SocialPlatform.INSTAGRAM, "https://www.instagram.com/lena.sommer", "lena.sommer"
                ),
                FoundProfile(
                    SocialPlatform.SPOTIFY, "https://open.spotify.com/artist/4Z8W4fKeB5Yx", None
                ),
            ),
            link_in_bio_urls=(),
        )

    def test_a_fixture_host_standing_in_for_linktree_is_left_out_with_the_defaults(
        self,
    ) -> None:
        findings = contacts_from_link_in_bio(
            ["http://127.0.0.1:8765/lena/about", "https://linktr.ee/s/about", "https://x.com/lena"],
            link_in_bio_hosts=("127.0.0.1:8765",),
        )

        assert [p.url for p in findings.profiles] == ["https://x.com/lena"]

    def test_the_defaults_are_the_well_known_services(self) -> None:
        assert "linktr.ee" in DEFAULT_LINK_IN_BIO_HOSTS
        findings = contacts_from_link_in_bio(["https://beacons.ai/lena", "https://x.com/lena"])

        assert [p.url for p in findings.profiles] == ["https://x.com/lena"]
