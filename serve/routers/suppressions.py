"""The suppression list: addresses the workspace must never email again.

Not cached: unsubscribes and bounces will add rows outside the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from core.enums import SuppressionReason
from core.errors import NotFound
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, SessionDep
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.schemas.outreach import SuppressionCreate, SuppressionRead
from storage.repositories.suppressions import SuppressionRepository

router = APIRouter(prefix="/suppressions", tags=["outreach"])

SuppressionSort = Annotated[
    str, Query(pattern=r"^-?(created_at|email)$", description="Field, '-' for descending.")
]


@router.get("", response_model=Page[SuppressionRead])
async def list_suppressions(
    principal: CurrentPrincipal,
    session: SessionDep,
    reason: SuppressionReason | None = None,
    q: Annotated[str | None, Query(max_length=320, description="Text in the address.")] = None,
    sort: SuppressionSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """List the workspace's suppressed addresses, filtered and sorted, a page at a time."""
    page = await SuppressionRepository(session, principal.workspace_id).search(
        reason=reason, q=q, sort=sort, limit=limit, cursor=cursor
    )
    return page_of(page, SuppressionRead)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SuppressionRead,
    responses={200: {"model": SuppressionRead, "description": "Already suppressed; unchanged."}},
)
async def suppress_address(
    body: SuppressionCreate,
    response: Response,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> SuppressionRead:
    """Suppress an address (201); one already suppressed keeps its first reason (200)."""
    repo = SuppressionRepository(session, principal.workspace_id)
    added = await repo.suppress(body.email, body.reason)
    suppression = await repo.find(body.email)
    assert suppression is not None
    if added:
        await activity.record(
            "suppression.create",
            "suppression",
            suppression.id,
            {"email": suppression.email, "reason": suppression.reason},
        )
    else:
        response.status_code = status.HTTP_200_OK
    return SuppressionRead.model_validate(suppression)


@router.delete("/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def lift_suppression(
    email: Annotated[str, Path(max_length=320)],
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> Response:
    """Take an address off the suppression list, so it may be emailed again."""
    repo = SuppressionRepository(session, principal.workspace_id)
    suppression = await repo.find(email)
    if suppression is None:
        raise NotFound(f"{email} is not suppressed")
    await repo.lift(email)
    await activity.record(
        "suppression.delete", "suppression", suppression.id, {"email": suppression.email}
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
