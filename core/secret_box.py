"""Secrets kept at rest (a mailbox's SMTP password) sealed with authenticated encryption.

The key is derived from the service's secret (``CM_SECRET_KEY``) by :func:`core.keys.derive_key`
with a label naming what it seals, so it is never the key that signs access tokens or cursors,
and a secret sealed for one purpose cannot be opened for another. Fernet (AES-128-CBC with
HMAC-SHA256) authenticates every token: a changed byte, a token sealed under another key or for
another purpose is refused with :class:`SecretUnreadable`, never decrypted into garbage.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken

from core.errors import Conflict
from core.keys import derive_key

MAILBOX_PASSWORD = "mailbox-password"


class SecretUnreadable(Conflict):
    """A sealed secret that this service's key cannot open: tampered with, or sealed before
    ``CM_SECRET_KEY`` changed. The user sets the secret again."""

    type = "secret-unreadable"
    title = "Stored secret unreadable"


class SecretBox:
    """Seals and opens text secrets for one ``purpose`` under one service secret."""

    def __init__(self, secret: str, purpose: str) -> None:
        key = derive_key(secret, purpose)
        self.purpose = purpose
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        """An ASCII token holding ``plaintext``; sealing the same text twice gives two tokens."""
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """The text sealed in ``token``, or :class:`SecretUnreadable`."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            # The message says nothing about the token or the key; both stay out of logs.
            raise SecretUnreadable(
                f"the stored {self.purpose.replace('-', ' ')} cannot be read with the current "
                "CM_SECRET_KEY (changed since it was saved, or the stored value was altered); "
                "set it again"
            ) from None
