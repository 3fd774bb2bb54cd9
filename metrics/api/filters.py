"""FilterSets of the metrics API."""

from django_filters import rest_framework as filters

from customers.filters import CHURN_RISKS
from customers.models import Segment
from metrics.models import CustomerMetrics, SegmentSnapshot


class CustomerMetricsFilter(filters.FilterSet):
    churn_risk = filters.ChoiceFilter(choices=CHURN_RISKS)
    health_min = filters.NumberFilter(field_name="health_score", lookup_expr="gte")
    health_max = filters.NumberFilter(field_name="health_score", lookup_expr="lte")
    p_alive_min = filters.NumberFilter(field_name="p_alive", lookup_expr="gte", min_value=0, max_value=1)
    p_alive_max = filters.NumberFilter(field_name="p_alive", lookup_expr="lte", min_value=0, max_value=1)
    predicted_value_min = filters.NumberFilter(field_name="predicted_value_12m", lookup_expr="gte")
    predicted_value_max = filters.NumberFilter(field_name="predicted_value_12m", lookup_expr="lte")
    likely_lapsed = filters.BooleanFilter()

    class Meta:
        model = CustomerMetrics
        fields = ["customer", "churn_risk", "rfm_segment"]


class SegmentSnapshotFilter(filters.FilterSet):
    segment = filters.ModelChoiceFilter(queryset=Segment.objects.all(), to_field_name="slug", help_text="Segment slug.")
    period_start_after = filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_start_before = filters.DateFilter(field_name="period_start", lookup_expr="lte")

    class Meta:
        model = SegmentSnapshot
        fields = ["segment", "period"]
