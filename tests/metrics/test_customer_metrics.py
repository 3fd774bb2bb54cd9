"""Per-customer figures: exact values from a small history, the scores' rules, and reruns."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.compute import Breakpoints, compute_customers
from metrics.models import CustomerMetrics
from metrics.selectors import customer_figures
from metrics.services import customers_recompute
from tests.customers.factories import (
    CustomerFactory,
    EngagementEventFactory,
    InteractionFactory,
    OrderFactory,
    ReferralFactory,
)
from tests.metrics.factories import answer

pytestmark = pytest.mark.django_db

BP = Breakpoints(recency=(10, 30, 90, 180), frequency=(1, 2, 3, 5), monetary=(100, 200, 400, 800))


def test_it_computes_every_figure_of_a_customer_from_the_raw_history():
    now = timezone.now()
    customer = CustomerFactory(acquired_at=timezone.localdate() - timedelta(days=365))
    opened = now - timedelta(days=10)
    InteractionFactory(
        customer=customer,
        opened_at=opened,
        first_response_at=opened + timedelta(hours=1),
        resolved_at=opened + timedelta(hours=5),
        status="resolved",
    )
    InteractionFactory(customer=customer, opened_at=now - timedelta(days=200), first_response_at=None)
    OrderFactory(customer=customer, amount=Decimal("100.00"), ordered_at=now - timedelta(days=5))
    OrderFactory(customer=customer, amount=Decimal("50.50"), ordered_at=now - timedelta(days=40))
    answer(customer, "nps", 6, now - timedelta(days=30))
    latest = answer(customer, "nps", 10, now - timedelta(days=3))
    for score in (4, 5, 5, 3, 1):
        answer(customer, "csat", score, now - timedelta(days=20))
    for score in (7, 6, 5, 2):
        answer(customer, "ces", score, now - timedelta(days=20))
    EngagementEventFactory(customer=customer, kind="session", duration_seconds=200, pages=3)
    EngagementEventFactory(customer=customer, kind="session", duration_seconds=400, pages=1)
    for kind in ("email_sent", "email_sent", "email_sent", "email_sent", "email_opened", "email_clicked"):
        EngagementEventFactory(customer=customer, kind=kind)
    ReferralFactory(referrer=customer, converted_customer=CustomerFactory())
    ReferralFactory(referrer=customer)

    assert customers_recompute(customer_ids=[customer.id]) == 1

    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.latest_nps_score, m.latest_nps_at) == (10, latest.submitted_at)
    assert (m.csat_count, m.csat_sum, m.csat_satisfied) == (5, 18, 3)
    assert (m.ces_count, m.ces_sum, m.ces_easy) == (4, 20, 3)
    assert (m.invitations, m.answers) == (11, 11)
    assert (m.interactions_total, m.interactions_90d) == (2, 1)
    assert m.last_interaction_at == opened
    assert (m.first_response_count, m.first_response_seconds_sum) == (1, 3600)
    assert (m.resolved_count, m.resolution_seconds_sum) == (1, 5 * 3600)
    assert (m.orders, m.revenue, m.clv) == (2, Decimal("150.50"), Decimal("150.50"))
    assert m.tenure_days == 365
    assert (m.sessions, m.session_seconds_sum) == (2, 600)
    assert (m.emails_sent, m.emails_opened, m.emails_clicked) == (4, 1, 1)
    assert (m.referrals_made, m.referrals_converted) == (2, 1)

    fig = customer_figures(m)
    assert fig.nps_category == "promoter"
    assert fig.csat == Decimal(60)
    assert fig.csat_mean == Decimal("3.6")
    assert fig.ces_mean == Decimal(5)
    assert fig.ces_easy == Decimal(75)
    assert fig.aov == Decimal("75.25")
    assert fig.open_rate == Decimal(25)
    assert fig.ctr == Decimal(25)
    assert fig.avg_session_seconds == Decimal(300)
    assert fig.referral_conversion == Decimal(50)
    assert fig.days_since_last_interaction == 10


def test_a_customer_without_history_gets_a_row_with_zeros_and_no_rfm():
    customer = CustomerFactory()
    customers_recompute(customer_ids=[customer.id])
    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.orders, m.revenue, m.interactions_total, m.answers) == (0, 0, 0, 0)
    assert m.latest_nps_score is None and m.clv is None
    assert m.rfm_recency is None and m.rfm_segment == "No orders"
    # Neutral sentiment 12.5 + neutral email 7.5 = 20, no purchases, no contact.
    assert m.health_score == 20
    assert (m.churn_risk, m.churn_risk_reason) == ("high", "Health score below 35")


def test_rfm_scores_follow_the_breakpoints_and_name_the_segment():
    now = timezone.now()
    champion = CustomerFactory()
    for _ in range(6):
        OrderFactory(customer=champion, amount=Decimal(200), ordered_at=now - timedelta(days=2))
    sleeper = CustomerFactory()
    OrderFactory(customer=sleeper, amount=Decimal(20), ordered_at=now - timedelta(days=400))

    compute_customers(ids=[champion.id, sleeper.id], bp=BP)

    c = CustomerMetrics.objects.get(customer=champion)
    assert (c.rfm_recency, c.rfm_frequency, c.rfm_monetary, c.rfm_segment) == (5, 5, 5, "Champions")
    s = CustomerMetrics.objects.get(customer=sleeper)
    assert (s.rfm_recency, s.rfm_frequency, s.rfm_monetary, s.rfm_segment) == (1, 1, 1, "Hibernating")
    assert (s.churn_risk, s.churn_risk_reason) == ("high", "No order for more than 180 days")


def test_health_score_adds_up_the_documented_weights():
    now = timezone.now()
    customer = CustomerFactory()
    for _ in range(6):
        OrderFactory(customer=customer, amount=Decimal(200), ordered_at=now - timedelta(days=2))
    answer(customer, "nps", 10, now - timedelta(days=1))
    InteractionFactory(customer=customer, opened_at=now - timedelta(days=5))
    EngagementEventFactory(customer=customer, kind="email_sent")
    EngagementEventFactory(customer=customer, kind="email_opened")

    compute_customers(ids=[customer.id], bp=BP)

    m = CustomerMetrics.objects.get(customer=customer)
    # recency 30 + frequency 15 + promoter 25 + contact 15 + every email opened 15
    assert m.health_score == 100
    assert m.churn_risk == "low"


@pytest.mark.parametrize(
    ("nps", "order_days_ago", "risk", "reason"),
    [
        (3, 2, "high", "Latest NPS answer was a detractor (0-6)"),
        (8, 2, "medium", "Latest NPS answer was passive (7-8)"),
        (10, 120, "medium", "No order for 91-180 days"),
    ],
)
def test_churn_risk_says_why(nps, order_days_ago, risk, reason):
    now = timezone.now()
    customer = CustomerFactory()
    for _ in range(6):
        OrderFactory(customer=customer, amount=Decimal(200), ordered_at=now - timedelta(days=order_days_ago))
    answer(customer, "nps", nps, now - timedelta(days=1))
    InteractionFactory(customer=customer, opened_at=now - timedelta(days=5))

    compute_customers(ids=[customer.id], bp=BP)

    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.churn_risk, m.churn_risk_reason) == (risk, reason)


def test_a_churned_customer_is_high_risk_with_zero_health():
    customer = CustomerFactory(acquired_at=date(2024, 1, 1), churned_at=date(2024, 6, 1))
    customers_recompute(customer_ids=[customer.id])
    m = CustomerMetrics.objects.get(customer=customer)
    assert (m.health_score, m.churn_risk, m.churn_risk_reason) == (0, "high", "Churned")
    assert m.tenure_days == (date(2024, 6, 1) - date(2024, 1, 1)).days


def test_recomputing_overwrites_instead_of_adding_up():
    customer = CustomerFactory()
    OrderFactory(customer=customer, amount=Decimal(10))
    customers_recompute(customer_ids=[customer.id])
    first = CustomerMetrics.objects.get(customer=customer)
    customers_recompute(customer_ids=[customer.id])
    customers_recompute(customer_ids=[customer.id])
    again = CustomerMetrics.objects.get(customer=customer)
    assert CustomerMetrics.objects.count() == 1
    assert (again.orders, again.revenue) == (first.orders, first.revenue) == (1, Decimal(10))
    assert again.computed_at >= first.computed_at

    OrderFactory(customer=customer, amount=Decimal(5))
    customers_recompute(customer_ids=[customer.id])
    assert CustomerMetrics.objects.get(customer=customer).revenue == Decimal(15)


def test_unknown_ids_are_ignored():
    assert customers_recompute(customer_ids=[987_654]) == 0
    assert customers_recompute(customer_ids=[]) == 0


def test_rfm_breakpoints_are_the_population_quintiles():
    from metrics.compute import compute_breakpoints

    now = timezone.now()
    for n in range(1, 11):
        customer = CustomerFactory()
        for _ in range(n):
            OrderFactory(customer=customer, amount=Decimal(10), ordered_at=now - timedelta(days=n, hours=1))
    bp = compute_breakpoints(now)
    assert bp.frequency == (2, 4, 6, 8)
    assert bp.monetary == (20, 40, 60, 80)
    assert bp.recency == (2, 4, 6, 8)
