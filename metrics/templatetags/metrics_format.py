"""Formatting of computed figures for templates: percentages, numbers, derived customer figures; durations
through core.formats."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

from core.templatetags import formats as formats_tags
from metrics.models import CustomerMetrics
from metrics.selectors import CustomerFigures, customer_figures

register = template.Library()


# The project's one duration format (core.formats.format_duration, the reports' format).
register.filter("duration", formats_tags.duration)


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
