"""The outbox: mail kept as ``.eml`` files in the data folder while no mailbox is configured,
listed and shown per workspace."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from core.errors import FieldProblem, InvalidInput
from serve.dependencies import CurrentPrincipal, ResourcesDep
from serve.schemas.common import DEFAULT_LIMIT, Limit, Page
from serve.schemas.mailboxes import HeaderRead, OutboxEntryRead, OutboxMessageRead
from storage.outbox import Outbox

router = APIRouter(prefix="/outbox", tags=["outbox"])

OutboxCursor = Annotated[
    str | None, Query(max_length=64, description="``next_cursor`` of the previous page.")
]


@router.get("", response_model=Page[OutboxEntryRead])
async def list_outbox(
    principal: CurrentPrincipal,
    resources: ResourcesDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: OutboxCursor = None,
) -> Page[OutboxEntryRead]:
    """List the workspace's outbox messages, newest first, a page at a time."""
    before = None
    if cursor is not None:
        try:
            before = uuid.UUID(cursor)
        except ValueError:
            message = "cursor is not one this service made"
            raise InvalidInput(message, [FieldProblem("cursor", message)]) from None
    outbox = Outbox.in_data_dir(resources.settings.data_dir)
    entries, last = await outbox.recent(principal.workspace_id, limit=limit, before=before)
    return Page[OutboxEntryRead](
        items=[OutboxEntryRead.model_validate(entry) for entry in entries],
        next_cursor=None if last is None else str(last),
    )


@router.get("/{message_id}", response_model=OutboxMessageRead)
async def get_outbox_message(
    message_id: uuid.UUID, principal: CurrentPrincipal, resources: ResourcesDep
) -> OutboxMessageRead:
    """One outbox message: its headers and its text and HTML parts."""
    outbox = Outbox.in_data_dir(resources.settings.data_dir)
    message = await outbox.read(principal.workspace_id, message_id)
    entry = message.entry
    return OutboxMessageRead(
        id=entry.id,
        to=entry.to,
        subject=entry.subject,
        date=entry.date,
        size=entry.size,
        headers=[HeaderRead(name=name, value=value) for name, value in message.headers],
        text=message.text,
        html=message.html,
    )
