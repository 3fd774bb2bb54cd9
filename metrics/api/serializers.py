"""Serializers of the metrics API: the stored counts and sums, plus `rates` derived from them by metrics.formulas
(never stored, so a longer period is recomputed from its parts)."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.common import ApiModelSerializer
from metrics import formulas
from metrics.models import CustomerMetrics, SegmentSnapshot


def rate(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20, decimal_places=1, allow_null=True, read_only=True, help_text=help_text
    )


class CustomerRatesSerializer(serializers.Serializer):
    nps_category = serializers.ChoiceField(
        choices=["promoter", "passive", "detractor"], allow_null=True, read_only=True, help_text="From the latest NPS."
    )
    csat_percent = rate("Share of CSAT answers of 4 or 5.")
    ces_average = rate("Mean CES answer (1-7).")
    response_rate_percent = rate("Answers per invitation.")
    average_first_response_seconds = rate("Mean time to the first staff reply.")
    average_resolution_seconds = rate("Mean time to resolution.")
    average_order_value = rate("Revenue per order.")
    email_open_rate_percent = rate("Opens per email sent.")
    email_click_rate_percent = rate("Clicks per email sent.")


class SegmentRatesSerializer(serializers.Serializer):
    nps = rate("% promoters − % detractors, −100 to 100.")
    csat_percent = rate("Share of CSAT answers of 4 or 5.")
    ces_average = rate("Mean CES answer (1-7).")
    response_rate_percent = rate("Answers per invitation.")
    retention_rate_percent = rate("(customers at end − new) / customers at start.")
    churn_rate_percent = rate("Customers lost / customers at start.")
    average_order_value = rate("Revenue per order.")
    average_first_response_seconds = rate("Mean time to the first staff reply.")
    average_resolution_seconds = rate("Mean time to resolution.")
    average_session_seconds = rate("Mean session duration.")
    bounce_rate_percent = rate("Single-page sessions per session.")
    email_open_rate_percent = rate("Opens per email sent.")
    email_unsubscribe_rate_percent = rate("Unsubscribes per email sent.")
    referral_conversion_rate_percent = rate("Converted referrals per referral.")
    advocacy_revenue_share_percent = rate("Referred revenue / revenue.")


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: formulas.quantize(v) if isinstance(v, Decimal) else v for k, v in values.items()}


class CustomerMetricsSerializer(ApiModelSerializer):
    churn_risk = serializers.ChoiceField(
        choices=CustomerMetrics.ChurnRisk.choices, allow_blank=True, read_only=True, help_text="Empty until computed."
    )
    rates = serializers.SerializerMethodField()

    class Meta:
        model = CustomerMetrics
        fields = "__all__"
        read_only_fields = [f.name for f in CustomerMetrics._meta.fields]

    @extend_schema_field(CustomerRatesSerializer)
    def get_rates(self, m: CustomerMetrics) -> dict[str, Any]:
        values = {
            "nps_category": formulas.nps_category(m.latest_nps_score) if m.latest_nps_score is not None else None,
            "csat_percent": formulas.csat_from_counts(m.csat_satisfied, m.csat_count),
            "ces_average": formulas.mean(m.ces_sum, m.ces_count),
            "response_rate_percent": formulas.response_rate(m.answers, m.invitations),
            "average_first_response_seconds": formulas.mean(m.first_response_seconds_sum, m.first_response_count),
            "average_resolution_seconds": formulas.mean(m.resolution_seconds_sum, m.resolved_count),
            "average_order_value": formulas.average_order_value(m.revenue, m.orders),
            "email_open_rate_percent": formulas.open_rate(m.emails_opened, m.emails_sent),
            "email_click_rate_percent": formulas.ctr(m.emails_clicked, m.emails_sent),
        }
        return CustomerRatesSerializer(_rounded(values)).data


class SegmentSnapshotSerializer(ApiModelSerializer):
    segment_slug = serializers.SlugField(source="segment.slug", read_only=True)
    rates = serializers.SerializerMethodField()

    class Meta:
        model = SegmentSnapshot
        fields = "__all__"

    @extend_schema_field(SegmentRatesSerializer)
    def get_rates(self, s: SegmentSnapshot) -> dict[str, Any]:
        values = {
            "nps": formulas.nps(s.promoters, s.passives, s.detractors),
            "csat_percent": formulas.csat_from_counts(s.csat_satisfied, s.csat_count),
            "ces_average": formulas.mean(s.ces_sum, s.ces_count),
            "response_rate_percent": formulas.response_rate(s.answers, s.invitations),
            "retention_rate_percent": formulas.retention_rate(s.customers_start, s.customers_end, s.customers_new),
            "churn_rate_percent": formulas.churn_rate(s.customers_start, s.customers_lost),
            "average_order_value": formulas.average_order_value(s.revenue, s.orders),
            "average_first_response_seconds": formulas.mean(s.first_response_seconds_sum, s.first_response_count),
            "average_resolution_seconds": formulas.mean(s.resolution_seconds_sum, s.resolved_count),
            "average_session_seconds": formulas.average_session_duration(s.session_seconds_sum, s.sessions),
            "bounce_rate_percent": formulas.bounce_rate(s.single_page_sessions, s.sessions),
            "email_open_rate_percent": formulas.open_rate(s.emails_opened, s.emails_sent),
            "email_unsubscribe_rate_percent": formulas.unsubscribe_rate(s.emails_unsubscribed, s.emails_sent),
            "referral_conversion_rate_percent": formulas.referral_conversion_rate(s.referrals_converted, s.referrals),
            "advocacy_revenue_share_percent": formulas.advocacy_revenue_share(s.referred_revenue, s.revenue),
        }
        return SegmentRatesSerializer(_rounded(values)).data
