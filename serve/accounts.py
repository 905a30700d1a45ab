"""Account flows: register, log in (with failed-login limits), rotate refresh tokens (with
reuse detection), log out."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.emails import normalize_email
from core.errors import Forbidden, InvalidInput, Unauthorized
from core.passwords import check_password_rules, hash_password, verify_password
from core.settings import Settings
from core.tokens import hash_token, issue_access_token, new_refresh_token
from serve.resources import Resources
from serve.schemas.accounts import TokenPair
from storage.models import User, Workspace
from storage.rate_limits import RateLimiter, RateLimitResult
from storage.repositories.refresh_tokens import RefreshTokenRepository
from storage.repositories.users import UserRepository
from storage.repositories.workspaces import MembershipRepository, WorkspaceRepository

# Verified against when the email is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = hash_password("timing-equaliser-password")


async def issue_tokens(
    session: AsyncSession,
    resources: Resources,
    *,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    settings = resources.settings
    access, _ = issue_access_token(
        resources.secret_key,
        user_id=user_id,
        workspace_id=workspace_id,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    refresh = new_refresh_token()
    await RefreshTokenRepository(session).issue(
        user_id=user_id,
        workspace_id=workspace_id,
        token_hash=hash_token(refresh),
        expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_ttl_days),
        family_id=family_id,
    )
    return TokenPair(
        access_token=access,
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=refresh,
        workspace_id=workspace_id,
    )


async def register(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    workspace_name: str | None,
) -> tuple[User, Workspace]:
    check_password_rules(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    user = await UserRepository(session).create(
        email=email, password_hash=password_hash, display_name=display_name
    )
    name = workspace_name or f"{display_name or user.email.split('@')[0]}'s workspace"
    workspace = await WorkspaceRepository(session).create(name=name, owner_id=user.id)
    return user, workspace


def login_limits(settings: Settings, *, email: str, address: str) -> list[tuple[str, int, str]]:
    """``(key, limit, message)`` of each limit a login attempt counts against."""
    account = email.strip().lower()
    return [
        (
            f"login:ip:{address}",
            settings.login_attempts_per_ip,
            "too many failed logins from this address",
        ),
        (
            f"login:account-ip:{address}:{account}",
            settings.login_attempts_per_account,
            "too many failed logins for this account from this address",
        ),
        (
            f"login:account:{account}",
            settings.login_failures_per_account_total,
            "too many failed logins for this account",
        ),
    ]


async def log_in(
    session: AsyncSession,
    resources: Resources,
    *,
    email: str,
    password: str,
    workspace_id: uuid.UUID | None,
    address: str,
) -> TokenPair:
    """Tokens for a correct email and password, within the failed-login limits.

    Each limit is reserved before the password is checked, so concurrent guesses cannot
    overshoot it, and given back unless the password turns out wrong: only failures count.
    """
    settings = resources.settings
    limiter = RateLimiter(resources.redis)
    reserved: list[tuple[str, RateLimitResult]] = []
    try:
        for key, limit, message in login_limits(settings, email=email, address=address):
            result = await limiter.check_or_raise(
                key, limit=limit, window_seconds=settings.login_window_seconds, detail=message
            )
            reserved.append((key, result))
        user, chosen = await authenticate(
            session, email=email, password=password, workspace_id=workspace_id
        )
    except Unauthorized:
        raise
    except BaseException:
        await _refund(limiter, reserved)
        raise
    await _refund(limiter, reserved)
    return await issue_tokens(session, resources, user_id=user.id, workspace_id=chosen)


async def _refund(limiter: RateLimiter, reserved: list[tuple[str, RateLimitResult]]) -> None:
    for key, result in reserved:
        await limiter.refund(key, result)


async def authenticate(
    session: AsyncSession, *, email: str, password: str, workspace_id: uuid.UUID | None
) -> tuple[User, uuid.UUID]:
    """The user and the workspace to act in, or ``Unauthorized`` (never saying which part
    was wrong). A lookup that fails (the database is down) raises: it is not a wrong password."""
    try:
        address: str | None = normalize_email(email)
    except InvalidInput:
        address = None  # no account has it: answered like a wrong password
    user = await UserRepository(session).find_by_email(address) if address else None
    known = user is not None and user.is_active
    valid = await asyncio.to_thread(
        verify_password, user.password_hash if known and user else _DUMMY_HASH, password
    )
    if not (known and valid and user):
        raise Unauthorized("email or password is wrong")
    memberships = await WorkspaceRepository(session).list_for_user(user.id)
    if not memberships:
        raise Forbidden("this account belongs to no workspace")
    chosen = workspace_id or memberships[0][0].id
    if chosen not in {workspace.id for workspace, _ in memberships}:
        raise Forbidden("you are not a member of that workspace")
    user.last_login_at = datetime.now(UTC)
    return user, chosen


async def rotate(session: AsyncSession, resources: Resources, refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair. A token presented twice means it leaked: the whole
    family is revoked and both holders must log in again."""
    repo = RefreshTokenRepository(session)
    token = await repo.find_by_hash(hash_token(refresh_token), for_update=True)
    if token is None or token.revoked_at is not None:
        raise Unauthorized("refresh token is not valid")
    if token.used_at is not None:
        await repo.revoke_family(token.family_id)
        await session.commit()  # the revocation must stand although this request fails
        raise Unauthorized("refresh token was already used; every session from it is revoked")
    if token.expires_at <= datetime.now(UTC):
        raise Unauthorized("refresh token expired; log in again")
    workspace_id = token.workspace_id
    if (
        workspace_id is None
        or await MembershipRepository(session, workspace_id).find_for_user(token.user_id) is None
    ):
        raise Unauthorized("you are no longer a member of this workspace; log in again")
    await repo.mark_used(token)
    return await issue_tokens(
        session,
        resources,
        user_id=token.user_id,
        workspace_id=workspace_id,
        family_id=token.family_id,
    )


async def log_out(session: AsyncSession, refresh_token: str) -> None:
    repo = RefreshTokenRepository(session)
    token = await repo.find_by_hash(hash_token(refresh_token))
    if token is not None:
        await repo.revoke_family(token.family_id)
