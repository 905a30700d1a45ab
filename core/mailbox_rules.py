"""Rules for a mailbox: its sending limits, the host it names, and which addresses the service
may connect to on a user's word.

Defaults follow what cold-outreach tools (lemlist, Instantly) advise to keep a mailbox out of
spam folders: a new mailbox starts at 40 messages a day and grows by 2 a day, sends go minutes
apart, and only in working hours.
"""

from __future__ import annotations

import ipaddress
import random
import re
from dataclasses import dataclass
from enum import StrEnum

from core.errors import FieldProblem, InvalidInput

# Bounds of every limit, shared by the API's schema and the table's CHECK constraints.
PER_MINUTE_MAX = 60_000
DAILY_CAP_MAX = 1_000_000
GAP_SECONDS_MAX = 3_600

DEFAULT_PER_MINUTE = 10
DEFAULT_DAILY_CAP = 100
DEFAULT_RAMP_START = 40
DEFAULT_RAMP_INCREMENT = 2
DEFAULT_GAP_MIN_SECONDS = 60
DEFAULT_GAP_MAX_SECONDS = 180
DEFAULT_WINDOW_START_HOUR = 9
DEFAULT_WINDOW_END_HOUR = 17
DEFAULT_WINDOW_WEEKDAYS = (1, 2, 3, 4, 5)

# RFC 1123 host names (labels of letters, digits and inner hyphens, 253 characters in all), or
# an IPv4 or bracket-less IPv6 literal; nothing with a scheme, a port, a path or spaces.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def check_host(host: str) -> str:
    """``host`` trimmed and lower-cased, or ``ValueError`` saying why it is not a host name."""
    host = host.strip().lower().rstrip(".")
    if not host:
        raise ValueError("must be a host name or IP address")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise ValueError("must be a host name (letters, digits, hyphens, dots) or an IP address")
    return host


def refusal(address: str, *, allow_private: bool) -> str | None:
    """Why the service must not connect to ``address`` for a user, or ``None`` if it may.

    Never: link-local addresses (cloud metadata services answer on 169.254.169.254 and
    fd00:ec2::254), unspecified, multicast or reserved ones. Loopback and private networks only
    when ``allow_private`` (a self-hosted relay on the same machine or LAN).
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local or ip == ipaddress.ip_address("fd00:ec2::254"):
        return "a link-local address (where cloud metadata services answer)"
    # ::1 sits in a reserved IPv6 block, so loopback is judged before reserved addresses.
    if ip.is_unspecified or ip.is_multicast or (ip.is_reserved and not ip.is_loopback):
        return "not a unicast address"
    if not allow_private and (ip.is_loopback or ip.is_private or not ip.is_global):
        return "a loopback or private address (CM_SMTP_ALLOW_PRIVATE_HOSTS is off)"
    return None


@dataclass(frozen=True)
class SendingLimits:
    """How fast one mailbox may send. A new mailbox's daily cap starts at ``ramp_start`` and
    grows by ``ramp_increment`` a day up to ``daily_cap``; sends are ``gap_min_seconds`` to
    ``gap_max_seconds`` apart (drawn at random) and at most ``per_minute`` in any minute."""

    per_minute: int = DEFAULT_PER_MINUTE
    daily_cap: int = DEFAULT_DAILY_CAP
    ramp_start: int = DEFAULT_RAMP_START
    ramp_increment: int = DEFAULT_RAMP_INCREMENT
    gap_min_seconds: int = DEFAULT_GAP_MIN_SECONDS
    gap_max_seconds: int = DEFAULT_GAP_MAX_SECONDS

    def __post_init__(self) -> None:
        problems = limit_problems(
            per_minute=self.per_minute,
            daily_cap=self.daily_cap,
            ramp_start=self.ramp_start,
            ramp_increment=self.ramp_increment,
            gap_min_seconds=self.gap_min_seconds,
            gap_max_seconds=self.gap_max_seconds,
        )
        if problems:
            raise InvalidInput("; ".join(f"{p.field} {p.message}" for p in problems), problems)

    def daily_cap_on(self, days_in_use: int) -> int:
        """The cap on the mailbox's ``days_in_use``-th day of sending (0 on its first day)."""
        ramped = self.ramp_start + self.ramp_increment * max(days_in_use, 0)
        return min(self.daily_cap, ramped)

    def draw_gap(self, rng: random.Random) -> float:
        """Seconds to leave after a send before the next one, drawn uniformly from the gap's
        range. The sender draws it, not the limiter, so the limiter's script stays
        deterministic."""
        return rng.uniform(self.gap_min_seconds, self.gap_max_seconds)


class LimitReason(StrEnum):
    """Which of a mailbox's limits holds a send back."""

    PER_MINUTE = "per_minute"
    DAILY_CAP = "daily_cap"
    GAP = "gap"


def limit_problems(
    *,
    per_minute: int,
    daily_cap: int,
    ramp_start: int,
    ramp_increment: int,
    gap_min_seconds: int,
    gap_max_seconds: int,
) -> list[FieldProblem]:
    """What is wrong with a set of limits, one problem per field (empty when they are valid)."""
    ranges = {
        "per_minute": (per_minute, 1, PER_MINUTE_MAX),
        "daily_cap": (daily_cap, 1, DAILY_CAP_MAX),
        "ramp_start": (ramp_start, 1, DAILY_CAP_MAX),
        "ramp_increment": (ramp_increment, 0, DAILY_CAP_MAX),
        "gap_min_seconds": (gap_min_seconds, 0, GAP_SECONDS_MAX),
        "gap_max_seconds": (gap_max_seconds, 0, GAP_SECONDS_MAX),
    }
    problems = [
        FieldProblem(name, f"must be from {low} to {high}")
        for name, (value, low, high) in ranges.items()
        if not low <= value <= high
    ]
    if not problems and gap_min_seconds > gap_max_seconds:
        problems.append(FieldProblem("gap_max_seconds", "must not be less than gap_min_seconds"))
    return problems
