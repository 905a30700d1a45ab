"""Both CSV imports (artists, transactions) at their limits: large files are written in batches,
any line end parses, a bad cell is a row error, a file over a bound is a 422 naming it, and a
workspace's import cannot change what the shared catalogue lists."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.csv_import import MAX_CELL_CHARS, MAX_IMPORT_ROWS
from storage.database import create_sessionmaker
from storage.models import Artist, ArtistContact, Transaction
from tests.serve.conftest import Account, register

ARTISTS = "/api/v1/artists"
TRANSACTIONS = "/api/v1/transactions"
ARTIST_HEADER = "soundcloud_id,name,permalink,email"
TRANSACTION_HEADER = "type,amount,currency,occurred_on,description"


def first_id() -> int:
    """The first of a range of SoundCloud ids no other test uses."""
    return 10**13 + secrets.randbelow(10**13) * 10**5


async def upload(
    api: httpx.AsyncClient, url: str, who: Account, data: str | bytes
) -> httpx.Response:
    content = data.encode() if isinstance(data, str) else data
    return await api.post(
        f"{url}/import", files={"file": ("data.csv", content, "text/csv")}, headers=who.headers
    )


def artist_rows(start: int, count: int, tag: str) -> str:
    return "".join(
        f"{start + i},Bulk {tag} {i},bulk-{tag}-{i},a{i}@{tag}.example\n" for i in range(count)
    )


def transaction_rows(count: int, description: str = "fee") -> str:
    return "".join(f"expense,1.25,EUR,2026-11-01,{description} {i}\n" for i in range(count))


async def listed(engine: AsyncEngine, start: int, count: int) -> int:
    """How many of SoundCloud ids ``start .. start + count - 1`` the catalogue holds."""
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(
            select(func.count(Artist.id)).where(
                Artist.soundcloud_id >= start, Artist.soundcloud_id < start + count
            )
        )
    return int(found or 0)


async def contacts_of(engine: AsyncEngine, who: Account) -> int:
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(
            select(func.count(ArtistContact.id)).where(
                ArtistContact.workspace_id == uuid.UUID(who.workspace_id)
            )
        )
    return int(found or 0)


async def transactions_of(engine: AsyncEngine, who: Account) -> int:
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(
            select(func.count(Transaction.id)).where(
                Transaction.workspace_id == uuid.UUID(who.workspace_id)
            )
        )
    return int(found or 0)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:2000]
    body: dict[str, Any] = response.json()
    return body


def file_problem(response: httpx.Response) -> str:
    """The detail of a 422 that names the file."""
    assert response.status_code == 422, response.text[:2000]
    assert response.headers["content-type"] == "application/problem+json"
    assert {error["field"] for error in response.json()["errors"]} == {"file"}
    return str(response.json()["detail"])


def problems(result: dict[str, Any]) -> set[tuple[int, str]]:
    return {(error["row"], error["field"]) for error in result["errors"]}


class TestLargeArtistImports:
    async def test_six_thousand_rows_with_emails_are_imported_with_their_contacts(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        start, tag = first_id(), secrets.token_hex(4)
        result = ok(
            await upload(
                local_api, ARTISTS, owner, ARTIST_HEADER + "\n" + artist_rows(start, 6000, tag)
            )
        )
        assert (result["rows"], result["inserted"], result["contacts_added"]) == (6000, 6000, 6000)
        assert (result["skipped"], result["errors"]) == (0, [])
        assert await listed(engine, start, 6000) == 6000
        assert await contacts_of(engine, owner) == 6000

    async def test_a_fifty_thousand_row_file_is_imported_in_full(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        start, tag = first_id(), secrets.token_hex(4)
        text = ARTIST_HEADER + "\n" + artist_rows(start, 50_000, tag)
        result = ok(await upload(local_api, ARTISTS, owner, text))
        assert (result["rows"], result["inserted"], result["contacts_added"]) == (
            50_000,
            50_000,
            50_000,
        )
        assert await listed(engine, start, 50_000) == 50_000
        assert await contacts_of(engine, owner) == 50_000

    async def test_a_file_over_the_row_limit_is_a_422_naming_it_and_writes_nothing(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        start = first_id()
        rows = "".join(f"{start + i},N,p\n" for i in range(MAX_IMPORT_ROWS + 1))
        detail = file_problem(
            await upload(local_api, ARTISTS, owner, "soundcloud_id,name,permalink\n" + rows)
        )
        assert f"{MAX_IMPORT_ROWS:,}" in detail
        assert await listed(engine, start, MAX_IMPORT_ROWS + 1) == 0

    async def test_only_the_first_problems_are_listed_but_every_bad_row_is_counted(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        bad = "".join(f"{first_id()},N,p,not-an-address-{i}\n" for i in range(3000))
        result = ok(await upload(local_api, ARTISTS, owner, ARTIST_HEADER + "\n" + bad))
        assert (result["rows"], result["inserted"], result["skipped"]) == (3000, 0, 3000)
        assert len(result["errors"]) == 1000
        assert result["errors"][0] == {
            "row": 2,
            "field": "email",
            "message": result["errors"][0]["message"],
        }


class TestArtistCells:
    async def test_cr_only_line_ends_parse(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        start, tag = first_id(), secrets.token_hex(4)
        text = (ARTIST_HEADER + "\n" + artist_rows(start, 3, tag)).replace("\n", "\r")
        result = ok(await upload(local_api, ARTISTS, owner, text))
        assert (result["rows"], result["inserted"], result["errors"]) == (3, 3, [])
        assert await listed(engine, start, 3) == 3

    async def test_a_cell_over_the_limit_is_a_row_error_naming_row_and_column(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        start = first_id()
        text = (
            "soundcloud_id,name,permalink\n"
            f"{start},Fine,fine\n"
            f'{start + 1},"{"x" * (MAX_CELL_CHARS + 1)}",long\n'
            f"{start + 2},Also fine,also\n"
        )
        result = ok(await upload(local_api, ARTISTS, owner, text))
        assert (result["rows"], result["inserted"], result["skipped"]) == (3, 2, 1)
        assert problems(result) == {(3, "name")}
        assert f"{MAX_CELL_CHARS:,}" in result["errors"][0]["message"]
        assert await listed(engine, start, 3) == 2

    async def test_a_nul_in_a_cell_is_a_row_error(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        start = first_id()
        text = f"soundcloud_id,name,permalink\n{start},Nu\x00ll,nul\n{start + 1},Fine,fine\n"
        result = ok(await upload(local_api, ARTISTS, owner, text))
        assert (result["inserted"], problems(result)) == (1, {(2, "name")})
        assert await listed(engine, start, 2) == 1

    async def test_a_row_with_more_cells_than_the_header_is_a_row_error(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        start = first_id()
        text = f"soundcloud_id,name,permalink\n{start},A,a,extra\n{start + 1},B,b\n"
        result = ok(await upload(local_api, ARTISTS, owner, text))
        assert (result["inserted"], problems(result)) == (1, {(2, "row")})

    async def test_unknown_and_missing_columns_are_a_422_naming_them(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        unknown = file_problem(
            await upload(local_api, ARTISTS, owner, "soundcloud_id,name,permalink,emial\n1,A,a,x\n")
        )
        assert "emial" in unknown
        missing = file_problem(await upload(local_api, ARTISTS, owner, "soundcloud_id,name\n1,A\n"))
        assert "permalink" in missing
        empty = file_problem(await upload(local_api, ARTISTS, owner, b""))
        assert "header" in empty


class TestTheSharedCatalogue:
    async def test_another_workspace_cannot_rename_a_listed_artist_by_import(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner, stranger = await register(local_api), await register(local_api, name="Stranger")
        start = first_id()
        created = await local_api.post(
            ARTISTS,
            json={"soundcloud_id": start, "name": "Original", "permalink": "orig", "city": "Oslo"},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        text = (
            "soundcloud_id,name,permalink,city,followers,email\n"
            f"{start},Vandalised,vandal,Paris,1,booking@vandal.example\n"
        )
        result = ok(await upload(local_api, ARTISTS, stranger, text))
        assert (result["inserted"], result["existing"], result["contacts_added"]) == (0, 1, 1)
        after = await local_api.get(f"{ARTISTS}/{created.json()['id']}", headers=owner.headers)
        assert {k: after.json()[k] for k in ("name", "permalink", "city", "updated_at")} == {
            k: created.json()[k] for k in ("name", "permalink", "city", "updated_at")
        }
        # The stranger still gets the artist's contact, as POST /contacts would give it.
        contacts = await local_api.get(
            f"{ARTISTS}/{created.json()['id']}/contacts", headers=stranger.headers
        )
        assert [c["email"] for c in contacts.json()["items"]] == ["booking@vandal.example"]

    async def test_a_repeated_artist_in_one_file_is_listed_once_as_its_first_row_says(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        start = first_id()
        text = (
            "soundcloud_id,name,permalink,email\n"
            f"{start},First,first,one@x.example\n"
            f"{start},Second,second,two@x.example\n"
        )
        result = ok(await upload(local_api, ARTISTS, owner, text))
        assert (result["inserted"], result["existing"], result["contacts_added"]) == (1, 1, 2)
        found = await local_api.get(ARTISTS, params={"q": "first"}, headers=owner.headers)
        assert start in {a["soundcloud_id"] for a in found.json()["items"]}


class TestTransactionImports:
    async def test_a_fifty_thousand_row_file_is_imported_in_full(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        text = TRANSACTION_HEADER + "\n" + transaction_rows(50_000)
        assert ok(await upload(local_api, TRANSACTIONS, owner, text)) == {
            "created": 50_000,
            "skipped": 0,
            "errors": [],
        }
        assert await transactions_of(engine, owner) == 50_000

    async def test_rows_naming_forty_thousand_unknown_campaigns_are_row_errors(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        rows = "".join(f"expense,1,EUR,2026-11-01,{uuid.uuid4()}\n" for _ in range(40_000))
        result = ok(
            await upload(
                local_api,
                TRANSACTIONS,
                owner,
                "type,amount,currency,occurred_on,campaign_id\n" + rows,
            )
        )
        assert (result["created"], result["skipped"], len(result["errors"])) == (0, 40_000, 1000)
        assert problems(result) == {(row, "campaign_id") for row in range(2, 1002)}
        assert await transactions_of(engine, owner) == 0

    async def test_cr_only_line_ends_parse(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        text = (TRANSACTION_HEADER + "\n" + transaction_rows(3)).replace("\n", "\r")
        assert ok(await upload(local_api, TRANSACTIONS, owner, text))["created"] == 3
        assert await transactions_of(engine, owner) == 3

    async def test_a_cell_over_the_limit_or_with_a_nul_is_a_row_error(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        text = (
            TRANSACTION_HEADER
            + "\n"
            + f'expense,1,EUR,2026-11-01,"{"x" * (MAX_CELL_CHARS + 1)}"\n'
            + "expense,1,EUR,2026-11-01,nul\x00here\n"
            + "expense,1,EUR,2026-11-01,fine\n"
        )
        result = ok(await upload(local_api, TRANSACTIONS, owner, text))
        assert (result["created"], result["skipped"]) == (1, 2)
        assert problems(result) == {(2, "description"), (3, "description")}
        assert await transactions_of(engine, owner) == 1

    async def test_a_file_over_the_row_limit_is_a_422_naming_it_and_writes_nothing(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        text = TRANSACTION_HEADER + "\n" + transaction_rows(MAX_IMPORT_ROWS + 1, "x")
        assert f"{MAX_IMPORT_ROWS:,}" in file_problem(
            await upload(local_api, TRANSACTIONS, owner, text)
        )
        assert await transactions_of(engine, owner) == 0

    async def test_unknown_columns_and_a_file_that_is_not_utf8_are_a_422_naming_file(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        assert "amonut" in file_problem(
            await upload(local_api, TRANSACTIONS, owner, "type,amonut,currency,occurred_on\n")
        )
        assert "UTF-8" in file_problem(
            await upload(local_api, TRANSACTIONS, owner, b"type,amount\n\xff\xfe\n")
        )
