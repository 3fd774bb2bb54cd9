"""Segment snapshots (months, quarters, years) and cohort retention, set-based.

A segment's snapshots are built in independent parts (PARTS), each owning distinct columns of the
SegmentSnapshot rows, so that the full recompute can run them as parallel tasks:

- "stocks": customers grouped by (acquisition month, churn month) with counts and day sums: at most a
  few hundred rows, from which S, N, E, lost, member_count, the average lifespan of every period and the
  cohort and lifespan cells follow exactly (S = acquired before the period and not churned before it,
  N = acquired in it and still active at its end, E = active at its end, lost = of S, churned in it; so
  E − N = S − lost and retention + churn = 100). It creates the period rows (or overwrites its columns);
- "surveys", "interactions", "orders", "ordering", "events": responses and invitations, interactions,
  orders, distinct ordering customers, engagement events and referrals grouped by the month (in
  settings.TIME_ZONE) of their timestamp; quarters and years add the months up, except the count of
  distinct ordering customers, which is grouped by quarter and year directly.

Parts only compute: each returns a JSON-ready draft, kept on the run's segment job until the last part
writes every row of the window whole, with the cohort and lifespan cells, in one transaction
(write_segment). A part that dies therefore leaves the previous run's rows intact, never half of each.

Membership is frozen at compute time: the stocks part copies the member ids into a table keyed by the
job (metrics_snapshot_member, unlogged on PostgreSQL; a temporary table when building in-process) and
the other parts read that copy. A segment of everyone (no filter) needs no copy: its parts read the
tables whole, without joining a million ids.

Months run in settings.TIME_ZONE: an order at 23:30 on 31 January in Bangkok belongs to January even
though it is 16:30 UTC.

Each run rebuilds every month from the earliest month with data (a customer acquired, an order, an answer,
an interaction or an event; five MIN() lookups on indexed columns) to the current month, and at least the
last METRICS_SNAPSHOT_MONTHS months (26 by default: the default report's 13 months and its previous
period), at most METRICS_SNAPSHOT_MAX_MONTHS (600). So any range the period picker offers over the data is
computed, a data set from 1997 included.
"""

# ruff: noqa: S608, S611 - SQL is assembled from constants and column names; values are always parameters.
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, QuerySet, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter, TruncYear
from django.utils import timezone

from core.calendar import MonthRange, add_months, month_start, month_starts, next_month, report_today, report_zone
from customers.models import Customer, EngagementEvent, Interaction, Order, Referral, Segment
from customers.selectors import segment_customer_ids
from metrics.models import CohortCell, LifespanCell, SegmentSnapshot

MONTHS: int = getattr(settings, "METRICS_SNAPSHOT_MONTHS", 26)
MAX_MONTHS: int = getattr(settings, "METRICS_SNAPSHOT_MAX_MONTHS", 600)
EPOCH = date(1970, 1, 1)
# Frozen members of a segment job (created by migration metrics 0005; unlogged on PostgreSQL).
MEMBERS_TABLE = "metrics_snapshot_member"
# Frozen members of an in-process build (build_segment).
TEMP_MEMBERS_TABLE = "metrics_snapshot_members"
ZERO = timedelta(0)

STOCKS = "stocks"
PARTS = (STOCKS, "surveys", "interactions", "orders", "ordering", "events")
STOCK_FIELDS = [
    "period_end",
    "member_count",
    "customers_start",
    "customers_new",
    "customers_end",
    "customers_lost",
    "avg_lifespan_days",
    "computed_at",
]


def build_all_segments(
    *, progress: Callable[[int, int], None] | None = None, months: int | None = None, today: date | None = None
) -> int:
    """Rebuild every segment's snapshots and cohort cells. Returns the number of segments."""
    segments = list(Segment.objects.order_by("id"))
    for done, segment in enumerate(segments, start=1):
        build_segment(segment, months=months, today=today)
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


@dataclass
class Window:
    """The months rebuilt by a run and the periods (month, quarter, year) starting in them."""

    today: date
    zone: ZoneInfo
    starts: list[date]
    periods: list[tuple[str, date, date]] = dataclass_field(default_factory=list)

    @property
    def end(self) -> date:
        return next_month(self.starts[-1])

    @property
    def ws(self) -> datetime:
        return datetime(self.starts[0].year, self.starts[0].month, 1, tzinfo=self.zone)

    @property
    def we(self) -> datetime:
        return datetime(self.end.year, self.end.month, 1, tzinfo=self.zone)


def earliest_data_month(zone: ZoneInfo) -> date | None:
    """The first month (in `zone`) with any data the snapshots count, or None without data."""
    from surveys.models import Response

    firsts = [
        Customer.objects.aggregate(at=Min("acquired_at"))["at"],
        Order.objects.aggregate(at=Min("ordered_at"))["at"],
        Response.objects.aggregate(at=Min("submitted_at"))["at"],
        Interaction.objects.aggregate(at=Min("opened_at"))["at"],
        EngagementEvent.objects.aggregate(at=Min("occurred_at"))["at"],
    ]
    months = [_month(value, zone) for value in firsts if value is not None]
    return min(months) if months else None


def months_to_build(today: date, zone: ZoneInfo) -> int:
    """How many months a run rebuilds: back to the earliest data month, at least MONTHS, at most MAX_MONTHS."""
    first = earliest_data_month(zone)
    if first is None:
        return MONTHS
    span = MonthRange(first, month_start(today)).length if first <= today else 1
    return min(max(span, MONTHS), MAX_MONTHS)


def window(*, months: int | None = None, today: date | None = None) -> Window:
    """The months a run rebuilds: the last `months`, or (by default) every month with data (months_to_build)."""
    zone = report_zone()
    today = today or report_today()
    starts = month_starts(months or months_to_build(today, zone), today)
    periods: list[tuple[str, date, date]] = [(SegmentSnapshot.Period.MONTH, m, next_month(m)) for m in starts]
    for m in starts:
        if m.month in (1, 4, 7, 10):
            periods.append((SegmentSnapshot.Period.QUARTER, m, add_months(m, 3)))
        if m.month == 1:
            periods.append((SegmentSnapshot.Period.YEAR, m, add_months(m, 12)))
    return Window(today=today, zone=zone, starts=starts, periods=periods)


@dataclass(frozen=True)
class Members:
    """How a part restricts its queries to the frozen members: not at all for a segment of everyone."""

    sql: str | None = None
    params: tuple = ()

    @property
    def everyone(self) -> bool:
        return self.sql is None

    def only(self, qs: QuerySet, column: str = "customer_id") -> QuerySet:
        if self.sql is None:
            return qs
        return qs.filter(**{f"{column}__in": RawSQL(self.sql, self.params)})


def is_everyone(segment: Segment) -> bool:
    """True if the segment's members are all customers (a dynamic segment whose filter restricts nothing)."""
    query = segment_customer_ids(segment).query
    return segment.kind == Segment.Kind.DYNAMIC and not query.where.children and not query.is_sliced


def freeze_members(segment: Segment, *, job_id: int) -> Members:
    """Copy the segment's current member ids into the members table under `job_id` (replacing an
    earlier copy) and return how to read them; a segment of everyone is not copied."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MEMBERS_TABLE} WHERE job_id = %s", [job_id])
        if is_everyone(segment):
            return Members()
        ids_sql, ids_params = segment_customer_ids(segment).query.sql_with_params()
        cursor.execute(
            f"INSERT INTO {MEMBERS_TABLE} (job_id, customer_id) SELECT %s, m.id FROM ({ids_sql}) m",
            [job_id, *ids_params],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {MEMBERS_TABLE}")
    return job_members(job_id, everyone=False)


def job_members(job_id: int, *, everyone: bool) -> Members:
    if everyone:
        return Members()
    return Members(f"SELECT customer_id FROM {MEMBERS_TABLE} WHERE job_id = %s", (job_id,))


def release_members(*, job_ids: Iterable[int] | None = None, keep_job_ids: Iterable[int] | None = None) -> None:
    """Delete the frozen members of these jobs, or of every job but `keep_job_ids`."""
    with connection.cursor() as cursor:
        if job_ids is not None:
            ids = list(job_ids)
            if ids:
                cursor.execute(
                    f"DELETE FROM {MEMBERS_TABLE} WHERE job_id IN ({', '.join(['%s'] * len(ids))})",
                    ids,
                )
            return
        keep = list(keep_job_ids or [])
        if keep:
            cursor.execute(f"DELETE FROM {MEMBERS_TABLE} WHERE job_id NOT IN ({', '.join(['%s'] * len(keep))})", keep)
        else:
            cursor.execute(f"DELETE FROM {MEMBERS_TABLE}")


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


def build_segment(segment: Segment, *, months: int | None = None, today: date | None = None) -> None:
    """Build all of one segment's parts in-process, membership frozen once, and write its rows whole."""
    win = window(months=months, today=today)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if is_everyone(segment):
            members = Members()
        else:
            ids_sql, ids_params = segment_customer_ids(segment).query.sql_with_params()
            cursor.execute(f"DROP TABLE IF EXISTS {TEMP_MEMBERS_TABLE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_MEMBERS_TABLE} AS {ids_sql}", ids_params)
            if connection.vendor == "postgresql":
                # Temporary tables are never auto-analysed; the planner needs the row count for its joins.
                cursor.execute(f"ANALYZE {TEMP_MEMBERS_TABLE}")
            members = Members(f"SELECT id FROM {TEMP_MEMBERS_TABLE}")
        drafts = {part: compute_part(segment, part, members=members, win=win, now=now) for part in PARTS}
        write_segment(segment, drafts)
        if not members.everyone:
            cursor.execute(f"DROP TABLE {TEMP_MEMBERS_TABLE}")


def compute_part(segment: Segment, part: str, *, members: Members, win: Window, now: datetime) -> dict:
    """Run one part's queries and return its results as a JSON-ready draft (no writes, no locks).

    The drafts of all PARTS together are what write_segment needs: the stocks draft carries the
    customer groups, the window's day and the computation time; the others their monthly figures."""
    if part == STOCKS:
        groups = _customer_groups(members, win.zone)
        return {
            "today": win.today.isoformat(),
            "months": len(win.starts),
            "at": now.isoformat(),
            "groups": [
                [g.acquired.isoformat(), g.churned.isoformat() if g.churned else None, g.count, g.acquired_days,
                 g.churned_days]
                for g in groups
            ],
        }  # fmt: skip
    if part == "ordering":
        ordering = _ordering_customers(members, win.zone, win.ws, win.we)
        return {"ordering": [[period, start.isoformat(), n] for (period, start), n in ordering.items()]}
    monthly = _flows(_flow_specs(part), members, win.zone, win.ws, win.we)
    return {
        "monthly": {
            month.isoformat(): {
                name: str(value) if isinstance(value, Decimal) else value for name, value in row.items()
            }
            for month, row in monthly.items()
        }
    }


FLOW_PARTS = ("surveys", "interactions", "orders", "events")
MONEY_FIELDS = ("revenue", "referred_revenue")


def write_segment(segment: Segment, drafts: dict[str, dict]) -> None:
    """Write the segment's period rows, cohort and lifespan cells whole from its parts' drafts, in one
    transaction: every column of every row in the window comes from these drafts, so the rows never mix
    two runs, and readers see the previous run's rows until the commit."""
    stocks = drafts[STOCKS]
    win = window(months=stocks["months"], today=date.fromisoformat(stocks["today"]))
    now = datetime.fromisoformat(stocks["at"])
    groups = [
        _Group(date.fromisoformat(a), date.fromisoformat(c) if c else None, n, ad, cd)
        for a, c, n, ad, cd in stocks["groups"]
    ]
    monthly: dict[date, dict[str, int | Decimal]] = defaultdict(dict)
    fields: list[str] = []
    for part in FLOW_PARTS:
        fields += [name for spec in _flow_specs(part) for name in spec.aggregates]
        for month, row in drafts.get(part, {}).get("monthly", {}).items():
            for name, value in row.items():
                monthly[date.fromisoformat(month)][name] = Decimal(value) if name in MONEY_FIELDS else int(value)
    ordering = {(p, date.fromisoformat(start)): n for p, start, n in drafts.get("ordering", {}).get("ordering", [])}
    member_count = sum(g.count for g in groups)
    rows = []
    for period, start, end in win.periods:
        row = SegmentSnapshot(
            segment=segment,
            period=period,
            period_start=start,
            period_end=end,
            member_count=member_count,
            ordering_customers=ordering.get((period, start), 0),
            computed_at=now,
        )
        _fill_stocks(row, groups, start, end, win.today)
        for name in fields:
            setattr(row, name, Decimal(0) if name in MONEY_FIELDS else 0)
        month = start
        while month < end and month < win.end:
            for name, value in monthly.get(month, {}).items():
                setattr(row, name, getattr(row, name) + value)
            month = next_month(month)
        rows.append(row)
    with transaction.atomic():
        SegmentSnapshot.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["segment", "period", "period_start"],
            update_fields=[*STOCK_FIELDS, "ordering_customers", *fields],
            batch_size=500,
        )
        CohortCell.objects.filter(segment=segment).delete()
        CohortCell.objects.bulk_create(_cohort_cells(segment, groups, win.starts, now), batch_size=1000)
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


def _customer_groups(members: Members, zone: ZoneInfo) -> list[_Group]:
    epoch = Value(EPOCH)
    rows = (
        members.only(Customer.objects.all(), "id")
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
    end, E = active at its end, lost = of S, churned in the period; so E − N = S − lost.

    "Active on day d" is customers.lifecycle's (acquired_at <= d < churned_at): with month-aligned
    periods, "acquired before `start` and not churned before it" is exactly active on start − 1 day,
    which is what the report's drill-down links filter on (metrics.drilldowns)."""
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
    by_cohort: dict[date, list[_Group]] = defaultdict(list)
    for g in groups:
        sizes[g.acquired] += g.count
        by_cohort[g.acquired].append(g)
    cells = []
    last = starts[-1]
    for index, cohort in enumerate(starts):
        size = sizes.get(cohort, 0)
        if not size:
            continue
        for since in range(len(starts) - index):
            # Active at the end of month cohort + since: not churned before the month after it, i.e.
            # active on that month's last day (customers.lifecycle; metrics.drilldowns.cohort_active_url).
            month_end = next_month(add_months(cohort, since))
            active = sum(g.count for g in by_cohort[cohort] if g.churned is None or g.churned >= month_end)
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
            if add_months(cohort, since) >= last:
                break
    return cells


def _duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


@dataclass(frozen=True)
class _Flow:
    """Monthly counts and sums of one table: rows of `model` (restricted by `where`) whose `member`
    column is a member, grouped by the month of `field`."""

    model: type
    member: str
    field: str
    aggregates: dict
    converters: dict = dataclass_field(default_factory=dict)
    where: Q = dataclass_field(default_factory=Q)


def _flow_specs(part: str) -> list[_Flow]:
    from surveys.models import Invitation, Response

    kind = EngagementEvent.Kind
    money = lambda v: Decimal(v or 0)  # noqa: E731
    specs = {
        "surveys": [
            _Flow(
                Response,
                "customer_id",
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
            ),
            # Response rate: of the invitations sent in a month, those answered (whenever). Counting answers
            # by the month they came in would put an invitation sent on 30 September and answered on
            # 2 October into October's numerator but September's denominator, and a month could show
            # more than 100 %.
            _Flow(
                Invitation,
                "customer_id",
                "sent_at",
                {"invitations": Count("id"), "answers": Count("response")},
                where=Q(sent_at__isnull=False),
            ),
        ],
        "interactions": [
            _Flow(
                Interaction,
                "customer_id",
                "opened_at",
                {
                    "interactions": Count("id"),
                    "first_response_count": Count("first_response_at"),
                    "first_response_seconds_sum": Sum(_duration("first_response_at", "opened_at")),
                    "resolved_count": Count("id", filter=Q(status="resolved")),
                    "resolution_seconds_sum": Sum(_duration("resolved_at", "opened_at"), filter=Q(status="resolved")),
                },
                {"first_response_seconds_sum": _seconds, "resolution_seconds_sum": _seconds},
            ),
        ],
        "orders": [
            _Flow(
                Order,
                "customer_id",
                "ordered_at",
                {
                    "orders": Count("id"),
                    # In the base currency (customers.money), never a sum of different currencies.
                    "revenue": Sum("amount_base"),
                    "referred_revenue": Sum("amount_base", filter=Q(referred_by__isnull=False)),
                },
                {"revenue": money, "referred_revenue": money},
            ),
        ],
        "events": [
            _Flow(
                EngagementEvent,
                "customer_id",
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
            ),
            _Flow(
                Referral,
                "referrer_id",
                "created_at",
                {"referrals": Count("id"), "referrals_converted": Count("converted_customer_id")},
            ),
        ],
    }
    return specs[part]


def _flows(
    specs: list[_Flow], members: Members, zone: ZoneInfo, ws: datetime, we: datetime
) -> dict[date, dict[str, int | Decimal]]:
    """Counts and sums of everything that happened in each month of the window."""
    out: dict[date, dict[str, int | Decimal]] = defaultdict(dict)
    for spec in specs:
        qs = members.only(spec.model.objects.filter(spec.where), spec.member)
        rows = (
            qs.filter(**{f"{spec.field}__gte": ws, f"{spec.field}__lt": we})
            .order_by()
            .annotate(period=TruncMonth(spec.field, tzinfo=zone))
            .values("period")
            .annotate(**spec.aggregates)
        )
        for r in rows:
            month = _month(r.pop("period"), zone)
            for name, value in r.items():
                convert = spec.converters.get(name)
                out[month][name] = convert(value) if convert else (value or 0)
    return out


def _ordering_customers(members: Members, zone: ZoneInfo, ws: datetime, we: datetime) -> dict[tuple[str, date], int]:
    """Distinct ordering customers per month, quarter and year (distinct counts do not add up)."""
    out: dict[tuple[str, date], int] = {}
    base = members.only(Order.objects.filter(ordered_at__gte=ws, ordered_at__lt=we)).order_by()
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
