"""Run the service: the local stack, Ray (local or ``CM_RAY_ADDRESS``) and the Serve app, until
SIGINT or SIGTERM; then stop everything that was started, in reverse order."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType

import httpx

from actors.discovery import resume_unfinished
from actors.refresh import start_refresher
from actors.scheduler import start_scheduler
from actors.scraper_pool import ScraperPool
from core.errors import ConfigurationError
from core.settings import Settings
from serve.stack import LocalStack

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 120.0
# Starting the scraper actors takes a few seconds; past this the service goes on without them
# (the first job starts them).
WARM_POOL_TIMEOUT_SECONDS = 60.0


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                "CM_PORT", f"cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None


def local_ray_on_loopback() -> None:
    """Make the local Ray started next in this process listen on 127.0.0.1 only.

    Left alone, Ray takes the address this machine uses to reach the outside as its node
    address, and its GCS, raylet, workers and agents listen on every interface, reachable from
    the network with nothing to gain: a local instance only talks to itself. Ray's own switch
    for "no cluster" (the default on macOS and Windows) makes the node address 127.0.0.1, and
    every server then binds that. Ray's processes read the variable when they start; this
    process read it when it imported Ray, hence the constant too.
    """
    import ray._private.ray_constants as ray_constants

    os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


# Serve's HTTP proxy (with HAProxy: each replica's own HTTP server) runs uvicorn, which by
# default believes X-Forwarded-For from a loopback peer and rewrites the client address before
# the app sees it, so any local client could choose its address. Empty, uvicorn believes no one
# and the app decides (CM_TRUSTED_PROXIES). Every process of a local Ray inherits it; a cluster
# of one's own must start its nodes with it (`FORWARDED_ALLOW_IPS= ray start ...`).
RAY_PROXY_ENVIRONMENT = {"FORWARDED_ALLOW_IPS": ""}


def start_ray(settings: Settings) -> None:
    os.environ.update(RAY_PROXY_ENVIRONMENT)
    if settings.serve_proxy == "haproxy":
        # Read by Ray's Serve constants at import, in every Ray process: set before ray starts.
        # With CM_RAY_ADDRESS the cluster must have been started with it instead.
        os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "1"
        os.environ.setdefault("RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S", "0")
    import ray

    if settings.ray_address:
        ray.init(
            address=settings.ray_address,
            namespace="campaign-manager",
            log_to_driver=False,
            # Ray's own driver logs follow this process's level (CM_LOG_LEVEL; warning in the
            # CLI, see core/logs.py).
            logging_level=logging.getLogger().getEffectiveLevel(),
        )
        return
    local_ray_on_loopback()
    ray.init(
        # "local": always a new instance, whatever RAY_ADDRESS the shell has.
        address="local",
        num_cpus=settings.ray_num_cpus or os.cpu_count() or 1,
        include_dashboard=False,
        object_store_memory=settings.ray_object_store_mb * 1024 * 1024,
        namespace="campaign-manager",
        log_to_driver=False,
        logging_level=logging.getLogger().getEffectiveLevel(),
    )


def stop_ray() -> None:
    import ray
    from ray import serve as ray_serve

    try:
        if ray.is_initialized():
            ray_serve.shutdown()  # type: ignore[no-untyped-call]
    finally:
        ray.shutdown()


def deploy(settings: Settings) -> str:
    """Start Serve's HTTP proxy on ``host:port`` and deploy the app; returns its base URL."""
    from ray import serve as ray_serve

    from serve.deployment import APP_NAME, build_application

    ray_serve.start(http_options={"host": settings.host, "port": settings.port})
    ray_serve.run(build_application(settings), name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{settings.host}:{settings.port}"


def wait_until_healthy(base_url: str, stop: threading.Event) -> httpx.Response | None:
    """The first healthy answer, or ``None`` when ``stop`` was set first (Ctrl-C while starting
    is a stop, not a failure)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last: httpx.Response | None = None
    while time.monotonic() < deadline and not stop.is_set():
        try:
            last = httpx.get(f"{base_url}/healthz", timeout=5)
            if last.status_code == 200:
                return last
        except httpx.HTTPError:
            pass
        stop.wait(0.5)
    if stop.is_set():
        return None
    detail = last.json().get("detail") if last is not None else "no answer"
    raise ConfigurationError("service", f"{base_url}/healthz did not become healthy: {detail}")


async def warm_scraper_pool(settings: Settings) -> int:
    """Start the shared scraper pool's resident actors, so that jobs find them warm; returns
    how many there are."""
    pool = ScraperPool(settings, member="service")
    try:
        async with asyncio.timeout(WARM_POOL_TIMEOUT_SECONDS):
            await pool.warm()
    finally:
        await pool.close()
    return settings.scraper_actors


def start_scraper_pool(settings: Settings, say: Callable[[str], None]) -> None:
    """Warm the scraper pool; a failure is said and logged, not fatal (jobs start actors)."""
    try:
        warm = asyncio.run(warm_scraper_pool(settings))
    except Exception as exc:
        log.warning("warming the scraper pool failed", exc_info=True)
        say(f"scraper pool: not warmed ({type(exc).__name__}); the first job starts it")
    else:
        say(f"scraper pool: {warm} actors warm")


def run_service(
    settings: Settings,
    say: Callable[[str], None],
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Blocking: start everything, print where it is, serve until a stop signal.

    ``on_ready(base_url)`` runs once the service answers (the demo signs its user in there).
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        ensure_port_free(settings.host, settings.port)
        with LocalStack(settings) as stack:
            for part in stack.started:
                say(f"started {part}")
            store = f"s3://{settings.s3_bucket}" if settings.uses_s3 else str(settings.objects_dir)
            say(f"object store: {store}")
            say(
                f"starting Ray ({settings.ray_address or 'local'}) and Ray Serve "
                f"({settings.serve_proxy} proxy) ..."
            )
            try:
                start_ray(stack.settings)
                base_url = deploy(stack.settings)
                if wait_until_healthy(base_url, stop) is not None:
                    # Before jobs resume, so that they find the actors started.
                    start_scraper_pool(stack.settings, say)
                    resumed = asyncio.run(resume_unfinished(stack.settings))
                    if resumed:
                        say(f"resumed {resumed} unfinished discovery job(s)")
                    # Moves campaigns on their dates; resumes scheduled and sending outreach.
                    start_scheduler(stack.settings)
                    # Re-reads tracked artists in the request slots jobs leave.
                    start_refresher(stack.settings)
                    say(f"Campaign Manager is running at {base_url}  (health: {base_url}/healthz)")
                    if on_ready is not None:
                        on_ready(base_url)
                    say("press Ctrl-C to stop")
                while not stop.wait(0.5):
                    pass
                say("stopping ...")
            finally:
                stop_ray()
        say("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
