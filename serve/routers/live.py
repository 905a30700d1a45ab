"""``GET /api/v1/ws``: the caller's workspace events, live, from any replica.

A socket lives only as long as the access it was opened with. The server closes it with:

- ``4401 access token expired`` when the token's ``exp`` passes; reconnect with a fresh token.
- ``4403 no longer a member of this workspace`` when the membership is gone (removed, left, the
  workspace deleted) or its role no longer reads events. The membership is re-read when an
  event about members or the workspace arrives, whichever replica published it, and every
  ``live_recheck_seconds`` for changes that publish nothing.
- ``1013 try again later`` when the membership could not be read in time (the socket fails
  closed rather than relay on unchecked access).
- ``4408 too slow to receive events`` when one message takes longer than
  ``SEND_TIMEOUT_SECONDS`` to hand to the client.
- ``1013 live updates are unavailable`` when Redis (which carries the events) is down, at the
  start or while relaying; reconnect after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any, NamedTuple

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from sqlalchemy.exc import SQLAlchemyError
from starlette.websockets import WebSocketState

from core.enums import Role
from core.errors import CampaignManagerError
from core.tokens import AccessClaims, decode_access_token
from serve.resources import Resources
from storage.events import EventBus, EventSubscription
from storage.outages import is_outage
from storage.repositories.workspaces import MembershipRepository

router = APIRouter(tags=["live"])

# Events carry what the workspace's reads show, and every role may read.
EVENTS_READ_ROLE = Role.VIEWER
ACCESS_CHECK_TIMEOUT_SECONDS = 5.0
SEND_TIMEOUT_SECONDS = 10.0
CLOSE_TIMEOUT_SECONDS = 5.0
# Events about these entities may change who can read the workspace (see serve/routers/
# workspaces.py: each names the affected member in data.user_id).
_ACCESS_ENTITY_TYPES = frozenset({"member", "workspace"})


class Closing(NamedTuple):
    code: int
    reason: str


TOKEN_EXPIRED = Closing(4401, "access token expired")
NOT_A_MEMBER = Closing(4403, "no longer a member of this workspace")
CHECK_FAILED = Closing(1013, "access could not be checked; try again later")
TOO_SLOW = Closing(4408, "too slow to receive events")
LIVE_UNAVAILABLE = Closing(1013, "live updates are unavailable (Redis); try again later")


@router.websocket("/ws")
async def workspace_events(websocket: WebSocket) -> None:
    """Relay the workspace's events (JSON messages). Authenticate with ``?token=<access token>``
    (browsers cannot set headers on WebSockets) or an ``Authorization: Bearer`` header. The
    server closes the socket when the token expires (4401) or the caller stops being a member
    (4403)."""
    resources: Resources = websocket.app.state.resources
    token = websocket.query_params.get("token") or ""
    if not token:
        scheme, _, header_token = (websocket.headers.get("authorization") or "").partition(" ")
        token = header_token.strip() if scheme.lower() == "bearer" else ""
    try:
        claims = decode_access_token(resources.secret_key, token)
    except CampaignManagerError as exc:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=exc.detail[:120])
        return
    # Subscribed before the first check: a removal committed after the check still publishes
    # an event this subscription receives, so no change falls between the two.
    async with contextlib.AsyncExitStack() as stack:
        try:
            events = await stack.enter_async_context(
                EventBus(resources.redis).subscribe(claims.workspace_id)
            )
        except Exception as exc:
            if not is_outage(exc):
                raise
            await _accept_and_close(websocket, LIVE_UNAVAILABLE)
            return
        refused = await _check_access(resources, claims)
        if refused is CHECK_FAILED:
            await _accept_and_close(websocket, CHECK_FAILED)
            return
        if refused is not None:
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=refused.reason)
            return
        await websocket.accept()
        await websocket.send_json({"type": "ready", "workspace_id": str(claims.workspace_id)})
        tasks = [
            asyncio.create_task(_relay(websocket, events, resources, claims)),
            asyncio.create_task(_until_expired(claims)),
            asyncio.create_task(_recheck_periodically(resources, claims)),
            asyncio.create_task(_until_client_leaves(websocket)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        closing = next((c for c in (task.result() for task in done) if c is not None), None)
    if closing is not None and websocket.client_state is WebSocketState.CONNECTED:
        # A client that stopped reading cannot take the close frame either; do not wait on it.
        with contextlib.suppress(TimeoutError, WebSocketDisconnect, OSError):
            await asyncio.wait_for(
                websocket.close(code=closing.code, reason=closing.reason), CLOSE_TIMEOUT_SECONDS
            )


async def _accept_and_close(websocket: WebSocket, closing: Closing) -> None:
    """Close with a code the client can act on ("try again later"): a socket closed before it
    is accepted is only a refused handshake (HTTP 403) to the client, which reads as "denied"."""
    await websocket.accept()
    with contextlib.suppress(TimeoutError, WebSocketDisconnect, OSError):
        await asyncio.wait_for(
            websocket.close(code=closing.code, reason=closing.reason), CLOSE_TIMEOUT_SECONDS
        )


async def _check_access(resources: Resources, claims: AccessClaims) -> Closing | None:
    """Why the token's holder may no longer read the workspace's events, or None if they may."""
    try:
        async with asyncio.timeout(ACCESS_CHECK_TIMEOUT_SECONDS):
            async with resources.sessionmaker() as session:
                member = await MembershipRepository(session, claims.workspace_id).find_for_user(
                    claims.user_id
                )
    except (TimeoutError, SQLAlchemyError, OSError):
        return CHECK_FAILED
    if member is None or not member.role.at_least(EVENTS_READ_ROLE):
        return NOT_A_MEMBER
    return None


def _may_change_access(event: dict[str, Any], user_id: str) -> bool:
    if event.get("entity_type") not in _ACCESS_ENTITY_TYPES:
        return False
    data = event.get("data")
    affected = data.get("user_id") if isinstance(data, dict) else None
    return affected is None or affected == user_id


async def _relay(
    websocket: WebSocket, events: EventSubscription, resources: Resources, claims: AccessClaims
) -> Closing | None:
    user_id = str(claims.user_id)
    while True:
        try:
            event = await anext(events)
        except Exception as exc:
            if not is_outage(exc):
                raise
            return LIVE_UNAVAILABLE  # the client reconnects, and is told again until it is back
        # Checked before relaying, so nothing published after a removal reaches the removed.
        if _may_change_access(event, user_id):
            closing = await _check_access(resources, claims)
            if closing is not None:
                return closing
        try:
            await asyncio.wait_for(websocket.send_json(event), SEND_TIMEOUT_SECONDS)
        except TimeoutError:
            return TOO_SLOW
        except WebSocketDisconnect:
            return None


async def _until_expired(claims: AccessClaims) -> Closing:
    await asyncio.sleep(max(0.0, (claims.expires_at - datetime.now(UTC)).total_seconds()))
    return TOKEN_EXPIRED


async def _recheck_periodically(resources: Resources, claims: AccessClaims) -> Closing:
    while True:
        await asyncio.sleep(resources.settings.live_recheck_seconds)
        closing = await _check_access(resources, claims)
        if closing is not None:
            return closing


async def _until_client_leaves(websocket: WebSocket) -> None:
    # What the client sends is ignored; reading is how a disconnect is noticed.
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
