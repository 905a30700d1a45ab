"""The edge (serve/edge.py): text PostgreSQL cannot store, JSON nested too deep and bodies too
large are refused before any route runs, as problem+json naming the field or the bound."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from serve.app import build_app
from serve.edge import MAX_JSON_DEPTH
from tests.serve.conftest import Account, register

API = "/api/v1"
NUL = "\x00"
LONE_SURROGATE = "\ud800"
BAD_TEXT = pytest.mark.parametrize("bad", [NUL, LONE_SURROGATE], ids=["nul", "lone-surrogate"])


def tag() -> str:
    return f"edge{secrets.token_hex(6)}"


async def send_json(
    api: httpx.AsyncClient, method: str, url: str, body: Any, who: Account | None = None
) -> httpx.Response:
    """``body`` as JSON with ASCII escapes: the only way to carry ``\\u0000`` and a lone
    ``\\ud800``, which httpx's own encoder refuses."""
    headers = {"Content-Type": "application/json", **(who.headers if who else {})}
    return await api.request(method, url, content=json.dumps(body).encode(), headers=headers)


def problem(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == type_
    return body


def refused_field(response: httpx.Response) -> str:
    """The one field a 422 validation-error names."""
    [error] = problem(response, 422, "/problems/validation-error")["errors"]
    field: str = error["field"]
    return field


def items(response: httpx.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    listed: list[Any] = body["items"] if isinstance(body, dict) else body
    return listed


@pytest.fixture
async def owner(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api)


@pytest.fixture
async def artist_id(local_api: httpx.AsyncClient, owner: Account) -> str:
    sc_id = 10**12 + secrets.randbelow(10**15)
    body = {"soundcloud_id": sc_id, "name": f"Artist {tag()}", "permalink": f"p{sc_id}"}
    response = await local_api.post(f"{API}/artists", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@dataclass(frozen=True)
class Write:
    """A write whose body carries ``bad`` in one field, and the listing that must stay empty."""

    method: str
    path: str
    body: dict[str, Any]
    field: str
    listing: str


def writes(bad: str, marker: str) -> list[Write]:
    return [
        Write("POST", "/campaigns", {"name": f"Tour{bad}"}, "name", "/campaigns"),
        Write(
            "POST",
            "/suppressions",
            {"email": f"a{bad}@b.example"},
            "email",
            "/suppressions",
        ),
        Write(
            "POST",
            "/transactions",
            {
                "type": "income",
                "amount_minor": 500,
                "currency": "EUR",
                "occurred_on": "2026-03-01",
                "description": f"Gig{bad}",
            },
            "description",
            "/transactions",
        ),
        Write(
            "POST",
            "/artists",
            {
                "soundcloud_id": 10**12 + secrets.randbelow(10**15),
                "name": f"{marker}{bad}",
                "permalink": marker,
            },
            "name",
            f"/artists?q={marker}",
        ),
        Write(
            "POST",
            "/analytics/events",
            {
                "entity_type": "campaign",
                "event_type": "release.premiered",
                "data": {"reviews": [{"text": "fine"}, {"text": f"loud{bad}"}]},
            },
            "data.reviews.1.text",
            "/analytics/events",
        ),
        Write(
            "POST",
            "/artists/{artist}/contacts",
            {"email": f"x{bad}@y.example"},
            "email",
            "/artists/{artist}/contacts",
        ),
        Write(
            "POST",
            "/artists/{artist}/notes",
            {"body": f"Hi{bad}"},
            "body",
            "/artists/{artist}/notes",
        ),
        Write(
            "POST",
            "/discovery-jobs",
            {"terms": ["techno", f"house{bad}"]},
            "terms.1",
            "/discovery-jobs",
        ),
        Write(
            "PUT",
            "/settings/ui.theme",
            {"value": {"mode": f"dark{bad}"}},
            "value.mode",
            "/settings",
        ),
        Write(
            "PUT",
            "/settings/ui.theme",
            {"value": {f"mode{bad}": "dark"}},
            "value.mode\ufffd",
            "/settings",
        ),
    ]


WRITE_IDS = [
    "campaign",
    "suppression",
    "transaction",
    "artist",
    "analytics-event",
    "contact",
    "note",
    "discovery-job",
    "setting-value",
    "setting-key",
]


class TestTextPostgresqlCannotStoreIsRefusedAtTheEdge:
    @BAD_TEXT
    @pytest.mark.parametrize("index", range(len(WRITE_IDS)), ids=WRITE_IDS)
    async def test_a_write_is_a_422_naming_the_field_and_nothing_is_written(
        self,
        local_api: httpx.AsyncClient,
        owner: Account,
        artist_id: str,
        bad: str,
        index: int,
    ) -> None:
        marker = tag()
        write = writes(bad, marker)[index]
        path = API + write.path.format(artist=artist_id)
        response = await send_json(local_api, write.method, path, write.body, owner)
        assert refused_field(response) == write.field
        listing = API + write.listing.format(artist=artist_id)
        assert items(await local_api.get(listing, headers=owner.headers)) == []

    @BAD_TEXT
    async def test_register_is_a_422_and_the_account_does_not_exist(
        self, local_api: httpx.AsyncClient, bad: str
    ) -> None:
        email = f"{tag()}@label.example"
        password = "correct horse battery"
        body = {"email": email, "password": password, "display_name": f"Mia{bad}"}
        response = await send_json(local_api, "POST", f"{API}/auth/register", body)
        assert refused_field(response) == "display_name"
        login = await local_api.post(
            f"{API}/auth/login", json={"email": email, "password": password}
        )
        assert login.status_code == 401, login.text

    @BAD_TEXT
    async def test_renaming_the_workspace_is_a_422_and_the_name_stays(
        self, local_api: httpx.AsyncClient, owner: Account, bad: str
    ) -> None:
        before = (await local_api.get(f"{API}/me", headers=owner.headers)).json()
        response = await send_json(
            local_api, "PATCH", f"{API}/workspace", {"name": f"Label{bad}"}, owner
        )
        assert refused_field(response) == "name"
        after = (await local_api.get(f"{API}/me", headers=owner.headers)).json()
        assert after == before

    async def test_a_bare_json_string_names_the_body(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await send_json(local_api, "POST", f"{API}/campaigns", NUL, owner)
        assert refused_field(response) == "body"

    async def test_text_that_only_looks_escaped_and_paired_surrogates_are_kept(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        # An emoji travels as a surrogate pair "\ud83c\udfb8"; an escaped backslash before
        # "u0000" is the six characters, not a NUL.
        name = "Tour \U0001f3b8 \\u0000"
        response = await send_json(local_api, "POST", f"{API}/campaigns", {"name": name}, owner)
        assert response.status_code == 201, response.text
        assert response.json()["name"] == name


class TestQueryStringsAreCheckedAtTheEdge:
    @pytest.mark.parametrize(
        "path", ["/campaigns", "/suppressions", "/artists", "/email-templates"]
    )
    async def test_a_nul_in_a_filter_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient, owner: Account, path: str
    ) -> None:
        response = await local_api.get(f"{API}{path}?q=a%00b", headers=owner.headers)
        assert refused_field(response) == "q"

    async def test_a_nul_in_a_parameter_name_is_a_422(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await local_api.get(f"{API}/campaigns?a%00=1", headers=owner.headers)
        assert refused_field(response) == "a\ufffd"

    async def test_an_ordinary_filter_still_answers(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await local_api.get(f"{API}/campaigns?q=tour%20%C3%A9", headers=owner.headers)
        assert items(response) == []


class TestPathsWithANulAreNotServerErrors:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/campaigns/%00"),
            ("GET", "/artists/%00"),
            ("GET", "/settings/%00"),
            ("PUT", "/settings/a%00b"),
            ("GET", "/transactions/%00"),
            ("GET", "/exports/%00"),
        ],
    )
    async def test_the_answer_is_a_404_or_a_422(
        self, local_api: httpx.AsyncClient, owner: Account, method: str, path: str
    ) -> None:
        response = await send_json(local_api, method, API + path, {"value": {}}, owner)
        assert response.status_code in {404, 405, 422}, response.text
        assert response.headers["content-type"] == "application/problem+json"


def multipart(*parts: tuple[bytes, bytes]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body built by hand: httpx escapes control characters in file
    names, which is what a hostile client would not do."""
    boundary = b"edge-boundary-7d1f"
    body = b"".join(
        b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n"
        for headers, data in parts
    )
    body += b"--" + boundary + b"--\r\n"
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}


def csv_part(filename: bytes, sc_id: int, name: str) -> tuple[bytes, bytes]:
    return (
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: text/csv",
        f"soundcloud_id,name,permalink\n{sc_id},{name},p{sc_id}\n".encode(),
    )


class TestFormsAreCheckedAtTheEdge:
    async def test_a_nul_in_an_uploaded_file_name_is_a_422_and_nothing_is_imported(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        marker = tag()
        body, headers = multipart(
            csv_part(b"art\x00ists.csv", 10**12 + 1 + secrets.randbelow(10**14), marker)
        )
        response = await local_api.post(
            f"{API}/artists/import", content=body, headers={**owner.headers, **headers}
        )
        assert refused_field(response) == "file"
        assert items(await local_api.get(f"{API}/artists?q={marker}", headers=owner.headers)) == []

    async def test_a_nul_in_a_text_field_of_a_multipart_body_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        marker = tag()
        body, headers = multipart(
            csv_part(b"artists.csv", 10**12 + secrets.randbelow(10**14), marker),
            (b'Content-Disposition: form-data; name="comment"', b"from the\x00 label"),
        )
        response = await local_api.post(
            f"{API}/artists/import", content=body, headers={**owner.headers, **headers}
        )
        assert refused_field(response) == "comment"
        assert items(await local_api.get(f"{API}/artists?q={marker}", headers=owner.headers)) == []

    async def test_a_nul_in_an_urlencoded_field_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await local_api.post(
            f"{API}/campaigns", data={"name": f"Tour{NUL}"}, headers=owner.headers
        )
        assert refused_field(response) == "name"

    @pytest.mark.parametrize(
        "content_type",
        ["multipart/form-data", "multipart/form-data; boundary=elsewhere"],
        ids=["no-boundary", "wrong-boundary"],
    )
    async def test_broken_multipart_data_is_a_422_naming_the_body(
        self, local_api: httpx.AsyncClient, owner: Account, content_type: str
    ) -> None:
        body, _ = multipart(csv_part(b"artists.csv", 10**12 + secrets.randbelow(10**14), tag()))
        response = await local_api.post(
            f"{API}/artists/import",
            content=body,
            headers={**owner.headers, "Content-Type": content_type},
        )
        assert refused_field(response) == "body"
        assert response.json()["errors"][0]["message"].startswith("invalid form data")

    async def test_an_ordinary_import_still_works(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        marker = tag()
        body, headers = multipart(
            csv_part(b"artists.csv", 10**12 + secrets.randbelow(10**14), marker),
            (b'Content-Disposition: form-data; name="comment"', b"from the label"),
        )
        response = await local_api.post(
            f"{API}/artists/import", content=body, headers={**owner.headers, **headers}
        )
        assert response.status_code == 200, response.text
        assert response.json()["inserted"] == 1


class TestHeadersThatAreStoredAreChecked:
    @pytest.mark.parametrize(
        "request_id",
        [b"r" * 101, b"id\x01with control", b"caf\xe9"],
        ids=["longer-than-the-audit-column", "control", "latin-1"],
    )
    async def test_a_request_id_other_than_short_printable_ascii_is_a_422_naming_it(
        self, local_api: httpx.AsyncClient, owner: Account, request_id: bytes
    ) -> None:
        # Audit rows store it (VARCHAR(100): a longer one was a 500) and logs print it.
        headers = [
            (b"Authorization", owner.headers["Authorization"].encode()),
            (b"X-Request-ID", request_id),
        ]
        response = await local_api.post(f"{API}/campaigns", json={"name": "Tour"}, headers=headers)
        assert refused_field(response) == "X-Request-ID"
        assert items(await local_api.get(f"{API}/campaigns", headers=owner.headers)) == []

    async def test_an_ordinary_request_id_is_recorded(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        request_id = str(uuid.uuid4())
        response = await local_api.post(
            f"{API}/campaigns",
            json={"name": "Tour"},
            headers={**owner.headers, "X-Request-ID": request_id},
        )
        assert response.status_code == 201, response.text
        audit = items(await local_api.get(f"{API}/audit-log", headers=owner.headers))
        assert request_id in {row["request_id"] for row in audit}


def nested(containers: int) -> Any:
    """A string inside ``containers`` objects and arrays, alternating."""
    value: Any = "deep"
    for level in range(containers):
        value = [value] if level % 2 else {"k": value}
    return value


class TestDeepJson:
    async def test_json_nested_past_the_bound_is_a_422_naming_the_body_and_the_bound(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        content = b'{"name": "Tour", "description": ' + b"[" * 1000 + b"]" * 1000 + b"}"
        response = await local_api.post(
            f"{API}/campaigns",
            content=content,
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert refused_field(response) == "body"
        assert str(MAX_JSON_DEPTH) in response.json()["errors"][0]["message"]

    async def test_json_at_the_bound_is_accepted_and_one_deeper_is_not(
        self, local_api: httpx.AsyncClient, owner: Account
    ) -> None:
        def event(depth: int) -> dict[str, Any]:
            # The body and its data object are the first two levels.
            return {
                "entity_type": "campaign",
                "event_type": "deep.test",
                "data": nested(depth - 1),
            }

        url = f"{API}/analytics/events"
        at_bound = await send_json(local_api, "POST", url, event(MAX_JSON_DEPTH), owner)
        assert at_bound.status_code == 201, at_bound.text
        past = await send_json(local_api, "POST", url, event(MAX_JSON_DEPTH + 1), owner)
        assert refused_field(past) == "body"


class TestMalformedBodies:
    @pytest.mark.parametrize(
        "content",
        [
            b'{"name": ',
            b'{"name": "\xff\xfe"}',
            b'{"name": "Tour", "budget_minor": ' + b"9" * 100_000 + b"}",
            b'{"name": "Tour", "budget_minor": NaN}',
            b"\x00",
        ],
        ids=["truncated", "not-utf-8", "100k-digit-int", "nan", "raw-nul"],
    )
    async def test_a_body_that_is_not_json_is_a_422_naming_the_body(
        self, local_api: httpx.AsyncClient, owner: Account, content: bytes
    ) -> None:
        response = await local_api.post(
            f"{API}/campaigns",
            content=content,
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert refused_field(response) == "body"
        assert response.json()["errors"][0]["message"].startswith("invalid JSON")
        assert items(await local_api.get(f"{API}/campaigns", headers=owner.headers)) == []

    @pytest.mark.parametrize(
        "number", [b"1e999999", b"-1e400", b"Infinity"], ids=["1e999999", "-1e400", "infinity"]
    )
    async def test_a_number_no_float_can_hold_is_refused_even_where_any_json_is_accepted(
        self, local_api: httpx.AsyncClient, owner: Account, number: bytes
    ) -> None:
        content = (
            b'{"entity_type": "campaign", "event_type": "x.y", "data": {"n": ' + number + b"}}"
        )
        response = await local_api.post(
            f"{API}/analytics/events",
            content=content,
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert refused_field(response) == "body"
        assert items(await local_api.get(f"{API}/analytics/events", headers=owner.headers)) == []


@pytest.fixture
async def small_api(app_settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process with small body limits, so that crossing them is cheap to test."""
    settings = app_settings.model_copy(
        update={"max_body_bytes": 4096, "max_upload_bytes": 16_384, "data_dir": tmp_path}
    )
    app = build_app(settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        yield client


async def chunks(content: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    """Sent without Content-Length (chunked), so the size is only known while streaming."""
    for start in range(0, len(content), size):
        yield content[start : start + size]


def padding_file(size: int) -> tuple[bytes, bytes]:
    """A second file part the import ignores, to make a body large."""
    return (b'Content-Disposition: form-data; name="padding"; filename="pad.bin"', b"p" * size)


def too_large(response: httpx.Response, limit: int) -> None:
    body = problem(response, 413, "/problems/payload-too-large")
    assert body["max_bytes"] == limit
    assert str(limit) in body["detail"]


class TestBodySizeLimit:
    async def test_the_default_limit_refuses_a_json_body_over_one_mebibyte(
        self, local_api: httpx.AsyncClient, owner: Account, app_settings: Settings
    ) -> None:
        content = json.dumps({"name": "Tour", "description": "x" * (1024 * 1024)}).encode()
        response = await local_api.post(
            f"{API}/campaigns",
            content=content,
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        too_large(response, app_settings.max_body_bytes)

    async def test_a_chunked_json_body_over_the_limit_is_a_413(
        self, small_api: httpx.AsyncClient
    ) -> None:
        owner = await register(small_api)
        content = json.dumps({"name": "Tour", "description": "x" * 5000}).encode()
        response = await small_api.post(
            f"{API}/campaigns",
            content=chunks(content),
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        too_large(response, 4096)
        assert items(await small_api.get(f"{API}/campaigns", headers=owner.headers)) == []

    async def test_a_json_body_under_the_limit_is_served(
        self, small_api: httpx.AsyncClient
    ) -> None:
        owner = await register(small_api)
        content = json.dumps({"name": "Tour", "description": "x" * 3000}).encode()
        response = await small_api.post(
            f"{API}/campaigns",
            content=chunks(content),
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
    async def test_an_upload_over_the_upload_limit_is_a_413_and_nothing_is_imported(
        self, small_api: httpx.AsyncClient, chunked: bool
    ) -> None:
        owner = await register(small_api)
        marker = tag()
        body, headers = multipart(
            csv_part(b"artists.csv", 10**12 + secrets.randbelow(10**14), marker),
            padding_file(20_000),
        )
        response = await small_api.post(
            f"{API}/artists/import",
            content=chunks(body) if chunked else body,
            headers={**owner.headers, **headers},
        )
        too_large(response, 16_384)
        assert items(await small_api.get(f"{API}/artists?q={marker}", headers=owner.headers)) == []

    async def test_an_upload_between_the_two_limits_is_imported(
        self, small_api: httpx.AsyncClient
    ) -> None:
        owner = await register(small_api)
        marker = tag()
        body, headers = multipart(
            csv_part(b"artists.csv", 10**12 + secrets.randbelow(10**14), marker),
            padding_file(8000),
        )
        response = await small_api.post(
            f"{API}/artists/import", content=chunks(body), headers={**owner.headers, **headers}
        )
        assert response.status_code == 200, response.text
        assert response.json()["inserted"] == 1

    async def test_a_text_field_of_an_upload_is_held_to_the_json_limit(
        self, small_api: httpx.AsyncClient
    ) -> None:
        owner = await register(small_api)
        body, headers = multipart(
            csv_part(b"artists.csv", 10**12 + secrets.randbelow(10**14), tag()),
            (b'Content-Disposition: form-data; name="comment"', b"c" * 8000),
        )
        response = await small_api.post(
            f"{API}/artists/import", content=body, headers={**owner.headers, **headers}
        )
        assert refused_field(response) == "comment"
        assert "4096" in response.json()["errors"][0]["message"]

    async def test_a_multipart_body_to_a_route_without_files_has_the_json_limit(
        self, small_api: httpx.AsyncClient
    ) -> None:
        owner = await register(small_api)
        body, headers = multipart((b'Content-Disposition: form-data; name="name"', b"n" * 8000))
        response = await small_api.post(
            f"{API}/campaigns", content=body, headers={**owner.headers, **headers}
        )
        too_large(response, 4096)
