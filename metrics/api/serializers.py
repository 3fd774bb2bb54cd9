"""Serializers of the metrics API: the stored counts and sums, plus `rates` derived from them (never stored, so a
longer period is recomputed from its parts): a customer's by metrics.formulas as on the profile card, a segment
snapshot's by the KPI catalogue (metrics.catalogue) as on the report pages."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.common import ApiModelSerializer
from metrics import formulas
from metrics.catalogue import RATES, rates
from metrics.models import CustomerMetrics, SegmentSnapshot
from metrics.report_selectors import snapshot_totals
from metrics.selectors import customer_figures


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


def segment_rate(key: str, help_text: str) -> serializers.DecimalField:
    """A rate of the KPI catalogue, with the catalogue's rounding."""
    places = -Decimal(RATES[key].places).as_tuple().exponent
    return serializers.DecimalField(
        max_digits=20, decimal_places=places, allow_null=True, read_only=True, help_text=help_text
    )


class SegmentRatesSerializer(serializers.Serializer):
    """The catalogue's rates of one snapshot (metrics.catalogue.RATES), the same figures as the report pages."""

    nps = segment_rate("nps", "% promoters − % detractors, −100 to 100.")
    nps_margin_of_error = segment_rate("nps_margin_of_error", "95 % margin of error of the NPS, in points.")
    nps_answers = serializers.IntegerField(read_only=True, help_text="Answers behind the NPS.")
    csat_percent = segment_rate("csat_percent", "Share of CSAT answers of 4 or 5.")
    csat_average = segment_rate("csat_average", "Mean CSAT answer (1-5).")
    ces_average = segment_rate("ces_average", "Mean CES answer (1-7).")
    ces_easy_percent = segment_rate("ces_easy_percent", "Share of CES answers of 5 to 7.")
    response_rate_percent = segment_rate("response_rate_percent", "Answers per invitation.")
    retention_rate_percent = segment_rate("retention_rate_percent", "(customers at end − new) / customers at start.")
    churn_rate_percent = segment_rate("churn_rate_percent", "Customers lost / customers at start.")
    net_growth_rate_percent = segment_rate(
        "net_growth_rate_percent", "(customers at end − customers at start) / customers at start. Not retention."
    )
    average_order_value = segment_rate("average_order_value", "Revenue per order.")
    purchase_frequency = segment_rate(
        "purchase_frequency", "Orders a year per active customer: orders / active customer-years (buyers or not)."
    )
    clv = segment_rate(
        "clv", "Average order value × purchase frequency × mean customer lifespan in years (of 365.25 days)."
    )
    email_click_rate_percent = segment_rate("email_click_rate_percent", "Clicks per email sent (CTR).")
    engagement_rate_percent = segment_rate(
        "engagement_rate_percent", "(likes + shares + comments) / customers active at each month's end."
    )
    average_first_response_seconds = segment_rate(
        "average_first_response_seconds", "Mean time to the first staff reply."
    )
    average_resolution_seconds = segment_rate("average_resolution_seconds", "Mean time to resolution.")
    average_session_seconds = segment_rate("average_session_seconds", "Mean session duration.")
    bounce_rate_percent = segment_rate("bounce_rate_percent", "Single-page sessions per session.")
    email_open_rate_percent = segment_rate("email_open_rate_percent", "Opens per email sent.")
    email_unsubscribe_rate_percent = segment_rate("email_unsubscribe_rate_percent", "Unsubscribes per email sent.")
    referral_conversion_rate_percent = segment_rate(
        "referral_conversion_rate_percent", "Converted referrals per referral."
    )
    advocacy_revenue_share_percent = segment_rate("advocacy_revenue_share_percent", "Referred revenue / revenue.")


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
        # The catalogue's figures, as on the report pages.
        totals = snapshot_totals(s)
        values: dict[str, Any] = {**rates(totals), "nps_answers": totals.nps_n}
        return SegmentRatesSerializer(values).data
