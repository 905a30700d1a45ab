"""Mailing the service's own notices (an invitation) through the sender actors, bounded: the
request that asked for it answers whatever the mail server does."""

from __future__ import annotations

import asyncio
import logging
import uuid

from actors.senders import send_notice
from core.messages import MailAddress
from core.notices import DEFAULT_FROM, invitation_message, parse_smtp_url
from core.settings import Settings

log = logging.getLogger(__name__)

# How long a request waits for its notice to be handed over.
NOTICE_SECONDS = 20.0


async def mail_invitation(
    settings: Settings,
    invitation_id: uuid.UUID,
    *,
    to: str,
    workspace_name: str,
    inviter_name: str,
    role: str,
    token: str,
    workspace_id: uuid.UUID,
) -> str:
    """Email an invitation; returns where it went (``smtp``, ``outbox``) or ``not sent: why``."""
    try:
        sender = parse_smtp_url(settings.smtp_url).sender if settings.smtp_url else DEFAULT_FROM
        message = invitation_message(
            notice_id=invitation_id,
            sender=MailAddress(sender, "Campaign Manager"),
            to=to,
            workspace_name=workspace_name,
            inviter_name=inviter_name,
            role=role,
            token=token,
            public_url=settings.public_url,
        )
        return await asyncio.wait_for(
            send_notice(settings, workspace_id, invitation_id, to, message.as_bytes()),
            timeout=NOTICE_SECONDS,
        )
    except TimeoutError:
        return f"not sent: no answer within {NOTICE_SECONDS:g} s"
    except Exception as exc:  # the invitation stands; the inviter passes the token on
        log.warning("invitation %s was not emailed: %s", invitation_id, exc)
        return f"not sent: {exc}"[:300]
