"""The one way Rapport shows people, times, durations and money on its pages, emails and messages.

Every page, email and message formats these values through this module; `core.templatetags.formats`
offers the same functions to templates as filters. Decisions:

- A staff member is shown by full name, else by username. Nobody (None, or an unsaved user) is shown
  as `empty`: "—" by default; callers pass the word that fits where nobody means something, such as
  "System" in the change history or "Unassigned" on a follow-up.
- Dates and times are shown in settings.TIME_ZONE (the zone reports count in), whatever zone is
  active, as ISO 8601 without seconds: "2026-03-05 14:30" and "2026-03-05". The same digits read the
  same in English, Thai, Chinese and Malay, and a day never swaps with a month. A naive datetime is
  taken to be in TIME_ZONE already (Django's rule for naive values) and is shown as it is.
- Durations are the reports' format: "45 s", "12 min", "4 h 10 min", "30 h", "2.5 days".
- Money is a Decimal with thousands separators, rounded half up to the currency's minor units
  (ISO 4217: 2 for THB, MYR, TWD, HKD, SGD and USD, 0 for JPY, KRW, VND and the like), followed by
  its ISO code: "1,234.50 THB", "1,235 JPY". No currency means settings.BASE_CURRENCY (USD by
  default), the currency figures summed across orders are kept in.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

from core.calendar import report_zone

EMPTY = "—"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"
DEFAULT_BASE_CURRENCY = "USD"
# ISO 4217 currencies without minor units; every other currency is shown with 2 decimals.
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


def staff_name(user: Any, empty: str = EMPTY) -> str:
    """A staff member's display name: the full name, else the username; `empty` for nobody."""
    if user is None or not getattr(user, "pk", None):
        return empty
    return user.get_full_name().strip() or user.get_username()


def local_datetime(value: datetime) -> datetime:
    """`value` as wall time in TIME_ZONE: aware values converted, naive ones taken as already local."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value
    return value.astimezone(report_zone())


def format_datetime(value: datetime | None, empty: str = EMPTY) -> str:
    """ "2026-03-05 14:30" in TIME_ZONE; `empty` for None."""
    if value is None:
        return empty
    return local_datetime(value).strftime(DATETIME_FORMAT)


def format_date(value: date | datetime | None, empty: str = EMPTY) -> str:
    """ "2026-03-05"; a datetime gives its date in TIME_ZONE (not in UTC); `empty` for None."""
    if value is None:
        return empty
    if isinstance(value, datetime):
        value = local_datetime(value)
    return value.strftime(DATE_FORMAT)


def whole_seconds(seconds: int | float | Decimal) -> int:
    if isinstance(seconds, int):
        return seconds
    return int(Decimal(str(seconds)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_duration(seconds: int | float | Decimal | None, empty: str = EMPTY) -> str:
    """A duration as the reports show it: under a minute in seconds, under an hour in minutes, under
    48 hours in hours and minutes, then in days with one decimal. Fractions of a second are rounded half
    up; `empty` for None."""
    if seconds is None:
        return empty
    seconds = whole_seconds(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours / 24:.1f} days"


def format_elapsed(start: datetime | None, end: datetime | None, empty: str = EMPTY) -> str:
    """The duration from `start` to `end` (format_duration); `empty` when either is missing."""
    if start is None or end is None:
        return empty
    return format_duration((end - start).total_seconds(), empty)


def base_currency() -> str:
    return getattr(settings, "BASE_CURRENCY", DEFAULT_BASE_CURRENCY)


def currency_places(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def format_money(amount: Decimal | int | str | None, currency: str | None = None, empty: str = EMPTY) -> str:
    """ "1,234.50 THB": the amount rounded half up to the currency's minor units, with thousands
    separators and the ISO code. `currency` None or blank means the base currency; `empty` for no
    amount. Floats are refused: money is never a float here."""
    if amount is None or amount == "":
        return empty
    if isinstance(amount, float):
        raise TypeError("format_money takes a Decimal, an int or a decimal string, not a float")
    code = (currency or "").strip().upper() or base_currency()
    places = currency_places(code)
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if value == 0:
        value = abs(value)  # no "-0.00"
    return f"{value:,.{places}f} {code}"
