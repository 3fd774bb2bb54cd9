"""Reads of the rows the metrics engine writes, for the report pages: snapshots, lifespan groups, cohort cells,
freshness and recompute runs, and the sums of a period's months (Totals).

Periods longer than a month (a quarter, a year, a chosen range of months) are built from months:

* flows (answers, orders, revenue, interactions, events) are summed;
* S, N, E and lost are the period's own, from the segment's lifespan groups (LifespanCell: customers by
  month acquired × month churned): S = active at the period's start, N = acquired in it and still active
  at its end, E = active at its end, lost = of S, churned in it. Summing the months' N and lost would be
  wrong: a customer acquired in January and lost in March is new in January and lost in March, yet in
  neither S nor E of the quarter; retention would drift below zero over long ranges;
* "customer-months" (the sum of each month's E) is the audience for the engagement rate and the
  purchase frequency, so a quarter's rate is the months' rate weighted by their audience.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from core.calendar import MonthRange, bucket_end, bucket_of, local_midnight
from customers.models import Segment
from customers.selectors import segment_customer_ids
from metrics.models import CohortCell, LifespanCell, RecomputeChunk, RecomputeRun, RecomputeSegment, SegmentSnapshot
from metrics.snapshots import period_stocks
from surveys.models import Response, Survey

ALL_CUSTOMERS_SLUG = "all-customers"
STALE_AFTER = timedelta(days=1)
COMMENTS_SHOWN = 10

Lifespans = Sequence[tuple[date, date | None, int]]


# Summing snapshots ------------------------------------------------------------------------

SUMMED_FIELDS = [
    "customers_new",
    "customers_lost",
    "promoters",
    "passives",
    "detractors",
    "csat_count",
    "csat_sum",
    "csat_satisfied",
    "ces_count",
    "ces_sum",
    "ces_easy",
    "invitations",
    "answers",
    "interactions",
    "first_response_count",
    "first_response_seconds_sum",
    "resolved_count",
    "resolution_seconds_sum",
    "orders",
    "revenue",
    "ordering_customers",
    "referred_revenue",
    "sessions",
    "session_seconds_sum",
    "single_page_sessions",
    "emails_sent",
    "emails_opened",
    "emails_clicked",
    "emails_unsubscribed",
    "social_likes",
    "social_shares",
    "social_comments",
    "referrals",
    "referrals_converted",
]


@dataclass
class Totals:
    """A period's counts: flows summed over its months, S from the first month, E from the last."""

    months: int = 0
    first_month: date | None = None
    last_month: date | None = None
    customers_start: int = 0
    customers_end: int = 0
    customer_months: int = 0
    member_count: int = 0
    avg_lifespan_days: Decimal | None = None
    computed_at: datetime | None = None
    sums: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in SUMMED_FIELDS:
            return self.__dict__["sums"].get(name, Decimal(0) if name.endswith("revenue") else 0)
        raise AttributeError(name)

    @property
    def nps_n(self) -> int:
        return self.promoters + self.passives + self.detractors


def sum_snapshots(
    snapshots: Iterable[SegmentSnapshot],
    lifespans: Lifespans | None = None,
    period: tuple[date, date] | None = None,
) -> Totals:
    """Add months up. With the segment's lifespan groups and the period [first, end), S, N, E and lost
    are the period's own (exact for any range); without them, S and E come from the first and last
    month and N and lost are summed, which is exact for a single month only."""
    ordered = sorted(snapshots, key=lambda s: s.period_start)
    totals = Totals()
    if not ordered:
        return totals
    first, last = ordered[0], ordered[-1]
    totals.months = len(ordered)
    totals.first_month, totals.last_month = first.period_start, last.period_start
    totals.customers_start = first.customers_start
    totals.customers_end = last.customers_end
    totals.member_count = last.member_count
    # Lifespan is a state, not a flow: the latest month's figure.
    totals.avg_lifespan_days = last.avg_lifespan_days
    totals.computed_at = max(s.computed_at for s in ordered)
    totals.customer_months = sum(s.customers_end for s in ordered)
    for name in SUMMED_FIELDS:
        totals.sums[name] = sum((getattr(s, name) for s in ordered), Decimal(0) if name.endswith("revenue") else 0)
    if lifespans and period and len(ordered) > 1:
        s, n, e, lost = period_stocks(lifespans, *period)
        totals.customers_start, totals.customers_end = s, e
        totals.sums["customers_new"], totals.sums["customers_lost"] = n, lost
    return totals


def with_customer_months(qs: QuerySet[SegmentSnapshot]) -> QuerySet[SegmentSnapshot]:
    """Annotates each row with what a range of months reads from its months, so a stored quarter or year has
    the report pages' rates: `customer_months` (Σ of the customers active at each month's end: the audience
    of the engagement rate and the purchase frequency) and `last_month_lifespan_days` (the lifespan a range
    takes from its last month). Two subqueries, no extra query."""
    months = (
        SegmentSnapshot.objects.filter(
            segment=OuterRef("segment"),
            period=SegmentSnapshot.Period.MONTH,
            period_start__gte=OuterRef("period_start"),
            period_start__lt=OuterRef("period_end"),
        )
        .order_by()
        .values("segment")
        .annotate(total=Sum("customers_end"))
        .values("total")
    )
    last_month = SegmentSnapshot.objects.filter(
        segment=OuterRef("segment"),
        period=SegmentSnapshot.Period.MONTH,
        period_start__gte=OuterRef("period_start"),
        period_start__lt=OuterRef("period_end"),
    ).order_by("-period_start")
    return qs.annotate(
        customer_months=Subquery(months[:1]),
        last_month_lifespan_days=Subquery(last_month.values("avg_lifespan_days")[:1]),
    )


def snapshot_totals(snapshot: SegmentSnapshot) -> Totals:
    """The counts of one stored period (a month, quarter or year) as Totals, for the catalogue. A quarter or
    year read through with_customer_months() gets its months' audience; a month's is its own E."""
    totals = sum_snapshots([snapshot])
    customer_months = getattr(snapshot, "customer_months", None)
    if snapshot.period != SegmentSnapshot.Period.MONTH and customer_months is not None:
        totals.customer_months = customer_months
        totals.avg_lifespan_days = getattr(snapshot, "last_month_lifespan_days", None)
    return totals


def buckets(
    snapshots: list[SegmentSnapshot],
    months: MonthRange,
    group: str,
    lifespans: Lifespans | None = None,
) -> list[tuple[date, Totals]]:
    """(bucket start, totals) for each month/quarter/year of the range, empty buckets included."""
    by_bucket: dict[date, list[SegmentSnapshot]] = {bucket_of(m, group): [] for m in months.months}
    for snapshot in snapshots:
        by_bucket[bucket_of(snapshot.period_start, group)].append(snapshot)
    return [
        (start, sum_snapshots(rows, lifespans, (start, bucket_end(start, group, months))))
        for start, rows in by_bucket.items()
    ]


# Snapshot reads ---------------------------------------------------------------------------


def snapshots_by_segment(segment_ids: Sequence[int], start: date, end: date) -> dict[int, list[SegmentSnapshot]]:
    """Monthly snapshots of these segments with period_start in [start, end): one query."""
    rows: dict[int, list[SegmentSnapshot]] = defaultdict(list)
    snapshots = SegmentSnapshot.objects.filter(
        segment_id__in=segment_ids,
        period=SegmentSnapshot.Period.MONTH,
        period_start__gte=start,
        period_start__lt=end,
    ).order_by("period_start")
    for snapshot in snapshots:
        rows[snapshot.segment_id].append(snapshot)
    return rows


def lifespans_by_segment(segment_ids: Sequence[int]) -> dict[int, list[tuple[date, date | None, int]]]:
    """Each segment's (acquired month, churned month, customers) groups from its last snapshot: one query."""
    rows: dict[int, list[tuple[date, date | None, int]]] = defaultdict(list)
    cells = LifespanCell.objects.filter(segment_id__in=segment_ids).values_list(
        "segment_id", "acquired_month", "churned_month", "customers"
    )
    for segment_id, acquired, churned, customers in cells:
        rows[segment_id].append((acquired, churned, customers))
    return rows


def in_range(snapshots: Iterable[SegmentSnapshot], months: MonthRange) -> list[SegmentSnapshot]:
    return [s for s in snapshots if months.first <= s.period_start < months.end]


def all_customers_segment() -> Segment:
    return Segment.objects.get(slug=ALL_CUSTOMERS_SLUG)


# Recompute runs ---------------------------------------------------------------------------

# The one liveness rule of full recomputes: an unfinished run that has made no progress (started, or
# finished a chunk or a segment) for this long is dead. A dead run no longer blocks a new one, and the
# pages say it stopped instead of showing it as running. Chunks of 20,000 customers and single segments
# take seconds to minutes, so an hour without either is a run whose workers are gone.
RUN_DEAD_AFTER = timedelta(minutes=getattr(settings, "METRICS_RUN_DEAD_AFTER_MINUTES", 60))


def _with_last_progress(qs: QuerySet[RecomputeRun]) -> QuerySet[RecomputeRun]:
    """Annotates `last_progress`: the latest of the run's start and its chunks' and segments' completions."""
    chunks = RecomputeChunk.objects.filter(run=OuterRef("pk")).order_by().values("run").annotate(at=Max("done_at"))
    segments = RecomputeSegment.objects.filter(run=OuterRef("pk")).order_by().values("run").annotate(at=Max("done_at"))
    return qs.annotate(
        last_progress=Greatest(
            "started_at",
            Coalesce(Subquery(chunks.values("at")[:1]), "started_at"),
            Coalesce(Subquery(segments.values("at")[:1]), "started_at"),
        )
    )


def live_runs(now: datetime | None = None) -> QuerySet[RecomputeRun]:
    """Unfinished runs that made progress within RUN_DEAD_AFTER, newest first."""
    cutoff = (now or timezone.now()) - RUN_DEAD_AFTER
    return _with_last_progress(RecomputeRun.objects.filter(finished_at__isnull=True)).filter(last_progress__gte=cutoff)


def latest_run() -> RecomputeRun | None:
    """The newest run, with its `last_progress`, for the pages' freshness panel."""
    return _with_last_progress(RecomputeRun.objects.select_related("started_by")).first()


def run_is_active(run: RecomputeRun | None, now: datetime | None = None) -> bool:
    """True if the run is unfinished and alive by RUN_DEAD_AFTER (a run read by latest_run or live_runs)."""
    if run is None or run.finished_at is not None:
        return False
    if run.status not in (RecomputeRun.Status.RUNNING, RecomputeRun.Status.SNAPSHOTTING):
        return False
    last = getattr(run, "last_progress", None) or run.started_at
    return last >= (now or timezone.now()) - RUN_DEAD_AFTER


def run_is_dead(run: RecomputeRun | None, now: datetime | None = None) -> bool:
    """True if the run never finished and stopped making progress: the pages say so, a new run may start."""
    return run is not None and run.finished_at is None and not run_is_active(run, now)


@dataclass
class Freshness:
    computed_at: datetime | None

    @property
    def is_stale(self) -> bool:
        return self.computed_at is None or timezone.now() - self.computed_at > STALE_AFTER

    @property
    def minutes_ago(self) -> int | None:
        if self.computed_at is None:
            return None
        return max(0, int((timezone.now() - self.computed_at).total_seconds() // 60))


def freshness_of(segment_ids: Sequence[int] | None = None) -> Freshness:
    qs = SegmentSnapshot.objects.all()
    if segment_ids is not None:
        qs = qs.filter(segment_id__in=segment_ids)
    return Freshness(qs.aggregate(at=Max("computed_at"))["at"])


def cohort_cells(segment: Segment, months: MonthRange) -> QuerySet[CohortCell]:
    """The segment's cohort cells of the cohorts acquired in the range, in table order."""
    return CohortCell.objects.filter(
        segment=segment, cohort_month__gte=months.first, cohort_month__lt=months.end
    ).order_by("cohort_month", "months_since")


# Detractor comments -----------------------------------------------------------------------


def detractor_q() -> Q:
    """Answers at or below each survey kind's detractor threshold (NPS ≤ 6, CSAT ≤ 2, CES ≤ 3)."""
    q = Q()
    for kind, highest in Survey.DETRACTOR_MAX.items():
        q |= Q(kind=kind, score__lte=highest)
    return q


def detractor_comments(segment: Segment, months: MonthRange, limit: int = COMMENTS_SHOWN) -> list[Response]:
    """The newest detractor answers with a comment from the segment's members, in the period: one query."""
    qs: QuerySet[Response] = (
        Response.objects.filter(detractor_q())
        .exclude(comment="")
        .filter(
            customer_id__in=segment_customer_ids(segment),
            submitted_at__gte=local_midnight(months.first),
            submitted_at__lt=local_midnight(months.end),
        )
        .select_related("customer")
        .order_by("-submitted_at", "-id")
    )
    return list(qs[:limit])
