"""The metrics without Ray: recording in this process, route templates as labels, and the
relay's merge of what each node's Ray metrics agent says (text as Ray 2.60's agent writes it)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families

from core import metrics
from serve.metrics import Node, alive_nodes, install_metrics, merge_nodes

RAY_LABELS = (
    'Component="core_worker",NodeAddress="10.0.0.1",SessionName="session_2026-11-30_03-58-29",'
    'Version="2.60.0",WorkerId="{worker}",otel_scope_name="ray._private.telemetry.'
    'open_telemetry_metric_recorder",otel_scope_schema_url="",otel_scope_version=""'
)


def ray_sample(name: str, worker: str, labels: str, value: float) -> str:
    return f"{name}{{{RAY_LABELS.format(worker=worker)},{labels}}} {value}"


def histogram(worker: str, counts: tuple[int, int, int], total: float) -> list[str]:
    labels = 'host_class="soundcloud"'
    lines = [
        ray_sample("ray_cm_pacing_wait_seconds_bucket", worker, f'{labels},le="{le}"', count)
        for le, count in zip(("0.5", "1.0", "+Inf"), counts, strict=True)
    ]
    lines.append(ray_sample("ray_cm_pacing_wait_seconds_count", worker, labels, counts[-1]))
    lines.append(ray_sample("ray_cm_pacing_wait_seconds_sum", worker, labels, total))
    return lines


ROUTE = 'method="GET",route="/api/v1/campaigns/{campaign_id}",status="200"'
NODE_A = "\n".join(
    [
        "# HELP ray_cm_http_requests_total HTTP requests answered by the API",
        "# TYPE ray_cm_http_requests_total counter",
        ray_sample("ray_cm_http_requests_total", "w1", ROUTE, 3.0),
        ray_sample("ray_cm_http_requests_total", "w2", ROUTE, 4.0),
        "# HELP ray_cm_pacing_wait_seconds Time a scraper request waited",
        "# TYPE ray_cm_pacing_wait_seconds histogram",
        *histogram("w1", (1, 2, 2), 0.75),
        *histogram("w2", (0, 1, 3), 7.5),
        "# HELP ray_tasks Current number of tasks currently in a particular state.",
        "# TYPE ray_tasks gauge",
        'ray_tasks{Component="core_worker",Name="ScraperActor.visit_many",State="RUNNING"} 5.0',
        "# HELP ray_actors An actor can be in one of several states.",
        "# TYPE ray_actors gauge",
        'ray_actors{Component="gcs_server",JobId="",Name="ScraperActor",NodeAddress="10.0.0.1",'
        'Source="gcs",State="ALIVE",Version="2.60.0"} 2.0',
        'ray_actors{JobId="01000000",Name="ScraperActor",NodeAddress="10.0.0.1",'
        'Source="executor",State="ALIVE_IDLE",otel_scope_name="x"} 1.0',
        'ray_actors{JobId="02000000",Name="ScraperActor",NodeAddress="10.0.0.1",'
        'Source="executor",State="ALIVE_IDLE",otel_scope_name="x"} 1.0',
        "# HELP process_open_fds Number of open file descriptors.",
        "# TYPE process_open_fds gauge",
        "process_open_fds 42.0",
    ]
)
NODE_B = "\n".join(
    [
        "# HELP ray_cm_http_requests_total HTTP requests answered by the API",
        "# TYPE ray_cm_http_requests_total counter",
        ray_sample("ray_cm_http_requests_total", "w9", ROUTE, 5.0),
    ]
)
A, B, C = (Node(f"10.0.0.{n}:9100", f"http://10.0.0.{n}:9100/metrics") for n in (1, 2, 3))


def series(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


class TestMergingWhatTheNodesSay:
    def test_each_node_is_summed_over_its_processes_and_keeps_only_its_own_labels(self) -> None:
        merged = series(merge_nodes([(A, NODE_A), (B, NODE_B), (C, None)]))
        route = {"method": "GET", "route": "/api/v1/campaigns/{campaign_id}", "status": "200"}

        assert merged[key("cm_http_requests_total", node=A.label, **route)] == 7.0
        assert merged[key("cm_http_requests_total", node=B.label, **route)] == 5.0
        assert merged[key("cm_metrics_node_up", node=A.label)] == 1.0
        assert merged[key("cm_metrics_node_up", node=C.label)] == 0.0
        # Ray's per-process and session labels are gone; nothing else of Ray's is relayed.
        labels = {label for _, pairs in merged for label, _ in pairs}
        assert labels <= {"method", "route", "status", "node", "host_class", "le", "Name", "State"}
        names = {name for name, _ in merged}
        assert not any(n.startswith(("ray_cm_", "ray_tasks", "process_")) for n in names)

    def test_histograms_add_up_bucket_by_bucket_in_order(self) -> None:
        body = merge_nodes([(A, NODE_A)])
        merged = series(body)
        bucket = "cm_pacing_wait_seconds_bucket"
        common = {"host_class": "soundcloud", "node": A.label}

        counts = [merged[key(bucket, le=le, **common)] for le in ("0.5", "1.0", "+Inf")]
        assert counts == [1.0, 3.0, 5.0]
        assert merged[key("cm_pacing_wait_seconds_count", **common)] == 5.0
        assert merged[key("cm_pacing_wait_seconds_sum", **common)] == 8.25
        lines = [line for line in body.decode().splitlines() if line.startswith(bucket)]
        assert [line.split('le="')[1].split('"')[0] for line in lines] == ["0.5", "1.0", "+Inf"]

    def test_ray_actors_are_counted_by_class_and_state(self) -> None:
        merged = series(merge_nodes([(A, NODE_A)]))

        idle = key("ray_actors", Name="ScraperActor", State="ALIVE_IDLE", node=A.label)
        alive = key("ray_actors", Name="ScraperActor", State="ALIVE", node=A.label)
        assert merged[idle] == 2.0
        assert merged[alive] == 2.0

    def test_each_family_is_described_once(self) -> None:
        body = merge_nodes([(A, NODE_A), (B, NODE_B)]).decode()

        assert body.count("# TYPE cm_http_requests_total counter") == 1
        assert body.count("# TYPE cm_pacing_wait_seconds histogram") == 1

    def test_an_agent_answering_something_unreadable_counts_as_down(self) -> None:
        garbled = 'ray_cm_http_requests_total{method="GET" 3.0'
        merged = series(merge_nodes([(A, garbled), (B, NODE_B)]))

        assert merged[key("cm_metrics_node_up", node=A.label)] == 0.0
        assert merged[key("cm_metrics_node_up", node=B.label)] == 1.0

    def test_only_alive_nodes_with_a_metrics_port_are_asked(self) -> None:
        nodes = alive_nodes(
            [
                {"Alive": True, "NodeManagerAddress": "10.0.0.1", "MetricsExportPort": 9100},
                {"Alive": False, "NodeManagerAddress": "10.0.0.2", "MetricsExportPort": 9100},
                {"Alive": True, "NodeManagerAddress": "10.0.0.3", "MetricsExportPort": None},
                {"Alive": True, "NodeManagerAddress": "fd00::4", "MetricsExportPort": 9100},
            ]
        )

        assert [node.url for node in nodes] == [
            "http://10.0.0.1:9100/metrics",
            "http://[fd00::4]:9100/metrics",
        ]


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/things")

    @router.get("/{thing_id}")
    async def thing(thing_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(thing_id)}

    @router.post("/{thing_id}/break")
    async def broken(thing_id: uuid.UUID) -> None:
        raise RuntimeError("a bug")

    app.include_router(router, prefix="/api/v1")
    install_metrics(app)
    return app


def requests(route: str, status: str, method: str = "GET") -> float:
    return metrics.sample("cm_http_requests_total", method=method, route=route, status=status)


class TestCountingRequests:
    async def test_the_label_is_the_route_template_with_its_prefix(self, app: FastAPI) -> None:
        template = "/api/v1/things/{thing_id}"
        transport = httpx.ASGITransport(app=app)
        with metrics.local_only():
            before = requests(template, "200"), requests(template, "422")
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for _ in range(3):
                    assert (await client.get(f"/api/v1/things/{uuid.uuid4()}")).status_code == 200
                assert (await client.get("/api/v1/things/not-a-uuid")).status_code == 422
            after = requests(template, "200"), requests(template, "422")
            timed = metrics.sample(
                "cm_http_request_duration_seconds_count", method="GET", route=template
            )
            in_flight = metrics.sample("cm_http_requests_in_flight")
            rendered = metrics.render_local().decode()

        assert after == (before[0] + 3, before[1] + 1)
        assert timed >= 4
        assert in_flight == 0
        assert "not-a-uuid" not in rendered

    async def test_a_request_that_raised_counts_as_a_500(self, app: FastAPI) -> None:
        template = "/api/v1/things/{thing_id}/break"
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        with metrics.local_only():
            before = requests(template, "500", "POST")
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answer = await client.post(f"/api/v1/things/{uuid.uuid4()}/break")
            after = requests(template, "500", "POST")

        assert answer.status_code == 500
        assert after == before + 1

    async def test_a_path_no_route_has_is_unmatched(self, app: FastAPI) -> None:
        transport = httpx.ASGITransport(app=app)
        with metrics.local_only():
            before = requests("unmatched", "404")
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get(f"/nothing/{uuid.uuid4()}")).status_code == 404
            assert requests("unmatched", "404") == before + 1


class TestRecording:
    def test_a_metric_recorded_with_the_wrong_labels_is_not_recorded_and_does_not_raise(
        self,
    ) -> None:
        with metrics.local_only():
            before = metrics.sample("cm_sends_total", outcome="sent", transport="smtp")
            metrics.SENDS.inc(outcome="sent")
            metrics.SENDS.inc(outcome="sent", transport="smtp", workspace="w")
            metrics.SENDS.inc(0, outcome="sent", transport="smtp")
            metrics.SENDS.inc(2, outcome="sent", transport="smtp")
            after = metrics.sample("cm_sends_total", outcome="sent", transport="smtp")

        assert after == before + 2

    def test_every_metric_is_shown_even_before_it_is_recorded(self) -> None:
        rendered = metrics.render_local().decode()

        for metric in metrics.CATALOGUE:
            assert f"# TYPE {metric.exported_names[0].removesuffix('_bucket')}" in rendered
        assert "_created" not in rendered
