"""The send ledger on a real Redis: a sender may take a claim to DATA only from ``claimed``,
a recovery fences what no sender took there, and nothing unproven is ever called unsent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis

from core.delivery import Delivery, Result
from storage.send_ledger import SendLedger


def ledgers(redis: Redis, other: Redis, namespace: str) -> tuple[SendLedger, SendLedger]:
    """The actor's ledger and a sender's, as two processes would hold them."""
    return SendLedger(redis, namespace), SendLedger(other, namespace)


class TestSendLedger:
    async def test_a_claimed_message_goes_to_data_once(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        actor, sender = ledgers(redis, other_redis, namespace)
        record = uuid.uuid4()
        await actor.claim([(record, 1)])
        assert await sender.begin_data(record, 1)
        assert not await sender.begin_data(record, 1)

    async def test_a_claim_fenced_before_data_is_not_attempted_and_cannot_start(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        actor, sender = ledgers(redis, other_redis, namespace)
        record = uuid.uuid4()
        await actor.claim([(record, 1)])
        [found] = await actor.recover([(record, 1)], wait_seconds=0)
        assert found.result is Result.NOT_ATTEMPTED
        assert not await sender.begin_data(record, 1)
        # A second recovery of the same claim says the same.
        [again] = await actor.recover([(record, 1)], wait_seconds=0)
        assert again.result is Result.NOT_ATTEMPTED

    async def test_the_next_claim_of_a_record_is_a_new_key(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        actor, sender = ledgers(redis, other_redis, namespace)
        record = uuid.uuid4()
        await actor.claim([(record, 1)])
        await actor.recover([(record, 1)], wait_seconds=0)
        await actor.claim([(record, 2)])
        assert await sender.begin_data(record, 2)

    async def test_a_message_at_data_is_waited_for_and_its_answer_taken(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        actor, sender = ledgers(redis, other_redis, namespace)
        record = uuid.uuid4()
        await actor.claim([(record, 1)])
        assert await sender.begin_data(record, 1)

        async def answer_later() -> None:
            await asyncio.sleep(0.5)
            await sender.finish(1, Delivery(record, Result.SENT, 250, "ok", datetime.now(UTC)))

        answering = asyncio.create_task(answer_later())
        [found] = await actor.recover([(record, 1)], wait_seconds=10)
        await answering
        assert (found.result, found.code, found.message) == (Result.SENT, 250, "ok")

    async def test_a_message_still_at_data_after_the_wait_is_unknown(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        actor, sender = ledgers(redis, other_redis, namespace)
        record = uuid.uuid4()
        await actor.claim([(record, 1)])
        assert await sender.begin_data(record, 1)
        [found] = await actor.recover([(record, 1)], wait_seconds=0.3)
        assert found.result is Result.UNKNOWN

    async def test_a_claim_redis_has_no_trace_of_is_unknown_never_requeued(
        self, redis: Redis, namespace: str
    ) -> None:
        actor = SendLedger(redis, namespace)
        [found] = await actor.recover([(uuid.uuid4(), 1)], wait_seconds=0)
        assert found.result is Result.UNKNOWN
