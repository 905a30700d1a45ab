"""The API on Ray Serve, over real HTTP: health and error shapes."""

from __future__ import annotations

import httpx


class TestHealthOnServe:
    async def test_every_part_is_reported_ok(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert {name: part["status"] for name, part in body["checks"].items()} == {
            "postgres": "ok",
            "redis": "ok",
            "object_store": "ok",
        }

    async def test_concurrent_health_checks_all_succeed(self, api: httpx.AsyncClient) -> None:
        import asyncio

        responses = await asyncio.gather(*(api.get("/healthz") for _ in range(40)))
        assert [r.status_code for r in responses] == [200] * 40


class TestErrorsOnServe:
    async def test_an_unknown_route_is_a_problem_document(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/not-found"

    async def test_the_openapi_document_describes_healthz(self, api: httpx.AsyncClient) -> None:
        spec = (await api.get("/api/openapi.json")).json()
        assert "/healthz" in spec["paths"]
        assert spec["paths"]["/healthz"]["get"]["summary"]
