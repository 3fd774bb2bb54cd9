"""Formatting of computed figures for templates: durations, percentages, derived customer figures."""

from decimal import ROUND_HALF_UP, Decimal

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


def _half_up(value: Decimal | int | float, places: int) -> Decimal:
    """Round half up, as metrics.formulas.quantize and the reports do (format() alone rounds half to even,
    so 62.5 % would show as 62 % on the card and 63 % elsewhere)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@register.filter
def percent(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{_half_up(value, int(places)):.{int(places)}f} %"


@register.filter
def number(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{_half_up(value, int(places)):,.{int(places)}f}"


@register.simple_tag
def figures_of(metrics: CustomerMetrics) -> CustomerFigures:
    return customer_figures(metrics)


@register.filter
def probability(value: float | None) -> str:
    """A probability 0–1 as a whole percentage ("73 %"); an em dash when undefined."""
    if value is None:
        return "—"
    return f"{_half_up(value * 100, 0):.0f} %"


@register.simple_tag
def clv_discount_rate() -> str:
    """settings.CLV_DISCOUNT_RATE as a percentage, for the card's explanation."""
    from django.conf import settings

    return f"{_half_up(float(settings.CLV_DISCOUNT_RATE) * 100, 1).normalize():f} %"
