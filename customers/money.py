"""Orders in the base currency: the exchange rate in effect on an order's day.

An order's day is the date of `ordered_at` in settings.TIME_ZONE (the zone reports use). The rate in
effect is the ExchangeRate of the order's currency with the latest `valid_from` on or before that day;
an order in settings.BASE_CURRENCY takes 1. Without a rate the order is refused with a clear
ValidationError on `currency` (a 400 through the API), never stored at a guessed rate.
"""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.currencies import is_currency
from customers.models import ExchangeRate, Order

CENT = Decimal("0.01")
# Order.amount_base's bound: totals of the metric columns are sized for it.
MAX_BASE_AMOUNT = Decimal("99999999999999.99")


def order_day(ordered_at: datetime) -> date:
    return timezone.localtime(ordered_at).date() if timezone.is_aware(ordered_at) else ordered_at.date()


def no_rate_message(currency: str, day: date) -> str:
    return (
        f"No exchange rate from {currency} to {settings.BASE_CURRENCY} on or before {day.isoformat()}: "
        "add one (admin, or manage.py import_exchange_rates) and send the order again."
    )


def rates_on(pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], Decimal]:
    """The rate in effect for each (currency, day); pairs without a rate are missing from the result.
    One query per currency, however many days."""
    wanted: dict[str, set[date]] = {}
    for currency, day in pairs:
        wanted.setdefault(currency, set()).add(day)
    out: dict[tuple[str, date], Decimal] = {}
    for currency, days in wanted.items():
        if currency == settings.BASE_CURRENCY:
            out.update({(currency, day): Decimal(1) for day in days})
            continue
        rows = list(
            ExchangeRate.objects.filter(currency=currency, valid_from__lte=max(days))
            .order_by("valid_from")
            .values_list("valid_from", "rate")
        )
        for day in days:
            rate = None
            for valid_from, value in rows:
                if valid_from > day:
                    break
                rate = value
            if rate is not None:
                out[(currency, day)] = rate
    return out


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_EVEN)


def check_base_amount(amount_base: Decimal) -> None:
    if amount_base > MAX_BASE_AMOUNT:
        raise ValidationError(
            {"amount": f"Too large: {amount_base} {settings.BASE_CURRENCY} exceeds {MAX_BASE_AMOUNT}."}
        )


def apply_rate(order: Order) -> None:
    """Set the order's exchange_rate and amount_base from its currency, amount and day. Raises
    ValidationError on `currency` for an unknown code or a missing rate."""
    if not is_currency(order.currency):
        return  # full_clean reports the invalid code
    day = order_day(order.ordered_at)
    rate = rates_on([(order.currency, day)]).get((order.currency, day))
    if rate is None:
        raise ValidationError({"currency": no_rate_message(order.currency, day)})
    order.exchange_rate = rate
    order.amount_base = convert(order.amount, rate)
    check_base_amount(order.amount_base)
