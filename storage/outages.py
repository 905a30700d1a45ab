"""Which server an error says is down: the one place that reads driver exceptions for that.

PostgreSQL and Redis fail in many shapes: SQLAlchemy's ``OperationalError`` or
``InterfaceError`` (a connection that died under a query), its pool's ``TimeoutError``,
asyncpg's own errors (``CannotConnectNowError`` while the server starts or stops), and plain
``OSError`` or ``TimeoutError`` raised while connecting, which SQLAlchemy passes on unwrapped;
redis-py raises its ``ConnectionError`` (``BusyLoadingError`` while a restarted server loads its
data) or ``TimeoutError``. :func:`unavailable_part` reads any of them, following the causes an
error was raised from, and answers ``"database"``, ``"cache"`` or ``None`` (not an outage: a
bug, bad data, a constraint). The API answers an outage with 503 and ``Retry-After``; the actors
wait and try again.

A bare ``OSError`` or ``TimeoutError`` says nothing about where it came from, so it counts only
when it surfaced through asyncpg or SQLAlchemy (the database) or redis-py (the cache): a missing
file in the object store's folder stays what it is.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Literal

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import exc as sa_exc

Part = Literal["database", "cache"]

# What each part is called in answers and logs.
DATABASE: Part = "database"
CACHE: Part = "cache"

# How long a client is asked to wait before trying again: a restart of either server takes
# seconds, and a longer outage is retried at this pace without harm.
RETRY_AFTER_SECONDS = 5

# asyncpg errors that mean the server is going, gone or not yet ready (SQLSTATE classes 08
# "connection exception", 57 "operator intervention" (shutdown, starting up, a statement
# cancelled by its timeout) and 53300 "too many connections"), and the client-side ones for a
# connection that is already closed.
_ASYNCPG_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
)
_DRIVER_PACKAGES: dict[str, Part] = {"asyncpg": DATABASE, "sqlalchemy": DATABASE, "redis": CACHE}
_MAX_CHAIN = 16


class RetryBackoff:
    """Waits between attempts of a step that keeps meeting an outage: ``base``, then doubling up
    to ``cap`` seconds, each drawn from its upper half so that actors which failed together do
    not all come back at once. After ``reset_after`` seconds without a failure the next wait is
    short again."""

    def __init__(
        self,
        *,
        base: float = 1.0,
        cap: float = 30.0,
        reset_after: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.cap = cap
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._failed_at = -math.inf

    def next_delay(self) -> float:
        """Count a failure and return how long to wait before the next attempt."""
        now = self._clock()
        if now - self._failed_at > self.reset_after:
            self._failures = 0
        self._failed_at = now
        ceiling = min(self.cap, self.base * 2 ** min(self._failures, 32))
        self._failures += 1
        return random.uniform(ceiling / 2, ceiling)


def unavailable_part(error: BaseException) -> Part | None:
    """``"database"`` or ``"cache"`` when ``error`` (or what it was raised from) says that server
    is down, unreachable or not answering in time; ``None`` for any other error."""
    for link in _chain(error):
        part = _part_of(link)
        if part is not None:
            return part
    return None


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says PostgreSQL or Redis is down (see :func:`unavailable_part`)."""
    return unavailable_part(error) is not None


def _part_of(error: BaseException) -> Part | None:
    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return CACHE
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return DATABASE
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated or isinstance(
            error, sa_exc.OperationalError | sa_exc.InterfaceError
        ):
            return DATABASE
        return None  # the driver's own error is its cause, read next
    if isinstance(error, _ASYNCPG_OUTAGES):
        return DATABASE
    if isinstance(error, asyncpg.InterfaceError) and "connection is closed" in str(error):
        return DATABASE
    if isinstance(error, OSError):  # TimeoutError and ConnectionError included
        return _surfaced_through(error)
    return None


def _surfaced_through(error: BaseException) -> Part | None:
    """The driver whose code the error passed through nearest to where it was raised, past the
    standard library (asyncio, socket) that raised it."""
    modules: list[str] = []
    traceback = error.__traceback__
    while traceback is not None:
        modules.append(traceback.tb_frame.f_globals.get("__name__", ""))
        traceback = traceback.tb_next
    for module in reversed(modules):
        package = module.partition(".")[0]
        if package in sys.stdlib_module_names:
            continue
        return _DRIVER_PACKAGES.get(package)
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then what it was raised from or while handling, then the members of an
    exception group; each once, and not endlessly."""
    seen: set[int] = set()
    pending = [error]
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        if isinstance(current, sa_exc.DBAPIError) and isinstance(current.orig, BaseException):
            pending.append(current.orig)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        elif current.__context__ is not None and not current.__suppress_context__:
            pending.append(current.__context__)
