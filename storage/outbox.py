"""The outbox folder: where mail goes when a workspace has no mailbox, one ``.eml`` file per
message under ``DATA/outbox/<workspace id>/``, so the product sends nothing off the machine
until someone configures a mailbox.

File names are the message's id (a UUIDv7, so names sort by time) and nothing the message
says: no header can choose where a file lands, and an id that is not a UUID never reaches the
file system. Writes go to a temporary file first and are renamed into place, so a reader never
sees half a message. File system calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from core import metrics
from core.errors import NotFound
from core.ids import new_id

_FILE_NAME = re.compile(r"^(?P<id>[0-9a-f]{32})\.eml$")


@dataclass(frozen=True)
class OutboxEntry:
    """A message in the outbox, as its headers describe it."""

    id: uuid.UUID
    to: str
    subject: str
    date: datetime
    size: int


@dataclass(frozen=True)
class OutboxMessage:
    entry: OutboxEntry
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None


class Outbox:
    """The outbox folders of every workspace under one root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Outbox:
        return cls(data_dir / "outbox")

    def _folder(self, workspace_id: uuid.UUID) -> Path:
        return self.root / workspace_id.hex

    async def write(self, workspace_id: uuid.UUID, message: EmailMessage) -> OutboxEntry:
        """Store ``message`` for ``workspace_id``; a message without a Date gets one now."""
        if message["Date"] is None:
            message["Date"] = datetime.now(UTC)
        return await asyncio.to_thread(self._write, workspace_id, message)

    def _write(self, workspace_id: uuid.UUID, message: EmailMessage) -> OutboxEntry:
        message_id = new_id()
        data = message.as_bytes(policy=policy.SMTP)
        self._store(workspace_id, message_id, data)
        return _entry(message_id, message, len(data))

    async def write_bytes(
        self, workspace_id: uuid.UUID, message_id: uuid.UUID, data: bytes
    ) -> None:
        """Store a built message under ``message_id`` (an email record's id: writing the same
        record's message again replaces its file, so the folder holds it once)."""
        await asyncio.to_thread(self._store, workspace_id, message_id, data)

    def _store(self, workspace_id: uuid.UUID, message_id: uuid.UUID, data: bytes) -> None:
        folder = self._folder(workspace_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message_id.hex}.eml"
        partial = folder / f".{message_id.hex}.{new_id().hex}.partial"
        with partial.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
        metrics.OUTBOX_WRITTEN.inc()

    async def recent(
        self, workspace_id: uuid.UUID, *, limit: int, before: uuid.UUID | None = None
    ) -> tuple[list[OutboxEntry], uuid.UUID | None]:
        """Up to ``limit`` entries, newest first, older than ``before`` when given; and the id to
        pass as ``before`` for the next page (``None`` on the last page)."""
        return await asyncio.to_thread(self._list, workspace_id, limit, before)

    def _list(
        self, workspace_id: uuid.UUID, limit: int, before: uuid.UUID | None
    ) -> tuple[list[OutboxEntry], uuid.UUID | None]:
        folder = self._folder(workspace_id)
        try:
            names = [entry.name for entry in os.scandir(folder) if entry.is_file()]
        except FileNotFoundError:
            return [], None
        ids = sorted(
            (uuid.UUID(found["id"]) for name in names if (found := _FILE_NAME.match(name))),
            reverse=True,
        )
        if before is not None:
            ids = [message_id for message_id in ids if message_id < before]
        page = []
        for message_id in ids[:limit]:
            path = folder / f"{message_id.hex}.eml"
            try:
                with path.open("rb") as file:
                    headers = BytesHeaderParser(policy=policy.default).parse(file)
                size = path.stat().st_size
            except FileNotFoundError:  # removed since the folder was read
                continue
            assert isinstance(headers, EmailMessage)
            page.append(_entry(message_id, headers, size))
        more = len(ids) > limit
        return page, (ids[limit - 1] if more else None)

    async def read(self, workspace_id: uuid.UUID, message_id: uuid.UUID) -> OutboxMessage:
        """One message of ``workspace_id``; another workspace's is ``NotFound`` too."""
        return await asyncio.to_thread(self._read, workspace_id, message_id)

    def _read(self, workspace_id: uuid.UUID, message_id: uuid.UUID) -> OutboxMessage:
        path = self._folder(workspace_id) / f"{message_id.hex}.eml"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"outbox message {message_id} not found") from None
        message = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        return OutboxMessage(
            entry=_entry(message_id, message, len(data)),
            headers=[(name, str(value)) for name, value in message.items()],
            text=_body(message, "plain"),
            html=_body(message, "html"),
        )


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    assert isinstance(part, EmailMessage)
    content = part.get_content()
    # Files are written with SMTP's CRLF line ends; readers get the text as it was written.
    return content.replace("\r\n", "\n") if isinstance(content, str) else None


def _entry(message_id: uuid.UUID, message: EmailMessage, size: int) -> OutboxEntry:
    return OutboxEntry(
        id=message_id,
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        date=_date(message, message_id),
        size=size,
    )


def _date(message: EmailMessage, message_id: uuid.UUID) -> datetime:
    """The Date header, or the time in the id when it is missing or unreadable."""
    try:
        value = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        value = None
    if value is None:
        # A UUIDv7 starts with its creation time in milliseconds since the epoch.
        return datetime.fromtimestamp((message_id.int >> 80) / 1000, UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
