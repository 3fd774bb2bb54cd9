"""Segment snapshots (months, quarters, years) and cohort retention, set-based.

For each segment the member ids are materialised once into a temporary table (membership frozen at
compute time), then a handful of grouped statements read everything the snapshots need:

- customers grouped by (acquisition month, churn month) with counts and day sums: at most a few
  hundred rows, from which S, N, E, lost, the average lifespan of every period and the cohort table
  follow exactly (S = acquired before the period and not churned before it, N = acquired in it and
  still active at its end, E = active at its end, lost = of S, churned in it; so E − N = S − lost and
  retention + churn = 100);
- responses, invitations, interactions, orders, engagement events and referrals grouped by the month
  (in settings.TIME_ZONE) of their timestamp; quarters and years add the months up, except the
  count of distinct ordering customers, which is grouped by quarter and year directly.

Months run in settings.TIME_ZONE: an order at 23:30 on 31 January in Bangkok belongs to January even
though it is 16:30 UTC. The last METRICS_SNAPSHOT_MONTHS months (24 by default) are rebuilt each run.
"""

# ruff: noqa: S608, S611 - SQL is assembled from constants and column names; values are always parameters.
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter, TruncYear
from django.utils import timezone

from customers.models import Customer, EngagementEvent, Interaction, Order, Referral, Segment
from customers.selectors import segment_customer_ids
from metrics.models import CohortCell, LifespanCell, SegmentSnapshot
from metrics.selectors import month_starts, next_month

MONTHS: int = getattr(settings, "METRICS_SNAPSHOT_MONTHS", 24)
EPOCH = date(1970, 1, 1)
MEMBERS_TABLE = "metrics_snapshot_members"
ZERO = timedelta(0)


def build_all_segments(
    *, progress: Callable[[int, int], None] | None = None, months: int | None = None, today: date | None = None
) -> int:
    """Rebuild every segment's snapshots and cohort cells. Returns the number of segments."""
    segments = list(Segment.objects.order_by("id"))
    for done, segment in enumerate(segments, start=1):
        build_segment(segment, months=months or MONTHS, today=today)
        if progress:
            progress(done, len(segments))
    return len(segments)


@dataclass
class _Group:
    """Members acquired in month `acquired` and churned in month `churned` (None: still active)."""

    acquired: date
    churned: date | None
    count: int
    acquired_days: int
    churned_days: int


def _month(value: date | datetime | None, zone: ZoneInfo) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = timezone.localtime(value, zone) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def _days(value: timedelta | None) -> int:
    return value.days if value else 0


def _seconds(value: timedelta | None) -> int:
    return round(value.total_seconds()) if value else 0


def build_segment(segment: Segment, *, months: int = MONTHS, today: date | None = None) -> None:
    zone = ZoneInfo(settings.TIME_ZONE)
    today = today or timezone.localdate(timezone=zone)
    starts = month_starts(months, today)
    window_start, window_end = starts[0], next_month(starts[-1])
    ws = datetime(window_start.year, window_start.month, 1, tzinfo=zone)
    we = datetime(window_end.year, window_end.month, 1, tzinfo=zone)
    now = timezone.now()
    ids_sql, ids_params = segment_customer_ids(segment).query.sql_with_params()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MEMBERS_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {MEMBERS_TABLE} AS {ids_sql}", ids_params)
        if connection.vendor == "postgresql":
            # Temporary tables are never auto-analysed; the planner needs the row count for its joins.
            cursor.execute(f"ANALYZE {MEMBERS_TABLE}")
        cursor.execute(f"SELECT COUNT(*) FROM {MEMBERS_TABLE}")
        member_count = cursor.fetchone()[0]
        members = RawSQL(f"SELECT id FROM {MEMBERS_TABLE}", [])

        groups = _customer_groups(members, zone)
        flows = _flows(members, zone, ws, we)
        ordering = _ordering_customers(members, zone, ws, we)
        cursor.execute(f"DROP TABLE {MEMBERS_TABLE}")

        periods: list[tuple[str, date, date]] = [(SegmentSnapshot.Period.MONTH, m, next_month(m)) for m in starts]
        for m in starts:
            if m.month in (1, 4, 7, 10):
                periods.append((SegmentSnapshot.Period.QUARTER, m, _add_months(m, 3)))
            if m.month == 1:
                periods.append((SegmentSnapshot.Period.YEAR, m, _add_months(m, 12)))

        rows = []
        for period, start, end in periods:
            row = SegmentSnapshot(
                segment=segment,
                period=period,
                period_start=start,
                period_end=end,
                member_count=member_count,
                computed_at=now,
            )
            _fill_stocks(row, groups, start, end, today)
            month = start
            while month < end and month < window_end:
                for name, value in flows.get(month, {}).items():
                    setattr(row, name, getattr(row, name) + value)
                month = next_month(month)
            row.ordering_customers = ordering.get((period, start), 0)
            rows.append(row)
        update_fields = [
            f.name
            for f in SegmentSnapshot._meta.concrete_fields
            if f.name not in ("id", "segment", "period", "period_start")
        ]
        SegmentSnapshot.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["segment", "period", "period_start"],
            update_fields=update_fields,
            batch_size=500,
        )
        CohortCell.objects.filter(segment=segment).delete()
        CohortCell.objects.bulk_create(_cohort_cells(segment, groups, starts, now), batch_size=1000)
        LifespanCell.objects.filter(segment=segment).delete()
        LifespanCell.objects.bulk_create(
            [
                LifespanCell(
                    segment=segment,
                    acquired_month=g.acquired,
                    churned_month=g.churned,
                    customers=g.count,
                    computed_at=now,
                )
                for g in groups
            ],
            batch_size=1000,
        )


def _add_months(day: date, count: int) -> date:
    for _ in range(count):
        day = next_month(day)
    return day


def _customer_groups(members: RawSQL, zone: ZoneInfo) -> list[_Group]:
    epoch = Value(EPOCH)
    rows = (
        Customer.objects.filter(id__in=members)
        .order_by()
        .annotate(am=TruncMonth("acquired_at"), cm=TruncMonth("churned_at"))
        .values("am", "cm")
        .annotate(
            n=Count("id"),
            acq=Sum(ExpressionWrapper(F("acquired_at") - epoch, output_field=DurationField())),
            churn=Sum(ExpressionWrapper(F("churned_at") - epoch, output_field=DurationField())),
        )
    )
    return [
        _Group(
            acquired=_month(r["am"], zone),
            churned=_month(r["cm"], zone),
            count=r["n"],
            acquired_days=_days(r["acq"]),
            churned_days=_days(r["churn"]),
        )
        for r in rows
    ]


def period_stocks(groups: Iterable[tuple[date, date | None, int]], start: date, end: date) -> tuple[int, int, int, int]:
    """(S, N, E, lost) of the period [start, end) (month starts) from (acquired month, churned month
    or None, customers) groups. S = active at the start, N = acquired in the period and active at its
    end, E = active at its end, lost = of S, churned in the period; so E − N = S − lost."""
    s = n = e = lost = 0
    for acquired, churned, count in groups:
        if acquired < start and (churned is None or churned >= start):
            s += count
            if churned is not None and churned < end:
                lost += count
        if acquired < end and (churned is None or churned >= end):
            e += count
            if acquired >= start:
                n += count
    return s, n, e, lost


def _fill_stocks(row: SegmentSnapshot, groups: list[_Group], start: date, end: date, today: date) -> None:
    """S, N, E, lost and the average lifespan for the period [start, end) (month-start dates)."""
    s, n, e, lost = period_stocks(((g.acquired, g.churned, g.count) for g in groups), start, end)
    span_days = span_count = 0
    # Lifespans of still-active customers run to the period's end, or to today for the current period.
    cut = min(end, today + timedelta(days=1))
    cut_days = (cut - EPOCH).days
    for g in groups:
        if g.acquired < end and (g.churned is None or g.churned >= start):
            churned_before_cut = g.churned is not None and g.churned < end
            ends = g.churned_days if churned_before_cut else cut_days * g.count
            span_days += ends - g.acquired_days
            span_count += g.count
    row.customers_start, row.customers_new, row.customers_end, row.customers_lost = s, n, e, lost
    row.avg_lifespan_days = (Decimal(span_days) / span_count).quantize(Decimal("0.01")) if span_count else None


def _cohort_cells(segment: Segment, groups: list[_Group], starts: list[date], now: datetime) -> list[CohortCell]:
    sizes: dict[date, int] = defaultdict(int)
    for g in groups:
        sizes[g.acquired] += g.count
    cells = []
    last = starts[-1]
    for index, cohort in enumerate(starts):
        size = sizes.get(cohort, 0)
        if not size:
            continue
        for since in range(len(starts) - index):
            # Active at the end of month cohort + since: not churned before the month after it.
            month_end = next_month(_add_months(cohort, since))
            active = sum(
                g.count for g in groups if g.acquired == cohort and (g.churned is None or g.churned >= month_end)
            )
            cells.append(
                CohortCell(
                    segment=segment,
                    cohort_month=cohort,
                    months_since=since,
                    cohort_size=size,
                    active=active,
                    computed_at=now,
                )
            )
            if _add_months(cohort, since) >= last:
                break
    return cells


def _duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _flows(members: RawSQL, zone: ZoneInfo, ws: datetime, we: datetime) -> dict[date, dict[str, int | Decimal]]:
    """Counts and sums of everything that happened in each month of the window."""
    from surveys.models import Invitation, Response

    out: dict[date, dict[str, int | Decimal]] = defaultdict(dict)

    def collect(qs, field: str, aggregates: dict, converters: dict | None = None) -> None:
        rows = (
            qs.filter(**{f"{field}__gte": ws, f"{field}__lt": we})
            .order_by()
            .annotate(period=TruncMonth(field, tzinfo=zone))
            .values("period")
            .annotate(**aggregates)
        )
        for r in rows:
            month = _month(r.pop("period"), zone)
            for name, value in r.items():
                convert = (converters or {}).get(name)
                out[month][name] = convert(value) if convert else (value or 0)

    collect(
        Response.objects.filter(customer_id__in=members),
        "submitted_at",
        {
            "promoters": Count("id", filter=Q(kind="nps", score__gte=9)),
            "passives": Count("id", filter=Q(kind="nps", score__gte=7, score__lte=8)),
            "detractors": Count("id", filter=Q(kind="nps", score__lte=6)),
            "csat_count": Count("id", filter=Q(kind="csat")),
            "csat_sum": Coalesce(Sum("score", filter=Q(kind="csat")), 0),
            "csat_satisfied": Count("id", filter=Q(kind="csat", score__gte=4)),
            "ces_count": Count("id", filter=Q(kind="ces")),
            "ces_sum": Coalesce(Sum("score", filter=Q(kind="ces")), 0),
            "ces_easy": Count("id", filter=Q(kind="ces", score__gte=5)),
        },
    )
    # Response rate: of the invitations sent in a month, those answered (whenever). Counting answers by the
    # month they came in would put an invitation sent on 30 September and answered on 2 October into
    # October's numerator but September's denominator, and a month could show more than 100 %.
    collect(
        Invitation.objects.filter(customer_id__in=members, sent_at__isnull=False),
        "sent_at",
        {"invitations": Count("id"), "answers": Count("response")},
    )
    collect(
        Interaction.objects.filter(customer_id__in=members),
        "opened_at",
        {
            "interactions": Count("id"),
            "first_response_count": Count("first_response_at"),
            "first_response_seconds_sum": Sum(_duration("first_response_at", "opened_at")),
            "resolved_count": Count("id", filter=Q(status="resolved")),
            "resolution_seconds_sum": Sum(_duration("resolved_at", "opened_at"), filter=Q(status="resolved")),
        },
        {"first_response_seconds_sum": _seconds, "resolution_seconds_sum": _seconds},
    )
    collect(
        Order.objects.filter(customer_id__in=members),
        "ordered_at",
        {
            "orders": Count("id"),
            "revenue": Sum("amount"),
            "referred_revenue": Sum("amount", filter=Q(referred_by__isnull=False)),
        },
        {"revenue": lambda v: Decimal(v or 0), "referred_revenue": lambda v: Decimal(v or 0)},
    )
    kind = EngagementEvent.Kind
    collect(
        EngagementEvent.objects.filter(customer_id__in=members),
        "occurred_at",
        {
            "sessions": Count("id", filter=Q(kind=kind.SESSION)),
            "session_seconds_sum": Coalesce(Sum("duration_seconds", filter=Q(kind=kind.SESSION)), 0),
            "single_page_sessions": Count("id", filter=Q(kind=kind.SESSION, pages=1)),
            "emails_sent": Count("id", filter=Q(kind=kind.EMAIL_SENT)),
            "emails_opened": Count("id", filter=Q(kind=kind.EMAIL_OPENED)),
            "emails_clicked": Count("id", filter=Q(kind=kind.EMAIL_CLICKED)),
            "emails_unsubscribed": Count("id", filter=Q(kind=kind.EMAIL_UNSUBSCRIBED)),
            "social_likes": Count("id", filter=Q(kind=kind.SOCIAL_LIKE)),
            "social_shares": Count("id", filter=Q(kind=kind.SOCIAL_SHARE)),
            "social_comments": Count("id", filter=Q(kind=kind.SOCIAL_COMMENT)),
        },
    )
    collect(
        Referral.objects.filter(referrer_id__in=members),
        "created_at",
        {"referrals": Count("id"), "referrals_converted": Count("converted_customer_id")},
    )
    return out


def _ordering_customers(members: RawSQL, zone: ZoneInfo, ws: datetime, we: datetime) -> dict[tuple[str, date], int]:
    """Distinct ordering customers per month, quarter and year (distinct counts do not add up)."""
    out: dict[tuple[str, date], int] = {}
    base = Order.objects.filter(customer_id__in=members, ordered_at__gte=ws, ordered_at__lt=we).order_by()
    for period, trunc in (
        (SegmentSnapshot.Period.MONTH, TruncMonth),
        (SegmentSnapshot.Period.QUARTER, TruncQuarter),
        (SegmentSnapshot.Period.YEAR, TruncYear),
    ):
        rows = (
            base.annotate(p=trunc("ordered_at", tzinfo=zone))
            .values("p")
            .annotate(n=Count("customer_id", distinct=True))
        )
        for r in rows:
            out[(period, _month(r["p"], zone))] = r["n"]
    return out
