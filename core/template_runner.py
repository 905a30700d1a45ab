"""Renders user-written templates in a few child processes, bounded in time, memory and size.

Jinja2's sandbox keeps a template away from the server's objects, but not from its CPU or its
memory: a loop that doubles a string forty times asks for a terabyte. :class:`TemplateRunner`
keeps a small pool of long-lived ``python -m core.template_worker`` children (capped address
space, lower priority, see that module) and gives each render a wall-clock budget; a child that
overruns it is killed and replaced on the next render. A template over a bound is a
:class:`~core.templating.TemplateRefused` (a 422) naming the part and the bound.

Plain asyncio, no Ray: the API (one runner per replica, opened in its lifespan) and the outreach
actors (one per actor) use the same class. Children start on first use, never at import, and
exit when their stdin closes, so none outlives the process that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import FieldProblem, InvalidInput, ServiceUnavailable
from core.template_worker import EXIT_OUT_OF_MEMORY, memory_message
from core.templating import (
    MAX_RENDERED_CHARS,
    TEMPLATE_FIELDS,
    RenderedEmail,
    TemplateContext,
    TemplateRefused,
    TemplateSource,
    email_of,
    sample_context,
)

# The folder that holds the ``core`` package: the children run ``-m core.template_worker`` from
# it, whatever the parent's working directory (a Ray worker's is not the project's).
_IMPORT_ROOT = Path(__file__).resolve().parent.parent
# A reply carries one rendered part; JSON's ASCII escapes take up to 12 bytes a character.
_REPLY_LIMIT = 12 * MAX_RENDERED_CHARS + 64 * 1024


@dataclass(frozen=True)
class RenderLimits:
    """The bounds of one render (all the parts of one message)."""

    seconds: float = 2.0
    memory_mib: int = 512
    # Renders at once per process; each has a child of its own.
    workers: int = 2
    # How long a render waits for a free child before the caller is told to come back.
    wait_seconds: float = 5.0
    # How long a new child may take to start (Python and Jinja2 on a busy machine).
    start_seconds: float = 15.0
    # How long a child may take to exit at shutdown before it is killed.
    stop_seconds: float = 2.0


class _Worker:
    """One child process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, limits: RenderLimits) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "core.template_worker",
            "--seconds",
            str(limits.seconds),
            "--memory-mib",
            str(limits.memory_mib),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=_IMPORT_ROOT,
            limit=_REPLY_LIMIT,
        )
        worker = cls(process)
        try:
            async with asyncio.timeout(limits.start_seconds):
                ready = await worker.receive()
        except BaseException:
            await worker.kill()
            raise
        if ready != {"ready": True}:
            await worker.kill()
            raise ServiceUnavailable("the template renderer could not start")
        return worker

    async def send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(message).encode() + b"\n")
        await stdin.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The next message, or ``None`` once the child has exited."""
        stdout = self.process.stdout
        assert stdout is not None
        line = await stdout.readline()
        if not line:
            return None
        message: dict[str, Any] = json.loads(line)
        return message

    async def stop(self, seconds: float) -> None:
        """Let the child finish (it exits when stdin closes), killing it after ``seconds``."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            async with asyncio.timeout(seconds):
                await self.process.wait()
        except TimeoutError:
            await self.kill()

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        if self.process.stdin is not None:
            self.process.stdin.close()
        # A killed process is reaped at once; the bound is for a kernel that is struggling.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.process.wait()


class TemplateRunner:
    """A pool of template-rendering child processes for this process; see the module."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._slots = asyncio.Semaphore(self.limits.workers)
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._closed = False

    async def render(
        self,
        template: TemplateSource,
        context: TemplateContext,
        *,
        overrides: Mapping[str, str] | None = None,
    ) -> RenderedEmail:
        """Render every part of ``template`` for one recipient; ``overrides`` (any of
        ``subject``, ``body_html``, ``body_text``) are rendered in place of its own, as for an
        unsaved draft. A part that fails is an ``InvalidInput`` naming it; one over a bound a
        ``TemplateRefused`` naming the bound; ``ServiceUnavailable`` when no renderer frees up
        in time."""
        overrides = overrides or {}
        if unknown := overrides.keys() - set(TEMPLATE_FIELDS):
            raise ValueError(f"not template parts: {sorted(unknown)}")
        parts = {part: overrides.get(part, getattr(template, part)) for part in TEMPLATE_FIELDS}
        return email_of(await self.render_parts(parts, context))

    async def check(self, parts: Mapping[str, str]) -> None:
        """Try ``parts`` (any of ``subject``, ``body_html``, ``body_text``) on a recipient with
        every field filled, and raise ``TemplateRefused`` if one breaks a bound or the sandbox.
        Other failures pass: they may depend on the data (``artist.genres[3]``) and show when
        the template is previewed."""
        try:
            await self.render_parts(parts, sample_context())
        except TemplateRefused:
            raise
        except InvalidInput:
            pass

    async def render_parts(
        self, parts: Mapping[str, str], context: TemplateContext
    ) -> dict[str, str]:
        """Render ``parts`` (part name to source) for ``context``; errors as :meth:`render`."""
        if not parts:
            return {}
        await self._take_slot()
        try:
            worker = self._idle.pop() if self._idle else await self._start()
            try:
                rendered, healthy = await self._exchange(worker, parts, context)
            except BaseException:
                # Cancelled or broken mid-render, the child is in an unknown state.
                await self._discard(worker)
                raise
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                await self._discard(worker)
        finally:
            self._slots.release()
        if isinstance(rendered, InvalidInput):
            raise rendered
        return rendered

    async def close(self) -> None:
        """Stop every child; renders under way end as if the child had died."""
        self._closed = True
        idle, self._idle = self._idle, []
        busy = self._workers.difference(idle)
        await asyncio.gather(
            *(worker.stop(self.limits.stop_seconds) for worker in idle),
            *(worker.kill() for worker in busy),
        )
        self._workers.clear()

    async def _take_slot(self) -> None:
        shut = ServiceUnavailable("the template renderer is shut down")
        if self._closed:
            raise shut
        try:
            async with asyncio.timeout(self.limits.wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                f"all {self.limits.workers} template renderers stayed busy for"
                f" {self.limits.wait_seconds:g} s; try again shortly"
            ) from None
        if self._closed:  # closed while this render waited: start no child after close()
            self._slots.release()
            raise shut

    async def _start(self) -> _Worker:
        try:
            worker = await _Worker.start(self.limits)
        except (OSError, TimeoutError) as exc:
            raise ServiceUnavailable(f"the template renderer could not start: {exc}") from None
        self._workers.add(worker)
        return worker

    async def _discard(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        await worker.kill()

    async def _exchange(
        self, worker: _Worker, parts: Mapping[str, str], context: TemplateContext
    ) -> tuple[dict[str, str] | InvalidInput, bool]:
        """Send one request and read the answer: the rendered parts or the error, and whether
        the child can take another request."""
        current = next(iter(parts))
        rendered: dict[str, str] = {}
        try:
            async with asyncio.timeout(self.limits.seconds):
                await worker.send({"parts": dict(parts), "context": context.to_data()})
                while (message := await worker.receive()) is not None:
                    if "start" in message:
                        current = message["start"]
                    elif "rendered" in message:
                        rendered[message["rendered"]] = message["text"]
                    elif "done" in message:
                        return rendered, True
                    elif "refused" in message:
                        refused = message["refused"]
                        error = TemplateRefused(refused["part"], refused["message"])
                        return error, not message.get("retire", False)
                    elif "invalid" in message:
                        invalid = message["invalid"]
                        problems = [FieldProblem(f, m) for f, m in invalid["problems"]]
                        return InvalidInput(invalid["detail"], problems), True
        except TimeoutError:
            return TemplateRefused(current, self._time_message()), False
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child died; its exit status says why
        await worker.kill()
        return TemplateRefused(current, self._death_message(worker.process.returncode)), False

    def _time_message(self) -> str:
        return f"renders for more than {self.limits.seconds:g} s"

    def _death_message(self, returncode: int | None) -> str:
        if returncode == -signal.SIGXCPU:
            return self._time_message()
        if returncode == EXIT_OUT_OF_MEMORY:
            return memory_message(self.limits.memory_mib)
        return f"stopped the template renderer (exit status {returncode})"
