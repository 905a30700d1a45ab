"""Outgoing messages: parts, headers, unsubscribe, open pixel and click rewriting (no I/O).

Every message is checked as a receiving server sees it: its bytes parsed back with the email
package, and, where the difference matters, the bytes aiosmtplib writes on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from uuid import UUID

import pytest
from aiosmtplib.email import flatten_message

from core.errors import ConfigurationError, InvalidInput
from core.link_tokens import ClickTarget, LinkSigner, RecordUnsubscribe
from core.messages import (
    MailAddress,
    TrackingLinks,
    build_message,
    message_id_for,
    text_from_html,
    track_html,
)
from core.settings import load_settings
from core.templating import (
    ArtistFields,
    CampaignFields,
    ContactFields,
    Genres,
    RenderedEmail,
    SenderFields,
    TemplateContext,
    render_email,
)

PUBLIC = "https://cm.example.com"
SECRET = "test-secret-key"
RECORD = UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
LINKS = TrackingLinks.for_record(PUBLIC, SECRET, RECORD)
SIGNER = LinkSigner(SECRET)
SENDER = MailAddress("mia@label.example", "Mia from Label")
RECIPIENT = MailAddress("nova@music.example", "Nova")
DATE = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


@dataclass
class Template:
    subject: str = "A gig for {{ artist.name }}"
    body_html: str = (
        "<html><head><style>p { color: red }</style></head><body>"
        "<p>Hi {{ artist.name }},</p>"
        '<p>Listen <a class="cta" href="https://label.example/demo?a=1&amp;b=2">here</a>.</p>'
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
        "</body></html>"
    )
    body_text: str = (
        "Hi {{ artist.name }},\nListen: https://label.example/demo\n{{ unsubscribe_url }}"
    )


def context(links: TrackingLinks = LINKS, name: str = "Nova") -> TemplateContext:
    return TemplateContext(
        artist=ArtistFields(
            name=name,
            username="nova",
            permalink="nova",
            permalink_url="https://soundcloud.com/nova",
            city="Berlin",
            country="DE",
            genres=Genres(("house",)),
            followers=1200,
            tracks=12,
        ),
        contact=ContactFields(email=RECIPIENT.email),
        campaign=CampaignFields(name="Spring"),
        sender=SenderFields(name=SENDER.name, email=SENDER.email),
        unsubscribe_url=links.unsubscribe_url,
    )


def build(
    rendered: RenderedEmail | None = None,
    *,
    sender: MailAddress = SENDER,
    recipient: MailAddress = RECIPIENT,
    links: TrackingLinks = LINKS,
    mailto: str | None = None,
) -> EmailMessage:
    return build_message(
        rendered if rendered is not None else render_email(Template(), context(links)),
        sender=sender,
        recipient=recipient,
        message_id=message_id_for(RECORD, sender.email),
        links=links,
        date=DATE,
        unsubscribe_mailto=mailto,
    )


def received(message: EmailMessage) -> EmailMessage:
    """The message as a server receives it from aiosmtplib, parsed back."""
    wire = flatten_message(message)
    assert wire.isascii()
    parsed = message_from_bytes(wire, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # as the wire has it, as every reader takes it


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [v for k, v in attrs if k == "href" and v is not None]
        if tag == "img":
            self.images.append(dict(attrs))


def parsed_html(html: str) -> _Hrefs:
    reader = _Hrefs()
    reader.feed(html)
    reader.close()
    return reader


def render(html: str, text: str = "plain", subject: str = "Hello") -> RenderedEmail:
    return RenderedEmail(subject=subject, html=html, text=text)


class TestParts:
    def test_a_message_with_html_is_multipart_alternative_text_first(self) -> None:
        message = received(build())

        assert message.get_content_type() == "multipart/alternative"
        parts = [part.get_content_type() for part in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]
        assert body(message, "plain").startswith("Hi Nova,\nListen: https://label.example/demo\n")
        assert "<p>Hi Nova,</p>" in body(message, "html")

    def test_a_blank_text_body_is_derived_from_the_html(self) -> None:
        template = Template(body_text="  \n ")
        message = received(build(render_email(template, context())))

        text = body(message, "plain")
        assert text.startswith("Hi Nova,\n\nListen here (https://label.example/demo?a=1&b=2).")
        assert f"Unsubscribe ({LINKS.unsubscribe_url})" in text
        assert "color: red" not in text

    def test_a_blank_html_body_makes_a_text_only_message_without_a_pixel(self) -> None:
        message = received(build(render_email(Template(body_html=" "), context())))

        assert message.get_content_type() == "text/plain"
        assert "/t/o/" not in message.as_string()
        assert body(message, "plain").startswith("Hi Nova,")

    def test_a_body_holding_the_usual_boundary_still_splits_into_the_same_parts(self) -> None:
        text = f"--=_{RECORD.hex}\nContent-Type: text/html\n\n<b>forged</b>\n--=_{RECORD.hex}--"
        message = received(build(render("<p>real</p>", text=text)))

        assert [part.get_content_type() for part in message.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        assert body(message, "plain").startswith(text)
        assert body(message, "html").startswith("<p>real</p>")

    def test_the_parts_do_not_repeat_the_mime_version(self) -> None:
        message = received(build())

        assert message["MIME-Version"] == "1.0"
        assert all(part["MIME-Version"] is None for part in message.iter_parts())


class TestHeaders:
    def test_from_to_subject_and_date_are_what_was_given(self) -> None:
        message = received(build())

        assert message["From"] == "Mia from Label <mia@label.example>"
        assert message["To"] == "Nova <nova@music.example>"
        assert message["Subject"] == "A gig for Nova"
        assert parsedate_to_datetime(message["Date"]) == DATE

    def test_a_date_in_another_zone_keeps_its_offset(self) -> None:
        zone = timezone(timedelta(hours=2))
        message = build_message(
            render("<p>x</p>"),
            sender=SENDER,
            recipient=RECIPIENT,
            message_id=message_id_for(RECORD, SENDER.email),
            links=LINKS,
            date=DATE.astimezone(zone),
        )

        assert received(message)["Date"].endswith("+0200")

    def test_a_date_without_a_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone"):
            build_message(
                render("<p>x</p>"),
                sender=SENDER,
                recipient=RECIPIENT,
                message_id=message_id_for(RECORD, SENDER.email),
                links=LINKS,
                date=datetime(2025, 1, 1),
            )

    def test_a_display_name_with_specials_is_quoted_and_reads_back_the_same(self) -> None:
        sender = MailAddress("mia@label.example", 'Mia "M" Smith, Label <A&R>')
        message = received(build(sender=sender))

        assert message["From"].addresses[0].display_name == 'Mia "M" Smith, Label <A&R>'
        assert message["From"].addresses[0].addr_spec == "mia@label.example"
        assert len(message["From"].addresses) == 1


class TestMessageId:
    def test_the_message_id_is_the_record_at_the_senders_domain_every_time(self) -> None:
        first = message_id_for(RECORD, "Mia@Label.Example")

        assert first == f"<{RECORD}@label.example>"
        assert message_id_for(RECORD, "other@label.example") == first
        assert received(build())["Message-ID"] == first

    def test_an_international_domain_is_written_in_punycode(self) -> None:
        assert message_id_for(RECORD, "mia@bücher.example") == f"<{RECORD}@xn--bcher-kva.example>"

    def test_a_sender_that_is_not_an_address_is_refused_naming_it(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            message_id_for(RECORD, "not an address")

        assert [p.field for p in raised.value.problems] == ["sender.email"]

    @pytest.mark.parametrize(
        "message_id",
        ["no-brackets@x.example", "<no-at-sign>", "<a@b>\r\nBcc: x@y.z", "<a b@c.d>", "<é@x.y>"],
    )
    def test_a_message_id_that_is_not_one_is_refused(self, message_id: str) -> None:
        with pytest.raises(ValueError, match="Message-ID"):
            build_message(
                render("<p>x</p>"),
                sender=SENDER,
                recipient=RECIPIENT,
                message_id=message_id,
                links=LINKS,
                date=DATE,
            )


class TestUnsubscribe:
    def test_list_unsubscribe_is_the_templates_unsubscribe_link_and_unsubscribes_the_record(
        self,
    ) -> None:
        message = received(build())

        assert message["List-Unsubscribe"] == f"<{LINKS.unsubscribe_url}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert LINKS.unsubscribe_url in parsed_html(body(message, "html")).hrefs
        assert LINKS.unsubscribe_url.startswith(f"{PUBLIC}/u/")
        token = LINKS.unsubscribe_url.removeprefix(f"{PUBLIC}/u/")
        assert SIGNER.verify_unsubscribe(token) == RecordUnsubscribe(RECORD)

    def test_a_mailto_is_listed_after_the_link_only_when_given(self) -> None:
        message = received(build(mailto="unsubscribe@label.example"))

        assert message["List-Unsubscribe"] == (
            f"<{LINKS.unsubscribe_url}>, <mailto:unsubscribe@label.example?subject=unsubscribe>"
        )

    def test_a_mailto_that_is_not_an_address_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            build(mailto="unsub@label.example>, <https://evil.example")

        assert [p.field for p in raised.value.problems] == ["unsubscribe_mailto.email"]

    @pytest.mark.parametrize(
        "public", [PUBLIC, "https://mail.campaigns.a-long-label-name.example/cm"]
    )
    def test_the_header_is_never_encoded_whatever_the_length_of_the_links(
        self, public: str
    ) -> None:
        # Python's folder turns a word longer than a line into =?utf-8?q?...?= encoded words,
        # which no mail client reads as a link.
        links = TrackingLinks.for_record(public, SECRET, RECORD)
        message = build(links=links, mailto="unsubscribe-with-a-long-name@label.example")

        for wire in (flatten_message(message), message.as_bytes()):
            header = next(
                line
                for line in wire.split(b"\r\n\r\n")[0].split(b"\r\n")
                if line.startswith(b"List-Unsubscribe:")
            )
            assert header == f"List-Unsubscribe: <{links.unsubscribe_url}>,".encode()
            assert b"=?" not in wire.split(b"\r\n\r\n")[0]

    def test_a_body_without_the_unsubscribe_link_gets_one_in_each_part(self) -> None:
        message = received(build(render('<p>Hi <a href="https://label.example/">us</a></p>')))

        html = body(message, "html")
        assert parsed_html(html).hrefs.count(LINKS.unsubscribe_url) == 1
        assert html.index(LINKS.unsubscribe_url) < html.index("/t/o/")
        assert body(message, "plain") == f"plain\n\nUnsubscribe: {LINKS.unsubscribe_url}\n"

    def test_a_body_with_the_link_gets_no_second_one(self) -> None:
        message = received(build())

        assert parsed_html(body(message, "html")).hrefs.count(LINKS.unsubscribe_url) == 1
        assert body(message, "plain").count(LINKS.unsubscribe_url) == 1


class TestOpenPixel:
    def test_the_pixel_goes_just_before_the_end_of_the_body(self) -> None:
        html = body(received(build()), "html")

        assert html.rstrip().endswith(
            f'<img src="{LINKS.open_url}" width="1" height="1" alt=""></body></html>'
        )
        token = LINKS.open_url.removeprefix(f"{PUBLIC}/t/o/")
        assert SIGNER.verify_open(token) == RECORD

    def test_a_fragment_gets_the_pixel_at_its_end(self) -> None:
        tracked = track_html(f'<p>Hi</p><a href="{LINKS.unsubscribe_url}">x</a>', LINKS)

        assert tracked.endswith(f'<img src="{LINKS.open_url}" width="1" height="1" alt="">')
        assert [image["src"] for image in parsed_html(tracked).images] == [LINKS.open_url]


class TestClickRewriting:
    def clicks(self, html: str) -> list[str]:
        """Where each link in the tracked ``html`` finally leads."""
        targets = []
        for href in parsed_html(track_html(html, LINKS)).hrefs:
            if href.startswith(f"{PUBLIC}/t/c/"):
                click = SIGNER.verify_click(href.removeprefix(f"{PUBLIC}/t/c/"))
                assert click.record_id == RECORD
                targets.append(click.url)
            elif href != LINKS.unsubscribe_url:
                targets.append(f"untracked {href}")
        return targets

    def test_http_and_https_links_become_redirects_to_exactly_where_they_led(self) -> None:
        html = (
            '<a href="https://label.example/demo?a=1&amp;b=2#top">demo</a>'
            "<a href='http://example.com/path'>plain http</a>"
            "<a href=HTTPS://Upper.Example/X>upper</a>"
            '<a href="  https://spaced.example/  ">spaced</a>'
            '<map><area shape="rect" href="https://area.example/"></map>'
        )

        assert self.clicks(html) == [
            "https://label.example/demo?a=1&b=2#top",
            "http://example.com/path",
            "HTTPS://Upper.Example/X",
            "https://spaced.example/",
            "https://area.example/",
        ]

    @pytest.mark.parametrize(
        "href",
        [
            "mailto:nova@music.example",
            "tel:+4930123456",
            "#section",
            "/relative/page",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://example.com/" + "a" * 3000,
        ],
    )
    def test_links_that_are_not_http_targets_are_left_alone(self, href: str) -> None:
        assert self.clicks(f'<a href="{href}">x</a>') == [f"untracked {href}"]

    def test_the_unsubscribe_link_is_not_made_a_redirect(self) -> None:
        tracked = track_html(f'<a href="{LINKS.unsubscribe_url}">Unsubscribe</a>', LINKS)

        assert parsed_html(tracked).hrefs == [LINKS.unsubscribe_url]

    def test_other_attributes_and_everything_outside_the_links_stay_as_rendered(self) -> None:
        html = (
            "<!DOCTYPE html>\n<p   data-x='1'>Caf&eacute; &amp; <b>bar</b></p>\n"
            '<!-- <a href="https://in-a-comment.example/">no</a> -->\n'
            '<A CLASS="btn" Target=_blank HREF="https://label.example/" hidden>Go</A>\n'
            '<script>var s = "<a href=\\"https://in-script.example/\\">";</script>\n'
        )
        tracked = track_html(html, LINKS)
        redirect = LINKS.click_url("https://label.example/")

        assert tracked.startswith(html.split("<A ")[0])
        assert f'<a class="btn" target="_blank" href="{redirect}" hidden>Go</A>\n' in tracked
        assert '<!-- <a href="https://in-a-comment.example/">no</a> -->' in tracked
        assert 'var s = "<a href=\\"https://in-script.example/\\">";' in tracked

    def test_an_attribute_value_that_needs_escaping_stays_escaped(self) -> None:
        tracked = track_html(
            '<a title="&quot;x&quot; &lt;y&gt;" href="https://a.example/">a</a>', LINKS
        )

        assert 'title="&quot;x&quot; &lt;y&gt;"' in tracked

    def test_a_second_href_on_a_link_cannot_survive_next_to_the_redirect(self) -> None:
        tracked = track_html(
            '<a href="https://first.example/" href="https://second.example/">x</a>', LINKS
        )

        assert parsed_html(tracked).hrefs[:1] == [LINKS.click_url("https://first.example/")]
        assert "second.example" not in tracked

    def test_a_template_link_to_an_artists_page_is_tracked_with_its_value(self) -> None:
        template = Template(body_html='<a href="{{ artist.permalink_url }}?x=1&y=2">page</a>')
        message = received(build(render_email(template, context())))

        hrefs = parsed_html(body(message, "html")).hrefs
        click = SIGNER.verify_click(hrefs[0].removeprefix(f"{PUBLIC}/t/c/"))
        assert click == ClickTarget(RECORD, "https://soundcloud.com/nova?x=1&y=2")


class TestHeaderInjection:
    HEADERS = {
        "from", "to", "subject", "date", "message-id", "list-unsubscribe",
        "list-unsubscribe-post", "mime-version", "content-type",
    }  # fmt: skip

    @pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\u2028", "\x85", "\x0b", "\x00"])
    def test_a_line_break_in_a_name_or_subject_never_adds_a_header(self, newline: str) -> None:
        evil = f"Nova{newline}Bcc: victim@example.com{newline}{newline}body"
        message = received(
            build(
                render("<p>x</p>", subject=evil),
                sender=replace(SENDER, name=evil),
                recipient=replace(RECIPIENT, name=evil),
            )
        )

        assert {name.lower() for name in message} == self.HEADERS
        assert message["Subject"] == "Nova Bcc: victim@example.com body"
        assert message["From"].addresses[0].display_name == "Nova Bcc: victim@example.com body"
        assert message["To"].addresses[0].addr_spec == RECIPIENT.email
        assert len(message["To"].addresses) == 1

    def test_a_template_that_renders_a_line_break_into_the_subject_adds_no_header(self) -> None:
        rendered = render_email(
            Template(subject="Hi {{ artist.name }}"),
            context(name="Nova\r\nBcc: victim@example.com"),
        )
        message = received(build(rendered))

        assert message["Bcc"] is None
        assert message["Subject"] == "Hi Nova Bcc: victim@example.com"

    @pytest.mark.parametrize(
        "address",
        [
            "nova@music.example\r\nBcc: victim@example.com",
            "nova@music.example, victim@example.com",
            "nova,victim@music.example",
            "Nova <nova@music.example>",
            "nóva@music.example",
        ],
    )
    def test_an_address_that_is_not_one_plain_ascii_address_is_refused(self, address: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            build(recipient=MailAddress(address))

        assert [p.field for p in raised.value.problems] == ["recipient.email"]


class TestNonAscii:
    @pytest.mark.parametrize(
        ("name", "subject", "words"),
        [
            ("Zoë Ünal", "Grüße aus Köln", "Straße, café, naïve"),
            ("山田 太郎", "新しいリリース", "こんにちは、世界"),
            ("Ольга", "Привет 🎧 " + "долгая тема " * 10, "Музыка 🎶 и танцы"),
        ],
    )
    def test_names_subjects_and_bodies_read_back_exactly(
        self, name: str, subject: str, words: str
    ) -> None:
        rendered = RenderedEmail(subject=subject.strip(), html=f"<p>{words}</p>", text=words)
        message = received(
            build(
                rendered, sender=replace(SENDER, name=name), recipient=replace(RECIPIENT, name=name)
            )
        )

        assert message["Subject"] == subject.strip()
        assert message["From"].addresses[0].display_name == name
        assert message["To"].addresses[0].display_name == name
        assert body(message, "plain").startswith(words)
        assert body(message, "html").startswith(f"<p>{words}</p>")

    def test_long_ascii_lines_are_wrapped_for_transport_and_read_back_whole(self) -> None:
        line = " ".join(["word"] * 400)
        message = build(render(f"<p>{line}</p>", text=line))
        wire = flatten_message(message)

        assert max(len(raw) for raw in wire.split(b"\r\n")) <= 998
        assert body(received(message), "plain").startswith(line)


class TestTextFromHtml:
    def test_blocks_lists_and_links_read_as_plain_text(self) -> None:
        html = (
            "<html><head><title>T</title><style>p{}</style></head><body>"
            "<h1>News</h1><p>First   line<br>second line</p>"
            "<ul><li>one</li><li>two</li></ul>"
            '<p>See <a href="https://x.example/a">the page</a>, '
            '<a href="https://x.example/b">https://x.example/b</a> or '
            '<a href="mailto:a@x.example">write</a> or <a href="#top">top</a>.</p>'
            "<script>alert(1)</script></body></html>"
        )

        assert text_from_html(html) == (
            "News\n\nFirst line\nsecond line\n\n- one\n\n- two\n\n"
            "See the page (https://x.example/a), https://x.example/b or "
            "write (mailto:a@x.example) or top."
        )


class TestRealisticSize:
    def test_a_realistic_message_stays_small(self) -> None:
        links = "".join(
            f'<p><a href="https://label.example/release/{i}?utm_source=mail">Track {i}</a></p>'
            for i in range(10)
        )
        paragraph = "<p>" + "We loved your last set and would like to book you. " * 6 + "</p>"
        html = (
            "<html><body><h1>Hi {{ artist.name }}</h1>"
            + paragraph * 5
            + links
            + '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
        )
        rendered = render_email(Template(body_html=html, body_text=""), context())
        wire = flatten_message(build(rendered))

        rendered_size = len(rendered.html.encode())
        assert 2_000 < rendered_size < 3_000
        # Headers, a derived text part, ten redirects and the pixel: within three times the
        # HTML, and far under the 102 KB at which Gmail clips a message.
        assert len(wire) < 3 * rendered_size
        assert len(received(build(rendered)).as_bytes()) < 102 * 1024


class TestPublicUrlSetting:
    def test_it_defaults_to_the_local_service(self, tmp_path: Path) -> None:
        assert load_settings(data_dir=tmp_path).public_url == "http://127.0.0.1:8000"

    @pytest.mark.parametrize(
        ("given", "kept"),
        [
            ("https://cm.example.com/", "https://cm.example.com"),
            ("https://example.com:8443/campaigns/", "https://example.com:8443/campaigns"),
            ("http://localhost:8000", "http://localhost:8000"),
        ],
    )
    def test_a_base_url_is_kept_without_its_trailing_slash(
        self, tmp_path: Path, given: str, kept: str
    ) -> None:
        assert load_settings(data_dir=tmp_path, public_url=given).public_url == kept

    @pytest.mark.parametrize(
        "given",
        [
            "cm.example.com",
            "ftp://cm.example.com",
            "javascript:alert(1)",
            "https://",
            "https://user:pass@cm.example.com",
            "https://cm.example.com/?a=1",
            "https://cm.example.com/#x",
            "https://cm.example.com/a b",
            "https://bücher.example",
            "https://cm.example.com:99999",
            "https://cm.example.com/" + "a" * 200,
        ],
    )
    def test_anything_else_is_refused_naming_the_setting(self, tmp_path: Path, given: str) -> None:
        with pytest.raises(ConfigurationError) as raised:
            load_settings(data_dir=tmp_path, public_url=given)

        assert raised.value.setting == "CM_PUBLIC_URL"
