"""One pure function per metric of the glossary (shared/metrics-glossary.md).

Each takes counts or sums and returns a Decimal, or None where the metric is undefined (no
answers, an empty base). Callers store counts and sums and derive rates here, so a rate over a
longer period is recomputed from its parts, never averaged from averages.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def _ratio_percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return Decimal(part) * HUNDRED / Decimal(whole)


def quantize(value: Decimal | None, places: str = "0.1") -> Decimal | None:
    """Round half up for display (40.25 → 40.3 at one place)."""
    if value is None:
        return None
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


# Survey metrics ---------------------------------------------------------------------------


def nps_category(score: int) -> str:
    """promoter (9-10), passive (7-8) or detractor (0-6)."""
    if not 0 <= score <= 10:
        raise ValueError(f"NPS scores run from 0 to 10, not {score}")
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def nps(promoters: int, passives: int, detractors: int) -> Decimal | None:
    """% promoters − % detractors, from −100 to +100."""
    total = promoters + passives + detractors
    if not total:
        return None
    return Decimal(promoters - detractors) * HUNDRED / Decimal(total)


def nps_margin_of_error(promoters: int, passives: int, detractors: int) -> Decimal | None:
    """95 % margin of error in NPS points: 1.96 × 100 × sqrt((p + d − (p − d)²) / n)."""
    n = promoters + passives + detractors
    if not n:
        return None
    p = Decimal(promoters) / n
    d = Decimal(detractors) / n
    variance = p + d - (p - d) ** 2
    return Decimal("1.96") * HUNDRED * (variance / n).sqrt()


def csat(scores: Iterable[int]) -> Decimal | None:
    """% of 1-5 answers that are 4 or 5."""
    values = list(scores)
    return csat_from_counts(sum(1 for s in values if s >= 4), len(values))


def csat_from_counts(satisfied: int, count: int) -> Decimal | None:
    return _ratio_percent(satisfied, count)


def ces(scores: Iterable[int]) -> Decimal | None:
    """Mean of 1-7 agreement answers."""
    values = list(scores)
    return mean(sum(values), len(values))


def ces_easy_share(easy: int, count: int) -> Decimal | None:
    """% of CES answers that are 5 to 7."""
    return _ratio_percent(easy, count)


def mean(total: int | Decimal, count: int) -> Decimal | None:
    if not count:
        return None
    return Decimal(total) / Decimal(count)


def response_rate(answers: int, invitations: int) -> Decimal | None:
    return _ratio_percent(answers, invitations)


# Period metrics ---------------------------------------------------------------------------


def retention_rate(start: int, end: int, new: int) -> Decimal | None:
    """(E − N) / S × 100: the share of the customers at the start still there at the end."""
    return _ratio_percent(end - new, start)


def churn_rate(start: int, lost: int) -> Decimal | None:
    """Customers of S lost during the period / S × 100."""
    return _ratio_percent(lost, start)


def net_growth_rate(start: int, end: int) -> Decimal | None:
    """(E − S) / S × 100. Not retention."""
    return _ratio_percent(end - start, start)


# Value metrics ----------------------------------------------------------------------------


def average_order_value(revenue: Decimal, orders: int) -> Decimal | None:
    if not orders:
        return None
    return Decimal(revenue) / Decimal(orders)


def purchase_frequency(orders: int, customers_or_years: int | Decimal) -> Decimal | None:
    """Orders per customer, or per year when given a customer's years."""
    if not customers_or_years:
        return None
    return Decimal(orders) / Decimal(customers_or_years)


def clv(avg_purchase_value: Decimal | None, purchase_frequency: Decimal | None, lifespan_years: Decimal | None):
    """Historical CLV: average purchase value × purchases a year × lifespan in years."""
    if avg_purchase_value is None or purchase_frequency is None or lifespan_years is None:
        return None
    return Decimal(avg_purchase_value) * Decimal(purchase_frequency) * Decimal(lifespan_years)


# Engagement and support -------------------------------------------------------------------


def ctr(clicks: int, impressions: int) -> Decimal | None:
    return _ratio_percent(clicks, impressions)


def engagement_rate(likes: int, shares: int, comments: int, followers: int) -> Decimal | None:
    return _ratio_percent(likes + shares + comments, followers)


def open_rate(opens: int, delivered: int) -> Decimal | None:
    return _ratio_percent(opens, delivered)


def unsubscribe_rate(unsubscribes: int, delivered: int) -> Decimal | None:
    return _ratio_percent(unsubscribes, delivered)


def conversion_rate(conversions: int, visitors: int) -> Decimal | None:
    return _ratio_percent(conversions, visitors)


def bounce_rate(single_page_sessions: int, sessions: int) -> Decimal | None:
    return _ratio_percent(single_page_sessions, sessions)


def average_session_duration(total_seconds: int, sessions: int) -> Decimal | None:
    """Seconds per session."""
    return mean(total_seconds, sessions)


def referral_conversion_rate(converted: int, referrals: int) -> Decimal | None:
    return _ratio_percent(converted, referrals)


def advocacy_revenue_share(referred_revenue: Decimal, total_revenue: Decimal) -> Decimal | None:
    return _ratio_percent(referred_revenue, total_revenue)
