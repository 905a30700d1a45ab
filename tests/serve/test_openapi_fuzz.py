"""Schemathesis over every operation of ``/api/openapi.json``, as a workspace owner, on Serve.

Whatever it sends, valid or not, the API must never answer 5xx and every answer must match what
the document says (status code, content type, headers, body). Examples per operation are bounded
so the suite stays short; the seed is fixed so a failure replays.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.settings import Settings
from serve.app import build_app

EXAMPLES_PER_OPERATION = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def owner_headers(served_url: str) -> Iterator[dict[str, str]]:
    """An owner of a workspace of their own for each operation, so what the fuzzer deletes or
    renames in one operation cannot hide another's answers, and no token reaches its rate limit."""
    with httpx.Client(base_url=served_url, timeout=30) as client:
        response = client.post(
            "/api/v1/auth/register",
            json={
                "email": f"fuzz-{uuid.uuid4().hex[:10]}@label.example",
                "password": "correct horse battery",
                "display_name": "Fuzz",
            },
        )
        assert response.status_code == 201, response.text
        yield {"Authorization": f"Bearer {response.json()['tokens']['access_token']}"}


def _document() -> dict[str, Any]:
    # The document depends on the code only, so it is read at collection, without servers,
    # and each operation becomes a test of its own.
    settings_ = Settings(data_dir=Path(tempfile.gettempdir()), _env_file=None)  # type: ignore[call-arg]
    return build_app(settings_).openapi()


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_matches_the_document(
    case: schemathesis.Case, served_url: str, owner_headers: dict[str, str]
) -> None:
    case.call_and_validate(base_url=served_url, headers=owner_headers, checks=CHECKS, timeout=30)
