"""`make loadtest`: a Locust scenario against a running service.

Each simulated user registers once (a new account with its own workspace), creates a first
campaign, then browses: lists campaigns (most often), opens one, and creates more. Start the
service first (`make run`), then, bounded by ``--run-time``:

    .venv/bin/locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --users 32 --spawn-rate 8 --run-time 1m

The host comes from ``--host`` (default http://127.0.0.1:8000). This file imports nothing from
the project, so it runs against any deployment of the API.

Every request counts against the service's per-token limit (CM_REQUESTS_PER_TOKEN, 3000 a minute
by default): one user makes about one request a second here, far below it. Every user signs up
from the same address, so start the service with the sign-up limit raised, or all but the first
ten users fail with 429 (CM_REGISTRATIONS_PER_IP, 10 an hour by default):

    CM_REGISTRATIONS_PER_IP=100000 make run

A 429 is reported as a failure, so raise a limit on the service before pushing past it.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from locust import FastHttpUser, between, task

API = "/api/v1"
PASSWORD = "locust-password-123"


class CampaignManagerUser(FastHttpUser):
    """One account and workspace per simulated user."""

    host = "http://127.0.0.1:8000"
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.campaign_ids: list[str] = []
        handle = uuid.uuid4().hex[:12]
        # Distinct names: concurrent sign-ups with one name race for the same workspace slug
        # (a 409 from the API, reported to the team), which real sign-ups rarely do.
        with self.client.post(
            f"{API}/auth/register",
            json={
                "email": f"locust-{handle}@loadtest.example",
                "password": PASSWORD,
                "display_name": f"Locust {handle}",
            },
            name=f"{API}/auth/register",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"register: HTTP {response.status_code}")
                self.stop()  # no account, nothing to do
                return
            token = response.json()["tokens"]["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.create_campaign()

    @task(6)
    def list_campaigns(self) -> None:
        """A page of 50, newest first (cached in Redis until the workspace changes)."""
        with self.client.get(
            f"{API}/campaigns?limit=50",
            headers=self.headers,
            name=f"{API}/campaigns?limit=50",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"list: HTTP {response.status_code}")

    @task(3)
    def get_campaign(self) -> None:
        if not self.campaign_ids:
            return
        campaign_id = random.choice(self.campaign_ids)
        with self.client.get(
            f"{API}/campaigns/{campaign_id}",
            headers=self.headers,
            name=f"{API}/campaigns/[id]",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"get: HTTP {response.status_code}")

    @task(1)
    def create_campaign(self) -> None:
        body: dict[str, Any] = {
            "name": f"Load test campaign {uuid.uuid4().hex[:8]}",
            "budget_minor": random.randrange(10_000, 5_000_000),
            "currency": "EUR",
        }
        with self.client.post(
            f"{API}/campaigns",
            json=body,
            headers=self.headers,
            name=f"{API}/campaigns",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"create: HTTP {response.status_code}")
                return
            self.campaign_ids.append(response.json()["id"])
