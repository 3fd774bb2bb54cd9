"""The KPI catalogue follows the glossary: each figure defined once, with its worked example."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.catalogue import METRICS, RATES, figures, rates
from metrics.models import SegmentSnapshot
from metrics.report_selectors import Totals, sum_snapshots

NOW = timezone.now()


def month(**counts: object) -> SegmentSnapshot:
    """An unsaved month of a segment with known counts (everything else zero)."""
    return SegmentSnapshot(period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), computed_at=NOW, **counts)


def test_segment_clv_follows_the_glossary_worked_example():
    # 10 active customers, 12 orders, revenue 1,200, mean lifespan 1 year → 100 × (12 ÷ (10 ÷ 12)) × 1 = 1,440.
    t = sum_snapshots([month(customers_end=10, orders=12, revenue=Decimal(1200), avg_lifespan_days=Decimal("365.25"))])
    r = rates(t)
    assert r["average_order_value"] == Decimal("100.00")
    assert r["purchase_frequency"] == Decimal("14.40")
    assert r["clv"] == Decimal("1440.00")
    assert figures(t)["clv"].value == Decimal("1440.00")


def test_every_active_customer_counts_in_the_purchase_frequency_buyer_or_not():
    # Two of the ten bought: the frequency is still per active customer-year, not per buyer.
    few = month(customers_end=10, orders=12, ordering_customers=2, revenue=Decimal(1200))
    many = month(customers_end=10, orders=12, ordering_customers=10, revenue=Decimal(1200))
    assert rates(sum_snapshots([few]))["purchase_frequency"] == rates(sum_snapshots([many]))["purchase_frequency"]


def test_a_quarter_counts_each_month_s_active_customers_once_a_month():
    # 10 active customers for three months are 2.5 customer-years: 12 orders → 4.8 a year.
    t = sum_snapshots(
        [
            SegmentSnapshot(
                period_start=date(2026, m, 1),
                period_end=date(2026, m + 1, 1),
                customers_end=10,
                orders=4,
                computed_at=NOW,
            )
            for m in (1, 2, 3)
        ]
    )
    assert rates(t)["purchase_frequency"] == Decimal("4.80")


def test_lifespan_years_have_365_25_days():
    t = sum_snapshots([month(customers_end=12, orders=1, revenue=Decimal(100), avg_lifespan_days=Decimal("730.5"))])
    # AOV 100 × 1 order ÷ 1 customer-year × 2 years.
    assert rates(t)["clv"] == Decimal("200.00")


def test_no_orders_means_no_clv_and_says_why():
    f = figures(sum_snapshots([month(customers_end=10, avg_lifespan_days=Decimal(300))]))
    assert f["clv"].value is None and f["clv"].reason == "no orders"


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.key)
def test_every_kpi_reads_a_rate_of_the_catalogue_and_explains_itself(metric):
    assert metric.rate in RATES
    assert metric.note and metric.label and metric.n_label
    # Undefined on an empty period, with a reason.
    f = figures(Totals(months=1))[metric.key]
    if f.value is None:
        assert f.reason
