"""Serve deployment options from settings, the ``serve deploy`` builder, and the deployment files
(serve_config.yaml, ray_cluster.yaml, deploy/) kept in step with the code; no Ray is started."""

from __future__ import annotations

import ast
import copy
import importlib
import os
import re
import shlex
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from ray.serve.deployment import Application
from ray.serve.schema import ServeDeploySchema

from core.errors import ConfigurationError
from core.settings import Settings, setting_name
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


def yaml_file(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text())


def cluster_commands(config: dict[str, Any]) -> list[str]:
    keys = (
        "initialization_commands",
        "setup_commands",
        "head_setup_commands",
        "worker_setup_commands",
        "head_start_ray_commands",
        "worker_start_ray_commands",
    )
    return [command for key in keys for command in config.get(key, [])]


def invocations(command: str, program: str) -> list[list[str]]:
    """The arguments after each run of ``program`` in a shell command line: the program named
    first in a command (after ``sudo`` and variable assignments), or by a path ending in
    ``bin/<program>`` anywhere (as systemd-run is given it)."""
    found = []
    for segment in re.split(r"&&|\|\||;|\|", command):
        tokens = shlex.split(segment)
        leading = 0
        while leading < len(tokens) and (tokens[leading] == "sudo" or "=" in tokens[leading]):
            leading += 1
        for index, token in enumerate(tokens):
            first = index == leading and token.rsplit("/", 1)[-1] == program
            if first or token.endswith(f"bin/{program}"):
                found.append(tokens[index + 1 :])
    return found


# Click command trees, Ray's (click) and the service's (Typer's own copy of click): a group is
# a command with ``commands``.
def subcommands(command: Any) -> dict[str, Any] | None:
    found: dict[str, Any] | None = getattr(command, "commands", None)
    return found


def click_command(group: Any, path: list[str]) -> Any:
    command = group
    for name in path:
        children = subcommands(command)
        assert children is not None, f"{name!r} follows a command that has none"
        assert name in children, f"no such command: {name!r}"
        command = children[name]
    return command


def options_of(command: Any) -> set[str]:
    return {option for param in command.params for option in param.opts}


def check_invocation(group: Any, arguments: list[str]) -> None:
    """The subcommand (and sub-subcommand) exists and takes every ``--option`` given."""
    path: list[str] = []
    for argument in arguments:
        if argument.startswith("-"):
            break
        path.append(argument)
        if subcommands(click_command(group, path)) is None:
            break
    command = click_command(group, path)
    given = {argument.split("=", 1)[0] for argument in arguments if argument.startswith("--")}
    assert given <= options_of(command), (path, given - options_of(command))


def known_environment_names() -> set[str]:
    """Every CM_* name the service reads: its settings and the CLI's own options."""
    from serve.cli import app

    names = {setting_name(field) for field in Settings.model_fields}

    def walk(command: Any) -> None:
        for param in command.params:
            envvars = param.envvar if isinstance(param.envvar, list | tuple) else [param.envvar]
            names.update(name for name in envvars if isinstance(name, str))
        for sub in (subcommands(command) or {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return names


DEPLOYMENT_FILES = [
    "ray_cluster.yaml",
    "serve_config.yaml",
    "deploy/rayservice.yaml",
    "deploy/cluster.env.example",
    "docs/deployment.md",
]


class TestRayClusterFile:
    def test_it_is_a_valid_cluster_launcher_config(self) -> None:
        from ray.autoscaler._private.util import prepare_config, validate_config

        config = yaml_file("ray_cluster.yaml")

        # What `ray up` does before it talks to the cloud: fill in defaults, then validate.
        validate_config(prepare_config(copy.deepcopy(config)))
        assert set(config["available_node_types"]) == {"head", "worker"}
        assert config["head_node_type"] == "head"

    def test_every_node_installs_the_project_with_the_pinned_versions(self) -> None:
        config = yaml_file("ray_cluster.yaml")

        installs = [
            arguments
            for command in config["setup_commands"]
            for arguments in invocations(command, "uv")
            if arguments[:2] == ["pip", "install"]
        ]
        assert any(
            "-c" in args and "constraints.txt" in args and "-e" in args and "." in args
            for args in installs
        )
        assert any("git clone" in command for command in config["setup_commands"])

    def test_ray_and_the_service_are_run_with_real_commands_and_options(self) -> None:
        from ray.scripts.scripts import cli as ray_cli

        from serve.cli import app

        service_cli = typer.main.get_command(app)
        config = yaml_file("ray_cluster.yaml")
        runs = {"ray": 0, "campaign-manager": 0}
        for command in cluster_commands(config):
            for arguments in invocations(command, "ray"):
                check_invocation(ray_cli, arguments)
                runs["ray"] += 1
            for arguments in invocations(command, "campaign-manager"):
                check_invocation(service_cli, arguments)
                runs["campaign-manager"] += 1

        assert runs["ray"] >= 4  # stop and start, on the head and on the workers
        assert runs["campaign-manager"] >= 1

    def test_the_head_starts_ray_then_the_service_with_the_mounted_settings(self) -> None:
        config = yaml_file("ray_cluster.yaml")
        head = config["head_start_ray_commands"]
        ray_runs = [invocations(command, "ray") for command in head]
        service_runs = [invocations(command, "campaign-manager") for command in head]

        ray_start = next(i for i, runs in enumerate(ray_runs) if runs and runs[0][0] == "start")
        serve_index = next(i for i, runs in enumerate(service_runs) if runs == [["serve"]])
        assert "--head" in ray_runs[ray_start][0]
        assert ray_start < serve_index
        (remote, local), *_ = config["file_mounts"].items()
        assert local == "./deploy/cluster.env"
        assert remote.removeprefix("~/") in head[serve_index]  # its EnvironmentFile
        assert (ROOT / "deploy/cluster.env.example").exists()
        assert "deploy/cluster.env" in (ROOT / ".gitignore").read_text().splitlines()
        workers = [invocations(c, "ray") for c in config["worker_start_ray_commands"]]
        assert any("--address=$RAY_HEAD_IP:6379" in runs[0] for runs in workers if runs and runs[0])


class TestClusterSettings:
    def test_every_cm_name_in_the_deployment_files_is_one_the_service_reads(self) -> None:
        known = known_environment_names()
        for name in DEPLOYMENT_FILES:
            text = (ROOT / name).read_text()
            for found in set(re.findall(r"\bCM_[A-Z0-9_]+", text)):
                if found.endswith("_"):  # a family, written CM_S3_*
                    assert any(k.startswith(found) for k in known), (name, found)
                else:
                    assert found in known, (name, found)

    def test_the_env_example_sets_what_a_cluster_needs_and_parses(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        text = (ROOT / "deploy/cluster.env.example").read_text()
        values = dict(
            line.split("=", 1)
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )

        required = {"database_url", "redis_url", "secret_key", "ray_address", "host"}
        assert {setting_name(field) for field in required} <= set(values)
        assert values["CM_OUTBOX_ENABLED"] == "false"  # one node's folder, senders on any node
        for name in os.environ:
            if name.startswith("CM_"):
                monkeypatch.delenv(name)
        # Read as the service reads a .env file.
        settings = Settings(data_dir=tmp_path, _env_file=ROOT / "deploy/cluster.env.example")
        assert settings.database_read_url is not None
        assert settings.serve_max_replicas is not None
        assert settings.serve_max_replicas > settings.serve_replicas


class TestRayServiceManifest:
    def manifest(self) -> dict[str, Any]:
        documents = list(yaml.safe_load_all((ROOT / "deploy/rayservice.yaml").read_text()))
        (service,) = [d for d in documents if d["kind"] == "RayService"]
        assert isinstance(service, dict)
        return service

    def test_its_serve_config_carries_the_applications_of_serve_config_yaml(self) -> None:
        serve_config = yaml.safe_load(self.manifest()["spec"]["serveConfigV2"])

        assert serve_config["applications"] == yaml_file("serve_config.yaml")["applications"]
        ServeDeploySchema.model_validate(serve_config)
        # In a pod the proxy must listen where the Service reaches it.
        assert serve_config["http_options"]["host"] == "0.0.0.0"

    def test_its_ray_version_is_the_pinned_one(self) -> None:
        import ray

        spec = self.manifest()["spec"]["rayClusterConfig"]

        assert spec["rayVersion"] == ray.__version__

    def test_the_head_migrates_first_and_starts_the_cluster_actors_with_real_names(
        self,
    ) -> None:
        from serve.cli import app

        head = self.manifest()["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]
        (migrate,) = head["initContainers"]
        service_cli = typer.main.get_command(app)
        assert migrate["command"][0] == "campaign-manager"
        check_invocation(service_cli, migrate["command"][1:])
        (actors,) = [c for c in head["containers"] if c["name"] == "cluster-actors"]
        script = actors["args"][0]
        python = script.split("<<'PYTHON'\n", 1)[1].split("PYTHON\n", 1)[0]
        tree = ast.parse(textwrap.dedent(python))
        imported = [
            (node.module, alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
        ]
        assert ("actors.scheduler", "start_scheduler") in imported
        for module, name in imported:
            assert hasattr(importlib.import_module(module), name), (module, name)
