"""Time-ordered UUIDs (version 7, RFC 9562) for primary keys.

Ordered ids keep B-tree inserts at the right edge of the index and make ``id`` a meaningful
tie-breaker for rows created in the same transaction (where ``now()`` is identical).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_sequence = 0


def new_id() -> uuid.UUID:
    """A UUIDv7: 48-bit Unix milliseconds, then a 12-bit counter within the millisecond and
    random bits, so ids made by one process are strictly increasing."""
    global _last_ms, _sequence
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            _sequence += 1
            if _sequence > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _sequence = 0
            now_ms = _last_ms
        else:
            _last_ms = now_ms
            _sequence = int.from_bytes(os.urandom(2), "big") & 0x3FF
        sequence = _sequence
    value = (now_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= sequence << 64
    value |= 0b10 << 62
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return uuid.UUID(int=value)
