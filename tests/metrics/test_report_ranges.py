"""Retention and churn over ranges longer than a month follow the glossary's definitions exactly."""

from datetime import date
from decimal import Decimal

import pytest

from core.calendar import Group, MonthRange
from customers.models import Segment
from metrics.reports import segment_report
from metrics.snapshots import build_segment, period_stocks
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def kpis(report) -> dict[str, Decimal | None]:
    return {k.metric.key: k.current.value for k in report.kpis}


@pytest.fixture
def quarter_customers() -> Segment:
    CustomerFactory(acquired_at=date(2025, 6, 10))  # in S, stays
    CustomerFactory(acquired_at=date(2025, 6, 10), churned_at=date(2026, 2, 15))  # in S, lost in February
    CustomerFactory(acquired_at=date(2026, 1, 20), churned_at=date(2026, 3, 5))  # came and went: not in S nor E
    CustomerFactory(acquired_at=date(2026, 2, 3))  # new and still there: N
    CustomerFactory(acquired_at=date(2025, 12, 1), churned_at=date(2026, 1, 10))  # in S, lost in January
    segment = Segment.objects.get(slug="all-customers")
    build_segment(segment, months=12, today=date(2026, 4, 15))
    return segment


def test_a_quarter_counts_only_customers_of_its_start_as_lost(quarter_customers):
    report = segment_report(segment=quarter_customers, months=MonthRange(date(2026, 1, 1), date(2026, 3, 1)))
    figures = kpis(report)
    # S = 3, N = 1, E = 2, lost = 2: retention (2 − 1) / 3, churn 2 / 3 (summing the months' N and lost
    # would give 0 % and 100 %: the January arrival lost in March is in neither S nor E of the quarter).
    assert figures["retention"] == Decimal("33.3")
    assert figures["churn"] == Decimal("66.7")


def test_quarter_buckets_of_the_trend_use_the_same_definition(quarter_customers):
    report = segment_report(
        segment=quarter_customers, months=MonthRange(date(2026, 1, 1), date(2026, 3, 1)), group=Group.QUARTER
    )
    retention = report.tables["retention"]
    first_row = [cell.value for cell in retention.rows[0]]
    assert first_row[1:5] == [3, 1, 2, 2]  # S, N, E, lost


def test_period_stocks_keep_retention_and_churn_at_100_percent():
    groups = [(date(2025, 1, 1), None, 5), (date(2025, 3, 1), date(2025, 5, 1), 2), (date(2025, 4, 1), None, 4)]
    s, n, e, lost = period_stocks(groups, date(2025, 4, 1), date(2025, 7, 1))
    assert (s, n, e, lost) == (7, 4, 9, 2)
    assert e - n == s - lost
