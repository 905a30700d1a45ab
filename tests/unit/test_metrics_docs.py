"""The Grafana dashboard and docs/metrics.md stay in step with the metrics the service exports:
a query naming a metric that does not exist would draw an empty panel without saying why."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from core import metrics
from serve.metrics import exported_names

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
DOCS = ROOT / "docs" / "metrics.md"

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "group_left", "group_right"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions,
    aggregations, keywords, label names or numbers."""
    bare = _GROUPING.sub(" ", _RANGES.sub(" ", _MATCHERS.sub(" ", _STRINGS.sub(" ", expr))))
    names = set()
    for match in _IDENTIFIER.finditer(bare):
        if match.group(1) or match.group(0) in _KEYWORDS:
            continue
        names.add(match.group(0))
    return names


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def test_the_expression_reader_finds_metric_names_only() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(cm_x_bucket{status=~"5.."}'
        "[$__rate_interval]))) / on (node) group_left max by (node) (ray_y)"
    )

    assert metric_names(expr) == {"cm_x_bucket", "ray_y"}


def test_every_query_reads_only_metrics_the_service_exports(dashboard: dict[str, Any]) -> None:
    exported = exported_names()
    unknown = {
        (panel["title"], name)
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
        for name in metric_names(target["expr"])
        if name not in exported
    }

    assert unknown == set()


def test_every_metric_has_a_panel(dashboard: dict[str, Any]) -> None:
    read = {
        name
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
        for name in metric_names(target["expr"])
    }

    assert [m.name for m in metrics.CATALOGUE if not read & set(m.exported_names)] == []


def test_the_dashboard_asks_for_a_prometheus_data_source(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    ids = [panel["id"] for panel in panels(dashboard)]

    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard):
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]
            assert {"x", "y", "w", "h"} <= panel["gridPos"].keys()


def test_the_docs_list_every_metric() -> None:
    text = DOCS.read_text()
    # As queried: counters with their _total, histograms by their base name.
    listed = {
        m.name: m.exported_names[0] if m.kind == "counter" else m.name for m in metrics.CATALOGUE
    }

    assert [name for name, shown in listed.items() if f"`{shown}`" not in text] == []
