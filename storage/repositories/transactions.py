"""Transactions: money in and out, in minor units, optionally tied to a campaign."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement

from core.enums import TransactionType
from core.money import normalize_currency
from storage.models import Campaign, Transaction
from storage.repositories.base import Page, ScopedRepository


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
        return await super().update(row_id, values)

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
        return await self.list(where=where, sort=sort, limit=limit, cursor=cursor)
