"""Workspaces, their members and invitations. Only owners and admins manage members."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from core.emails import normalize_email
from core.enums import Role
from core.errors import Conflict, Forbidden
from core.tokens import hash_token, new_refresh_token
from serve.dependencies import ActivityDep, Admin, CurrentPrincipal, ResourcesDep, SessionDep
from serve.notices import mail_invitation
from serve.schemas.accounts import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    MemberRead,
    MemberUpdate,
    WorkspaceCreate,
    WorkspaceRead,
    WorkspaceUpdate,
    WorkspaceWithRole,
)
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from storage.repositories.invitations import InvitationLookup, InvitationRepository
from storage.repositories.refresh_tokens import RefreshTokenRepository
from storage.repositories.users import UserRepository
from storage.repositories.workspaces import MembershipRepository, WorkspaceRepository

router = APIRouter(tags=["workspaces"])


@router.get("/workspaces", response_model=list[WorkspaceWithRole])
async def list_workspaces(
    principal: CurrentPrincipal, session: SessionDep
) -> list[WorkspaceWithRole]:
    """The workspaces the caller belongs to, with their role in each."""
    rows = await WorkspaceRepository(session).list_for_user(principal.user_id)
    return [
        WorkspaceWithRole(**WorkspaceRead.model_validate(w).model_dump(), role=r) for w, r in rows
    ]


@router.post("/workspaces", status_code=status.HTTP_201_CREATED, response_model=WorkspaceRead)
async def create_workspace(
    body: WorkspaceCreate, principal: CurrentPrincipal, session: SessionDep
) -> WorkspaceRead:
    """Create another workspace owned by the caller (switch to it with /auth/switch)."""
    workspace = await WorkspaceRepository(session).create(
        name=body.name, owner_id=principal.user_id
    )
    return WorkspaceRead.model_validate(workspace)


@router.patch("/workspace", response_model=WorkspaceRead)
async def rename_workspace(
    body: WorkspaceUpdate, principal: Admin, session: SessionDep, activity: ActivityDep
) -> WorkspaceRead:
    """Rename the current workspace."""
    workspace = await WorkspaceRepository(session).rename(principal.workspace_id, body.name)
    await activity.record("workspace.update", "workspace", workspace.id, {"name": body.name})
    return WorkspaceRead.model_validate(workspace)


@router.get("/members", response_model=Page[MemberRead])
async def list_members(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """Members of the current workspace."""
    page = await MembershipRepository(session, principal.workspace_id).list(
        sort="created_at", limit=limit, cursor=cursor
    )
    return page_of(page, MemberRead)


# Declared before /members/{member_id}, whose UUID parameter would otherwise take "me" (a 422).
@router.delete("/members/me", status_code=status.HTTP_204_NO_CONTENT)
async def leave_workspace(
    principal: CurrentPrincipal, session: SessionDep, activity: ActivityDep
) -> Response:
    """Leave the current workspace. The last owner must first make another member owner."""
    membership = await MembershipRepository(session, principal.workspace_id).leave(
        principal.user_id
    )
    await RefreshTokenRepository(session).revoke_for_membership(
        principal.user_id, principal.workspace_id
    )
    await activity.record(
        "member.leave",
        "member",
        membership.id,
        {"user_id": str(principal.user_id), "role": membership.role},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/members/{member_id}", response_model=MemberRead)
async def change_member_role(
    member_id: uuid.UUID,
    body: MemberUpdate,
    principal: Admin,
    session: SessionDep,
    activity: ActivityDep,
) -> MemberRead:
    """Change a member's role. Only owners grant or take away the owner role."""
    repo = MembershipRepository(session, principal.workspace_id)
    member = await repo.get(member_id)
    if Role.OWNER in {member.role, body.role} and principal.role is not Role.OWNER:
        raise Forbidden("only an owner can grant or remove the owner role")
    updated = await repo.change_role(member_id, body.role)
    # The user id lets open sockets of that user re-check their access (serve/routers/live.py).
    await activity.record(
        "member.update", "member", member_id, {"user_id": str(member.user_id), "role": body.role}
    )
    return MemberRead.model_validate(updated)


@router.delete("/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    member_id: uuid.UUID, principal: Admin, session: SessionDep, activity: ActivityDep
) -> Response:
    """Remove a member from the workspace."""
    repo = MembershipRepository(session, principal.workspace_id)
    member = await repo.get(member_id)
    if member.role is Role.OWNER and principal.role is not Role.OWNER:
        raise Forbidden("only an owner can remove an owner")
    await repo.remove(member_id)
    await RefreshTokenRepository(session).revoke_for_membership(
        member.user_id, principal.workspace_id
    )
    await activity.record("member.delete", "member", member_id, {"user_id": str(member.user_id)})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationCreated)
async def invite(
    body: InvitationCreate,
    principal: Admin,
    session: SessionDep,
    activity: ActivityDep,
    resources: ResourcesDep,
) -> InvitationCreated:
    """Invite someone by email with a role, and email them the invitation (through
    ``CM_SMTP_URL``, else into the outbox folder); the token in the answer is shown only
    once."""
    if body.role is Role.OWNER and principal.role is not Role.OWNER:
        raise Forbidden("only an owner can invite another owner")
    token = new_refresh_token()
    invitation = await InvitationRepository(session, principal.workspace_id).invite(
        email=body.email, role=body.role, token_hash=hash_token(token), invited_by=principal.user_id
    )
    await activity.record(
        "invitation.create",
        "invitation",
        invitation.id,
        {"email": invitation.email, "role": invitation.role},
    )
    workspace = await WorkspaceRepository(session).get_for_member(
        principal.workspace_id, principal.user_id
    )
    inviter = await UserRepository(session).get(principal.user_id)
    # Mailed once the invitation is committed: a token that reached someone must work.
    await session.commit()
    delivery = await mail_invitation(
        resources.settings,
        invitation.id,
        to=invitation.email,
        workspace_name=workspace.name,
        inviter_name=inviter.display_name,
        role=invitation.role.value,
        token=token,
        workspace_id=principal.workspace_id,
    )
    return InvitationCreated(
        **InvitationRead.model_validate(invitation).model_dump(), token=token, delivery=delivery
    )


@router.get("/invitations", response_model=Page[InvitationRead])
async def list_invitations(
    principal: Admin, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, object]:
    """Invitations of the current workspace, newest first."""
    page = await InvitationRepository(session, principal.workspace_id).list(
        limit=limit, cursor=cursor
    )
    return page_of(page, InvitationRead)


@router.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invitation(
    invitation_id: uuid.UUID, principal: Admin, session: SessionDep, activity: ActivityDep
) -> Response:
    """Withdraw an invitation."""
    await InvitationRepository(session, principal.workspace_id).delete(invitation_id)
    await activity.record("invitation.delete", "invitation", invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invitations/accept", response_model=WorkspaceWithRole)
async def accept_invitation(
    body: InvitationAccept, principal: CurrentPrincipal, session: SessionDep, activity: ActivityDep
) -> WorkspaceWithRole:
    """Join the inviting workspace. The caller's email must be the invited one."""
    user = await UserRepository(session).get(principal.user_id)
    invitation = await InvitationLookup(session).claim(
        hash_token(body.token), normalize_email(user.email)
    )
    members = MembershipRepository(session, invitation.workspace_id)
    if await members.find_for_user(user.id) is not None:
        raise Conflict("you are already a member of that workspace")
    membership = await members.add(user.id, invitation.role)
    await activity.record(
        "member.join",
        "member",
        membership.id,
        {"role": invitation.role, "invitation_id": str(invitation.id)},
        workspace_id=invitation.workspace_id,
    )
    workspace = await WorkspaceRepository(session).get_for_member(invitation.workspace_id, user.id)
    return WorkspaceWithRole(
        **WorkspaceRead.model_validate(workspace).model_dump(), role=invitation.role
    )
