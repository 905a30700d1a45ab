"""``GET /api/v1/ws``: the caller's workspace events, live, from any replica."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from core.errors import CampaignManagerError
from core.tokens import decode_access_token
from serve.resources import Resources
from storage.events import EventBus
from storage.repositories.workspaces import MembershipRepository

router = APIRouter(tags=["live"])


@router.websocket("/ws")
async def workspace_events(websocket: WebSocket) -> None:
    """Relay the workspace's events (JSON messages). Authenticate with ``?token=<access token>``
    (browsers cannot set headers on WebSockets) or an ``Authorization: Bearer`` header."""
    resources: Resources = websocket.app.state.resources
    token = websocket.query_params.get("token") or ""
    if not token:
        scheme, _, header_token = (websocket.headers.get("authorization") or "").partition(" ")
        token = header_token.strip() if scheme.lower() == "bearer" else ""
    try:
        claims = decode_access_token(resources.secret_key, token)
        async with resources.sessionmaker() as session:
            member = await MembershipRepository(session, claims.workspace_id).find_for_user(
                claims.user_id
            )
        if member is None:
            raise CampaignManagerError("not a member of this workspace")
    except CampaignManagerError as exc:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=exc.detail[:120])
        return

    await websocket.accept()
    async with EventBus(resources.redis).subscribe(claims.workspace_id) as events:
        await websocket.send_json({"type": "ready", "workspace_id": str(claims.workspace_id)})

        async def relay() -> None:
            async for event in events:
                await websocket.send_json(event)

        async def until_closed() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    await websocket.receive_text()

        tasks = [asyncio.create_task(relay()), asyncio.create_task(until_closed())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
