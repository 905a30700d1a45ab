"""Prometheus metrics at ``GET /metrics``: the HTTP middleware that counts requests by route
template, and the route that answers with every process's series.

The service is many processes: Serve replicas behind a load balancer and Ray actors elsewhere.
A registry per process behind ``/metrics`` would show one random replica and no actor, so the
project records through Ray (``core/metrics.py``) and this route gathers the project's series
from the metrics agent of every alive node (``ray.nodes()``: ``MetricsExportPort``), plus a few
of Ray's own (actors by class and state, each node's CPU and memory). Each node's series are
summed over the node's processes (Ray keeps them apart by ``WorkerId``) and labelled with the
node (``node="address:port"``): a counter summed that way never goes down while the node lives
(the agent keeps a finished process's counts), gauges are additive by design, and the output
stays small whatever the number of workers. Without Ray (the app tested in-process) the route
shows this process's own registry.

Who may read it: the numbers carry no workspace data (labels are route templates, statuses,
outcomes, host classes), but they are the service's business. A request from this machine that
did not come through a proxy is answered; anyone else presents ``CM_METRICS_TOKEN`` as a bearer
token (Prometheus's ``authorization`` setting). In HAProxy mode every request reaches a replica
from HAProxy, so only the token opens it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector, CollectorRegistry
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import metrics
from core.errors import Forbidden, Unauthorized
from core.metrics import HTTP_IN_FLIGHT, HTTP_REQUEST_SECONDS, HTTP_REQUESTS
from serve.problems import PROBLEM_MEDIA_TYPE
from serve.resources import Resources
from serve.security import client_address

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "unmatched"
# Bounds on gathering: each node's agent answers within this, and the node list is read again
# at most this often.
NODE_TIMEOUT_SECONDS = 5.0
NODES_CACHE_SECONDS = 10.0

NODE_UP = metrics.Gauge(
    "cm_metrics_node_up",
    "Whether a node's Ray metrics agent answered this scrape of /metrics (1) or not (0)",
    ("node",),
)

# Ray's own series relayed, with the labels kept (besides ``node``); the rest of Ray's several
# hundred series per node are left to Ray's own Prometheus setup.
RAY_SERIES: Mapping[str, tuple[str, ...]] = {
    "ray_actors": ("Name", "State"),
    "ray_node_cpu_utilization": (),
    "ray_node_mem_used": (),
    "ray_node_mem_total": (),
}
_OWN_PREFIX = metrics.RAY_PREFIX + metrics.PREFIX
_SAMPLE_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
_OWN_LABELS = {metric.name: metric.labels for metric in metrics.CATALOGUE}


def exported_names() -> set[str]:
    """Every sample name ``/metrics`` can show (the dashboard's queries may use only these)."""
    names = set(metrics.exported_names())
    names.update(RAY_SERIES)
    return names


# -- the middleware ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Template:
    path: str
    pattern: re.Pattern[str]


class RouteTemplates:
    """The route template of a request: the path a route was declared with
    (``/api/v1/campaigns/{campaign_id}``), never the path asked for, so a label has as many
    values as the app has routes."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._by_route: dict[int, str] | None = None
        self._templates: tuple[_Template, ...] = ()

    def _build(self) -> dict[int, str]:
        by_route: dict[int, str] = {}
        templates = []
        for context in iter_route_contexts(self._app.routes):
            path = context.path
            if not path:
                continue
            by_route.setdefault(id(context.original_route), path)
            templates.append(_Template(path, compile_path(path)[0]))
        self._templates = tuple(templates)
        return by_route

    def of(self, scope: Scope) -> str:
        """The template of the route that answered; for a request no route ran for (refused
        before routing, replayed, unknown), the first template its path matches."""
        if self._by_route is None:
            self._by_route = self._build()
        route = scope.get("route")
        if route is not None:
            found = self._by_route.get(id(route))
            if found is not None:
                return found
        path = scope.get("path", "")
        for template in self._templates:
            if template.pattern.match(path):
                return template.path
        return UNMATCHED_ROUTE


class MetricsMiddleware:
    """Counts every HTTP request by method, route template and status, and times it to the
    end of its answer. Outermost, so refusals by the other middlewares count too."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        self.templates = RouteTemplates(fastapi_app)
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before answering

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self._in_flight += 1
        HTTP_IN_FLIGHT.set(self._in_flight)
        try:
            await self.app(scope, receive, counted)
        finally:
            self._in_flight -= 1
            HTTP_IN_FLIGHT.set(self._in_flight)
            method = _method(scope.get("method", ""))
            route = self.templates.of(scope)
            HTTP_REQUESTS.inc(method=method, route=route, status=str(status))
            HTTP_REQUEST_SECONDS.observe(time.perf_counter() - started, method=method, route=route)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(method: str) -> str:
    return method if method in _METHODS else "other"


def install_metrics(app: FastAPI) -> None:
    """Count every request (call after the other middlewares: it must be the outermost)."""
    app.add_middleware(MetricsMiddleware, fastapi_app=app)


# -- the route -----------------------------------------------------------------------------------

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        401: {
            "description": "From another machine, without CM_METRICS_TOKEN",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        },
        403: {
            "description": "From another machine, and CM_METRICS_TOKEN is not set",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        },
    },
)
async def prometheus_metrics(request: Request) -> Response:
    """The service's metrics in Prometheus's text format, from every process."""
    resources: Resources = request.app.state.resources
    _check_access(request, resources)
    if metrics.recording_to_ray():
        body = await gather_from_ray()
    else:
        body = metrics.render_local()
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _check_access(request: Request, resources: Resources) -> None:
    settings = resources.settings
    token = settings.metrics_token
    authorization = request.headers.get("authorization", "")
    scheme, _, presented = authorization.partition(" ")
    if (
        token is not None
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.get_secret_value().encode())
    ):
        return
    if settings.serve_proxy != "haproxy" and _from_this_machine(request.scope, resources):
        return
    if token is None:
        raise Forbidden(
            "metrics are served to this machine only; set CM_METRICS_TOKEN to let Prometheus "
            "read them from elsewhere"
        )
    raise Unauthorized("metrics need Authorization: Bearer <CM_METRICS_TOKEN>")


def _from_this_machine(scope: Scope, resources: Resources) -> bool:
    """A loopback client, not relayed by a proxy this app does not trust (a proxy on this
    machine would make every client look local)."""
    address = client_address(scope, resources.settings.trusted_proxy_networks)
    peer = client_address(scope, ())
    headers = {name for name, _ in scope.get("headers", ())}
    proxied = b"x-forwarded-for" in headers or b"forwarded" in headers
    if proxied and address == peer:
        return False
    try:
        return ip_address(address).is_loopback
    except ValueError:
        return False


# -- gathering from Ray --------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A node's metrics agent: where it answers, and the ``node`` label of its series."""

    label: str
    url: str


_nodes_cache: tuple[float, list[Node]] | None = None


def alive_nodes(nodes: Iterable[Mapping[str, Any]]) -> list[Node]:
    """The metrics agents of the alive nodes in ``ray.nodes()``'s answer."""
    found = []
    for node in nodes:
        address, port = node.get("NodeManagerAddress"), node.get("MetricsExportPort")
        if node.get("Alive") and address and port:
            host = f"[{address}]" if ":" in address else address
            found.append(Node(f"{address}:{port}", f"http://{host}:{port}/metrics"))
    return found


async def _nodes() -> list[Node]:
    global _nodes_cache
    now = time.monotonic()
    if _nodes_cache is None or now - _nodes_cache[0] > NODES_CACHE_SECONDS:
        import ray

        _nodes_cache = (now, alive_nodes(await asyncio.to_thread(ray.nodes)))
    return _nodes_cache[1]


async def gather_from_ray() -> bytes:
    """Every alive node's share of the project's series (and Ray's few), merged."""
    nodes = await _nodes()
    async with httpx.AsyncClient(timeout=NODE_TIMEOUT_SECONDS) as client:
        answers = await asyncio.gather(*(_read(client, node) for node in nodes))
    return merge_nodes(list(zip(nodes, answers, strict=True)))


async def _read(client: httpx.AsyncClient, node: Node) -> str | None:
    try:
        response = await client.get(node.url)
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return response.text


def merge_nodes(answers: Sequence[tuple[Node, str | None]]) -> bytes:
    """The exposition of the project's series from each node's agent text (``None``: the agent
    did not answer), summed per node over processes, ``ray_`` taken off the project's names,
    and whether each node answered (``cm_metrics_node_up``)."""
    families: dict[str, _Family] = {}
    up = families[NODE_UP.name] = _Family(NODE_UP.name, NODE_UP.description, "gauge")
    for node, text in answers:
        read: list[Metric] = []
        if text is not None:
            try:
                read = list(text_string_to_metric_families(_relayed_lines(text)))
            except ValueError:  # not Prometheus's text format: as if it had not answered
                log.warning("the metrics agent of node %s answered unreadably", node.label)
                text = None
        up.add(NODE_UP.name, {"node": node.label}, 0.0 if text is None else 1.0)
        for family in read:
            _merge_family(families, family, node.label)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collected(list(families.values())))
    return generate_latest(registry)


def _relayed_lines(text: str) -> str:
    """Only the lines of the series relayed: the agent's text is large (hundreds of Ray's own
    series per node) and parsing all of it would cost far more than this filter."""
    kept = []
    for line in text.splitlines():
        if line.startswith("#"):
            parts = line.split(" ", 3)
            name = parts[2] if len(parts) > 2 and parts[1] in ("HELP", "TYPE") else ""
        else:
            match = _SAMPLE_NAME.match(line)
            name = match.group(0) if match else ""
        if name.startswith(_OWN_PREFIX) or _ray_family(name) is not None:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _ray_family(sample_name: str) -> str | None:
    if sample_name in RAY_SERIES:
        return sample_name
    for suffix in (*_HISTOGRAM_SUFFIXES, "_total"):
        base = sample_name.removesuffix(suffix)
        if base != sample_name and base in RAY_SERIES:
            return base
    return None


def _merge_family(families: dict[str, _Family], family: Metric, node: str) -> None:
    if family.name.startswith(_OWN_PREFIX):
        name = family.name.removeprefix(metrics.RAY_PREFIX)
        kept: Sequence[str] = _OWN_LABELS.get(name, ())
        rename = metrics.RAY_PREFIX
    else:
        name = family.name
        kept = RAY_SERIES.get(name, ())
        rename = ""
    merged = families.setdefault(name, _Family(name, family.documentation, family.type))
    for sample in family.samples:
        labels = {key: value for key, value in sample.labels.items() if key in kept}
        if "le" in sample.labels:
            labels["le"] = sample.labels["le"]
        labels["node"] = node
        merged.add(sample.name.removeprefix(rename), labels, sample.value)


class _Family:
    """One metric family being merged: samples with equal labels are summed."""

    def __init__(self, name: str, documentation: str, kind: str) -> None:
        self.name = name
        self.documentation = documentation
        self.kind = kind
        self.samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def add(self, sample: str, labels: Mapping[str, str], value: float) -> None:
        key = (sample, tuple(sorted(labels.items())))
        self.samples[key] = self.samples.get(key, 0.0) + value

    def metric(self) -> Metric:
        family = Metric(self.name, self.documentation, self.kind)
        for (sample, labels), value in sorted(self.samples.items(), key=_bucket_order):
            family.add_sample(sample, dict(labels), value)
        return family


def _bucket_order(item: tuple[tuple[str, tuple[tuple[str, str], ...]], float]) -> Any:
    """Samples grouped by series, each histogram's buckets in ascending ``le``."""
    (sample, labels), _ = item
    rest = tuple(pair for pair in labels if pair[0] != "le")
    le = dict(labels).get("le")
    bound = float("inf") if le is None or le == "+Inf" else float(le)
    return (rest, sample, bound)


class _Collected(Collector):
    def __init__(self, families: list[_Family]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        for family in sorted(self._families, key=lambda f: f.name):
            yield family.metric()
