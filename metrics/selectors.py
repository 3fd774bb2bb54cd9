"""Reads of computed metrics for views, reports and the API.

Rates are never stored: `derived()` and `customer_figures()` turn the stored counts and sums into the
glossary's figures through metrics.formulas. Quarters and years are stored as their own snapshot rows
(period "quarter" / "year"), computed from the same data as the months, never by averaging monthly rates.
"""

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Customer, Segment
from metrics import formulas as f
from metrics.models import CustomerMetrics, RecomputeRun, SegmentSnapshot

DAYS_PER_YEAR = Decimal("365.25")


def customer_metrics_for(customer: Customer) -> CustomerMetrics | None:
    """The customer's computed row, or None before the first recompute."""
    return CustomerMetrics.objects.filter(customer=customer).first()


def active_run() -> RecomputeRun | None:
    """The full recompute still in progress, if any."""
    return RecomputeRun.objects.filter(finished_at__isnull=True).order_by("-started_at", "-id").first()


def run_progress(run: RecomputeRun) -> dict[str, object]:
    """What a progress bar or a polling endpoint shows about a run (JSON-serialisable)."""
    return {
        "id": run.pk,
        "status": run.status,
        "status_display": run.get_status_display(),
        "progress_percent": run.progress_percent,
        "customers": run.total_customers,
        "chunks_done": run.chunks_done,
        "chunks": run.total_chunks,
        "segments_done": run.segments_done,
        "segments": run.segments_total,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
    }


def last_finished_run() -> RecomputeRun | None:
    return RecomputeRun.objects.filter(status=RecomputeRun.Status.DONE).order_by("-finished_at", "-id").first()


def segment_snapshots(
    segment: Segment, start: date | None = None, end: date | None = None, period: str = SegmentSnapshot.Period.MONTH
) -> QuerySet[SegmentSnapshot]:
    """Snapshots of a segment (months by default), oldest first; `start` inclusive, `end` exclusive,
    both compared with period_start."""
    qs = SegmentSnapshot.objects.filter(segment=segment, period=period)
    if start is not None:
        qs = qs.filter(period_start__gte=start)
    if end is not None:
        qs = qs.filter(period_start__lt=end)
    return qs.order_by("period_start")


@dataclass(frozen=True)
class SnapshotFigures:
    """The figures a manager reads for one segment and period, each None where undefined."""

    retention: Decimal | None
    churn: Decimal | None
    net_growth: Decimal | None
    nps: Decimal | None
    nps_margin: Decimal | None
    nps_answers: int
    csat: Decimal | None
    csat_mean: Decimal | None
    ces_mean: Decimal | None
    ces_easy: Decimal | None
    response_rate: Decimal | None
    aov: Decimal | None
    purchase_frequency: Decimal | None
    clv: Decimal | None
    ctr: Decimal | None
    open_rate: Decimal | None
    unsubscribe_rate: Decimal | None
    engagement_rate: Decimal | None
    bounce_rate: Decimal | None
    avg_session_seconds: Decimal | None
    avg_first_response_seconds: Decimal | None
    avg_resolution_seconds: Decimal | None
    referral_conversion: Decimal | None
    advocacy_revenue_share: Decimal | None

    def as_dict(self) -> dict[str, Decimal | int | None]:
        return {fld.name: getattr(self, fld.name) for fld in fields(self)}


def derived(snapshot: SegmentSnapshot) -> SnapshotFigures:
    """Every rate of a snapshot, from its stored counts and sums.

    - Engagement rate uses the segment's customers at the end of the period as followers.
    - Purchase frequency is orders a year per ordering customer (scaled from the period's length);
      CLV = AOV × that frequency × the members' average lifespan in years.
    """
    s = snapshot
    days = Decimal((s.period_end - s.period_start).days or 1)
    frequency = None
    if s.ordering_customers:
        frequency = Decimal(s.orders) / Decimal(s.ordering_customers) * DAYS_PER_YEAR / days
    lifespan_years = None
    if s.avg_lifespan_days is not None:
        lifespan_years = Decimal(s.avg_lifespan_days) / DAYS_PER_YEAR
    aov = f.average_order_value(s.revenue, s.orders)
    return SnapshotFigures(
        retention=f.retention_rate(s.customers_start, s.customers_end, s.customers_new),
        churn=f.churn_rate(s.customers_start, s.customers_lost),
        net_growth=f.net_growth_rate(s.customers_start, s.customers_end),
        nps=f.nps(s.promoters, s.passives, s.detractors),
        nps_margin=f.nps_margin_of_error(s.promoters, s.passives, s.detractors),
        nps_answers=s.promoters + s.passives + s.detractors,
        csat=f.csat_from_counts(s.csat_satisfied, s.csat_count),
        csat_mean=f.mean(s.csat_sum, s.csat_count),
        ces_mean=f.mean(s.ces_sum, s.ces_count),
        ces_easy=f.ces_easy_share(s.ces_easy, s.ces_count),
        response_rate=f.response_rate(s.answers, s.invitations),
        aov=aov,
        purchase_frequency=frequency,
        clv=f.clv(aov, frequency, lifespan_years),
        ctr=f.ctr(s.emails_clicked, s.emails_sent),
        open_rate=f.open_rate(s.emails_opened, s.emails_sent),
        unsubscribe_rate=f.unsubscribe_rate(s.emails_unsubscribed, s.emails_sent),
        engagement_rate=f.engagement_rate(s.social_likes, s.social_shares, s.social_comments, s.customers_end),
        bounce_rate=f.bounce_rate(s.single_page_sessions, s.sessions),
        avg_session_seconds=f.average_session_duration(s.session_seconds_sum, s.sessions),
        avg_first_response_seconds=f.mean(s.first_response_seconds_sum, s.first_response_count),
        avg_resolution_seconds=f.mean(s.resolution_seconds_sum, s.resolved_count),
        referral_conversion=f.referral_conversion_rate(s.referrals_converted, s.referrals),
        advocacy_revenue_share=f.advocacy_revenue_share(s.referred_revenue, s.revenue),
    )


@dataclass(frozen=True)
class CustomerFigures:
    """A customer's figures for the profile card, derived from the stored row."""

    nps_category: str | None
    csat: Decimal | None
    csat_mean: Decimal | None
    ces_mean: Decimal | None
    ces_easy: Decimal | None
    response_rate: Decimal | None
    days_since_last_interaction: int | None
    avg_first_response_seconds: Decimal | None
    avg_resolution_seconds: Decimal | None
    aov: Decimal | None
    purchase_frequency: Decimal | None
    tenure_years: Decimal
    avg_session_seconds: Decimal | None
    open_rate: Decimal | None
    ctr: Decimal | None
    referral_conversion: Decimal | None
    support_cost: Decimal | None


# Orders a year extrapolated from a few weeks is noise (6 orders in a customer's first day would read
# as 2,000 a year): the card shows purchase frequency once a customer has been with us this long.
MIN_TENURE_DAYS_FOR_FREQUENCY = 90


def customer_figures(m: CustomerMetrics) -> CustomerFigures:
    """Derived per-customer figures. Purchase frequency is orders a year over the customer's tenure,
    shown from MIN_TENURE_DAYS_FOR_FREQUENCY days of tenure on."""
    tenure_years = Decimal(m.tenure_days) / DAYS_PER_YEAR
    days_since = None
    if m.last_interaction_at is not None:
        days_since = max((timezone.now() - m.last_interaction_at).days, 0)
    cost = Decimal(str(getattr(settings, "SUPPORT_COST_PER_INTERACTION", "0") or "0"))
    return CustomerFigures(
        nps_category=f.nps_category(m.latest_nps_score) if m.latest_nps_score is not None else None,
        csat=f.csat_from_counts(m.csat_satisfied, m.csat_count),
        csat_mean=f.mean(m.csat_sum, m.csat_count),
        ces_mean=f.mean(m.ces_sum, m.ces_count),
        ces_easy=f.ces_easy_share(m.ces_easy, m.ces_count),
        response_rate=f.response_rate(m.answers, m.invitations),
        days_since_last_interaction=days_since,
        avg_first_response_seconds=f.mean(m.first_response_seconds_sum, m.first_response_count),
        avg_resolution_seconds=f.mean(m.resolution_seconds_sum, m.resolved_count),
        aov=f.average_order_value(m.revenue, m.orders),
        purchase_frequency=(
            f.purchase_frequency(m.orders, tenure_years)
            if m.orders and m.tenure_days >= MIN_TENURE_DAYS_FOR_FREQUENCY
            else None
        ),
        tenure_years=tenure_years,
        avg_session_seconds=f.average_session_duration(m.session_seconds_sum, m.sessions),
        open_rate=f.open_rate(m.emails_opened, m.emails_sent),
        ctr=f.ctr(m.emails_clicked, m.emails_sent),
        referral_conversion=f.referral_conversion_rate(m.referrals_converted, m.referrals_made),
        support_cost=(cost * m.interactions_total) if cost else None,
    )
