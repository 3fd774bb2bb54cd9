"""BG/NBD and Gamma-Gamma against the papers' published estimates and a plain-Python transcription."""

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.predictive import BgNbd, GammaGamma, InsufficientData, fit_bg_nbd, fit_gamma_gamma, predicted_value

CDNOW = Path(__file__).parent / "data" / "CDNOW_sample.txt"
CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks after 1 January 1997, as in the paper


def cdnow_calibration(unit_days: float = 7.0) -> tuple[list[int], list[float], list[float], list[float]]:
    """Per customer: repeat purchase days, recency, age (in weeks) and mean repeat day value."""
    days: dict[str, dict[dt.date, float]] = {}
    for line in CDNOW.read_text().splitlines():
        _, customer, date, _, value = line.split()
        day = dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
        if day <= CALIBRATION_END:
            per_day = days.setdefault(customer, {})
            per_day[day] = per_day.get(day, 0.0) + float(value)
    frequency, recency, age, monetary = [], [], [], []
    for per_day in days.values():
        dates = sorted(per_day)
        frequency.append(len(dates) - 1)
        recency.append((dates[-1] - dates[0]).days / unit_days)
        age.append((CALIBRATION_END - dates[0]).days / unit_days)
        repeats = [per_day[d] for d in dates[1:]]
        monetary.append(sum(repeats) / len(repeats) if repeats else 0.0)
    return frequency, recency, age, monetary


@pytest.fixture(scope="module")
def cdnow() -> tuple[list[int], list[float], list[float], list[float]]:
    return cdnow_calibration()


def test_the_calibration_summary_has_the_papers_customers(cdnow):
    frequency, _, age, _ = cdnow
    assert len(frequency) == 2357
    assert sum(1 for x in frequency if x > 0) == 946
    assert max(age) == pytest.approx(38.86, abs=0.01)


def test_bg_nbd_reproduces_the_published_estimates(cdnow):
    frequency, recency, age, _ = cdnow
    model = fit_bg_nbd(frequency, recency, age)
    for got, published in ((model.r, 0.243), (model.alpha, 4.414), (model.a, 0.793), (model.b, 2.426)):
        assert got == pytest.approx(published, rel=0.01)
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert model.n == 2357


def test_bg_nbd_alpha_follows_the_time_unit(cdnow):
    frequency, recency, age, _ = cdnow_calibration(unit_days=1.0)
    in_days = fit_bg_nbd(frequency, recency, age)
    assert in_days.alpha == pytest.approx(4.414 * 7, rel=0.01)
    assert in_days.r == pytest.approx(0.243, rel=0.01)


def test_gamma_gamma_reproduces_the_published_estimates(cdnow):
    frequency, _, _, monetary = cdnow
    model = fit_gamma_gamma(frequency, monetary)
    for got, published in ((model.p, 6.25), (model.q, 3.74), (model.v, 15.44)):
        assert got == pytest.approx(published, rel=0.01)
    assert model.n == 946


# Plain-Python transcription of Fader, Hardie & Lee (2005), equations 6 (P(alive)) and 10.
def reference_hyp2f1(a: float, b: float, c: float, z: float) -> float:
    total, term, k = 1.0, 1.0, 0
    while abs(term) > 1e-16 * abs(total) and k < 200_000:
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        k += 1
    return total


def reference_p_alive(m: BgNbd, x: int, t_x: float, age: float) -> float:
    if x == 0:
        return 1.0
    return 1.0 / (1.0 + m.a / (m.b + x - 1) * ((m.alpha + age) / (m.alpha + t_x)) ** (m.r + x))


def reference_expected(m: BgNbd, t: float, x: int, t_x: float, age: float) -> float:
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    hyp = reference_hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))
    body = (a + b + x - 1) / (a - 1) * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp)
    return body * reference_p_alive(m, x, t_x, age)


params = st.fixed_dictionaries(
    {
        "r": st.floats(0.05, 5),
        "alpha": st.floats(0.5, 50),
        "a": st.floats(0.1, 5).filter(lambda a: abs(a - 1) > 0.01),
        "b": st.floats(0.1, 8),
    }
)
customers = st.tuples(st.integers(0, 30), st.floats(0, 1), st.floats(0.5, 200)).map(
    lambda c: (c[0], 0.0 if c[0] == 0 else c[1] * c[2], c[2])
)


@settings(max_examples=150, deadline=None)
@given(params, customers, st.floats(0.1, 3))
def test_p_alive_and_expected_purchases_match_the_papers_equations(p, customer, horizon):
    model = BgNbd(**p)
    x, t_x, age = customer
    t = horizon * (p["alpha"] + age)  # keeps the reference series' z ≤ 0.75
    assert model.p_alive([x], [t_x], [age])[0] == pytest.approx(reference_p_alive(model, x, t_x, age), rel=1e-9)
    expected = reference_expected(model, t, x, t_x, age)
    assert model.expected_purchases([t], [x], [t_x], [age])[0] == pytest.approx(expected, rel=1e-6, abs=1e-9)


@given(st.floats(0.1, 20), st.floats(1.1, 20), st.floats(0.1, 500), st.integers(0, 40), st.floats(0.1, 1000))
def test_expected_spend_is_the_papers_weighted_mean(p, q, v, x, m):
    model = GammaGamma(p=p, q=q, v=v)
    population = p * v / (q - 1)
    weight = p * x / (p * x + q - 1)
    expected = (1 - weight) * population + weight * (m if x else 0)
    assert model.expected_spend([x], [m])[0] == pytest.approx(expected, rel=1e-9)


def test_predictions_stay_finite_for_a_above_one_b_below_one_and_huge_ages():
    model = BgNbd(r=0.8, alpha=3.0, a=4.5, b=0.2)
    x = np.array([0, 1, 2, 50, 500, 0, 3])
    t_x = np.array([0, 1e6, 5, 4e6, 9.9e6, 0, 0])
    age = np.array([1e7, 1e7, 1e7, 1e7, 1e7, 0, 1e-9 + 0])
    alive = model.p_alive(x, t_x, age)
    expected = model.expected_purchases(365, x, t_x, age)
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    assert alive[0] == 1.0  # a one-time buyer is alive by construction in BG/NBD
    assert alive[2] < 1e-6  # two purchases, then silence for ages: gone
    assert expected[1] > expected[2]  # recent buyer expects more than a long-silent one


def test_expected_purchases_are_continuous_through_a_equal_one():
    near = [
        BgNbd(r=0.5, alpha=10, a=a, b=2.0).expected_purchases(52, 3, 20, 40).item() for a in (1 - 1e-4, 1.0, 1 + 1e-4)
    ]
    assert near[1] == pytest.approx(near[0], rel=1e-3) and near[1] == pytest.approx(near[2], rel=1e-3)


def test_it_refuses_to_fit_too_little_data():
    with pytest.raises(InsufficientData, match="at least"):
        fit_bg_nbd([1, 2, 0], [3, 4, 0], [10, 10, 10])
    with pytest.raises(InsufficientData, match="ordered again"):
        fit_bg_nbd([0] * 100, [0] * 100, np.linspace(1, 50, 100))
    with pytest.raises(InsufficientData):
        fit_gamma_gamma([0, 0, 1], [0, 0, 5])


def test_it_rejects_impossible_inputs():
    with pytest.raises(ValueError, match="recency"):
        fit_bg_nbd([1] * 30, [20] * 30, [10] * 30)
    with pytest.raises(ValueError, match="negative"):
        BgNbd(r=1, alpha=1, a=1.5, b=1).p_alive([-1], [0], [3])
    with pytest.raises(ValueError, match="finite"):
        BgNbd(r=1, alpha=1, a=1.5, b=1).p_alive([1], [float("nan")], [3])


def test_predicted_value_sums_discounted_months():
    bg = BgNbd(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
    gg = GammaGamma(p=6.25, q=3.74, v=15.44)
    x, t_x, age, m = np.array([0, 2, 7]), np.array([0.0, 200, 260]), np.array([272.0, 272, 272]), np.array([0, 22, 40])
    undiscounted = predicted_value(bg, gg, x, t_x, age, m)
    assert undiscounted == pytest.approx(bg.expected_purchases(365.25, x, t_x, age) * gg.expected_spend(x, m))
    discounted = predicted_value(bg, gg, x, t_x, age, m, annual_discount_rate=0.1)
    month_edges = [bg.expected_purchases(k * 365.25 / 12, x, t_x, age) for k in range(13)]
    by_hand = sum((month_edges[k] - month_edges[k - 1]) / 1.1 ** (k / 12) for k in range(1, 13)) * gg.expected_spend(
        x, m
    )
    assert discounted == pytest.approx(by_hand)
    assert np.all(discounted < undiscounted) and discounted[2] > discounted[1] > 0
