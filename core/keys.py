"""Keys derived from the service's one secret (``CM_SECRET_KEY``), one per purpose.

Every signer and sealer takes its key from here, so none of them ever holds the key that signs
access tokens, and a token made for one purpose (a cursor, an unsubscribe link, a sealed
password) can never be taken for another.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Constant, so the same secret always derives the same keys; the purpose goes in ``info``.
_SALT = b"campaign-manager/keys/v1"


def derive_key(secret: str, purpose: str) -> bytes:
    """32 bytes for ``purpose`` (``"cursor"``, ``"link/open"``, ``"mailbox-password"``),
    derived from ``secret`` with HKDF-SHA256."""
    if not secret:
        raise ValueError(f"a {purpose} key needs a non-empty secret")
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_SALT,
        info=f"campaign-manager/{purpose}".encode(),
    ).derive(secret.encode())
