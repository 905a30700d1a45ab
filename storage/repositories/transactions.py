"""Transactions: money in and out, in minor units, optionally tied to a campaign."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, DateTime, SQLColumnExpression, cast, func, insert, select

from core.enums import TransactionType
from core.errors import NotFound
from core.money import check_currency_change, normalize_currency
from storage.models import Campaign, Transaction
from storage.repositories.base import Page, ScopedRepository, chunks, write_guard

SummaryGrouping = Literal["campaign", "category", "month"]


@dataclass(frozen=True)
class MoneyTotals:
    """Income, expense and net of one currency (in its minor unit) within one group.

    ``key`` is the group: a campaign id (``None`` for transactions without a campaign), a
    category, or a month as ``YYYY-MM``; ``None`` too when nothing is grouped.
    """

    key: str | None
    currency: str
    income_minor: int
    expense_minor: int
    net_minor: int
    count: int


class TransactionRepository(ScopedRepository[Transaction]):
    model = Transaction
    noun = "transaction"
    sortable = {
        "created_at": "created_at",
        "occurred_on": "occurred_on",
        "amount": "amount_minor",
    }
    default_sort = "-occurred_on"

    async def create(self, **values: Any) -> Transaction:
        await self.require(Campaign, values.get("campaign_id"), "campaign")
        values["currency"] = normalize_currency(values.get("currency", ""))
        return await super().create(**values)

    async def update(self, row_id: uuid.UUID, values: Mapping[str, Any]) -> Transaction:
        await self.require(Campaign, values.get("campaign_id"), "campaign")
        if "currency" in values:
            values = {**values, "currency": normalize_currency(values["currency"])}
            current = await self.get(row_id)
            check_currency_change(
                currency=current.currency,
                amount_minor=current.amount_minor,
                changes=values,
                amount_fields=("amount_minor", "amount"),
            )
        return await super().update(row_id, values)

    async def create_many(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert ``rows`` (the fields of ``create``), a few statements for any number, and
        return how many.

        Raises:
            NotFound: a row names a campaign outside this workspace (nothing is inserted).
        """
        referenced = {row["campaign_id"] for row in rows if row.get("campaign_id") is not None}
        unknown = referenced - await self.existing_campaign_ids(referenced)
        if unknown:
            raise NotFound(f"campaign {min(unknown)} not found")
        if not rows:
            return 0
        values = [
            {
                **row,
                "currency": normalize_currency(row.get("currency", "")),
                "workspace_id": self.workspace_id,
            }
            for row in rows
        ]
        # At most every column of the table is bound per row.
        per_row = len(Transaction.__table__.columns)
        async with write_guard(self.session, self.noun):
            for chunk in chunks(values, values_per_item=per_row):
                await self.session.execute(insert(Transaction), chunk)
        return len(values)

    async def existing_campaign_ids(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``ids`` that are campaigns of this workspace."""
        found: set[uuid.UUID] = set()
        for chunk in chunks(list(ids), values_per_item=1):
            found.update(
                await self.session.scalars(
                    select(Campaign.id).where(
                        Campaign.workspace_id == self.workspace_id, Campaign.id.in_(chunk)
                    )
                )
            )
        return found

    def _filters(
        self,
        type: TransactionType | None,
        campaign_id: uuid.UUID | None,
        category: str | None,
        occurred_from: date | None,
        occurred_to: date | None,
    ) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if type is not None:
            where.append(Transaction.type == type)
        if campaign_id is not None:
            where.append(Transaction.campaign_id == campaign_id)
        if category is not None:
            where.append(Transaction.category == category)
        if occurred_from is not None:
            where.append(Transaction.occurred_on >= occurred_from)
        if occurred_to is not None:
            where.append(Transaction.occurred_on <= occurred_to)
        return where

    async def search(
        self,
        *,
        type: TransactionType | None = None,
        campaign_id: uuid.UUID | None = None,
        category: str | None = None,
        occurred_from: date | None = None,
        occurred_to: date | None = None,
        sort: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Transaction]:
        where = self._filters(type, campaign_id, category, occurred_from, occurred_to)
        return await self.list(where=where, sort=sort, limit=limit, cursor=cursor)

    async def matching(
        self,
        *,
        type: TransactionType | None = None,
        campaign_id: uuid.UUID | None = None,
        category: str | None = None,
        occurred_from: date | None = None,
        occurred_to: date | None = None,
    ) -> list[Transaction]:
        """Every transaction that passes the filters, oldest first (for exports)."""
        where = self._filters(type, campaign_id, category, occurred_from, occurred_to)
        rows = await self.session.scalars(
            self._scoped()
            .where(*where)
            .order_by(Transaction.occurred_on, Transaction.created_at, Transaction.id)
        )
        return list(rows)

    async def summarize(
        self,
        *,
        group_by: SummaryGrouping | None = None,
        occurred_from: date | None = None,
        occurred_to: date | None = None,
    ) -> list[MoneyTotals]:
        """Income, expense and net per group and currency, summed by PostgreSQL.

        Amounts of different currencies are never added together: each currency of a group is
        its own row. Rows come ordered by group (groups without a key last), then currency.
        """
        amount = Transaction.amount_minor
        income = func.coalesce(
            func.sum(amount).filter(Transaction.type == TransactionType.INCOME), 0
        )
        expense = func.coalesce(
            func.sum(amount).filter(Transaction.type == TransactionType.EXPENSE), 0
        )
        key: SQLColumnExpression[Any] | None = None
        if group_by == "campaign":
            key = Transaction.campaign_id
        elif group_by == "category":
            key = Transaction.category
        elif group_by == "month":
            key = func.to_char(cast(Transaction.occurred_on, DateTime()), "YYYY-MM")
        grouping: list[SQLColumnExpression[Any]] = [] if key is None else [key]
        statement = (
            select(
                *grouping,
                Transaction.currency,
                income,
                expense,
                (income - expense).label("net"),
                func.count(),
            )
            .where(
                Transaction.workspace_id == self.workspace_id,
                *self._filters(None, None, None, occurred_from, occurred_to),
            )
            .group_by(*grouping, Transaction.currency)
            .order_by(*(k.asc().nulls_last() for k in grouping), Transaction.currency)
        )
        totals = []
        for row in await self.session.execute(statement):
            group_key, values = (None, tuple(row)) if key is None else (row[0], tuple(row)[1:])
            currency, income_sum, expense_sum, net, count = values
            totals.append(
                MoneyTotals(
                    key=None if group_key is None else str(group_key),
                    currency=currency,
                    income_minor=int(income_sum),
                    expense_minor=int(expense_sum),
                    net_minor=int(net),
                    count=int(count),
                )
            )
        return totals
