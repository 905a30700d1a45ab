"""The FastAPI application factory. Testable in-process; Ray Serve wraps the same app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from core import telemetry
from core.settings import Settings
from serve.edge import EdgeMiddleware, routes_taking_files
from serve.headers import install_transport_middleware
from serve.health import check_parts
from serve.idempotency import IdempotencyMiddleware
from serve.metrics import install_metrics
from serve.metrics import router as metrics_router
from serve.problems import (
    PROBLEM_MEDIA_TYPE,
    OutageMiddleware,
    install_problem_handlers,
    problem_response,
)
from serve.resources import Resources
from serve.routers import api_routers
from serve.routers.inbound import public_router as inbound_router
from serve.routers.tracking import public_router
from serve.schemas.common import Problem
from serve.web_app import DEFAULT_DIST, install_web_app
from storage.outages import RETRY_AFTER_SECONDS

# /healthz names what is down as a request's 503 does (`part`), beside the server checked.
PART_NAMES = {"postgres": "database", "redis": "cache"}

VERSION = "0.1.0"


class PartStatus(BaseModel):
    status: Literal["ok", "down"]
    latency_ms: float
    error: str | None = None


class HealthReport(BaseModel):
    status: Literal["ok"]
    version: str
    checks: dict[str, PartStatus]


def build_app(settings: Settings, *, resources: Resources | None = None) -> FastAPI:
    """Build the API. ``resources`` may be handed in (tests); otherwise the lifespan opens them
    from ``settings`` and closes them at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = resources is None
        app.state.resources = resources or Resources.open(settings)
        try:
            yield
        finally:
            if owned:
                await app.state.resources.close()

    app = FastAPI(
        title="Campaign Manager",
        version=VERSION,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    for router in api_routers():
        app.include_router(router, prefix="/api/v1", responses=PROBLEM_RESPONSES)
    # The links in sent mail (open pixel, clicks, unsubscribe), at the root where they point.
    app.include_router(public_router)
    # Bounce and complaint reports from mail systems, signed instead of logged in.
    app.include_router(inbound_router)
    # Prometheus's /metrics: every process's series (serve/metrics.py).
    app.include_router(metrics_router)
    # Outermost, so nothing (not even an idempotency replay) sees a request it refuses.
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_paths=routes_taking_files(app),
    )
    # Outside every middleware that uses Redis or PostgreSQL, so an outage is a 503 wherever
    # it surfaced; then gzip, the security headers and CORS around every answer.
    app.add_middleware(OutageMiddleware)
    install_transport_middleware(app, settings)
    # A span per request around all of it (recorded where telemetry.setup ran: a replica).
    telemetry.instrument_app(app)
    # Outermost: every request counted by route template and status, refusals included.
    install_metrics(app)

    @app.get(
        "/healthz",
        response_model=HealthReport,
        responses={503: {"description": "A part is down", "content": {PROBLEM_MEDIA_TYPE: {}}}},
        tags=["health"],
    )
    async def healthz(request: Request) -> Any:
        """Report whether PostgreSQL, Redis and the object store answer."""
        parts = await check_parts(request.app.state.resources)
        checks = {
            part.name: PartStatus(
                status="ok" if part.ok else "down", latency_ms=part.latency_ms, error=part.error
            )
            for part in parts
        }
        down = [part for part in parts if not part.ok]
        if down:
            detail = "; ".join(f"{part.name} is down ({part.error})" for part in down)
            return problem_response(
                503,
                "service-unavailable",
                "Service unavailable",
                detail,
                instance="/healthz",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                down=[PART_NAMES.get(part.name, part.name) for part in down],
                checks={k: v.model_dump() for k, v in checks.items()},
            )
        return JSONResponse(HealthReport(status="ok", version=VERSION, checks=checks).model_dump())

    _document_problems_as_problem_json(app)
    # Last: its history fallback takes only the GETs no route above took.
    install_web_app(app, settings.ui_dist_dir or DEFAULT_DIST)
    return app


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in {
        401: "Missing, expired or invalid access token",
        403: "The caller's role does not allow this",
        404: "Not found in the caller's workspace",
        409: "Conflicts with existing data",
        413: "The request body is over the size limit",
        422: "Invalid input; `errors` names each field",
        429: "Rate limited; see Retry-After",
        503: "PostgreSQL or Redis is unavailable (`part` says which); see Retry-After",
    }.items()
}


def _document_problems_as_problem_json(app: FastAPI) -> None:
    """Route summaries come from docstrings; error responses are documented under
    ``application/problem+json``, the type they have."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                # The docstring's first line is the summary (FastAPI would use the name).
                description = operation.get("description", "").strip()
                if description:
                    operation["summary"] = description.splitlines()[0].rstrip(".")
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if code[0] in "45" and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
