"""Mailboxes: the SMTP accounts a workspace sends through, their limits, and a connection test.

The password is write-only: it is sealed before it reaches the database (``core.secret_box``)
and no answer, audit row, event or error carries it; reads say only ``has_password``.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from core.errors import FieldProblem, InvalidInput
from core.mailbox_rules import limit_problems, refusal
from core.secret_box import MAILBOX_PASSWORD, SecretBox
from core.sending_window import window_problems
from core.settings import Settings
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.reads import cached
from serve.resources import Resources
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page
from serve.schemas.mailboxes import (
    DEFAULT_PORTS,
    ConnectionTestRead,
    MailboxCreate,
    MailboxRead,
    MailboxUpdate,
)
from storage.models import Mailbox
from storage.rate_limits import RateLimiter
from storage.repositories.mailboxes import MailboxRepository
from storage.smtp import SmtpEndpoint, probe

router = APIRouter(prefix="/mailboxes", tags=["mailboxes"])

# Each test may hold a connection for CM_SMTP_TIMEOUT_SECONDS; this keeps one workspace from
# turning the service into a port scanner or tying up a replica.
CONNECTION_TESTS_PER_MINUTE = 20

MailboxSort = Annotated[
    str,
    Query(pattern=r"^-?(created_at|updated_at|name)$", description="Field, '-' for descending."),
]
_LIMITS = (
    "per_minute",
    "daily_cap",
    "ramp_start",
    "ramp_increment",
    "gap_min_seconds",
    "gap_max_seconds",
)
_WINDOW = ("window_start_hour", "window_end_hour", "window_weekdays")


def _box(resources: Resources) -> SecretBox:
    return SecretBox(resources.secret_key, MAILBOX_PASSWORD)


@router.get("", response_model=Page[MailboxRead])
async def list_mailboxes(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the name, host or address.")
    ] = None,
    sort: MailboxSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """List the workspace's mailboxes, a page at a time."""

    async def load() -> dict[str, object]:
        page = await MailboxRepository(session, principal.workspace_id).list(
            q=q, sort=sort, limit=limit, cursor=cursor
        )
        items = [MailboxRead.of(row).model_dump(mode="json") for row in page.items]
        return {"items": items, "next_cursor": page.next_cursor}

    return await cached(resources, principal, "mailbox", f"list:{q}:{sort}:{limit}:{cursor}", load)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MailboxRead)
async def create_mailbox(
    body: MailboxCreate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
    resources: ResourcesDep,
) -> MailboxRead:
    """Add a mailbox; its password is stored encrypted and never shown again."""
    values = body.model_dump(exclude={"password"})
    values["port"] = body.port or DEFAULT_PORTS[body.tls_mode]
    _check(values, resources.settings)
    if body.password is not None:
        values["password_sealed"] = _box(resources).seal(body.password.get_secret_value())
    mailbox = await MailboxRepository(session, principal.workspace_id).create(**values)
    await activity.record(
        "mailbox.create", "mailbox", mailbox.id, {"name": mailbox.name, "host": mailbox.host}
    )
    return MailboxRead.of(mailbox)


@router.get("/{mailbox_id}", response_model=MailboxRead)
async def get_mailbox(
    mailbox_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> Any:
    """One mailbox (without its password)."""

    async def load() -> dict[str, object]:
        mailbox = await MailboxRepository(session, principal.workspace_id).get(mailbox_id)
        return MailboxRead.of(mailbox).model_dump(mode="json")

    return await cached(resources, principal, "mailbox", f"one:{mailbox_id}", load)


@router.patch("/{mailbox_id}", response_model=MailboxRead)
async def update_mailbox(
    mailbox_id: uuid.UUID,
    body: MailboxUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
    resources: ResourcesDep,
) -> MailboxRead:
    """Change some fields of a mailbox; the limits and window are checked as a whole."""
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    repo = MailboxRepository(session, principal.workspace_id)
    current = await repo.get(mailbox_id)
    merged = {name: getattr(current, name) for name in (*_LIMITS, *_WINDOW, "host")}
    _check({**merged, **changes}, resources.settings)
    if "password" in body.model_fields_set:
        password = body.password
        changes["password_sealed"] = (
            None if password is None else _box(resources).seal(password.get_secret_value())
        )
    mailbox = await repo.update(mailbox_id, changes)
    # Field names only: the audit row and the event say the password changed, never to what.
    await activity.record(
        "mailbox.update", "mailbox", mailbox_id, {"fields": sorted(body.model_fields_set)}
    )
    return MailboxRead.of(mailbox)


@router.delete("/{mailbox_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_mailbox(
    mailbox_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> Response:
    """Delete a mailbox and its stored password."""
    await MailboxRepository(session, principal.workspace_id).delete(mailbox_id)
    await activity.record("mailbox.delete", "mailbox", mailbox_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{mailbox_id}/test", response_model=ConnectionTestRead)
async def test_mailbox(
    mailbox_id: uuid.UUID, principal: Editor, session: SessionDep, resources: ResourcesDep
) -> ConnectionTestRead:
    """Connect to the mailbox's server (TLS and login as configured) and report its answer.

    A refused connection, a TLS failure or a rejected login is ``ok: false`` with the step and
    the server's reply, not an error status."""
    settings = resources.settings
    await RateLimiter(resources.redis).check_or_raise(
        f"smtp-test:{principal.workspace_id}",
        limit=CONNECTION_TESTS_PER_MINUTE,
        window_seconds=60,
        detail="too many connection tests in this workspace; try again in a minute",
    )
    mailbox = await MailboxRepository(session, principal.workspace_id).get(mailbox_id)
    endpoint = _endpoint(mailbox, resources)
    # The test may wait on the server for CM_SMTP_TIMEOUT_SECONDS; no database connection is
    # held meanwhile.
    await session.commit()
    outcome = await probe(
        endpoint,
        allow_private=settings.smtp_allow_private_hosts,
        time_limit=settings.smtp_timeout_seconds,
    )
    return ConnectionTestRead(
        ok=outcome.ok, stage=outcome.stage, code=outcome.code, message=outcome.message
    )


def _endpoint(mailbox: Mailbox, resources: Resources) -> SmtpEndpoint:
    password = None
    if mailbox.password_sealed is not None:
        password = _box(resources).open(mailbox.password_sealed)
    return SmtpEndpoint(
        host=mailbox.host,
        port=mailbox.port,
        tls_mode=mailbox.tls_mode,
        username=mailbox.username,
        password=password,
    )


def _check(values: dict[str, Any], settings: Settings) -> None:
    """The rules that involve more than one field, and an IP literal the service would never
    connect to; a 422 naming each field."""
    problems = limit_problems(**{name: values[name] for name in _LIMITS})
    problems += window_problems(
        values["window_start_hour"], values["window_end_hour"], values["window_weekdays"]
    )
    host = values["host"]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        reason = None  # a name: its addresses are checked when the service connects
    else:
        reason = refusal(host, allow_private=settings.smtp_allow_private_hosts)
    if reason is not None:
        problems.append(FieldProblem("host", f"is {reason}; the service will not connect to it"))
    if problems:
        raise InvalidInput("; ".join(f"{p.field} {p.message}" for p in problems), problems)
