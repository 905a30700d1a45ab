"""Serve deployment options from settings, and the ``serve deploy`` builder; no Ray is started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ray.serve.deployment import Application
from ray.serve.schema import ServeDeploySchema

from core.errors import ConfigurationError
from core.settings import Settings
from serve.deployment import (
    APP_NAME,
    DEPLOYMENT_NAME,
    ApiIngress,
    app_builder,
    deployment_options,
    target_ongoing_requests,
)

ROOT = Path(__file__).resolve().parents[2]


def settings(**values: Any) -> Settings:
    return Settings(data_dir=Path("/nonexistent/cm-unit"), **values)


class TestFixedReplicaCount:
    def test_without_a_maximum_the_deployment_runs_the_configured_number_of_replicas(
        self,
    ) -> None:
        options = deployment_options(settings(serve_replicas=3))

        assert options["num_replicas"] == 3
        assert "autoscaling_config" not in options

    def test_a_maximum_not_above_the_minimum_means_a_fixed_count(self) -> None:
        options = deployment_options(settings(serve_replicas=2, serve_max_replicas=2))

        assert options["num_replicas"] == 2
        assert "autoscaling_config" not in options


class TestAutoscalingRange:
    def test_a_maximum_above_the_minimum_autoscales_between_the_two(self) -> None:
        options = deployment_options(
            settings(serve_replicas=1, serve_max_replicas=4, serve_max_ongoing_requests=100)
        )

        assert "num_replicas" not in options  # Serve rejects both together
        assert options["autoscaling_config"] == {
            "min_replicas": 1,
            "max_replicas": 4,
            "target_ongoing_requests": 20,
        }

    @pytest.mark.parametrize("cap", [1, 2, 5, 100, 10_000])
    def test_the_target_stays_between_one_and_the_in_flight_cap(self, cap: int) -> None:
        assert 1 <= target_ongoing_requests(cap) <= cap

    def test_serve_accepts_the_range_it_is_given(self) -> None:
        options = deployment_options(settings(serve_replicas=1, serve_max_replicas=2))

        deployment: Any = ApiIngress
        config = deployment.options(**options)._deployment_config.autoscaling_config

        assert (config.min_replicas, config.max_replicas) == (1, 2)
        assert config.target_ongoing_requests == 20


class TestCapAndCpus:
    def test_the_in_flight_cap_and_fractional_cpus_are_explicit_in_every_mode(self) -> None:
        for extra in ({}, {"serve_max_replicas": 3}):
            options = deployment_options(
                settings(serve_max_ongoing_requests=64, serve_replica_cpus=0.25, **extra)
            )

            assert options["max_ongoing_requests"] == 64
            assert options["ray_actor_options"] == {"num_cpus": 0.25}


class TestServeConfigFile:
    def test_serve_config_yaml_carries_the_same_options_as_the_code(self) -> None:
        config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
        (application,) = config["applications"]
        (deployment,) = application["deployments"]

        expected = deployment_options(settings(serve_replicas=1, serve_max_replicas=2))
        assert application["name"] == APP_NAME
        assert application["import_path"] == "serve.deployment:app_builder"
        assert deployment.pop("name") == DEPLOYMENT_NAME
        assert deployment == expected

    def test_serve_config_yaml_is_a_valid_serve_deploy_config(self) -> None:
        config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())

        schema = ServeDeploySchema.model_validate(config)

        assert [app.name for app in schema.applications] == [APP_NAME]

    def test_serve_config_yaml_listens_on_loopback_only(self) -> None:
        config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())

        assert config["http_options"]["host"] == "127.0.0.1"


class TestAppBuilder:
    @pytest.fixture(autouse=True)
    def clean_environment(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.chdir(tmp_path)  # no stray .env file
        for name in ("CM_DATABASE_URL", "CM_REDIS_URL", "CM_SECRET_KEY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CM_DATA_DIR", str(tmp_path))

    def test_without_the_servers_it_names_the_missing_setting(self) -> None:
        with pytest.raises(ConfigurationError) as raised:
            app_builder({})

        assert raised.value.setting == "CM_DATABASE_URL"
        assert "CM_REDIS_URL" in raised.value.message
        assert "CM_SECRET_KEY" in raised.value.message

    def test_with_the_environment_set_it_builds_the_application(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CM_DATABASE_URL", "postgresql://cm@db.internal/cm")
        monkeypatch.setenv("CM_REDIS_URL", "redis://cache.internal:6379/0")
        monkeypatch.setenv("CM_SECRET_KEY", "k" * 48)

        application = app_builder({"serve_max_ongoing_requests": 42})

        assert isinstance(application, Application)
        # Ray exposes the bound deployment only privately; its own tests read it the same way.
        deployment = application._bound_deployment
        assert deployment.name == DEPLOYMENT_NAME
        assert deployment.max_ongoing_requests == 42
        assert deployment.init_args[0].database_url == "postgresql://cm@db.internal/cm"

    def test_a_bad_config_arg_names_the_setting(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CM_DATABASE_URL", "postgresql://cm@db.internal/cm")
        monkeypatch.setenv("CM_REDIS_URL", "redis://cache.internal:6379/0")
        monkeypatch.setenv("CM_SECRET_KEY", "k" * 48)

        with pytest.raises(ConfigurationError) as raised:
            app_builder({"serve_max_ongoing_requests": 0})

        assert raised.value.setting == "CM_SERVE_MAX_ONGOING_REQUESTS"
