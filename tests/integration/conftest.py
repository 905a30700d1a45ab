"""Redis clients for the integration tests: keys under a namespace of the test's own, removed
afterwards, and a second client standing for another process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from storage.redis_client import create_redis


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
async def redis(redis_url: str, namespace: str) -> AsyncIterator[Redis]:
    client = create_redis(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def other_redis(redis_url: str) -> AsyncIterator[Redis]:
    """A second client with its own connection pool, as another process or replica would have."""
    client = create_redis(redis_url)
    yield client
    await client.aclose()
