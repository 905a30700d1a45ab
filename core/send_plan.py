"""When an outreach's messages go: each recipient's sending window in their local time, the
mailbox's pace (spacing, per-minute limit), its daily cap as it ramps up, and the outreach's own
daily limit.

:func:`schedule` yields one send time per recipient; the preview summarises it
(:func:`plan_sends`) and a sender can pace by the same rules. A day, for every cap here, is a
UTC calendar day, so every process counts the same day whatever its own clock's zone.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.mailbox_rules import SendingLimits
from core.sending_window import SendingWindow, next_send_time

# A preview lists at most a year of days; the totals still cover every planned message.
MAX_PLAN_DAYS = 366
# Every time zone in use today is a whole number of quarter hours from UTC and windows open and
# close on local whole hours, so whether a window is open can only change on a UTC quarter hour.
_QUARTER_HOUR = timedelta(minutes=15)


@dataclass(frozen=True)
class Pace:
    """How fast one outreach may send.

    Args:
        daily_limit: the outreach's own cap on messages a day.
        limits: the mailbox's limits; ``None`` for the outbox folder, which has none.
        window: the mailbox's sending window in the recipient's time; ``None``: any time.
        ramp_origin: the day the mailbox first sent (its ramp-up counts calendar days from
            it); ``None`` when it never has, so the plan's first sending day is its first.
    """

    daily_limit: int
    limits: SendingLimits | None = None
    window: SendingWindow | None = None
    ramp_origin: date | None = None

    @property
    def spacing(self) -> timedelta:
        """Time between two sends: the mean of the mailbox's random gap (what a sender drawing
        gaps averages), and never less than its per-minute limit allows."""
        if self.limits is None:
            return timedelta(0)
        gap = (self.limits.gap_min_seconds + self.limits.gap_max_seconds) / 2
        return timedelta(seconds=max(gap, 60 / self.limits.per_minute))

    def cap_on(self, day: date, origin: date) -> int:
        """Messages allowed on ``day``, the mailbox having started sending on ``origin``."""
        if self.limits is None:
            return self.daily_limit
        return min(self.daily_limit, self.limits.daily_cap_on((day - origin).days))


def schedule(
    zones: Sequence[ZoneInfo], pace: Pace, start: datetime
) -> Iterator[tuple[int, datetime]]:
    """``(recipient index, send time in UTC)`` for every recipient of ``zones`` (their time
    zones, in the order senders claim them), earliest first, from ``start`` (aware).

    The next message goes to the recipient whose window opens first, earlier-claimed ones first
    among equals; so recipients whose night it is wait without holding up the others.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    waiting: dict[str, deque[int]] = {}
    zone_of: dict[str, ZoneInfo] = {}
    for index, zone in enumerate(zones):
        waiting.setdefault(zone.key, deque()).append(index)
        zone_of.setdefault(zone.key, zone)
    opens: dict[tuple[str, datetime], datetime] = {}

    def earliest(key: str, at: datetime) -> datetime:
        if pace.window is None:
            return at
        # Openness is constant within a quarter hour (see _QUARTER_HOUR), so the answer for the
        # quarter's start, computed once per zone and quarter, gives the answer for any moment.
        quarter = _quarter_of(at)
        found = opens.get((key, quarter))
        if found is None:
            found = opens[(key, quarter)] = next_send_time(pace.window, zone_of[key], quarter)
        return max(at, found)

    cursor = start.astimezone(UTC)
    # (earliest time, the zone's first claim index, zone): a stale time is refreshed when popped.
    heap = [(earliest(key, cursor), queue[0], key) for key, queue in waiting.items()]
    heapq.heapify(heap)
    origin = pace.ramp_origin
    day, sent_today = cursor.date(), 0
    while heap:
        at, order, key = heapq.heappop(heap)
        if at < cursor:
            heapq.heappush(heap, (earliest(key, cursor), order, key))
            continue
        if at.date() != day:
            day, sent_today = at.date(), 0
        if sent_today >= pace.cap_on(day, origin or day):
            cursor = datetime.combine(day + timedelta(days=1), time(), UTC)
            heapq.heappush(heap, (at, order, key))
            continue
        queue = waiting[key]
        yield queue.popleft(), at
        origin = origin or day
        sent_today += 1
        cursor = at + pace.spacing
        if queue:
            heapq.heappush(heap, (at, queue[0], key))


def _quarter_of(at: datetime) -> datetime:
    return at - timedelta(minutes=at.minute % 15, seconds=at.second, microseconds=at.microsecond)


@dataclass(frozen=True)
class PlanDay:
    day: date
    messages: int


@dataclass(frozen=True)
class SendPlan:
    """A summary of :func:`schedule`: ``days`` lists the days with sends, the first
    ``MAX_PLAN_DAYS`` of them (``days_truncated`` says when more were left out)."""

    messages: int
    first_send_at: datetime | None
    last_send_at: datetime | None
    days_needed: int
    days: list[PlanDay]
    days_truncated: bool


def plan_sends(
    zones: Sequence[ZoneInfo], pace: Pace, start: datetime, *, max_days: int = MAX_PLAN_DAYS
) -> SendPlan:
    """How many messages go, from when to when, over how many calendar days, and how many on
    each day."""
    per_day: Counter[date] = Counter()
    first = last = None
    for _, at in schedule(zones, pace, start):
        first = first or at
        last = at
        per_day[at.date()] += 1
    days = [PlanDay(day, count) for day, count in sorted(per_day.items())]
    return SendPlan(
        messages=sum(per_day.values()),
        first_send_at=first,
        last_send_at=last,
        days_needed=(last.date() - first.date()).days + 1 if first and last else 0,
        days=days[:max_days],
        days_truncated=len(days) > max_days,
    )
