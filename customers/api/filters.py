"""FilterSets of the customers API; customers themselves use CustomerFilter (customers/filters.py), as the pages do."""

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.db.models import Q
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters

from customers.models import EngagementEvent, Interaction, Order, Segment


class BoundedIsoDateTimeField(filter_fields.IsoDateTimeField):
    """An ISO 8601 datetime between 1900 and 2999, passed to the database in UTC (any offset a client
    sends, even -23:27, is converted rather than handed to PostgreSQL as is)."""

    def strptime(self, value: str, format: str) -> datetime:
        try:
            result = super().strptime(value, format)
        except OverflowError as exc:
            raise ValueError(value) from exc
        return result

    def clean(self, value: object) -> datetime | None:
        result = super().clean(value)
        if result is None:
            return None
        try:
            result = result.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Give a date and time between 1900 and 2999.") from exc
        if not 1900 <= result.year <= 2999:
            raise forms.ValidationError("Give a date and time between 1900 and 2999.")
        return result


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


def date_range(field_name: str) -> tuple[DateTimeFilter, DateTimeFilter]:
    """The filters `<name>_after` (inclusive) and `<name>_before` (exclusive) of a datetime field:
    `x_after, x_before = date_range("x_at")` in a FilterSet."""
    return (
        DateTimeFilter(field_name=field_name, lookup_expr="gte"),
        DateTimeFilter(field_name=field_name, lookup_expr="lt"),
    )


class CustomerRecordFilter(filters.FilterSet):
    """Records of one customer, who may be named by the customer's external id (as bulk loads do)."""

    customer_external_id = filters.CharFilter(field_name="customer__external_id")


class InteractionFilter(filters.FilterSet):
    """Also the work queue's filters: `?status=open&assignee=7&overdue=true`, `?unassigned=true&team=2`."""

    opened_after, opened_before = date_range("opened_at")
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    overdue = filters.BooleanFilter(method="filter_overdue", help_text="Past the due time of the running SLA clock.")

    class Meta:
        model = Interaction
        fields = ["customer", "staff", "channel", "direction", "kind", "status", "assignee", "team", "priority"]

    def filter_overdue(self, queryset: Any, name: str, value: bool | None) -> Any:
        from django.utils import timezone

        from support.filters import OPEN_STATUSES, overdue_q

        if value is None:
            return queryset
        condition = overdue_q(timezone.now()) & Q(status__in=OPEN_STATUSES)
        return queryset.filter(condition) if value else queryset.exclude(condition)


class OrderFilter(CustomerRecordFilter):
    ordered_after, ordered_before = date_range("ordered_at")

    class Meta:
        model = Order
        fields = ["customer", "external_id", "currency", "referred_by"]


class EngagementEventFilter(CustomerRecordFilter):
    occurred_after, occurred_before = date_range("occurred_at")

    class Meta:
        model = EngagementEvent
        fields = ["customer", "kind", "campaign", "external_id"]


class SegmentFilter(filters.FilterSet):
    class Meta:
        model = Segment
        fields = ["kind", "is_builtin", "slug"]
