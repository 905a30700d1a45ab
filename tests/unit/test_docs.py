"""The project's documents stand alone: a clone has every file they send readers to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "loadtests" / "README.md",
    ROOT / "serve_config.yaml",
    *sorted((ROOT / "docs").glob("*.md")),
]
# `path/to/file.md`-style references and markdown links to files of the repository.
_REFERENCE = re.compile(r"`((?:\.\./|[\w.-]+/)[\w./-]+\.(?:md|yaml|py|json))`|\]\(([^)#:]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
class TestDocumentsStandAlone:
    def test_no_document_points_outside_the_clone(self, document: Path) -> None:
        assert "../shared" not in document.read_text()

    def test_every_file_a_document_names_exists(self, document: Path) -> None:
        text = document.read_text()
        missing = []
        for match in _REFERENCE.finditer(text):
            reference = (match.group(1) or match.group(2)).split(":")[0]
            if not ((document.parent / reference).exists() or (ROOT / reference).exists()):
                missing.append(reference)
        assert missing == []
