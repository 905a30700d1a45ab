"""What became of one message handed to a sender, and what the outreach does about it.

A sender answers every message of a batch with a :class:`Delivery`. The rules here turn an SMTP
server's answer into one: a 2xx is ``sent``; a 4xx is temporary (the message is queued again
after a backoff, up to :data:`MAX_ATTEMPTS`); a 5xx to the recipient or the message is a hard
bounce (the address is suppressed). A message never handed to the server (a limit held it, the
connection could not be made) is ``not_attempted`` and goes back to the queue unchanged. A
message whose fate the sender cannot know (the connection dropped during DATA, the sender died)
is ``unknown``: it is never sent again unless a user asks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# A message that met this many temporary refusals has failed.
MAX_ATTEMPTS = 5
# The longest wait between two attempts of one message.
MAX_RETRY_DELAY = timedelta(hours=2)
# A server that could not be reached (or refused every message) this many batches in a row
# pauses the outreach: sending on would only fill its queue with retries.
SERVER_FAILURES_TO_PAUSE = 3
# Text kept from a server's answer on a record.
MAX_ERROR_CHARS = 500


class Result(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    BOUNCED = "bounced"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NOT_ATTEMPTED = "not_attempted"


@dataclass(frozen=True)
class Delivery:
    """One message's result. ``retry_at``: for ``not_attempted`` and ``retry``, the earliest
    time it may go again (``None``: as soon as the sender can). ``server_failure``: the server
    itself failed (no connection, no login, it closed on us), as opposed to this message."""

    record_id: uuid.UUID
    result: Result
    code: int | None = None
    message: str = ""
    at: datetime | None = None
    retry_at: datetime | None = None
    server_failure: bool = False


def from_reply(code: int) -> Result:
    """The result of a server's final answer to a message (its reply to DATA, or a refusal of
    MAIL or RCPT)."""
    if 200 <= code < 300:
        return Result.SENT
    if 400 <= code < 500:
        return Result.RETRY
    return Result.BOUNCED


def retry_delay(attempts: int, base: timedelta) -> timedelta:
    """How long a message that met its ``attempts``-th temporary refusal waits: ``base``
    doubled each time, at most :data:`MAX_RETRY_DELAY`."""
    delay: timedelta = base * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_RETRY_DELAY)


def error_text(code: int | None, message: str) -> str:
    """How a server's answer is kept on a record: ``550 mailbox unavailable``."""
    text = f"{code} {message}" if code is not None else message
    return text[:MAX_ERROR_CHARS]
