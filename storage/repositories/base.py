"""What every repository shares: scoping by workspace, keyset pagination, and turning database
constraint violations into domain errors.

A repository is built with its session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from asyncpg import exceptions as pg
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from core.pagination import DEFAULT_PAGE_SIZE, Cursor, check_page_size
from storage.models.base import Base

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=Base)
RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT")

# asyncpg refuses a statement with more than 32,767 bind parameters; batch writes and IN lists
# stay at half of it, so a row that grows a column or two never reaches the limit.
MAX_BIND_PARAMETERS = 32_767
_PARAMETERS_PER_STATEMENT = MAX_BIND_PARAMETERS // 2


def chunks(items: Sequence[ItemT], *, values_per_item: int) -> Iterator[Sequence[ItemT]]:
    """``items`` in slices that bind at most half of asyncpg's parameter limit each."""
    size = max(_PARAMETERS_PER_STATEMENT // values_per_item, 1)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The ``Session.info`` entry holding the key that signs and checks the cursors of the session's
# pages. The API sets it on every request's session, so each cursor a client sends back must be
# one the service made; sessions that never hand cursors out (CLI, actors) page without it.
CURSOR_KEY = "cursor_key"


def sign_cursors(session: AsyncSession, key: bytes) -> None:
    """Make every page read through ``session`` sign its cursor and accept only signed ones."""
    session.info[CURSOR_KEY] = key


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

    Sort columns must be NOT NULL so that the row-value comparison is total. Cursors are signed
    with the session's cursor key when it has one (see :func:`sign_cursors`).
    """
    check_page_size(limit)
    column = order.column
    key: bytes | None = session.info.get(CURSOR_KEY)
    if cursor is not None:
        after = Cursor.decode(cursor, sort=order.token, value_type=column.type.python_type, key=key)
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
        ).encode(key)
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


def contains(column: SQLColumnExpression[Any], text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case, with every character of ``text`` taken
    literally: ``%``, ``_`` and ``\\`` are LIKE's wildcards and escape, not the user's."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def text_search(
    columns: Iterable[SQLColumnExpression[Any]], text: str | None
) -> ColumnElement[bool] | None:
    """Rows where any of ``columns`` contains ``text`` (see :func:`contains`), or ``None`` when
    ``text`` is blank: every text search of the API reads ``q`` this way."""
    if text is None or not text.strip():
        return None
    return or_(*(contains(column, text.strip()) for column in columns))


# What each CHECK constraint of the schema asks of the field it guards. Schemas refuse these
# values first; this is for a value that got past them.
_CHECKS: Mapping[str, FieldProblem] = {
    "ck_campaigns_budget_not_negative": FieldProblem("budget_minor", "must not be negative"),
    "ck_campaigns_ends_after_start": FieldProblem("end_date", "must not be before start_date"),
    "ck_outreach_campaigns_daily_limit_positive": FieldProblem(
        "daily_limit", "must be greater than 0"
    ),
    "ck_transactions_amount_positive": FieldProblem("amount_minor", "must be greater than 0"),
}
# PostgreSQL's DETAIL of key violations: 'Key (workspace_id, name)=(...) already exists.'
_KEY_COLUMNS = re.compile(r"^Key \((?P<columns>[^)]*)\)=")
_REFERENCING_TABLE = re.compile(r'referenced from table "(?P<table>[^"]+)"')


def constraint_error(exc: IntegrityError, what: str) -> Exception:
    """The domain error for a write to ``what`` (a noun: ``"user"``, ``"email template"``)
    that a constraint refused.

    The message speaks of the fields the user chose; the constraint's name is storage's and
    stays out of it (it is kept in the error's ``extra`` and logged at debug level).
    """
    cause = exc.orig.__cause__ if exc.orig is not None else None
    constraint = getattr(cause, "constraint_name", None) or "constraint"
    log.debug("a write of %s was refused by constraint %s", what, constraint)
    if isinstance(cause, pg.UniqueViolationError):
        fields = _chosen_columns(cause)
        which = f" with this {' and '.join(fields)}" if fields else ""
        return Conflict(
            f"{_indefinite(what)}{which} already exists", constraint=constraint, fields=fields
        )
    # A delete blocked by rows that still point at this one (ON DELETE RESTRICT / NO ACTION).
    if isinstance(cause, pg.RestrictViolationError) or (
        isinstance(cause, pg.ForeignKeyViolationError)
        and str(cause).startswith("update or delete on table")
    ):
        users = _REFERENCING_TABLE.search(getattr(cause, "detail", None) or "")
        by = f" by {users['table'].replace('_', ' ')}" if users else ""
        return Conflict(f"the {what} is still in use{by}", constraint=constraint)
    if isinstance(cause, pg.ForeignKeyViolationError):
        columns = _key_columns(cause)
        target = columns[0].removesuffix("_id").replace("_", " ") if columns else "row"
        return NotFound(f"the {target} this {what} refers to does not exist", constraint=constraint)
    if isinstance(cause, pg.NotNullViolationError):
        column = getattr(cause, "column_name", None) or "body"
        problem = FieldProblem(column, "may not be null")
        return InvalidInput(f"{column} may not be null", [problem])
    if isinstance(cause, pg.CheckViolationError):
        problem = _CHECKS.get(constraint) or FieldProblem(
            getattr(cause, "column_name", None) or "body", "is not an allowed value"
        )
        return InvalidInput(f"{problem.field} {problem.message}", [problem])
    return Conflict(f"the {what} conflicts with existing data", constraint=constraint)


def _key_columns(cause: BaseException) -> list[str]:
    found = _KEY_COLUMNS.match(getattr(cause, "detail", None) or "")
    return [name.strip() for name in found["columns"].split(",")] if found else []


def _chosen_columns(cause: BaseException) -> list[str]:
    """The columns of a violated key that the user chose: not the ones pointing at other rows
    (the workspace, the campaign an artist is in), which only scope the key."""
    table = Base.metadata.tables.get(getattr(cause, "table_name", None) or "")
    return [
        name
        for name in _key_columns(cause)
        if table is None or name not in table.c or not table.c[name].foreign_keys
    ]


def _indefinite(noun: str) -> str:
    # Every noun of this schema that starts with a vowel letter is said with a vowel ("an email
    # template", "an invitation") except those starting with "u" ("a user").
    return f"{'an' if noun[:1] in ('a', 'e', 'i', 'o') else 'a'} {noun}"


class ScopedRepository(Generic[ModelT]):
    """CRUD and listing for a workspace-private model; every statement filters on the workspace.

    A row of another workspace behaves exactly like a missing row (``NotFound``).
    """

    model: ClassVar[type[Any]]
    noun: ClassVar[str]
    sortable: ClassVar[Mapping[str, str]] = {"created_at": "created_at"}
    default_sort: ClassVar[str] = "-created_at"
    # Text columns that ``list(q=...)`` looks in.
    searchable: ClassVar[Sequence[str]] = ()

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

    async def lock(self, row_id: uuid.UUID) -> ModelT:
        """The row, read afresh and locked (``FOR UPDATE``) until the transaction ends, so
        concurrent writers of it queue."""
        row = await self.session.scalar(
            self._scoped()
            .where(self.model.id == row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
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
        q: str | None = None,
        sort: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[ModelT]:
        """A page of the workspace's rows that pass ``where`` and whose ``searchable`` columns
        contain the text ``q``."""
        columns = {key: getattr(self.model, name) for key, name in self.sortable.items()}
        order = parse_sort(sort or self.default_sort, columns)
        statement = self._scoped().where(*where)
        if q is not None:
            if not self.searchable:
                raise ValueError(f"{self.noun} has no text to search")
            found = text_search((getattr(self.model, name) for name in self.searchable), q)
            if found is not None:
                statement = statement.where(found)
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
