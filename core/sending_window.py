"""When a message may go: a mailbox's sending window (hours and weekdays) in the recipient's
local time, and the recipient's time zone from an artist's country and city.

Time zones come from the IANA database shipped in the ``tzdata`` package (kept current with
each tz release), read through :mod:`zoneinfo`; no table of offsets is kept here.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from core.errors import FieldProblem, InvalidInput

# ISO 8601 weekday numbers, as ``date.isoweekday()`` gives them: Monday is 1, Sunday 7.
WEEKDAYS = range(1, 8)
_UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class SendingWindow:
    """Local hours ``[start_hour, end_hour)`` on ``weekdays`` (ISO numbers, Monday = 1).

    ``end_hour`` 24 is midnight at the end of the day; an ``end_hour`` below ``start_hour``
    makes the window run past midnight into the next day, and such a window belongs to the
    weekday it starts on (Friday 22:00 to 06:00 is Friday's window, and lasts into Saturday).
    """

    start_hour: int
    end_hour: int
    weekdays: frozenset[int]

    def __post_init__(self) -> None:
        problems = window_problems(self.start_hour, self.end_hour, self.weekdays)
        if problems:
            raise InvalidInput("; ".join(f"{p.field} {p.message}" for p in problems), problems)

    @property
    def spans_midnight(self) -> bool:
        return self.end_hour < self.start_hour

    def _bounds(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants at which the window of local ``day`` opens and closes.

        A local time the clocks skip (spring forward) maps to the moment they jump, and one
        they pass twice (fall back) to its first occurrence: ``fold=0`` does both.
        """
        opens = datetime.combine(day, time(self.start_hour), zone)
        end_day = day + timedelta(days=1 if self.spans_midnight or self.end_hour == 24 else 0)
        closes = datetime.combine(end_day, time(self.end_hour % 24), zone)
        return opens.astimezone(UTC), closes.astimezone(UTC)


def window_problems(start_hour: int, end_hour: int, weekdays: Iterable[int]) -> list[FieldProblem]:
    """What is wrong with a window, one problem per field (empty when it is valid)."""
    problems = []
    if not 0 <= start_hour <= 23:
        problems.append(FieldProblem("window_start_hour", "must be from 0 to 23"))
    if not 1 <= end_hour <= 24:
        problems.append(FieldProblem("window_end_hour", "must be from 1 to 24"))
    elif start_hour == end_hour:
        problems.append(
            FieldProblem("window_end_hour", "must differ from window_start_hour (an empty window)")
        )
    days = list(weekdays)
    if not days:
        problems.append(FieldProblem("window_weekdays", "must name at least one weekday"))
    elif any(day not in WEEKDAYS for day in days):
        problems.append(FieldProblem("window_weekdays", "must be ISO weekdays, 1 (Mon) to 7 (Sun)"))
    elif len(set(days)) != len(days):
        problems.append(FieldProblem("window_weekdays", "must not repeat a weekday"))
    return problems


def next_send_time(window: SendingWindow, zone: ZoneInfo, now: datetime) -> datetime:
    """The earliest instant at or after ``now`` (an aware time) inside ``window`` in ``zone``,
    in UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    today = now.astimezone(zone).date()
    # Yesterday's window may still be open past midnight; a week and a day later some window
    # has opened whatever the weekdays (at least one is required).
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        if day.isoweekday() not in window.weekdays:
            continue
        opens, closes = window._bounds(day, zone)
        if now < closes and opens < closes:
            return max(now, opens)
    raise AssertionError("a valid window opens within eight days")  # pragma: no cover


@dataclass(frozen=True)
class _Zone:
    name: str
    # The city part, folded for matching: "America/Los_Angeles" -> "los angeles".
    city: str


@functools.cache
def _zones_by_country() -> dict[str, tuple[_Zone, ...]]:
    """Each country's zones from tzdata's ``zone.tab``, its principal zone first (the file lists
    a country's most populous region first: DE Europe/Berlin, US America/New_York)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    countries: dict[str, list[_Zone]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        code, name = fields[0].upper(), fields[2]
        city = _fold(name.rsplit("/", 1)[-1].replace("_", " "))
        countries.setdefault(code, []).append(_Zone(name=name, city=city))
    return {code: tuple(zones) for code, zones in countries.items()}


def _fold(text: str) -> str:
    """Lower case, accents dropped, runs of spaces, hyphens and underscores as one space:
    "São Paulo", "sao-paulo" and "Sao_Paulo" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.replace("-", " ").replace("_", " ").split())


@functools.lru_cache(maxsize=4096)
def time_zone_for(country: str | None, city: str | None) -> ZoneInfo:
    """The time zone of someone in ``city`` of ``country`` (ISO 3166 alpha-2 code).

    The city is matched against the city part of the country's zones (Los Angeles ->
    America/Los_Angeles); otherwise the country's principal zone is used (Brooklyn, US ->
    America/New_York); without a known country a city matching exactly one zone anywhere is
    used; otherwise UTC.
    """
    by_country = _zones_by_country()
    wanted = _fold(city or "")
    zones = by_country.get((country or "").strip().upper(), ())
    if zones:
        for zone in zones:
            if wanted and zone.city == wanted:
                return ZoneInfo(zone.name)
        return ZoneInfo(zones[0].name)
    if wanted:
        matches = {z.name for found in by_country.values() for z in found if z.city == wanted}
        if len(matches) == 1:
            return ZoneInfo(matches.pop())
    return _UTC_ZONE
