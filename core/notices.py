"""Mail the service sends on its own behalf (an invitation to a workspace), and the system
relay it goes through.

Notices are plain transactional messages: no tracking, no unsubscribe link (the recipient asked
for nothing and is written to once). They go through ``CM_SMTP_URL`` when it is set
(``smtp://user:password@host:587?tls=starttls&from=noreply@example.com``; ``smtps://`` is TLS
from the first byte) and otherwise into the workspace's outbox folder, like outreach without a
mailbox, so a fresh ``make run`` sends nothing off the machine.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, quote, unquote, urlsplit
from uuid import UUID

from core.enums import SmtpTlsMode
from core.errors import ConfigurationError
from core.messages import MESSAGE_POLICY, MailAddress, message_id_for

_DEFAULT_PORTS = {SmtpTlsMode.STARTTLS: 587, SmtpTlsMode.TLS: 465, SmtpTlsMode.NONE: 25}
DEFAULT_FROM = "noreply@campaign-manager.invalid"


@dataclass(frozen=True)
class SystemRelay:
    """The server ``CM_SMTP_URL`` names."""

    host: str
    port: int
    tls_mode: SmtpTlsMode
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SystemRelay:
    """``CM_SMTP_URL`` as a relay; a ``ConfigurationError`` naming what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigurationError(
            "CM_SMTP_URL", "must look like smtp://user:password@host:587?tls=starttls"
        )
    query = parse_qs(parts.query)
    if scheme == "smtps":
        tls = SmtpTlsMode.TLS
    else:
        try:
            tls = SmtpTlsMode(query.get("tls", ["starttls"])[0])
        except ValueError:
            raise ConfigurationError("CM_SMTP_URL", "tls must be starttls, tls or none") from None
    try:
        port = parts.port or _DEFAULT_PORTS[tls]
    except ValueError:
        raise ConfigurationError(
            "CM_SMTP_URL", "the port is not a number from 1 to 65535"
        ) from None
    return SystemRelay(
        host=parts.hostname,
        port=port,
        tls_mode=tls,
        sender=query.get("from", [DEFAULT_FROM])[0],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def invitation_message(
    *,
    notice_id: UUID,
    sender: MailAddress,
    to: str,
    workspace_name: str,
    inviter_name: str,
    role: str,
    token: str,
    public_url: str,
) -> EmailMessage:
    """The invitation an invitee receives: who invites them where, and how to accept."""
    base = public_url.rstrip("/")
    # The web app's page for it (ui/src/pages/auth/AcceptInvitationPage.tsx).
    accept_url = f"{base}/invitations/accept?code={quote(token, safe='')}"
    text = (
        f"{inviter_name} invites you to join the workspace {workspace_name!r} on Campaign "
        f"Manager as {role}.\n\n"
        f"Accept it here (sign in with this address, or create an account with it):\n\n"
        f"    {accept_url}\n\n"
        "or accept it in the app with this code:\n\n"
        f"    {token}\n\n"
        f'(API: POST {base}/api/v1/invitations/accept with {{"token": "{token}"}}.)\n'
        "If you did not expect this, ignore this message.\n"
    )
    page = (
        f"<p>{html.escape(inviter_name)} invites you to join the workspace "
        f"<strong>{html.escape(workspace_name)}</strong> on Campaign Manager as "
        f"{html.escape(role)}.</p>"
        f'<p><a href="{html.escape(accept_url, quote=True)}">Accept the invitation</a> (sign in '
        "with this address, or create an account with it), or accept it in the app with this "
        f"code:</p><p><code>{html.escape(token)}</code></p>"
        "<p>If you did not expect this, ignore this message.</p>"
    )
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = f"{sender.name} <{sender.email}>" if sender.name else sender.email
    message["To"] = to
    message["Subject"] = f"Join {workspace_name} on Campaign Manager"[:200]
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id_for(notice_id, sender.email)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(page, subtype="html")
    return message
