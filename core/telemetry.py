"""Tracing for every process of the service, in one place: ``setup(settings, role)`` once per
process (a Serve replica, each actor, a Ray Job's driver, the CLI), then spans from the official
instrumentations (FastAPI, SQLAlchemy, Redis), the project's own for aiohttp and SMTP, and the
actor calls.

Where spans go: to an OTLP/HTTP collector when ``CM_OTLP_ENDPOINT`` is set; otherwise to
``<data_dir>/traces/spans.jsonl`` (one JSON object per finished span, appended by every process
of this machine; rotated to ``.1`` past 64 MB), which ``campaign-manager traces`` prints as trees.

Actor calls carry the W3C trace context themselves (Ray's own tracing hook is alpha and noisy,
see docs/ray.md): the caller passes ``carrier=carry()`` and the actor method runs its body
``with continued(carrier, "Actor.method")``.

What starts a trace: an HTTP request, a Ray Job, an outreach's batch; what cannot start one: a
database, Redis or HTTP client call made outside any of those (a scheduler tick's queries, a
heartbeat), which would otherwise bury the traces worth reading under one-span traces.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import os
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanKind, Status, StatusCode

from core import logs
from core.settings import Settings

if TYPE_CHECKING:
    import aiohttp
    from opentelemetry.context import Context
    from opentelemetry.trace import Link
    from opentelemetry.util.types import Attributes

log = logging.getLogger(__name__)

SERVICE_NAME = "campaign-manager"
ROLE_ATTRIBUTE = "campaign_manager.role"
SPANS_FILE_NAME = "spans.jsonl"
MAX_SPANS_FILE_BYTES = 64 * 1024 * 1024
# Finished spans leave a process at least this often (OTEL_BSP_SCHEDULE_DELAY overrides it):
# the SDK's 5 s makes `campaign-manager traces` lag behind the request just made.
EXPORT_DELAY_MILLIS = 1000
FLUSH_SECONDS = 5.0
TRACER_NAME = "campaign_manager"

P = ParamSpec("P")
T = TypeVar("T")

Kind = Literal["server", "client", "internal", "consumer", "producer"]
_KINDS = {
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "internal": SpanKind.INTERNAL,
    "consumer": SpanKind.CONSUMER,
    "producer": SpanKind.PRODUCER,
}


def spans_file(data_dir: Path) -> Path:
    """Where the file exporter writes (and ``campaign-manager traces`` reads)."""
    return data_dir / "traces" / SPANS_FILE_NAME


# -- the file exporter ----------------------------------------------------------------------


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """A finished span as the JSON object written to the spans file."""
    context = span.get_span_context()
    assert context is not None
    start = span.start_time or 0
    end = span.end_time or start
    record: dict[str, Any] = {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent is not None else None,
        "name": span.name,
        "kind": span.kind.name.lower(),
        "start_ns": start,
        "end_ns": end,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name.lower(),
        "role": span.resource.attributes.get(ROLE_ATTRIBUTE),
        "attributes": dict(span.attributes or {}),
    }
    if span.status.description:
        record["status_message"] = span.status.description
    if span.events:
        record["events"] = [
            {"name": event.name, "attributes": dict(event.attributes or {})}
            for event in span.events
        ]
    return record


class JsonLinesSpanExporter(SpanExporter):
    """Appends each batch of finished spans to a JSON-lines file in one write, so several
    processes can share the file (see :class:`core.logs.AppendOnlyFile`)."""

    def __init__(self, path: Path, max_bytes: int = MAX_SPANS_FILE_BYTES) -> None:
        self.file = logs.AppendOnlyFile(path, max_bytes)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(
            json.dumps(span_record(span), ensure_ascii=False, default=str) + "\n" for span in spans
        )
        try:
            self.file.append(lines.encode("utf-8", "replace"))
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


# -- the provider -----------------------------------------------------------------------------


class _OperationsStartTraces(Sampler):
    """The root sampler: a span with no parent starts a trace (kept at ``ratio``) unless it is a
    client call (SQL, Redis, outgoing HTTP), which only counts inside an operation."""

    def __init__(self, ratio: float) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return self._ratio.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"OperationsStartTraces({self._ratio.get_description()})"


def otlp_traces_url(endpoint: str) -> str:
    """``http://collector:4318`` as its traces URL (one already ending in ``/v1/traces`` as
    it is), as OpenTelemetry's own ``OTEL_EXPORTER_OTLP_ENDPOINT`` is read."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def build_provider(
    settings: Settings, role: str, exporter: SpanExporter | None = None
) -> TracerProvider:
    """A provider for one process: resource ``service.name=campaign-manager`` with its
    ``role``, the sampler above, and a batch processor into ``exporter`` (default: OTLP when
    ``otlp_endpoint`` is set, else the data folder's spans file)."""
    resource = Resource.create(
        {"service.name": SERVICE_NAME, ROLE_ATTRIBUTE: role, "process.pid": os.getpid()}
    )
    provider = TracerProvider(
        resource=resource,
        sampler=ParentBased(root=_OperationsStartTraces(settings.trace_sample_ratio)),
    )
    if exporter is None:
        if settings.otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=otlp_traces_url(settings.otlp_endpoint))
        else:
            exporter = JsonLinesSpanExporter(spans_file(settings.data_dir))
    delay = None if "OTEL_BSP_SCHEDULE_DELAY" in os.environ else EXPORT_DELAY_MILLIS
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=delay))
    return provider


@dataclass
class _Process:
    role: str
    provider: TracerProvider


_process: _Process | None = None


def setup(settings: Settings, role: str, *, log_level: str | None = None) -> None:
    """Logs and tracing for this process, as ``role`` (``api``, ``outreach``, ``sender``,
    ``scraper``, ``discovery``, ``refresher``, ``scheduler``, ``job``, ``cli``). Only the first
    call in a process does anything. ``log_level`` replaces ``settings.log_level`` (the CLI's
    own default is quieter)."""
    global _process
    if _process is not None:
        return
    logs.configure(
        log_level or settings.log_level, role=role, log_dir=logs.log_file(settings.data_dir).parent
    )
    provider = build_provider(settings, role)
    trace.set_tracer_provider(provider)
    _process = _Process(role, provider)
    _instrument_redis(provider)
    atexit.register(shutdown)


def _instrument_redis(provider: TracerProvider) -> None:
    # Class-level: every client of this process, made before or after.
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    instrumentor = RedisInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)


def role() -> str | None:
    """This process's role, once :func:`setup` ran."""
    return _process.role if _process is not None else None


def flush(timeout: float = FLUSH_SECONDS) -> None:
    """Export what has finished (before an actor ends its own process, where ``atexit`` does
    not run)."""
    if _process is not None:
        _process.provider.force_flush(int(timeout * 1000))


def shutdown() -> None:
    global _process
    if _process is not None:
        _process.provider.shutdown()
        _process = None


def tracer(provider: trace.TracerProvider | None = None) -> trace.Tracer:
    """The project's tracer, from this process's provider (or ``provider``)."""
    return trace.get_tracer(TRACER_NAME, tracer_provider=provider)


# -- instrumenting parts ----------------------------------------------------------------------


def instrument_engine(engine: Any) -> None:
    """SQL spans for an ``AsyncEngine`` (the official SQLAlchemy instrumentation, on this
    engine's events). Nothing before :func:`setup`: a process that does not trace pays
    nothing."""
    if _process is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeterProvider

    # Pool metrics are docs/metrics.md's business, not this one's.
    usage = NoOpMeterProvider().get_meter(TRACER_NAME).create_up_down_counter("unused")
    EngineTracer(  # type: ignore[no-untyped-call]
        trace.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine.sync_engine, usage
    )


def instrument_app(app: Any) -> None:
    """HTTP server spans for a FastAPI app (the official instrumentation), the health probe
    left out, the request id kept on the span. Spans are recorded once :func:`setup` ran."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.metrics import NoOpMeterProvider

    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="/healthz$",
        http_capture_headers_server_request=["x-request-id"],
        exclude_spans=["receive", "send"],
        meter_provider=NoOpMeterProvider(),
    )


def client_trace_config() -> aiohttp.TraceConfig:
    """An aiohttp ``TraceConfig`` giving each request a CLIENT span (method, URL without its
    query, status). The official aiohttp instrumentation has no release for this SDK. No
    ``traceparent`` is sent: the hosts scraped are strangers'."""
    import aiohttp

    async def on_start(
        session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        url = params.url
        ctx.span = tracer().start_span(
            params.method,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": params.method,
                "url.full": str(url.with_query(None)),
                "server.address": url.host or "",
            },
        )

    async def on_end(
        session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestEndParams
    ) -> None:
        span = getattr(ctx, "span", None)
        if span is not None:
            status = params.response.status
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()

    async def on_error(
        session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestExceptionParams
    ) -> None:
        span = getattr(ctx, "span", None)
        if span is not None:
            span.record_exception(params.exception)
            span.set_status(Status(StatusCode.ERROR, type(params.exception).__name__))
            span.end()

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    config.on_request_exception.append(on_error)
    return config


# -- spans of our own, and the context across actor calls --------------------------------------


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: Kind = "internal",
    attributes: Attributes = None,
    provider: trace.TracerProvider | None = None,
) -> Iterator[trace.Span]:
    """A span around a block, current inside it; an exception marks it failed and passes on."""
    with tracer(provider).start_as_current_span(
        name, kind=_KINDS[kind], attributes=attributes
    ) as it:
        yield it


def traced(
    name: str, *, kind: Kind = "internal", attributes: Attributes = None
) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """:func:`span` around every call of a coroutine function."""

    def decorate(
        function: Callable[P, Coroutine[Any, Any, T]],
    ) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            with span(name, kind=kind, attributes=attributes):
                return await function(*args, **kwargs)

        return wrapper

    return decorate


REQUEST_ID_KEY = "x-request-id"


def carry() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``) and the
    request id, to pass with an actor call; empty when nothing is being traced."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    request = logs.request_id.get()
    if carrier and request is not None:
        carrier[REQUEST_ID_KEY] = request
    return carrier


@contextlib.contextmanager
def continued(
    carrier: Mapping[str, str] | None, name: str, *, provider: trace.TracerProvider | None = None
) -> Iterator[trace.Span]:
    """Inside an actor method: a SERVER span ``name`` (``"Actor.method"``) continuing the
    caller's trace from ``carrier``. A call from outside any trace starts none (its SQL and
    Redis spans are dropped with it): background loops would fill the file with one-span traces.
    The caller's request id, when it sent one, is the request id of the records logged inside.
    """
    parent = propagate.extract(carrier) if carrier else otel_context.get_current()
    if not trace.get_current_span(parent).get_span_context().is_valid:
        yield trace.INVALID_SPAN
        return
    service, _, method = name.rpartition(".")
    attributes = {"rpc.system": "ray", "rpc.service": service, "rpc.method": method}
    request = carrier.get(REQUEST_ID_KEY) if carrier else None
    token = logs.request_id.set(request) if request is not None else None
    try:
        with tracer(provider).start_as_current_span(
            name, context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as it:
            yield it
    finally:
        if token is not None:
            logs.request_id.reset(token)


@contextlib.contextmanager
def detached() -> Iterator[None]:
    """No trace is current inside: a task started here (a long-lived loop) does not join the
    trace of the request that happened to start it."""
    token = otel_context.attach(otel_context.Context())
    try:
        yield
    finally:
        otel_context.detach(token)
