"""Transactions: money in and out, their summaries, and CSV import and export."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from core.csv_import import (
    IMPORT_FILE_RULES,
    MAX_IMPORT_BYTES,
    ProblemLog,
    RowProblem,
    read_csv,
)
from core.errors import FieldProblem, InvalidInput
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.exports import ExportRead, save_export, to_csv
from serve.reads import cached
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.schemas.finance import (
    DateRange,
    MoneyTotals,
    RowError,
    SummaryGroup,
    SummaryGrouping,
    TransactionCreate,
    TransactionFilters,
    TransactionImportResult,
    TransactionImportRow,
    TransactionRead,
    TransactionSummary,
    TransactionUpdate,
)
from storage.budgets import BudgetWatch
from storage.repositories.transactions import TransactionRepository

router = APIRouter(prefix="/transactions", tags=["transactions"])

TransactionSort = Annotated[
    str,
    Query(pattern=r"^-?(occurred_on|amount|created_at)$", description="Field, '-' for descending."),
]
Filters = Annotated[TransactionFilters, Query()]
Dates = Annotated[DateRange, Query()]

IMPORT_COLUMNS = (
    "type",
    "amount",
    "amount_minor",
    "currency",
    "category",
    "description",
    "occurred_on",
    "campaign_id",
)
EXPORT_COLUMNS = (
    "occurred_on",
    "type",
    "amount",
    "currency",
    "category",
    "description",
    "campaign_id",
)


def _key(*parts: object) -> str:
    # JSON keeps free-text filters from running into each other (a category containing ':').
    return json.dumps(parts, default=str, separators=(",", ":"))


@router.get("", response_model=Page[TransactionRead])
async def list_transactions(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    filters: Filters,
    sort: TransactionSort = "-occurred_on",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """List the workspace's transactions, filtered and sorted, a page at a time."""

    async def load() -> dict[str, object]:
        page = await TransactionRepository(session, principal.workspace_id).search(
            **filters.model_dump(), sort=sort, limit=limit, cursor=cursor
        )
        return page_of(page, TransactionRead)

    key = "list:" + _key(filters.model_dump(mode="json"), sort, limit, cursor)
    return await cached(resources, principal, "transaction", key, load)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TransactionRead)
async def create_transaction(
    body: TransactionCreate, principal: Editor, session: SessionDep, activity: ActivityDep
) -> TransactionRead:
    """Record money in or out, optionally for one of the workspace's campaigns."""
    columns = body.columns()
    budgets = BudgetWatch(session, principal.workspace_id)
    await budgets.campaigns([columns.get("campaign_id")])
    transaction = await TransactionRepository(session, principal.workspace_id).create(
        **columns, created_by=principal.user_id
    )
    await activity.record(
        "transaction.create",
        "transaction",
        transaction.id,
        {
            "type": transaction.type,
            "amount_minor": transaction.amount_minor,
            "currency": transaction.currency,
        },
    )
    await budgets.settle(activity)
    return TransactionRead.model_validate(transaction)


@router.get("/summary", response_model=TransactionSummary)
async def summarize_transactions(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    group_by: Annotated[SummaryGrouping, Query(description="What each group is.")],
    dates: Dates,
) -> Any:
    """Income, expense and net per campaign, category or month, and per currency."""

    async def load() -> dict[str, object]:
        repo = TransactionRepository(session, principal.workspace_id)
        groups = await repo.summarize(group_by=group_by, **dates.model_dump())
        totals = await repo.summarize(**dates.model_dump())
        return TransactionSummary(
            group_by=group_by,
            **dates.model_dump(),
            groups=[SummaryGroup.model_validate(group) for group in groups],
            totals=[MoneyTotals.model_validate(total) for total in totals],
        ).model_dump(mode="json")

    key = "summary:" + _key(group_by, dates.model_dump(mode="json"))
    return await cached(resources, principal, "transaction", key, load)


@router.post("/import", response_model=TransactionImportResult)
async def import_transactions(
    file: Annotated[UploadFile, File(description=f"CSV with a header row; {IMPORT_FILE_RULES}.")],
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> TransactionImportResult:
    """Import transactions from CSV; rows with errors are skipped and reported."""
    table = await asyncio.to_thread(
        read_csv,
        await file.read(MAX_IMPORT_BYTES + 1),
        columns=IMPORT_COLUMNS,
        required=("type", "currency", "occurred_on"),
    )
    if not {"amount", "amount_minor"} & set(table.columns):
        message = "missing column(s): amount or amount_minor"
        raise InvalidInput(message, [FieldProblem("file", message)])
    repo = TransactionRepository(session, principal.workspace_id)
    budgets = BudgetWatch(session, principal.workspace_id)
    problems = ProblemLog()
    created = 0
    # Rows are validated off the event loop and written a batch at a time, all in the
    # request's one transaction: an import that fails half-way leaves nothing behind.
    batches = table.batches(TransactionImportRow)
    while (batch := await asyncio.to_thread(next, batches, None)) is not None:
        known = await repo.existing_campaign_ids(
            {row.campaign_id for _, row in batch.rows if row.campaign_id is not None}
        )
        good = []
        for number, row in batch.rows:
            if row.campaign_id is not None and row.campaign_id not in known:
                batch.problems.append(RowProblem(number, "campaign_id", "campaign not found"))
            else:
                good.append({**row.columns(), "created_by": principal.user_id})
        problems.add(batch.problems)
        await budgets.campaigns(row.get("campaign_id") for row in good)
        created += await repo.create_many(good)
    if created:
        await activity.record(
            "transaction.import",
            "transaction",
            None,
            {"created": created, "skipped": problems.skipped_rows, "filename": file.filename or ""},
        )
    await budgets.settle(activity)
    return TransactionImportResult(
        created=created,
        skipped=problems.skipped_rows,
        errors=[RowError.model_validate(p, from_attributes=True) for p in problems.reported],
    )


@router.post("/export", status_code=status.HTTP_201_CREATED, response_model=ExportRead)
async def export_transactions(
    filters: Filters,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    activity: ActivityDep,
) -> ExportRead:
    """Write the transactions that pass the filters to a CSV file to download (any member)."""
    transactions = await TransactionRepository(session, principal.workspace_id).matching(
        **filters.model_dump()
    )
    rows = [TransactionRead.model_validate(t).model_dump(mode="json") for t in transactions]
    data = to_csv(EXPORT_COLUMNS, ([row[column] for column in EXPORT_COLUMNS] for row in rows))
    export = await save_export(resources, principal, stem="transactions", data=data, rows=len(rows))
    # Recorded on the export, not on "transaction": nothing changed, so no cached read goes.
    await activity.record(
        "transaction.export",
        "export",
        export.id,
        {"rows": export.rows, "filters": filters.model_dump(mode="json", exclude_none=True)},
    )
    return export


@router.get("/{transaction_id}", response_model=TransactionRead)
async def get_transaction(
    transaction_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> Any:
    """One transaction."""

    async def load() -> dict[str, object]:
        transaction = await TransactionRepository(session, principal.workspace_id).get(
            transaction_id
        )
        return TransactionRead.model_validate(transaction).model_dump(mode="json")

    return await cached(resources, principal, "transaction", f"one:{transaction_id}", load)


@router.patch("/{transaction_id}", response_model=TransactionRead)
async def update_transaction(
    transaction_id: uuid.UUID,
    body: TransactionUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> TransactionRead:
    """Change some fields of a transaction."""
    changes = body.changes()
    budgets = BudgetWatch(session, principal.workspace_id)
    await budgets.transaction(transaction_id)
    await budgets.campaigns([changes.get("campaign_id")])
    transaction = await TransactionRepository(session, principal.workspace_id).update(
        transaction_id, changes
    )
    await activity.record(
        "transaction.update",
        "transaction",
        transaction_id,
        body.model_dump(mode="json", exclude_unset=True, exclude={"amount"}),
    )
    await budgets.settle(activity)
    return TransactionRead.model_validate(transaction)


@router.delete("/{transaction_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_transaction(
    transaction_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> Response:
    """Delete a transaction."""
    budgets = BudgetWatch(session, principal.workspace_id)
    await budgets.transaction(transaction_id)
    await TransactionRepository(session, principal.workspace_id).delete(transaction_id)
    await activity.record("transaction.delete", "transaction", transaction_id)
    await budgets.settle(activity)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
