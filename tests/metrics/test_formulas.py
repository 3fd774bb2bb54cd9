"""The glossary's worked examples, exactly."""

from decimal import Decimal

import pytest

from metrics import formulas as f


def test_nps_worked_example():
    assert f.nps(300, 100, 100) == Decimal(40)


def test_nps_is_undefined_without_answers():
    assert f.nps(0, 0, 0) is None
    assert f.nps_margin_of_error(0, 0, 0) is None


def test_nps_margin_of_error_follows_the_formula():
    # p = 0.6, d = 0.2, n = 500: 1.96 × 100 × sqrt((0.8 − 0.16) / 500) = 7.0122...
    assert f.quantize(f.nps_margin_of_error(300, 100, 100), "0.01") == Decimal("7.01")


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_categories(score, category):
    assert f.nps_category(score) == category


def test_nps_category_rejects_scores_off_the_scale():
    with pytest.raises(ValueError, match="0 to 10"):
        f.nps_category(11)


def test_csat_worked_example():
    assert f.csat([4, 5, 5, 3, 1]) == Decimal(60)
    assert f.mean(4 + 5 + 5 + 3 + 1, 5) == Decimal("3.6")


def test_ces_worked_example():
    assert f.ces([7, 6, 5, 2]) == Decimal("5.0")
    assert f.ces_easy_share(3, 4) == Decimal(75)


def test_retention_worked_example():
    assert f.retention_rate(start=10_000, end=12_000, new=5_000) == Decimal(70)


def test_churn_worked_example():
    assert f.churn_rate(start=1_000, lost=100) == Decimal(10)


def test_net_growth_is_not_retention():
    assert f.net_growth_rate(start=10_000, end=12_000) == Decimal(20)
    assert f.retention_rate(10_000, 12_000, 5_000) != f.net_growth_rate(10_000, 12_000)


def test_retention_and_churn_add_up_to_100_for_the_same_start():
    start, lost, new = 1_000, 100, 300
    end = start - lost + new
    assert f.retention_rate(start, end, new) + f.churn_rate(start, lost) == Decimal(100)


def test_period_rates_are_undefined_for_an_empty_start():
    assert f.retention_rate(0, 5, 5) is None
    assert f.churn_rate(0, 0) is None
    assert f.net_growth_rate(0, 3) is None


def test_clv_worked_example():
    assert f.clv(Decimal(100), Decimal(12), Decimal(1)) == Decimal(1200)
    assert f.clv(None, Decimal(12), Decimal(1)) is None


def test_ctr_worked_example():
    assert f.ctr(100, 1_000) == Decimal(10)


def test_engagement_rate_worked_example():
    assert f.engagement_rate(500, 200, 50, 10_000) == Decimal("7.5")


def test_average_session_duration_worked_example():
    assert f.average_session_duration(3_000, 10) == Decimal(300)  # 5 minutes


def test_simple_rates():
    assert f.open_rate(25, 100) == Decimal(25)
    assert f.unsubscribe_rate(1, 200) == Decimal("0.5")
    assert f.conversion_rate(3, 60) == Decimal(5)
    assert f.bounce_rate(40, 160) == Decimal(25)
    assert f.referral_conversion_rate(2, 8) == Decimal(25)
    assert f.advocacy_revenue_share(Decimal(50), Decimal(200)) == Decimal(25)
    assert f.response_rate(30, 120) == Decimal(25)
    assert f.average_order_value(Decimal("300.00"), 4) == Decimal(75)
    assert f.purchase_frequency(12, 1) == Decimal(12)
    assert f.average_order_value(Decimal(0), 0) is None
