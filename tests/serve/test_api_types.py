"""The web app's API types (ui/src/api/schema.d.ts) are generated from the API's OpenAPI
document; this fails when the committed file no longer matches the API (``make ui-types``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "ui" / "src" / "api" / "schema.d.ts"
GENERATOR = ROOT / "ui" / "node_modules" / ".bin" / "openapi-typescript"


def test_committed_api_types_match_the_api(tmp_path: Path) -> None:
    assert GENERATOR.exists(), "ui/node_modules is missing: run `make test` (it runs npm ci)"
    assert shutil.which("node"), "Node 20 is needed to generate the web app's API types"
    document = tmp_path / "openapi.json"
    generated = tmp_path / "schema.d.ts"
    cli = Path(sys.executable).with_name("campaign-manager")
    subprocess.run([cli, "openapi", "--out", document], check=True, timeout=120)
    subprocess.run(
        [GENERATOR, document, "-o", generated],
        check=True,
        timeout=120,
        capture_output=True,
        cwd=ROOT / "ui",
    )

    assert generated.read_text() == COMMITTED.read_text(), (
        "ui/src/api/schema.d.ts is out of date with the API: run `make ui-types` and commit it"
    )
