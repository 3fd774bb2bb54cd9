"""FilterSets of the customers API; customers themselves use CustomerFilter (customers/filters.py), as the pages do."""

from django_filters import rest_framework as filters

from customers.models import EngagementEvent, Interaction, Order, Segment


class InteractionFilter(filters.FilterSet):
    opened_after = filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = ["customer", "staff", "channel", "direction", "kind", "status"]


class OrderFilter(filters.FilterSet):
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    ordered_after = filters.IsoDateTimeFilter(field_name="ordered_at", lookup_expr="gte")
    ordered_before = filters.IsoDateTimeFilter(field_name="ordered_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["customer", "external_id", "currency", "referred_by"]


class EngagementEventFilter(filters.FilterSet):
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = EngagementEvent
        fields = ["customer", "kind", "campaign", "external_id"]


class SegmentFilter(filters.FilterSet):
    class Meta:
        model = Segment
        fields = ["kind", "is_builtin", "slug"]
