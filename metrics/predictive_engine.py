"""Predictive value in the metrics engine: fit BG/NBD and Gamma-Gamma, score customers.

Reads customers_order directly in SQL (like metrics.compute) and writes only CustomerMetrics.

Per customer with orders up to now, in whole days of settings.TIME_ZONE (orders placed on one
local day count as one purchase, as in Fader, Hardie & Lee):

- frequency = purchase days after the first; recency = last purchase day − first purchase day;
  age = today − first purchase day; monetary = mean value of the repeat purchase days;
- a full recompute fits both models on everyone with orders when it starts (`fit_population`,
  stored on the RecomputeRun as JSON); every chunk then scores its customers against that fit
  (`score_customers`), in numpy over the chunk's rows, written in the chunk's transaction;
- an incremental recompute scores its customers against the latest stored fit.

Scores: P(alive), expected purchase days in the next 90 and 365 days, expected value of a
purchase, the next 12 months' value discounted monthly at settings.CLV_DISCOUNT_RATE (annual),
and "likely lapsed": P(alive) < 0.5 or no order for more than the lapse days (settings.CLV_LAPSE_DAYS,
or from the data: the 90th percentile of repeat customers' mean days between purchase days, at
least 30). One-time buyers have P(alive) 1 in BG/NBD (the model lets a customer leave only after
a purchase), so for them only the days rule applies. Customers without orders, and everyone
while there is no fit (too little data: the run stores why), keep empty scores; nothing stored
is ever NaN.
"""

# ruff: noqa: S608 - SQL is assembled from constants; values are always parameters.
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from metrics.churn_change import apply_change_aware_risk
from metrics.compute import METRICS_TABLE, _id_filter
from metrics.predictive import BgNbd, GammaGamma, InsufficientData, fit_bg_nbd, fit_gamma_gamma, predicted_value

logger = logging.getLogger(__name__)

P_ALIVE_LAPSED_BELOW = 0.5
MIN_LAPSE_DAYS = 30
_WRITE_BATCH = 2000  # rows per UPDATE: 7 parameters each stays under SQLite's 32,766 variables
SCORE_COLUMNS = [
    "p_alive",
    "expected_orders_90d",
    "expected_orders_365d",
    "expected_order_value",
    "predicted_value_12m",
    "likely_lapsed",
]


@dataclass(frozen=True)
class PredictiveFit:
    """What a full recompute fitted, as stored on its run; `error` says why there is no fit."""

    bg_nbd: BgNbd | None = None
    gamma_gamma: GammaGamma | None = None
    lapse_days: float | None = None
    customers: int = 0
    summary_seconds: float = 0.0
    error: str = ""

    @property
    def usable(self) -> bool:
        return self.bg_nbd is not None and self.gamma_gamma is not None and self.lapse_days is not None

    def as_json(self) -> dict:
        data: dict = {"customers": self.customers, "summary_seconds": round(self.summary_seconds, 3)}
        if self.error:
            data["error"] = self.error
        if self.bg_nbd is not None:
            m = self.bg_nbd
            data["bg_nbd"] = {
                "r": m.r,
                "alpha": m.alpha,
                "a": m.a,
                "b": m.b,
                "n": m.n,
                "log_likelihood": m.log_likelihood,
                "fit_seconds": round(m.fit_seconds, 3),
            }
        if self.gamma_gamma is not None:
            g = self.gamma_gamma
            data["gamma_gamma"] = {
                "p": g.p,
                "q": g.q,
                "v": g.v,
                "n": g.n,
                "log_likelihood": g.log_likelihood,
                "fit_seconds": round(g.fit_seconds, 3),
            }
        if self.lapse_days is not None:
            data["lapse_days"] = self.lapse_days
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> PredictiveFit:
        data = data or {}
        bg = data.get("bg_nbd")
        gg = data.get("gamma_gamma")
        return cls(
            bg_nbd=BgNbd(**bg) if bg else None,
            gamma_gamma=GammaGamma(**gg) if gg else None,
            lapse_days=data.get("lapse_days"),
            customers=int(data.get("customers", 0)),
            summary_seconds=float(data.get("summary_seconds", 0.0)),
            error=data.get("error", ""),
        )


@dataclass(frozen=True)
class Summary:
    """Per-customer purchase summary (whole local days), one array entry per customer with orders."""

    customer_id: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    monetary: np.ndarray


def _local_day(column: str, pg: bool) -> str:
    if pg:
        return f"CAST(timezone(%(tz)s, {column}) AS DATE)"
    # SQLite stores UTC text; the zone's offset now (the markets served have no daylight saving).
    return f"date({column}, %(offset)s)"


def _days_between(later: str, earlier: str, pg: bool) -> str:
    return f"({later} - {earlier})" if pg else f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def summary_sql(
    *, now: datetime, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None
) -> tuple[str, dict]:
    """One grouped statement: customer_id, frequency, recency, age, monetary for customers with orders."""
    pg = connection.vendor == "postgresql"
    today = timezone.localdate(now)
    offset = timezone.localtime(now).utcoffset()
    params: dict = {
        "now": connection.ops.adapt_datetimefield_value(now),
        "tz": settings.TIME_ZONE,
        "offset": f"{int(offset.total_seconds()) if offset else 0:+d} seconds",
        "today": connection.ops.adapt_datefield_value(today),
    }
    today_sql = "CAST(%(today)s AS DATE)" if pg else "%(today)s"
    where = _id_filter("customer_id", ids, id_range, params)
    sql = f"""
SELECT customer_id,
  COUNT(*) - 1 AS frequency,
  {_days_between("MAX(day)", "MIN(day)", pg)} AS recency,
  {_days_between(today_sql, "MIN(day)", pg)} AS age,
  CASE WHEN COUNT(*) > 1 THEN SUM(CASE WHEN rn > 1 THEN amount ELSE 0 END) / (COUNT(*) - 1) ELSE 0 END
    AS monetary
FROM (
  SELECT customer_id, day, amount, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS rn
  FROM (
    SELECT customer_id, {_local_day("ordered_at", pg)} AS day, SUM(amount_base) AS amount
    FROM customers_order WHERE ordered_at <= %(now)s AND {where}
    GROUP BY customer_id, {_local_day("ordered_at", pg)}
  ) per_day
) days
GROUP BY customer_id
ORDER BY customer_id
"""
    return sql, params


def purchase_summary(
    *, now: datetime, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None
) -> Summary:
    sql, params = summary_sql(now=now, ids=ids, id_range=id_range)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        empty = np.zeros(0, dtype=np.float64)
        return Summary(np.zeros(0, dtype=np.int64), empty, empty, empty, empty)
    ids_, frequency, recency, age, monetary = zip(*rows, strict=True)
    return Summary(
        customer_id=np.asarray(ids_, dtype=np.int64),
        frequency=np.asarray(frequency, dtype=np.float64),
        recency=np.asarray(recency, dtype=np.float64),
        # An order stamped a little after midnight of today's local date still has age ≥ recency.
        age=np.maximum(np.asarray(age, dtype=np.float64), np.asarray(recency, dtype=np.float64)),
        monetary=np.asarray([float(m or 0) for m in monetary], dtype=np.float64),
    )


def suggested_lapse_days(summary: Summary) -> float:
    """The 90th percentile of repeat customers' mean days between purchase days (at least 30)."""
    repeat = summary.frequency > 0
    if not np.any(repeat):
        return float(MIN_LAPSE_DAYS)
    gaps = summary.recency[repeat] / summary.frequency[repeat]
    return float(max(MIN_LAPSE_DAYS, round(float(np.percentile(gaps, 90)), 1)))


def fit_population(now: datetime | None = None) -> PredictiveFit:
    """Fit both models on every customer with orders. Too little data gives a fit with `error` set."""
    now = now or timezone.now()
    started = time.perf_counter()
    summary = purchase_summary(now=now)
    summary_seconds = time.perf_counter() - started
    configured = getattr(settings, "CLV_LAPSE_DAYS", 0)
    lapse_days = float(configured) if configured else suggested_lapse_days(summary)
    common = {"customers": int(summary.customer_id.size), "summary_seconds": summary_seconds}
    try:
        bg = fit_bg_nbd(summary.frequency, summary.recency, summary.age)
        gg = fit_gamma_gamma(summary.frequency, summary.monetary)
    except InsufficientData as exc:
        logger.info("No predictive fit: %s", exc)
        return PredictiveFit(error=str(exc), **common)
    return PredictiveFit(bg_nbd=bg, gamma_gamma=gg, lapse_days=lapse_days, **common)


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def score_rows(fit: PredictiveFit, summary: Summary) -> list[tuple]:
    """(customer_id, *SCORE_COLUMNS) per customer of the summary; all finite."""
    if not fit.usable or summary.customer_id.size == 0:
        return []
    bg, gg = fit.bg_nbd, fit.gamma_gamma
    assert bg is not None and gg is not None and fit.lapse_days is not None
    x, t_x, age, m = summary.frequency, summary.recency, summary.age, summary.monetary
    alive = np.nan_to_num(bg.p_alive(x, t_x, age), nan=0.0)
    e90 = bg.expected_purchases(90, x, t_x, age)
    e365 = bg.expected_purchases(365, x, t_x, age)
    spend = np.nan_to_num(gg.expected_spend(x, m), nan=0.0, posinf=0.0)
    value = predicted_value(
        bg, gg, x, t_x, age, m, annual_discount_rate=float(getattr(settings, "CLV_DISCOUNT_RATE", 0.10))
    )
    value = np.nan_to_num(value, nan=0.0, posinf=0.0)
    lapsed = (alive < P_ALIVE_LAPSED_BELOW) | ((age - t_x) > fit.lapse_days)
    return [
        (int(cid), float(a), float(n90), float(n365), _money(s), _money(v), bool(lap))
        for cid, a, n90, n365, s, v, lap in zip(
            summary.customer_id.tolist(),
            alive.tolist(),
            e90.tolist(),
            e365.tolist(),
            spend.tolist(),
            value.tolist(),
            lapsed.tolist(),
            strict=True,
        )
    ]


def _write(rows: list[tuple]) -> None:
    pg = connection.vendor == "postgresql"
    casts = ["double precision", "double precision", "double precision", "numeric", "numeric", "boolean"]
    if pg:
        sets = ", ".join(f"{c} = CAST(v.{c} AS {t})" for c, t in zip(SCORE_COLUMNS, casts, strict=True))
    else:
        sets = ", ".join(f"{c} = v.{c}" for c in SCORE_COLUMNS)
    names = ", ".join(["customer_id", *SCORE_COLUMNS])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _WRITE_BATCH):
            batch = rows[start : start + _WRITE_BATCH]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(batch))
            cursor.execute(
                f"WITH v({names}) AS (VALUES {values}) UPDATE {METRICS_TABLE} SET {sets} FROM v "
                f"WHERE {METRICS_TABLE}.customer_id = v.customer_id",
                [value for row in batch for value in row],
            )


def _clear(ids: Sequence[int] | None, id_range: tuple[int, int] | None, *, all_rows: bool) -> None:
    """Empty the scores of these customers: all of them, or those the engine counts no orders for."""
    params: dict = {}
    where = _id_filter("customer_id", ids, id_range, params)
    sets = ", ".join(f"{c} = NULL" for c in SCORE_COLUMNS)
    only = "" if all_rows else " AND orders = 0"
    scored = "(p_alive IS NOT NULL OR likely_lapsed IS NOT NULL)"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {METRICS_TABLE} SET {sets} WHERE {where}{only} AND {scored}", params)


def score_customers(
    *,
    fit: PredictiveFit,
    ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
    now: datetime | None = None,
) -> int:
    """Write the predictive scores of these customers' CustomerMetrics rows (which must exist: call
    after metrics.compute.compute_customers, in the same transaction). Customers without orders and,
    without a usable fit, everyone get empty scores. Returns how many customers were scored."""
    if ids is not None and not ids:
        return 0
    _clear(ids, id_range, all_rows=not fit.usable)
    if not fit.usable:
        return 0
    now = now or timezone.now()
    rows = score_rows(fit, purchase_summary(now=now, ids=ids, id_range=id_range))
    _write(rows)
    apply_change_aware_risk(now=now, ids=ids, id_range=id_range)
    return len(rows)
