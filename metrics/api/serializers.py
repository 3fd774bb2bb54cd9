"""Serializers of the metrics API: stored counts and sums, plus the rates derived from them."""

from rest_framework import serializers

from customers.api.common import ApiModelSerializer
from metrics.models import CustomerMetrics, SegmentSnapshot


class CustomerMetricsSerializer(ApiModelSerializer):
    churn_risk = serializers.ChoiceField(
        choices=CustomerMetrics.ChurnRisk.choices, allow_blank=True, read_only=True, help_text="Empty until computed."
    )

    class Meta:
        model = CustomerMetrics
        fields = "__all__"
        read_only_fields = [f.name for f in CustomerMetrics._meta.fields]


class SegmentSnapshotSerializer(ApiModelSerializer):
    segment_slug = serializers.SlugField(source="segment.slug", read_only=True)

    class Meta:
        model = SegmentSnapshot
        fields = "__all__"
