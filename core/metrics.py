"""The service's metrics: each one defined once here, recorded from any layer, in any process.

Where a value goes is decided when it is recorded, and recording never raises and never waits:

- In a process connected to Ray (a Serve replica, every actor, a Ray Job's driver) it goes to
  Ray's metrics (``ray.util.metrics``). The node's metrics agent keeps each process's series
  apart (a ``WorkerId`` label) and ``GET /metrics`` on the API gathers the project's series from
  every node's agent (``serve/metrics.py``), so one scrape sees every replica and actor.
- Anywhere else (a script, the app tested in-process without Ray) it goes to a registry of this
  process (:data:`LOCAL_REGISTRY`), which ``/metrics`` shows when the app runs without Ray.

Ray is never imported here: a process that has not imported and initialised it (the scraper
used on its own, say) records locally. Ray keeps a gauge only while it is set again every
so often (a value not refreshed for about 20 s disappears, which is also how a dead process's
gauges go away), so gauges recorded under Ray are re-set every :data:`GAUGE_REFRESH_SECONDS`
by a daemon thread of the process.

Every gauge here is *additive*: each process reports its own share (the requests it has in
flight, the actor it is) and the sum over processes is the figure, so the relay can merge
processes by summing. Labels are bounded by construction: route templates, methods, statuses,
outcomes, host classes, job kinds, pool keys; never a user, a workspace, a record id or a raw
URL path.

Names: Ray prefixes ``ray_`` to every name it exports; the relay takes it off again, so a
metric has the same name (``cm_...``) whichever way it was recorded.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import prometheus_client
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

PREFIX = "cm_"
RAY_PREFIX = "ray_"
GAUGE_REFRESH_SECONDS = 5.0

Kind = Literal["counter", "gauge", "histogram"]

# Host classes of the scraper's requests (the ``host_class`` label).
HOST_SOUNDCLOUD = "soundcloud"
HOST_LINK_IN_BIO = "link_in_bio"
HOST_OTHER = "other"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

LOCAL_REGISTRY = CollectorRegistry(auto_describe=True)
"""Where values recorded outside Ray go (see the module)."""

_force_local = False


@dataclass(eq=False)
class Metric:
    """One metric: its name (without Ray's prefix), help text, kind and label names.

    Label values are given as keyword arguments, all of them, every time; a missing or extra
    one is a programming error, reported once in the log and otherwise ignored.
    """

    name: str
    description: str
    kind: Kind
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    _local: Any = field(default=None, init=False, repr=False)
    _ray: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _complained: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name.startswith(PREFIX):
            raise ValueError(f"metric names start with {PREFIX!r}: {self.name!r}")
        if (self.kind == "histogram") != bool(self.buckets):
            raise ValueError(f"{self.name}: buckets are for histograms, and histograms need them")
        CATALOGUE.append(self)

    @property
    def exported_names(self) -> tuple[str, ...]:
        """The sample names this metric appears under in Prometheus's text format."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return tuple(f"{self.name}_{suffix}" for suffix in ("bucket", "count", "sum"))
        return (self.name,)

    def _values(self, labels: dict[str, str]) -> tuple[str, ...] | None:
        if labels.keys() != set(self.labels):
            if not self._complained:
                self._complained = True
                log.error("metric %s recorded with labels %s", self.name, sorted(labels))
            return None
        return tuple(str(labels[name]) for name in self.labels)

    def _record(self, value: float, labels: dict[str, str]) -> None:
        values = self._values(labels)
        if values is None:
            return
        try:
            ray_metric = self._ray_metric()
            if ray_metric is not None:
                _record_in_ray(self, ray_metric, values, value)
            else:
                _record_locally(self, self._local_metric(), values, value)
        except Exception:  # a metric must never break what it measures
            if not self._complained:
                self._complained = True
                log.exception("recording metric %s failed", self.name)

    def _ray_metric(self) -> Any:
        """This process's Ray metric, or ``None`` when the process is not connected to Ray."""
        if _force_local:
            return None
        ray = sys.modules.get("ray")
        if ray is None or not ray.is_initialized():
            return None
        if self._ray is None:
            with self._lock:
                if self._ray is None:
                    self._ray = _new_ray_metric(self)
        return self._ray

    def _local_metric(self) -> Any:
        if self._local is None:
            with self._lock:
                if self._local is None:
                    self._local = _new_local_metric(self)
        return self._local


class Counter(Metric):
    def __init__(self, name: str, description: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, description, "counter", tuple(labels))

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` (nothing happens for 0 or less)."""
        if amount > 0:
            self._record(amount, labels)


class Gauge(Metric):
    def __init__(self, name: str, description: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, description, "gauge", tuple(labels))

    def set(self, value: float, **labels: str) -> None:
        """This process's share of the figure (see the module: gauges are summed)."""
        self._record(value, labels)


class Histogram(Metric):
    def __init__(
        self, name: str, description: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> None:
        super().__init__(name, description, "histogram", tuple(labels), tuple(buckets))

    def observe(self, value: float, **labels: str) -> None:
        self._record(max(value, 0.0), labels)


CATALOGUE: list[Metric] = []
"""Every metric of the service, in the order defined (docs/metrics.md lists the same)."""


def _new_ray_metric(metric: Metric) -> Any:
    from ray.util import metrics as ray_metrics

    if metric.kind == "counter":
        return ray_metrics.Counter(metric.name, metric.description, metric.labels)
    if metric.kind == "gauge":
        return ray_metrics.Gauge(metric.name, metric.description, metric.labels)
    return ray_metrics.Histogram(
        metric.name, metric.description, list(metric.buckets), metric.labels
    )


def _record_in_ray(metric: Metric, ray_metric: Any, values: tuple[str, ...], value: float) -> None:
    tags = dict(zip(metric.labels, values, strict=True))
    if metric.kind == "counter":
        ray_metric.inc(value, tags)
    elif metric.kind == "gauge":
        ray_metric.set(value, tags)
        _KEEPER.keep(metric, values, value)
    else:
        ray_metric.observe(value, tags)


def _new_local_metric(metric: Metric) -> Any:
    common: dict[str, Any] = {"labelnames": metric.labels, "registry": LOCAL_REGISTRY}
    if metric.kind == "counter":
        return prometheus_client.Counter(metric.name, metric.description, **common)
    if metric.kind == "gauge":
        return prometheus_client.Gauge(metric.name, metric.description, **common)
    return prometheus_client.Histogram(
        metric.name, metric.description, buckets=metric.buckets, **common
    )


def _record_locally(metric: Metric, local: Any, values: tuple[str, ...], value: float) -> None:
    child = local.labels(*values) if metric.labels else local
    if metric.kind == "counter":
        child.inc(value)
    elif metric.kind == "gauge":
        child.set(value)
    else:
        child.observe(value)


class _GaugeKeeper:
    """Sets every gauge recorded under Ray again every few seconds, so that Ray keeps it (and
    drops it within seconds once the process is gone)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._values: dict[tuple[Metric, tuple[str, ...]], float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def keep(self, metric: Metric, values: tuple[str, ...], value: float) -> None:
        with self._lock:
            self._values[metric, values] = value
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cm-metrics-gauges", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.every):
            with self._lock:
                kept = list(self._values.items())
            for (metric, values), value in kept:
                ray_metric = metric._ray_metric()
                if ray_metric is None:  # Ray was shut down in this process
                    continue
                try:
                    ray_metric.set(value, dict(zip(metric.labels, values, strict=True)))
                except Exception:
                    log.debug("refreshing gauge %s failed", metric.name, exc_info=True)


_KEEPER = _GaugeKeeper(GAUGE_REFRESH_SECONDS)


class _WithoutCreated(Collector):
    """:data:`LOCAL_REGISTRY` without the ``_created`` series prometheus_client adds (Ray's
    agent has none, and the two ways of recording show the same series)."""

    def collect(self) -> Iterable[prometheus_client.Metric]:
        for family in LOCAL_REGISTRY.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family


_RENDERED = CollectorRegistry(auto_describe=False)
_RENDERED.register(_WithoutCreated())


def render_local() -> bytes:
    """This process's registry in Prometheus's text format (every metric, recorded or not)."""
    for metric in CATALOGUE:
        metric._local_metric()
    return prometheus_client.generate_latest(_RENDERED)


def recording_to_ray() -> bool:
    """Whether values recorded in this process now go to Ray."""
    ray = sys.modules.get("ray")
    return not _force_local and ray is not None and bool(ray.is_initialized())


def exported_names() -> Iterator[str]:
    """Every sample name the catalogue's metrics appear under."""
    for metric in CATALOGUE:
        yield from metric.exported_names


@contextmanager
def local_only() -> Iterator[None]:
    """Within it, this process records to :data:`LOCAL_REGISTRY` even when connected to Ray
    (tests that read back what they recorded)."""
    global _force_local
    before, _force_local = _force_local, True
    try:
        yield
    finally:
        _force_local = before


def sample(name: str, **labels: str) -> float:
    """A sample's value in :data:`LOCAL_REGISTRY` (0 when it has none)."""
    value = LOCAL_REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else float(value)


# -- HTTP (the API's replicas) -----------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "cm_http_requests",
    "HTTP requests answered by the API, by method, route template and status code",
    ("method", "route", "status"),
)
HTTP_REQUEST_SECONDS = Histogram(
    "cm_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template",
    ("method", "route"),
    LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge("cm_http_requests_in_flight", "HTTP requests being answered now")

# -- Outreach: sends, the send ledger, queues ---------------------------------------------------

SENDS = Counter(
    "cm_sends",
    "Messages a sender actor finished with, by outcome (sent, retry, bounced, failed, unknown, "
    "not_attempted) and transport (smtp, outbox)",
    ("outcome", "transport"),
)
SEND_LEDGER_RECOVERIES = Counter(
    "cm_send_ledger_recoveries",
    "Handed-out messages settled from the send ledger after their sender failed or their "
    "outreach actor restarted: answer (the sender's stored answer), requeued (fenced before "
    "DATA), unknown",
    ("outcome",),
)
OUTBOX_WRITTEN = Counter(
    "cm_outbox_messages_written",
    "Messages written to the outbox folder (workspaces without a mailbox, notices without a relay)",
)
SEND_QUEUE_DEPTH = Gauge(
    "cm_send_queue_depth",
    "Messages of the outreaches being sent that are still queued or at a sender",
)
SEND_BATCHES_IN_FLIGHT = Gauge(
    "cm_send_batches_in_flight",
    "Batches outreach actors have handed to sender actors and not yet settled",
)

# -- Scraping: requests and pacing ---------------------------------------------------------------

SCRAPER_REQUESTS = Counter(
    "cm_scraper_requests",
    "Requests the scraper sent, by host class and HTTP status ('error': no answer)",
    ("host_class", "status"),
)
SCRAPER_REQUEST_SECONDS = Histogram(
    "cm_scraper_request_duration_seconds",
    "Time a scraper request took once sent (pacing waits excluded), by host class",
    ("host_class",),
    LATENCY_BUCKETS,
)
SCRAPER_RETRIES = Counter(
    "cm_scraper_retries", "Scraper requests tried again after a 408, 429 or 5xx", ("host_class",)
)
PACING_WAIT_SECONDS = Histogram(
    "cm_pacing_wait_seconds",
    "Time a scraper request waited for its per-host pacing slot, by host class",
    ("host_class",),
    WAIT_BUCKETS,
)
PACING_BUSY = Counter(
    "cm_pacing_busy",
    "Scraper requests not sent because their pacing slot was further away than they may wait",
    ("host_class",),
)

# -- The scraper pool -----------------------------------------------------------------------------

SCRAPER_ACTORS = Gauge(
    "cm_scraper_actors",
    "Scraper actors alive, by pool (the settings they were built for)",
    ("pool",),
)
SCRAPER_CALLS_IN_FLIGHT = Gauge(
    "cm_scraper_calls_in_flight", "Calls scraper actors are running now, by pool", ("pool",)
)
SCRAPER_CALLS = Counter(
    "cm_scraper_calls", "Calls sent to scraper actors, by pool and method", ("pool", "method")
)
SCRAPER_REPLACEMENTS = Counter(
    "cm_scraper_actor_replacements",
    "Calls sent again because their scraper actor had ended (idle, killed or crashed)",
)

# -- Discovery jobs -------------------------------------------------------------------------------

DISCOVERY_JOBS_RUNNING = Gauge(
    "cm_discovery_jobs_running",
    "Discovery walks running now, by kind (actor: started by the API; ray_job: submitted)",
    ("kind",),
)
DISCOVERY_JOBS_FINISHED = Counter(
    "cm_discovery_jobs_finished",
    "Discovery walks that ended, by kind and final status",
    ("kind", "status"),
)
DISCOVERY_ARTISTS = Counter(
    "cm_discovery_artists",
    "Artists discovery walks dealt with: read, skipped (unreadable), filtered (did not match), "
    "kept (written to the catalogue)",
    ("outcome",),
)
DISCOVERY_FRONTIER = Gauge(
    "cm_discovery_frontier", "Leads waiting to be read in the frontiers of the running walks"
)
