"""``campaign-manager discover`` and ``demo`` as a user runs them: real processes, each with its
own data folder, embedded PostgreSQL and Redis and its own Ray, against the fixture SoundCloud
(the demo runs its own, and fills its workspace through the API the first time).

The fixture site runs on the test's event loop while the CLI runs, so the CLI is driven with
asyncio subprocesses. Each CLI runs in a folder inside ``tmp_path`` and keeps its data there:
every process it starts (PostgreSQL, Redis, Ray's) works in that folder, which is how
``processes_in`` finds anything left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from scraping.fixture import FixtureGraph, FixtureSite
from serve.demo import CAMPAIGNS, TRANSACTIONS, fill_demo_workspace
from storage.database import create_engine, create_sessionmaker
from storage.embedded import EmbeddedPostgres
from storage.repositories.discovery_jobs import DiscoveryJobRepository

CLI = [sys.executable, "-m", "serve"]
RAY = Path(sys.executable).with_name("ray")
PASSWORD = "correct horse battery"
PROGRESS = re.compile(
    r"^\[\d\d:\d\d:\d\d\] (?P<body>(?P<status>\w+): kept (?P<kept>\d+) \(new (?P<new>\d+)\).*)$"
)
RUN_TIMEOUT_SECONDS = 180.0
LINE_TIMEOUT_SECONDS = 120.0
# The demo's fill: its first line, and how its last line starts (done, failed or stopped).
FILLING = "demo: filling the demo workspace through the API"
FILL_ENDINGS = (
    "demo: the workspace is ready",
    "demo: could not fill the workspace",
    "demo: stopped filling the workspace",
)
# Far above the fill's own bounds (a discovery, two outreaches): only a hung fill meets it.
FILL_TIMEOUT_SECONDS = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env(**extra: str) -> dict[str, str]:
    """The caller's environment without its CM_* settings or a Ray cluster to join; Python's
    output left buffered as in a pipe, so progress must be flushed by the CLI itself."""
    dropped = {"RAY_ADDRESS", "PYTHONUNBUFFERED"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CM_") and k not in dropped}
    return {**clean, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", **extra}


def site_env(site: FixtureSite, *, rate: float = 0) -> dict[str, str]:
    return {
        "CM_SOUNDCLOUD_WEB_URL": site.web_url,
        "CM_SOUNDCLOUD_API_URL": site.api_url,
        "CM_SOUNDCLOUD_LINK_IN_BIO_HOSTS": urlsplit(site.links_url).netloc,
        "CM_SOUNDCLOUD_REQUESTS_PER_SECOND": str(rate),
        "CM_LINK_IN_BIO_REQUESTS_PER_SECOND": str(rate),
    }


def processes_in(folder: Path) -> list[str]:
    """Processes working in ``folder`` or naming it on their command line."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        cwd = proc.info["cwd"] or ""
        if str(folder) in cmdline or cwd == str(folder) or cwd.startswith(f"{folder}/"):
            found.append(f"{proc.info['pid']} (in {cwd}): {cmdline}")
    return found


async def nothing_left_in(folder: Path) -> list[str]:
    """``processes_in(folder)`` once whatever is still on its way out has gone (or 15 s)."""
    for _ in range(30):
        left = processes_in(folder)
        if not left:
            return []
        await asyncio.sleep(0.5)
    return processes_in(folder)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {stderr!r}"
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def run(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI to completion, in ``folder`` with its data in ``folder/data``."""
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*CLI, "--data-dir", str(folder / "data"), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        cwd=folder,
        env=cli_env(**(env or {})),
        stdin=subprocess.DEVNULL,
    )


class Running:
    """A CLI process in its own session (as a terminal's foreground job), its output collected
    line by line as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = asyncio.Event()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.create_task(self._collect(process.stdout, self.stdout)),
            asyncio.create_task(self._collect(process.stderr, self.stderr)),
        ]

    @classmethod
    async def start(cls, folder: Path, *args: str, env: dict[str, str] | None = None) -> Running:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            *CLI,
            "--data-dir",
            str(folder / "data"),
            *args,
            cwd=folder,
            env=cli_env(**(env or {})),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        return cls(process)

    async def _collect(self, stream: asyncio.StreamReader, into: list[str]) -> None:
        async for raw in stream:
            into.append(raw.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    async def line(
        self, wanted: Callable[[str], bool], *, within: float = LINE_TIMEOUT_SECONDS
    ) -> str:
        """The first line of stdout for which ``wanted`` is true, waiting up to ``within`` s."""
        async with asyncio.timeout(within):
            while True:
                for line in self.stdout:
                    if wanted(line):
                        return line
                if self.process.returncode is not None and all(r.done() for r in self._readers):
                    raise AssertionError(f"exited {self.process.returncode}: {self.output}")
                self._changed.clear()
                await self._changed.wait()

    def ctrl_c(self) -> None:
        """SIGINT to the whole process group, as Ctrl-C in a terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)

    async def finish(self) -> int:
        """The exit code, once the process has ended and its output is read."""
        try:
            async with asyncio.timeout(RUN_TIMEOUT_SECONDS):
                code = await self.process.wait()
                await asyncio.gather(*self._readers)
        except TimeoutError:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise AssertionError(f"still running: {self.output}") from None
        return code

    @property
    def output(self) -> str:
        return "\n".join(["--- stdout", *self.stdout, "--- stderr", *self.stderr])

    def progress(self) -> list[re.Match[str]]:
        """The progress lines, in order (groups ``body``, ``status``, ``kept``, ``new``)."""
        return [match for line in self.stdout if (match := PROGRESS.match(line))]


async def create_workspace(folder: Path) -> str:
    """Create a user and their workspace with ``campaign-manager user create``; its slug."""
    created = await Running.start(
        folder,
        "user",
        "create",
        "--email",
        f"mia-{uuid.uuid4().hex[:8]}@label.example",
        "--name",
        "Mia",
        env={"CM_NEW_USER_PASSWORD": PASSWORD},
    )
    assert await created.finish() == 0, created.output
    match = re.search(r"owner of workspace '.*' \((?P<slug>[^)]+)\)$", created.stdout[-1])
    assert match, created.output
    return match["slug"]


async def job_status(data_dir: Path, job_id: uuid.UUID) -> str:
    """A job's status as the database has it (the embedded server started for the look)."""
    postgres = EmbeddedPostgres(data_dir / "postgres")
    engine = create_engine(postgres.start(), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace_id = await DiscoveryJobRepository.workspace_of(session, job_id)
            job = await DiscoveryJobRepository(session, workspace_id).get(job_id)
            return str(job.status)
    finally:
        await engine.dispose()
        postgres.stop()


def best_connected(graph: FixtureGraph) -> str:
    """The permalink of the artist who follows the most others (the walk has somewhere to go)."""
    return max(graph.users, key=lambda user: len(graph.followings(user.id))).permalink


@pytest.fixture(scope="module")
async def site() -> AsyncIterator[FixtureSite]:
    """A fixture SoundCloud of 500 artists with no injected failures: these tests are about the
    command, not the scraper's resilience (tests/integration/scraping has that)."""
    async with FixtureSite(FixtureGraph(artists=500, seed=5), error_rate=0.0) as site:
        yield site


class TestBadInput:
    @pytest.mark.parametrize(
        ("args", "problem"),
        [
            (
                ["--min-followers", "5"],
                "give at least one of terms, genres, tags, seed_artists or city to start from",
            ),
            (["--term", "techno", "--country", "Germany"], "country: "),
            (
                ["--seed", "http://169.254.169.254/x"],
                "'http://169.254.169.254/x' is not on soundcloud.com",
            ),
            (
                ["--term", "techno", "--min-followers", "10", "--max-followers", "5"],
                "min_followers must not be above max_followers",
            ),
            (["--term", "techno", "--detach"], "--detach needs a cluster to run on"),
        ],
        ids=["no-source", "country", "seed-host", "followers-range", "detach-no-cluster"],
    )
    def test_a_bad_query_is_one_line_and_nothing_starts(
        self, args: list[str], problem: str, tmp_path: Path
    ) -> None:
        result = run(tmp_path, "discover", "--workspace", "x", *args)
        assert result.returncode == 1, result.stdout + result.stderr
        line = one_error_line(result.stderr)
        assert problem in line
        assert "Value error" not in line
        assert not (tmp_path / "data" / "postgres").exists()
        assert processes_in(tmp_path) == []

    async def test_an_unknown_workspace_is_named_and_everything_stops(self, tmp_path: Path) -> None:
        result = await asyncio.to_thread(
            run, tmp_path, "discover", "--workspace", "nope", "--term", "techno"
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert one_error_line(result.stderr) == "error: no workspace with slug 'nope'"
        assert "Ray" not in result.stdout
        assert await nothing_left_in(tmp_path) == []

    def test_detach_with_the_embedded_servers_is_refused(self, tmp_path: Path) -> None:
        # They stop when the command exits, under the detached job.
        result = run(
            tmp_path,
            "discover",
            "--workspace",
            "x",
            "--term",
            "techno",
            "--detach",
            env={"CM_RAY_ADDRESS": "127.0.0.1:1"},
        )
        assert result.returncode == 1
        line = one_error_line(result.stderr)
        assert "CM_DATABASE_URL" in line and "CM_REDIS_URL" in line
        assert not (tmp_path / "data" / "postgres").exists()

    async def test_a_cluster_that_does_not_answer_is_named(self, tmp_path: Path) -> None:
        slug = await create_workspace(tmp_path)
        dashboard = f"http://127.0.0.1:{free_port()}"
        result = await asyncio.to_thread(
            run,
            tmp_path,
            "discover",
            "--workspace",
            slug,
            "--term",
            "techno",
            env={"CM_RAY_ADDRESS": "127.0.0.1:1", "CM_RAY_DASHBOARD_URL": dashboard},
        )
        assert result.returncode == 2, result.stdout + result.stderr
        line = one_error_line(result.stderr)
        assert line.startswith(
            f"error: CM_RAY_DASHBOARD_URL: cannot submit a Ray Job to {dashboard} ("
        )
        assert await nothing_left_in(tmp_path) == []


class TestLocalRay:
    async def test_a_job_runs_to_completion_showing_its_progress(
        self, site: FixtureSite, tmp_path: Path
    ) -> None:
        slug = await create_workspace(tmp_path)
        seed = f"{site.web_url}/{best_connected(site.graph)}"
        cli = await Running.start(
            tmp_path,
            "discover",
            "--workspace",
            slug,
            "--seed",
            seed,
            "--max-artists",
            "10",
            env=site_env(site),
        )
        assert await cli.finish() == 0, cli.output

        assert re.match(rf"discovery job \S+ created in workspace {slug}$", cli.stdout[0])
        assert "starting a local Ray ..." in cli.stdout
        progress = cli.progress()
        assert len(progress) >= 2, cli.output
        last = progress[-1]
        assert (last["status"], last["kept"], last["new"]) == ("completed", "10", "10"), cli.output
        assert cli.stdout[-1] == last[0]
        # A line when something changed, not one per poll.
        bodies = [match["body"] for match in progress]
        assert all(a != b for a, b in itertools.pairwise(bodies)), cli.output
        assert "Traceback" not in "\n".join(cli.stderr)
        assert not any("Serve" in line for line in cli.stderr), cli.output
        assert await nothing_left_in(tmp_path) == []

    async def test_ctrl_c_cancels_the_job_and_stops_everything(
        self, site: FixtureSite, tmp_path: Path
    ) -> None:
        slug = await create_workspace(tmp_path)
        cli = await Running.start(
            tmp_path,
            "discover",
            "--workspace",
            slug,
            "--seed",
            best_connected(site.graph),
            "--max-artists",
            "400",
            # Paced so the walk is still going when Ctrl-C comes.
            env=site_env(site, rate=2),
        )
        created = await cli.line(lambda line: line.startswith("discovery job "))
        job_id = uuid.UUID(created.split()[2])
        await cli.line(lambda line: "] running: " in line)
        cli.ctrl_c()

        # 130, as for any command Ctrl-C ends: the job did not complete.
        assert await cli.finish() == 130, cli.output
        assert f"discovery job {job_id} cancelled" in cli.stdout
        assert "Traceback" not in "\n".join(cli.stderr)
        assert await nothing_left_in(tmp_path) == []
        # Cancelled in the database too, so a later `serve` does not resume it.
        assert await job_status(tmp_path / "data", job_id) == "cancelled"


class RayHead:
    """``ray start --head --block`` with a dashboard, every port free, working in ``folder``;
    stopped by signalling that one process (never ``ray stop``, which stops every Ray on the
    machine, the test session's own included)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.gcs_port = free_port()
        self.dashboard_port = free_port()
        # Ray's unix sockets live under its temp folder: keep that path short.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="cm-ray-"))
        self.process: asyncio.subprocess.Process | None = None
        self.log = folder / "ray-start.log"
        self._log_file: IO[str] | None = None

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("w")
        self.process = await asyncio.create_subprocess_exec(
            str(RAY),
            "start",
            "--head",
            "--block",
            "--num-cpus=2",
            "--object-store-memory=100000000",
            "--include-dashboard=true",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={self.dashboard_port}",
            f"--port={self.gcs_port}",
            # Fixed by default (52365, 10001): another Ray on the machine may hold them.
            f"--dashboard-agent-listen-port={free_port()}",
            f"--ray-client-server-port={free_port()}",
            f"--temp-dir={self.temp_dir}",
            "--disable-usage-stats",
            cwd=self.folder,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Ready when the Jobs API runs a job (the dashboard answers before its agent does).
        async with httpx.AsyncClient(base_url=self.dashboard_url, timeout=5) as api:
            async with asyncio.timeout(90):
                while True:
                    if self.process.returncode is not None:
                        raise AssertionError(f"ray start exited: {self.log.read_text()}")
                    try:
                        submitted = await api.post("/api/jobs/", json={"entrypoint": "true"})
                        if submitted.status_code == 200:
                            return
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.5)

    async def ray_job(self, submission_id: str) -> dict[str, object]:
        """The Ray Job once it has ended (its driver may exit a moment after the job's row)."""
        async with httpx.AsyncClient(base_url=self.dashboard_url, timeout=5) as api:
            async with asyncio.timeout(60):
                while True:
                    job = (await api.get(f"/api/jobs/{submission_id}")).json()
                    if job["status"] in {"SUCCEEDED", "FAILED", "STOPPED"}:
                        logs = (await api.get(f"/api/jobs/{submission_id}/logs")).json()
                        return {**job, "logs": logs["logs"]}
                    await asyncio.sleep(0.5)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        # Anything of this cluster still up (it works in our folder) is ours to end.
        for _ in range(20):
            left = [p for p in psutil.process_iter(["cwd"]) if p.info["cwd"] == str(self.folder)]
            if not left:
                break
            await asyncio.sleep(0.5)
        for proc in left:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        if self._log_file is not None:
            self._log_file.close()


class TestRayJob:
    async def test_a_job_submitted_to_a_cluster_completes(
        self, site: FixtureSite, tmp_path: Path
    ) -> None:
        head = RayHead(tmp_path / "cluster")
        try:
            await head.start()
            slug = await create_workspace(tmp_path / "cli")
            cli = await Running.start(
                tmp_path / "cli",
                "discover",
                "--workspace",
                slug,
                "--seed",
                best_connected(site.graph),
                "--max-artists",
                "10",
                env={
                    **site_env(site),
                    "CM_RAY_ADDRESS": f"127.0.0.1:{head.gcs_port}",
                    "CM_RAY_DASHBOARD_URL": head.dashboard_url,
                },
            )
            assert await cli.finish() == 0, cli.output
            job_id = cli.stdout[0].split()[2]
            submission = f"discovery-{job_id}"
            assert f"submitted as Ray Job {submission} to {head.dashboard_url}" in cli.stdout
            assert "starting a local Ray ..." not in cli.stdout
            last = cli.progress()[-1]
            assert (last["status"], last["kept"]) == ("completed", "10"), cli.output

            ray_job = await head.ray_job(submission)
            assert ray_job["status"] == "SUCCEEDED", (ray_job.get("message"), ray_job["logs"])
            assert re.fullmatch(
                rf"{re.escape(sys.executable)} -m actors\.discovery {job_id} [0-9a-f-]{{36}}",
                str(ray_job["entrypoint"]),
            ), ray_job
            assert f"discovery job {job_id}: completed" in str(ray_job["logs"])
            env = ray_job["runtime_env"]["env_vars"]  # type: ignore[index]
            # The embedded servers' sockets, resolved by the CLI: only a cluster on this machine
            # reaches them.
            assert str(tmp_path / "cli" / "data" / "postgres") in env["CM_DATABASE_URL"]
            assert env["CM_REDIS_URL"].startswith("unix://")
            assert env["CM_SOUNDCLOUD_WEB_URL"] == site.web_url

            # A driver that dies before its walk starts (here: the cluster's folder has a .env
            # with a bad setting; drivers start there) ends the command with the reason, instead
            # of a watch on a queued job that never ends.
            (head.folder / ".env").write_text("CM_LOG_LEVEL=loud\n")
            broken = await Running.start(
                tmp_path / "cli",
                "discover",
                "--workspace",
                slug,
                "--term",
                "techno",
                env={
                    **site_env(site),
                    "CM_RAY_ADDRESS": f"127.0.0.1:{head.gcs_port}",
                    "CM_RAY_DASHBOARD_URL": head.dashboard_url,
                },
            )
            assert await broken.finish() == 1, broken.output
            assert broken.progress()[-1]["status"] == "failed", broken.output
            reason = broken.stdout[-1]
            assert reason.startswith("error: the Ray Job discovery-"), broken.output
            assert "ended FAILED" in reason and "CM_LOG_LEVEL" in reason, broken.output
        finally:
            await head.stop()
        assert await nothing_left_in(tmp_path) == []


@dataclass
class DemoApi:
    """The running demo's API, signed in as its demo user."""

    client: httpx.AsyncClient

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(f"/api/v1{path}", params=params)
        assert response.status_code == 200, f"GET {path}: {response.text}"
        return response.json()

    async def all(self, path: str, **params: Any) -> list[Any]:
        """Every item of a list (a demo workspace fits in one page of 200)."""
        page = await self.get(path, limit=200, **params)
        assert page.get("next_cursor") is None, f"{path} has more than one page"
        return list(page["items"])

    async def counts(self) -> list[int]:
        """How many rows of each kind the fill makes."""
        paths = (
            "/discovery-jobs",
            "/campaigns",
            "/outreach-campaigns",
            "/email-templates",
            "/email-records",
            "/transactions",
            "/outbox",
        )
        return [len(await self.all(path)) for path in paths]


def line_starting(lines: list[str], prefix: str) -> str:
    found = [line for line in lines if line.startswith(prefix)]
    assert len(found) == 1, f"expected one line starting with {prefix!r}: {lines}"
    return found[0]


async def check_discovery(api: DemoApi, fill_lines: list[str]) -> None:
    """One discovery job, finished, and every artist it kept is in a campaign."""
    [job] = await api.all("/discovery-jobs")
    assert job["status"] == "completed", job
    kept = await api.all(f"/discovery-jobs/{job['id']}/artists")
    assert len(kept) == job["progress"]["kept"] >= 20, job
    kept_line = line_starting(fill_lines, "demo: discovery kept")
    assert kept_line.startswith(f"demo: discovery kept {len(kept)} artists, "), kept_line
    placed: set[str] = set()
    for campaign in await api.all("/campaigns"):
        placed |= {
            row["artist_id"] for row in await api.all(f"/campaigns/{campaign['id']}/artists")
        }
    assert placed == {row["artist"]["id"] for row in kept}


async def check_campaigns(api: DemoApi) -> None:
    """Finished, active and scheduled, budgets in euro, the finished one over its budget and
    the active one close to its own."""
    campaigns = {c["name"]: c for c in await api.all("/campaigns")}
    assert set(campaigns) == {plan.name for plan in CAMPAIGNS}
    by_key = {plan.key: campaigns[plan.name] for plan in CAMPAIGNS}
    assert by_key["finished"]["status"] == "completed"
    assert by_key["active"]["status"] == "active"
    assert by_key["scheduled"]["status"] == "scheduled"
    for campaign in campaigns.values():
        assert campaign["currency"] == "EUR"
        assert campaign["budget_minor"] > 0
        assert campaign["start_date"] < campaign["end_date"]
    assert by_key["finished"]["over_budget"] is True
    assert by_key["active"]["over_budget"] is False
    active = by_key["active"]
    assert 0.8 * active["budget_minor"] <= active["spent_minor"] <= active["budget_minor"]


async def check_outreach(api: DemoApi) -> None:
    """The finished campaign's outreach completed into the outbox; the active one's first
    messages went and its follow-ups wait (none for who answered); recipients opened, clicked
    and replied through the real links, and analytics counted it."""
    outreaches = {o["name"]: o for o in await api.all("/outreach-campaigns")}
    assert len(outreaches) == 2, outreaches
    finished = outreaches["Midnight Circuit — first pitch"]
    assert finished["status"] == "completed"
    progress = await api.get(f"/outreach-campaigns/{finished['id']}/progress")
    delivered = sum(progress["counts"].get(s, 0) for s in ("sent", "opened", "clicked", "replied"))
    assert delivered == progress["total"] > 0, progress
    outbox = await api.all("/outbox")
    finished_records = await api.all("/email-records", outreach_campaign_id=finished["id"])
    assert {r["to_email"] for r in finished_records} <= {
        e["to"].split("<")[-1].rstrip(">") for e in outbox
    }

    active = outreaches["Warehouse Sessions — premiere invites"]
    assert active["status"] == "sending"
    [step] = await api.get(f"/outreach-campaigns/{active['id']}/steps")
    assert step["delay_days"] >= 1
    active_records = await api.all("/email-records", outreach_campaign_id=active["id"])
    first = [r for r in active_records if r["step"] == 0]
    follow_ups = [r for r in active_records if r["step"] == 1]
    assert first and all(r["sent_at"] is not None for r in first)
    assert follow_ups
    replied = {r["to_email"] for r in first if r["status"] == "replied"}
    for record in follow_ups:
        expected = "skipped" if record["to_email"] in replied else "queued"
        assert record["status"] == expected, record

    records = await api.all("/email-records")
    opened = [r for r in records if r["opened_at"] is not None]
    assert opened, "no message was opened through its pixel"
    assert any(r["clicked_at"] is not None for r in records)
    assert any(r["status"] == "replied" for r in records)
    summary = await api.get("/analytics/summary")
    assert summary["counts"].get("email.opened") == len(opened)
    assert summary["counts"].get("email.replied", 0) >= 1
    overview = await api.get("/analytics/overview")
    assert overview["email_records_by_status"].get("replied", 0) >= 1


async def check_money(api: DemoApi) -> None:
    """Fees, ad spend and income over weeks, on the dashboard's overview too."""
    transactions = await api.all("/transactions")
    assert len(transactions) == len(TRANSACTIONS)
    assert {t["type"] for t in transactions} == {"income", "expense"}
    assert {"artist fees", "ads"} <= {t["category"] for t in transactions}
    assert len({t["occurred_on"] for t in transactions}) > 10
    overview = await api.get("/analytics/overview")
    [euro] = overview["transactions_by_currency"]
    assert euro["currency"] == "EUR" and euro["count"] == len(TRANSACTIONS)


class TestDemo:
    async def test_the_demo_signs_in_fills_its_workspace_once_and_stops_on_ctrl_c(
        self, tmp_path: Path
    ) -> None:
        port = free_port()
        # 300 artists (the default is 10 000) hold the fill's 60 techno and house artists.
        demo = await Running.start(tmp_path, "demo", "--artists", "300", "--port", str(port))
        try:
            running = await demo.line(lambda line: "Campaign Manager is running at" in line)
            signed = await demo.line(lambda line: line.startswith("sign in as "))
            hint = await demo.line(lambda line: line.startswith("start a discovery job"))
            filling = await demo.line(lambda line: line.startswith(FILLING))
            last = await demo.line(
                lambda line: line.startswith(FILL_ENDINGS), within=FILL_TIMEOUT_SECONDS
            )
            assert last.startswith("demo: the workspace is ready at "), demo.output
            base_url = running.split(" running at ")[1].split()[0]
            assert base_url == f"http://127.0.0.1:{port}"
            assert last.startswith(f"demo: the workspace is ready at {base_url} ("), last
            email, password = signed.removeprefix("sign in as ").split(" / ")
            assert f"POST {base_url}/api/v1/discovery-jobs " in hint, hint
            example = json.loads(hint[hint.index("{") :])
            assert example["genres"] and example["max_artists"] > 0, hint

            fill_lines = demo.stdout[demo.stdout.index(filling) : demo.stdout.index(last) + 1]
            for prefix in (
                "demo: discovering ",
                "demo: discovery kept",
                "demo: 3 campaigns (finished, active, scheduled) with",
                "demo: email templates",
                "demo: outreach 'Midnight Circuit — first pitch' delivered",
                "demo: outreach 'Warehouse Sessions — premiere invites' delivered",
                "demo: recipients opened",
                f"demo: {len(TRANSACTIONS)} transactions",
            ):
                line_starting(fill_lines, prefix)

            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                login = await client.post(
                    "/api/v1/auth/login", json={"email": email, "password": password}
                )
                assert login.status_code == 200, login.text
                client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
                api = DemoApi(client)
                await check_discovery(api, fill_lines)
                await check_campaigns(api)
                await check_outreach(api)
                await check_money(api)

                # As on a second start: the filled workspace is left as it is.
                before = await api.counts()
                again: list[str] = []
                async with asyncio.timeout(FILL_TIMEOUT_SECONDS):
                    await asyncio.to_thread(
                        fill_demo_workspace, base_url, email, password, again.append
                    )
                assert again == ["demo: the workspace already has campaigns; left as it is"]
                assert await api.counts() == before
        finally:
            demo.ctrl_c()
            code = await demo.finish()
        assert code == 0, demo.output
        assert demo.stdout[-1] == "stopped", demo.output
        assert "Traceback" not in "\n".join(demo.stderr), demo.output
        assert await nothing_left_in(tmp_path) == []
