"""What every repository shares: scoping by workspace, keyset pagination, and turning database
constraint violations into domain errors.

A repository is built with its session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from asyncpg import exceptions as pg
from sqlalchemy import ColumnElement, Select, and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from core.pagination import DEFAULT_PAGE_SIZE, Cursor, check_page_size
from storage.models.base import Base

ModelT = TypeVar("ModelT", bound=Base)
RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Page(Generic[RowT]):
    """One page of rows and the cursor of the next page (``None`` on the last page)."""

    items: list[RowT]
    next_cursor: str | None


@dataclass(frozen=True)
class SortOrder:
    """A parsed ``sort`` parameter: ``"name"`` ascending, ``"-name"`` descending."""

    key: str
    column: InstrumentedAttribute[Any]
    descending: bool

    @property
    def token(self) -> str:
        return f"-{self.key}" if self.descending else self.key


def parse_sort(sort: str, sortable: Mapping[str, InstrumentedAttribute[Any]]) -> SortOrder:
    key = sort.removeprefix("-")
    if key not in sortable:
        allowed = ", ".join(sorted(sortable))
        message = f"cannot sort by {key!r}; sortable fields: {allowed}"
        raise InvalidInput(message, [FieldProblem("sort", message)])
    return SortOrder(key=key, column=sortable[key], descending=sort.startswith("-"))


async def paginate(
    session: AsyncSession,
    statement: Select[ModelT],
    *,
    id_column: InstrumentedAttribute[uuid.UUID],
    order: SortOrder,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[ModelT]:
    """Keyset pagination on ``(sort column, id)``: stable under inserts, no OFFSET scans.

    Sort columns must be NOT NULL so that the row-value comparison is total.
    """
    check_page_size(limit)
    column = order.column
    if cursor is not None:
        after = Cursor.decode(cursor, sort=order.token)
        if order.descending:
            beyond = or_(column < after.value, and_(column == after.value, id_column < after.id))
        else:
            beyond = or_(column > after.value, and_(column == after.value, id_column > after.id))
        statement = statement.where(beyond)
    if order.descending:
        statement = statement.order_by(column.desc(), id_column.desc())
    else:
        statement = statement.order_by(column.asc(), id_column.asc())
    rows = list((await session.scalars(statement.limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = Cursor(
            sort=order.token, value=getattr(last, order.column.key), id=getattr(last, id_column.key)
        ).encode()
    return Page(items=rows, next_cursor=next_cursor)


@asynccontextmanager
async def write_guard(session: AsyncSession, what: str) -> AsyncIterator[None]:
    """Run the writes made in the block in a savepoint and flush them there, translating
    constraint violations into domain errors and leaving the outer transaction usable.

    Rows must be added and attributes changed *inside* the block: ``begin_nested`` first
    flushes pending changes outside the savepoint, where a violation would poison the whole
    transaction.
    """
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError as exc:
        raise constraint_error(exc, what) from None


def constraint_error(exc: IntegrityError, what: str) -> Exception:
    cause = exc.orig.__cause__ if exc.orig is not None else None
    constraint = getattr(cause, "constraint_name", None) or "constraint"
    column = getattr(cause, "column_name", None)
    if isinstance(cause, pg.UniqueViolationError):
        return Conflict(f"{what} already exists ({constraint})", constraint=constraint)
    # A delete blocked by rows that still point at this one (ON DELETE RESTRICT / NO ACTION).
    if isinstance(cause, pg.RestrictViolationError) or (
        isinstance(cause, pg.ForeignKeyViolationError)
        and str(cause).startswith("update or delete on table")
    ):
        return Conflict(f"{what} is still in use ({constraint})", constraint=constraint)
    if isinstance(cause, pg.ForeignKeyViolationError):
        return NotFound(f"{what} refers to a row that does not exist ({constraint})")
    if isinstance(cause, pg.CheckViolationError | pg.NotNullViolationError):
        field = column or constraint
        message = f"{what} breaks rule {constraint}"
        return InvalidInput(message, [FieldProblem(field, message)])
    return Conflict(f"{what} conflicts with existing data")


class ScopedRepository(Generic[ModelT]):
    """CRUD and listing for a workspace-private model; every statement filters on the workspace.

    A row of another workspace behaves exactly like a missing row (``NotFound``).
    """

    model: ClassVar[type[Any]]
    noun: ClassVar[str]
    sortable: ClassVar[Mapping[str, str]] = {"created_at": "created_at"}
    default_sort: ClassVar[str] = "-created_at"

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def _scoped(self) -> Select[ModelT]:
        return select(self.model).where(self.model.workspace_id == self.workspace_id)

    async def get(self, row_id: uuid.UUID) -> ModelT:
        row = await self.session.scalar(self._scoped().where(self.model.id == row_id))
        if row is None:
            raise NotFound(f"{self.noun} {row_id} not found")
        return row

    async def exists(self, row_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(self.model.id).where(
                self.model.workspace_id == self.workspace_id, self.model.id == row_id
            )
        )
        return found is not None

    async def create(self, **values: Any) -> ModelT:
        row: ModelT = self.model(**values, workspace_id=self.workspace_id)
        async with write_guard(self.session, self.noun):
            self.session.add(row)
        return row

    async def update(self, row_id: uuid.UUID, values: Mapping[str, Any]) -> ModelT:
        for name in values.keys() & {"id", "workspace_id"}:
            raise InvalidInput(f"{name} cannot be changed", [FieldProblem(name, "read-only")])
        row = await self.get(row_id)
        async with write_guard(self.session, self.noun):
            for name, value in values.items():
                setattr(row, name, value)
        await self.session.refresh(row)
        return row

    async def delete(self, row_id: uuid.UUID) -> None:
        async with write_guard(self.session, self.noun):
            result = await self.session.execute(
                delete(self.model)
                .where(self.model.workspace_id == self.workspace_id, self.model.id == row_id)
                .returning(self.model.id)
            )
            deleted = result.first()
        if deleted is None:
            raise NotFound(f"{self.noun} {row_id} not found")

    async def list(
        self,
        *,
        where: Iterable[ColumnElement[bool]] = (),
        sort: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[ModelT]:
        columns = {key: getattr(self.model, name) for key, name in self.sortable.items()}
        order = parse_sort(sort or self.default_sort, columns)
        statement = self._scoped().where(*where)
        return await paginate(
            self.session,
            statement,
            id_column=self.model.id,
            order=order,
            limit=limit,
            cursor=cursor,
        )

    async def require(self, model: type[Base], row_id: uuid.UUID | None, noun: str) -> None:
        """Raise ``NotFound`` unless ``row_id`` (when given) is a row of ``model`` in this
        workspace: references may never point into another workspace."""
        if row_id is None:
            return
        found = await self.session.scalar(
            select(model.id).where(  # type: ignore[attr-defined]
                model.workspace_id == self.workspace_id,  # type: ignore[attr-defined]
                model.id == row_id,  # type: ignore[attr-defined]
            )
        )
        if found is None:
            raise NotFound(f"{noun} {row_id} not found")


def ids(rows: Sequence[Any]) -> list[uuid.UUID]:
    return [row.id for row in rows]
