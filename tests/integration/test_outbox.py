"""The outbox folder keeps each workspace's messages as .eml files, newest first."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest

from core.errors import NotFound
from storage.outbox import Outbox


def message(n: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Label <me@label.example>"
    mail["To"] = f"dj{n}@artist.example"
    mail["Subject"] = f"Release {n}"
    mail.set_content(f"Hello {n}")
    mail.add_alternative(f"<p>Hello {n}</p>", subtype="html")
    return mail


class TestWritingAndReading:
    async def test_a_written_message_reads_back_with_its_parts(self, tmp_path: Path) -> None:
        outbox, ws = Outbox(tmp_path), uuid.uuid4()
        entry = await outbox.write(ws, message(1))
        read = await outbox.read(ws, entry.id)
        assert (read.entry.to, read.entry.subject) == ("dj1@artist.example", "Release 1")
        assert read.text is not None and read.text.strip() == "Hello 1"
        assert read.html is not None and "<p>Hello 1</p>" in read.html
        assert ("Subject", "Release 1") in read.headers
        assert (tmp_path / ws.hex / f"{entry.id.hex}.eml").stat().st_size == entry.size

    async def test_no_partial_file_is_left_behind(self, tmp_path: Path) -> None:
        outbox, ws = Outbox(tmp_path), uuid.uuid4()
        await outbox.write(ws, message(1))
        assert [p.suffix for p in (tmp_path / ws.hex).iterdir()] == [".eml"]

    async def test_a_subject_cannot_choose_the_file_name(self, tmp_path: Path) -> None:
        outbox, ws = Outbox(tmp_path), uuid.uuid4()
        mail = message(1)
        mail.replace_header("Subject", "../../etc/passwd")
        entry = await outbox.write(ws, mail)
        assert [p.name for p in (tmp_path / ws.hex).iterdir()] == [f"{entry.id.hex}.eml"]


class TestListing:
    async def test_newest_first_a_page_at_a_time(self, tmp_path: Path) -> None:
        outbox, ws = Outbox(tmp_path), uuid.uuid4()
        written = [await outbox.write(ws, message(n)) for n in range(5)]
        first, after = await outbox.recent(ws, limit=3)
        assert [e.subject for e in first] == ["Release 4", "Release 3", "Release 2"]
        second, end = await outbox.recent(ws, limit=3, before=after)
        assert [e.id for e in second] == [written[1].id, written[0].id]
        assert end is None

    async def test_an_empty_outbox_lists_nothing(self, tmp_path: Path) -> None:
        assert await Outbox(tmp_path).recent(uuid.uuid4(), limit=10) == ([], None)


class TestWorkspaces:
    async def test_another_workspaces_message_is_not_found(self, tmp_path: Path) -> None:
        outbox, mine, theirs = Outbox(tmp_path), uuid.uuid4(), uuid.uuid4()
        entry = await outbox.write(mine, message(1))
        with pytest.raises(NotFound):
            await outbox.read(theirs, entry.id)
        assert await outbox.recent(theirs, limit=10) == ([], None)
