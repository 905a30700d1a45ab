"""Email templates that would take a replica down are 422s naming the bound, at save and at
preview, and do not hold up anyone else's preview."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_sessionmaker
from storage.repositories.email_templates import EmailTemplateRepository
from tests.factories import make_artist
from tests.serve.conftest import Account, register

TEMPLATES = "/api/v1/email-templates"
TOO_LONG = "longer than 1000000 characters"
TOO_SLOW = "renders for more than 5 s"  # app_settings' template_render_seconds
TOO_BIG = "uses more than 512 MiB of memory"

# What an editor tried, and the bound that stops each.
HOSTILE = {
    "doubling with ~": (
        '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        TOO_LONG,
    ),
    "doubling with +": (
        '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
        TOO_LONG,
    ),
    "doubling in a block": (
        '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
        "{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}{% endfor %}{{ ns.s|length }}",
        TOO_LONG,
    ),
    "center": ('{{ "x"|center(1000000000) }}', TOO_LONG),
    "indent": ('{{ "a\nb"|indent(10**9) }}', TOO_LONG),
    "wordwrap": ('{{ "a b c d"|wordwrap(1, wrapstring="-" * 999999) }}', TOO_LONG),
    "format": ('{{ "%*s"|format(10**9, "x") }}', TOO_LONG),
    "% formatting": ('{{ "%*s" % (10**9, "x") }}', TOO_LONG),
    "str.format": ('{{ "{:>1000000000}".format("x") }}', TOO_LONG),
    "replace": ('{{ ("x" * 999999)|replace("x", "xx") }}', TOO_LONG),
    "join over nested ranges": ("{{ range(100000)|join(range(100000)|join) }}", TOO_LONG),
    "batch": ('{{ range(10)|batch(10**9, "x")|list|length }}', TOO_LONG),
    "nested loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        TOO_SLOW,
    ),
    "memory": (
        "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
        "{% set ns.l = [ns.l, range(100000)|list] %}{% endfor %}",
        TOO_BIG,
    ),
}
NESTED_LOOPS = HOSTILE["nested loops"][0]


async def create_template(api: httpx.AsyncClient, who: Account, **parts: str) -> httpx.Response:
    body = {"name": "Pitch", "subject": "New music for {{ artist.name }}", **parts}
    body.setdefault("body_text", "Hi {{ artist.name }}")
    return await api.post(TEMPLATES, json=body, headers=who.headers)


async def stored_template(engine: AsyncEngine, who: Account, body_text: str) -> str:
    """A template written straight to the database, as one saved before the checks were."""
    async with create_sessionmaker(engine).begin() as session:
        repo = EmailTemplateRepository(session, uuid.UUID(who.workspace_id))
        name = f"Old {uuid.uuid4().hex[:8]}"
        template = await repo.create(name=name, subject="Hi", body_text=body_text)
    return str(template.id)


async def an_artist(engine: AsyncEngine) -> str:
    async with create_sessionmaker(engine).begin() as session:
        artist = await make_artist(session, name="Nova")
    return str(artist.id)


async def preview(
    api: httpx.AsyncClient, who: Account, template_id: str, artist_id: str
) -> httpx.Response:
    return await api.post(
        f"{TEMPLATES}/{template_id}/preview", json={"artist_id": artist_id}, headers=who.headers
    )


def refusal(response: httpx.Response) -> tuple[int, list[str], str]:
    body = response.json()
    return response.status_code, [e["field"] for e in body.get("errors", [])], body["detail"]


class TestSavingAHostileTemplate:
    @pytest.mark.parametrize(("source", "bound"), HOSTILE.values(), ids=HOSTILE.keys())
    async def test_is_a_422_naming_the_part_and_the_bound(
        self, local_api: httpx.AsyncClient, source: str, bound: str
    ) -> None:
        owner = await register(local_api)
        status, fields, detail = refusal(await create_template(local_api, owner, body_text=source))
        assert (status, fields) == (422, ["body_text"])
        assert bound in detail

    async def test_an_update_is_checked_the_same_way(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        created = await create_template(local_api, owner)
        assert created.status_code == 201, created.text
        response = await local_api.patch(
            f"{TEMPLATES}/{created.json()['id']}",
            json={"body_html": HOSTILE["center"][0]},
            headers=owner.headers,
        )
        status, fields, detail = refusal(response)
        assert (status, fields) == (422, ["body_html"])
        assert TOO_LONG in detail


class TestPreviewingAHostileTemplate:
    @pytest.mark.parametrize(("source", "bound"), HOSTILE.values(), ids=HOSTILE.keys())
    async def test_is_a_422_naming_the_part_and_the_bound(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine, source: str, bound: str
    ) -> None:
        owner = await register(local_api)
        template_id = await stored_template(engine, owner, source)
        response = await preview(local_api, owner, template_id, await an_artist(engine))
        status, fields, detail = refusal(response)
        assert (status, fields) == (422, ["body_text"])
        assert bound in detail


class TestOthersAreServedMeanwhile:
    async def test_a_normal_preview_is_served_while_a_hostile_one_renders(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        attacker, editor = await register(local_api), await register(local_api, name="Ada")
        artist_id = await an_artist(engine)
        hostile_id = await stored_template(engine, attacker, NESTED_LOOPS)
        normal = await create_template(local_api, editor, body_text="Hi {{ artist.name }}!")
        assert normal.status_code == 201, normal.text
        hostile_response, normal_response = await asyncio.gather(
            preview(local_api, attacker, hostile_id, artist_id),
            preview(local_api, editor, normal.json()["id"], artist_id),
        )
        assert normal_response.status_code == 200, normal_response.text
        assert normal_response.json()["text"] == "Hi Nova!"
        assert refusal(hostile_response)[0] == 422
        assert TOO_SLOW in refusal(hostile_response)[2]

    async def test_previews_work_again_after_a_renderer_was_killed(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        artist_id = await an_artist(engine)
        for source, _ in (HOSTILE["nested loops"], HOSTILE["memory"]):
            hostile = await preview(
                local_api, owner, await stored_template(engine, owner, source), artist_id
            )
            assert hostile.status_code == 422
        normal = await create_template(local_api, owner, body_text="{{ artist.name|upper }}")
        assert normal.status_code == 201, normal.text
        response = await preview(local_api, owner, normal.json()["id"], artist_id)
        assert (response.status_code, response.json()["text"]) == (200, "NOVA")
