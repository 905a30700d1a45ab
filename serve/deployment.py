"""The Ray Serve deployment whose replicas each run the FastAPI app from ``build_app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve as ray_serve
from ray.serve.deployment import Application

from core.settings import Settings
from serve.app import build_app

APP_NAME = "campaign-manager"


@ray_serve.deployment(name="ApiIngress")
@ray_serve.ingress()
class ApiIngress:
    """One replica: builds the app (and its own database and Redis pools) inside the replica
    process, after Ray has shipped the settings to it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def __serve_build_asgi_app__(self) -> FastAPI:
        return build_app(self._settings)


def deployment_options(settings: Settings) -> dict[str, Any]:
    """Replica count, fractional CPUs and the in-flight cap, from settings (see RAY.md for why
    each default differs from Serve's)."""
    return {
        "num_replicas": settings.serve_replicas,
        "max_ongoing_requests": settings.serve_max_ongoing_requests,
        "ray_actor_options": {"num_cpus": settings.serve_replica_cpus},
    }


def build_application(settings: Settings) -> Application:
    deployment: Any = ApiIngress  # the decorators turn the class into a Deployment
    application: Application = deployment.options(**deployment_options(settings)).bind(settings)
    return application
