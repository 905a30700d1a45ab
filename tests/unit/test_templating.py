"""Email templates: checked when saved, rendered in a sandbox (no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pytest

from core.errors import InvalidInput
from core.templating import (
    ArtistFields,
    CampaignFields,
    ContactFields,
    SenderFields,
    TemplateContext,
    TemplateRefused,
    render_email,
    sample_context,
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


def context(**artist: Any) -> TemplateContext:
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


class TestSizeBounds:
    @pytest.mark.parametrize(
        "hostile",
        [
            '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
            '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
            "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
            '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
            "{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}{% endfor %}{{ ns.s|length }}",
            "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}"
            "{% else %}{{ 'x' * 99999 }}{% endif %}{% endmacro %}{{ m(40)|length }}",
            "{% set ns = namespace(s=[1]) %}{% for i in range(40) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
            '{{ "x"|center(1000000000) }}',
            '{{ "a\nb"|indent(10**9) }}',
            '{{ "a"|indent(10**9, first=true) }}',
            '{{ "a b c"|wordwrap(1, wrapstring="-" * 999999) }}',
            '{{ "%*s"|format(10**9, "x") }}',
            '{{ "%.1000000000f"|format(1.5) }}',
            '{{ "%*s" % (10**9, "x") }}',
            '{{ "{:>1000000000}".format("x") }}',
            '{{ "{:{}}".format("x", 10**9) }}',
            '{{ "{a:>1000000000}".format_map({"a": 1}) }}',
            '{{ ("x" * 999999)|replace("x", "xx") }}',
            '{{ "ab"|replace("", "-" * 999999) }}',
            "{{ range(100000)|join(range(100000)|join) }}",
            '{{ ("-" * 1000).join(range(100000)) }}',
            '{{ range(10)|batch(10**9, "x")|list|length }}',
            "{{ [1, 2]|slice(10**9)|list|length }}",
            '{{ "x".center(10**9) }}',
            '{{ "x".rjust(10**9) }}',
            '{{ "1".zfill(10**9) }}',
            '{{ "\t\t".expandtabs(10**9) }}',
            '{{ {"a": [1, [2]]}|tojson(indent=10**9) }}',
        ],
    )
    def test_a_value_over_the_bound_is_refused_before_it_is_built(self, hostile: str) -> None:
        with pytest.raises(TemplateRefused) as raised:
            render_email(Template(body_text=hostile), context())
        assert raised.value.part == "body_text"
        assert raised.value.message.endswith("would be longer than 1000000 characters")

    def test_ordinary_widths_and_joins_still_render(self) -> None:
        template = Template(
            body_text=(
                '[{{ "ab"|center(6) }}][{{ "a\nb"|indent(2) }}][{{ "a b"|wordwrap(1) }}]'
                '[{{ "%5s|%-3d"|format("x", 7) }}][{{ "%*s" % (3, "y") }}]'
                '[{{ "{:>4}".format("z") }}][{{ artist.name|replace("a", "4") }}]'
                '[{{ artist.genres|join("/") }}][{{ range(5)|batch(2, 0)|list|length }}]'
                '[{{ "x".ljust(3, ".") }}][{{ artist.name ~ "!" }}][{{ "ab"|truncate(10**9) }}]'
            )
        )
        assert render_email(template, context()).text == (
            "[  ab  ][a\n  b][a\nb][    x|7  ][  y][   z][Nov4][house/techno][3][x..][Nova!][ab]"
        )

    def test_lists_cannot_be_changed_in_place(self) -> None:
        # ``l.extend(l)`` forty times would need no ``+`` to reach a trillion items.
        template = Template(body_text="{% set l = [1] %}{{ l.extend(l) }}")
        with pytest.raises(TemplateRefused, match="'extend' of 'list' object is unsafe"):
            render_email(template, context())


class TestContextData:
    def test_a_context_survives_the_trip_to_another_process(self) -> None:
        original = context(city=None)
        rebuilt = TemplateContext.from_data(json.loads(json.dumps(original.to_data())))
        assert rebuilt == original
        assert str(rebuilt.artist.genres) == "house, techno"

    def test_the_sample_recipient_has_every_field_filled(self) -> None:
        sample = sample_context().variables()
        for variable in template_variables():
            value = sample
            for name in variable.name.split("."):
                value = value[name] if isinstance(value, dict) else getattr(value, name)
            assert value, variable.name


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
