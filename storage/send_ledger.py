"""The send ledger: what became of each handed-out message, kept in Redis so that a restarted
outreach actor (or one whose sender died) learns it instead of guessing.

One key per claim of a record (``cm:send:<record id>:<claim>``, its claim count), written only
with ``SET``:

- a sender writes ``started`` (``NX``) just before it hands the message to the server, and
  skips the message if the key already exists;
- when the server has answered, it writes the :class:`~core.delivery.Delivery` as JSON;
- an actor recovering a record it finds handed out writes ``fenced`` (``NX``): if that wins, no
  sender started the message and none ever will (the next claim is a new attempt, a new key), so
  it goes back to the queue; if the key says ``started`` the message may be at the server: it is
  waited for a little, then ``unknown``; a stored delivery is taken as the answer.

So only a message a sender had started and could not report is ever ``unknown``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.delivery import Delivery, Result
from core.errors import ServiceUnavailable

# A ledger entry outlives any batch: a week.
TTL_SECONDS = 7 * 86_400
_STARTED = b"started"
_FENCED = b"fenced"
_POLL_SECONDS = 0.2


class SendLedger:
    def __init__(self, redis: Redis, namespace: str = "cm") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:send"
        self._writing: set[asyncio.Task[None]] = set()

    def key(self, record_id: uuid.UUID, attempt: int) -> str:
        return f"{self._prefix}:{record_id}:{attempt}"

    async def begin(self, record_id: uuid.UUID, attempt: int) -> bool:
        """Mark the attempt started; False when it was fenced (or started) before.

        Raises:
            ServiceUnavailable: Redis did not answer; the message must not be sent.
        """
        try:
            done = await self._redis.set(
                self.key(record_id, attempt), _STARTED, nx=True, ex=TTL_SECONDS
            )
        except RedisError as error:
            raise ServiceUnavailable("the send ledger's Redis did not answer") from error
        return bool(done)

    async def finish(self, attempt: int, delivery: Delivery) -> None:
        """Keep the server's answer for the attempt (best effort: a lost write leaves the
        message ``unknown`` if its actor must recover it)."""
        body = {
            "result": delivery.result.value,
            "code": delivery.code,
            "message": delivery.message,
            "at": delivery.at.isoformat() if delivery.at else None,
        }
        try:
            await self._redis.set(
                self.key(delivery.record_id, attempt), json.dumps(body), ex=TTL_SECONDS
            )
        except RedisError:
            return

    def finish_soon(self, attempt: int, delivery: Delivery) -> None:
        """:meth:`finish` in the background; :meth:`flush` waits for every such write."""
        task = asyncio.create_task(self.finish(attempt, delivery))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def flush(self) -> None:
        """Wait for the writes :meth:`finish_soon` started."""
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    async def recover(
        self, attempts: Sequence[tuple[uuid.UUID, int]], *, wait_seconds: float
    ) -> list[Delivery]:
        """What became of these handed-out attempts (see the module): a stored answer, a
        fenced one as ``not_attempted``, one still ``started`` after ``wait_seconds`` as
        ``unknown``. Redis unreachable: every one ``unknown`` (nothing can be proved)."""
        found: dict[uuid.UUID, Delivery] = {}
        pending = list(attempts)
        deadline = time.monotonic() + wait_seconds
        try:
            for record_id, attempt in pending:
                if await self._redis.set(
                    self.key(record_id, attempt), _FENCED, nx=True, ex=TTL_SECONDS
                ):
                    found[record_id] = Delivery(
                        record_id,
                        Result.NOT_ATTEMPTED,
                        message="taken back: it had not been handed to the server",
                    )
            pending = [item for item in pending if item[0] not in found]
            while pending:
                values = await self._redis.mget([self.key(r, a) for r, a in pending])
                still = []
                for (record_id, attempt), value in zip(pending, values, strict=True):
                    answer = _answer(record_id, value)
                    if answer is None:
                        still.append((record_id, attempt))
                    else:
                        found[record_id] = answer
                pending = still
                if not pending or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(_POLL_SECONDS)
        except RedisError:
            pass
        return [
            found.get(record_id) or Delivery(record_id, Result.UNKNOWN) for record_id, _ in attempts
        ]


def _answer(record_id: uuid.UUID, value: bytes | str | None) -> Delivery | None:
    if isinstance(value, str):
        value = value.encode()
    if value == _FENCED:
        # Fenced by an earlier recovery: never started.
        return Delivery(record_id, Result.NOT_ATTEMPTED, message="taken back before it was sent")
    if value is None or value == _STARTED:
        return None
    try:
        body = json.loads(value)
        return Delivery(
            record_id,
            Result(body["result"]),
            code=body.get("code"),
            message=body.get("message") or "",
            at=datetime.fromisoformat(body["at"]) if body.get("at") else None,
        )
    except (ValueError, KeyError, TypeError):
        return None
