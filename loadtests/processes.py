"""Keeping track of the processes a benchmark starts, so that none outlives the run and nobody
else's is touched: each is remembered by pid and start time (a reused pid is not ours)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from pathlib import Path

import psutil


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


def stack_processes(work: Path) -> list[psutil.Process]:
    """The embedded PostgreSQL and Redis of a run (their command lines name its folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(str(work) in part for part in proc.info["cmdline"] or []):
                found.append(proc)
    return found
