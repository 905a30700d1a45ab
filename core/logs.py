"""Structured logs for every process of the service: JSON lines when stderr is not a terminal
(Ray workers, containers, CI), readable text on one; each record carries the trace and span id
of the span current when it was logged and the HTTP request's id.

Besides stderr, service processes (replicas, actors, jobs) append the same JSON lines to
``<data_dir>/logs/campaign-manager.jsonl``: Ray keeps a worker's stderr in files of its own
session, which a user has to hunt for, while the data folder is where everything else is.
Several processes append to the file at once, each record in one ``write`` with ``O_APPEND``;
it is rotated to ``.1`` when it passes :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from opentelemetry import trace

LogLevel = Literal["debug", "info", "warning", "error"]

LOG_FILE_NAME = "campaign-manager.jsonl"
# One file and one backup: a laptop's data folder must not fill up with logs.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Libraries that say something at INFO on every request.
_CHATTY = ("httpx", "httpcore", "aiobotocore", "botocore")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The HTTP request being served (Serve's ``X-Request-ID``, the client's when it sent one); set
by the edge middleware, read by every record logged while serving it."""

_role = "process"


class AppendOnlyFile:
    """A file that several processes append to: each :meth:`append` is one ``write`` with
    ``O_APPEND`` (so lines do not interleave), and the file moves to ``<name>.1`` when it would
    pass ``max_bytes`` (under a lock, so two processes do not both rotate it)."""

    def __init__(self, path: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.path = path
        self.backup = path.with_name(path.name + ".1")
        self.max_bytes = max_bytes
        self._lock = path.with_name(path.name + ".lock")

    def append(self, data: bytes) -> None:
        """Raises ``OSError`` when the folder cannot be written."""
        fd = self._open()
        try:
            size = os.fstat(fd).st_size
            if size and size + len(data) > self.max_bytes:
                os.close(fd)
                fd = -1
                self._rotate(len(data))
                fd = self._open()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            if fd >= 0:
                os.close(fd)

    def _open(self) -> int:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            return os.open(self.path, flags, 0o644)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, flags, 0o644)

    def _rotate(self, incoming: int) -> None:
        with open(self._lock, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                return
            # Another process may have rotated it while this one waited for the lock.
            if size and size + incoming > self.max_bytes:
                os.replace(self.path, self.backup)


def current_ids() -> dict[str, str]:
    """The current trace, span and request ids (those that are set)."""
    ids: dict[str, str] = {}
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        ids["trace_id"] = format(context.trace_id, "032x")
        ids["span_id"] = format(context.span_id, "016x")
    request = request_id.get()
    if request is not None:
        ids["request_id"] = request
    return ids


class _ContextFilter(logging.Filter):
    """Stamps the ids on the record where it is made (a handler may run elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "cm_ids"):
            record.cm_ids = current_ids()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, role, pid, the ids, and
    the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "role": _role,
            "pid": record.process,
            **(getattr(record, "cm_ids", None) or current_ids()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, message, then the ids, shortened."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = getattr(record, "cm_ids", None) or current_ids()
        tags = [f"trace={ids['trace_id'][:16]}"] if "trace_id" in ids else []
        if "request_id" in ids:
            tags.append(f"request={ids['request_id']}")
        if not tags:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first}  [{' '.join(tags)}]{newline}{rest}"


class AppendOnlyFileHandler(logging.Handler):
    """JSON lines into an :class:`AppendOnlyFile`. A folder that cannot be written (removed
    under a running process) drops the record rather than raising into the caller."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.file = AppendOnlyFile(path)
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            self.file.append(line.encode("utf-8", "replace"))
        except OSError:
            pass
        except Exception:
            self.handleError(record)


def level_number(level: str | int) -> int:
    """``"info"`` (any case) or a number as a ``logging`` level; an unknown name is WARNING
    (settings refuse one; this also reads the raw environment, before they are checked)."""
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    return number if isinstance(number, int) else logging.WARNING


def log_file(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_FILE_NAME


def configure(
    level: str | int,
    *,
    role: str,
    log_dir: Path | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Send the root logger's records at ``level`` and above to ``stream`` (stderr), as JSON
    unless it is a terminal, and, with ``log_dir``, as JSON lines to its log file. Calling it
    again replaces what an earlier call installed and nothing else (pytest's or Ray's handlers
    stay)."""
    global _role
    _role = role
    stream = stream if stream is not None else sys.stderr
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cm_installed", False):
            root.removeHandler(handler)
            handler.close()
    terminal = hasattr(stream, "isatty") and stream.isatty()
    console = logging.StreamHandler(stream)
    console.setFormatter(TextFormatter() if terminal else JsonFormatter())
    handlers: list[logging.Handler] = [console]
    if log_dir is not None:
        handlers.append(AppendOnlyFileHandler(log_dir / LOG_FILE_NAME))
    number = level_number(level)
    for handler in handlers:
        handler._cm_installed = True  # type: ignore[attr-defined]
        handler.addFilter(_ContextFilter())
        root.addHandler(handler)
    root.setLevel(number)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
