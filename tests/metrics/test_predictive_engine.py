"""Predictive scores in the engine: fitted on a full recompute, scored per chunk and incrementally."""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from metrics.churn_change import FELL, FELL_SHARPLY, LAPSED, P_ALIVE_LOW, decide
from metrics.models import CustomerMetrics, RecomputeRun
from metrics.predictive import fit_bg_nbd, fit_gamma_gamma, predicted_value
from metrics.predictive_engine import PredictiveFit, purchase_summary
from metrics.services import chunk_process, customers_recompute, start_full_recompute
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
BANGKOK = ZoneInfo("Asia/Bangkok")


def local(days_ago: int, hour: int = 12) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BANGKOK)


@pytest.fixture
def shop():
    """40 buyers: one-time buyers, regulars and lapsed regulars; two customers without orders."""
    rng = random.Random(7)
    buyers = []
    for i in range(40):
        customer = CustomerFactory()
        first = rng.randint(200, 700)
        days = {first}
        if i % 4:  # three in four order again
            for _ in range(rng.randint(1, 8)):
                days.add(rng.randint(first // 2 if i % 3 else 1, first))
        for day in days:
            OrderFactory(customer=customer, ordered_at=local(day), amount=Decimal(rng.randint(10, 90)))
        buyers.append(customer)
    return buyers, CustomerFactory.create_batch(2)


def run_sync(**kwargs) -> RecomputeRun:
    run = start_full_recompute(enqueue=False, **kwargs)
    for chunk in run.chunks.order_by("index"):
        chunk_process(chunk_id=chunk.pk, enqueue_snapshots=False)
    run.refresh_from_db()
    return run


def test_purchases_on_one_local_day_count_once():
    customer = CustomerFactory()
    # 00:30 and 20:00 in Bangkok are one local day although they fall on two UTC days.
    OrderFactory(customer=customer, ordered_at=local(30, hour=9), amount=Decimal("10.00"))
    OrderFactory(customer=customer, ordered_at=local(30, hour=23), amount=Decimal("5.00"))
    OrderFactory(customer=customer, ordered_at=local(10, hour=0) + timedelta(minutes=30), amount=Decimal("7.00"))
    OrderFactory(customer=customer, ordered_at=local(10, hour=20), amount=Decimal("3.00"))
    OrderFactory(customer=customer, ordered_at=local(4, hour=1), amount=Decimal("30.00"))
    summary = purchase_summary(now=timezone.now(), ids=[customer.pk])
    assert summary.customer_id.tolist() == [customer.pk]
    assert summary.frequency.tolist() == [2]  # days 10 and 4 after day 30
    assert summary.recency.tolist() == [26] and summary.age.tolist() == [30]
    assert summary.monetary.tolist() == [pytest.approx(20.0)]  # (7 + 3 + 30) / 2 repeat days


def test_a_full_recompute_fits_both_models_and_scores_every_buyer(shop):
    _, without_orders = shop
    run = run_sync(chunk_size=15)
    fit = run.predictive_fit
    assert "error" not in fit
    assert fit["bg_nbd"]["n"] == 40 and fit["gamma_gamma"]["n"] == 30
    assert fit["bg_nbd"]["log_likelihood"] < 0 and fit["bg_nbd"]["fit_seconds"] >= 0
    summary = purchase_summary(now=timezone.now())
    bg = fit_bg_nbd(summary.frequency, summary.recency, summary.age)
    gg = fit_gamma_gamma(summary.frequency, summary.monetary)
    assert fit["bg_nbd"]["r"] == pytest.approx(bg.r, rel=1e-6)
    assert fit["gamma_gamma"]["p"] == pytest.approx(gg.p, rel=1e-6)

    rows = {m.customer_id: m for m in CustomerMetrics.objects.all()}
    values = predicted_value(
        bg, gg, summary.frequency, summary.recency, summary.age, summary.monetary, annual_discount_rate=0.10
    )
    for i, customer_id in enumerate(summary.customer_id.tolist()):
        m = rows[customer_id]
        assert m.p_alive == pytest.approx(
            float(bg.p_alive(summary.frequency[i], summary.recency[i], summary.age[i])), rel=1e-6
        )
        assert m.predicted_value_12m == Decimal(f"{values[i]:.2f}")
        assert 0 < m.expected_orders_90d < m.expected_orders_365d
        assert m.expected_order_value > 0
        if summary.frequency[i] == 0:
            assert m.p_alive == 1.0  # one-time buyers are alive by construction in BG/NBD
            assert m.likely_lapsed == (summary.age[i] > fit["lapse_days"])
    for customer in without_orders:
        m = rows[customer.pk]
        assert (m.p_alive, m.predicted_value_12m, m.likely_lapsed) == (None, None, None)
    assert CustomerMetrics.objects.filter(likely_lapsed=True).exists()
    assert CustomerMetrics.objects.filter(likely_lapsed=False).exists()


def test_the_discount_rate_setting_lowers_the_predicted_value(shop):
    run_sync()
    plain = {m.customer_id: m.predicted_value_12m for m in CustomerMetrics.objects.exclude(predicted_value_12m=None)}
    with override_settings(CLV_DISCOUNT_RATE=0.5):
        run_sync()
    for customer_id, value in CustomerMetrics.objects.exclude(predicted_value_12m=None).values_list(
        "customer_id", "predicted_value_12m"
    ):
        assert value <= plain[customer_id]
    assert sum(plain.values()) > sum(
        CustomerMetrics.objects.exclude(predicted_value_12m=None).values_list("predicted_value_12m", flat=True)
    )


def test_too_little_data_stores_why_and_leaves_the_scores_empty():
    for _ in range(5):
        customer = CustomerFactory()
        OrderFactory(customer=customer, ordered_at=local(100))
        OrderFactory(customer=customer, ordered_at=local(20))
    run = run_sync()
    assert "needs at least" in run.predictive_fit["error"]
    assert "bg_nbd" not in run.predictive_fit
    assert CustomerMetrics.objects.count() == 5
    assert not CustomerMetrics.objects.exclude(p_alive=None).exists()
    assert not CustomerMetrics.objects.exclude(likely_lapsed=None).exists()


def test_an_incremental_recompute_scores_against_the_stored_parameters(shop):
    _, without_orders = shop
    run = run_sync()
    newcomer = without_orders[0]
    OrderFactory(customer=newcomer, ordered_at=local(60), amount=Decimal("40.00"))
    OrderFactory(customer=newcomer, ordered_at=local(2), amount=Decimal("60.00"))
    customers_recompute(customer_ids=[newcomer.pk])
    m = CustomerMetrics.objects.get(customer=newcomer)
    stored = PredictiveFit.from_json(run.predictive_fit)
    assert stored.bg_nbd is not None and stored.gamma_gamma is not None
    assert m.p_alive == pytest.approx(float(stored.bg_nbd.p_alive(1, 58, 60)), rel=1e-9)
    assert m.expected_order_value == Decimal(f"{float(stored.gamma_gamma.expected_spend(1, 60.0)):.2f}")
    assert m.likely_lapsed is False
    assert RecomputeRun.objects.count() == 1  # nothing refitted


def test_a_customer_whose_orders_are_gone_loses_the_scores(shop):
    buyers, _ = shop
    run_sync()
    customer = buyers[1]
    assert CustomerMetrics.objects.get(customer=customer).p_alive is not None
    customer.orders.all().delete()
    customers_recompute(customer_ids=[customer.pk])
    assert CustomerMetrics.objects.get(customer=customer).p_alive is None


def test_before_any_full_recompute_scores_stay_empty(shop):
    buyers, _ = shop
    customers_recompute(customer_ids=[c.pk for c in buyers])
    assert CustomerMetrics.objects.count() == 40
    assert not CustomerMetrics.objects.exclude(p_alive=None).exists()


def test_churn_risk_looks_at_lapse_and_falling_activity_once_scored(shop):
    run_sync()
    rows = CustomerMetrics.objects.exclude(p_alive=None)
    # Every lapsed buyer is high risk for that reason, unless churned or a detractor (none here).
    assert set(rows.filter(likely_lapsed=True).values_list("churn_risk", "churn_risk_reason")) == {("high", LAPSED)}
    # The fixed 180-day rule gave way to the lapse rule for scored customers.
    assert not rows.filter(churn_risk_reason="No order for more than 180 days").exists()

    base = {"latest_nps": None, "health": 70, "p_alive": 0.95, "lapsed": False}
    assert decide(reason="x", recent=1, earlier=4, **base) == ("high", FELL_SHARPLY)
    # A promoter whose activity halved is only medium.
    assert decide(reason="x", recent=1, earlier=4, **base | {"latest_nps": 10}) == ("medium", FELL)
    assert decide(reason="x", recent=3, earlier=4, **base)[0] == "medium"
    assert decide(reason="x", recent=0, earlier=1, **base)[0] == "low"  # too little to call a trend
    assert decide(reason="x", recent=2, earlier=2, **base | {"p_alive": 0.7}) == ("medium", P_ALIVE_LOW)
    assert decide(reason="Churned", recent=9, earlier=0, **base) == ("high", "Churned")


def test_a_regular_whose_activity_halved_turns_high_risk(shop):
    run_sync()
    regular = CustomerFactory()
    for days in (170, 150, 130, 110, 40):
        OrderFactory(customer=regular, ordered_at=local(days))
    customers_recompute(customer_ids=[regular.pk])
    m = CustomerMetrics.objects.get(customer=regular)
    assert m.p_alive is not None and m.likely_lapsed is False
    assert (m.churn_risk, m.churn_risk_reason) == ("high", FELL_SHARPLY)
