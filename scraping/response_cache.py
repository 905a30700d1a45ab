"""A short-lived cache of successful GET answers, so that reading a fresh page again costs no
request (a refresh right after a discovery job read the same profile, two jobs meeting the
same artist).

Answers are keyed by their canonical URL: scheme and host in lower case, no fragment, the query
sorted and without ``client_id`` (SoundCloud rotates it; the answer does not depend on it). An
answer is fresh for ``ttl`` seconds. After that it is dropped, unless the server gave it an
``ETag`` or ``Last-Modified``: then it is kept (while room lasts) and the next read asks the
server with ``If-None-Match`` / ``If-Modified-Since``, and a 304 makes it fresh again. The
cache is bounded by entries and by bytes, evicting the least recently used first. It lives in
one process and one event loop (no locks: nothing here awaits).

Home pages and scripts are never kept (``holds_client_id``): they are where a new API client id
is read after the old one went stale, so a kept copy would hand back the stale one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

UNKEYED_PARAMS = frozenset({"client_id"})
"""Query parameters left out of the key: they say who asks, not what is asked for."""


def holds_client_id(key: str) -> bool:
    """Whether the answer under ``key`` is where SoundCloud hands out its API client id: the
    home page and the JS bundles."""
    path = urlsplit(key).path
    return path == "/" or path.endswith(".js")


@dataclass
class CachedAnswer:
    """One answer in the cache."""

    body: bytes
    fresh_until: float
    etag: str | None
    last_modified: str | None
    fresh: bool = True
    """Whether it was still fresh when looked up (set by ``ResponseCache.lookup``)."""

    @property
    def conditions(self) -> dict[str, str]:
        """The headers that ask the server whether this answer is still current."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class ResponseCache:
    """A TTL and LRU cache of response bodies.

    Args:
        ttl: seconds an answer is used without asking the server (0: the cache is off).
        max_entries: most answers kept.
        max_bytes: most body bytes kept in all; a larger single body is never kept.
        never_keep: answers (by key) that are always fetched anew.
        clock: the time, in seconds (``time.monotonic``; tests pass their own).
    """

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        never_keep: Callable[[str], bool] = holds_client_id,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0 or max_entries < 1 or max_bytes < 1:
            raise ValueError("ttl must be >= 0, max_entries and max_bytes positive")
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._never_keep = never_keep
        self._clock = clock
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._bytes = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Body bytes held now."""
        return self._bytes

    @staticmethod
    def key(url: str, params: Mapping[str, str] | None = None) -> str:
        """The canonical form of ``url`` with ``params`` added: what one answer is kept under."""
        parts = urlsplit(url)
        query = [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if name not in UNKEYED_PARAMS
        ]
        query += [(k, v) for k, v in (params or {}).items() if k not in UNKEYED_PARAMS]
        return urlunsplit(
            (
                parts.scheme.lower(),
                parts.netloc.lower(),
                parts.path or "/",
                urlencode(sorted(query)),
                "",
            )
        )

    def lookup(self, key: str) -> CachedAnswer | None:
        """The answer kept under ``key``: fresh, stale with a validator (``fresh`` False), or
        ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        entry.fresh = entry.fresh_until > self._clock()
        if not entry.fresh and not entry.conditions:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def store(self, key: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Keep a successful answer (its ``ETag`` and ``Last-Modified`` too)."""
        if not self.enabled or len(body) > self.max_bytes or self._never_keep(key):
            return
        self._drop(key)
        self._entries[key] = CachedAnswer(
            body,
            self._clock() + self.ttl,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
        )
        self._bytes += len(body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def revalidated(self, key: str) -> None:
        """The server said (304) that the answer under ``key`` is current: fresh again."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.fresh_until = self._clock() + self.ttl
            entry.fresh = True

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)
