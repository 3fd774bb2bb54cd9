"""Template helpers of the support pages: due times and priorities."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

register = template.Library()


@register.simple_tag
def due_badge(interaction: object) -> str:
    """When the running SLA clock is due: "in 2 hours" or "overdue by 3 hours"; paused while waiting."""
    if getattr(interaction, "waiting_since", None) is not None:
        return mark_safe('<span class="due muted">paused (waiting)</span>')
    due: datetime | None = getattr(interaction, "next_due", None)
    if due is None:
        due = (
            interaction.first_response_due_at
            if interaction.first_response_at is None
            else interaction.resolution_due_at
        )
    if due is None:
        return mark_safe('<span class="due muted">no SLA</span>')
    now = timezone.now()
    local = timezone.localtime(due)
    if due < now:
        return format_html(
            '<time class="due overdue" datetime="{}">overdue by {}</time>', local.isoformat(), timesince(due, now)
        )
    return format_html('<time class="due" datetime="{}">in {}</time>', local.isoformat(), timesince(now, due))


@register.filter
def business_duration(seconds: int | None) -> str:
    """Business seconds as "1 h 05 min" (hours may exceed 24: they are working hours, not days)."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
