"""Segment snapshots: S, N, E and lost by the glossary, months in Bangkok time, frozen membership, cohorts."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from customers.models import Segment
from metrics.catalogue import rates
from metrics.models import CohortCell, SegmentSnapshot
from metrics.report_selectors import snapshot_totals
from metrics.selectors import segment_snapshots
from metrics.snapshots import build_segment
from tests.customers.factories import CustomerFactory, OrderFactory, SegmentFactory
from tests.metrics.factories import answer

pytestmark = pytest.mark.django_db

BANGKOK = ZoneInfo("Asia/Bangkok")
TODAY = date(2026, 3, 15)


@pytest.fixture
def history():
    """Jan 2026: A and B were there at the start, B left, C joined and stayed, D joined and left."""
    a = CustomerFactory(acquired_at=date(2025, 6, 1), country="TH")
    b = CustomerFactory(acquired_at=date(2025, 6, 1), churned_at=date(2026, 1, 20), country="TH")
    c = CustomerFactory(acquired_at=date(2026, 1, 10), country="MY")
    d = CustomerFactory(acquired_at=date(2026, 1, 5), churned_at=date(2026, 1, 25), country="MY")
    # 23:30 on 31 January in Bangkok is 16:30 UTC: January. 00:10 on 1 February is still 31 January in UTC.
    OrderFactory(customer=a, amount=Decimal("10.00"), ordered_at=datetime(2026, 1, 31, 23, 30, tzinfo=BANGKOK))
    OrderFactory(customer=c, amount=Decimal("30.00"), ordered_at=datetime(2026, 2, 1, 0, 10, tzinfo=BANGKOK))
    answer(a, "nps", 10, datetime(2026, 2, 28, 23, 59, tzinfo=BANGKOK))
    answer(c, "nps", 3, datetime(2026, 3, 1, 0, 0, tzinfo=BANGKOK))
    return a, b, c, d


def _snapshot(segment: Segment, start: date, period: str = "month") -> SegmentSnapshot:
    return SegmentSnapshot.objects.get(segment=segment, period=period, period_start=start)


def test_a_month_follows_the_glossary_definitions(history):
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, months=3, today=TODAY)

    jan = _snapshot(everyone, date(2026, 1, 1))
    assert (jan.customers_start, jan.customers_new, jan.customers_end, jan.customers_lost) == (2, 1, 2, 1)
    assert jan.member_count == 4
    figures = rates(snapshot_totals(jan))
    assert figures["retention_rate_percent"] == Decimal(50)
    assert figures["churn_rate_percent"] == Decimal(50)
    assert figures["retention_rate_percent"] + figures["churn_rate_percent"] == 100
    assert figures["net_growth_rate_percent"] == Decimal(0)

    feb = _snapshot(everyone, date(2026, 2, 1))
    assert (feb.customers_start, feb.customers_new, feb.customers_end, feb.customers_lost) == (2, 0, 2, 0)


def test_months_are_cut_at_midnight_in_the_configured_time_zone(history):
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, months=3, today=TODAY)

    jan, feb, mar = (_snapshot(everyone, date(2026, m, 1)) for m in (1, 2, 3))
    assert (jan.orders, jan.revenue) == (1, Decimal("10.00"))
    assert (feb.orders, feb.revenue, feb.ordering_customers) == (1, Decimal("30.00"), 1)
    assert (feb.promoters, feb.detractors) == (1, 0)
    assert (mar.promoters, mar.detractors) == (0, 1)
    assert rates(snapshot_totals(feb))["nps"] == Decimal(100)


def test_a_quarter_is_computed_from_the_raw_data_not_added_up_from_months(history):
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, months=3, today=TODAY)

    q1 = _snapshot(everyone, date(2026, 1, 1), period="quarter")
    assert q1.period_end == date(2026, 4, 1)
    assert (q1.customers_start, q1.customers_new, q1.customers_end, q1.customers_lost) == (2, 1, 2, 1)
    assert (q1.orders, q1.revenue, q1.ordering_customers) == (2, Decimal("40.00"), 2)
    assert (q1.promoters, q1.detractors) == (1, 1)
    assert [s.period_start for s in segment_snapshots(everyone)] == [date(2026, m, 1) for m in (1, 2, 3)]


def test_dynamic_and_static_segments_count_only_their_members(history):
    a, _b, c, _d = history
    thai = SegmentFactory(slug="thai", filter_params={"country": "TH"})
    chosen = SegmentFactory(slug="chosen", kind=Segment.Kind.STATIC)
    chosen.members.set([a, c])

    build_segment(thai, months=3, today=TODAY)
    build_segment(chosen, months=3, today=TODAY)

    jan = _snapshot(thai, date(2026, 1, 1))
    assert (jan.member_count, jan.customers_start, jan.customers_lost, jan.orders) == (2, 2, 1, 1)
    feb = _snapshot(chosen, date(2026, 2, 1))
    assert (feb.member_count, feb.customers_start, feb.orders, feb.revenue) == (2, 2, 1, Decimal("30.00"))


def test_membership_is_frozen_when_the_snapshot_is_computed(history):
    a, _b, c, _d = history
    chosen = SegmentFactory(slug="chosen", kind=Segment.Kind.STATIC)
    chosen.members.set([a])
    build_segment(chosen, months=3, today=TODAY)
    chosen.members.add(c)
    assert _snapshot(chosen, date(2026, 2, 1)).member_count == 1
    build_segment(chosen, months=3, today=TODAY)
    assert _snapshot(chosen, date(2026, 2, 1)).member_count == 2
    assert SegmentSnapshot.objects.filter(segment=chosen, period="month").count() == 3


def test_cohorts_show_the_share_of_each_acquisition_month_still_active(history):
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, months=3, today=TODAY)

    cells = {
        (c.cohort_month, c.months_since): (c.cohort_size, c.active) for c in CohortCell.objects.filter(segment=everyone)
    }
    # January's cohort: C and D; D left in January.
    assert cells[(date(2026, 1, 1), 0)] == (2, 1)
    assert cells[(date(2026, 1, 1), 2)] == (2, 1)
    assert (date(2026, 1, 1), 3) not in cells
    assert not any(month == date(2026, 2, 1) for month, _ in cells)


def test_an_empty_segment_gets_zero_snapshots():
    nobody = SegmentFactory(slug="nobody", filter_params={"country": "ZZ"})
    build_segment(nobody, months=2, today=TODAY)
    snapshot = _snapshot(nobody, date(2026, 3, 1))
    assert (snapshot.member_count, snapshot.customers_start, snapshot.orders) == (0, 0, 0)
    assert rates(snapshot_totals(snapshot))["retention_rate_percent"] is None


def test_a_month_s_response_rate_counts_the_answers_to_that_month_s_invitations():
    from tests.surveys.factories import InvitationFactory, ResponseFactory

    customer = CustomerFactory(acquired_at=date(2025, 6, 1))
    sent_in_january = InvitationFactory(customer=customer, sent_at=datetime(2026, 1, 31, 20, 0, tzinfo=BANGKOK))
    ResponseFactory(invitation=sent_in_january, submitted_at=datetime(2026, 2, 2, 9, 0, tzinfo=BANGKOK))
    sent_in_february = InvitationFactory(customer=customer, sent_at=datetime(2026, 2, 3, 9, 0, tzinfo=BANGKOK))
    ResponseFactory(invitation=sent_in_february, submitted_at=datetime(2026, 2, 4, 9, 0, tzinfo=BANGKOK))
    everyone = Segment.objects.get(slug="all-customers")

    build_segment(everyone, months=3, today=TODAY)

    jan, feb = _snapshot(everyone, date(2026, 1, 1)), _snapshot(everyone, date(2026, 2, 1))
    assert (jan.answers, jan.invitations, rates(snapshot_totals(jan))["response_rate_percent"]) == (1, 1, Decimal(100))
    assert (feb.answers, feb.invitations, rates(snapshot_totals(feb))["response_rate_percent"]) == (
        1,
        1,
        Decimal(100),
    )  # not 2 of 1
