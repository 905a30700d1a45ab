"""The inbound webhook: bounces and complaints reported after the fact, by a mail provider or a
script that reads a bounce mailbox.

- ``GET /api/v1/inbound-webhook`` (admins and owners) tells where this workspace's reports go
  and the secret that signs them, with a signed example. The secret is derived from
  ``CM_SECRET_KEY`` and the workspace id (``core/inbound.py``), never stored.
- ``POST /inbound/{workspace_id}/events`` takes a report. No bearer token: the body is signed
  with the workspace's secret (``X-CM-Timestamp``, ``X-CM-Signature``; the rule is in
  ``core/inbound.py``). A missing or wrong signature, a stale timestamp and a workspace that
  does not exist get the same 401, so the route cannot be used to learn which workspaces
  exist. The body is ``{"events": [{"type": "bounce" | "complaint", "email": ..., "message_id":
  "<...>"?, "detail": ...?}]}`` with at most ``MAX_EVENTS`` events; each is applied as
  ``storage/repositories/inbound_events.py`` says, and the answer counts what changed:
  ``{"accepted", "suppressed", "records_bounced"}``. A report that changes anything is one
  ``inbound.report`` audit row and live event, recorded as the system (``"inbound"``); one that
  changes nothing (a retry) records nothing.

The POST lives at the root, next to the tracking links, and stays out of the OpenAPI document:
mail systems call it, not API clients.
"""

from __future__ import annotations

import json
import time
import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from core.enums import Role
from core.errors import FieldProblem, InvalidInput
from core.inbound import (
    BAD_SIGNATURE,
    MAX_EVENTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE_SECONDS,
    SignatureRefused,
    inbound_key,
    sign,
    verify,
)
from serve.dependencies import CurrentPrincipal, ResourcesDep
from serve.problems import error_response, unreadable_json
from serve.resources import Resources
from serve.schemas.inbound import (
    InboundReport,
    InboundResult,
    InboundWebhookExample,
    InboundWebhookRead,
)
from storage.activity import Activity
from storage.repositories.inbound_events import apply_inbound_events, lock_workspace

router = APIRouter(prefix="/inbound-webhook", tags=["outreach"])
# Not ``router``: serve/app.py mounts this one at the root.
public_router = APIRouter(include_in_schema=False)

SYSTEM = "inbound"
EVENTS_PATH = "/inbound/{workspace_id}/events"
# The scheme a refused request is told to use (a 401 names one).
_CHALLENGE = f'CM-Signature headers="{TIMESTAMP_HEADER} {SIGNATURE_HEADER}"'
_EXAMPLE_REPORT = {
    "events": [
        {
            "type": "bounce",
            "email": "recipient@example.com",
            "message_id": "<01940000-0000-7000-8000-000000000000@label.example>",
            "detail": "550 5.1.1 mailbox does not exist",
        },
        {"type": "complaint", "email": "listener@example.com"},
    ]
}


@router.get("", response_model=InboundWebhookRead)
async def read_inbound_webhook(
    principal: CurrentPrincipal, resources: ResourcesDep, response: Response
) -> InboundWebhookRead:
    """Show where to send bounce and complaint reports, and the secret that signs them."""
    principal.require(Role.ADMIN, "see the inbound webhook's secret")
    workspace_id = principal.workspace_id
    key = inbound_key(resources.secret_key, workspace_id)
    body = json.dumps(_EXAMPLE_REPORT, separators=(",", ":"))
    timestamp = str(int(time.time()))
    response.headers["Cache-Control"] = "no-store"
    return InboundWebhookRead(
        url=resources.settings.public_url + EVENTS_PATH.format(workspace_id=workspace_id),
        secret=key.hex(),
        signature_header=SIGNATURE_HEADER,
        timestamp_header=TIMESTAMP_HEADER,
        tolerance_seconds=TOLERANCE_SECONDS,
        max_events=MAX_EVENTS,
        example=InboundWebhookExample(
            body=body,
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(key, timestamp, body.encode()),
            },
        ),
    )


@public_router.post(EVENTS_PATH)
async def receive_inbound_events(
    workspace_id: str, request: Request, resources: ResourcesDep
) -> Response:
    """Apply a signed report of bounces and complaints."""
    try:
        result = await _receive(workspace_id, request, resources)
    except SignatureRefused as exc:
        refused = error_response(exc, request.url.path)
        refused.headers["WWW-Authenticate"] = _CHALLENGE
        return refused
    return JSONResponse(result.model_dump())


async def _receive(raw_workspace_id: str, request: Request, resources: Resources) -> InboundResult:
    workspace_id = _workspace_id(raw_workspace_id)
    body = await request.body()
    verify(
        inbound_key(resources.secret_key, workspace_id) if workspace_id is not None else None,
        body=body,
        signature=request.headers.get(SIGNATURE_HEADER),
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        now=time.time(),
    )
    assert workspace_id is not None  # verify refuses every request without a key
    events = _report(body).to_events()
    async with resources.sessionmaker.begin() as session:
        # Signed, yet gone: a workspace deleted since its secret was handed out.
        if not await lock_workspace(session, workspace_id):
            raise SignatureRefused(BAD_SIGNATURE)
        activity = Activity(
            session,
            resources.redis,
            workspace_id,
            system=SYSTEM,
            request_id=request.headers.get("x-request-id"),
        )
        outcome = await apply_inbound_events(session, workspace_id, events)
        if outcome.changed:
            await activity.record(
                "inbound.report",
                "suppression",
                None,
                {
                    "accepted": outcome.accepted,
                    "suppressed": outcome.suppressed,
                    "records_bounced": outcome.records_bounced,
                },
            )
            activity.invalidate("email_record", "analytics_event")
    await activity.after_commit()
    return InboundResult(
        accepted=outcome.accepted,
        suppressed=outcome.suppressed,
        records_bounced=outcome.records_bounced,
    )


def _workspace_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _report(body: bytes) -> InboundReport:
    """The report in ``body``, or an ``InvalidInput`` naming each bad field (``events.3.email``)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        message = unreadable_json(exc)
        raise InvalidInput(message, [FieldProblem("body", message)]) from None
    try:
        return InboundReport.model_validate(document)
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(str(part) for part in error["loc"]) or "body", error["msg"])
            for error in exc.errors()
        ]
        fields = ", ".join(dict.fromkeys(problem.field for problem in problems))
        raise InvalidInput(f"invalid fields: {fields}", problems) from None
