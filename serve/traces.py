"""``campaign-manager traces``: the latest traces in the data folder's spans file (written by
every process of this machine when ``CM_OTLP_ENDPOINT`` is unset), printed as trees.

The file is read from its end, so a large file costs only what the last traces take: lines come
newest first (in the order processes exported them); once ``count`` traces have been seen, lines
are read on only until they end well before those traces began (a span of a trace cannot end
before its trace started; :data:`LATE_EXPORT_NS` allows for a process that exported late).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import InvalidInput, NotFound
from core.settings import Settings
from core.telemetry import spans_file

CHUNK_BYTES = 1024 * 1024
# Spans leave a process in batches (every second, or at its exit): a span may be written this
# long after spans that ended later.
LATE_EXPORT_NS = 60 * 1_000_000_000
# A trace with more spans (a long discovery job) is cut in the listing, saying how many more.
MAX_SPANS_SHOWN = 200
ATTRIBUTE_CHARS = 80


@dataclass
class Span:
    record: dict[str, Any]
    children: list[Span] = field(default_factory=list)

    @property
    def span_id(self) -> str:
        return str(self.record.get("span_id", ""))

    @property
    def parent_id(self) -> str | None:
        parent = self.record.get("parent_id")
        return str(parent) if parent else None

    @property
    def start_ns(self) -> int:
        return int(self.record.get("start_ns") or 0)

    @property
    def end_ns(self) -> int:
        return int(self.record.get("end_ns") or self.start_ns)


@dataclass
class Trace:
    trace_id: str
    spans: list[Span]

    @property
    def start_ns(self) -> int:
        return min(span.start_ns for span in self.spans)

    @property
    def end_ns(self) -> int:
        return max(span.end_ns for span in self.spans)

    def roots(self) -> list[Span]:
        """The spans whose parent is not in the trace, each with its children attached (all
        sorted by start)."""
        by_id = {span.span_id: span for span in self.spans}
        roots = []
        for span in sorted(self.spans, key=lambda s: s.start_ns):
            parent = by_id.get(span.parent_id) if span.parent_id else None
            if parent is None or parent is span:
                roots.append(span)
            else:
                parent.children.append(span)
        return roots


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The file's lines, last first, read in chunks from the end."""
    with path.open("rb") as file:
        position = file.seek(0, 2)
        rest = b""
        while position > 0:
            size = min(CHUNK_BYTES, position)
            position -= size
            file.seek(position)
            lines = (file.read(size) + rest).split(b"\n")
            rest = lines[0]
            for line in reversed(lines[1:]):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest


def _records_backwards(paths: list[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        if not path.exists():
            continue
        for line in _lines_backwards(path):
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short (a full disk, a process killed mid-write)
            if isinstance(record, dict) and record.get("trace_id") and record.get("span_id"):
                yield record


def latest_traces(path: Path, count: int) -> list[Trace]:
    """The ``count`` traces whose spans were written last to ``path`` (and its ``.1``
    backup), oldest first."""
    found: dict[str, list[Span]] = {}
    floor: int | None = None
    for record in _records_backwards([path, path.with_name(path.name + ".1")]):
        span = Span(record)
        if floor is not None and span.end_ns < floor - LATE_EXPORT_NS:
            break
        spans = found.get(record["trace_id"])
        if spans is None:
            if len(found) >= count:
                continue  # an older trace than the ones chosen
            spans = found[record["trace_id"]] = []
        spans.append(span)
        if floor is not None:
            floor = min(floor, span.start_ns)
        elif len(found) >= count:
            floor = min(s.start_ns for chosen in found.values() for s in chosen)
    traces = [Trace(trace_id, spans) for trace_id, spans in found.items()]
    return sorted(traces, key=lambda trace: trace.start_ns)


def _milliseconds(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= ATTRIBUTE_CHARS else text[: ATTRIBUTE_CHARS - 1] + "…"


def _first(attributes: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = attributes.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return value
    return None


_KEY_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("route", ("http.route",)),
    ("status", ("http.response.status_code", "http.status_code")),
    ("request", ("http.request.header.x_request_id",)),
    ("db", ("db.query.text", "db.statement")),
    ("url", ("url.full", "http.url")),
)


def describe(span: Span) -> str:
    """One line for a span: name, role, duration, status, then its telling attributes."""
    record = span.record
    attributes = record.get("attributes") or {}
    parts = [
        str(record.get("name", "?")),
        f"[{record.get('role') or '?'}]",
        _milliseconds(float(record.get("duration_ms") or 0)),
    ]
    if record.get("status") == "error":
        message = record.get("status_message") or next(
            (
                event["attributes"].get("exception.type")
                for event in record.get("events") or []
                if event.get("name") == "exception"
            ),
            None,
        )
        parts.append(f"ERROR{f' ({_short(message)})' if message else ''}")
    else:
        parts.append("ok")
    for label, names in _KEY_ATTRIBUTES:
        if label == "url" and record.get("kind") != "client":
            continue  # a server span's own URL says nothing its route does not
        value = _first(attributes, *names)
        if value is not None:
            parts.append(f"{label}={_short(value)}")
    return "  ".join(parts)


def render(trace: Trace) -> list[str]:
    """The trace as indented lines: a heading, then each span under its parent."""
    started = datetime.fromtimestamp(trace.start_ns / 1e9, UTC)
    lines = [
        f"trace {trace.trace_id}  {started:%Y-%m-%d %H:%M:%S.%f}"[:-3]
        + f" UTC  {_milliseconds((trace.end_ns - trace.start_ns) / 1e6)}  {len(trace.spans)} spans"
    ]
    shown = 0

    def walk(span: Span, depth: int) -> None:
        nonlocal shown
        if shown >= MAX_SPANS_SHOWN:
            return
        shown += 1
        outside = span.parent_id is not None and depth == 0
        lines.append(
            "  " * (depth + 1) + describe(span) + ("  (parent not recorded)" if outside else "")
        )
        for child in sorted(span.children, key=lambda s: s.start_ns):
            walk(child, depth + 1)

    for root in trace.roots():
        walk(root, 0)
    if shown < len(trace.spans):
        lines.append(f"  … {len(trace.spans) - shown} more spans")
    return lines


_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def print_traces(settings: Settings, count: int, say: Callable[[str], None]) -> int:
    """Print the latest ``count`` traces; returns how many were printed.

    Raises:
        InvalidInput: ``count`` is below 1.
        NotFound: no spans were recorded in this data folder.
    """
    if count < 1:
        raise InvalidInput("--last must be at least 1")
    path = spans_file(settings.data_dir)
    traces = [t for t in latest_traces(path, count) if _TRACE_ID.match(t.trace_id)]
    if not traces:
        where = (
            f"; spans go to {settings.otlp_endpoint} (CM_OTLP_ENDPOINT)"
            if settings.otlp_endpoint
            else " (the service writes them there as it serves requests)"
        )
        raise NotFound(f"no traces recorded in {path}{where}")
    for index, trace in enumerate(traces):
        if index:
            say("")
        for line in render(trace):
            say(line)
    return len(traces)
