"""The calendar reports and the metrics engine count in: whole months in one zone (settings.TIME_ZONE).

The one module of the project for month arithmetic, month ranges, quarter and year buckets and the report
zone's today and midnights. A figure for "March" means March in this zone, whoever looks at it: an order at
23:30 on 31 January in Bangkok belongs to January even though it is 16:30 UTC.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

DEFAULT_MONTHS = 13  # the last 12 complete months and the current one


class Group:
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CHOICES = [(MONTH, "Month"), (QUARTER, "Quarter"), (YEAR, "Year")]


# Months -------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_start(day: date) -> date:
    return day.replace(day=1)


def report_zone() -> ZoneInfo:
    """Reports count days and months in this one zone, whoever looks at them."""
    return ZoneInfo(settings.TIME_ZONE)


def report_today() -> date:
    return timezone.localdate(timezone=report_zone())


def parse_month(value: str) -> date:
    """ "2026-03" → date(2026, 3, 1); ValueError otherwise."""
    year, month = value.strip().split("-")
    if len(year) != 4 or len(month) != 2:
        raise ValueError(value)
    return date(int(year), int(month), 1)


def next_month(day: date) -> date:
    """The first day of the month after the month of `day`."""
    return add_months(day, 1)


def month_starts(months: int, today: date | None = None) -> list[date]:
    """The first days of the last `months` calendar months (current month last), in settings.TIME_ZONE."""
    current = month_start(today or report_today())
    return [add_months(current, -i) for i in range(months - 1, -1, -1)]


def local_midnight(day: date) -> datetime:
    """The start of `day` in the report zone, as an aware datetime."""
    return datetime.combine(day, datetime.min.time(), tzinfo=report_zone())


# Ranges and buckets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRange:
    """Whole calendar months (in settings.TIME_ZONE) from `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def default(cls, today: date | None = None) -> "MonthRange":
        current = month_start(today or report_today())
        return cls(add_months(current, -(DEFAULT_MONTHS - 1)), current)

    @property
    def end(self) -> date:
        """The first day after the range (exclusive end)."""
        return add_months(self.last, 1)

    @property
    def length(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def months(self) -> list[date]:
        return [add_months(self.first, i) for i in range(self.length)]

    def previous(self) -> "MonthRange":
        """The range of the same length just before this one."""
        return MonthRange(add_months(self.first, -self.length), add_months(self.first, -1))

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%b %Y}"
        return f"{self.first:%b %Y} – {self.last:%b %Y}"

    def query(self) -> dict[str, str]:
        return {"from": f"{self.first:%Y-%m}", "to": f"{self.last:%Y-%m}"}


def bucket_of(month: date, group: str) -> date:
    if group == Group.QUARTER:
        return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    if group == Group.YEAR:
        return date(month.year, 1, 1)
    return month


def bucket_label(start: date, group: str, months: "MonthRange | None" = None) -> str:
    """ "2026-03", "2026 Q1" or "2026"; a quarter or year the range only partly covers says so."""
    if group == Group.QUARTER:
        label = f"{start.year} Q{(start.month - 1) // 3 + 1}"
    elif group == Group.YEAR:
        label = str(start.year)
    else:
        return f"{start:%Y-%m}"
    length = 3 if group == Group.QUARTER else 12
    if months is not None and (start < months.first or add_months(start, length) > months.end):
        label += " (part)"
    return label


def period_presets(today: date | None = None) -> list[tuple[str, MonthRange, str]]:
    """Shortcuts of the period picker: (label, months, grouping), in settings.TIME_ZONE."""
    current = month_start(today or report_today())
    quarter = bucket_of(current, Group.QUARTER)
    year = date(current.year, 1, 1)
    return [
        ("Last 12 months and this one", MonthRange.default(current), Group.MONTH),
        ("This month", MonthRange(current, current), Group.MONTH),
        ("Last month", MonthRange(add_months(current, -1), add_months(current, -1)), Group.MONTH),
        ("This quarter", MonthRange(quarter, current), Group.MONTH),
        ("Last quarter", MonthRange(add_months(quarter, -3), add_months(quarter, -1)), Group.MONTH),
        ("This year", MonthRange(year, current), Group.MONTH),
        ("Last year", MonthRange(add_months(year, -12), add_months(year, -1)), Group.QUARTER),
        ("Three years by quarter", MonthRange(add_months(year, -24), current), Group.QUARTER),
    ]


def bucket_end(start: date, group: str, months: MonthRange) -> date:
    """The exclusive end of the bucket starting at `start`, cut at the range's end."""
    length = {Group.QUARTER: 3, Group.YEAR: 12}.get(group, 1)
    return min(add_months(start, length), months.end)
