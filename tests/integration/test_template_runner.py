"""The template runner with real child processes: bounds, recovery, waiting and shutdown."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import InvalidInput, ServiceUnavailable
from core.template_runner import RenderLimits, TemplateRunner
from core.templating import (
    RenderedEmail,
    TemplateRefused,
    render_email,
    sample_context,
)

ROOT = Path(__file__).resolve().parents[2]
LIMITS = RenderLimits(seconds=1.0, memory_mib=512, workers=2, wait_seconds=5.0)
ENDLESS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
GREEDY = (
    "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
    "{% set ns.l = [ns.l, range(100000)|list] %}{% endfor %}"
)


class Template:
    def __init__(self, **parts: str) -> None:
        self.subject = parts.get("subject", "Hi {{ artist.name }}")
        self.body_html = parts.get("body_html", "<p>{{ artist.name }}</p>")
        self.body_text = parts.get("body_text", "{{ artist.genres }} in {{ artist.city }}")


@pytest.fixture
async def runner() -> AsyncIterator[TemplateRunner]:
    runner = TemplateRunner(LIMITS)
    yield runner
    await runner.close()


async def refusal(runner: TemplateRunner, **parts: str) -> TemplateRefused:
    with pytest.raises(TemplateRefused) as raised:
        await runner.render_parts(parts, sample_context())
    return raised.value


class TestRendering:
    async def test_a_template_renders_as_it_does_in_process(self, runner: TemplateRunner) -> None:
        artist = replace(sample_context().artist, city=None, name="<b>Nova</b>\r\nBcc: x")
        context = replace(sample_context(), artist=artist)
        template = Template(body_text="{{ artist.genres }}|{{ artist.city or 'your city' }}")
        rendered = await runner.render(template, context)
        assert rendered == render_email(template, context)
        assert rendered == RenderedEmail(
            subject="Hi <b>Nova</b> Bcc: x",
            html="<p>&lt;b&gt;Nova&lt;/b&gt;\r\nBcc: x</p>",
            text="house, techno, ambient|your city",
        )

    async def test_overrides_render_in_place_of_the_templates_own_parts(
        self, runner: TemplateRunner
    ) -> None:
        template = Template(subject="saved", body_text="saved")
        rendered = await runner.render(
            template, sample_context(), overrides={"body_text": "draft for {{ artist.name }}"}
        )
        assert rendered == render_email(
            Template(subject="saved", body_text="draft for {{ artist.name }}"), sample_context()
        )
        assert rendered.text == f"draft for {sample_context().artist.name}"

    async def test_a_broken_part_is_invalid_input_naming_it(self, runner: TemplateRunner) -> None:
        with pytest.raises(InvalidInput) as raised:
            await runner.render(Template(body_html="<p>\n{{ artist.nmae }}</p>"), sample_context())
        assert not isinstance(raised.value, TemplateRefused)
        assert [p.field for p in raised.value.problems] == ["body_html"]
        assert raised.value.problems[0].message.startswith("line 2: ")


class TestBounds:
    async def test_a_render_over_the_time_bound_is_refused_naming_the_part(
        self, runner: TemplateRunner
    ) -> None:
        refused = await refusal(runner, subject="ok", body_text=ENDLESS)
        assert (refused.part, refused.message) == ("body_text", "renders for more than 1 s")

    async def test_a_render_over_the_memory_bound_is_refused(self) -> None:
        # A time bound far away, so that on a loaded machine the memory bound is still the one
        # this template meets first.
        runner = TemplateRunner(replace(LIMITS, seconds=60))
        try:
            refused = await refusal(runner, body_html=GREEDY)
        finally:
            await runner.close()
        assert (refused.part, refused.message) == ("body_html", "uses more than 512 MiB of memory")

    async def test_output_over_the_size_bound_is_refused(self, runner: TemplateRunner) -> None:
        refused = await refusal(runner, body_text="{{ (range(100000)|list) * 10 }}")
        assert refused.message == "renders to more than 1000000 characters"

    async def test_renders_work_again_after_a_child_was_killed(
        self, runner: TemplateRunner
    ) -> None:
        await refusal(runner, body_text=ENDLESS)
        await refusal(runner, body_text=GREEDY)
        rendered = await runner.render_parts({"body_text": "{{ artist.name }}"}, sample_context())
        assert rendered == {"body_text": "Nova & the Waves"}


class TestTheSaveCheck:
    async def test_a_bound_is_refused(self, runner: TemplateRunner) -> None:
        with pytest.raises(TemplateRefused, match="center filter would be longer"):
            await runner.check({"subject": "ok", "body_text": '{{ "x"|center(10**9) }}'})

    async def test_a_failure_that_depends_on_the_data_passes(self, runner: TemplateRunner) -> None:
        await runner.check({"body_text": "{{ artist.genres[7] }}"})


class TestWaitingForARenderer:
    async def test_a_render_that_finds_every_renderer_busy_is_told_to_come_back(self) -> None:
        runner = TemplateRunner(replace(LIMITS, workers=1, wait_seconds=0.2))
        try:
            busy = asyncio.create_task(
                runner.render_parts({"body_text": ENDLESS}, sample_context())
            )
            await asyncio.sleep(0)  # the first render takes the only renderer
            with pytest.raises(ServiceUnavailable, match=r"stayed busy for 0\.2 s"):
                await runner.render_parts({"body_text": "hi"}, sample_context())
            with pytest.raises(TemplateRefused):
                await busy
        finally:
            await runner.close()


class TestShutdown:
    async def test_closing_stops_every_child_and_refuses_new_renders(self) -> None:
        runner = TemplateRunner(LIMITS)
        await asyncio.gather(
            runner.render_parts({"body_text": "a"}, sample_context()),
            runner.render_parts({"body_text": "b"}, sample_context()),
        )
        processes = [worker.process for worker in runner._workers]
        assert len(processes) == 2
        await runner.close()
        assert all(process.returncode is not None for process in processes)
        with pytest.raises(ServiceUnavailable):
            await runner.render_parts({"body_text": "c"}, sample_context())

    async def test_children_exit_when_their_parent_dies_without_closing(self) -> None:
        script = textwrap.dedent(
            """
            import asyncio, os
            from core.template_runner import TemplateRunner
            from core.templating import sample_context

            async def main():
                runner = TemplateRunner()
                await runner.render_parts({"body_text": "x"}, sample_context())
                (worker,) = runner._workers
                print(worker.process.pid, flush=True)
                os._exit(0)

            asyncio.run(main())
            """
        )
        parent = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        async with asyncio.timeout(60):
            output, _ = await parent.communicate()
        async with asyncio.timeout(30):
            await _exit_of(int(output))


async def _exit_of(pid: int) -> None:
    """Return once process ``pid`` has ended (a pidfd turns readable when it does)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    loop.add_reader(pidfd, ended.set)
    try:
        await ended.wait()
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
