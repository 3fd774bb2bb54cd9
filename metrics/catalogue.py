"""The KPI catalogue: every figure derived from a period's counts (Totals), each defined once.

`RATES` holds every rate with its formula (from metrics.formulas, as shared/metrics-glossary.md defines it)
and its rounding; `METRICS` the KPIs the report pages show, each with its label, unit, direction, the n it
rests on, why it can be undefined, its drill-down links and its explanation. The report pages, every CSV,
the comparison and the API's `rates` all read these: nothing else derives a rate.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from customers.models import Segment
from metrics import formulas
from metrics.drilldowns import drill_links
from metrics.report_selectors import Totals

DAYS_PER_YEAR = Decimal("365.25")
NO_S = "no customers at the start of the period (S = 0)"


# Rates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A figure derived from a period's counts; `places` is how it is rounded wherever it is shown."""

    key: str
    formula: Callable[[Totals], Decimal | None]
    places: str = "0.1"

    def of(self, t: Totals) -> Decimal | None:
        return formulas.quantize(self.formula(t), self.places)


def customer_years(t: Totals) -> Decimal:
    """The period's active customer-years: Σ over its months of the customers active at the month's end ÷ 12.
    Every active customer counts, buyer or not."""
    return Decimal(t.customer_months) / 12


def purchase_frequency(t: Totals) -> Decimal | None:
    """Orders a year per active customer: the period's orders ÷ its active customer-years."""
    return formulas.purchase_frequency(t.orders, customer_years(t))


def lifespan_years(t: Totals) -> Decimal | None:
    """Mean years (of 365.25 days) from acquisition to loss, or to the period's end for those still active."""
    return Decimal(t.avg_lifespan_days) / DAYS_PER_YEAR if t.avg_lifespan_days is not None else None


def clv(t: Totals) -> Decimal | None:
    """Segment CLV = AOV × purchase frequency × lifespan (glossary: 10 active customers, 12 orders,
    revenue 1,200, lifespan 1 year → 100 × 14.4 × 1 = 1,440)."""
    return formulas.clv(formulas.average_order_value(t.revenue, t.orders), purchase_frequency(t), lifespan_years(t))


_RATES = [
    Rate("nps", lambda t: formulas.nps(t.promoters, t.passives, t.detractors)),
    Rate("nps_margin_of_error", lambda t: formulas.nps_margin_of_error(t.promoters, t.passives, t.detractors)),
    Rate("promoters_percent", lambda t: formulas._ratio_percent(t.promoters, t.nps_n)),
    Rate("detractors_percent", lambda t: formulas._ratio_percent(t.detractors, t.nps_n)),
    Rate("csat_percent", lambda t: formulas.csat_from_counts(t.csat_satisfied, t.csat_count)),
    Rate("csat_average", lambda t: formulas.mean(t.csat_sum, t.csat_count), "0.01"),
    Rate("ces_average", lambda t: formulas.mean(t.ces_sum, t.ces_count), "0.01"),
    Rate("ces_easy_percent", lambda t: formulas.ces_easy_share(t.ces_easy, t.ces_count)),
    Rate("response_rate_percent", lambda t: formulas.response_rate(t.answers, t.invitations)),
    Rate(
        "retention_rate_percent",
        lambda t: formulas.retention_rate(t.customers_start, t.customers_end, t.customers_new),
    ),
    Rate("churn_rate_percent", lambda t: formulas.churn_rate(t.customers_start, t.customers_lost)),
    Rate("net_growth_rate_percent", lambda t: formulas.net_growth_rate(t.customers_start, t.customers_end)),
    Rate("average_order_value", lambda t: formulas.average_order_value(t.revenue, t.orders), "0.01"),
    Rate("purchase_frequency", purchase_frequency, "0.01"),
    Rate("clv", clv, "0.01"),
    Rate("email_click_rate_percent", lambda t: formulas.ctr(t.emails_clicked, t.emails_sent)),
    Rate(
        "engagement_rate_percent",
        lambda t: formulas.engagement_rate(t.social_likes, t.social_shares, t.social_comments, t.customer_months),
    ),
    Rate(
        "average_first_response_seconds",
        lambda t: formulas.mean(t.first_response_seconds_sum, t.first_response_count),
        "1",
    ),
    Rate("average_resolution_seconds", lambda t: formulas.mean(t.resolution_seconds_sum, t.resolved_count), "1"),
    Rate(
        "average_session_seconds",
        lambda t: formulas.average_session_duration(t.session_seconds_sum, t.sessions),
        "1",
    ),
    Rate("bounce_rate_percent", lambda t: formulas.bounce_rate(t.single_page_sessions, t.sessions)),
    Rate("email_open_rate_percent", lambda t: formulas.open_rate(t.emails_opened, t.emails_sent)),
    Rate("email_unsubscribe_rate_percent", lambda t: formulas.unsubscribe_rate(t.emails_unsubscribed, t.emails_sent)),
    Rate(
        "referral_conversion_rate_percent",
        lambda t: formulas.referral_conversion_rate(t.referrals_converted, t.referrals),
    ),
    Rate("advocacy_revenue_share_percent", lambda t: formulas.advocacy_revenue_share(t.referred_revenue, t.revenue)),
]
RATES: dict[str, Rate] = {r.key: r for r in _RATES}


def rate(key: str, t: Totals) -> Decimal | None:
    """One rate of a period, rounded as everywhere it is shown."""
    return RATES[key].of(t)


def rates(t: Totals) -> dict[str, Decimal | None]:
    """Every rate of a period (None where undefined), rounded as everywhere it is shown."""
    return {key: r.of(t) for key, r in RATES.items()}


def cohort_share(active: int, cohort_size: int) -> Decimal | None:
    """% of a cohort still active n months after its month of acquisition."""
    return formulas.quantize(formulas._ratio_percent(active, cohort_size))


# KPIs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A KPI of the report pages: its value is `RATES[rate]`, resting on `n(t)` answers or customers."""

    key: str
    label: str
    unit: str  # "pts", "%", "mean", "money", "duration"
    higher_is_better: bool
    note: str  # the explanation shown under "How is this computed?"
    n_label: str
    rate: str
    n: Callable[[Totals], int]
    missing: Callable[[Totals], str]  # why the value is undefined
    detail: Callable[[Totals], str] = lambda t: ""  # a second figure shown small
    margin: str = ""  # the RATES key of its 95 % margin of error

    def links(self, segment: Segment, first: date | None = None, end: date | None = None) -> list[tuple[str, str]]:
        """Where the customers (or rows) behind the figure of the period [first, end) are."""
        return drill_links(segment, self.key, first, end)


def _net_growth_text(t: Totals) -> str:
    growth = rate("net_growth_rate_percent", t)
    if growth is None:
        return ""
    return f"net growth {abs(growth) if growth == 0 else growth:+} %"  # −0.04 rounds to -0.0: show +0.0


def _csat_extra(t: Totals) -> str:
    mean = rate("csat_average", t)
    return f"mean {mean}" if mean is not None else ""


def _ces_extra(t: Totals) -> str:
    easy = rate("ces_easy_percent", t)
    return f"{easy} % easy" if easy is not None else ""


def _clv_missing(t: Totals) -> str:
    return "no orders" if not t.orders else "no customer lifespan or no active customers"


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
        "nps",
        lambda t: t.nps_n,
        lambda t: "no NPS answers",
        margin="nps_margin_of_error",
    ),
    Metric(
        "csat",
        "CSAT",
        "%",
        True,
        "% of CSAT answers (1–5) that are 4 or 5; the mean is shown beside it. Example: 4, 5, 5, 3, 1 → 60 % "
        "(mean 3.6).",
        "answers",
        "csat_percent",
        lambda t: t.csat_count,
        lambda t: "no CSAT answers",
        _csat_extra,
    ),
    Metric(
        "ces",
        "CES",
        "mean",
        True,
        "Mean of the CES answers (1–7, 7 = very easy), with the % of answers from 5 to 7. Example: 7, 6, 5, 2 → "
        "5.0 (75 % easy).",
        "answers",
        "ces_average",
        lambda t: t.ces_count,
        lambda t: "no CES answers",
        _ces_extra,
    ),
    Metric(
        "response_rate",
        "Response rate",
        "%",
        True,
        "Invitations sent in the period that were answered (whenever the answer came) / invitations sent in the "
        "period × 100.",
        "invitations",
        "response_rate_percent",
        lambda t: t.invitations,
        lambda t: "no invitations",
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
        "retention_rate_percent",
        lambda t: t.customers_start,
        lambda t: NO_S,
        _net_growth_text,
    ),
    Metric(
        "churn",
        "Churn",
        "%",
        False,
        "Customers of S lost during the period / S × 100; retention + churn = 100 %. Example: 1,000 at the "
        "start, 100 cancel → 10 %.",
        "customers at start",
        "churn_rate_percent",
        lambda t: t.customers_start,
        lambda t: NO_S,
        lambda t: f"{t.customers_lost:,} lost",
    ),
    Metric(
        "clv",
        "CLV",
        "money",
        True,
        "Average order value × purchase frequency × average customer lifespan (historical CLV). Average order "
        "value = the period's revenue / its orders; purchase frequency = its orders / its active customer-years "
        "(the customers active at each month's end, summed, / 12: every active customer counts, buyer or not); "
        "lifespan = mean years (of 365.25 days) from acquisition to loss, or to the period's end for those still "
        "active. Example: 10 active customers, 12 orders, revenue 1,200, lifespan 1 year → 100 × 14.4 × 1 = "
        "1,440.",
        "orders",
        "clv",
        lambda t: t.orders,
        _clv_missing,
    ),
    Metric(
        "aov",
        "Average order value",
        "money",
        True,
        "Revenue / orders placed in the period.",
        "orders",
        "average_order_value",
        lambda t: t.orders,
        lambda t: "no orders",
    ),
    Metric(
        "first_response",
        "First response time",
        "duration",
        False,
        "Mean of (first staff reply − interaction opened) over the interactions opened in the period that got a reply.",
        "replied interactions",
        "average_first_response_seconds",
        lambda t: t.first_response_count,
        lambda t: "no replied interactions",
    ),
    Metric(
        "resolution",
        "Resolution time",
        "duration",
        False,
        "Mean of (resolved − opened) over the resolved interactions opened in the period.",
        "resolved interactions",
        "average_resolution_seconds",
        lambda t: t.resolved_count,
        lambda t: "no resolved interactions",
    ),
    Metric(
        "ctr",
        "Click-through rate",
        "%",
        True,
        "Email clicks / emails sent × 100. Example: 100 clicks / 1,000 emails → 10 %.",
        "emails sent",
        "email_click_rate_percent",
        lambda t: t.emails_sent,
        lambda t: "no emails sent",
    ),
    Metric(
        "engagement",
        "Engagement rate",
        "%",
        True,
        "(likes + shares + comments) / followers × 100 a month, where followers are the customers active at "
        "each month's end. Example: (500 + 200 + 50) / 10,000 → 7.5 %.",
        "customer-months",
        "engagement_rate_percent",
        lambda t: t.customer_months,
        lambda t: "no active customers",
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


def figure(metric: Metric, t: Totals) -> Figure:
    """One KPI of a period from its counts; an undefined value carries the reason."""
    if not t.months:
        return Figure(None, reason="no figures computed for this period")
    value = rate(metric.rate, t)
    return Figure(
        value,
        metric.n(t),
        "" if value is not None else metric.missing(t),
        rate(metric.margin, t) if metric.margin else None,
        metric.detail(t),
    )


def figures(t: Totals) -> dict[str, Figure]:
    """Every KPI of a period from its counts. Undefined figures carry the reason."""
    return {m.key: figure(m, t) for m in METRICS}
