"""Readiness of each part the service depends on, checked concurrently with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from serve.resources import Resources
from storage.database import ping_database
from storage.redis_client import ping_redis

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class PartHealth:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None


async def _check(name: str, probe: Callable[[], Awaitable[None]]) -> PartHealth:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        error: str | None = f"no answer within {CHECK_TIMEOUT_SECONDS:g}s"
    except Exception as exc:  # any failure of a dependency means "down", with its reason
        error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    else:
        error = None
    latency = round((time.perf_counter() - started) * 1000, 2)
    return PartHealth(name=name, ok=error is None, latency_ms=latency, error=error)


async def check_parts(resources: Resources) -> list[PartHealth]:
    return list(
        await asyncio.gather(
            _check("postgres", lambda: ping_database(resources.engine)),
            _check("redis", lambda: ping_redis(resources.redis)),
            _check("object_store", resources.object_store.check),
        )
    )
