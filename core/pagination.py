"""Opaque cursors for keyset pagination: the sort value and id of the last row seen."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from core.errors import FieldProblem, InvalidInput

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Cursor:
    """Position after the row whose ``(sort_value, id)`` it records, for one sort order."""

    sort: str
    value: Any
    id: UUID

    def encode(self) -> str:
        value = self.value
        kind = "s"
        if isinstance(value, datetime):
            value, kind = value.isoformat(), "t"
        elif isinstance(value, date):
            value, kind = value.isoformat(), "d"
        elif isinstance(value, UUID):
            value, kind = str(value), "u"
        raw = json.dumps([self.sort, kind, value, str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, *, sort: str) -> Cursor:
        """Decode a token made for the same ``sort``; anything else is a 422 on ``cursor``."""
        try:
            padded = token + "=" * (-len(token) % 4)
            saved_sort, kind, value, row_id = json.loads(base64.urlsafe_b64decode(padded))
            if kind == "t":
                value = datetime.fromisoformat(value)
            elif kind == "d":
                value = date.fromisoformat(value)
            elif kind == "u":
                value = UUID(value)
            cursor = cls(sort=saved_sort, value=value, id=UUID(row_id))
        except (ValueError, TypeError):
            raise _bad_cursor("cursor is not valid") from None
        if cursor.sort != sort:
            raise _bad_cursor(f"cursor was made for sort {cursor.sort!r}, not {sort!r}")
        return cursor


def _bad_cursor(message: str) -> InvalidInput:
    return InvalidInput(message, [FieldProblem("cursor", message)])


def check_page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        message = f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}"
        raise InvalidInput(message, [FieldProblem("limit", message)])
    return limit
