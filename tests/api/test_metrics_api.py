"""Computed figures over the API: stored counts and sums with the rates derived from them."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.models import CustomerMetrics, SegmentSnapshot
from tests.customers.factories import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_customer_metrics_carry_their_rates(agent_api):
    customer = CustomerFactory()
    CustomerMetrics.objects.create(
        customer=customer,
        computed_at=timezone.now(),
        latest_nps_score=6,
        csat_count=4,
        csat_satisfied=3,
        orders=3,
        revenue=Decimal("100.00"),
        emails_sent=0,
        churn_risk="high",
    )

    body = agent_api.get(f"/api/customer-metrics/{customer.pk}/").json()

    assert body["churn_risk"] == "high"
    assert body["rates"]["nps_category"] == "detractor"
    assert body["rates"]["csat_percent"] == "75.0"
    assert body["rates"]["average_order_value"] == "33.3"
    # Undefined (nothing sent), not zero.
    assert body["rates"]["email_open_rate_percent"] is None


def test_segment_snapshots_follow_the_glossary(manager_api):
    segment = SegmentFactory(slug="vip")
    SegmentSnapshot.objects.create(
        segment=segment,
        period_start=date(2026, 4, 1),
        period_end=date(2026, 5, 1),
        computed_at=timezone.now(),
        promoters=6,
        passives=2,
        detractors=2,
        customers_start=100,
        customers_new=10,
        customers_end=102,
        customers_lost=8,
    )

    [row] = manager_api.get("/api/segment-snapshots/", {"segment": "vip"}).json()["results"]

    assert row["segment_slug"] == "vip"
    assert row["rates"]["nps"] == "40.0"
    assert row["rates"]["retention_rate_percent"] == "92.0"
    assert row["rates"]["churn_rate_percent"] == "8.0"


def test_segment_snapshot_rates_cover_the_glossary_worked_examples(manager_api):
    segment = SegmentFactory(slug="worked")
    SegmentSnapshot.objects.create(
        segment=segment,
        period_start=date(2026, 4, 1),
        period_end=date(2026, 5, 1),
        computed_at=timezone.now(),
        promoters=300,
        passives=100,
        detractors=100,
        csat_count=5,
        csat_sum=18,
        csat_satisfied=3,
        ces_count=4,
        ces_sum=20,
        ces_easy=3,
        customers_start=10_000,
        customers_new=5_000,
        customers_end=12_000,
        customers_lost=3_000,
        emails_sent=1_000,
        emails_clicked=100,
        social_likes=500,
        social_shares=200,
        social_comments=50,
    )

    [row] = manager_api.get("/api/segment-snapshots/", {"segment": "worked"}).json()["results"]
    rates = row["rates"]

    assert (rates["nps"], rates["nps_margin_of_error"], rates["nps_answers"]) == ("40.0", "7.0", 500)
    # Means have two places, as on the report pages (the catalogue rounds each rate once for everyone).
    assert (rates["csat_percent"], rates["csat_average"]) == ("60.0", "3.60")
    assert (rates["ces_average"], rates["ces_easy_percent"]) == ("5.00", "75.0")
    assert (rates["retention_rate_percent"], rates["net_growth_rate_percent"]) == ("70.0", "20.0")
    assert rates["email_click_rate_percent"] == "10.0"
    # (500 + 200 + 50) / 12,000 customers at the end of the month.
    assert rates["engagement_rate_percent"] == "6.3"
