"""Tracing and logs without a cluster: the spans file several processes share, the context an
actor call carries, the trees `campaign-manager traces` prints, and the log records' ids.

Each test builds its own providers (one per simulated process) instead of setting this
process's global one, so nothing here changes what other tests record.
"""

from __future__ import annotations

import http.server
import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanKind

from core import logs, telemetry
from core.errors import InvalidInput, NotFound
from core.settings import Settings
from serve.cli import main
from serve.traces import latest_traces, print_traces, render


def settings_in(folder: Path, **values: Any) -> Settings:
    return Settings(data_dir=folder, _env_file=None, **values)


def finished(provider: TracerProvider, names: list[str]) -> list[ReadableSpan]:
    spans = []
    for name in names:
        span = provider.get_tracer("t").start_span(name)
        span.end()
        spans.append(cast(ReadableSpan, span))
    return spans


def spans_in(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def outside_any_trace() -> Iterator[None]:
    """As in another process: nothing the test opened before is current."""
    token = otel_context.attach(otel_context.Context())
    yield
    otel_context.detach(token)


def a_request_reaching_an_actor(
    api: TracerProvider, actor: TracerProvider, *, statement: str = "UPDATE outreach SET x = $1"
) -> None:
    """What a launch does: an HTTP span with SQL under it, an actor call carrying its context,
    the actor's SQL under the call."""
    with telemetry.span(
        "POST /api/v1/outreach-campaigns/{outreach_id}/launch",
        kind="server",
        provider=api,
        attributes={"http.route": "/api/v1/outreach-campaigns/{outreach_id}/launch"},
    ) as request:
        request.set_attribute("http.response.status_code", 200)
        with api.get_tracer("sql").start_as_current_span("SELECT app", kind=SpanKind.CLIENT):
            pass
        carrier = telemetry.carry()
    token = otel_context.attach(otel_context.Context())  # the actor's process knows nothing else
    try:
        with telemetry.continued(carrier, "OutreachActor.command", provider=actor):
            sql = actor.get_tracer("sql").start_as_current_span(
                "UPDATE app", kind=SpanKind.CLIENT, attributes={"db.statement": statement}
            )
            with sql:
                pass
    finally:
        otel_context.detach(token)
    api.force_flush()
    actor.force_flush()


class TestOneTraceAcrossProcesses:
    def test_the_actor_call_continues_the_request_trace_in_the_shared_file(
        self, tmp_path: Path
    ) -> None:
        settings = settings_in(tmp_path)
        api = telemetry.build_provider(settings, "api")
        actor = telemetry.build_provider(settings, "outreach")

        a_request_reaching_an_actor(api, actor)

        spans = {s["name"]: s for s in spans_in(telemetry.spans_file(tmp_path))}
        assert set(spans) == {
            "POST /api/v1/outreach-campaigns/{outreach_id}/launch",
            "SELECT app",
            "OutreachActor.command",
            "UPDATE app",
        }
        assert len({s["trace_id"] for s in spans.values()}) == 1
        request = spans["POST /api/v1/outreach-campaigns/{outreach_id}/launch"]
        call = spans["OutreachActor.command"]
        assert request["parent_id"] is None
        assert (request["role"], request["kind"]) == ("api", "server")
        assert (call["role"], call["kind"], call["parent_id"]) == (
            "outreach",
            "server",
            request["span_id"],
        )
        assert spans["UPDATE app"]["parent_id"] == call["span_id"]
        assert call["attributes"]["rpc.method"] == "command"

    @pytest.mark.usefixtures("outside_any_trace")
    def test_the_request_id_travels_with_the_call(self, tmp_path: Path) -> None:
        provider = telemetry.build_provider(settings_in(tmp_path), "api")
        token = logs.request_id.set("req-7")
        try:
            with telemetry.span("GET /x", kind="server", provider=provider):
                carrier = telemetry.carry()
        finally:
            logs.request_id.reset(token)

        assert logs.request_id.get() is None
        with telemetry.continued(carrier, "SenderActor.deliver", provider=provider):
            assert logs.request_id.get() == "req-7"
        assert logs.request_id.get() is None

    @pytest.mark.usefixtures("outside_any_trace")
    def test_work_outside_any_trace_records_nothing(self, tmp_path: Path) -> None:
        settings = settings_in(tmp_path)
        actor = telemetry.build_provider(settings, "scheduler")

        assert telemetry.carry() == {}
        with telemetry.continued({}, "OutreachActor.ensure_running", provider=actor) as call:
            assert not call.is_recording()
            with actor.get_tracer("sql").start_as_current_span("SELECT", kind=SpanKind.CLIENT):
                pass
        actor.force_flush()

        assert not telemetry.spans_file(tmp_path).exists()

    @pytest.mark.usefixtures("outside_any_trace")
    def test_a_sample_ratio_of_zero_keeps_no_trace_and_the_actor_follows(
        self, tmp_path: Path
    ) -> None:
        settings = settings_in(tmp_path, trace_sample_ratio=0.0)
        api = telemetry.build_provider(settings, "api")
        actor = telemetry.build_provider(settings_in(tmp_path), "outreach")

        a_request_reaching_an_actor(api, actor)

        assert not telemetry.spans_file(tmp_path).exists()


class TestSpansFile:
    def test_it_moves_to_a_backup_past_its_bound_keeping_whole_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "spans.jsonl"
        provider = TracerProvider()
        exporter = telemetry.JsonLinesSpanExporter(path, max_bytes=4_000)
        spans = finished(provider, [f"span {index}" for index in range(40)])
        for span in spans:
            assert exporter.export([span]) is SpanExportResult.SUCCESS

        backup = tmp_path / "spans.jsonl.1"
        assert path.stat().st_size <= 4_000
        assert backup.exists()
        kept = [s["name"] for s in spans_in(backup) + spans_in(path)]
        # The newest spans are all there, in order, each on a line of its own.
        assert kept == [f"span {index}" for index in range(40 - len(kept), 40)]

    def test_writers_at_once_never_interleave_a_line(self, tmp_path: Path) -> None:
        path = tmp_path / "spans.jsonl"
        provider = TracerProvider()
        batch = finished(provider, ["x" * 200] * 50)

        def write() -> None:
            exporter = telemetry.JsonLinesSpanExporter(path)
            for _ in range(40):
                exporter.export(batch)

        writers = [threading.Thread(target=write) for _ in range(4)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=60)

        assert len(spans_in(path)) == 4 * 40 * 50


class TestTraceTrees:
    def test_the_latest_trace_prints_as_a_tree_with_its_key_facts(self, tmp_path: Path) -> None:
        settings = settings_in(tmp_path)
        api = telemetry.build_provider(settings, "api")
        actor = telemetry.build_provider(settings, "outreach")
        a_request_reaching_an_actor(api, actor, statement="SELECT 1")
        long = "UPDATE email_records SET status = $1 " + "WHERE id = $2 " * 20
        a_request_reaching_an_actor(api, actor, statement=long)

        (trace,) = latest_traces(telemetry.spans_file(tmp_path), 1)
        lines = render(trace)

        assert lines[0].startswith(f"trace {trace.trace_id}")
        assert lines[0].endswith("4 spans")
        request, sql, call, actor_sql = lines[1:]
        assert request.startswith("  POST /api/v1/outreach-campaigns/{outreach_id}/launch  [api]")
        assert "route=/api/v1/outreach-campaigns/{outreach_id}/launch" in request
        assert "status=200" in request
        assert sql.startswith("    SELECT app  [api]")
        assert call.startswith("    OutreachActor.command  [outreach]")
        assert actor_sql.startswith("      UPDATE app  [outreach]")
        assert " ms  ok  db=UPDATE email_records SET status = $1 WHERE id" in actor_sql
        assert actor_sql.endswith("…")

    def test_a_failed_span_and_a_span_whose_parent_is_elsewhere_say_so(
        self, tmp_path: Path
    ) -> None:
        provider = telemetry.build_provider(settings_in(tmp_path), "sender")
        carrier = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
        with (
            pytest.raises(ConnectionError),
            telemetry.continued(carrier, "SenderActor.deliver", provider=provider),
        ):
            raise ConnectionError("relay gone")
        provider.force_flush()

        (trace,) = latest_traces(telemetry.spans_file(tmp_path), 5)
        (line,) = render(trace)[1:]

        assert trace.trace_id == "0af7651916cd43dd8448eb211c80319c"
        assert "ERROR (ConnectionError: relay gone)" in line
        assert line.endswith("(parent not recorded)")

    def test_asking_for_no_trace_or_an_empty_folder_is_refused(self, tmp_path: Path) -> None:
        settings = settings_in(tmp_path)

        with pytest.raises(InvalidInput):
            print_traces(settings, 0, print)
        with pytest.raises(NotFound, match="no traces recorded"):
            print_traces(settings, 20, print)


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, put back as it was (pytest's own handlers included) after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``campaign-manager ARGS`` in this process (the command traces nothing itself): exit
    code, standard output, standard error."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exited:
        code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("root_logger")
class TestTracesCommand:
    def test_it_prints_the_latest_traces_as_trees(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        settings = settings_in(tmp_path)
        api = telemetry.build_provider(settings, "api")
        actor = telemetry.build_provider(settings, "outreach")
        for _ in range(3):
            a_request_reaching_an_actor(api, actor)

        code, out, err = cli(capsys, "--data-dir", str(tmp_path), "traces", "--last", "2")

        assert (code, err) == (0, "")
        assert [line for line in out.splitlines() if line.startswith("trace ")] == [
            line for line in out.splitlines() if not line.startswith(" ") and line
        ]
        assert out.count("\ntrace ") + out.startswith("trace ") == 2
        assert "\n    OutreachActor.command  [outreach]" in out

    @pytest.mark.parametrize(
        ("args", "says"),
        [(["--last", "0"], "--last"), ([], "no traces recorded")],
        ids=["no-trace-asked-for", "no-trace-file"],
    )
    def test_bad_input_is_one_line_and_a_failure(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
    ) -> None:
        code, out, err = cli(capsys, "--data-dir", str(tmp_path), "traces", *args)

        assert code != 0
        assert out == ""
        (line,) = err.strip().splitlines()
        assert line.startswith("error: ")
        assert says in line


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestLogs:
    def test_records_are_json_lines_with_the_trace_and_request_ids(
        self, tmp_path: Path, root_logger: logging.Logger
    ) -> None:
        stream = io.StringIO()
        logs.configure("info", role="outreach", log_dir=tmp_path / "logs", stream=stream)
        provider = telemetry.build_provider(settings_in(tmp_path), "outreach")
        token = logs.request_id.set("req-42")
        try:
            with telemetry.span("OutreachActor.command", provider=provider) as span:
                logging.getLogger("actors.outreach").info("outreach %s: launch committed", "o1")
            logging.getLogger("actors.outreach").debug("below the level")
        finally:
            logs.request_id.reset(token)

        (line,) = stream.getvalue().splitlines()
        record = json.loads(line)
        ids = span.get_span_context()
        assert record["message"] == "outreach o1: launch committed"
        assert (record["level"], record["logger"], record["role"]) == (
            "info",
            "actors.outreach",
            "outreach",
        )
        assert record["trace_id"] == format(ids.trace_id, "032x")
        assert record["span_id"] == format(ids.span_id, "016x")
        assert record["request_id"] == "req-42"
        (kept,) = (tmp_path / "logs" / logs.LOG_FILE_NAME).read_text().splitlines()
        assert json.loads(kept) == record

    def test_a_terminal_gets_readable_text_and_a_second_setup_replaces_the_first(
        self, root_logger: logging.Logger
    ) -> None:
        first, terminal = io.StringIO(), _Terminal()
        logs.configure("warning", role="cli", stream=first)
        logs.configure("debug", role="cli", stream=terminal)
        try:
            raise ValueError("bad row")
        except ValueError:
            logging.getLogger("storage").debug("could not read", exc_info=True)

        assert first.getvalue() == ""
        text = terminal.getvalue()
        assert " DEBUG storage: could not read\n" in text
        assert "ValueError: bad row" in text
        assert not text.lstrip().startswith("{")
        assert sum(getattr(h, "_cm_installed", False) for h in root_logger.handlers) == 1

    def test_an_unknown_level_name_means_warning(self) -> None:
        assert logs.level_number("loud") == logging.WARNING
        assert logs.level_number("DEBUG") == logging.DEBUG


class _Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class TestOtlpExport:
    def test_spans_go_to_the_collector_instead_of_the_file(self, tmp_path: Path) -> None:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            endpoint = f"http://127.0.0.1:{server.server_address[1]}"
            provider = telemetry.build_provider(
                settings_in(tmp_path, otlp_endpoint=endpoint), "sender"
            )
            with telemetry.span("SenderActor.deliver", kind="server", provider=provider):
                pass
            assert provider.force_flush(10_000)
        finally:
            server.shutdown()
            server.server_close()

        ((path, media_type, body),) = _Collector.received
        assert (path, media_type) == ("/v1/traces", "application/x-protobuf")
        assert b"SenderActor.deliver" in body
        assert b"campaign-manager" in body
        assert not telemetry.spans_file(tmp_path).exists()


class TestSettings:
    def test_the_otlp_endpoint_must_be_a_url_and_gets_the_traces_path(self) -> None:
        from core.errors import ConfigurationError
        from core.settings import load_settings

        with pytest.raises(ConfigurationError, match="CM_OTLP_ENDPOINT"):
            load_settings(otlp_endpoint="collector:4318", _env_file=None)
        assert telemetry.otlp_traces_url("http://collector:4318/") == (
            "http://collector:4318/v1/traces"
        )
        assert telemetry.otlp_traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"
