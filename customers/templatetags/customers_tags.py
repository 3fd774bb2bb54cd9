"""Small presentation helpers of the customers pages."""

from django import template
from django.http import QueryDict
from django.utils.html import format_html

from core.templatetags import formats as formats_tags
from customers.models import Customer, Interaction

register = template.Library()

STAGE_BADGES = {
    Customer.Stage.ACTIVE: "good",
    Customer.Stage.AT_RISK: "warn",
    Customer.Stage.CHURNED: "bad",
    Customer.Stage.LEAD: "",
}
STATUS_BADGES = {
    Interaction.Status.OPEN: "warn",
    Interaction.Status.WAITING: "",
    Interaction.Status.RESOLVED: "good",
}


@register.simple_tag
def stage_badge(customer: Customer) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        STAGE_BADGES.get(customer.lifecycle_stage, ""),
        customer.get_lifecycle_stage_display(),
    )


@register.simple_tag
def status_badge(interaction: Interaction) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_BADGES.get(interaction.status, ""),
        interaction.get_status_display(),
    )


@register.simple_tag(takes_context=True)
def sort_link(context: template.Context, key: str, label: str, current: str) -> str:
    """A column header that sorts by `key`, and by `-key` when already sorted by it; keeps the filters."""
    params: QueryDict = context["request"].GET.copy()
    params.pop("page", None)
    descending = current == key
    params["sort"] = f"-{key}" if descending else key
    arrow, state = "", "none"
    if current == key:
        arrow, state = " ▲", "ascending"
    elif current == f"-{key}":
        arrow, state = " ▼", "descending"
    return format_html('<a href="?{}" class="sort" data-sort="{}">{}{}</a>', params.urlencode(), state, label, arrow)


# The project's one display name, so templates that load only this library show the same name.
register.filter("staff_name", formats_tags.staff_name)
