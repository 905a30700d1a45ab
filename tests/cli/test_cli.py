"""The ``campaign-manager`` CLI as a user runs it: a real process, real embedded servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

CLI = [sys.executable, "-m", "serve"]


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CM_")}
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def processes_using(folder: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(folder) in cmdline:
            found.append(cmdline)
    return found


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    return lines[0]


class TestBadSettings:
    @pytest.mark.parametrize(
        ("env", "setting"),
        [
            ({"CM_PORT": "eighty"}, "CM_PORT"),
            ({"CM_PORT": "70000"}, "CM_PORT"),
            ({"CM_DATABASE_URL": "mysql://db.example/x"}, "CM_DATABASE_URL"),
            ({"CM_REDIS_URL": "memcached://127.0.0.1"}, "CM_REDIS_URL"),
            ({"CM_LOG_LEVEL": "loud"}, "CM_LOG_LEVEL"),
            ({"CM_SERVE_REPLICA_CPUS": "-1"}, "CM_SERVE_REPLICA_CPUS"),
        ],
    )
    def test_a_malformed_setting_is_one_line_naming_it(
        self, env: dict[str, str], setting: str, tmp_path: Path
    ) -> None:
        result = run("--data-dir", str(tmp_path), "serve", env=env)
        assert result.returncode == 2
        assert one_error_line(result).startswith(f"error: {setting}:")

    def test_an_unreachable_database_is_named_with_its_password_hidden(
        self, tmp_path: Path
    ) -> None:
        result = run(
            "--data-dir",
            str(tmp_path),
            "migrate",
            env={"CM_DATABASE_URL": "postgresql://app:hunter2@127.0.0.1:1/cm"},
        )
        assert result.returncode == 2
        line = one_error_line(result)
        assert line.startswith(
            "error: CM_DATABASE_URL: cannot connect to postgresql://app:***@127.0.0.1:1/cm"
        )
        assert "hunter2" not in result.stdout + result.stderr

    def test_a_data_folder_that_cannot_be_written_is_named(self, tmp_path: Path) -> None:
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")
        result = run("--data-dir", str(blocker / "data"), "migrate")
        assert result.returncode == 2
        assert one_error_line(result).startswith("error: CM_DATA_DIR (--data-dir): data folder")
        assert processes_using(blocker) == []

    def test_a_port_in_use_is_refused_before_anything_starts(self, tmp_path: Path) -> None:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = run("--data-dir", str(tmp_path), "serve", "--port", str(port))
        assert result.returncode == 2
        assert one_error_line(result).startswith("error: CM_PORT: cannot listen on 127.0.0.1:")
        assert not (tmp_path / "postgres").exists()

    def test_an_unknown_command_is_one_line(self) -> None:
        result = run("frobnicate")
        assert result.returncode == 2
        assert "No such command" in one_error_line(result)


class TestEmbeddedLifecycle:
    def test_migrate_starts_and_stops_the_embedded_database(self, tmp_path: Path) -> None:
        result = run("--data-dir", str(tmp_path), "migrate")
        assert result.returncode == 0, result.stderr
        assert "database schema at revision" in result.stdout
        assert (tmp_path / "postgres" / "PG_VERSION").exists()
        assert processes_using(tmp_path) == []

    def test_data_survives_a_restart_of_the_embedded_servers(self, tmp_path: Path) -> None:
        args = (
            "--data-dir",
            str(tmp_path),
            "user",
            "create",
            "--email",
            "mia@label.example",
            "--name",
            "Mia",
        )
        env = {"CM_NEW_USER_PASSWORD": "correct horse battery"}
        first = run(*args, env=env)
        assert first.returncode == 0, first.stderr
        assert "created user mia@label.example" in first.stdout
        assert processes_using(tmp_path) == []

        second = run(*args, env=env)
        assert second.returncode == 1
        assert one_error_line(second) == "error: a user with this email already exists"
        assert processes_using(tmp_path) == []

    def test_a_short_password_is_refused_naming_the_rule(self, tmp_path: Path) -> None:
        result = run(
            "--data-dir",
            str(tmp_path),
            "user",
            "create",
            "--email",
            "a@b.example",
            env={"CM_NEW_USER_PASSWORD": "short"},
        )
        assert result.returncode == 1
        assert one_error_line(result).startswith("error: password must be 8 to 256 characters")

    def test_without_a_password_or_a_terminal_it_says_password_is_needed(
        self, tmp_path: Path
    ) -> None:
        result = run("--data-dir", str(tmp_path), "user", "create", "--email", "a@b.example")
        assert result.returncode == 2
        line = one_error_line(result)
        assert "--password" in line
        assert "CM_NEW_USER_PASSWORD" in line
        assert "abort" not in line.lower()
