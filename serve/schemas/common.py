"""Shapes shared by every resource: pages, problems and query parameters."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

ItemT = TypeVar("ItemT")


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
