"""The asyncio Redis client: one factory for every process, and a readiness probe."""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

SUPPORTED_SCHEMES = frozenset({"redis", "rediss", "unix"})

# Long enough for a busy server or a slow Lua script, short enough that a dead server fails a
# request instead of hanging it.
SOCKET_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0
# A pooled connection idle for longer than this is PINGed before reuse, so a server restart or a
# dropped idle connection surfaces as a reconnect rather than as a failed command.
HEALTH_CHECK_INTERVAL_SECONDS = 30


def create_redis(url: str, *, max_connections: int | None = None) -> Redis:
    """Build a client (with its own connection pool) for a ``redis://``, ``rediss://`` or
    ``unix://`` URL.

    Responses stay ``bytes`` (``decode_responses=False``) so binary payloads survive; callers
    decode what they read. Nothing connects until the first command.

    Raises:
        ValueError: the URL has another scheme.
    """
    scheme = urlsplit(url).scheme
    if scheme not in SUPPORTED_SCHEMES:
        raise ValueError(
            f"unsupported Redis URL scheme {scheme!r}: use redis://, rediss:// or unix://"
        )
    return Redis.from_url(
        url,
        decode_responses=False,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        max_connections=max_connections,
        client_name="campaign-manager",
    )


async def ping_redis(client: Redis) -> None:
    """Raise if the server does not answer ``PING``.

    Raises:
        redis.exceptions.ConnectionError: the server is unreachable or answered wrongly.
        redis.exceptions.TimeoutError: the server did not answer in time.
    """
    if not await client.ping():
        raise RedisConnectionError("Redis did not answer PING")
