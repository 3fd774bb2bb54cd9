"""Report periods tell the truth: every month with data is computed, and a month without figures says why."""

from datetime import date
from decimal import Decimal

import pytest

from core.calendar import MonthRange
from customers.models import Segment
from metrics.models import SegmentSnapshot
from metrics.reports import segment_report
from metrics.snapshots import build_segment, months_to_build, window
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)


@pytest.fixture
def since_1997() -> Segment:
    """A data set that starts in 1997: customers and orders then, one customer still active."""
    a = CustomerFactory(acquired_at=date(1997, 1, 15))
    CustomerFactory(acquired_at=date(1997, 2, 3), churned_at=date(1998, 6, 1))
    OrderFactory(customer=a, amount=Decimal("25.00"), ordered_at="1997-03-10T05:00:00+00:00")
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, today=TODAY)
    return everyone


def test_the_engine_builds_every_month_back_to_the_earliest_data(since_1997):
    months = SegmentSnapshot.objects.filter(segment=since_1997, period="month")
    assert months.order_by("period_start").first().period_start == date(1997, 1, 1)
    assert months.count() == MonthRange(date(1997, 1, 1), date(2026, 11, 1)).length
    march = months.get(period_start=date(1997, 3, 1))
    assert (march.orders, march.revenue, march.customers_end) == (1, Decimal("25.00"), 2)


def test_a_range_in_1997_has_figures_and_no_note(since_1997):
    report = segment_report(segment=since_1997, months=MonthRange(date(1997, 1, 1), date(1997, 12, 1)))
    kpis = {k.metric.key: k for k in report.kpis}
    assert kpis["aov"].current.value == Decimal("25.00")
    assert report.coverage_notes == []


def test_months_before_the_first_customer_say_so_instead_of_no_figures_beside_computed(since_1997):
    report = segment_report(segment=since_1997, months=MonthRange(date(1996, 7, 1), date(1997, 2, 1)))
    assert report.coverage_notes[0].startswith("No figures for Jul 1996 – Dec 1996: the segment's first customer")


def test_months_not_computed_yet_say_so(since_1997):
    SegmentSnapshot.objects.filter(segment=since_1997, period_start__lt=date(1998, 1, 1)).delete()
    report = segment_report(segment=since_1997, months=MonthRange(date(1997, 11, 1), date(1998, 2, 1)))
    assert "No figures for Nov 1997 – Dec 1997 yet: these months are not computed" in report.coverage_notes[0]


def test_the_default_page_s_previous_period_is_whole_or_not_shown(since_1997):
    default = MonthRange.default(TODAY)
    report = segment_report(segment=since_1997, months=default)
    previous = report.previous
    assert (
        SegmentSnapshot.objects.filter(
            segment=since_1997, period="month", period_start__gte=previous.first, period_start__lt=previous.end
        ).count()
        == previous.length
    )
    assert all(k.previous.reason != "no figures computed for this period" for k in report.kpis)
    # With a month of the previous period missing, no change is shown against the rest.
    SegmentSnapshot.objects.filter(segment=since_1997, period_start=previous.first).delete()
    report = segment_report(segment=since_1997, months=default)
    assert all(k.previous.value is None and k.delta_text == "" for k in report.kpis)
    assert any("previous period" in note for note in report.coverage_notes)


def test_the_page_shows_the_notes(manager_client, since_1997):
    html = manager_client.get("/reports/", {"from": "1996-11", "to": "1997-01"}).content.decode()
    assert "No figures for Nov 1996 – Dec 1996: the segment" in html


def test_without_data_the_window_is_the_minimum_and_with_old_data_it_reaches_back():
    assert months_to_build(TODAY, window(months=1, today=TODAY).zone) == 26
    CustomerFactory(acquired_at=date(2001, 5, 9))
    assert (
        months_to_build(TODAY, window(months=1, today=TODAY).zone)
        == MonthRange(date(2001, 5, 1), date(2026, 11, 1)).length
    )
