"""Formatting of computed figures for templates: durations, percentages, derived customer figures."""

from decimal import Decimal

from django import template

from metrics.models import CustomerMetrics
from metrics.selectors import CustomerFigures, customer_figures

register = template.Library()


@register.filter
def duration(seconds: Decimal | int | None) -> str:
    """Seconds as "2 d 3 h", "4 h 10 min", "12 min" or "45 s"; an em dash when undefined."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


@register.filter
def percent(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{int(places)}f} %"


@register.filter
def number(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{int(places)}f}"


@register.simple_tag
def figures_of(metrics: CustomerMetrics) -> CustomerFigures:
    return customer_figures(metrics)
