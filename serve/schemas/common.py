"""Shapes shared by every resource: pages, problems and query parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict

from core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

ItemT = TypeVar("ItemT")

# Every time and day the API accepts lies in [EARLIEST, LATEST): far from the ends of Python's
# datetime (years 1..9999), so converting to UTC, truncating to a week or month, or adding a
# day or an interval can never overflow, and well inside what PostgreSQL stores.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 1, 1)
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_RANGE = f"from {EARLIEST_DAY.isoformat()} up to (not including) {LATEST_DAY.isoformat()}"


def _utc_in_range(value: datetime) -> datetime:
    """A time without an offset is read as UTC; one outside the range is refused before it is
    converted (``9999-12-31T23:59:59-12:00`` is in year 10000 in UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Aware datetimes compare by their UTC instant without building it, so this cannot overflow.
    if not _EARLIEST <= value < _LATEST:
        raise ValueError(f"must be {_RANGE} in UTC")
    return value.astimezone(UTC)


def _day_in_range(value: date) -> date:
    if not EARLIEST_DAY <= value < LATEST_DAY:
        raise ValueError(f"must be {_RANGE}")
    return value


# The one type of every time the API accepts, in bodies and query parameters alike.
UtcDatetime = Annotated[datetime, AfterValidator(_utc_in_range)]
# The one type of every calendar day the API accepts.
Day = Annotated[date, AfterValidator(_day_in_range)]


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` to get the next one."""

    items: list[ItemT]
    next_cursor: str | None


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")]
Cursor = Annotated[str | None, Query(description="``next_cursor`` of the previous page.")]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE


def page_of(page: object, model: type[BaseModel]) -> dict[str, object]:
    """A storage ``Page`` of ORM rows as the JSON-ready dict of an API ``Page``."""
    items = [model.model_validate(row).model_dump(mode="json") for row in page.items]  # type: ignore[attr-defined]
    return {"items": items, "next_cursor": page.next_cursor}  # type: ignore[attr-defined]


def not_null(value: object) -> object:
    """For ``field_validator(..., mode="before")`` on an update: runs only on a value the client
    sent (defaults are not validated), so a field may be left out but a required one not nulled."""
    if value is None:
        raise ValueError("may be left out, but not null")
    return value
