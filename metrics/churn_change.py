"""Churn risk that looks at change: P(alive), lapse and falling activity, with the latest sentiment.

Reads customers_order, customers_interaction and customers_engagementevent directly in SQL (like
metrics.compute) and writes only CustomerMetrics' churn_risk and churn_risk_reason.

metrics.compute sets churn risk from levels (days since the last order, health score). For
customers with a predictive score (metrics.predictive_engine) this module then re-decides it,
first rule that matches, keeping the reason as before:

- high: churned; latest NPS a detractor (both as computed, never overridden);
  likely lapsed (P(alive) below 0.5, or no order for longer than the lapse days);
  activity fell by half or more and the latest NPS answer is not a promoter's; health below 35;
- medium: latest NPS passive; P(alive) below 0.8; activity fell; health below 60;
- low: otherwise.

Activity = orders, interactions opened, sessions and email opens and clicks; "fell" compares the
last 90 days with the 90 before and needs at least 2 in the earlier window. The fixed "no order
for more than 180 / 90 days" rules of metrics.compute give way to the data-driven lapse rule, so a
shop whose customers buy twice a year is not all "high". Customers without a score keep the
level-based risk.
"""

# ruff: noqa: S608 - SQL is assembled from constants; values are always parameters.
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection

from metrics.compute import CHURN_RISK_RULES, LOW_RISK_REASON, METRICS_TABLE, _id_filter

P_ALIVE_MEDIUM_BELOW = 0.8
MIN_EARLIER_ACTIVITY = 2
_EVENT_KINDS = " AND kind IN ('session', 'email_opened', 'email_clicked')"

_REASONS = {condition: reason for _, condition, reason in CHURN_RISK_RULES}
CHURNED = _REASONS["churned_at IS NOT NULL"]
DETRACTOR = _REASONS["latest_nps_score <= 6"]
PASSIVE = _REASONS["latest_nps_score <= 8"]
HEALTH_HIGH = _REASONS["health_score < 35"]
HEALTH_MEDIUM = _REASONS["health_score < 60"]
LAPSED = "Likely lapsed: chance still buying below 50 % or no order for longer than the lapse days"
FELL_SHARPLY = "Activity of the last 90 days fell by half or more; latest NPS answer not a promoter"
P_ALIVE_LOW = "Chance still buying below 80 %"
FELL = "Activity of the last 90 days fell against the 90 days before"


def activity_change(
    *, now: datetime, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None
) -> dict[int, tuple[int, int]]:
    """customer id → (activity in the last 90 days, activity in the 90 days before), active customers only."""
    adapt = connection.ops.adapt_datetimefield_value
    params: dict = {
        "now": adapt(now),
        "since_90": adapt(now - timedelta(days=90)),
        "since_180": adapt(now - timedelta(days=180)),
    }
    where = _id_filter("customer_id", ids, id_range, params)

    def part(table: str, column: str, extra: str = "") -> str:
        return (
            f"SELECT customer_id, {column} AS at FROM {table} WHERE {column} >= %(since_180)s "
            f"AND {column} <= %(now)s AND {where}{extra}"
        )

    sql = f"""
SELECT customer_id,
  SUM(CASE WHEN at >= %(since_90)s THEN 1 ELSE 0 END),
  SUM(CASE WHEN at < %(since_90)s THEN 1 ELSE 0 END)
FROM (
  {part("customers_order", "ordered_at")}
  UNION ALL {part("customers_interaction", "opened_at")}
  UNION ALL {part("customers_engagementevent", "occurred_at", _EVENT_KINDS)}
) activity
GROUP BY customer_id
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(cid): (int(recent), int(earlier)) for cid, recent, earlier in cursor.fetchall()}


def decide(
    *,
    reason: str,
    latest_nps: int | None,
    health: int | None,
    p_alive: float,
    lapsed: bool,
    recent: int,
    earlier: int,
) -> tuple[str, str]:
    """The (churn_risk, reason) of one scored customer; `reason` is the level-based one computed before."""
    if reason in (CHURNED, DETRACTOR):
        return "high", reason
    fell = earlier >= MIN_EARLIER_ACTIVITY and recent < earlier
    if lapsed:
        return "high", LAPSED
    if fell and recent * 2 <= earlier and not (latest_nps is not None and latest_nps >= 9):
        return "high", FELL_SHARPLY
    if health is not None and health < 35:
        return "high", HEALTH_HIGH
    if latest_nps is not None and latest_nps <= 8:
        return "medium", PASSIVE
    if p_alive < P_ALIVE_MEDIUM_BELOW:
        return "medium", P_ALIVE_LOW
    if fell:
        return "medium", FELL
    if health is not None and health < 60:
        return "medium", HEALTH_MEDIUM
    return "low", LOW_RISK_REASON


def apply_change_aware_risk(
    *, now: datetime, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None
) -> int:
    """Re-decide churn risk for the scored customers among these (after scoring, same transaction).
    Writes only rows whose risk or reason changes; returns how many."""
    params: dict = {}
    where = _id_filter("customer_id", ids, id_range, params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, churn_risk, churn_risk_reason, latest_nps_score, health_score, p_alive, "
            f"likely_lapsed FROM {METRICS_TABLE} WHERE {where} AND p_alive IS NOT NULL",
            params,
        )
        rows = cursor.fetchall()
    if not rows:
        return 0
    activity = activity_change(now=now, ids=ids, id_range=id_range)
    changes = []
    for customer_id, risk, reason, nps, health, p_alive, lapsed in rows:
        recent, earlier = activity.get(customer_id, (0, 0))
        decided = decide(
            reason=reason,
            latest_nps=nps,
            health=health,
            p_alive=float(p_alive),
            lapsed=bool(lapsed),
            recent=recent,
            earlier=earlier,
        )
        if decided != (risk, reason):
            changes.append((customer_id, *decided))
    with connection.cursor() as cursor:
        for start in range(0, len(changes), 5000):
            batch = changes[start : start + 5000]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            cursor.execute(
                f"WITH v(customer_id, risk, reason) AS (VALUES {values}) UPDATE {METRICS_TABLE} "
                f"SET churn_risk = v.risk, churn_risk_reason = v.reason FROM v "
                f"WHERE {METRICS_TABLE}.customer_id = v.customer_id",
                [value for row in batch for value in row],
            )
    return len(changes)
