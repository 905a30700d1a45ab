"""The caller's own settings in the current workspace. Every member, viewers included, manages
their own and sees no one else's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from serve.dependencies import ActivityDep, CurrentPrincipal, SessionDep
from serve.schemas.settings import KEY_PATTERN, SettingRead, SettingWrite
from storage.repositories.user_settings import UserSettingRepository

router = APIRouter(prefix="/settings", tags=["settings"])

Key = Annotated[str, Path(pattern=KEY_PATTERN, examples=["ui.theme"])]


@router.get("", response_model=list[SettingRead])
async def list_settings(principal: CurrentPrincipal, session: SessionDep) -> list[SettingRead]:
    """All of the caller's settings, by key."""
    found = await UserSettingRepository(session, principal.workspace_id, principal.user_id).all()
    return [SettingRead(key=key, value=value) for key, value in found.items()]


@router.get("/{key}", response_model=SettingRead)
async def get_setting(key: Key, principal: CurrentPrincipal, session: SessionDep) -> SettingRead:
    """One of the caller's settings."""
    repo = UserSettingRepository(session, principal.workspace_id, principal.user_id)
    return SettingRead(key=key, value=await repo.get(key))


@router.put("/{key}", response_model=SettingRead)
async def put_setting(
    key: Key,
    body: SettingWrite,
    principal: CurrentPrincipal,
    session: SessionDep,
    activity: ActivityDep,
) -> SettingRead:
    """Create or replace one of the caller's settings."""
    repo = UserSettingRepository(session, principal.workspace_id, principal.user_id)
    await repo.put(key, body.value)
    # The key only: the value is the member's own business, and events reach the whole workspace.
    await activity.record("setting.update", "setting", None, {"key": key})
    return SettingRead(key=key, value=body.value)


@router.delete("/{key}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_setting(
    key: Key, principal: CurrentPrincipal, session: SessionDep, activity: ActivityDep
) -> Response:
    """Delete one of the caller's settings."""
    repo = UserSettingRepository(session, principal.workspace_id, principal.user_id)
    await repo.delete(key)
    await activity.record("setting.delete", "setting", None, {"key": key})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
