"""The frame every bench runs in, so that a bench file holds its workload: the machine line, a
temporary work folder with the run's own settings (its embedded PostgreSQL and Redis, a new
secret key, whatever ``CM_*`` the shell has) and the environment of the servers it starts, its
steps (a failed step is recorded and the run goes on), and its end (leftover processes, failures,
the folder kept or removed). Also what more than one bench measures or prints the same way."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import platform
import shutil
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psutil

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.settings import Settings

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """On uvloop when installed (as uvicorn runs the app and Ray its async actors), else on
    asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def machine() -> str:
    """One line on the machine: CPUs, memory, Python, Ray, and the load average now."""
    memory = psutil.virtual_memory().total / 2**30
    model = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import ray

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.0f} GiB RAM, Python "
        f"{platform.python_version()}, Ray {ray.__version__}; load average before: {load}"
    )


def work_folder(prefix: str) -> Path:
    """A new temporary folder for the run's data and logs, and a line saying where."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    print(f"bench: data and logs in {work}", flush=True)
    return work


def bench_settings(work: Path, **overrides: Any) -> Settings:
    """Settings for ``serve.stack.LocalStack``: always the embedded servers, in ``work``, and a
    Ray of the run's own, whatever ``CM_*`` says; a new secret key."""
    from pydantic import SecretStr

    from core.settings import Settings

    return Settings(
        data_dir=work / "data",
        database_url=None,
        redis_url=None,
        ray_address=None,
        secret_key=SecretStr("bench-" + os.urandom(24).hex()),
        _env_file=None,
        **overrides,
    )


def child_env(settings: Settings, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a server the bench starts: the stack of ``settings`` (data folder,
    PostgreSQL, Redis, secret key) as ``CM_*``, then ``extra``; whatever ``CM_*`` or
    ``RAY_ADDRESS`` the shell has is left out."""
    s = settings
    assert s.database_url is not None and s.redis_url is not None and s.secret_key is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CM_", "RAY_ADDRESS"))}
    env.update(
        {
            "CM_DATA_DIR": str(s.data_dir),
            "CM_DATABASE_URL": s.database_url,
            "CM_REDIS_URL": s.redis_url,
            "CM_SECRET_KEY": s.secret_key.get_secret_value(),
            "CM_LOG_LEVEL": "warning",
            "RAY_USAGE_STATS_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def run_step(name: str, step: Callable[[], None], failures: list[str], *, digits: int = 0) -> None:
    """Run one step of a bench, with a line before and after it (its seconds to ``digits``
    decimals); a step that raises is added to ``failures`` and the run goes on."""
    print(f"bench: {name} ...", flush=True)
    began = time.monotonic()
    try:
        step()
    except Exception as exc:
        failures.append(f"{name}: {type(exc).__name__}: {exc}")
        print(f"bench: {name} failed: {type(exc).__name__}: {exc}", flush=True)
    print(f"bench: {name} took {time.monotonic() - began:.{digits}f} s", flush=True)


def end_run(
    work: Path,
    *,
    code: int,
    leftovers: list[str],
    stopped: str,
    failures: list[str],
    keep: bool,
    kept: str,
) -> int:
    """The end of a run: the processes it had to end (``leftovers``, ``"pid name"``) or that
    every one has stopped (``stopped`` says which), its failures, then the work folder removed,
    or kept (``keep``, or the run failed) with a line naming it and what it holds (``kept``).
    Returns the exit status: ``code``, or 1 when a process was left behind."""
    if leftovers:
        print(f"bench: processes left behind (now ended): {', '.join(leftovers)}")
        code = 1
    else:
        print(f"bench: every process it started has stopped ({stopped})")
    if failures:
        print("bench: FAILED:\n  " + "\n  ".join(failures))
    if code == 0 and not keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"bench: data and {kept} kept in {work}")
    return code


@contextlib.asynccontextmanager
async def database_session(
    settings: Settings, *, transaction: bool = False
) -> AsyncIterator[AsyncSession]:
    """One session on the run's PostgreSQL, on an engine of its own (one connection) that is
    disposed of after; ``transaction`` commits at the end (rolls back on an error)."""
    from storage.database import create_engine, create_sessionmaker

    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        sessions = create_sessionmaker(engine)
        if transaction:
            async with sessions.begin() as session:
                yield session
        else:
            async with sessions() as session:
                yield session
    finally:
        await engine.dispose()


def idle_gaps(arrivals: Iterable[float], gap_s: float) -> tuple[int, float]:
    """Pauses of at least ``gap_s`` between two arrivals at a server (in any order): how many,
    and their seconds in all."""
    ordered = sorted(arrivals)
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b - a >= gap_s]
    return len(gaps), sum(gaps)


def fill(text: str) -> None:
    """Print a paragraph of a report, wrapped at 100 columns."""
    print(textwrap.fill(text, 100, subsequent_indent="  "))
