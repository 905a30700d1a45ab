"""Asking an outreach's actor to do something: the routes' one way to change an outreach's
status (the actor is its single writer) or to queue a message again.

Every call is bounded: an actor that does not answer in time is a 503, and the route's client
may ask again (commands are checked against the committed status, so a repeat is a 409, never a
second transition). An actor that is exiting (its outreach had just stopped) refuses the call;
a new one is asked a moment later, up to :data:`ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from actors.outreach import outreach_actor
from core import telemetry
from core.errors import Conflict, ServiceUnavailable
from core.outreach_rules import Command
from core.settings import Settings

# How long a route waits for an outreach actor's answer (it commits before answering).
ANSWER_SECONDS = 20.0
# An actor that is exiting refuses the call; a new one is asked after a moment.
ATTEMPTS = 5
RETRY_SECONDS = 0.5


async def _ask(
    settings: Settings,
    workspace_id: uuid.UUID,
    outreach_id: uuid.UUID,
    call: Callable[[Any], Any],
) -> None:
    last: BaseException | None = None
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_SECONDS)
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                actor = await asyncio.to_thread(outreach_actor, settings, outreach_id, workspace_id)
                answer = await call(actor)
        except TimeoutError as exc:
            last = exc
            break
        except Exception as exc:  # the actor is exiting or died under the call; Ray is gone
            last = exc
            continue
        if answer is not None:
            raise Conflict(answer)
        return
    raise ServiceUnavailable(
        "the outreach's actor did not answer; try again in a moment"
        + (f" ({type(last).__name__})" if last else "")
    )


async def command(
    settings: Settings,
    workspace_id: uuid.UUID,
    outreach_id: uuid.UUID,
    what: Command,
    user_id: uuid.UUID,
) -> None:
    """Launch, pause, resume or cancel; a ``Conflict`` saying why not."""
    await _ask(
        settings,
        workspace_id,
        outreach_id,
        lambda actor: actor.command.remote(what.value, user_id, carrier=telemetry.carry()),
    )


async def resend(
    settings: Settings,
    workspace_id: uuid.UUID,
    outreach_id: uuid.UUID,
    record_id: uuid.UUID,
    user_id: uuid.UUID,
) -> None:
    """Queue an unknown or failed record again; a ``Conflict`` saying why not."""
    await _ask(
        settings,
        workspace_id,
        outreach_id,
        lambda actor: actor.resend.remote(record_id, user_id, carrier=telemetry.carry()),
    )
