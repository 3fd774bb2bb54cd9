"""Set-based per-customer computation: one INSERT … SELECT … ON CONFLICT statement per chunk of customers.

The SELECT aggregates interactions, orders, engagement events, survey responses, invitations and
referrals per customer (one grouped subquery per table, each restricted to the chunk's ids so it reads a
range of the per-customer indexes), scores RFM against stored population breakpoints, derives the health
score and churn risk, and upserts the CustomerMetrics rows. Nothing is looped over in Python. The same
SQL runs on PostgreSQL and SQLite; the few date expressions that differ come from `_Dialect`.

Health score (0–100), the sum of:
- purchase recency, 30 points: RFM recency score 1–5 → 0, 7.5, 15, 22.5, 30 (0 without orders);
- purchase frequency, 15 points: RFM frequency score 1–5 → 0 … 15 (0 without orders);
- sentiment, 25 points: latest NPS answer promoter 25, passive 15, detractor 0; without NPS the CSAT
  share of satisfied answers × 25; with neither, a neutral 12.5;
- contact recency, 15 points: an interaction in the last 90 days 15, in the last 180 days 8, else 0;
- email engagement, 15 points: opened / sent × 15 (capped at 15); with no email sent, a neutral 7.5.
A churned customer scores 0.

Churn risk, first rule that matches:
- high: churned; latest NPS answer a detractor (0–6); had orders but none for more than 180 days;
  health score below 35;
- medium: latest NPS answer passive (7–8); last order 91–180 days ago; no orders and no interaction for
  90 days; health score below 60;
- low: otherwise.

RFM: recency = days since the last order, frequency = orders, monetary = revenue, over customers with at
least one order. Each is scored 1–5 against quintile breakpoints of the whole population (its 20th, 40th,
60th and 80th percentiles), computed once per full recompute and stored on the
RecomputeRun; an incremental recompute scores against the latest breakpoints, so one customer's update
reads only that customer's rows. Equal values always get equal scores. Customers without orders get no
RFM scores and the segment "No orders".
"""

# ruff: noqa: S608 - SQL is assembled from constants and column names; values are always parameters.
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

METRICS_TABLE = "metrics_customermetrics"

# Columns written, in order; every one is computed by the SELECT below under the same name.
COLUMNS = [
    "customer_id",
    "latest_nps_score",
    "latest_nps_at",
    "csat_count",
    "csat_sum",
    "csat_satisfied",
    "ces_count",
    "ces_sum",
    "ces_easy",
    "invitations",
    "answers",
    "interactions_total",
    "interactions_90d",
    "last_interaction_at",
    "first_response_count",
    "first_response_seconds_sum",
    "resolved_count",
    "resolution_seconds_sum",
    "orders",
    "revenue",
    "first_order_at",
    "last_order_at",
    "tenure_days",
    "clv",
    "sessions",
    "session_seconds_sum",
    "emails_sent",
    "emails_opened",
    "emails_clicked",
    "referrals_made",
    "referrals_converted",
    "rfm_recency",
    "rfm_frequency",
    "rfm_monetary",
    "rfm_segment",
    "health_score",
    "churn_risk",
    "churn_risk_reason",
    "computed_at",
]
# The aggregates only (what the benchmark's one-statement baseline computes too).
AGGREGATE_COLUMNS = COLUMNS[: COLUMNS.index("rfm_recency")]


@dataclass(frozen=True)
class Breakpoints:
    """Upper bounds of RFM quintiles 1–4 (recency in days, ascending; frequency; monetary)."""

    recency: tuple[float, float, float, float] | None = None
    frequency: tuple[float, float, float, float] | None = None
    monetary: tuple[float, float, float, float] | None = None

    def as_json(self) -> dict:
        return {"recency": self.recency, "frequency": self.frequency, "monetary": self.monetary}

    @classmethod
    def from_json(cls, data: dict | None) -> "Breakpoints":
        data = data or {}

        def parse(key: str) -> tuple[float, float, float, float] | None:
            value = data.get(key)
            return tuple(float(v) for v in value) if value else None  # type: ignore[return-value]

        return cls(recency=parse("recency"), frequency=parse("frequency"), monetary=parse("monetary"))


class _Dialect:
    """The date arithmetic PostgreSQL and SQLite spell differently. `%(now)s` is a timestamp parameter,
    `%(today)s` a date parameter (both in the statement's parameters)."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def seconds_between(self, later: str, earlier: str) -> str:
        if self.pg:
            # date_part is double precision (EXTRACT is numeric, several times slower); whole seconds.
            return f"CAST(date_part('epoch', {later} - {earlier}) AS INTEGER)"
        return f"ROUND((julianday({later}) - julianday({earlier})) * 86400)"

    def days_since(self, ts: str) -> str:
        """Whole days from a timestamp to now."""
        if self.pg:
            return f"CAST(FLOOR(date_part('epoch', %(now)s - {ts}) / 86400) AS INTEGER)"
        return f"CAST(julianday(%(now)s) - julianday({ts}) AS INTEGER)"

    def days_between_dates(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def fence(self) -> str:
        """Keeps PostgreSQL from flattening a subquery into its parent, which would copy each derived
        column's expression into every place that uses it (the scores use the RFM columns many times)."""
        return "OFFSET 0" if self.pg else ""

    def today(self) -> str:
        return "CAST(%(today)s AS DATE)" if self.pg else "%(today)s"


def _id_filter(column: str, ids: Sequence[int] | None, id_range: tuple[int, int] | None, params: dict) -> str:
    if id_range is not None:
        params["id_lo"], params["id_hi"] = id_range
        return f"{column} BETWEEN %(id_lo)s AND %(id_hi)s"
    if ids is not None:
        names = []
        for i, value in enumerate(ids):
            params[f"id{i}"] = int(value)
            names.append(f"%(id{i})s")
        return f"{column} IN ({', '.join(names) or 'NULL'})"
    return "1 = 1"


def aggregate_select(
    *, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None, now: datetime
) -> tuple[str, dict]:
    """SELECT of the per-customer aggregates (AGGREGATE_COLUMNS plus acquired_at, churned_at and
    recency_days) for the given customers, or for everyone when neither ids nor id_range is given."""
    d = _Dialect(connection.vendor)
    params: dict = {
        "now": connection.ops.adapt_datetimefield_value(now),
        "since_90d": connection.ops.adapt_datetimefield_value(now - timedelta(days=90)),
        "today": connection.ops.adapt_datefield_value(timezone.localdate(now)),
    }

    def where(column: str) -> str:
        return _id_filter(column, ids, id_range, params)

    sql = f"""
SELECT c.id AS customer_id,
  c.acquired_at AS acquired_at,
  c.churned_at AS churned_at,
  r.latest_nps_score AS latest_nps_score,
  r.latest_nps_at AS latest_nps_at,
  COALESCE(r.csat_count, 0) AS csat_count,
  COALESCE(r.csat_sum, 0) AS csat_sum,
  COALESCE(r.csat_satisfied, 0) AS csat_satisfied,
  COALESCE(r.ces_count, 0) AS ces_count,
  COALESCE(r.ces_sum, 0) AS ces_sum,
  COALESCE(r.ces_easy, 0) AS ces_easy,
  COALESCE(inv.invitations, 0) AS invitations,
  COALESCE(r.answers, 0) AS answers,
  COALESCE(i.interactions_total, 0) AS interactions_total,
  COALESCE(i.interactions_90d, 0) AS interactions_90d,
  i.last_interaction_at AS last_interaction_at,
  COALESCE(i.first_response_count, 0) AS first_response_count,
  COALESCE(i.first_response_seconds_sum, 0) AS first_response_seconds_sum,
  COALESCE(i.resolved_count, 0) AS resolved_count,
  COALESCE(i.resolution_seconds_sum, 0) AS resolution_seconds_sum,
  COALESCE(o.orders, 0) AS orders,
  COALESCE(o.revenue, 0) AS revenue,
  o.first_order_at AS first_order_at,
  o.last_order_at AS last_order_at,
  CASE WHEN {d.days_between_dates(f"COALESCE(c.churned_at, {d.today()})", "c.acquired_at")} > 0
    THEN {d.days_between_dates(f"COALESCE(c.churned_at, {d.today()})", "c.acquired_at")} ELSE 0 END AS tenure_days,
  CASE WHEN o.orders > 0 THEN o.revenue END AS clv,
  COALESCE(e.sessions, 0) AS sessions,
  COALESCE(e.session_seconds_sum, 0) AS session_seconds_sum,
  COALESCE(e.emails_sent, 0) AS emails_sent,
  COALESCE(e.emails_opened, 0) AS emails_opened,
  COALESCE(e.emails_clicked, 0) AS emails_clicked,
  COALESCE(ref.referrals_made, 0) AS referrals_made,
  COALESCE(ref.referrals_converted, 0) AS referrals_converted,
  CASE WHEN o.orders > 0 THEN {d.days_since("o.last_order_at")} END AS recency_days
FROM customers_customer c
LEFT JOIN (
  SELECT customer_id,
    COUNT(*) AS answers,
    SUM(CASE WHEN kind = 'csat' THEN 1 ELSE 0 END) AS csat_count,
    SUM(CASE WHEN kind = 'csat' THEN score ELSE 0 END) AS csat_sum,
    SUM(CASE WHEN kind = 'csat' AND score >= 4 THEN 1 ELSE 0 END) AS csat_satisfied,
    SUM(CASE WHEN kind = 'ces' THEN 1 ELSE 0 END) AS ces_count,
    SUM(CASE WHEN kind = 'ces' THEN score ELSE 0 END) AS ces_sum,
    SUM(CASE WHEN kind = 'ces' AND score >= 5 THEN 1 ELSE 0 END) AS ces_easy,
    MAX(CASE WHEN kind = 'nps' AND rn = 1 THEN score END) AS latest_nps_score,
    MAX(CASE WHEN kind = 'nps' AND rn = 1 THEN submitted_at END) AS latest_nps_at
  FROM (
    SELECT customer_id, kind, score, submitted_at,
      ROW_NUMBER() OVER (PARTITION BY customer_id, kind ORDER BY submitted_at DESC, id DESC) AS rn
    FROM surveys_response WHERE {where("customer_id")}
  ) ranked
  GROUP BY customer_id
) r ON r.customer_id = c.id
LEFT JOIN (
  SELECT customer_id, COUNT(*) AS invitations
  FROM surveys_invitation WHERE sent_at IS NOT NULL AND {where("customer_id")}
  GROUP BY customer_id
) inv ON inv.customer_id = c.id
LEFT JOIN (
  SELECT customer_id,
    COUNT(*) AS interactions_total,
    SUM(CASE WHEN opened_at >= %(since_90d)s THEN 1 ELSE 0 END) AS interactions_90d,
    MAX(opened_at) AS last_interaction_at,
    COUNT(first_response_at) AS first_response_count,
    SUM({d.seconds_between("first_response_at", "opened_at")}) AS first_response_seconds_sum,
    SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) AS resolved_count,
    SUM(CASE WHEN status = 'resolved' THEN {d.seconds_between("resolved_at", "opened_at")} END)
      AS resolution_seconds_sum
  FROM customers_interaction WHERE {where("customer_id")}
  GROUP BY customer_id
) i ON i.customer_id = c.id
LEFT JOIN (
  SELECT customer_id, COUNT(*) AS orders, SUM(amount_base) AS revenue,
    MIN(ordered_at) AS first_order_at, MAX(ordered_at) AS last_order_at
  FROM customers_order WHERE {where("customer_id")}
  GROUP BY customer_id
) o ON o.customer_id = c.id
LEFT JOIN (
  SELECT customer_id,
    SUM(CASE WHEN kind = 'session' THEN 1 ELSE 0 END) AS sessions,
    SUM(CASE WHEN kind = 'session' THEN COALESCE(duration_seconds, 0) ELSE 0 END) AS session_seconds_sum,
    SUM(CASE WHEN kind = 'email_sent' THEN 1 ELSE 0 END) AS emails_sent,
    SUM(CASE WHEN kind = 'email_opened' THEN 1 ELSE 0 END) AS emails_opened,
    SUM(CASE WHEN kind = 'email_clicked' THEN 1 ELSE 0 END) AS emails_clicked
  FROM customers_engagementevent WHERE {where("customer_id")}
  GROUP BY customer_id
) e ON e.customer_id = c.id
LEFT JOIN (
  SELECT referrer_id, COUNT(*) AS referrals_made, COUNT(converted_customer_id) AS referrals_converted
  FROM customers_referral WHERE {where("referrer_id")}
  GROUP BY referrer_id
) ref ON ref.referrer_id = c.id
WHERE {where("c.id")}
"""
    return sql, params


def _score_up(column: str, bounds: tuple[float, ...] | None, name: str, params: dict) -> str:
    """1 + how many quintile upper bounds the value exceeds (higher is better)."""
    if not bounds:
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE 3 END"
    parts = []
    for k, bound in enumerate(bounds):
        params[f"{name}{k}"] = bound
        parts.append(f"CASE WHEN {column} > %({name}{k})s THEN 1 ELSE 0 END")
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE 1 + {' + '.join(parts)} END"


def _score_down(column: str, bounds: tuple[float, ...] | None, name: str, params: dict) -> str:
    """5 − how many quintile upper bounds the value exceeds (lower is better: days since last order)."""
    if not bounds:
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE 3 END"
    parts = []
    for k, bound in enumerate(bounds):
        params[f"{name}{k}"] = bound
        parts.append(f"CASE WHEN {column} > %({name}{k})s THEN 1 ELSE 0 END")
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE 5 - ({' + '.join(parts)}) END"


RFM_SEGMENT_SQL = """CASE
    WHEN orders = 0 THEN 'No orders'
    WHEN rfm_recency >= 4 AND rfm_frequency >= 4 AND rfm_monetary >= 4 THEN 'Champions'
    WHEN rfm_recency = 1 AND rfm_frequency >= 4 THEN 'Cannot lose them'
    WHEN rfm_recency <= 2 AND rfm_frequency >= 3 THEN 'At risk'
    WHEN rfm_recency >= 3 AND rfm_frequency >= 4 THEN 'Loyal'
    WHEN rfm_recency >= 4 AND rfm_frequency = 1 THEN 'New customers'
    WHEN rfm_recency >= 4 THEN 'Potential loyalists'
    WHEN rfm_recency <= 2 THEN 'Hibernating'
    ELSE 'Need attention'
  END"""

HEALTH_SQL = """CASE WHEN churned_at IS NOT NULL THEN 0 ELSE ROUND(
    (CASE WHEN orders > 0 THEN (rfm_recency - 1) * 7.5 ELSE 0 END)
  + (CASE WHEN orders > 0 THEN (rfm_frequency - 1) * 3.75 ELSE 0 END)
  + (CASE WHEN latest_nps_score >= 9 THEN 25 WHEN latest_nps_score >= 7 THEN 15 WHEN latest_nps_score >= 0 THEN 0
          WHEN csat_count > 0 THEN 25.0 * csat_satisfied / csat_count ELSE 12.5 END)
  + (CASE WHEN interactions_90d > 0 THEN 15
          WHEN last_interaction_at >= %(since_180d)s THEN 8 ELSE 0 END)
  + (CASE WHEN emails_sent = 0 THEN 7.5 WHEN emails_opened >= emails_sent THEN 15
          ELSE 15.0 * emails_opened / emails_sent END)
) END"""

CHURN_RISK_RULES: list[tuple[str, str, str]] = [
    ("high", "churned_at IS NOT NULL", "Churned"),
    ("high", "latest_nps_score <= 6", "Latest NPS answer was a detractor (0-6)"),
    ("high", "orders > 0 AND recency_days > 180", "No order for more than 180 days"),
    ("high", "health_score < 35", "Health score below 35"),
    ("medium", "latest_nps_score <= 8", "Latest NPS answer was passive (7-8)"),
    ("medium", "orders > 0 AND recency_days > 90", "No order for 91-180 days"),
    ("medium", "orders = 0 AND interactions_90d = 0", "No orders and no contact for 90 days"),
    ("medium", "health_score < 60", "Health score below 60"),
]
LOW_RISK_REASON = "Recent orders or contact, no negative feedback"


def _case(index: int) -> str:
    whens = " ".join(
        f"WHEN {condition} THEN '{(level, reason)[index]}'" for level, condition, reason in CHURN_RISK_RULES
    )
    return f"CASE {whens} ELSE '{('low', LOW_RISK_REASON)[index]}' END"


def upsert_sql(
    *, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None, now: datetime, bp: Breakpoints
) -> tuple[str, dict]:
    """The whole per-chunk statement: aggregates → RFM scores → health and churn risk → upsert."""
    inner, params = aggregate_select(ids=ids, id_range=id_range, now=now)
    params["since_180d"] = connection.ops.adapt_datetimefield_value(now - timedelta(days=180))
    params["computed_at"] = params["now"]
    recency = _score_down("recency_days", bp.recency, "rb", params)
    frequency = _score_up("CASE WHEN orders > 0 THEN orders END", bp.frequency, "fb", params)
    monetary = _score_up("CASE WHEN orders > 0 THEN revenue END", bp.monetary, "mb", params)
    fence = _Dialect(connection.vendor).fence()
    rfm = f"""SELECT a.*, {recency} AS rfm_recency, {frequency} AS rfm_frequency, {monetary} AS rfm_monetary
FROM ({inner} {fence}) a"""
    scored = f"SELECT b.*, {RFM_SEGMENT_SQL} AS rfm_segment, {HEALTH_SQL} AS health_score FROM ({rfm} {fence}) b"
    final_cols = [c for c in COLUMNS if c not in ("churn_risk", "churn_risk_reason", "computed_at")]
    select = (
        f"SELECT {', '.join(final_cols)}, {_case(0)} AS churn_risk, {_case(1)} AS churn_risk_reason, "
        f"%(computed_at)s AS computed_at FROM ({scored} {fence}) s WHERE 1 = 1"
    )
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "customer_id")
    sql = (
        f"INSERT INTO {METRICS_TABLE} ({', '.join(COLUMNS)}) {select} ON CONFLICT (customer_id) DO UPDATE SET {updates}"
    )
    return sql, params


def compute_customers(
    *, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None, bp: Breakpoints
) -> int:
    """Compute and upsert the metrics of the given customers (ids or an inclusive id range). Returns rows."""
    if ids is not None and not ids:
        return 0
    sql, params = upsert_sql(ids=ids, id_range=id_range, now=timezone.now(), bp=bp)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def compute_breakpoints(now: datetime | None = None) -> Breakpoints:
    """RFM quintile upper bounds over all customers with orders: the 20th, 40th, 60th and 80th percentiles
    (the value at position ceil(k × n / 5) in ascending order, as percentile_disc) of days since the last
    order, orders and revenue. One grouped statement over the orders."""
    now = now or timezone.now()
    d = _Dialect(connection.vendor)
    params = {"now": connection.ops.adapt_datetimefield_value(now)}
    agg = f"""SELECT COUNT(*) AS f, SUM(amount_base) AS m, {d.days_since("MAX(ordered_at)")} AS r
  FROM customers_order GROUP BY customer_id"""
    if d.pg:
        fractions = "ARRAY[0.2, 0.4, 0.6, 0.8]"
        sql = f"""SELECT percentile_disc({fractions}) WITHIN GROUP (ORDER BY r),
  percentile_disc({fractions}) WITHIN GROUP (ORDER BY f),
  percentile_disc({fractions}) WITHIN GROUP (ORDER BY m)
FROM ({agg}) agg"""
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            r, f, m = cursor.fetchone()
        if not r:
            return Breakpoints()
        return Breakpoints(
            recency=tuple(float(v) for v in r),  # type: ignore[arg-type]
            frequency=tuple(float(v) for v in f),  # type: ignore[arg-type]
            monetary=tuple(float(v) for v in m),  # type: ignore[arg-type]
        )
    positions = " OR ".join(f"rn = ({k} * n + 4) / 5" for k in range(1, 5))
    parts = []
    for key in ("r", "f", "m"):
        parts.append(
            f"""SELECT '{key}', rn, v FROM (SELECT {key} AS v, ROW_NUMBER() OVER (ORDER BY {key}) AS rn,
  COUNT(*) OVER () AS n FROM ({agg}) agg) ranked WHERE {positions}"""
        )
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    values: dict[str, list[float]] = {"r": [], "f": [], "m": []}
    for key, _, value in sorted(rows, key=lambda row: (row[0], row[1])):
        values[key].append(float(value))

    def four(key: str) -> tuple[float, float, float, float] | None:
        found = values[key]
        if not found:
            return None
        # With fewer than five customers some positions coincide.
        while len(found) < 4:
            found.append(found[-1])
        return tuple(found)  # type: ignore[return-value]

    return Breakpoints(recency=four("r"), frequency=four("f"), monetary=four("m"))
