"""Signed tokens for the links in sent mail: the open pixel, click redirects and unsubscribe.

A token is the unpadded URL-safe base64 of ``payload || mac``: the payload starts with a
format version byte, the mac is the first 16 bytes (128 bits) of HMAC-SHA256 over the payload.
Each purpose signs with its own key, derived from the service's secret and the purpose's
name, so a token made for one purpose (or by another service) never verifies as another.

- ``open``: an email record id (a 44-character token).
- ``click``: an email record id and the exact http(s) URL the message linked to. Verifying
  yields that URL and nothing else, so the redirect cannot be pointed anywhere else (no open
  redirect); only http and https targets are minted.
- ``unsubscribe``: an email record id, or a workspace id and an address (for mail that has no
  record, such as an invitation).

Tokens do not expire: an unsubscribe link must keep working for as long as the message is in
someone's inbox, and so should its links. Rotating ``CM_SECRET_KEY`` revokes them all.

Verification refuses, before any other work, a token longer than :data:`MAX_TOKEN_CHARS`; it
then refuses anything that is not canonical base64 of a payload signed with the purpose's key
(compared in constant time) in a format this module writes. Every refusal is a
:class:`LinkTokenRefused` (a ``NotFound``: a link the service did not make leads nowhere).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

from core.emails import normalize_email
from core.errors import FieldProblem, InvalidInput, NotFound
from core.keys import derive_key

# Far above the longest token minted (a click token for a MAX_TARGET_URL_BYTES URL is about
# 2,800 characters), far below what costs anything to refuse.
MAX_TOKEN_CHARS = 4096
# In UTF-8, as the token carries it: about what every browser and mail client takes; a longer
# link is left untracked.
MAX_TARGET_URL_BYTES = 2048
TRACKED_SCHEMES = frozenset({"http", "https"})

_VERSION = 1
_MAC_BYTES = 16
_UUID_BYTES = 16
# Unsubscribe payloads say what they name after the version byte.
_BY_RECORD = b"r"
_BY_ADDRESS = b"a"


class LinkPurpose(StrEnum):
    OPEN = "open"
    CLICK = "click"
    UNSUBSCRIBE = "unsubscribe"


class LinkTokenRefused(NotFound):
    """A link token this service did not make for this purpose, or one that was changed."""

    type = "invalid-link"
    title = "Link not found"


@dataclass(frozen=True)
class ClickTarget:
    record_id: UUID
    url: str


@dataclass(frozen=True)
class RecordUnsubscribe:
    """Unsubscribe the recipient of one email record."""

    record_id: UUID


@dataclass(frozen=True)
class AddressUnsubscribe:
    """Unsubscribe an address from one workspace's mail (mail sent without a record)."""

    workspace_id: UUID
    address: str


UnsubscribeTarget = RecordUnsubscribe | AddressUnsubscribe


def link_key(secret: str, purpose: LinkPurpose) -> bytes:
    """The key that signs ``purpose`` tokens, derived so that it signs nothing else."""
    return derive_key(secret, f"link/{purpose.value}")


def target_problem(url: str) -> str | None:
    """Why ``url`` cannot be a click target, or ``None`` when it can: an absolute http(s) URL
    with a host, at most :data:`MAX_TARGET_URL_BYTES` long in UTF-8, without whitespace or
    control characters (which a redirect's ``Location`` header must never carry)."""
    # A character is at least a byte: a huge string is refused without encoding it.
    if len(url) > MAX_TARGET_URL_BYTES or len(url.encode(errors="replace")) > MAX_TARGET_URL_BYTES:
        return f"is longer than {MAX_TARGET_URL_BYTES} bytes"
    # Every whitespace character but the space is unprintable to str.isprintable.
    if " " in url or not url.isprintable():
        return "contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in TRACKED_SCHEMES:
        return "is not an http:// or https:// URL"
    if not parts.hostname:
        return "has no host"
    return None


class LinkSigner:
    """Mints and verifies link tokens with keys derived from one secret."""

    def __init__(self, secret: str) -> None:
        self._keys = {purpose: link_key(secret, purpose) for purpose in LinkPurpose}

    def open_token(self, record_id: UUID) -> str:
        return self._mint(LinkPurpose.OPEN, record_id.bytes)

    def click_token(self, record_id: UUID, url: str) -> str:
        """A token for a click on ``url`` in record ``record_id``'s message; an ``InvalidInput``
        naming ``url`` when it is not a target (see :func:`target_problem`)."""
        problem = target_problem(url)
        if problem is not None:
            message = f"link target {problem}"
            raise InvalidInput(message, [FieldProblem("url", message)])
        return self._mint(LinkPurpose.CLICK, record_id.bytes + url.encode())

    def unsubscribe_token(self, target: UnsubscribeTarget) -> str:
        if isinstance(target, RecordUnsubscribe):
            payload = _BY_RECORD + target.record_id.bytes
        else:
            address = normalize_email(target.address, field="address")
            payload = _BY_ADDRESS + target.workspace_id.bytes + address.encode()
        return self._mint(LinkPurpose.UNSUBSCRIBE, payload)

    def verify_open(self, token: str) -> UUID:
        """The record whose message was opened."""
        payload = self._verify(LinkPurpose.OPEN, token)
        if len(payload) != _UUID_BYTES:
            raise _refused()
        return UUID(bytes=payload)

    def verify_click(self, token: str) -> ClickTarget:
        """The record and the URL the token was minted with."""
        payload = self._verify(LinkPurpose.CLICK, token)
        try:
            url = payload[_UUID_BYTES:].decode()
        except UnicodeDecodeError:
            raise _refused() from None
        # Minting already checked it; checking again keeps a token minted under looser rules
        # from ever redirecting somewhere the rules now refuse.
        if len(payload) <= _UUID_BYTES or target_problem(url) is not None:
            raise _refused()
        return ClickTarget(record_id=UUID(bytes=payload[:_UUID_BYTES]), url=url)

    def verify_unsubscribe(self, token: str) -> UnsubscribeTarget:
        payload = self._verify(LinkPurpose.UNSUBSCRIBE, token)
        kind, rest = payload[:1], payload[1:]
        if kind == _BY_RECORD and len(rest) == _UUID_BYTES:
            return RecordUnsubscribe(record_id=UUID(bytes=rest))
        if kind == _BY_ADDRESS and len(rest) > _UUID_BYTES:
            try:
                address = rest[_UUID_BYTES:].decode()
            except UnicodeDecodeError:
                raise _refused() from None
            return AddressUnsubscribe(workspace_id=UUID(bytes=rest[:_UUID_BYTES]), address=address)
        raise _refused()

    def _mint(self, purpose: LinkPurpose, body: bytes) -> str:
        payload = bytes([_VERSION]) + body
        return _encode(payload + _mac(self._keys[purpose], payload))

    def _verify(self, purpose: LinkPurpose, token: str) -> bytes:
        """The payload after the version byte, once the token proves to be one this signer
        minted for ``purpose``."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise _refused()
        raw = _decode(token)
        if raw is None or len(raw) <= 1 + _MAC_BYTES:
            raise _refused()
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, _mac(self._keys[purpose], payload)):
            raise _refused()
        if payload[0] != _VERSION:
            raise _refused()
        return payload[1:]


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(token: str) -> bytes | None:
    """The bytes of a token in canonical unpadded URL-safe base64, else ``None``: one token
    has one spelling, so no character of it can change without the token being refused."""
    if not token.isascii():
        return None
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if _encode(raw) == token else None


def _refused() -> LinkTokenRefused:
    return LinkTokenRefused("this link is not valid")
