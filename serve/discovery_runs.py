"""``campaign-manager discover``: create a job, run it on Ray, show its progress until it ends.

With ``CM_RAY_ADDRESS`` the job goes to that cluster as a Ray Job (through its dashboard's Jobs
API, at ``CM_RAY_DASHBOARD_URL``); without it, a local Ray starts and the job's actor runs
there. Either way the job's row in PostgreSQL is the truth, and progress is read from it, so the
same command shows a job wherever it runs. Ctrl-C cancels the job.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from actors.scraper_pool import SCRAPER_SETTINGS
from core.discovery import DiscoveryQuery
from core.enums import DiscoveryJobStatus
from core.errors import ConfigurationError
from core.settings import Settings, setting_name
from storage.database import create_engine, create_sessionmaker
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from storage.repositories.workspaces import WorkspaceRepository

POLL_SECONDS = 1.0
# The settings a discovery walk reads (actors/discovery.py, actors/scraper_pool.py).
_WALK_SETTINGS = (
    "database_url",
    *SCRAPER_SETTINGS,
    "scraper_actors",
    "scraper_actors_max",
    "discovery_job_max_seconds",
    # Where its driver's logs and spans go (docs/observability.md); CM_LOG_LEVEL is the
    # cluster's own.
    "data_dir",
    "otlp_endpoint",
    "trace_sample_ratio",
)
# How long a finished job's Ray Job driver gets to exit before this command stops the servers.
DRIVER_EXIT_SECONDS = 30.0
# What ``run_discovery`` returns when Ctrl-C cancelled the job it was watching.
INTERRUPTED = "interrupted"


def dashboard_url(settings: Settings) -> str:
    """The Jobs API of the cluster at ``CM_RAY_ADDRESS`` (its dashboard, port 8265)."""
    if settings.ray_dashboard_url:
        return settings.ray_dashboard_url
    address = settings.ray_address or ""
    host = "127.0.0.1" if address == "auto" else urlsplit(f"//{address.split('://')[-1]}").hostname
    return f"http://{host or '127.0.0.1'}:8265"


async def create_job(settings: Settings, workspace_slug: str, query: DiscoveryQuery) -> uuid.UUID:
    """A queued job for an already validated query (``discover`` checks the seeds first)."""
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine).begin() as session:
            workspace = await WorkspaceRepository(session).get_by_slug(workspace_slug)
            job = await DiscoveryJobRepository(session, workspace.id).submit(
                query=query.model_dump(mode="json"),
                created_by=None,
                limit=settings.discovery_jobs_per_workspace,
            )
            return job.id
    finally:
        await engine.dispose()


async def read_job(settings: Settings, job_id: uuid.UUID) -> tuple[str, dict[str, Any], str | None]:
    """``(status, progress, error)`` of a job, whatever its workspace."""
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace_id = await DiscoveryJobRepository.workspace_of(session, job_id)
            job = await DiscoveryJobRepository(session, workspace_id).get(job_id)
            return str(job.status), dict(job.progress), job.error
    finally:
        await engine.dispose()


async def end_job(
    settings: Settings, job_id: uuid.UUID, status: DiscoveryJobStatus, error: str | None = None
) -> None:
    """Mark a job failed or cancelled, unless it has already finished."""
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine).begin() as session:
            workspace_id = await DiscoveryJobRepository.workspace_of(session, job_id)
            repo = DiscoveryJobRepository(session, workspace_id)
            if not (await repo.get(job_id)).status.is_final:
                await repo.set_status(job_id, status, error=error[:500] if error else None)
    finally:
        await engine.dispose()


def submit_ray_job(settings: Settings, job_id: uuid.UUID, workspace_id: uuid.UUID) -> str:
    """Submit the job's walk to the cluster's Jobs API; returns the Ray Job's id."""
    from ray.job_submission import JobSubmissionClient

    # Only what the walk reads, as this command resolved it: the embedded servers' URLs (unix
    # sockets: only a cluster on this machine reaches them) and values from this folder's .env,
    # which the job's driver (started in the cluster's folder) would not see. Nothing else: a
    # Ray Job's environment is readable by anyone who can reach the Jobs API, and secrets such
    # as CM_SECRET_KEY have no business there.
    env: dict[str, str] = {}
    for field in _WALK_SETTINGS:
        value = getattr(settings, field)
        if value is not None:
            env[setting_name(field)] = str(value)
    env["RAY_AUTH_MODE"] = os.environ.get("RAY_AUTH_MODE", "disabled")
    client = JobSubmissionClient(dashboard_url(settings))
    return client.submit_job(
        entrypoint=f"{sys.executable} -m actors.discovery {job_id} {workspace_id}",
        runtime_env={"env_vars": env},
        submission_id=f"discovery-{job_id}",
    )


def ray_job_ended(dashboard: str, submission: str) -> Callable[[], str | None]:
    """A check for ``watch``: why the Ray Job's driver has ended, or ``None`` while it runs (or
    while the dashboard does not answer)."""
    from ray.job_submission import JobSubmissionClient

    def check() -> str | None:
        try:
            info = JobSubmissionClient(dashboard).get_job_info(submission)
        except Exception:
            return None
        if not info.status.is_terminal():
            return None
        lines = [line.strip() for line in (info.message or "").splitlines() if line.strip()]
        return f"the Ray Job {submission} ended {info.status}" + (f": {lines[-1]}" if lines else "")

    return check


def watch(
    settings: Settings,
    job_id: uuid.UUID,
    say: Callable[[str], None],
    stop: threading.Event,
    driver_ended: Callable[[], str | None] | None = None,
) -> str:
    """Print progress lines until the job ends (or ``stop`` is set); returns the final status.

    ``driver_ended`` tells when whatever runs the walk has gone without finishing the job (a
    Ray Job that failed to start, or lost the database): the job is then marked failed."""
    last = ""
    while True:
        # Asked before the row is read: a driver that ended after its walk finished the job
        # leaves a final row, which wins.
        ended = driver_ended() if driver_ended is not None else None
        status, progress, error = asyncio.run(read_job(settings, job_id))
        line = describe(status, progress)
        if line != last:
            say(f"[{time.strftime('%H:%M:%S')}] {line}")
            last = line
        if DiscoveryJobStatus(status).is_final:
            if error:
                say(f"error: {error}")
            return status
        if ended is not None:
            asyncio.run(end_job(settings, job_id, DiscoveryJobStatus.FAILED, ended))
            continue
        if stop.wait(POLL_SECONDS):
            return status


def describe(status: str, progress: dict[str, Any]) -> str:
    scraper = progress.get("scraper") or {}
    return (
        f"{status}: kept {progress.get('kept', 0)} "
        f"(new {progress.get('inserted', 0)}), examined {progress.get('examined', 0)}, "
        f"contacts {progress.get('contacts', 0)}, skipped {progress.get('skipped', 0)}, "
        f"queued {progress.get('frontier', 0)}, requests {scraper.get('requests', 0)}"
    )


def run_discovery(
    settings: Settings,
    workspace_slug: str,
    query: DiscoveryQuery,
    say: Callable[[str], None],
    *,
    detach: bool = False,
) -> str:
    """Create the job, start it (Ray Job or local actor), watch it; returns its last status,
    or ``INTERRUPTED`` when Ctrl-C cancelled it."""
    import signal

    import ray

    from actors.discovery import launch
    from serve.runner import start_ray

    job_id = asyncio.run(create_job(settings, workspace_slug, query))
    workspace_id = asyncio.run(_workspace_of(settings, job_id))
    say(f"discovery job {job_id} created in workspace {workspace_slug}")
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        if settings.ray_address:
            try:
                submission = submit_ray_job(settings, job_id, workspace_id)
            except Exception as exc:  # no dashboard, or it refused: one line, and the job says so
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                asyncio.run(
                    end_job(
                        settings,
                        job_id,
                        DiscoveryJobStatus.FAILED,
                        f"could not submit the job: {reason}",
                    )
                )
                raise ConfigurationError(
                    "CM_RAY_DASHBOARD_URL",
                    f"cannot submit a Ray Job to {dashboard_url(settings)} ({reason})",
                ) from None
            say(f"submitted as Ray Job {submission} to {dashboard_url(settings)}")
            if detach:
                return "queued"
            ended = ray_job_ended(dashboard_url(settings), submission)
            status = watch(settings, job_id, say, stop, ended)
            # The driver writes its last lines a moment after the row turns final; the embedded
            # servers it talks to stop when this command returns, so let it finish first.
            deadline = time.monotonic() + DRIVER_EXIT_SECONDS
            while ended() is None and time.monotonic() < deadline and not stop.wait(0.5):
                pass
        else:
            say("starting a local Ray ...")
            start_ray(settings)
            try:
                launch(settings, job_id, workspace_id)
                status = watch(settings, job_id, say, stop)
            finally:
                if stop.is_set():
                    asyncio.run(end_job(settings, job_id, DiscoveryJobStatus.CANCELLED))
                # Not stop_ray(): no Serve runs here, and serve.shutdown() would log that.
                ray.shutdown()
        if stop.is_set():
            asyncio.run(end_job(settings, job_id, DiscoveryJobStatus.CANCELLED))
            say(f"discovery job {job_id} cancelled")
            return INTERRUPTED
        return status
    finally:
        signal.signal(signal.SIGINT, previous)


async def _workspace_of(settings: Settings, job_id: uuid.UUID) -> uuid.UUID:
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            return await DiscoveryJobRepository.workspace_of(session, job_id)
    finally:
        await engine.dispose()
