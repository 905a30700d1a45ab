"""Outreach through the whole pipeline against a bare SMTP loop, on this machine.

One run, side by side, to one local SMTP sink (aiosmtpd on 127.0.0.1, in a child process of its
own so that neither contender shares its event loop or its process):

  pipeline   --messages personalised messages (default 5,000) sent by Campaign Manager the way
             a user sends them, every limit lifted: register, an email template (subject, HTML
             and text, each naming the recipient's address), a mailbox on the sink (no TLS,
             60,000 a minute, no gap, no ramp-up, open all day every day), an outreach
             campaign, its recipients queued over the API (1,000 a call), then POST .../launch
             and GET .../progress until the outreach says ``completed``. Behind the API: the
             outreach campaign's actor claims batches of records in PostgreSQL, hands them to
             the sender actors, which render each message in their Jinja2 template children,
             build it (tracking links, List-Unsubscribe), take a grant from the mailbox's limiter
             in Redis and send it over their pooled aiosmtplib connections; the outreach actor
             settles each batch in PostgreSQL. Timed from the launch call until progress says
             completed.
  bare loop  The same number of messages over the same number of connections (sender actors x
             SMTP connections per sender) from one aiosmtplib client per connection in this
             process: per recipient, an ``email.message.EmailMessage`` with the recipient's
             address in the subject and in both bodies (text and HTML alternative), a
             Message-ID, a List-Unsubscribe header; then MAIL, RCPT, DATA as the senders do. No
             database, no Redis, no templates, no Ray. Run before the pipeline and again after
             it (the service idle both times); the baseline is their mean.

It prints messages/s for both, their ratio, and the service's memory: the peak RSS of the Ray
workers that hold the actors (the outreach actor, the sender actors and their template children)
and of the API (the Serve replica and proxy), sampled with psutil during the pipeline, and of the
whole service (Ray's own processes, PostgreSQL, Redis) for context. To show where the time goes,
it also prints the CPU each process used during the pipeline (all of it, and its steady part),
CPU per message on each side, and, from the sink's side, when messages arrived (start-up, the
steady part, pauses with nothing arriving); then, once the service has stopped, two diagnostic
rows without Ray (--no-diagnostics leaves them out): the senders' own code alone
(``actors.senders.Sender``, SMTP to the same sink, no database) and the outreach actor's own loop
alone (``actors.outreach.OutreachRun`` on PostgreSQL, with senders that answer at once).

Its last line is its aim (``loadtests.aims``): ``outreach-vs-bare-smtp``, the pipeline's
messages/s over the bare loop's, at least 0.5; reported, not enforced.

Ray and the API start as ``campaign-manager serve`` starts them (``serve.runner.start_ray`` and
``deploy``, through ``loadtests.bench_api --child serve``; no scheduler actor, which has nothing
to do here), on the embedded PostgreSQL and Redis started here in a temporary data folder.
Before the measured outreach a small warm-up outreach (--warmup) goes through the same path, so
the sender actors already run, as in a service that has sent before; the measured outreach's own
actor starts inside the timing, as it always does.

Every wait is bounded (a stalled outreach ends the run with the last progress it saw); every
process started is stopped at the end, also on failure, and checked. Exit status 1 when a step
fails, the sink does not receive each message exactly once, or a process is left behind.

Internal: ``python -m loadtests.bench_outreach --child-sink`` runs the sink.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import httpx
import psutil

from loadtests import aims
from loadtests.bench_api import READY, START_TIMEOUT_S, ChildServer, free_port
from loadtests.harness import (
    bench_settings,
    child_env,
    database_session,
    end_run,
    fill,
    idle_gaps,
    machine,
    run_async,
    run_step,
    work_folder,
)
from loadtests.processes import (
    HelperProcess,
    ProcessWatch,
    obey,
    redis_processes,
    stack_processes,
)

HOST = "127.0.0.1"
API = "/api/v1"
PASSWORD = "bench-password-123"
SENDER_EMAIL = "promo@label.example"
SENDER_NAME = "Mia at Label"
RECIPIENT_DOMAIN = "music.example"
TRACK_URL = "https://music.example/new-release"
SINK_READY = "SINK-READY"
SINK_START_TIMEOUT_S = 30.0
SINK_ANSWER_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 60.0  # a launch waits for the outreach actor to start and answer (20 s)
POLL_S = 0.2
# An outreach whose counts do not move for this long has stalled: the run ends with an error.
STALL_S = 60.0
SAMPLE_S = 0.25
# A pause this long between two messages at the sink means nothing was being sent (the bare
# loop delivers one every fraction of a millisecond).
IDLE_GAP_S = 0.03
AIM = "outreach-vs-bare-smtp"
AIM_AT_LEAST = 0.5
# The outreach's daily limit cannot go higher (serve/schemas/outreach.py).
MAX_MESSAGES = 10_000
# The mailbox's sending limits, every one lifted (the schema's highest per-minute and daily
# figures, no ramp-up, no gap).
LIFTED_LIMITS = {
    "per_minute": 60_000,
    "daily_cap": 1_000_000,
    "ramp_start": 1_000_000,
    "gap_min_seconds": 0,
    "gap_max_seconds": 0,
}
# The sending settings under test: (option, setting, what its help says after ``CM_<SETTING>``).
SENDING_OPTIONS = (
    ("--sender-actors", "sender_actors", ""),
    ("--smtp-connections", "smtp_connections", ", per sender"),
    ("--batch-size", "send_batch_size", ""),
    ("--batches-in-flight", "send_batches_in_flight", ""),
)

SUBJECT = "New music for {{ contact.email }}"
BODY_HTML = (
    "<p>Hi {{ contact.email }},</p>\n"
    "<p>Our new release is out today, and we thought of you first: "
    f'<a href="{TRACK_URL}">listen here</a>.</p>\n'
    "<p>Would you play it, or share it with your followers? Reply to this message and we "
    "will send you the stems and the artwork.</p>\n"
    "<p>{{ sender.name }}</p>"
)
BODY_TEXT = (
    "Hi {{ contact.email }},\n\n"
    f"Our new release is out today, and we thought of you first: listen at {TRACK_URL}\n\n"
    "Would you play it, or share it with your followers? Reply to this message and we will "
    "send you the stems and the artwork.\n\n"
    "{{ sender.name }}\n"
)


def recipients(count: int, tag: str) -> list[str]:
    return [f"artist{i:05d}.{tag}@{RECIPIENT_DOMAIN}" for i in range(count)]


# --------------------------------------------------------------------------------------------
# The SMTP sink, in a child process


def child_sink() -> None:
    """An aiosmtpd server on a free loopback port that accepts every message and keeps, per
    message, when it arrived, on which connection, its size, and whether its Subject names its
    recipient. Prints ``SINK-READY {port}``, then answers one JSON line per command line on
    stdin (``reset``, ``stats``, ``stop``)."""
    from aiosmtpd.smtp import SMTP, Envelope, Session

    arrivals: list[float] = []
    connections: dict[str, int] = {}
    seen: dict[str, int] = {}
    sizes = [0]
    personalised = [0]

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            now = time.monotonic()
            data = envelope.content if isinstance(envelope.content, bytes) else b""
            subject = b""
            start = data.find(b"\nSubject:")
            if start >= 0:
                end = data.find(b"\n", start + 1)
                subject = data[start:end].lower()
            peer = str(session.peer)
            for rcpt in envelope.rcpt_tos:
                arrivals.append(now)
                connections[peer] = connections.get(peer, 0) + 1
                seen[rcpt] = seen.get(rcpt, 0) + 1
                sizes[0] += len(data)
                if rcpt.lower().encode() in subject:
                    personalised[0] += 1
            return "250 Message accepted"

    def reset() -> bool:
        arrivals.clear()
        connections.clear()
        seen.clear()
        sizes[0] = personalised[0] = 0
        return True

    def stats() -> dict[str, Any]:
        return {
            "arrivals": arrivals,
            "connections": sorted(connections.values()),
            "recipients": len(seen),
            "duplicates": sum(n - 1 for n in seen.values()),
            "bytes": sizes[0],
            "personalised": personalised[0],
        }

    async def serve() -> None:
        handler = Handler()
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(handler, hostname="sink.test", ident="Bench ESMTP", decode_data=False),
            host=HOST,
            port=0,
        )
        print(f"{SINK_READY} {server.sockets[0].getsockname()[1]}", flush=True)
        try:
            await obey({"reset": reset, "stats": stats})
        finally:
            server.close()

    run_async(serve())


@dataclass
class SinkStats:
    arrivals: list[float]
    connections: list[int]  # messages per connection
    recipients: int
    duplicates: int
    bytes: int
    personalised: int

    @property
    def messages(self) -> int:
        return len(self.arrivals)


class SinkProcess(HelperProcess):
    """The sink in a child process of its own, driven by lines on its stdin/stdout."""

    def __init__(self, work: Path) -> None:
        super().__init__(
            "SMTP sink",
            [sys.executable, "-m", "loadtests.bench_outreach", "--child-sink"],
            work / "sink.log",
            answer_timeout_s=SINK_ANSWER_TIMEOUT_S,
        )
        self.port = 0  # once ready

    def stats(self) -> SinkStats:
        return SinkStats(**self.call("stats"))

    def cpu_seconds(self) -> float:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(self.process.pid).cpu_times()
            return float(times.user + times.system)
        return 0.0


# --------------------------------------------------------------------------------------------
# The bare loop


def filled(part: str, recipient: str) -> str:
    """A template part with its two fields filled in by plain string replacement (no
    template engine): what the pipeline renders for ``recipient``."""
    return part.replace("{{ contact.email }}", recipient).replace("{{ sender.name }}", SENDER_NAME)


def bare_message(recipient: str) -> bytes:
    """A personalised message comparable to the pipeline's: the template's subject and both
    bodies (text and HTML alternative) for the recipient, with an unsubscribe link as the
    senders add one, Message-ID, List-Unsubscribe."""
    token = uuid.uuid4().hex
    unsubscribe = f"http://{HOST}:8000/u/{token}"
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = f"{SENDER_NAME} <{SENDER_EMAIL}>"
    message["To"] = recipient
    message["Subject"] = filled(SUBJECT, recipient)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=token, domain="label.example")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = filled(BODY_TEXT, recipient) + f"\n--\nUnsubscribe: {unsubscribe}\n"
    html = filled(BODY_HTML, recipient) + f'<p><a href="{unsubscribe}">Unsubscribe</a></p>'
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


@dataclass
class BareRun:
    label: str
    seconds: float
    messages: int  # answered 250
    cpu_share: float  # this process's CPU over the run, as a share of one core
    sink_cpu_share: float
    sink: SinkStats

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


async def bare_send(port: int, addresses: list[str], connections: int, limit_s: float) -> int:
    """Send one message to each address over ``connections`` aiosmtplib clients at once;
    returns how many the server accepted."""
    import aiosmtplib

    pending: Iterator[str] = iter(addresses)
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        client = aiosmtplib.SMTP(hostname=HOST, port=port, start_tls=False, timeout=30)
        await client.connect()
        await client.ehlo()
        try:
            for address in pending:
                raw = bare_message(address)
                await client.mail(SENDER_EMAIL)
                await client.rcpt(address)
                reply = await client.data(raw)
                if reply.code == 250:
                    accepted += 1
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(connections))), limit_s)
    return accepted


def bare_loop(label: str, sink: SinkProcess, count: int, connections: int) -> BareRun:
    addresses = recipients(count, label)
    sink.call("reset")
    sink_cpu, cpu = sink.cpu_seconds(), time.process_time()
    began = time.perf_counter()
    accepted = run_async(bare_send(sink.port, addresses, connections, limit_s=max(120, count)))
    seconds = time.perf_counter() - began
    share = (time.process_time() - cpu) / seconds
    sink_share = (sink.cpu_seconds() - sink_cpu) / seconds
    return BareRun(label, seconds, accepted, share, sink_share, sink.stats())


# --------------------------------------------------------------------------------------------
# What the service's processes use, sampled while the pipeline runs


# Roles, by what a process's command line (Ray sets it to the actor's class) says.
ROLES = (
    ("OutreachActor", "outreach actor"),
    ("SenderActor", "sender actors"),
    ("core.template_worker", "template children"),
    ("ServeReplica", "API (Serve replica)"),
    ("ProxyActor", "API (Serve proxy)"),
    ("ServeController", "Serve controller"),
    ("ray::IDLE", "Ray idle workers"),
)
# The service's own processes: the headline memory figure.
ACTORS_AND_API = (
    "outreach actor",
    "sender actors",
    "template children",
    "API (Serve replica)",
    "API (Serve proxy)",
)


def role_of(proc: psutil.Process, fixed: dict[int, str]) -> str:
    try:
        if proc.pid in fixed:
            return fixed[proc.pid]
        if proc.ppid() in fixed:
            return fixed[proc.ppid()]
        command = " ".join(proc.cmdline())
    except psutil.Error:
        return "Ray system"
    for needle, role in ROLES:
        if needle in command:
            return role
    return "Ray system"  # GCS, raylet, agents, the driver


@dataclass
class Usage:
    """Peak RSS and CPU per role over a sampled span."""

    peak_rss: dict[str, int] = field(default_factory=dict)  # role -> peak of the role's sum
    peak_group: dict[str, int] = field(default_factory=dict)  # group -> peak of its sum
    cpu: dict[str, float] = field(default_factory=dict)  # role -> CPU seconds in the span
    processes: dict[str, int] = field(default_factory=dict)  # role -> most seen at once
    nice: dict[str, int] = field(default_factory=dict)  # role -> highest niceness seen
    seconds: float = 0.0
    samples: int = 0
    # (time.monotonic(), role -> CPU seconds since the span began) at each sample
    series: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def cpu_between(self, start: float, end: float) -> tuple[float, dict[str, float]]:
        """CPU per role between the last sample at or before ``start`` and the first at or
        after ``end``; and the seconds between those samples."""
        before = [item for item in self.series if item[0] <= start] or self.series[:1]
        after = [item for item in self.series if item[0] >= end] or self.series[-1:]
        if not before or not after or after[0][0] <= before[-1][0]:
            return 0.0, {}
        (t0, cpu0), (t1, cpu1) = before[-1], after[0]
        return t1 - t0, {role: used - cpu0.get(role, 0.0) for role, used in cpu1.items()}


class Sampler:
    """A thread that samples RSS and CPU time of the service's processes every SAMPLE_S: the
    tree below ``root`` (the Ray driver and everything Ray started) and ``fixed`` pids
    (PostgreSQL, Redis) and their children, with their role."""

    def __init__(self, root: int, fixed: dict[int, str], watch: ProcessWatch) -> None:
        self.root = root
        self.fixed = fixed
        self.watch = watch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._first_cpu: dict[tuple[int, float], float] = {}
        self._last_cpu: dict[tuple[int, float], tuple[str, float]] = {}
        self._started = 0.0
        self.usage = Usage()
        self.error: str | None = None

    def processes(self) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.root)
            found = [root, *root.children(recursive=True)]
        # The service's own tree: its stop ends whatever of it is left (not PostgreSQL/Redis).
        self.watch.track(found)
        for pid in self.fixed:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                found += [proc, *proc.children(recursive=True)]  # PostgreSQL's backends
        return found

    def sample(self, *, first: bool = False) -> None:
        rss: dict[str, int] = {}
        count: dict[str, int] = {}
        procs = self.processes()
        for proc in procs:
            try:
                with proc.oneshot():
                    memory = proc.memory_info().rss
                    times = proc.cpu_times()
                    key = (proc.pid, proc.create_time())
                    nice = proc.nice()
            except psutil.Error:
                continue
            role = role_of(proc, self.fixed)
            self.usage.nice[role] = max(self.usage.nice.get(role, nice), nice)
            used = times.user + times.system
            rss[role] = rss.get(role, 0) + memory
            count[role] = count.get(role, 0) + 1
            with self._lock:
                if key not in self._first_cpu:
                    # A process born during the span used all its CPU in it.
                    self._first_cpu[key] = used if first else 0.0
                self._last_cpu[key] = (role, used)
        with self._lock:
            cumulative: dict[str, float] = {}
            for key, (role, used) in self._last_cpu.items():
                cumulative[role] = cumulative.get(role, 0.0) + used - self._first_cpu[key]
        self.usage.series.append((time.monotonic(), cumulative))
        usage = self.usage
        usage.samples += 1
        for role, value in rss.items():
            usage.peak_rss[role] = max(usage.peak_rss.get(role, 0), value)
            usage.processes[role] = max(usage.processes.get(role, 0), count[role])
        groups = {
            "actors + API": sum(v for r, v in rss.items() if r in ACTORS_AND_API),
            "whole service": sum(rss.values()),
        }
        for group, value in groups.items():
            usage.peak_group[group] = max(usage.peak_group.get(group, 0), value)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(SAMPLE_S):
                self.sample()
        except Exception as exc:  # reported, never fatal to the run
            self.error = f"{type(exc).__name__}: {exc}"

    def start(self) -> None:
        self._started = time.monotonic()
        self.sample(first=True)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> Usage:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.sample()
        cpu: dict[str, float] = {}
        with self._lock:
            for key, (role, used) in self._last_cpu.items():
                cpu[role] = cpu.get(role, 0.0) + used - self._first_cpu.get(key, 0.0)
        self.usage.cpu = cpu
        self.usage.seconds = time.monotonic() - self._started
        return self.usage


# --------------------------------------------------------------------------------------------
# The pipeline, through the HTTP API


@dataclass
class PipelineRun:
    label: str
    messages: int
    launched_at: float  # time.monotonic(), the sink's clock too
    launch_s: float  # the launch call's own answer time
    seconds: float  # launch call to progress saying completed
    final: dict[str, Any]  # the last progress
    sink: SinkStats
    sink_cpu_share: float
    bench_cpu_share: float
    polls: int
    usage: Usage | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    @property
    def sent(self) -> int:
        return int(self.final.get("counts", {}).get("sent", 0))


class Api:
    """The bench's account on the service, and the calls that set an outreach up."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url + API, timeout=REQUEST_TIMEOUT_S)
        self.headers: dict[str, str] = {}
        self.user_id = self.workspace_id = uuid.UUID(int=0)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, expected: int, body: Any = None) -> Any:
        response = await self.client.request(method, path, json=body, headers=self.headers)
        if response.status_code != expected:
            raise RuntimeError(
                f"{method} {API}{path}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    async def register(self) -> None:
        body = {
            "email": f"bench-{uuid.uuid4().hex[:8]}@bench.example",
            "password": PASSWORD,
            "display_name": "Bench",
        }
        answer = await self.call("POST", "/auth/register", 201, body)
        self.headers = {"Authorization": f"Bearer {answer['tokens']['access_token']}"}
        self.user_id = uuid.UUID(answer["user"]["id"])
        self.workspace_id = uuid.UUID(answer["workspace"]["id"])

    async def mailbox(self, port: int) -> str:
        body = {
            "name": f"Sink {uuid.uuid4().hex[:6]}",
            "host": HOST,
            "port": port,
            "tls_mode": "none",
            "from_name": SENDER_NAME,
            "from_email": SENDER_EMAIL,
            **LIFTED_LIMITS,
            "window_start_hour": 0,
            "window_end_hour": 24,
            "window_weekdays": [1, 2, 3, 4, 5, 6, 7],
        }
        return str((await self.call("POST", "/mailboxes", 201, body))["id"])

    async def outreach(self, mailbox_id: str, addresses: list[str]) -> str:
        template = await self.call(
            "POST",
            "/email-templates",
            201,
            {
                "name": f"Release {uuid.uuid4().hex[:6]}",
                "subject": SUBJECT,
                "body_html": BODY_HTML,
                "body_text": BODY_TEXT,
            },
        )
        created = await self.call(
            "POST",
            "/outreach-campaigns",
            201,
            {
                "name": f"Release {uuid.uuid4().hex[:6]}",
                "template_id": template["id"],
                "sender_email": SENDER_EMAIL,
                "sender_name": SENDER_NAME,
                "mailbox_id": mailbox_id,
                "daily_limit": MAX_MESSAGES,
            },
        )
        outreach_id = str(created["id"])
        for start in range(0, len(addresses), 1000):
            chunk = addresses[start : start + 1000]
            queued = await self.call(
                "POST",
                f"/outreach-campaigns/{outreach_id}/recipients",
                200,
                {"recipients": [{"to_email": address} for address in chunk]},
            )
            if queued["queued"] != len(chunk):
                raise RuntimeError(f"queued {queued} of {len(chunk)} recipients")
        return outreach_id

    async def progress(self, outreach_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", f"/outreach-campaigns/{outreach_id}/progress", 200
        )
        return found

    async def launch_and_wait(
        self, outreach_id: str, count: int, limit_s: float
    ) -> tuple[float, float, float, dict[str, Any], int]:
        """Launch, then poll progress until completed (or every message sent). Returns the
        launch time (monotonic), the launch call's answer time, the seconds to completion, the
        last progress and the number of polls. Raises when the outreach stops short, stalls for
        STALL_S or is not done in ``limit_s``."""
        launched_at = time.monotonic()
        answer = await self.call("POST", f"/outreach-campaigns/{outreach_id}/launch", 200)
        launch_s = time.monotonic() - launched_at
        if answer["status"] not in {"sending", "completed"}:
            raise RuntimeError(f"launch answered status {answer['status']!r}")
        deadline = launched_at + limit_s
        last_change, last_counts, polls = time.monotonic(), None, 0
        while True:
            found = await self.progress(outreach_id)
            polls += 1
            now = time.monotonic()
            counts = found.get("counts", {})
            if found["status"] == "completed" or counts.get("sent", 0) >= count:
                return launched_at, launch_s, now - launched_at, found, polls
            if found["status"] not in {"sending", "scheduled"}:
                raise RuntimeError(f"the outreach stopped short: {found}")
            if counts != last_counts:
                last_counts, last_change = counts, now
            elif now - last_change > STALL_S:
                raise RuntimeError(f"the outreach stalled for {STALL_S:.0f} s at {found}")
            if now > deadline:
                raise RuntimeError(f"the outreach was not done after {limit_s:.0f} s: {found}")
            await asyncio.sleep(POLL_S)


async def _prepare(base_url: str, sink_port: int, lists: list[list[str]]) -> tuple[Api, list[str]]:
    api = Api(base_url)
    try:
        await api.register()
        mailbox_id = await api.mailbox(sink_port)
        return api, [await api.outreach(mailbox_id, addresses) for addresses in lists]
    except BaseException:
        await api.close()
        raise


def run_pipeline(
    label: str,
    api: Api,
    outreach_id: str,
    count: int,
    sink: SinkProcess,
    sampler: Sampler | None,
    timeout: float,
) -> PipelineRun:
    sink.call("reset")
    sink_cpu, cpu, began = sink.cpu_seconds(), time.process_time(), time.perf_counter()
    if sampler is not None:
        sampler.start()
    try:
        launched_at, launch_s, seconds, final, polls = run_async(
            api.launch_and_wait(outreach_id, count, timeout)
        )
    finally:
        usage = sampler.stop() if sampler is not None else None
    wall = time.perf_counter() - began
    return PipelineRun(
        label=label,
        messages=count,
        launched_at=launched_at,
        launch_s=launch_s,
        seconds=seconds,
        final=final,
        sink=sink.stats(),
        sink_cpu_share=(sink.cpu_seconds() - sink_cpu) / wall,
        bench_cpu_share=(time.process_time() - cpu) / wall,
        polls=polls,
        usage=usage,
    )


# --------------------------------------------------------------------------------------------
# Diagnostics: each half of the pipeline alone, in this process, without Ray


@dataclass
class Diagnostic:
    label: str
    seconds: float
    messages: int
    cpu_seconds: float  # this process, its children and the servers it used
    sink: SinkStats | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def cpu_seconds_of(roots: Iterable[psutil.Process], skip: Iterable[int] = ()) -> float:
    """CPU seconds used so far by ``roots`` and every process below them, but ``skip``."""
    left_out, seen, total = set(skip), set(), 0.0
    for root in roots:
        with contextlib.suppress(psutil.Error):
            for proc in [root, *root.children(recursive=True)]:
                if proc.pid in left_out or proc.pid in seen:
                    continue
                seen.add(proc.pid)
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
    return total


def sending_values(args: argparse.Namespace) -> dict[str, int]:
    """Setting -> value of the sending settings under test (SENDING_OPTIONS)."""
    return {
        setting: getattr(args, option[2:].replace("-", "_"))
        for option, setting, _ in SENDING_OPTIONS
    }


def sending_settings(settings: Any, args: argparse.Namespace) -> Any:
    return settings.model_copy(update=sending_values(args))


def message_context(address: str) -> dict[str, Any]:
    """What the outreach actor hands a sender for a recipient with no artist."""
    from core.templating import message_context as context_of

    return context_of(None, address, None, SENDER_NAME, SENDER_EMAIL)


async def senders_alone(
    settings: Any,
    args: argparse.Namespace,
    sink: SinkProcess,
    addresses: list[str],
    servers: list[psutil.Process],
) -> Diagnostic:
    """The sender actors' own code (``actors.senders.Sender``: render in template children,
    build, limiter grant, SMTP over pooled connections), as many senders as the service runs,
    fed batches as the outreach actor feeds them (``--batches-in-flight`` at once, round
    robin), in this process: no Ray, no database. All of them share this process's one
    event loop (in the service each sender is a process of its own). Each sender sends one
    batch first, not timed, so that its template children and connections are up, as in the
    pipeline after its warm-up."""
    from actors.senders import MailboxSpec, MessageSpec, Sender, SendJob
    from core.delivery import Result
    from core.enums import SmtpTlsMode
    from core.mailbox_rules import SendingLimits
    from core.messages import MailAddress, message_id_for
    from storage.smtp import SmtpEndpoint

    mailbox = MailboxSpec(
        mailbox_id=uuid.uuid4(),
        endpoint=SmtpEndpoint(host=HOST, port=sink.port, tls_mode=SmtpTlsMode.NONE),
        limits=SendingLimits(**LIFTED_LIMITS),
        day_cap=LIFTED_LIMITS["daily_cap"],
    )
    parts = {"subject": SUBJECT, "body_html": BODY_HTML, "body_text": BODY_TEXT}
    workspace_id = uuid.uuid4()

    def job(batch: list[str]) -> SendJob:
        specs = []
        for address in batch:
            record_id = uuid.uuid4()
            specs.append(
                MessageSpec(
                    record_id=record_id,
                    claim=1,  # a record's first claim: its send-ledger entry
                    to_email=address,
                    to_name="",
                    message_id=message_id_for(record_id, SENDER_EMAIL),
                    parts=parts,
                    context=message_context(address),
                )
            )
        return SendJob(
            workspace_id=workspace_id,
            sender=MailAddress(SENDER_EMAIL, SENDER_NAME),
            messages=specs,
            mailbox=mailbox,
        )

    senders = [Sender(settings) for _ in range(args.sender_actors)]
    try:
        size = args.batch_size
        warm = recipients(size * len(senders), "senders-warm")
        await asyncio.gather(
            *(
                sender.deliver(job(warm[i * size : (i + 1) * size]))
                for i, sender in enumerate(senders)
            )
        )
        sink.call("reset")
        turn = itertools.cycle(senders)
        slots = asyncio.Semaphore(args.batches_in_flight)
        sent = 0

        async def one(batch: list[str]) -> None:
            nonlocal sent
            async with slots:
                deliveries = await next(turn).deliver(job(batch))
                sent += sum(1 for d in deliveries if d.result is Result.SENT)

        batches = [addresses[i : i + size] for i in range(0, len(addresses), size)]
        # This process and its template children (not the sink), and Redis (the limiter).
        used = [psutil.Process(), *servers]
        cpu = cpu_seconds_of(used, skip=[sink.process.pid])
        began = time.perf_counter()
        async with asyncio.timeout(args.timeout):
            await asyncio.gather(*(one(batch) for batch in batches))
        seconds = time.perf_counter() - began
        cpu = cpu_seconds_of(used, skip=[sink.process.pid]) - cpu
    finally:
        for sender in senders:
            with contextlib.suppress(Exception):
                await sender.close()
    return Diagnostic("senders alone (one process)", seconds, sent, cpu, sink.stats())


class _InstantDeliver:
    async def remote(self, job: Any) -> list[Any]:
        from core.delivery import Delivery, Result

        now = datetime.now(UTC)
        return [
            Delivery(spec.record_id, Result.SENT, code=250, message="OK", at=now)
            for spec in job.messages
        ]


class InstantSender:
    """Stands in for a sender actor: answers every message of a batch sent, at once."""

    def __init__(self) -> None:
        self.deliver = _InstantDeliver()


async def outreach_loop_alone(
    settings: Any,
    args: argparse.Namespace,
    ids: tuple[uuid.UUID, uuid.UUID, uuid.UUID],
    count: int,
    used: list[psutil.Process],
    skip: list[int],
) -> Diagnostic:
    """The outreach actor's own code (``actors.outreach.OutreachRun``: claim batches in
    PostgreSQL, build the senders' jobs, settle the answers, complete) on an outreach queued
    over the API like the measured one, with senders that answer every message sent at once,
    in this process: no Ray, no SMTP. Timed from the launch command to completed."""
    from actors.outreach import OutreachRun
    from core.enums import EmailStatus, OutreachStatus
    from core.outreach_rules import Command
    from storage.repositories.email_records import EmailRecordRepository

    outreach_id, workspace_id, user_id = ids
    senders = [InstantSender() for _ in range(args.sender_actors)]
    run = OutreachRun(settings, outreach_id, workspace_id, senders=senders)
    try:
        cpu = cpu_seconds_of(used, skip)
        began = time.perf_counter()
        problem = await run.command(Command.LAUNCH, user_id)
        if problem is not None:
            raise RuntimeError(f"launch: {problem}")
        async with asyncio.timeout(args.timeout):
            while run.status is not OutreachStatus.COMPLETED:
                if run.status not in {OutreachStatus.SENDING, OutreachStatus.SCHEDULED}:
                    raise RuntimeError(f"the outreach stopped short: {run.status}")
                await asyncio.sleep(0.01)
        seconds = time.perf_counter() - began
        cpu = cpu_seconds_of(used, skip) - cpu
    finally:
        await run.close()
    async with database_session(settings) as session:
        counts = await EmailRecordRepository(session, workspace_id).count_by_status(outreach_id)
    sent = counts.get(EmailStatus.SENT, 0)
    if sent != count:
        raise RuntimeError(f"{sent} of {count} records sent: {counts}")
    return Diagnostic("outreach loop alone", seconds, sent, cpu)


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    connections: int
    bare: list[BareRun] = field(default_factory=list)
    pipeline: PipelineRun | None = None
    warmup: PipelineRun | None = None
    idle_rss: dict[str, int] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # (outreach, workspace, user) queued over the API for the outreach loop alone
    loop_outreach: tuple[uuid.UUID, uuid.UUID, uuid.UUID] | None = None
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def bare_rate(self) -> float | None:
        rates = [run.rate for run in self.bare if run.messages == self.args.messages]
        return sum(rates) / len(rates) if rates else None

    def ratio(self) -> float | None:
        base = self.bare_rate()
        if self.pipeline is None or not base or self.pipeline.sent < self.args.messages:
            return None
        return self.pipeline.rate / base

    def check_sink(self, label: str, sink: SinkStats, count: int) -> None:
        problems = []
        if sink.messages != count:
            problems.append(f"received {sink.messages} messages, not {count}")
        if sink.duplicates:
            problems.append(f"{sink.duplicates} recipients got a message twice")
        if sink.personalised != sink.messages:
            problems.append(
                f"{sink.messages - sink.personalised} messages without the recipient's "
                "address in their subject"
            )
        if problems:
            self.failures.append(f"{label}: the sink {'; '.join(problems)}")


def service_env(args: argparse.Namespace, settings: Any, port: int) -> dict[str, str]:
    """The service's settings for the child (``CM_*``): the stack started here, the sending
    settings under test; whatever ``CM_*`` the shell has is left out."""
    sending = {f"CM_{name.upper()}": str(value) for name, value in sending_values(args).items()}
    return child_env(
        settings,
        {
            "CM_HOST": HOST,
            "CM_PORT": str(port),
            # The bench's calls are few, but nothing of the API's own limits should show.
            "CM_REQUESTS_PER_TOKEN": str(1_000_000_000),
            "CM_ACCESS_TOKEN_TTL_SECONDS": "86400",
            **sending,
        },
    )


def mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def report(bench: Bench, machine_line: str) -> None:
    args = bench.args
    print()
    print(
        f"Outreach: {args.messages:,} personalised messages to a local SMTP sink (aiosmtpd on "
        f"{HOST}, a process of its own)"
    )
    print(machine_line)
    print(
        f"Sending settings: {args.sender_actors} sender actors x {args.smtp_connections} SMTP "
        f"connections = {bench.connections} connections (the bare loop uses as many); batches "
        f"of {args.batch_size}, {args.batches_in_flight} in flight"
    )
    header = f"{'contender':<46} {'seconds':>8} {'msg/s':>9} {'KiB/msg':>8} {'vs bare':>8}"
    print(header)
    print("-" * len(header))
    base = bench.bare_rate()

    def row(label: str, seconds: float, count: int, sink: SinkStats | None, ratio: str) -> None:
        rate = count / seconds if seconds > 0 else 0.0
        size = f"{sink.bytes / sink.messages / 1024:8.1f}" if sink and sink.messages else ""
        print(f"{label:<46} {seconds:8.2f} {rate:9.1f} {size:>8} {ratio:>8}")

    run = bench.pipeline
    if run is not None:
        ratio = bench.ratio()
        row(
            "pipeline: launch call to completed",
            run.seconds,
            run.sent,
            run.sink,
            f"{ratio:.2f}x" if ratio is not None else "",
        )
        if run.sink.messages > 1:
            first, last = min(run.sink.arrivals), max(run.sink.arrivals)
            steady = (run.sink.messages - 1) / (last - first) if last > first else 0.0
            row(
                "  (diagnostic) first to last message at sink",
                last - first,
                run.sink.messages - 1,
                None,
                f"{steady / base:.2f}x" if base else "",
            )
    for diagnostic in bench.diagnostics:
        row(
            f"  (diagnostic) {diagnostic.label}",
            diagnostic.seconds,
            diagnostic.messages,
            diagnostic.sink,
            f"{diagnostic.rate / base:.2f}x" if base else "",
        )
    for bare in bench.bare:
        row(f"bare loop, {bare.label}", bare.seconds, bare.messages, bare.sink, "baseline")
    print()
    fill(
        "pipeline: the service sends an outreach campaign launched over its HTTP API (POST "
        "/outreach-campaigns/{id}/launch), timed until GET .../progress says completed (polled "
        f"every {POLL_S:g} s): the outreach actor claims batches in PostgreSQL, sender actors "
        "render each message in Jinja2 template children, build it (tracking links, "
        "List-Unsubscribe), take a grant from the mailbox's limiter in Redis and send it over "
        "pooled aiosmtplib connections; the outreach actor settles each batch in PostgreSQL. "
        "bare loop: this process builds an EmailMessage per recipient (address in the subject "
        "and both bodies, text + HTML, Message-ID, List-Unsubscribe) and sends it with "
        "MAIL/RCPT/DATA over the same number of aiosmtplib connections; nothing else. The "
        "baseline is the mean of its two runs (before and after the pipeline, the service idle "
        "both times). KiB/msg: average size as the sink received it."
    )
    if run is not None:
        print()
        sink = run.sink
        if sink.arrivals:
            first, last = min(sink.arrivals), max(sink.arrivals)
            gaps, gap_s = idle_gaps(sink.arrivals, IDLE_GAP_S)
            done = run.launched_at + run.seconds
            fill(
                f"Pipeline timeline: the launch call answered in {run.launch_s:.2f} s; the first "
                f"message reached the sink {first - run.launched_at:.2f} s after the launch call, "
                f"the last {last - run.launched_at:.2f} s after it; progress said completed "
                f"{done - last:.2f} s after the last message ({run.polls} polls). Between the "
                f"first and the last message the sink saw {gaps} pauses of {IDLE_GAP_S * 1000:.0f}"
                f" ms or more with nothing arriving, {gap_s:.2f} s in all "
                f"({gap_s / (last - first):.0%} of that span)."
                if last > first
                else f"Pipeline timeline: only one message reached the sink ({sink.messages})."
            )
            per_connection = ", ".join(str(n) for n in sink.connections)
            fill(
                f"The sink saw the pipeline's messages on {len(sink.connections)} connections "
                f"({per_connection} messages)."
            )
        if run.usage is not None:
            print_usage(bench, run)
    costs = []
    if run is not None and run.usage is not None and run.sent:
        costs.append(f"pipeline {sum(run.usage.cpu.values()) / run.sent * 1000:.2f}")
        if run.sink.messages > 1:
            arrivals = run.sink.arrivals
            _, steady_cpu = run.usage.cpu_between(min(arrivals), max(arrivals))
            if steady_cpu:
                per = sum(steady_cpu.values()) / (len(arrivals) - 1) * 1000
                costs.append(f"pipeline, steady part {per:.2f}")
    for bare in bench.bare:
        if bare.messages:
            costs.append(
                f"bare loop {bare.label} {bare.cpu_share * bare.seconds / bare.messages * 1000:.2f}"
            )
    for diagnostic in bench.diagnostics:
        if diagnostic.messages:
            costs.append(
                f"{diagnostic.label} {diagnostic.cpu_seconds / diagnostic.messages * 1000:.2f}"
            )
    if costs:
        print()
        fill(
            "CPU per message (ms; the sink left out): "
            + "; ".join(costs)
            + ". Pipeline: every service process (actors, template children, API, Ray's own, "
            "PostgreSQL, Redis) from the launch call to completed (the outreach actor's start-up "
            "included); its steady part: from the first to the last message at the sink, to "
            "the nearest samples. Bare loop: this process. "
            "Senders alone: this process, its template children and Redis. Outreach loop alone: "
            "this process, PostgreSQL and Redis."
        )
    if bench.diagnostics:
        fill(
            "Diagnostics, run after the service stopped, in this process, without Ray: senders "
            "alone is actors.senders.Sender (render in template children, build, limiter and "
            "send ledger in Redis, SMTP) for as many senders as the service runs, all sharing "
            "this one process and event loop, fed batches as the outreach actor feeds them; "
            "outreach loop alone is actors.outreach.OutreachRun (claim, settle and complete in "
            "PostgreSQL) on an outreach of as many recipients queued over the API, with "
            "senders that answer every message sent at once."
        )
    if bench.warmup is not None:
        fill(
            f"Warm-up (not measured): {bench.warmup.sent} messages through the same path first, "
            f"in {bench.warmup.seconds:.1f} s, so the sender actors were running when the "
            "measured outreach launched (its own outreach actor always starts at launch)."
        )
    for bare in bench.bare:
        fill(
            f"Bare loop {bare.label}: this process used {bare.cpu_share:.0%} of a core, the sink "
            f"{bare.sink_cpu_share:.0%}."
        )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    fill(
        f"Load average at the end: {load} (on {os.cpu_count()} CPUs). Other work on the machine "
        "slows both sides, not always equally: compare ratios from one run, and the two bare "
        "loops for drift."
    )
    for note in bench.notes:
        fill(f"Note: {note}")


def print_usage(bench: Bench, run: PipelineRun) -> None:
    usage = run.usage
    assert usage is not None
    print()
    actors_api = usage.peak_group.get("actors + API", 0)
    whole = usage.peak_group.get("whole service", 0)
    fill(
        f"Memory (RSS, peak of the sum, sampled every {SAMPLE_S:g} s during the pipeline, "
        f"{usage.samples} samples): actors + API {mib(actors_api)}; the whole service "
        f"(with Ray's own processes, PostgreSQL and Redis) {mib(whole)}. RSS counts shared "
        "pages (libraries, Ray's object store) once per process."
    )
    seconds = usage.seconds or 1.0
    steady_s, steady = 0.0, dict[str, float]()
    if run.sink.messages > 1:
        steady_s, steady = usage.cpu_between(min(run.sink.arrivals), max(run.sink.arrivals))
    roles = sorted(set(usage.peak_rss) | set(usage.cpu), key=lambda r: -usage.cpu.get(r, 0.0))
    print(
        f"  {'process (role)':<28} {'count':>5} {'peak RSS':>10} {'idle RSS':>10} {'CPU':>7} "
        f"{'steady':>7} {'nice':>5}"
    )
    for role in roles:
        share = f"{steady.get(role, 0.0) / steady_s:.0%}" if steady_s > 0 else ""
        print(
            f"  {role:<28} {usage.processes.get(role, 0):>5} "
            f"{mib(usage.peak_rss.get(role, 0)):>10} "
            f"{mib(bench.idle_rss[role]) if role in bench.idle_rss else '-':>10} "
            f"{usage.cpu.get(role, 0.0) / seconds:>7.0%} {share:>7} "
            f"{usage.nice.get(role, 0):>5}"
        )
    own = psutil.Process().nice()
    for label, used in (
        ("SMTP sink", run.sink_cpu_share),
        ("bench (polls progress)", run.bench_cpu_share),
    ):
        print(f"  {label:<28} {1:>5} {'':>10} {'':>10} {used:>7.0%} {'':>7} {own:>5}")
    total = sum(usage.cpu.values()) / seconds + run.sink_cpu_share + run.bench_cpu_share
    cores = os.cpu_count() or 1
    fill(
        f"CPU: share of one core over the pipeline's {seconds:.1f} s; steady: over the "
        f"{steady_s:.1f} s from the first to the last message at the sink (to the nearest "
        f"samples); idle RSS: before the launch. All of the above used {total:.0%} of one core "
        f"over the pipeline, of {cores * 100}% on {cores} cores. nice: Ray starts its workers "
        "(the actors, the API) at niceness 15 (RAY_worker_niceness) and the template children "
        f"lower still, while the bare loop runs in this process at {own}: when other work "
        "competes for the CPU, the service yields to it and the bare loop does not, so a busy "
        "machine lowers the ratio."
    )


def aims_of(bench: Bench | None) -> list[aims.Aim]:
    return [aims.judge(AIM, bench.ratio() if bench else None, at_least=AIM_AT_LEAST)]


def run(args: argparse.Namespace) -> int:
    from serve.stack import LocalStack

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    work = work_folder("cm-bench-outreach-")
    machine_line = machine()
    given = bench_settings(work)
    bench = Bench(args=args, work=work, connections=args.sender_actors * args.smtp_connections)
    watch = ProcessWatch()
    sink: SinkProcess | None = None
    service: ChildServer | None = None
    code = 1
    try:
        with LocalStack(given) as stack:
            redis_url = stack.settings.redis_url
            assert redis_url is not None
            stack_procs = stack_processes(work)  # PostgreSQL
            watch.track([*stack_procs, *redis_processes(redis_url)])
            print("bench: " + "; ".join(stack.started), flush=True)
            sink = SinkProcess(work)
            watch.track_children()
            sink.port = int(sink.wait_ready(SINK_READY, SINK_START_TIMEOUT_S))
            print(f"bench: SMTP sink on {HOST}:{sink.port}", flush=True)

            try:
                began = time.monotonic()
                port = free_port()
                service = ChildServer(
                    name="service",
                    argv=[
                        *(sys.executable, "-m", "loadtests.bench_api", "--child", "serve"),
                        *("--port", str(port), "--replicas", "1"),
                    ],
                    env=service_env(args, stack.settings, port),
                    log_path=work / "service.log",
                    obeys_stdin=True,
                )
                service.start()
                base_url = service.wait_line(READY, START_TIMEOUT_S).split()[1]
                service.track()
                watch.track_children()
                print(
                    f"bench: service (Ray, Serve) up at {base_url} in "
                    f"{time.monotonic() - began:.1f} s",
                    flush=True,
                )
                steps: list[tuple[str, Callable[[], None]]] = [
                    (
                        "bare loop, before",
                        lambda: bench.bare.append(step_bare(bench, sink, "before")),
                    ),
                    (
                        "pipeline",
                        lambda: step_pipeline(
                            bench, sink, service, base_url, stack_procs, redis_url
                        ),
                    ),
                    (
                        "bare loop, after",
                        lambda: bench.bare.append(step_bare(bench, sink, "after")),
                    ),
                ]
                for name, step in steps:
                    run_step(name, step, bench.failures, digits=1)
                    if name == "pipeline" and bench.pipeline is None:
                        break
            finally:
                # Ray first, while PostgreSQL and Redis still answer.
                if service is not None:
                    service.stop()
                    watch.known.update(service.watch.known)
            if args.diagnostics and bench.pipeline is not None:
                run_step(
                    "diagnostics (Ray stopped)",
                    lambda: step_diagnostics(bench, sink, stack.settings, stack_procs, redis_url),
                    bench.failures,
                    digits=1,
                )
                watch.track_children()
            sink.stop()
            report(bench, machine_line)
            code = 1 if bench.failures else 0
    finally:
        if service is not None:
            with contextlib.suppress(Exception):
                service.stop()
            watch.known.update(service.watch.known)
        if sink is not None:
            sink.stop()
        # Ray's processes exit shortly after ray.shutdown(); give them a moment.
        leftovers = watch.end_survivors(wait_s=15.0)
        code = end_run(
            work,
            code=code,
            leftovers=leftovers,
            stopped=f"{len(watch.known)} checked: Ray, the service, the SMTP sink, PostgreSQL, "
            "Redis",
            failures=bench.failures,
            keep=args.keep,
            kept="logs",
        )
        aims.report(aims_of(bench))
    return code


def step_bare(bench: Bench, sink: SinkProcess, label: str) -> BareRun:
    result = bare_loop(label, sink, bench.args.messages, bench.connections)
    bench.check_sink(f"bare loop, {label}", result.sink, bench.args.messages)
    print(
        f"  {result.messages} messages in {result.seconds:.2f} s: {result.rate:.0f}/s", flush=True
    )
    return result


def step_diagnostics(
    bench: Bench, sink: SinkProcess, settings: Any, postgres: list[psutil.Process], redis_url: str
) -> None:
    """Each half of the pipeline alone (after the service has stopped, so nothing else runs)."""
    args = bench.args
    settings = sending_settings(settings, args)
    redis = redis_processes(redis_url)
    senders = run_async(
        senders_alone(settings, args, sink, recipients(args.messages, "senders-alone"), redis)
    )
    bench.diagnostics.append(senders)
    if senders.sink is not None:
        bench.check_sink("senders alone", senders.sink, args.messages)
    print(f"  senders alone: {senders.messages} in {senders.seconds:.2f} s", flush=True)
    if bench.loop_outreach is not None:
        used = [psutil.Process(), *postgres, *redis]
        loop = run_async(
            outreach_loop_alone(
                settings, args, bench.loop_outreach, args.messages, used, [sink.process.pid]
            )
        )
        bench.diagnostics.append(loop)
        print(f"  outreach loop alone: {loop.messages} in {loop.seconds:.2f} s", flush=True)


def step_pipeline(
    bench: Bench,
    sink: SinkProcess,
    service: ChildServer,
    base_url: str,
    stack_procs: Iterable[psutil.Process],
    redis_url: str,
) -> None:
    args = bench.args
    # One outreach each: the warm-up, the measured one, and the outreach loop's diagnostic.
    wanted = {"pipeline": recipients(args.messages, "pipeline")}
    if args.warmup:
        wanted["warmup"] = recipients(args.warmup, "warmup")
    if args.diagnostics:
        wanted["loop"] = recipients(args.messages, "loop")
    began = time.monotonic()
    api, ids = run_async(_prepare(base_url, sink.port, list(wanted.values())))
    outreach_ids = dict(zip(wanted, ids, strict=True))
    print(
        f"  account, mailbox, template and {sum(map(len, wanted.values())):,} recipients "
        f"queued over the API in {time.monotonic() - began:.1f} s",
        flush=True,
    )
    if "loop" in outreach_ids:
        bench.loop_outreach = (uuid.UUID(outreach_ids["loop"]), api.workspace_id, api.user_id)
    try:
        if args.warmup:
            bench.warmup = run_pipeline(
                "warm-up", api, outreach_ids["warmup"], args.warmup, sink, None, args.timeout
            )
            print(f"  warm-up: {bench.warmup.sent} sent in {bench.warmup.seconds:.1f} s")
            # Let the warm-up's outreach actor exit (actors.outreach.EXIT_DELAY_SECONDS).
            time.sleep(5.0)
        assert service.process is not None
        fixed = {proc.pid: "PostgreSQL" for proc in stack_procs}
        fixed |= {proc.pid: "Redis" for proc in redis_processes(redis_url)}
        idle = Sampler(service.process.pid, fixed, service.watch)
        idle.sample(first=True)  # one sample before the launch: the service at rest
        bench.idle_rss = dict(idle.usage.peak_rss)
        sampler = Sampler(service.process.pid, fixed, service.watch)
        run = run_pipeline(
            "pipeline", api, outreach_ids["pipeline"], args.messages, sink, sampler, args.timeout
        )
    finally:
        run_async(api.close())
    if sampler.error:
        bench.notes.append(f"memory sampling failed: {sampler.error}")
    bench.pipeline = run
    bench.check_sink("pipeline", run.sink, args.messages)
    if run.final.get("counts") != {"sent": args.messages}:
        bench.failures.append(f"pipeline: progress ended at {run.final}")
    print(
        f"  {run.sent} sent in {run.seconds:.2f} s (launch call to completed): {run.rate:.0f}/s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    from core.settings import Settings

    defaults = Settings(_env_file=None)
    parser = argparse.ArgumentParser(
        description="Outreach through the whole pipeline (HTTP API, outreach and sender actors, "
        "SMTP) against a bare aiosmtplib loop, to one local SMTP sink, on this machine."
    )
    parser.add_argument(
        "--messages", type=int, default=5_000, help="messages each side sends (default 5000)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 500 messages")
    parser.add_argument(
        "--warmup",
        type=int,
        default=100,
        help="messages of a warm-up outreach sent first, not measured (default 100; 0: none, "
        "so the sender actors start inside the timing)",
    )
    for option, setting, note in SENDING_OPTIONS:
        default = getattr(defaults, setting)
        parser.add_argument(
            option,
            type=int,
            default=default,
            help=f"CM_{setting.upper()}{note} (default {default})",
        )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds an outreach may take (default 900)"
    )
    parser.add_argument(
        "--no-diagnostics",
        dest="diagnostics",
        action="store_false",
        help="skip the diagnostic rows (the senders alone, the outreach loop alone)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    parser.add_argument("--child-sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_sink:
        child_sink()
        return 0
    if args.quick:
        args.messages = 500
    if not 1 <= args.messages <= MAX_MESSAGES:
        parser.error(f"--messages must be between 1 and {MAX_MESSAGES} (an outreach's daily limit)")
    if args.warmup < 0 or args.warmup > MAX_MESSAGES or args.timeout <= 0:
        parser.error("--warmup must be between 0 and 10000, --timeout positive")
    if min(sending_values(args).values()) < 1:
        parser.error("the sending settings must be positive")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
