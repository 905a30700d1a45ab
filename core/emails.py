"""Email address rules shared by users, contacts and the suppression list."""

from __future__ import annotations

import re

from core.errors import FieldProblem, InvalidInput

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is the SMTP
# server's call; this only catches typos and pasted junk.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


def normalize_email(value: str, *, field: str = "email") -> str:
    """Lower-case and trim ``value``; raise ``InvalidInput`` naming ``field`` if it is not an
    address."""
    email = value.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        message = f"{value!r} is not an email address"
        raise InvalidInput(message, [FieldProblem(field, message)])
    return email
