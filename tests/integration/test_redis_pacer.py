"""The Redis pacer against the embedded Redis: one schedule per domain for every client and
process, slowdowns that only "too fast" answers (or a dense burst of other errors) raise, the
same rule as the in-process pacer, and the state it leaves in Redis.

Each test works in its own random namespace and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from redis.asyncio import Redis

from core.pacing import PacingPolicy
from scraping.pacing import LocalPacer
from storage.pacing import RedisPacer
from storage.redis_client import create_redis

ROOT = Path(__file__).resolve().parents[2]
# Upper bound on anything that should finish in a few seconds; reaching it fails the test
# instead of hanging it.
PATIENCE_SECONDS = 60.0
DOMAIN = "api.example.com"

pytestmark = pytest.mark.integration


def pace_key(namespace: str, domain: str = DOMAIN) -> str:
    return f"{namespace}:pace:{domain}"


async def stored(redis: Redis, namespace: str) -> dict[str, str]:
    state = await redis.hgetall(pace_key(namespace))
    return {as_text(k): as_text(v) for k, v in state.items()}


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def busiest_second(times: list[float]) -> int:
    """The most events in any window [t, t + 1 s)."""
    times = sorted(times)
    return max(
        sum(1 for later in times[i:] if later - start < 1.0) for i, start in enumerate(times)
    )


async def grant_times(pacer: RedisPacer, count: int, domain: str = DOMAIN) -> list[float]:
    """When each of ``count`` concurrent callers was let through."""

    async def one() -> float:
        await pacer.wait_turn(domain)
        return time.monotonic()

    async with asyncio.timeout(PATIENCE_SECONDS):
        return sorted(await asyncio.gather(*(one() for _ in range(count))))


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


class TestSharedSchedule:
    async def test_two_clients_sharing_a_domain_never_exceed_its_rate(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        policy = PacingPolicy(default_rate=20)
        first = RedisPacer(redis, policy, namespace=namespace)
        second = RedisPacer(other_redis, policy, namespace=namespace)
        async with asyncio.timeout(PATIENCE_SECONDS):
            both = await asyncio.gather(grant_times(first, 20), grant_times(second, 20))
        grants = sorted(both[0] + both[1])
        assert len(grants) == 40
        assert busiest_second(grants) <= 20

    async def test_the_domain_is_one_schedule_whatever_its_case(
        self, redis: Redis, namespace: str
    ) -> None:
        pacer = RedisPacer(redis, PacingPolicy(default_rate=20), namespace=namespace)
        await pacer.wait_turn("API.Example.COM")
        assert await redis.exists(pace_key(namespace)) == 1


class TestSlowDown:
    async def test_errors_spread_the_next_grants_further_apart(
        self, redis: Redis, namespace: str
    ) -> None:
        # A long half-life keeps the decay out of the picture for the second or so this takes.
        pacer = RedisPacer(
            redis, PacingPolicy(default_rate=20, half_life=600.0), namespace=namespace
        )
        before = gaps(await grant_times(pacer, 3))
        for _ in range(3):
            await pacer.slow_down(DOMAIN)
        after = gaps(await grant_times(pacer, 3))
        assert min(after) > max(before)

    async def test_a_success_never_lowers_the_factor(self, redis: Redis, namespace: str) -> None:
        pacer = RedisPacer(
            redis, PacingPolicy(default_rate=50, half_life=600.0), namespace=namespace
        )
        factors = []
        for step in ("error", "error", "success", "error", "success"):
            if step == "error":
                await pacer.slow_down(DOMAIN)
            else:
                await pacer.wait_turn(DOMAIN)
            factors.append(float((await stored(redis, namespace))["factor"]))
        assert factors == sorted(factors)
        assert factors[:3] == pytest.approx([2.0, 4.0, 4.0], abs=0.01)
        assert factors[-1] > 7.9

    async def test_the_factor_stops_at_the_cap(self, redis: Redis, namespace: str) -> None:
        pacer = RedisPacer(
            redis, PacingPolicy(default_rate=50, max_factor=4.0), namespace=namespace
        )
        for _ in range(4):
            await pacer.slow_down(DOMAIN)
        assert float((await stored(redis, namespace))["factor"]) == pytest.approx(4.0, abs=0.01)

    async def test_an_error_never_lowers_a_factor_above_a_lowered_cap(
        self, redis: Redis, namespace: str
    ) -> None:
        strict = PacingPolicy(default_rate=50, max_factor=32.0, half_life=600.0)
        for _ in range(5):
            await RedisPacer(redis, strict, namespace=namespace).slow_down(DOMAIN)
        lenient = PacingPolicy(default_rate=50, max_factor=4.0, half_life=600.0)
        await RedisPacer(redis, lenient, namespace=namespace).slow_down(DOMAIN)
        assert float((await stored(redis, namespace))["factor"]) > 31.9


class TestReadingErrors:
    async def test_a_few_502s_leave_the_factor_and_the_next_slot_alone(
        self, redis: Redis, namespace: str
    ) -> None:
        # One request per 100 s: any slowdown would put the next slot minutes away.
        pacer = RedisPacer(redis, PacingPolicy(default_rate=0.01), namespace=namespace)
        for status in (502, 500, None):
            await pacer.slow_down(DOMAIN, status)
        state = await stored(redis, namespace)
        assert "factor" not in state
        assert float(state["burst"]) == pytest.approx(3.0, abs=0.01)
        assert await pacer.wait_turn(DOMAIN, max_wait=1.0)

    @pytest.mark.parametrize("status", [429, 503])
    async def test_a_too_fast_answer_doubles_the_factor_and_pushes_the_next_slot(
        self, redis: Redis, namespace: str, status: int
    ) -> None:
        pacer = RedisPacer(redis, PacingPolicy(default_rate=0.01), namespace=namespace)
        await pacer.slow_down(DOMAIN, status)
        assert float((await stored(redis, namespace))["factor"]) == pytest.approx(2.0, abs=0.01)
        assert not await pacer.wait_turn(DOMAIN, max_wait=1.0)

    async def test_a_dense_burst_of_502s_slows_the_domain_down(
        self, redis: Redis, namespace: str
    ) -> None:
        pacer = RedisPacer(redis, PacingPolicy(default_rate=1), namespace=namespace)
        for _ in range(30):
            await pacer.slow_down(DOMAIN, 502)
        assert float((await stored(redis, namespace))["factor"]) > 2.0

    async def test_the_redis_and_the_local_pacer_apply_the_same_rule(
        self, redis: Redis, namespace: str
    ) -> None:
        # One slot a second and a long half-life: the few milliseconds between calls change
        # neither score noticeably, so both must slow down on exactly the same answers.
        policy = PacingPolicy(default_rate=1, half_life=600.0)
        shared = RedisPacer(redis, policy, namespace=namespace)
        local = LocalPacer(policy)
        statuses: list[int | None] = [502] * 12 + [429] + [None, 502, 503] + [502] * 6
        seen_shared, seen_local = [], []
        for status in statuses:
            await shared.slow_down(DOMAIN, status)
            await local.slow_down(DOMAIN, status)
            seen_shared.append(float((await stored(redis, namespace)).get("factor", 1.0)))
            seen_local.append(local._domains[DOMAIN].factor)
        assert seen_shared == pytest.approx(seen_local, abs=0.01)
        assert seen_local[11] == 1.0
        assert seen_local[-1] > seen_local[15] > seen_local[12] > 1.0


class TestUnpacedDomain:
    @pytest.mark.parametrize(
        "policy",
        [PacingPolicy(), PacingPolicy(default_rate=0), PacingPolicy(rates={DOMAIN: None})],
    )
    async def test_an_unpaced_domain_leaves_no_state(
        self, redis: Redis, namespace: str, policy: PacingPolicy
    ) -> None:
        pacer = RedisPacer(redis, policy, namespace=namespace)
        await pacer.wait_turn(DOMAIN)
        await pacer.slow_down(DOMAIN)
        assert [key async for key in redis.scan_iter(match=f"{namespace}:*")] == []

    async def test_an_unpaced_domain_never_talks_to_redis(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        # Nothing listens there: any command would raise a connection error.
        dead = create_redis(f"redis://127.0.0.1:{port}/0")
        try:
            pacer = RedisPacer(dead, PacingPolicy(rates={DOMAIN: None}), namespace="unused")
            await pacer.wait_turn(DOMAIN)
            await pacer.slow_down(DOMAIN)
        finally:
            await dead.aclose()


class TestReset:
    async def test_reset_forgets_the_schedule_and_the_slowdown(
        self, redis: Redis, namespace: str
    ) -> None:
        # One request a second slowed down 32 times: the next slot is half a minute away.
        pacer = RedisPacer(redis, PacingPolicy(default_rate=1), namespace=namespace)
        for _ in range(5):
            await pacer.slow_down(DOMAIN)
        await pacer.reset("Api.Example.com")
        assert await redis.exists(pace_key(namespace)) == 0
        async with asyncio.timeout(5):
            await pacer.wait_turn(DOMAIN)
        assert "factor" not in await stored(redis, namespace)


class TestStoredNumbers:
    async def test_slots_and_times_are_stored_as_exact_integer_microseconds(
        self, redis: Redis, namespace: str
    ) -> None:
        # Without "%d" the slot would be "1.7957016446259e+15" (Lua's tostring: 14 digits, off by
        # up to a tenth of a second) or keep a fraction ("...546078.2", a raw number in HSET).
        pacer = RedisPacer(redis, PacingPolicy(default_rate=200), namespace=namespace)
        seconds, micros = await redis.time()
        now_us = seconds * 1_000_000 + micros
        await pacer.wait_turn(DOMAIN)
        slot = (await stored(redis, namespace))["slot"]
        assert re.fullmatch(r"[0-9]{16,}", slot), slot
        assert 0 <= int(slot) - now_us < 5_000_000
        await pacer.slow_down(DOMAIN)
        state = await stored(redis, namespace)
        assert re.fullmatch(r"[0-9]{16,}", state["slot"]), state
        assert re.fullmatch(r"[0-9]{16,}", state["error_at"]), state
        assert re.fullmatch(r"[0-9]+\.[0-9]{6}", state["factor"]), state
        assert int(state["slot"]) >= int(slot)
        # Slots spaced by a decaying (fractional) factor are still whole microseconds.
        slots = [state["slot"]]
        for _ in range(6):
            await pacer.wait_turn(DOMAIN)
            slots.append((await stored(redis, namespace))["slot"])
        assert all(re.fullmatch(r"[0-9]{16,}", slot) for slot in slots), slots
        assert [int(slot) for slot in slots] == sorted({int(slot) for slot in slots})


# Run by each worker process: pace one domain through the Redis pacer and fetch from the test's
# server, starting all at once when the test says "go" on stdin.
WORKER = """
import asyncio, sys
import aiohttp
from core.pacing import PacingPolicy
from scraping.fetcher import Fetcher, RetryPolicy
from scraping.pacing import LocalPacer
from storage.pacing import RedisPacer
from storage.redis_client import create_redis

redis_url, namespace, host, name, count, rate = sys.argv[1:]

async def main() -> None:
    redis = create_redis(redis_url)
    pacer = RedisPacer(redis, PacingPolicy(default_rate=float(rate)), namespace=namespace)
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(
            session, pacer=pacer, allowed_hosts=[host], retry=RetryPolicy(attempts=1)
        )
        await redis.ping()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        url = f"http://{host}/hit/{name}"
        await asyncio.gather(*(fetcher.get_bytes(url) for _ in range(int(count))))
    await redis.aclose()

asyncio.run(main())
"""


class TestAcrossProcesses:
    async def test_two_processes_pacing_one_domain_never_exceed_its_rate_at_the_server(
        self, redis: Redis, redis_url: str, namespace: str
    ) -> None:
        arrivals: list[tuple[float, str]] = []

        async def hit(request: web.Request) -> web.Response:
            arrivals.append((time.monotonic(), request.match_info["name"]))
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/hit/{name}", hit)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host = "{}:{}".format(*runner.addresses[0][:2])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER,
                redis_url,
                namespace,
                host,
                name,
                "20",
                "20",
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for name in ("one", "two")
        ]
        try:
            async with asyncio.timeout(PATIENCE_SECONDS):
                for worker in workers:
                    assert worker.stdout is not None
                    assert await worker.stdout.readline() == b"ready\n"
                for worker in workers:
                    assert worker.stdin is not None
                    worker.stdin.write(b"go\n")
                outcomes = await asyncio.gather(*(worker.communicate() for worker in workers))
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.kill()
                    await worker.wait()
            await runner.cleanup()
        for worker, (_, stderr) in zip(workers, outcomes, strict=True):
            assert worker.returncode == 0, stderr.decode()
        assert Counter(name for _, name in arrivals) == {"one": 20, "two": 20}
        assert busiest_second([at for at, _ in arrivals]) <= 20
