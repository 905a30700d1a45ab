"""Keyset pagination edges, seen through the campaign and artist repositories."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput
from storage.models import Workspace
from storage.repositories.artists import ArtistFilter, ArtistRepository
from storage.repositories.campaigns import CampaignRepository
from tests.factories import make_campaign, make_workspace


async def walk(repo: CampaignRepository, *, sort: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await repo.list(sort=sort, limit=limit, cursor=cursor)
        pages.append([c.name for c in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


async def campaigns(
    session: AsyncSession, workspace: Workspace, names: list[str], **fields: object
) -> None:
    for name in names:
        await make_campaign(session, workspace=workspace, name=name, **fields)


class TestPageBoundaries:
    async def test_an_empty_list_is_one_empty_page(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        page = await CampaignRepository(session, workspace.id).list()
        assert (page.items, page.next_cursor) == ([], None)

    async def test_exactly_one_full_page_has_no_next_cursor(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        await campaigns(session, workspace, ["a", "b", "c"])
        page = await CampaignRepository(session, workspace.id).list(limit=3)
        assert len(page.items) == 3 and page.next_cursor is None

    async def test_one_row_more_than_a_page_makes_a_second_page(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        await campaigns(session, workspace, ["a", "b", "c", "d"])
        assert await walk(CampaignRepository(session, workspace.id), sort="name", limit=3) == [
            ["a", "b", "c"],
            ["d"],
        ]

    async def test_equal_sort_values_are_neither_skipped_nor_repeated(
        self, session: AsyncSession
    ) -> None:
        # Every row created in one transaction shares created_at: only the id tie-break orders them.
        workspace = await make_workspace(session)
        names = [f"c{n:02d}" for n in range(7)]
        await campaigns(session, workspace, names)
        repo = CampaignRepository(session, workspace.id)
        for sort in ("created_at", "-created_at"):
            pages = await walk(repo, sort=sort, limit=2)
            seen = [name for page in pages for name in page]
            assert sorted(seen) == names and len(pages) == 4
        assert [n for p in await walk(repo, sort="created_at", limit=2) for n in p] == names

    async def test_descending_budget_pages_in_order(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        for budget in (300, 100, 200, 100):
            await make_campaign(
                session, workspace=workspace, name=f"b{budget}", budget_minor=budget
            )
        pages = await walk(repo, sort="-budget", limit=1)
        assert [p[0] for p in pages] == ["b300", "b200", "b100", "b100"]

    async def test_rows_added_between_pages_do_not_shift_later_pages(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        await campaigns(session, workspace, ["b", "d", "f"])
        repo = CampaignRepository(session, workspace.id)
        first = await repo.list(sort="name", limit=2)
        await campaigns(session, workspace, ["a", "c"])
        second = await repo.list(sort="name", limit=2, cursor=first.next_cursor)
        assert [c.name for c in first.items] == ["b", "d"]
        assert [c.name for c in second.items] == ["f"]

    async def test_catalogue_search_pages_by_followers(self, session: AsyncSession) -> None:
        repo = ArtistRepository(session)
        await repo.upsert_many(
            {"soundcloud_id": 900 + n, "name": f"p{n}", "permalink": f"p{n}", "followers": n % 3}
            for n in range(9)
        )
        criteria = ArtistFilter(soundcloud_ids=[900 + n for n in range(9)])
        seen, cursor = [], None
        while True:
            page = await repo.search(criteria, sort="-followers", limit=4, cursor=cursor)
            seen += [(a.followers, a.name) for a in page.items]
            if (cursor := page.next_cursor) is None:
                break
        assert len(seen) == 9 and len(set(seen)) == 9
        assert [f for f, _ in seen] == sorted((f for f, _ in seen), reverse=True)


class TestBadPagingInput:
    @pytest.mark.parametrize("limit", [0, -1, 201])
    async def test_a_limit_out_of_range_names_the_limit(
        self, session: AsyncSession, limit: int
    ) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput) as error:
            await CampaignRepository(session, workspace.id).list(limit=limit)
        assert error.value.problems[0].field == "limit"

    @pytest.mark.parametrize("cursor", ["garbage", "", "eyJ4IjoxfQ", "W10"])
    async def test_a_garbled_cursor_names_the_cursor(
        self, session: AsyncSession, cursor: str
    ) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput) as error:
            await CampaignRepository(session, workspace.id).list(cursor=cursor)
        assert error.value.problems[0].field == "cursor"

    async def test_a_cursor_from_another_sort_order_is_refused(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        await campaigns(session, workspace, ["a", "b"])
        repo = CampaignRepository(session, workspace.id)
        page = await repo.list(sort="name", limit=1)
        with pytest.raises(InvalidInput, match="made for sort 'name'"):
            await repo.list(sort="-name", cursor=page.next_cursor)
