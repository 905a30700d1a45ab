"""``GET /metrics``: requests counted by route template on the Serve deployment, a value recorded
in a scraper actor relayed from Ray's metrics agent, and who may read it.

Ray's processes report every second in the test session (tests/conftest.py), so a value shows
within a few seconds; every wait here is bounded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from core import metrics
from core.settings import Settings
from scraping.fixture import FixtureSite
from tests.serve.conftest import Account, client_of, running_app
from tests.serve.test_discovery import JOBS, wait_for_job

CAMPAIGN = "/api/v1/campaigns/{campaign_id}"
WAIT_SECONDS = 30.0


def total(body: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (over nodes, statuses...)."""
    found = 0.0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and _includes(sample.labels, labels):
                found += sample.value
    return found


def _includes(have: Mapping[str, str], want: Mapping[str, str]) -> bool:
    return all(have.get(key) == value for key, value in want.items())


async def scrape(api: httpx.AsyncClient) -> str:
    response = await api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def wait_for(api: httpx.AsyncClient, name: str, at_least: float, **labels: str) -> str:
    """The first scrape where ``name`` (summed) reached ``at_least``."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        body = await scrape(api)
        if total(body, name, **labels) >= at_least:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{name}{labels} stayed below {at_least}: {body[:2000]}")
        await asyncio.sleep(0.25)


class TestOnServe:
    async def test_requests_are_counted_by_route_template_never_by_path(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        labels = {"method": "GET", "route": CAMPAIGN}
        body = await scrape(api)
        before = total(body, "cm_http_requests_total", status="404", **labels)
        timed_before = total(body, "cm_http_request_duration_seconds_count", **labels)
        missing = [str(uuid.uuid4()) for _ in range(3)]
        for campaign_id in missing:
            answer = await api.get(f"/api/v1/campaigns/{campaign_id}", headers=owner.headers)
            assert answer.status_code == 404

        body = await wait_for(api, "cm_http_requests_total", before + 3, status="404", **labels)

        assert total(body, "cm_http_requests_total", status="404", **labels) == before + 3
        assert total(body, "cm_http_request_duration_seconds_count", **labels) == timed_before + 3
        assert not any(campaign_id in body for campaign_id in missing)
        assert owner.workspace_id not in body and owner.user_id not in body
        # Every node's agent answered, and the series say which node they come from.
        up = [
            sample
            for family in text_string_to_metric_families(body)
            for sample in family.samples
            if sample.name == "cm_metrics_node_up"
        ]
        assert up and all(sample.value == 1.0 for sample in up)

    async def test_a_request_a_scraper_actor_made_shows_up(
        self, api: httpx.AsyncClient, owner: Account, soundcloud_site: FixtureSite
    ) -> None:
        before = total(await scrape(api), "cm_scraper_requests_total", host_class="soundcloud")
        graph = soundcloud_site.graph
        seed = graph.users[0]
        started = await api.post(
            JOBS,
            json={
                "seed_artists": [f"{soundcloud_site.web_url}/{seed.permalink}"],
                "max_artists": 2,
                "max_depth": 1,
            },
            headers=owner.headers,
        )
        assert started.status_code == 201, started.text
        job = await wait_for_job(api, owner, started.json()["id"])
        assert job["status"] == "completed", job
        sent = job["progress"]["scraper"]["requests"]
        assert sent > 0

        # The scraper actors count every request they send, by host class and status.
        body = await wait_for(
            api, "cm_scraper_requests_total", before + sent, host_class="soundcloud"
        )
        assert total(body, "cm_scraper_requests_total", host_class="soundcloud", status="200") > 0
        assert total(body, "cm_pacing_wait_seconds_count", host_class="soundcloud") > 0
        assert total(body, "cm_scraper_actors") >= 1
        # Ray's own view of the actors, by class, never by actor name (which holds ids).
        assert total(body, "ray_actors", Name="ScraperActor") >= 1
        assert job["id"] not in body


class TestInProcess:
    async def test_requests_are_counted_by_route_template(self, local_app: FastAPI) -> None:
        routes = {
            CAMPAIGN: f"/api/v1/campaigns/{uuid.uuid4()}",
            # A client route of the web app, whatever it is called.
            "/{client_route:path}": f"/campaigns/{uuid.uuid4()}",
        }
        with metrics.local_only():
            before = metrics.sample(
                "cm_http_requests_total", method="GET", route=CAMPAIGN, status="401"
            )
            async with client_of(local_app) as client:
                unauthorised = await client.get(routes[CAMPAIGN])
                page = await client.get(routes["/{client_route:path}"])
                refused = await client.post("/api/v1/no-such-thing", json={})
            campaign = metrics.sample(
                "cm_http_requests_total", method="GET", route=CAMPAIGN, status="401"
            )
            client_route = metrics.sample(
                "cm_http_requests_total",
                method="GET",
                route="/{client_route:path}",
                status=str(page.status_code),
            )
            # No route takes it: labelled with the first template its path matches.
            refused_count = metrics.sample(
                "cm_http_requests_total",
                method="POST",
                route="/{client_route:path}",
                status=str(refused.status_code),
            )
            rendered = metrics.render_local().decode()

        assert unauthorised.status_code == 401
        assert campaign == before + 1
        assert client_route >= 1
        assert refused.status_code == 405
        assert refused_count >= 1
        assert not any(path in rendered for path in routes.values())

    async def test_only_this_machine_may_read_it_without_a_token(self, local_app: FastAPI) -> None:
        async with client_of(local_app) as local:
            assert (await local.get("/metrics")).status_code == 200
            # Relayed by a proxy on this machine that the app does not trust: not local.
            proxied = await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        transport = httpx.ASGITransport(app=local_app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as remote:
            refused = await remote.get("/metrics")

        for answer in (proxied, refused):
            assert answer.status_code == 403
            assert answer.headers["content-type"] == "application/problem+json"
            assert "CM_METRICS_TOKEN" in answer.json()["detail"]

    async def test_with_a_token_another_machine_may_read_it(self, app_settings: Settings) -> None:
        token = "scrape-" + uuid.uuid4().hex
        settings = app_settings.model_copy(update={"metrics_token": SecretStr(token)})
        async with running_app(settings) as app:
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as remote:
                allowed = await remote.get("/metrics", headers={"Authorization": f"Bearer {token}"})
                wrong = await remote.get("/metrics", headers={"Authorization": "Bearer nope"})
                missing = await remote.get("/metrics")

        assert allowed.status_code == 200
        assert "# TYPE" in allowed.text
        assert wrong.status_code == missing.status_code == 401
