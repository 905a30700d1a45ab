"""Downloading exports made by the CSV export endpoints."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from serve.dependencies import CurrentPrincipal, ResourcesDep
from serve.exports import CSV_MEDIA_TYPE, load_export

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/{export_id}/{filename}",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The exported file."}},
)
async def download_export(
    export_id: uuid.UUID, filename: str, principal: CurrentPrincipal, resources: ResourcesDep
) -> Response:
    """Download an export of the caller's workspace."""
    data = await load_export(resources, principal, export_id, filename)
    return Response(
        data,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
