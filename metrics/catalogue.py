"""The KPI catalogue: every figure of the report pages defined once, from a period's counts (Totals).

Pages, CSV exports and the comparison read `figures()`; formulas come from metrics.formulas and the
definitions from shared/metrics-glossary.md.
"""

from dataclasses import dataclass
from decimal import Decimal

from metrics import formulas
from metrics.report_selectors import Totals


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "pts", "%", "mean", "money", "duration"
    higher_is_better: bool
    note: str
    n_label: str = ""


METRICS: list[Metric] = [
    Metric(
        "nps",
        "NPS",
        "pts",
        True,
        "% promoters (9–10) − % detractors (0–6) of the NPS answers given in the period; −100 to +100. "
        "Margin of error (95 %): 1.96 × 100 × √((p + d − (p − d)²) / n). Example: 300 promoters, 100 passives, "
        "100 detractors → 60 − 20 = 40 ± 7.0.",
        "answers",
    ),
    Metric(
        "csat",
        "CSAT",
        "%",
        True,
        "% of CSAT answers (1–5) that are 4 or 5; the mean is shown beside it. Example: 4, 5, 5, 3, 1 → 60 % "
        "(mean 3.6).",
        "answers",
    ),
    Metric(
        "ces",
        "CES",
        "mean",
        True,
        "Mean of the CES answers (1–7, 7 = very easy), with the % of answers from 5 to 7. Example: 7, 6, 5, 2 → "
        "5.0 (75 % easy).",
        "answers",
    ),
    Metric(
        "response_rate",
        "Response rate",
        "%",
        True,
        "Invitations sent in the period that were answered (whenever the answer came) / invitations sent in the "
        "period × 100.",
        "invitations",
    ),
    Metric(
        "retention",
        "Retention",
        "%",
        True,
        "(E − N) / S × 100: the share of the customers active at the start (S) still active at the end (E), "
        "leaving out the new customers (N). Example: S = 10,000, N = 5,000, E = 12,000 → 70 % (net growth "
        "(E − S) / S = 20 % is a different number). Over several months, S, N and E are the whole period's: "
        "customers active on its first day, acquired in it and still active on its last day, active on its last "
        "day.",
        "customers at start",
    ),
    Metric(
        "churn",
        "Churn",
        "%",
        False,
        "Customers of S lost during the period / S × 100; retention + churn = 100 %. Example: 1,000 at the "
        "start, 100 cancel → 10 %.",
        "customers at start",
    ),
    Metric(
        "clv",
        "CLV",
        "money",
        True,
        "Average order value × purchases a year per active customer × average customer lifespan in years "
        "(historical CLV). Purchases a year = orders / customer-months × 12. Example: 100 × 12 × 1 = 1,200.",
        "orders",
    ),
    Metric("aov", "Average order value", "money", True, "Revenue / orders placed in the period.", "orders"),
    Metric(
        "first_response",
        "First response time",
        "duration",
        False,
        "Mean of (first staff reply − interaction opened) over the interactions opened in the period that got a reply.",
        "replied interactions",
    ),
    Metric(
        "resolution",
        "Resolution time",
        "duration",
        False,
        "Mean of (resolved − opened) over the resolved interactions opened in the period.",
        "resolved interactions",
    ),
    Metric(
        "ctr",
        "Click-through rate",
        "%",
        True,
        "Email clicks / emails sent × 100. Example: 100 clicks / 1,000 emails → 10 %.",
        "emails sent",
    ),
    Metric(
        "engagement",
        "Engagement rate",
        "%",
        True,
        "(likes + shares + comments) / followers × 100 a month, where followers are the customers active at "
        "each month's end. Example: (500 + 200 + 50) / 10,000 → 7.5 %.",
        "customer-months",
    ),
]
METRICS_BY_KEY = {m.key: m for m in METRICS}


@dataclass
class Figure:
    value: Decimal | None
    n: int | None = None
    reason: str = ""  # why value is None
    margin: Decimal | None = None
    extra: str = ""  # a second figure shown small (CSAT mean, CES easy share)


def _reason(n: int, what: str) -> str:
    return "" if n else what


def figures(t: Totals) -> dict[str, Figure]:
    """Every KPI of a period from its counts. Undefined figures carry the reason."""
    if not t.months:
        return {m.key: Figure(None, reason="no figures computed for this period") for m in METRICS}
    q = formulas.quantize
    csat_mean = formulas.mean(t.csat_sum, t.csat_count)
    ces_easy = formulas.ces_easy_share(t.ces_easy, t.ces_count)
    aov = formulas.average_order_value(t.revenue, t.orders)
    frequency = formulas.purchase_frequency(t.orders * 12, t.customer_months)
    lifespan_years = t.avg_lifespan_days / Decimal(365) if t.avg_lifespan_days is not None else None
    clv = formulas.clv(aov, frequency, lifespan_years)
    first_response = formulas.mean(t.first_response_seconds_sum, t.first_response_count)
    resolution = formulas.mean(t.resolution_seconds_sum, t.resolved_count)
    no_s = "no customers at the start of the period (S = 0)"
    return {
        "nps": Figure(
            q(formulas.nps(t.promoters, t.passives, t.detractors)),
            t.nps_n,
            _reason(t.nps_n, "no NPS answers"),
            q(formulas.nps_margin_of_error(t.promoters, t.passives, t.detractors)),
        ),
        "csat": Figure(
            q(formulas.csat_from_counts(t.csat_satisfied, t.csat_count)),
            t.csat_count,
            _reason(t.csat_count, "no CSAT answers"),
            extra=f"mean {q(csat_mean, '0.01')}" if csat_mean is not None else "",
        ),
        "ces": Figure(
            q(formulas.mean(t.ces_sum, t.ces_count), "0.01"),
            t.ces_count,
            _reason(t.ces_count, "no CES answers"),
            extra=f"{q(ces_easy)} % easy" if ces_easy is not None else "",
        ),
        "response_rate": Figure(
            q(formulas.response_rate(t.answers, t.invitations)), t.invitations, _reason(t.invitations, "no invitations")
        ),
        "retention": Figure(
            q(formulas.retention_rate(t.customers_start, t.customers_end, t.customers_new)),
            t.customers_start,
            _reason(t.customers_start, no_s),
            extra=_net_growth_text(t),
        ),
        "churn": Figure(
            q(formulas.churn_rate(t.customers_start, t.customers_lost)),
            t.customers_start,
            _reason(t.customers_start, no_s),
            extra=f"{t.customers_lost:,} lost",
        ),
        "clv": Figure(
            q(clv, "0.01"),
            t.orders,
            "" if clv is not None else ("no orders" if not t.orders else "no customer lifespan or no active customers"),
        ),
        "aov": Figure(q(aov, "0.01"), t.orders, _reason(t.orders, "no orders")),
        "first_response": Figure(
            q(first_response, "1"), t.first_response_count, _reason(t.first_response_count, "no replied interactions")
        ),
        "resolution": Figure(
            q(resolution, "1"), t.resolved_count, _reason(t.resolved_count, "no resolved interactions")
        ),
        "ctr": Figure(
            q(formulas.ctr(t.emails_clicked, t.emails_sent)), t.emails_sent, _reason(t.emails_sent, "no emails sent")
        ),
        "engagement": Figure(
            q(formulas.engagement_rate(t.social_likes, t.social_shares, t.social_comments, t.customer_months)),
            t.customer_months,
            _reason(t.customer_months, "no active customers"),
        ),
    }


def _net_growth_text(t: Totals) -> str:
    growth = formulas.quantize(formulas.net_growth_rate(t.customers_start, t.customers_end))
    if growth is None:
        return ""
    return f"net growth {abs(growth) if growth == 0 else growth:+} %"  # −0.04 rounds to -0.0: show +0.0
