"""FilterSets of the customers API; customers themselves use CustomerFilter (customers/filters.py), as the pages do."""

from datetime import UTC, datetime

from django import forms
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


class InteractionFilter(filters.FilterSet):
    opened_after = DateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = DateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = ["customer", "staff", "channel", "direction", "kind", "status"]


class OrderFilter(filters.FilterSet):
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    ordered_after = DateTimeFilter(field_name="ordered_at", lookup_expr="gte")
    ordered_before = DateTimeFilter(field_name="ordered_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["customer", "external_id", "currency", "referred_by"]


class EngagementEventFilter(filters.FilterSet):
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    occurred_after = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = EngagementEvent
        fields = ["customer", "kind", "campaign", "external_id"]


class SegmentFilter(filters.FilterSet):
    class Meta:
        model = Segment
        fields = ["kind", "is_builtin", "slug"]
