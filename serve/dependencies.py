"""Dependency aliases that keep routes short: the session, the caller, the activity log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Role
from core.errors import Forbidden
from core.pagination import cursor_key
from core.tokens import decode_access_token
from serve.resources import Resources
from serve.security import Principal, bearer_token, client_address
from storage.activity import Activity
from storage.rate_limits import RateLimiter
from storage.repositories.base import sign_cursors
from storage.repositories.workspaces import MembershipRepository


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


def get_client_address(request: Request, resources: ResourcesDep) -> str:
    return client_address(request.scope, resources.settings.trusted_proxy_networks)


# Where the request came from, as far as the configured proxies can vouch (CM_TRUSTED_PROXIES).
ClientAddress = Annotated[str, Depends(get_client_address)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """One session per request, committed after the route returns and before the response is
    sent; rolled back if the route raises. Its pages hand out and accept only signed cursors."""
    async with resources.sessionmaker() as session:
        sign_cursors(session, cursor_key(resources.secret_key))
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_principal(
    resources: ResourcesDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    settings = resources.settings
    claims = decode_access_token(resources.secret_key, bearer_token(authorization))
    await RateLimiter(resources.redis).check_or_raise(
        f"token:{claims.token_id}",
        limit=settings.requests_per_token,
        window_seconds=settings.requests_window_seconds,
        detail="too many requests with this access token",
    )
    # Read the role on every request, so a removed or demoted member loses access at once.
    membership = await MembershipRepository(session, claims.workspace_id).find_for_user(
        claims.user_id
    )
    if membership is None:
        raise Forbidden("you are no longer a member of this workspace")
    return Principal(
        user_id=claims.user_id,
        workspace_id=claims.workspace_id,
        role=membership.role,
        token_id=claims.token_id,
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def _at_least(role: Role, action: str) -> object:
    async def check(principal: CurrentPrincipal) -> Principal:
        principal.require(role, action)
        return principal

    return check


Editor = Annotated[Principal, Depends(_at_least(Role.EDITOR, "change workspace data"))]
Admin = Annotated[Principal, Depends(_at_least(Role.ADMIN, "manage members"))]


async def get_activity(
    request: Request, resources: ResourcesDep, session: SessionDep, principal: CurrentPrincipal
) -> AsyncIterator[Activity]:
    """The write log of this request: audit rows now, events and cache invalidation once the
    transaction has committed."""
    activity = Activity(
        session,
        resources.redis,
        principal.workspace_id,
        user_id=principal.user_id,
        request_id=request.headers.get("x-request-id"),
    )
    yield activity
    await session.commit()
    await activity.after_commit()


ActivityDep = Annotated[Activity, Depends(get_activity, scope="function")]
