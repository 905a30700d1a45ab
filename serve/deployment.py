"""The Ray Serve deployment whose replicas each run the FastAPI app from ``build_app``.

Two ways in: ``build_application(settings)`` for the CLI (``serve/runner.py``), which has already
resolved the embedded servers; and ``app_builder`` for ``serve deploy serve_config.yaml``, which
reads ``CM_*`` from the environment of the cluster process that builds the application.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve as ray_serve
from ray.serve.deployment import Application

from core import telemetry
from core.errors import ConfigurationError
from core.settings import Settings, load_settings, setting_name
from serve.app import build_app

APP_NAME = "campaign-manager"
DEPLOYMENT_NAME = "ApiIngress"

# The autoscaler aims at this share of max_ongoing_requests per replica: a replica averaging
# more than a fifth of its cap in flight (20 of 100, twice its default database pool of 10) is
# queueing for connections, so another replica helps; the cap itself stays far above the target
# so a burst is queued inside the replica rather than held back at the proxy.
TARGET_SHARE_OF_MAX_ONGOING = 0.2


@ray_serve.deployment(name=DEPLOYMENT_NAME)
@ray_serve.ingress()
class ApiIngress:
    """One replica: builds the app (and its own database and Redis pools) inside the replica
    process, after Ray has shipped the settings to it."""

    def __init__(self, settings: Settings) -> None:
        telemetry.setup(settings, "api")
        self._settings = settings

    def __serve_build_asgi_app__(self) -> FastAPI:
        return build_app(self._settings)


def target_ongoing_requests(max_ongoing_requests: int) -> int:
    """The autoscaler's per-replica target for a given in-flight cap (at least 1)."""
    return max(1, round(max_ongoing_requests * TARGET_SHARE_OF_MAX_ONGOING))


def deployment_options(settings: Settings) -> dict[str, Any]:
    """Replicas (a fixed count, or an autoscaling range when ``serve_max_replicas`` is above
    ``serve_replicas``), fractional CPUs and the in-flight cap, from settings (see RAY.md for
    why each default differs from Serve's)."""
    options: dict[str, Any] = {
        "max_ongoing_requests": settings.serve_max_ongoing_requests,
        "ray_actor_options": {"num_cpus": settings.serve_replica_cpus},
    }
    maximum = settings.serve_max_replicas
    if maximum is not None and maximum > settings.serve_replicas:
        options["autoscaling_config"] = {
            "min_replicas": settings.serve_replicas,
            "max_replicas": maximum,
            "target_ongoing_requests": target_ongoing_requests(settings.serve_max_ongoing_requests),
        }
    else:
        # A maximum at or below the minimum means "no autoscaling": a fixed count.
        options["num_replicas"] = settings.serve_replicas
    return options


def build_application(settings: Settings) -> Application:
    deployment: Any = ApiIngress  # the decorators turn the class into a Deployment
    application: Application = deployment.options(**deployment_options(settings)).bind(settings)
    return application


def app_builder(args: dict[str, Any]) -> Application:
    """Application builder for ``serve deploy`` / ``serve run`` (``import_path:
    serve.deployment:app_builder``).

    Settings come from the ``CM_*`` environment of the process that builds the application on
    the cluster; ``args`` (the config's ``args:``) may override settings by field name, e.g.
    ``{"serve_max_ongoing_requests": 200}``. A cluster cannot start the embedded servers, so
    ``CM_DATABASE_URL``, ``CM_REDIS_URL`` and ``CM_SECRET_KEY`` must be set.

    Raises:
        ConfigurationError: a required setting is missing or a value is invalid.
    """
    settings = load_settings(**args)
    missing = [
        setting_name(field)
        for field in ("database_url", "redis_url", "secret_key")
        if getattr(settings, field) is None
    ]
    if missing:
        raise ConfigurationError(
            missing[0],
            f"serve deploy needs {', '.join(missing)} in the cluster's environment "
            "(runtime_env.env_vars in serve_config.yaml, or exported before `ray start`)",
        )
    return build_application(settings)
