"""Business time: seconds inside a calendar's working hours, and due times N business seconds ahead.

Pure functions over a `Schedule` (no database): the working intervals of each weekday in a time zone,
minus public holidays of a country (the `holidays` package) and custom closed days. Every interval is
built from local wall-clock times with zoneinfo and compared in UTC, so a day on which clocks change
counts the hours that really pass (a 01:00–05:00 window on the night clocks go forward is 3 h).

Time waiting on the customer pauses the clock: `business_seconds` subtracts the business seconds of
the given pause intervals (they may overlap each other or reach outside [start, end]).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# How far ahead add_business_seconds looks before deciding the calendar has no working time at all.
MAX_DAYS_AHEAD = 3 * 366

Interval = tuple[datetime, datetime]


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())


@dataclass(frozen=True)
class Schedule:
    """Working hours: weekday (Monday 0 … Sunday 6) → (opens, closes) local times, closes after opens."""

    time_zone: ZoneInfo
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    country: str = ""
    closed_days: frozenset[date] = field(default_factory=frozenset)
    # Every hour of every day counts (no calendar configured): business time is calendar time.
    always_open: bool = False

    def is_closed(self, day: date) -> bool:
        if day in self.closed_days:
            return True
        return bool(self.country) and day in _country_holidays(self.country.upper(), day.year)

    def intervals_on(self, day: date) -> list[Interval]:
        """The day's working intervals as aware UTC datetimes (none on holidays and closed days)."""
        if self.always_open:
            midnight = datetime.combine(day, time(0), self.time_zone).astimezone(UTC)
            return [(midnight, datetime.combine(day + timedelta(days=1), time(0), self.time_zone).astimezone(UTC))]
        if self.is_closed(day):
            return []
        return [
            (
                datetime.combine(day, opens, self.time_zone).astimezone(UTC),
                datetime.combine(day, closes, self.time_zone).astimezone(UTC),
            )
            for opens, closes in self.weekly.get(day.weekday(), ())
            if closes > opens
        ]

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.time_zone).date()


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("Business time needs timezone-aware datetimes.")


def _working_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    if end <= start:
        return 0.0
    total = 0.0
    day, last = schedule.local_date(start), schedule.local_date(end)
    while day <= last:
        for opens, closes in schedule.intervals_on(day):
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def _merge(pauses: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The pauses clipped to [start, end], sorted and merged so overlapping pauses count once."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in pauses if min(b, end) > max(a, start))
    merged: list[Interval] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def business_seconds(schedule: Schedule, start: datetime, end: datetime, pauses: Iterable[Interval] = ()) -> int:
    """Whole business seconds from `start` to `end` (0 when end is not after start), less the pauses."""
    _require_aware(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = _working_seconds(schedule, start, end)
    for a, b in _merge(((p.astimezone(UTC), q.astimezone(UTC)) for p, q in pauses), start, end):
        total -= _working_seconds(schedule, a, b)
    return int(total)


def add_business_seconds(schedule: Schedule, start: datetime, seconds: int) -> datetime:
    """The moment `seconds` business seconds after `start` (a due time), in UTC.

    With seconds == 0 it is `start` itself, or the next opening when `start` is outside working hours.
    Raises ValueError when the calendar has no working time within MAX_DAYS_AHEAD days.
    """
    _require_aware(start)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    start = start.astimezone(UTC)
    remaining = timedelta(seconds=seconds)
    day = schedule.local_date(start)
    for _ in range(MAX_DAYS_AHEAD):
        for opens, closes in schedule.intervals_on(day):
            lo = max(opens, start)
            if closes <= lo:
                continue
            if lo + remaining <= closes:
                return lo + remaining
            remaining -= closes - lo
        day += timedelta(days=1)
    raise ValueError("The calendar has no working hours in the next three years.")


def office_hours(
    time_zone: str, opens: time = time(9), closes: time = time(18), weekdays: Iterable[int] = range(5), **kwargs: object
) -> Schedule:
    """A schedule with the same hours on each of `weekdays` (default Monday to Friday, 09:00–18:00)."""
    return Schedule(time_zone=ZoneInfo(time_zone), weekly={d: [(opens, closes)] for d in weekdays}, **kwargs)


def around_the_clock(time_zone: str) -> Schedule:
    """A schedule that is always open: business seconds are plain elapsed seconds."""
    return Schedule(time_zone=ZoneInfo(time_zone), weekly={}, always_open=True)
