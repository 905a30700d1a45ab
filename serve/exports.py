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

from core.csv_import import FORMULA_STARTS
from core.errors import NotFound
from core.ids import new_id
from serve.resources import Resources
from serve.security import Principal

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


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


def _safe_cell(value: Any) -> Any:
    # A cell that a spreadsheet would run as a formula gets a leading "'"; imports
    # (core.csv_import) take it off again, so files round-trip.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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
    """The export's bytes, only from the caller's workspace prefix.

    Raises:
        NotFound: naming the export as the caller asked for it; where exports are kept (the
            object key, with the workspace's id) is the store's business, not the caller's.
    """
    if not _FILENAME.match(filename):
        # Not a name this service makes, and not worth echoing back.
        raise NotFound(f"export {export_id} has no file of that name in this workspace")
    try:
        return await resources.object_store.get(_key(principal.workspace_id, export_id, filename))
    except NotFound:
        raise NotFound(
            f"export {export_id} ({filename}) not found in this workspace: "
            "an export downloads from the download_url that making it answered"
        ) from None
