"""Email templates: checked when saved, rendered in a sandbox (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from core.errors import InvalidInput
from core.templating import (
    ArtistFields,
    CampaignFields,
    ContactFields,
    SenderFields,
    TemplateContext,
    render_email,
    template_variables,
    validate_template,
)


@dataclass
class Template:
    subject: str = "Hi {{ artist.name }}"
    body_html: str = "<p>Hello {{ artist.name }}</p>"
    body_text: str = "Hello {{ artist.name }}"


@dataclass
class ArtistRow:
    name: str = "Nova"
    soundcloud_username: str | None = "nova-music"
    permalink: str = "nova"
    permalink_url: str | None = "https://soundcloud.com/nova"
    city: str | None = "Berlin"
    country: str | None = "DE"
    genres: list[str] | None = None
    followers: int = 12_500
    tracks: int = 42


def context(**artist: object) -> TemplateContext:
    row = replace(ArtistRow(genres=["house", "techno"]), **artist)
    return TemplateContext(
        artist=ArtistFields.of(row),  # type: ignore[arg-type]
        contact=ContactFields(email="nova@music.example"),
        campaign=CampaignFields(name="Spring release"),
        sender=SenderFields(name="Mia", email="mia@label.example"),
        unsubscribe_url="https://cm.example/u/abc?x=1&y=2",
    )


def problems(parts: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as raised:
        validate_template(parts)
    return [(p.field, p.message) for p in raised.value.problems]


class TestRendering:
    def test_every_documented_variable_renders(self) -> None:
        text = " | ".join(
            "{{ " + variable.name + " }}"
            for variable in template_variables()
            if variable.name != "artist.genres"
        )
        rendered = render_email(Template(body_text=text), context())
        assert rendered.text == (
            "Nova | nova-music | nova | https://soundcloud.com/nova | Berlin | DE | 12500 | 42"
            " | nova@music.example | Spring release | Mia | mia@label.example"
            " | https://cm.example/u/abc?x=1&y=2"
        )

    def test_genres_print_as_a_list_of_words_and_can_be_looped(self) -> None:
        template = Template(
            body_text="{{ artist.genres }}; {% for g in artist.genres %}#{{ g }} {% endfor %}"
        )
        assert render_email(template, context()).text == "house, techno; #house #techno "

    def test_a_missing_value_is_empty_and_can_have_a_fallback(self) -> None:
        template = Template(body_text="[{{ artist.city }}] {{ artist.city or 'your city' }}")
        assert render_email(template, context(city=None)).text == "[] your city"

    def test_the_subject_is_one_line(self) -> None:
        rendered = render_email(
            Template(subject="Hi {{ artist.name }}!"), context(name="A\r\nBcc: x")
        )
        assert rendered.subject == "Hi A Bcc: x!"

    def test_an_artist_without_genres_prints_none(self) -> None:
        rendered = render_email(Template(body_text="[{{ artist.genres }}]"), context(genres=None))
        assert rendered.text == "[]"


class TestEscaping:
    def test_artist_fields_are_escaped_in_html(self) -> None:
        rendered = render_email(Template(), context(name='<script>alert("x")</script>'))
        assert rendered.html == "<p>Hello &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>"

    def test_text_and_subject_are_not_html_and_are_not_escaped(self) -> None:
        rendered = render_email(Template(), context(name="Tom & Jerry <3"))
        assert (rendered.subject, rendered.text) == ("Hi Tom & Jerry <3", "Hello Tom & Jerry <3")

    def test_a_url_in_an_html_attribute_is_escaped_for_html(self) -> None:
        template = Template(body_html='<a href="{{ unsubscribe_url }}">unsubscribe</a>')
        assert render_email(template, context()).html == (
            '<a href="https://cm.example/u/abc?x=1&amp;y=2">unsubscribe</a>'
        )


class TestSandbox:
    @pytest.mark.parametrize(
        "escape",
        [
            "{{ ''.__class__.__mro__ }}",
            "{{ artist.__class__.__init__.__globals__ }}",
            "{{ cycler.__init__.__globals__.os }}",
            "{{ artist['__dict__'] }}",
        ],
    )
    def test_a_private_attribute_is_refused_when_saved(self, escape: str) -> None:
        found = problems({"body_text": escape})
        assert found
        assert all(
            part == "body_text" and "private attribute '__" in message for part, message in found
        )

    @pytest.mark.parametrize(
        "escape",
        [
            "{{ ''.__class__.__mro__ }}",
            "{{ artist.__class__.__init__.__globals__ }}",
            "{{ cycler.__init__.__globals__ }}",
            "{{ (artist|attr('__class__')).__mro__ }}",
        ],
    )
    def test_a_private_attribute_does_not_leak_when_rendered(self, escape: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            render_email(Template(body_text=escape), context())
        (problem,) = raised.value.problems
        assert problem.field == "body_text"
        assert "unsafe" in problem.message
        assert "<class" not in problem.message

    def test_huge_repetition_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="too long"):
            render_email(Template(body_text="{{ 'x' * 100000000 }}"), context())

    def test_huge_powers_are_refused(self) -> None:
        with pytest.raises(InvalidInput, match="exponents"):
            render_email(Template(body_text="{{ 10 ** 100000000 }}"), context())

    def test_huge_output_is_refused(self) -> None:
        template = Template(body_text="{% for i in range(99999) %}{{ 'x' * 99 }}{% endfor %}")
        with pytest.raises(InvalidInput, match="more than"):
            render_email(template, context())

    def test_other_templates_cannot_be_included(self) -> None:
        assert problems({"body_html": "{% include 'secrets.html' %}"}) == [
            ("body_html", "line 1: a template cannot extend, include or import other templates")
        ]


class TestValidation:
    def test_a_good_template_passes(self) -> None:
        validate_template(
            {
                "subject": "{{ artist.name }} x {{ campaign.name }}",
                "body_html": (
                    "{% set n = namespace(total=0) %}{% for g in artist.genres %}"
                    "{{ loop.index }}{{ g|upper }}{% endfor %}"
                    "{% for artist in [1] %}{{ artist.anything }}{% endfor %}"
                ),
                "body_text": "{{ sender.name }} <{{ sender.email }}> {{ unsubscribe_url }}",
            }
        )

    def test_a_syntax_error_names_the_part_and_line(self) -> None:
        assert problems({"subject": "ok", "body_text": "Hi\n\n{{ artist.name }"}) == [
            ("body_text", "line 3: unexpected '}'")
        ]

    def test_an_unknown_variable_names_the_part_and_line(self) -> None:
        ((part, message),) = problems({"body_html": "<p>\n{{ artst.name }}</p>"})
        assert part == "body_html"
        assert message.startswith("line 2: unknown variable 'artst'")

    def test_a_misspelled_field_names_the_part_line_and_real_fields(self) -> None:
        ((part, message),) = problems({"subject": "Hi {{ artist.nmae }}"})
        assert part == "subject"
        assert message.startswith("line 1: artist has no field 'nmae'; it has city, country")

    def test_every_bad_part_is_reported_at_once(self) -> None:
        found = problems(
            {"subject": "{{ nope }}", "body_html": "{% if %}", "body_text": "{{ sender.phone }}"}
        )
        assert [part for part, _ in found] == ["subject", "body_html", "body_text"]


class TestUndefinedWhenRendering:
    def test_an_unknown_field_fails_rendering_with_the_part_and_line(self) -> None:
        # Templates saved before validation existed, or bypassing it, still fail loudly.
        template = Template(body_html="<p>\n\n{{ artist.nmae }}</p>")
        with pytest.raises(InvalidInput) as raised:
            render_email(template, context())
        (problem,) = raised.value.problems
        assert problem.field == "body_html"
        assert problem.message.startswith("line 3: ")
        assert "nmae" in problem.message

    def test_an_unknown_name_fails_rendering(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            render_email(Template(subject="{{ artst }}"), context())
        assert [p.field for p in raised.value.problems] == ["subject"]
        assert "'artst' is undefined" in raised.value.problems[0].message
