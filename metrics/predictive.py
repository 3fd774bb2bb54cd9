"""Predictive customer value: BG/NBD and Gamma-Gamma, pure numpy/scipy, vectorised.

Fader, Hardie & Lee, "Counting your customers the easy way: an alternative to the Pareto/NBD
model" (Marketing Science, 2005) for the BG/NBD purchase and dropout model, and "RFM and CLV:
using iso-value curves for customer base analysis" (Journal of Marketing Research, 2005) for
the Gamma-Gamma spend model. No Django here: the engine passes arrays in and gets arrays out.

Inputs per customer, in any one time unit the caller chooses (the engine uses days):

- ``frequency`` x: repeat purchases, i.e. purchase days after the first (purchases on one day
  count once, as in the paper);
- ``recency`` t_x: time from the first to the last purchase (0 when x is 0);
- ``age`` T: time from the first purchase to the end of observation.

Both fits maximise the log-likelihood over log-parameters with ``scipy.optimize`` (so every
parameter stays positive), on the distinct input rows weighted by how often each occurs, so a
million customers with day-resolution inputs cost as much as their few hundred thousand
distinct rows. Times are rescaled to a mean age of about 10 units for the optimiser and the
scale is put back on ``alpha`` (the only parameter with a time unit). Nothing returns NaN: too
little data raises ``InsufficientData``, and predictions are finite for every valid input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

__all__ = [
    "DAYS_PER_MONTH",
    "BgNbd",
    "GammaGamma",
    "InsufficientData",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "predicted_value",
]

#: Fewest customers a fit accepts, and fewest with a repeat purchase.
MIN_CUSTOMERS = 20
MIN_REPEAT_CUSTOMERS = 10
_MAX_LOG_PARAM = 30.0  # exp(30) ≈ 1e13: beyond this a parameter is degenerate, not estimated

DAYS_PER_MONTH = 365.25 / 12

Array = NDArray[np.float64]


class InsufficientData(ValueError):
    """The data cannot identify the model (too few customers, no repeat purchases, no optimum)."""


def _as_arrays(*values: ArrayLike) -> list[Array]:
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    return [np.broadcast_to(a, shape) for a in arrays]


def _check_rfm(frequency: Array, recency: Array, age: Array) -> None:
    if not (np.all(np.isfinite(frequency)) and np.all(np.isfinite(recency)) and np.all(np.isfinite(age))):
        raise ValueError("frequency, recency and age must be finite numbers")
    if np.any(frequency < 0) or np.any(recency < 0):
        raise ValueError("frequency and recency must not be negative")
    if np.any(recency > age * (1 + 1e-9) + 1e-9):
        raise ValueError("recency cannot exceed age")


def _compress(*columns: Array) -> tuple[list[Array], Array]:
    """Distinct rows of the columns and how often each occurs (the likelihood's weights)."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(np.float64)


def _maximise(neg_ll: object, start: Array) -> tuple[Array, float]:
    """Minimise a negative log-likelihood over log-parameters: L-BFGS-B, and Nelder-Mead from its
    end point only when it did not converge (each likelihood evaluation costs a pass over the rows)."""
    best: optimize.OptimizeResult | None = None
    for method in ("L-BFGS-B", "Nelder-Mead"):
        if best is not None and best.success:
            break
        options = {"maxiter": 2000, "xatol": 1e-8, "fatol": 1e-10} if method == "Nelder-Mead" else {"maxiter": 500}
        bounds = [(-_MAX_LOG_PARAM, _MAX_LOG_PARAM)] * len(start) if method == "L-BFGS-B" else None
        x0 = start if best is None else best.x
        result = optimize.minimize(neg_ll, x0, method=method, bounds=bounds, options=options)  # type: ignore[call-overload]
        if np.isfinite(result.fun) and (best is None or result.fun <= best.fun):
            best = result
    if best is None or not np.all(np.isfinite(best.x)):
        raise InsufficientData("the likelihood has no finite maximum for this data")
    if np.any(np.abs(best.x) >= _MAX_LOG_PARAM - 1e-6):
        raise InsufficientData("a parameter ran off to its bound: the data cannot identify the model")
    return np.asarray(best.x, dtype=np.float64), float(best.fun)


# --------------------------------------------------------------------------- BG/NBD


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD: purchase rate λ ~ Gamma(r, α), dropout probability p ~ Beta(a, b).

    ``alpha`` is in the caller's time unit. ``log_likelihood`` is the total over customers,
    ``n`` how many customers the fit used, ``fit_seconds`` how long it took.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n: int = 0
    fit_seconds: float = 0.0

    def _log_dropout_odds(self, x: Array, t_x: Array, age: Array) -> Array:
        """log of a/(b+x-1) · ((α+T)/(α+t_x))^(r+x) for x > 0; -inf for x = 0."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        repeat = x > 0
        b_x1 = np.where(repeat, b + x - 1, 1.0)  # b+x-1 ≥ b > 0 when x ≥ 1
        log_odds = np.log(a) - np.log(b_x1) + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
        return np.where(repeat, log_odds, -np.inf)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> Array:
        """P(still active at the end of observation | x, t_x, T); 1 for customers with x = 0.

        In BG/NBD a customer can only drop out right after a purchase, so one who never bought
        again is alive by construction: a lapse rule has to cover them.
        """
        x, t_x, age_ = _as_arrays(frequency, recency, age)
        _check_rfm(x, t_x, age_)
        return np.asarray(special.expit(-self._log_dropout_odds(x, t_x, age_)), dtype=np.float64)

    def expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> Array:
        """E[purchases in the next t | x, t_x, T] (the paper's equation 10)."""
        t_, x, t_x, age_ = _as_arrays(t, frequency, recency, age)
        _check_rfm(x, t_x, age_)
        if np.any(t_ < 0) or not np.all(np.isfinite(t_)):
            raise ValueError("t must be a finite, non-negative duration")
        r, alpha, b = self.r, self.alpha, self.b
        a = self.a
        if abs(a - 1.0) < 1e-7:  # removable singularity of (a+b+x-1)/(a-1) · [1 - …] at a = 1
            a = 1.0 + 1e-7
        z = t_ / (alpha + age_ + t_)
        # (1-z)^(r+x) · 2F1(r+x, b+x; a+b+x-1; z), by Euler's transformation
        # (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z): its series ends for a → 1 and never
        # multiplies a divergent 2F1 near z = 1 by a vanishing power.
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            # A concentrated dropout Beta (a, b in the millions) underflows the power and overflows
            # 2F1 here (0 · ∞): the direct form takes over for those rows.
            tail = np.exp((a - 1.0) * np.log1p(-z)) * special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
            bad = ~np.isfinite(tail)
            if np.any(bad):
                tail = np.array(tail, dtype=np.float64)
                xb, zb = x[bad], z[bad]
                tail[bad] = np.exp((r + xb) * np.log1p(-zb)) * special.hyp2f1(r + xb, b + xb, a + b + xb - 1.0, zb)
        numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail)
        expected = numerator * special.expit(-self._log_dropout_odds(x, t_x, age_))
        expected = np.where(t_ == 0, 0.0, expected)
        # hyp2f1 can lose precision for extreme parameters; an expectation is never negative.
        return np.asarray(np.nan_to_num(np.clip(expected, 0.0, None), nan=0.0, posinf=0.0), dtype=np.float64)

    def log_likelihood_of(self, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> Array:
        """Each customer's log-likelihood under these parameters."""
        x, t_x, age_ = _as_arrays(frequency, recency, age)
        return _bg_nbd_ll(np.log([self.r, self.alpha, self.a, self.b]), x, t_x, age_)


def _bg_nbd_ll(log_params: Array, x: Array, t_x: Array, age: Array) -> Array:
    r, alpha, a, b = np.exp(log_params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + age)
    repeat = x > 0
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def fit_bg_nbd(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> BgNbd:
    """Maximum-likelihood BG/NBD over all customers given.

    Raises ``InsufficientData`` with fewer than ``MIN_CUSTOMERS`` customers, fewer than
    ``MIN_REPEAT_CUSTOMERS`` with a repeat purchase, or when the likelihood has no interior
    maximum; ``ValueError`` for impossible inputs (negative counts, recency beyond age).
    """
    started = time.perf_counter()
    x, t_x, age_ = _as_arrays(frequency, recency, age)
    x, t_x, age_ = x.ravel(), t_x.ravel(), age_.ravel()
    _check_rfm(x, t_x, age_)
    if x.size < MIN_CUSTOMERS:
        raise InsufficientData(f"{x.size} customers with orders; the model needs at least {MIN_CUSTOMERS}")
    repeaters = int(np.count_nonzero(x > 0))
    if repeaters < MIN_REPEAT_CUSTOMERS:
        raise InsufficientData(f"{repeaters} customers ordered again; the model needs at least {MIN_REPEAT_CUSTOMERS}")
    scale = float(np.mean(age_)) / 10.0
    if not scale > 0:
        raise InsufficientData("every customer's first order is at the end of observation")
    (ux, ut_x, uage), weights = _compress(x, t_x / scale, age_ / scale)
    total = float(weights.sum())

    def neg_ll(log_params: Array) -> float:
        value = -float(np.dot(weights, _bg_nbd_ll(log_params, ux, ut_x, uage))) / total
        return value if np.isfinite(value) else 1e300

    start = np.log(np.array([1.0, 1.0, 1.0, 1.0]))
    best, mean_neg_ll = _maximise(neg_ll, start)
    r, alpha, a, b = np.exp(best)
    return BgNbd(
        r=float(r),
        alpha=float(alpha * scale),
        a=float(a),
        b=float(b),
        log_likelihood=-mean_neg_ll * total - float(np.log(scale)) * float(np.dot(weights, ux)),
        n=int(x.size),
        fit_seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- Gamma-Gamma


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend model: a transaction's value ~ Gamma(p, ν), ν ~ Gamma(q, v).

    ``v`` is in the caller's money unit. Assumes spend is independent of purchase frequency.
    """

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    n: int = 0
    fit_seconds: float = 0.0

    def expected_spend(self, frequency: ArrayLike, monetary: ArrayLike) -> Array:
        """E[value of a transaction | x repeat transactions with mean value m].

        ``p(v + x·m) / (p·x + q - 1)``, a weighted mean of the population's mean spend
        ``p·v/(q-1)`` and the customer's own mean; for x = 0 the population mean. Where the
        population mean does not exist (q ≤ 1) a customer with repeat purchases gets their own
        mean and one without gets 0, never a negative or infinite value.
        """
        x, m = _as_arrays(frequency, monetary)
        if np.any(x < 0) or np.any(m < 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(m))):
            raise ValueError("frequency and monetary must be finite and not negative")
        p, q, v = self.p, self.q, self.v
        m = np.where(x > 0, m, 0.0)
        denominator = p * x + q - 1.0
        safe = denominator > 0
        expected = np.where(safe, p * (v + x * m) / np.where(safe, denominator, 1.0), m)
        return np.asarray(expected, dtype=np.float64)


def _gamma_gamma_ll(log_params: Array, x: Array, m: Array) -> Array:
    p, q, v = np.exp(log_params)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def fit_gamma_gamma(frequency: ArrayLike, monetary: ArrayLike) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on the customers with repeat purchases.

    ``monetary`` is the mean value of a customer's repeat transactions (the paper's z̄);
    customers with ``frequency`` 0 or a non-positive mean are left out of the fit.
    """
    started = time.perf_counter()
    x, m = _as_arrays(frequency, monetary)
    x, m = x.ravel(), m.ravel()
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m))):
        raise ValueError("frequency and monetary must be finite numbers")
    used = (x > 0) & (m > 0)
    n = int(np.count_nonzero(used))
    if n < MIN_REPEAT_CUSTOMERS:
        raise InsufficientData(f"{n} customers with repeat spend; the model needs at least {MIN_REPEAT_CUSTOMERS}")
    scale = float(np.mean(m[used]))
    (ux, um), weights = _compress(x[used], m[used] / scale)
    if ux.size < 2:
        raise InsufficientData("every repeat customer has the same spend: the model cannot tell them apart")

    def neg_ll(log_params: Array) -> float:
        value = -float(np.dot(weights, _gamma_gamma_ll(log_params, ux, um))) / n
        return value if np.isfinite(value) else 1e300

    best, mean_neg_ll = _maximise(neg_ll, np.log(np.array([1.0, 1.0, 1.0])))
    p, q, v = np.exp(best)
    # m's density picks up 1/scale per customer from the rescaling.
    return GammaGamma(
        p=float(p),
        q=float(q),
        v=float(v * scale),
        log_likelihood=-mean_neg_ll * n - n * float(np.log(scale)),
        n=n,
        fit_seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- value


def predicted_value(
    bg: BgNbd,
    gg: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    monetary: ArrayLike,
    *,
    months: int = 12,
    annual_discount_rate: float = 0.0,
    unit_per_month: float = DAYS_PER_MONTH,
) -> Array:
    """Expected value of the next ``months`` months, discounted monthly.

    Σₘ (E[purchases by month m] − E[purchases by month m−1]) × expected spend / (1 + d)^(m/12),
    with d the annual discount rate and a month of ``unit_per_month`` time units (a twelfth of
    365.25 days by default, for inputs in days): Fader, Hardie & Lee's discounted expected
    residual transactions, cut at a horizon, times the Gamma-Gamma expected spend.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if not (annual_discount_rate > -1 and np.isfinite(annual_discount_rate)):
        raise ValueError("the discount rate must be a finite number above -1")
    x, t_x, age_, m = _as_arrays(frequency, recency, age, monetary)
    spend = gg.expected_spend(x, m)
    total = np.zeros(x.shape, dtype=np.float64)
    previous = np.zeros(x.shape, dtype=np.float64)
    for month in range(1, months + 1):
        cumulative = bg.expected_purchases(month * unit_per_month, x, t_x, age_)
        # Cumulative expectations are non-decreasing; guard rounding so a month never subtracts.
        cumulative = np.maximum(cumulative, previous)
        total += (cumulative - previous) / (1.0 + annual_discount_rate) ** (month / 12)
        previous = cumulative
    return np.asarray(total * spend, dtype=np.float64)
