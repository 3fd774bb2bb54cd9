"""Serializers of the metrics API: the stored counts and sums, plus `rates` derived from them by metrics.formulas
(never stored, so a longer period is recomputed from its parts)."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.common import ApiModelSerializer
from metrics import formulas
from metrics.models import CustomerMetrics, SegmentSnapshot
from metrics.selectors import customer_figures, derived


def rate(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20, decimal_places=1, allow_null=True, read_only=True, help_text=help_text
    )


class CustomerRatesSerializer(serializers.Serializer):
    nps_category = serializers.ChoiceField(
        choices=["promoter", "passive", "detractor"], allow_null=True, read_only=True, help_text="From the latest NPS."
    )
    csat_percent = rate("Share of CSAT answers of 4 or 5.")
    csat_average = rate("Mean CSAT answer (1-5).")
    ces_average = rate("Mean CES answer (1-7).")
    ces_easy_percent = rate("Share of CES answers of 5 to 7.")
    response_rate_percent = rate("Answers per invitation.")
    average_first_response_seconds = rate("Mean time to the first staff reply.")
    average_resolution_seconds = rate("Mean time to resolution.")
    average_order_value = rate("Revenue per order.")
    purchase_frequency = rate("Orders a year over the customer's tenure (from 90 days of tenure).")
    average_session_seconds = rate("Mean session duration.")
    email_open_rate_percent = rate("Opens per email sent.")
    email_click_rate_percent = rate("Clicks per email sent.")
    referral_conversion_rate_percent = rate("Converted referrals per referral made.")


class SegmentRatesSerializer(serializers.Serializer):
    nps = rate("% promoters − % detractors, −100 to 100.")
    nps_margin_of_error = rate("95 % margin of error of the NPS, in points.")
    nps_answers = serializers.IntegerField(read_only=True, help_text="Answers behind the NPS.")
    csat_percent = rate("Share of CSAT answers of 4 or 5.")
    csat_average = rate("Mean CSAT answer (1-5).")
    ces_average = rate("Mean CES answer (1-7).")
    ces_easy_percent = rate("Share of CES answers of 5 to 7.")
    response_rate_percent = rate("Answers per invitation.")
    retention_rate_percent = rate("(customers at end − new) / customers at start.")
    churn_rate_percent = rate("Customers lost / customers at start.")
    net_growth_rate_percent = rate("(customers at end − customers at start) / customers at start. Not retention.")
    average_order_value = rate("Revenue per order.")
    purchase_frequency = rate("Orders a year per ordering customer.")
    clv = rate("Average order value × purchase frequency × members' average lifespan in years.")
    email_click_rate_percent = rate("Clicks per email sent (CTR).")
    engagement_rate_percent = rate("(likes + shares + comments) / customers at the end of the period.")
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
        # The same derived figures as the profile's metrics card.
        f = customer_figures(m)
        values = {
            "nps_category": f.nps_category,
            "csat_percent": f.csat,
            "csat_average": f.csat_mean,
            "ces_average": f.ces_mean,
            "ces_easy_percent": f.ces_easy,
            "response_rate_percent": f.response_rate,
            "average_first_response_seconds": f.avg_first_response_seconds,
            "average_resolution_seconds": f.avg_resolution_seconds,
            "average_order_value": f.aov,
            "purchase_frequency": f.purchase_frequency,
            "average_session_seconds": f.avg_session_seconds,
            "email_open_rate_percent": f.open_rate,
            "email_click_rate_percent": f.ctr,
            "referral_conversion_rate_percent": f.referral_conversion,
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
        # The same derived figures as the report pages' months.
        d = derived(s)
        values = {
            "nps": d.nps,
            "nps_margin_of_error": d.nps_margin,
            "nps_answers": d.nps_answers,
            "csat_percent": d.csat,
            "csat_average": d.csat_mean,
            "ces_average": d.ces_mean,
            "ces_easy_percent": d.ces_easy,
            "response_rate_percent": d.response_rate,
            "retention_rate_percent": d.retention,
            "churn_rate_percent": d.churn,
            "net_growth_rate_percent": d.net_growth,
            "average_order_value": d.aov,
            "purchase_frequency": d.purchase_frequency,
            "clv": d.clv,
            "average_first_response_seconds": d.avg_first_response_seconds,
            "average_resolution_seconds": d.avg_resolution_seconds,
            "average_session_seconds": d.avg_session_seconds,
            "bounce_rate_percent": d.bounce_rate,
            "email_open_rate_percent": d.open_rate,
            "email_click_rate_percent": d.ctr,
            "email_unsubscribe_rate_percent": d.unsubscribe_rate,
            "engagement_rate_percent": d.engagement_rate,
            "referral_conversion_rate_percent": d.referral_conversion,
            "advocacy_revenue_share_percent": d.advocacy_revenue_share,
        }
        return SegmentRatesSerializer(_rounded(values)).data
