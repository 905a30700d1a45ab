"""The send ledger: what became of each handed-out message, kept in Redis so that a restarted
outreach actor (or one whose sender died) learns it instead of guessing.

One key per claim of a record (``cm:send:<record id>:<claim>``, its claim count), moved only by
compare-and-set scripts:

- the outreach actor writes ``claimed`` for every record of a batch once the claim is committed
  and before any sender sees it (:meth:`SendLedger.claim`);
- a sender moves ``claimed -> data`` just before SMTP DATA (or the outbox write), and does not
  send the message unless that move succeeds (:meth:`SendLedger.begin_data`);
- when the server has answered, the sender writes the :class:`~core.delivery.Delivery`;
- an actor recovering a handed-out record moves ``claimed -> fenced``: if that succeeds, no
  sender reached DATA and none ever will (the next claim is a new key), so the message goes back
  to the queue. A key at ``data`` may be at the server: it is waited for a little, then
  ``unknown``. A stored answer is taken as the answer. A missing key (Redis lost it) is
  ``unknown``: nothing proves the message was not sent.

So only a message whose DATA was under way when its sender stopped, or whose key Redis lost, is
ever ``unknown``. The embedded Redis keeps an append-only file for this (``storage/
embedded.py``); an external one should too.
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

from core import metrics
from core.delivery import Delivery, Result
from core.errors import ServiceUnavailable

# A ledger entry outlives any batch: a week.
TTL_SECONDS = 7 * 86_400
_CLAIMED = "claimed"
_DATA = "data"
_FENCED = "fenced"
_POLL_SECONDS = 0.2

# KEYS[1]: the claim's key. ARGV: from, to, ttl. Moves the key from ``from`` to ``to``; returns
# the value found (false when there is none), so the caller knows what it met.
_MOVE = """
local found = redis.call('GET', KEYS[1])
if found == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
end
return found
"""


class SendLedger:
    def __init__(self, redis: Redis, namespace: str = "cm") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:send"
        self._move = redis.register_script(_MOVE)
        self._writing: set[asyncio.Task[None]] = set()

    def key(self, record_id: uuid.UUID, claim: int) -> str:
        return f"{self._prefix}:{record_id}:{claim}"

    async def claim(self, claims: Sequence[tuple[uuid.UUID, int]]) -> None:
        """Write ``claimed`` for a batch about to be handed out.

        Raises:
            ServiceUnavailable: Redis did not answer; the batch must not be handed out.
        """
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for record_id, claim in claims:
                    pipe.set(self.key(record_id, claim), _CLAIMED, ex=TTL_SECONDS)
                await pipe.execute()
        except RedisError as error:
            raise ServiceUnavailable("the send ledger's Redis did not answer") from error

    async def begin_data(self, record_id: uuid.UUID, claim: int) -> bool:
        """Move the claim to ``data``; False when it was fenced (or is not this sender's to
        send): the message must not go.

        Raises:
            ServiceUnavailable: Redis did not answer; the message must not be sent.
        """
        try:
            found = await self._move(
                keys=[self.key(record_id, claim)], args=[_CLAIMED, _DATA, TTL_SECONDS]
            )
        except RedisError as error:
            raise ServiceUnavailable("the send ledger's Redis did not answer") from error
        return _text(found) == _CLAIMED

    async def finish(self, claim: int, delivery: Delivery) -> None:
        """Keep the server's answer for the claim (best effort: a lost write leaves the
        message ``unknown`` if its actor must recover it)."""
        body = {
            "result": delivery.result.value,
            "code": delivery.code,
            "message": delivery.message,
            "at": delivery.at.isoformat() if delivery.at else None,
        }
        try:
            await self._redis.set(
                self.key(delivery.record_id, claim), json.dumps(body), ex=TTL_SECONDS
            )
        except RedisError:
            return

    def finish_soon(self, claim: int, delivery: Delivery) -> None:
        """:meth:`finish` in the background; :meth:`flush` waits for every such write."""
        task = asyncio.create_task(self.finish(claim, delivery))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def flush(self) -> None:
        """Wait for the writes :meth:`finish_soon` started."""
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    async def recover(
        self, claims: Sequence[tuple[uuid.UUID, int]], *, wait_seconds: float
    ) -> list[Delivery]:
        """What became of these handed-out claims (see the module): a stored answer; back to
        the queue (``not_attempted``) when fenced before DATA; ``unknown`` for one still at
        DATA after ``wait_seconds``, or one Redis has no trace of. Redis unreachable: every
        one ``unknown`` (nothing can be proved)."""
        found: dict[uuid.UUID, Delivery] = {}
        pending: list[tuple[uuid.UUID, int]] = []
        try:
            for record_id, claim in claims:
                value = _text(
                    await self._move(
                        keys=[self.key(record_id, claim)], args=[_CLAIMED, _FENCED, TTL_SECONDS]
                    )
                )
                if value in (_CLAIMED, _FENCED):
                    found[record_id] = Delivery(
                        record_id,
                        Result.NOT_ATTEMPTED,
                        message="taken back: it had not been handed to the server",
                    )
                elif value is None:
                    found[record_id] = Delivery(record_id, Result.UNKNOWN)
                else:
                    answer = _answer(record_id, value)
                    if answer is None:
                        pending.append((record_id, claim))
                    else:
                        found[record_id] = answer
            deadline = time.monotonic() + wait_seconds
            while pending and time.monotonic() < deadline:
                await asyncio.sleep(_POLL_SECONDS)
                values = await self._redis.mget([self.key(r, c) for r, c in pending])
                still = []
                for (record_id, claim), raw in zip(pending, values, strict=True):
                    answer = _answer(record_id, _text(raw))
                    if answer is None:
                        still.append((record_id, claim))
                    else:
                        found[record_id] = answer
                pending = still
        except RedisError:
            pass
        recovered = [
            found.get(record_id) or Delivery(record_id, Result.UNKNOWN) for record_id, _ in claims
        ]
        for delivery in recovered:
            metrics.SEND_LEDGER_RECOVERIES.inc(outcome=_recovery_outcome(delivery))
        return recovered


def _recovery_outcome(delivery: Delivery) -> str:
    if delivery.result is Result.UNKNOWN:
        return "unknown"
    return "requeued" if delivery.result is Result.NOT_ATTEMPTED else "answer"


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _answer(record_id: uuid.UUID, value: str | None) -> Delivery | None:
    """A stored answer, or ``None`` while the claim is still at DATA."""
    if value is None or value == _DATA:
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
