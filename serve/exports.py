"""File exports (CSV today): written to the object store under the workspace's prefix and
downloaded through the API, so any replica can serve any export."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from core.errors import FieldProblem, InvalidInput, NotFound
from core.ids import new_id
from serve.resources import Resources
from serve.security import Principal

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
MAX_IMPORT_BYTES = 10 * 1024 * 1024


class ExportRead(BaseModel):
    id: uuid.UUID
    filename: str
    rows: int
    created_at: datetime
    download_url: str


def _key(workspace_id: uuid.UUID, export_id: uuid.UUID, filename: str) -> str:
    return f"exports/{workspace_id}/{export_id}/{filename}"


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else _safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


# Cells starting with these run as formulas in spreadsheet apps (CSV injection): exports quote
# them with a leading "'", and imports take that quote off again, so files round-trip.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _unquote(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def read_csv(data: bytes, *, required: Sequence[str]) -> list[dict[str, str]]:
    """Parse an uploaded CSV (UTF-8, with a header row); a problem names the file or column."""
    if len(data) > MAX_IMPORT_BYTES:
        raise _bad_file(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad_file("the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in columns]
    if missing:
        raise _bad_file(f"missing column(s): {', '.join(missing)}")
    rows = []
    for row in reader:
        if None in row:
            # csv puts cells beyond the header under the key None.
            raise _bad_file(f"row {reader.line_num} has more cells than the header")
        rows.append({k.strip(): _unquote((v or "").strip()) for k, v in row.items()})
    return rows


def _bad_file(message: str) -> InvalidInput:
    return InvalidInput(message, [FieldProblem("file", message)])


async def save_export(
    resources: Resources, principal: Principal, *, stem: str, data: bytes, rows: int
) -> ExportRead:
    export_id = new_id()
    created = datetime.now(UTC)
    filename = f"{stem}-{created:%Y%m%dT%H%M%SZ}.csv"
    await resources.object_store.put(
        _key(principal.workspace_id, export_id, filename), data, content_type=CSV_MEDIA_TYPE
    )
    return ExportRead(
        id=export_id,
        filename=filename,
        rows=rows,
        created_at=created,
        download_url=f"/api/v1/exports/{export_id}/{filename}",
    )


_FILENAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


async def load_export(
    resources: Resources, principal: Principal, export_id: uuid.UUID, filename: str
) -> bytes:
    """The export's bytes, only from the caller's workspace prefix."""
    if not _FILENAME.match(filename):
        raise NotFound("export not found")
    return await resources.object_store.get(_key(principal.workspace_id, export_id, filename))
