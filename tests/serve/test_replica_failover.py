"""A Serve replica killed while Locust runs costs at most 1% errors, and Serve recovers.

A second Serve application of the same app (2 replicas, its own route prefix on the session's
HTTP proxy) takes the load, so the session's deployment that other tests use is left alone.
Locust runs in this process as a library, with the users of ``loadtests/locustfile.py``.
"""

from __future__ import annotations

import os

# Locust's import would monkey-patch the whole test process for gevent (sockets, threads,
# under Ray's driver and asyncio). Without the patch its HTTP client still cooperates: it is
# built on gevent's own sockets. Set before anything imports locust.
os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")

import time
import uuid
from collections.abc import Iterator

import gevent
import httpx
import pytest
import ray
from locust import constant
from locust.env import Environment
from ray import serve as ray_serve

from core.settings import Settings
from loadtests import locustfile
from serve.deployment import DEPLOYMENT_NAME, build_application

pytestmark = pytest.mark.integration

APP = "failover"
ROUTE_PREFIX = "/failover"
USERS = 6
BEFORE_KILL_SECONDS = 5.0
AFTER_KILL_SECONDS = 10.0
RECOVERY_TIMEOUT_SECONDS = 60.0
REPLICA_PREFIX = f"SERVE_REPLICA::{APP}#{DEPLOYMENT_NAME}#"


class FailoverUser(locustfile.CampaignManagerUser):
    """The load test's user, with short waits so that 15 s make over a thousand requests."""

    wait_time = constant(0.05)


def replica_names() -> list[str]:
    """The named actors of the app's replicas (Serve names them after the replica id)."""
    return sorted(
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == "serve" and actor["name"].startswith(REPLICA_PREFIX)
    )


def running_replicas() -> int:
    application = ray_serve.status().applications.get(APP)
    if application is None or application.status != "RUNNING":
        return 0
    states = application.deployments[DEPLOYMENT_NAME].replica_states
    return sum(count for state, count in states.items() if state == "RUNNING")


@pytest.fixture
def two_replicas(served_url: str, app_settings: Settings) -> Iterator[str]:
    """The base URL of a second application of the app, with 2 replicas."""
    settings = app_settings.model_copy(update={"serve_replicas": 2, "serve_max_replicas": None})
    ray_serve.run(build_application(settings), name=APP, route_prefix=ROUTE_PREFIX)
    try:
        yield f"{served_url}{ROUTE_PREFIX}"
    finally:
        ray_serve.delete(APP)


class TestReplicaKilledUnderLoad:
    def test_errors_stay_under_one_percent_and_requests_succeed_after_recovery(
        self, two_replicas: str
    ) -> None:
        before = replica_names()
        assert len(before) == 2
        locustfile.prepare(two_replicas, accounts=3, prefix=f"failover-{uuid.uuid4().hex[:8]}")
        # Discovery starts actors and the live socket blocks without gevent's patch: the rest
        # of the mix (campaigns, artists, templates, dashboard, analytics) runs.
        environment = Environment(
            user_classes=[FailoverUser], host=two_replicas, exclude_tags=["discovery", "live"]
        )
        runner = environment.create_local_runner()
        try:
            runner.start(USERS, spawn_rate=USERS)
            gevent.sleep(BEFORE_KILL_SECONDS)
            served_before_kill = environment.stats.total.num_requests
            ray.kill(ray.get_actor(before[0], namespace="serve"), no_restart=True)
            gevent.sleep(AFTER_KILL_SECONDS)
        finally:
            runner.quit()
        total = environment.stats.total

        failures = {
            str(error.error): error.occurrences for error in environment.stats.errors.values()
        }
        assert served_before_kill > 0
        assert total.num_requests > served_before_kill  # the load went on after the kill
        assert total.num_failures <= 0.01 * total.num_requests, (total.num_requests, failures)
        assert runner.exceptions == {}  # the scenario itself never broke

        # Serve replaces the killed replica; then every request answers.
        deadline = time.monotonic() + RECOVERY_TIMEOUT_SECONDS
        while running_replicas() < 2 or before[0] in replica_names():
            assert time.monotonic() < deadline, ray_serve.status().applications.get(APP)
            time.sleep(0.25)
        account = locustfile.POOL.accounts[0]
        with httpx.Client(base_url=two_replicas, headers=account.headers, timeout=30) as client:
            answers = [
                client.get(f"/api/v1/campaigns?limit=5&q={n}").status_code for n in range(20)
            ]
        assert answers == [200] * 20
        assert len(replica_names()) == 2
