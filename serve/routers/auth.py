"""Registration, login, token refresh and logout, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from serve import accounts
from serve.dependencies import ClientAddress, CurrentPrincipal, ResourcesDep, SessionDep
from serve.schemas.accounts import (
    LoginRequest,
    MeResponse,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    SwitchWorkspaceRequest,
    TokenPair,
    UserRead,
    WorkspaceRead,
    WorkspaceWithRole,
)
from storage.rate_limits import RateLimiter
from storage.repositories.users import UserRepository
from storage.repositories.workspaces import WorkspaceRepository

router = APIRouter(tags=["auth"])


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=RegisterResponse)
async def register(
    body: RegisterRequest, session: SessionDep, resources: ResourcesDep, address: ClientAddress
) -> RegisterResponse:
    """Create an account and its first workspace, with the new user as owner."""
    settings = resources.settings
    await RateLimiter(resources.redis).check_or_raise(
        f"register:ip:{address}",
        limit=settings.registrations_per_ip,
        window_seconds=settings.registration_window_seconds,
        detail="too many new accounts from this address",
    )
    user, workspace = await accounts.register(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        workspace_name=body.workspace_name,
    )
    tokens = await accounts.issue_tokens(
        session, resources, user_id=user.id, workspace_id=workspace.id
    )
    return RegisterResponse(
        user=UserRead.model_validate(user),
        workspace=WorkspaceRead.model_validate(workspace),
        tokens=tokens,
    )


@router.post("/auth/login", response_model=TokenPair)
async def login(
    body: LoginRequest, session: SessionDep, resources: ResourcesDep, address: ClientAddress
) -> TokenPair:
    """Exchange email and password for an access token and a refresh token."""
    return await accounts.log_in(
        session,
        resources,
        email=body.email,
        password=body.password,
        workspace_id=body.workspace_id,
        address=address,
    )


@router.post("/auth/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, session: SessionDep, resources: ResourcesDep) -> TokenPair:
    """Spend a refresh token for a new pair (each refresh token works once)."""
    return await accounts.rotate(session, resources, body.refresh_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, session: SessionDep) -> Response:
    """Revoke the refresh token and every token rotated from it."""
    await accounts.log_out(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/switch", response_model=TokenPair)
async def switch_workspace(
    body: SwitchWorkspaceRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> TokenPair:
    """Get tokens that act in another workspace the caller belongs to."""
    await WorkspaceRepository(session).get_for_member(body.workspace_id, principal.user_id)
    return await accounts.issue_tokens(
        session, resources, user_id=principal.user_id, workspace_id=body.workspace_id
    )


@router.get("/me", response_model=MeResponse)
async def me(principal: CurrentPrincipal, session: SessionDep) -> MeResponse:
    """The caller, the workspace they act in, their role, and all their workspaces."""
    user = await UserRepository(session).get(principal.user_id)
    workspaces = await WorkspaceRepository(session).list_for_user(principal.user_id)
    return MeResponse(
        user=UserRead.model_validate(user),
        workspace_id=principal.workspace_id,
        role=principal.role,
        workspaces=[
            WorkspaceWithRole(**WorkspaceRead.model_validate(w).model_dump(), role=role)
            for w, role in workspaces
        ],
    )
