"""Read-only API of computed figures: per-customer metrics and per-segment monthly snapshots."""

from django.db.models import QuerySet

from customers.api.common import ReadOnlyApiViewSet
from customers.roles import Role
from metrics.api.filters import CustomerMetricsFilter, SegmentSnapshotFilter
from metrics.api.serializers import CustomerMetricsSerializer, SegmentSnapshotSerializer
from metrics.models import CustomerMetrics, SegmentSnapshot
from metrics.report_selectors import with_customer_months


class CustomerMetricsViewSet(ReadOnlyApiViewSet):
    """One row per customer (looked up by customer id), overwritten by every recompute."""

    serializer_class = CustomerMetricsSerializer
    filterset_class = CustomerMetricsFilter
    ordering_fields = [
        "health_score",
        "revenue",
        "clv",
        "orders",
        "last_order_at",
        "computed_at",
        "customer",
        "p_alive",
        "predicted_value_12m",
        "expected_orders_365d",
    ]
    queryset = CustomerMetrics.objects.all()

    def get_queryset(self) -> QuerySet[CustomerMetrics]:
        return CustomerMetrics.objects.order_by("customer_id")


class SegmentSnapshotViewSet(ReadOnlyApiViewSet):
    """A segment's figures per calendar month. Managers and admins only."""

    serializer_class = SegmentSnapshotSerializer
    filterset_class = SegmentSnapshotFilter
    ordering_fields = ["period_start", "segment", "id"]
    read_role = Role.MANAGER
    queryset = SegmentSnapshot.objects.all()

    def get_queryset(self) -> QuerySet[SegmentSnapshot]:
        # Quarters and years carry their months' audience, so their rates are the report pages'.
        return with_customer_months(SegmentSnapshot.objects.select_related("segment")).order_by(
            "segment_id", "-period_start"
        )
