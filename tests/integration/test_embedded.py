"""The embedded servers: data kept across restarts, stopped by the last user, errors named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from core.errors import ConfigurationError
from storage.embedded import EmbeddedPostgres, EmbeddedRedis, prepare_data_dir
from storage.redis_client import create_redis


def running_with(folder: Path) -> list[int]:
    return [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if str(folder) in " ".join(p.info["cmdline"] or []) and p.pid != psutil.Process().pid
    ]


class TestEmbeddedRedis:
    async def test_keys_survive_a_restart_and_stop_leaves_no_server(self, tmp_path: Path) -> None:
        server = EmbeddedRedis(tmp_path / "redis")
        client = create_redis(server.start())
        await client.set("campaign:1", b"kept")
        await client.aclose()
        pid = server.pid
        assert pid is not None and psutil.pid_exists(pid)
        server.stop()
        assert not psutil.pid_exists(pid)

        again = EmbeddedRedis(tmp_path / "redis")
        client = create_redis(again.start())
        try:
            assert await client.get("campaign:1") == b"kept"
        finally:
            await client.aclose()
            again.stop()


class TestEmbeddedPostgres:
    def test_a_server_left_by_a_dead_process_is_reused_then_stopped(self, tmp_path: Path) -> None:
        folder = tmp_path / "pg"
        # Another process starts the server and dies without stopping it (kill -9, power cut...).
        script = (
            "import os; from pathlib import Path; from storage.embedded import EmbeddedPostgres; "
            f"EmbeddedPostgres(Path({str(folder)!r})).start(); os._exit(0)"
        )
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        orphaned = running_with(folder)
        assert orphaned, "the first process should have left PostgreSQL running"
        assert json.loads((folder / ".handle_pids.json").read_text())  # its pid is still recorded

        server = EmbeddedPostgres(folder)
        url = server.start()
        assert f"host={folder}" in url
        assert set(orphaned) & set(running_with(folder)), "the running server should be reused"
        server.stop()
        assert running_with(folder) == []


class TestDataFolder:
    def test_a_writable_folder_is_created(self, tmp_path: Path) -> None:
        assert prepare_data_dir(tmp_path / "a" / "b").is_dir()

    def test_a_path_below_a_file_is_refused_naming_the_setting(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("x")
        with pytest.raises(ConfigurationError) as error:
            prepare_data_dir(tmp_path / "file" / "data")
        assert error.value.setting == "CM_DATA_DIR (--data-dir)"
        assert "cannot be written" in str(error.value)
