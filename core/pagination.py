"""Opaque cursors for keyset pagination: the sort value and id of the last row seen.

A cursor handed to API clients is signed (HMAC-SHA256 with a key derived from the service's
secret), so a client can only give back a position the service made; the decoded value must
also have the sort column's type before it goes near SQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from core.errors import FieldProblem, InvalidInput
from core.keys import derive_key

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

# A signature this long (128 bits) cannot be guessed; the full 256 would only lengthen URLs.
_SIGNATURE_BYTES = 16
_INT64 = range(-(2**63), 2**63)
# The JSON tag of each value type, and how the value travels as JSON.
_KINDS: dict[str, type] = {
    "t": datetime,
    "d": date,
    "u": UUID,
    "i": int,
    "f": float,
    "s": str,
}


def cursor_key(secret: str) -> bytes:
    """The cursor-signing key, derived so that it is never the key that signs access tokens."""
    return derive_key(secret, "cursor")


@dataclass(frozen=True)
class Cursor:
    """Position after the row whose ``(sort_value, id)`` it records, for one sort order."""

    sort: str
    value: Any
    id: UUID

    def encode(self, key: bytes | None = None) -> str:
        """The token; signed when ``key`` is given (always, for tokens that leave the process)."""
        kind = _kind_of(self.value)
        value = self.value
        if kind in {"t", "d", "u"}:
            value = str(value) if kind == "u" else value.isoformat()
        raw = json.dumps([self.sort, kind, value, str(self.id)], separators=(",", ":")).encode()
        payload = _b64encode(raw)
        if key is None:
            return payload
        return f"{payload}.{_b64encode(_sign(key, payload))}"

    @classmethod
    def decode(cls, token: str, *, sort: str, value_type: type, key: bytes | None = None) -> Cursor:
        """Decode a token made for the same ``sort`` whose value is a ``value_type``; with
        ``key``, only a token signed with it. Anything else is a 422 on ``cursor``."""
        payload = token
        if key is not None:
            payload, _, signature = token.partition(".")
            try:
                valid = hmac.compare_digest(_b64decode(signature), _sign(key, payload))
            except (ValueError, binascii.Error):
                valid = False
            if not valid:
                raise _bad_cursor("cursor is not one this service made")
        try:
            saved_sort, kind, value, row_id = json.loads(_b64decode(payload))
            cursor = cls(sort=saved_sort, value=_parse(kind, value), id=UUID(row_id))
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
            raise _bad_cursor("cursor is not valid") from None
        if cursor.sort != sort:
            raise _bad_cursor(f"cursor was made for sort {cursor.sort!r}, not {sort!r}")
        if not _fits(cursor.value, value_type):
            raise _bad_cursor(f"cursor holds no {value_type.__name__} for sort {sort!r}")
        return cursor


def _kind_of(value: Any) -> str:
    # bool is an int to Python but never a sort value; datetime before date, its base class.
    for kind, value_type in _KINDS.items():
        if isinstance(value, value_type) and not isinstance(value, bool):
            return kind
    raise TypeError(f"cannot page on a {type(value).__name__}")


def _parse(kind: str, value: Any) -> Any:
    value_type = _KINDS[kind]
    if value_type in {datetime, date, UUID}:
        if not isinstance(value, str):
            raise TypeError(kind)
        if value_type is datetime:
            return datetime.fromisoformat(value)
        return date.fromisoformat(value) if value_type is date else UUID(value)
    if value_type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not value_type:
        raise TypeError(kind)
    return value


def _fits(value: Any, value_type: type) -> bool:
    """Whether ``value`` can be compared with a column holding ``value_type`` values."""
    if value_type is datetime:
        # Every timestamp column is timestamptz: a naive time would be read in the server's zone.
        return type(value) is datetime and value.tzinfo is not None
    if value_type is int:
        return type(value) is int and value in _INT64
    if value_type is float:
        return type(value) is float
    return type(value) is value_type


def _sign(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad_cursor(message: str) -> InvalidInput:
    return InvalidInput(message, [FieldProblem("cursor", message)])


def check_page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        message = f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}"
        raise InvalidInput(message, [FieldProblem("limit", message)])
    return limit
