"""Reads of computed metrics for views, reports and the API.

Rates are never stored: `customer_figures()` turns a customer's stored counts and sums into the profile's
figures through metrics.formulas; a segment's rates come from the KPI catalogue (metrics.catalogue).
Quarters and years are stored as their own snapshot rows (period "quarter" / "year"), computed from the
same data as the months, never by averaging monthly rates.
"""

from dataclasses import dataclass
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
