"""The set-based engine equals a plain Python reference on random small histories.

Timestamps cluster around midnight at month boundaries in Asia/Bangkok (UTC+7), where a UTC month and
a Bangkok month disagree; acquisition and churn dates include customers acquired and lost in one month.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.calendar import month_starts, next_month
from customers.models import Customer, Order, Segment
from metrics.models import CohortCell, CustomerMetrics, SegmentSnapshot
from metrics.services import customers_recompute
from metrics.snapshots import build_segment
from tests.metrics.factories import answer

pytestmark = pytest.mark.django_db

BANGKOK = ZoneInfo("Asia/Bangkok")
MONTHS = 4


class _Rollback(Exception):
    pass


@dataclass
class Plan:
    acquired: date
    churned: date | None
    orders: list[tuple[datetime, Decimal]]
    answers: list[tuple[str, int, datetime]]


def _window() -> list[date]:
    return month_starts(MONTHS, timezone.localdate())


def _moments() -> st.SearchStrategy[datetime]:
    """Near a Bangkok month boundary (± 3 hours) or anywhere in the window, never in the future."""
    starts = _window()
    now = timezone.now()

    def at(index: int, offset_minutes: int) -> datetime:
        month = starts[index]
        moment = datetime(month.year, month.month, 1, tzinfo=BANGKOK) + timedelta(minutes=offset_minutes)
        return min(moment, now - timedelta(minutes=1)).replace(microsecond=0)

    near = st.builds(at, st.integers(0, MONTHS - 1), st.integers(-180, 180))
    anywhere = st.builds(at, st.integers(0, MONTHS - 1), st.integers(0, 31 * 24 * 60))
    return st.one_of(near, anywhere)


@st.composite
def plans(draw) -> Plan:
    today = timezone.localdate()
    first = _window()[0]
    acquired = first + timedelta(days=draw(st.integers(-60, (today - first).days)))
    churned = None
    if draw(st.booleans()):
        churned = acquired + timedelta(days=draw(st.integers(0, max((today - acquired).days, 0))))
    orders = draw(st.lists(st.tuples(_moments(), st.decimals(min_value=0, max_value=500, places=2)), max_size=4))
    answers = draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("nps"), st.integers(0, 10), _moments()),
                st.tuples(st.just("csat"), st.integers(1, 5), _moments()),
            ),
            max_size=3,
        )
    )
    return Plan(acquired, churned, orders, answers)


def _bangkok_month(moment: datetime) -> date:
    return moment.astimezone(BANGKOK).date().replace(day=1)


def _reference_customer(plan: Plan, today: date) -> dict:
    nps = sorted((at, i, score) for i, (kind, score, at) in enumerate(plan.answers) if kind == "nps")
    csat = [score for kind, score, _ in plan.answers if kind == "csat"]
    end = plan.churned or today
    return {
        "orders": len(plan.orders),
        "revenue": sum((amount for _, amount in plan.orders), Decimal(0)),
        "last_order_at": max((at for at, _ in plan.orders), default=None),
        "latest_nps_score": nps[-1][2] if nps else None,
        "answers": len(plan.answers),
        "csat_count": len(csat),
        "csat_sum": sum(csat),
        "csat_satisfied": sum(1 for s in csat if s >= 4),
        "tenure_days": max((end - plan.acquired).days, 0),
    }


def _reference_month(plans: list[Plan], start: date) -> dict:
    end = next_month(start)

    def active_on_start(p: Plan, day: date) -> bool:  # active at 00:00 of `day`
        return p.acquired < day and (p.churned is None or p.churned >= day)

    orders = [(at, amount) for p in plans for at, amount in p.orders if _bangkok_month(at) == start]
    nps = [score for p in plans for kind, score, at in p.answers if kind == "nps" and _bangkok_month(at) == start]
    return {
        "customers_start": sum(active_on_start(p, start) for p in plans),
        "customers_end": sum(active_on_start(p, end) for p in plans),
        "customers_new": sum(start <= p.acquired < end and active_on_start(p, end) for p in plans),
        "customers_lost": sum(active_on_start(p, start) and p.churned is not None and p.churned < end for p in plans),
        "orders": len(orders),
        "revenue": sum((amount for _, amount in orders), Decimal(0)),
        "promoters": sum(s >= 9 for s in nps),
        "passives": sum(7 <= s <= 8 for s in nps),
        "detractors": sum(s <= 6 for s in nps),
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(plans(), min_size=1, max_size=6))
def test_the_engine_equals_a_plain_python_reference(customer_plans):
    try:
        with transaction.atomic():
            _check(customer_plans)
            raise _Rollback
    except _Rollback:
        pass


def _check(customer_plans: list[Plan]) -> None:
    today = timezone.localdate()
    customers = []
    for n, plan in enumerate(customer_plans):
        customer = Customer.objects.create(
            external_id=f"P{n}",
            name=f"Customer {n}",
            acquired_at=plan.acquired,
            churned_at=plan.churned,
            lifecycle_stage="churned" if plan.churned else "active",
        )
        customers.append(customer)
        Order.objects.bulk_create(
            Order(customer=customer, amount=amount, amount_base=amount, ordered_at=at) for at, amount in plan.orders
        )
        for kind, score, at in plan.answers:
            answer(customer, kind, score, at)

    customers_recompute(customer_ids=[c.id for c in customers])
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, months=MONTHS, today=today)

    for customer, plan in zip(customers, customer_plans, strict=True):
        row = CustomerMetrics.objects.values(*_reference_customer(plan, today)).get(customer=customer)
        assert row == _reference_customer(plan, today)

    for start in _window():
        expected = _reference_month(customer_plans, start)
        got = SegmentSnapshot.objects.values(*expected).get(segment=everyone, period="month", period_start=start)
        assert got == expected, start
        assert got["customers_end"] - got["customers_new"] == got["customers_start"] - got["customers_lost"]

    sizes = Counter(p.acquired.replace(day=1) for p in customer_plans)
    cells = defaultdict(dict)
    for cell in CohortCell.objects.filter(segment=everyone):
        cells[cell.cohort_month][cell.months_since] = (cell.cohort_size, cell.active)
    for cohort, months in cells.items():
        for since, (size, active) in months.items():
            month_end = month_starts(1, cohort)[0]
            for _ in range(since + 1):
                month_end = next_month(month_end)
            still = sum(
                1
                for p in customer_plans
                if p.acquired.replace(day=1) == cohort and (p.churned is None or p.churned >= month_end)
            )
            assert (size, active) == (sizes[cohort], still)
