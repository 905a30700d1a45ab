"""Request and response bodies of registration, login, tokens, workspaces and members."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AliasChoices, AliasPath, BaseModel, Field

from core.enums import Role
from serve.schemas.common import ReadModel


class RegisterRequest(BaseModel):
    email: str = Field(max_length=320, examples=["mia@label.example"])
    password: str = Field(min_length=8, max_length=256)
    display_name: str = Field(default="", max_length=200)
    workspace_name: str | None = Field(default=None, min_length=1, max_length=200)


class LoginRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)
    workspace_id: uuid.UUID | None = Field(
        default=None, description="Workspace to act in; default: the first one joined."
    )


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class SwitchWorkspaceRequest(BaseModel):
    workspace_id: uuid.UUID


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    workspace_id: uuid.UUID


class UserRead(ReadModel):
    id: uuid.UUID
    email: str
    display_name: str
    created_at: datetime


class WorkspaceRead(ReadModel):
    id: uuid.UUID
    name: str
    slug: str
    created_at: datetime


class WorkspaceWithRole(WorkspaceRead):
    role: Role


class RegisterResponse(BaseModel):
    user: UserRead
    workspace: WorkspaceRead
    tokens: TokenPair


class MeResponse(BaseModel):
    user: UserRead
    workspace_id: uuid.UUID
    role: Role
    workspaces: list[WorkspaceWithRole]


class WorkspaceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class WorkspaceUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class MemberRead(ReadModel):
    id: uuid.UUID
    user_id: uuid.UUID
    # From the membership's user, which its repository loads with it; by name too, as the
    # route's answer (already dumped by ``page_of``) is validated again against this model.
    email: str = Field(validation_alias=AliasChoices(AliasPath("user", "email"), "email"))
    display_name: str = Field(
        validation_alias=AliasChoices(AliasPath("user", "display_name"), "display_name")
    )
    role: Role
    created_at: datetime


class MemberUpdate(BaseModel):
    role: Role


class InvitationCreate(BaseModel):
    email: str = Field(max_length=320)
    role: Role = Role.EDITOR


class InvitationRead(ReadModel):
    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


class InvitationCreated(InvitationRead):
    token: str = Field(description="Shown once: the invitee accepts with it.")
    delivery: str = Field(
        description="Where the invitation email went: 'smtp' (CM_SMTP_URL), 'outbox' (the "
        "workspace's outbox folder), or 'not sent: <why>' (the invitation stands; pass the "
        "token on yourself)."
    )


class InvitationAccept(BaseModel):
    token: str = Field(min_length=1, max_length=200)
