"""One trace from an HTTP request on the Serve deployment through the actor it reaches, and a
log line carrying its ids (docs/observability.md).

The replica and the actors each export their spans to the data folder's spans file (batched,
about every second) and log JSON lines to its log file; the test reads both, bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import logs, telemetry
from core.settings import Settings
from tests.serve.conftest import Account
from tests.serve.test_outreach_api import OUTREACH
from tests.serve.test_outreach_sending import an_outreach

pytestmark = pytest.mark.usefixtures("ray_cluster")

# The exporters write within a second or two; an outreach of one recipient completes in a few.
WAIT_SECONDS = 60.0


class Tail:
    """What was appended to a JSON-lines file (shared by the whole session) after a point."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        text = self.path.read_bytes()
        backup = self.path.with_name(self.path.name + ".1")
        if len(text) < self.offset and backup.exists():  # rotated meanwhile
            text = backup.read_bytes()[self.offset :] + text
        else:
            text = text[self.offset :]
        found = []
        for line in text.decode().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # a line still being written
        return found


def ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[str]:
    names = []
    parent = by_id.get(span.get("parent_id") or "")
    while parent is not None:
        names.append(parent["name"])
        parent = by_id.get(parent.get("parent_id") or "")
    return names


def is_sql(span: dict[str, Any]) -> bool:
    attributes = span["attributes"]
    return "postgresql" in (attributes.get("db.system"), attributes.get("db.system.name"))


class TestOneTraceThroughTheActors:
    async def test_a_launch_is_one_trace_from_the_request_through_the_actor_to_its_sql(
        self, api: httpx.AsyncClient, owner: Account, app_settings: Settings
    ) -> None:
        outreach_id = await an_outreach(api, owner, [f"artist.{uuid.uuid4().hex[:8]}@music.ex"])
        spans_file = Tail(telemetry.spans_file(app_settings.data_dir))
        log_file = Tail(logs.log_file(app_settings.data_dir))
        request_id = f"trace-test-{uuid.uuid4().hex}"

        launched = await api.post(
            f"{OUTREACH}/{outreach_id}/launch",
            headers={**owner.headers, "X-Request-ID": request_id},
        )
        assert launched.status_code == 200, launched.text
        assert launched.headers["x-request-id"] == request_id

        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            spans = spans_file.records()
            request = next(
                (
                    span
                    for span in spans
                    if span["kind"] == "server"
                    and span["attributes"].get("http.request.header.x_request_id") == [request_id]
                ),
                None,
            )
            trace = [s for s in spans if request and s["trace_id"] == request["trace_id"]]
            by_id = {span["span_id"]: span for span in trace}
            calls = [s for s in trace if s["name"] == "OutreachActor.command"]
            actor_sql = [
                s for s in trace if is_sql(s) and "OutreachActor.command" in ancestors(s, by_id)
            ]
            lines = [
                record
                for record in log_file.records()
                if request and record.get("trace_id") == request["trace_id"]
            ]
            if request and calls and actor_sql and lines:
                break
            assert time.monotonic() < deadline, (
                f"no complete trace for request {request_id} after {WAIT_SECONDS:.0f} s: "
                f"request span {request}, spans {[(s['name'], s['role']) for s in trace]}, "
                f"log lines {lines}"
            )
            await asyncio.sleep(0.5)

        assert request is not None
        assert request["role"] == "api"
        assert request["parent_id"] is None
        assert request["attributes"]["http.route"] == (
            "/api/v1/outreach-campaigns/{outreach_campaign_id}/launch"
        )
        # The instrumentation writes the semantic conventions' older names by default.
        assert request["attributes"]["http.status_code"] == 200
        # The route's own SQL (the caller's membership, the outreach read) is in the trace too.
        assert any(is_sql(s) and s["role"] == "api" for s in trace)
        (call,) = calls
        assert (call["role"], call["kind"], call["parent_id"]) == (
            "outreach",
            "server",
            request["span_id"],
        )
        assert {s["role"] for s in actor_sql} == {"outreach"}
        assert any(
            s["attributes"].get("db.statement", "").startswith("UPDATE outreach_campaigns")
            for s in actor_sql
        ), [s["attributes"].get("db.statement") for s in actor_sql]
        # The actor's log line of the launch carries the trace, its span and the request id.
        committed = [r for r in lines if "launch committed" in r["message"]]
        assert committed, lines
        assert committed[0]["role"] == "outreach"
        assert committed[0]["span_id"] == call["span_id"]
        assert committed[0]["request_id"] == request_id
