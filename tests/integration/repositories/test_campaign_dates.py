"""The calendar moves campaigns of every workspace at once: scheduled ones start on their first
day, active ones complete after their last, and two callers at once never both move a row."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.campaign_rules import status_by_date
from core.enums import CampaignStatus as S
from storage.database import create_sessionmaker
from storage.models import Workspace
from storage.repositories.campaigns import CampaignRepository, DateMove
from tests.factories import make_campaign, make_workspace

TODAY = date(2026, 6, 15)


async def campaign_in(
    session: AsyncSession,
    workspace: Workspace,
    path: tuple[S, ...],
    start: date | None = None,
    end: date | None = None,
) -> uuid.UUID:
    """A campaign with these dates, moved by hand along ``path`` from draft."""
    campaign = await make_campaign(session, workspace=workspace, start_date=start, end_date=end)
    for status in path:
        await CampaignRepository(session, workspace.id).transition(campaign.id, status)
    return campaign.id


async def status_of(session: AsyncSession, workspace_id: uuid.UUID, campaign_id: uuid.UUID) -> S:
    campaign = await CampaignRepository(session, workspace_id).get(campaign_id)
    await session.refresh(campaign)
    return campaign.status


def mine(moves: list[DateMove], *workspaces: uuid.UUID) -> list[DateMove]:
    # The test database is shared: campaigns other tests committed may be due too.
    return [move for move in moves if move.workspace_id in workspaces]


class TestAdvanceByDates:
    async def test_due_campaigns_of_every_workspace_move_and_the_rest_stay(
        self, session: AsyncSession
    ) -> None:
        first, second = await make_workspace(session), await make_workspace(session)
        starts = await campaign_in(session, first, (S.SCHEDULED,), date(2026, 6, 15))
        ends = await campaign_in(session, second, (S.ACTIVE,), date(2026, 6, 1), date(2026, 6, 14))
        over = await campaign_in(
            session, second, (S.SCHEDULED,), date(2026, 6, 1), date(2026, 6, 10)
        )
        stays = [
            (first, (S.SCHEDULED,), date(2026, 6, 16), None),  # starts tomorrow
            (first, (S.ACTIVE,), date(2026, 6, 1), TODAY),  # today is its last day
            (first, (), date(2026, 6, 1), None),  # a draft was not meant to start
            (second, (S.ACTIVE, S.PAUSED), date(2026, 6, 1), date(2026, 6, 2)),
            (second, (S.CANCELLED,), date(2026, 6, 1), date(2026, 6, 2)),
        ]
        staying = [
            (workspace.id, await campaign_in(session, workspace, path, start, end), path)
            for workspace, path, start, end in stays
        ]

        moves = mine(await CampaignRepository.advance_by_dates(session, TODAY), first.id, second.id)

        assert sorted(moves) == sorted(
            [
                DateMove(first.id, starts, S.SCHEDULED, S.ACTIVE),
                DateMove(second.id, ends, S.ACTIVE, S.COMPLETED),
                DateMove(second.id, over, S.SCHEDULED, S.COMPLETED),
            ]
        )
        assert moves == sorted(moves, key=lambda move: (move.workspace_id, move.campaign_id))
        assert await status_of(session, first.id, starts) == S.ACTIVE
        assert await status_of(session, second.id, ends) == S.COMPLETED
        assert await status_of(session, second.id, over) == S.COMPLETED
        for workspace_id, campaign_id, path in staying:
            assert await status_of(session, workspace_id, campaign_id) == (path or (S.DRAFT,))[-1]

    async def test_a_second_call_the_same_day_moves_nothing_again(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        campaign_id = await campaign_in(session, workspace, (S.SCHEDULED,), date(2026, 6, 1))
        first = mine(await CampaignRepository.advance_by_dates(session, TODAY), workspace.id)
        assert first == [DateMove(workspace.id, campaign_id, S.SCHEDULED, S.ACTIVE)]
        assert mine(await CampaignRepository.advance_by_dates(session, TODAY), workspace.id) == []
        # Its last day passing moves it once more.
        await CampaignRepository(session, workspace.id).update(
            campaign_id, {"end_date": date(2026, 6, 20)}
        )
        later = mine(
            await CampaignRepository.advance_by_dates(session, date(2026, 6, 21)), workspace.id
        )
        assert later == [DateMove(workspace.id, campaign_id, S.ACTIVE, S.COMPLETED)]

    async def test_the_rows_moved_are_exactly_those_the_rule_moves(
        self, session: AsyncSession
    ) -> None:
        # The query picks due rows with a filter of its own: it must pick no fewer than the rule.
        workspace = await make_workspace(session)
        paths = {
            S.DRAFT: (),
            S.SCHEDULED: (S.SCHEDULED,),
            S.ACTIVE: (S.ACTIVE,),
            S.PAUSED: (S.ACTIVE, S.PAUSED),
            S.COMPLETED: (S.ACTIVE, S.COMPLETED),
            S.CANCELLED: (S.CANCELLED,),
        }
        days = (None, date(2026, 6, 14), TODAY, date(2026, 6, 16))
        expected = []
        for status, path in paths.items():
            for start in days:
                for end in days:
                    if start is not None and end is not None and end < start:
                        continue
                    campaign_id = await campaign_in(session, workspace, path, start, end)
                    target = status_by_date(status, start, end, TODAY)
                    if target is not None:
                        expected.append(DateMove(workspace.id, campaign_id, status, target))
        moves = mine(await CampaignRepository.advance_by_dates(session, TODAY), workspace.id)
        assert sorted(moves) == sorted(expected)
        assert len(expected) == 10  # 6 starts, 2 scheduled and 2 active ones completing


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[tuple[uuid.UUID, list[uuid.UUID]]]:
    """A committed workspace with three scheduled campaigns due today, removed afterwards."""
    async with create_sessionmaker(engine).begin() as session:
        workspace = await make_workspace(session)
        ids = [
            await campaign_in(session, workspace, (S.SCHEDULED,), date(2026, 6, day))
            for day in (1, 2, 3)
        ]
    yield workspace.id, ids
    async with create_sessionmaker(engine).begin() as session:
        await session.execute(delete(Workspace).where(Workspace.id == workspace.id))


class TestTwoCallersAtOnce:
    async def test_a_caller_skips_the_rows_another_has_not_committed_yet(
        self, engine: AsyncEngine, committed: tuple[uuid.UUID, list[uuid.UUID]]
    ) -> None:
        workspace_id, ids = committed
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as first, sessions.begin() as second:
            # Waiting for the first's locks would be a failure too: fail rather than hang.
            await second.execute(text("SET LOCAL lock_timeout = '10s'"))
            moved_first = mine(
                await CampaignRepository.advance_by_dates(first, TODAY), workspace_id
            )
            # The first has not committed: its rows are locked, and the second passes them by
            # instead of moving them too (or waiting).
            moved_second = mine(
                await CampaignRepository.advance_by_dates(second, TODAY), workspace_id
            )
            assert sorted(move.campaign_id for move in moved_first) == sorted(ids)
            assert moved_second == []
            await first.commit()
            # Once committed, they are no longer due.
            assert (
                mine(await CampaignRepository.advance_by_dates(second, TODAY), workspace_id) == []
            )

    async def test_callers_racing_move_each_campaign_exactly_once(
        self, engine: AsyncEngine, committed: tuple[uuid.UUID, list[uuid.UUID]]
    ) -> None:
        workspace_id, ids = committed
        sessions = create_sessionmaker(engine)

        async def advance() -> list[DateMove]:
            async with sessions.begin() as session:
                return mine(await CampaignRepository.advance_by_dates(session, TODAY), workspace_id)

        results = await asyncio.gather(*(advance() for _ in range(4)))
        moved = [move.campaign_id for result in results for move in result]
        assert sorted(moved) == sorted(ids)
        async with sessions() as session:
            assert {await status_of(session, workspace_id, i) for i in ids} == {S.ACTIVE}
