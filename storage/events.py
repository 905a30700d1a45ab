"""Workspace events over Redis pub/sub: actors publish, every ingress replica relays.

Delivery is at most once and only to subscribers connected at the time: a live-update channel,
not a queue. Anything that must not be lost is also written to PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from storage.cache import to_json

log = logging.getLogger(__name__)

# How long entering a subscription waits for the server to confirm it.
SUBSCRIBE_TIMEOUT_SECONDS = 10.0
# Reads wait at most this long before looping: each wake-up lets redis-py send its health-check
# PING, and the read never depends on the client's socket timeout (which would abort an idle
# blocking read with TimeoutError on older redis-py).
_POLL_SECONDS = 5.0


async def _close(pubsub: PubSub) -> None:
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py


class EventSubscription:
    """One workspace's events, as an async context manager and async iterator.

    Entering waits until Redis has confirmed the subscription, so an event published after
    ``async with`` is entered is delivered. Leaving unsubscribes and closes the connection::

        async with bus.subscribe(workspace_id) as events:
            async for event in events:
                ...
    """

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        self._pubsub: PubSub | None = None

    async def __aenter__(self) -> Self:
        if self._pubsub is not None:
            raise RuntimeError("this subscription is already open")
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            await self._confirmed(pubsub)
        except BaseException:
            await _close(pubsub)
            raise
        self._pubsub = pubsub
        return self

    async def _confirmed(self, pubsub: PubSub) -> None:
        # SUBSCRIBE is only sent, not answered, by pubsub.subscribe(); until the server's reply
        # arrives, a PUBLISH from another connection may be handled first and never reach us.
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
            while True:
                message = await pubsub.get_message(timeout=_POLL_SECONDS)
                if message is not None and message["type"] == "subscribe":
                    return

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unsubscribe and release the connection; safe to call more than once."""
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is None:
            return
        try:
            await pubsub.unsubscribe(self.channel)
        except (RedisError, OSError):
            # The connection is going away regardless; closing it ends the subscription.
            log.debug("unsubscribe from %s failed", self.channel, exc_info=True)
        finally:
            await _close(pubsub)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> dict[str, Any]:
        """The next event (waits as long as it takes)."""
        if self._pubsub is None:
            raise RuntimeError("enter the subscription first: async with bus.subscribe(...)")
        while True:
            message = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=_POLL_SECONDS
            )
            if message is None or message["type"] != "message":
                continue
            try:
                event = json.loads(message["data"])
            except ValueError:
                log.warning("dropped an event on %s that is not JSON", self.channel)
                continue
            if isinstance(event, dict):
                return event
            log.warning("dropped an event on %s that is not a JSON object", self.channel)


class EventBus:
    """Publishes and subscribes to per-workspace event channels.

    Args:
        redis: the client (see ``storage.redis_client.create_redis``).
        namespace: prefix of every channel, so several deployments can share one server.
    """

    def __init__(self, redis: Redis, *, namespace: str = "cm") -> None:
        self._redis = redis
        self._namespace = namespace

    def channel(self, workspace_id: uuid.UUID) -> str:
        """The pub/sub channel of ``workspace_id``'s events."""
        return f"{self._namespace}:ws:{workspace_id}:events"

    async def publish(self, workspace_id: uuid.UUID, event: dict[str, Any]) -> int:
        """Send ``event`` to the workspace's current subscribers; returns how many got it.

        A copy is sent with an ``id`` (uuid4) and ``at`` (UTC ISO 8601) added unless present;
        values may be UUIDs, dates, datetimes and Decimals (sent as strings).
        """
        message = {"id": str(uuid.uuid4()), "at": datetime.now(UTC).isoformat(), **event}
        return await self._redis.publish(self.channel(workspace_id), to_json(message))

    def subscribe(self, workspace_id: uuid.UUID) -> EventSubscription:
        """The workspace's events from now on; use it with ``async with`` (see
        :class:`EventSubscription`)."""
        return EventSubscription(self._redis, self.channel(workspace_id))
