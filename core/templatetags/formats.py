"""Template filters over core.formats, the one formatter each for people, times, durations and money.

{% load formats %}
{{ user|staff_name }}  {{ follow_up.assigned_to|staff_name:"Unassigned" }}
{{ interaction.opened_at|datetime_local }}  {{ customer.acquired_at|date_local }}
{{ event.duration_seconds|duration }}  {{ interaction.opened_at|elapsed:interaction.first_response_at }}
{{ order.amount|money:order.currency }}  {{ metrics.revenue|money }} (the base currency)
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from core import formats

register = template.Library()


@register.filter
def staff_name(user: Any, empty: str = formats.EMPTY) -> str:
    return formats.staff_name(user, empty)


# expects_localtime=False: the formatter converts to TIME_ZONE itself, whatever zone is active.
@register.filter(expects_localtime=False)
def datetime_local(value: datetime | None) -> str:
    return formats.format_datetime(value) if value is None or isinstance(value, datetime) else str(value)


@register.filter(expects_localtime=False)
def date_local(value: date | datetime | None) -> str:
    return formats.format_date(value) if value is None or isinstance(value, date) else str(value)


@register.filter
def duration(seconds: int | Decimal | float | None) -> str:
    try:
        return formats.format_duration(seconds)
    except (InvalidOperation, TypeError, ValueError):
        return str(seconds)


@register.filter(expects_localtime=False)
def elapsed(start: datetime | None, end: datetime | None) -> str:
    return formats.format_elapsed(start, end)


@register.filter
def money(amount: Decimal | int | str | None, currency: str | None = None) -> str:
    try:
        return formats.format_money(amount, currency)
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
