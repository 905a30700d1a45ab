"""The inbound webhook: how a mail provider (or a script reading a bounce mailbox) signs the
bounces and complaints it reports, and what a report holds.

A request is signed with a key of its workspace's own, derived from the service's secret
(``CM_SECRET_KEY``) and the workspace id, never stored: rotating the secret rotates every key.
The sender puts the current time in ``X-CM-Timestamp`` (unix seconds, digits only) and in
``X-CM-Signature`` the lowercase hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` (the header's
value exactly as sent, a dot, then the raw body bytes), prefixed with ``sha256=``::

    X-CM-Timestamp: 1767225600
    X-CM-Signature: sha256=5f0c...e1

A timestamp more than :data:`TOLERANCE_SECONDS` away from the service's clock is refused, so a
captured request cannot be replayed later; inside that window a replay changes nothing, since
applying the same report twice is harmless. Signatures are compared in constant time.
Every refusal is a :class:`SignatureRefused` (401).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from core.enums import SuppressionReason
from core.errors import Unauthorized
from core.keys import derive_key

SIGNATURE_HEADER = "X-CM-Signature"
TIMESTAMP_HEADER = "X-CM-Timestamp"
SIGNATURE_PREFIX = "sha256="
TOLERANCE_SECONDS = 300
MAX_EVENTS = 1_000
MAX_DETAIL_CHARS = 1_000
# As ``email_records.message_id`` holds them, brackets included.
MAX_MESSAGE_ID_CHARS = 500

# Unix seconds, digits only: no sign, no fraction, nothing a reader could parse two ways. Twelve
# digits reach the year 33658.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
# What a Message-ID's ``id-left@id-right`` holds (RFC 5322, leniently): printable ASCII without
# spaces, brackets or a second @.
_ID_PART = r"[\x21-\x3b\x3d\x3f\x41-\x7e]+"
_MESSAGE_ID_BODY = re.compile(f"{_ID_PART}@{_ID_PART}")

BAD_SIGNATURE = f"the {SIGNATURE_HEADER} signature does not match this workspace's secret"


class SignatureRefused(Unauthorized):
    """A request the workspace's key did not sign, signed too long ago, or not signed at all."""

    type = "invalid-signature"
    title = "Invalid signature"


class InboundEventType(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"

    @property
    def suppression_reason(self) -> SuppressionReason:
        return (
            SuppressionReason.BOUNCED
            if self is InboundEventType.BOUNCE
            else SuppressionReason.COMPLAINED
        )

    @property
    def analytics_event(self) -> str:
        return "email.bounced" if self is InboundEventType.BOUNCE else "email.complained"


@dataclass(frozen=True)
class InboundEvent:
    """One reported bounce or complaint: the address (normalised), and the Message-ID of the
    message it is about (``<...>``) when the reporter knows it."""

    type: InboundEventType
    email: str
    message_id: str | None = None
    detail: str | None = None


def inbound_key(secret: str, workspace_id: UUID) -> bytes:
    """The key that signs ``workspace_id``'s inbound webhook requests (32 bytes)."""
    return derive_key(secret, f"inbound-webhook:{workspace_id}")


def signed_text(timestamp: str, body: bytes) -> bytes:
    """What the MAC covers: the timestamp as sent, a dot, and the raw body."""
    return timestamp.encode("ascii") + b"." + body


def sign(key: bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-CM-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(key, signed_text(str(timestamp), body), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + mac


def verify(
    key: bytes | None,
    *,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
) -> int:
    """The request's timestamp, once ``signature`` proves ``key`` signed ``body`` at
    ``timestamp``, within :data:`TOLERANCE_SECONDS` of ``now``.

    ``key`` ``None`` stands for a workspace that cannot exist: it is refused exactly as a wrong
    key is, after the same checks, so an answer never tells which workspaces exist.

    Raises:
        SignatureRefused: a header is missing or malformed, the timestamp is stale, or the
            signature does not match.
    """
    if signature is None or timestamp is None:
        missing = " and ".join(
            name
            for name, value in ((SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, timestamp))
            if value is None
        )
        raise SignatureRefused(f"missing {missing}")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureRefused(f"{TIMESTAMP_HEADER} must be the current time in unix seconds")
    sent_at = int(timestamp)
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        raise SignatureRefused(
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} seconds away from the "
            "server's clock"
        )
    given = _SIGNATURE.fullmatch(signature)
    if given is None:
        raise SignatureRefused(
            f"{SIGNATURE_HEADER} must be {SIGNATURE_PREFIX}<hex HMAC-SHA256 of "
            f"'{{{TIMESTAMP_HEADER}}}.{{body}}'>"
        )
    # A key nobody holds: the comparison still runs, so a refusal costs the same either way.
    expected = sign(key if key is not None else b"", timestamp, body)
    matches = hmac.compare_digest(
        (SIGNATURE_PREFIX + given.group(1).lower()).encode(), expected.encode()
    )
    if not matches or key is None:
        raise SignatureRefused(BAD_SIGNATURE)
    return sent_at


def normalize_message_id(value: str) -> str | None:
    """``value`` as ``email_records.message_id`` holds it (``<left@right>``, brackets added when
    the reporter left them out, surrounding space trimmed), or ``None`` when it is no
    Message-ID."""
    text = value.strip()
    inner = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    if len(inner) + 2 > MAX_MESSAGE_ID_CHARS or not _MESSAGE_ID_BODY.fullmatch(inner):
        return None
    return f"<{inner}>"
