"""Reads for the manager report pages: segment snapshots summed over months, figures derived from the sums.

Everything here reads the rows the metrics engine writes (SegmentSnapshot, CohortCell, RecomputeRun)
and never the raw data, except the latest detractor comments. Rates are always derived by
metrics.formulas from counts summed over the months of a period, never averaged.

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
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from customers.models import Segment
from customers.selectors import segment_customer_ids
from metrics import formulas
from metrics.models import CohortCell, LifespanCell, RecomputeRun, SegmentSnapshot
from metrics.snapshots import period_stocks
from surveys.models import Response, Survey

ALL_CUSTOMERS_SLUG = "all-customers"
DEFAULT_MONTHS = 13  # the last 12 complete months and the current one
MAX_MONTHS = 120
STALE_AFTER = timedelta(days=1)
COMMENTS_SHOWN = 10


class Group:
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CHOICES = [(MONTH, "Month"), (QUARTER, "Quarter"), (YEAR, "Year")]


# Months and periods -----------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_start(day: date) -> date:
    return day.replace(day=1)


def report_zone() -> ZoneInfo:
    """Reports count days and months in this one zone, whoever looks at them."""
    return ZoneInfo(settings.TIME_ZONE)


def report_today() -> date:
    return timezone.localdate(timezone=report_zone())


def parse_month(value: str) -> date:
    """ "2026-03" → date(2026, 3, 1); ValueError otherwise."""
    year, month = value.strip().split("-")
    if len(year) != 4 or len(month) != 2:
        raise ValueError(value)
    return date(int(year), int(month), 1)


@dataclass(frozen=True)
class MonthRange:
    """Whole calendar months (in settings.TIME_ZONE) from `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def default(cls, today: date | None = None) -> "MonthRange":
        current = month_start(today or report_today())
        return cls(add_months(current, -(DEFAULT_MONTHS - 1)), current)

    @property
    def end(self) -> date:
        """The first day after the range (exclusive end)."""
        return add_months(self.last, 1)

    @property
    def length(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def months(self) -> list[date]:
        return [add_months(self.first, i) for i in range(self.length)]

    def previous(self) -> "MonthRange":
        """The range of the same length just before this one."""
        return MonthRange(add_months(self.first, -self.length), add_months(self.first, -1))

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%b %Y}"
        return f"{self.first:%b %Y} – {self.last:%b %Y}"

    def query(self) -> dict[str, str]:
        return {"from": f"{self.first:%Y-%m}", "to": f"{self.last:%Y-%m}"}


def bucket_of(month: date, group: str) -> date:
    if group == Group.QUARTER:
        return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    if group == Group.YEAR:
        return date(month.year, 1, 1)
    return month


def bucket_label(start: date, group: str, months: "MonthRange | None" = None) -> str:
    """ "2026-03", "2026 Q1" or "2026"; a quarter or year the range only partly covers says so."""
    if group == Group.QUARTER:
        label = f"{start.year} Q{(start.month - 1) // 3 + 1}"
    elif group == Group.YEAR:
        label = str(start.year)
    else:
        return f"{start:%Y-%m}"
    length = 3 if group == Group.QUARTER else 12
    if months is not None and (start < months.first or add_months(start, length) > months.end):
        label += " (part)"
    return label


def period_presets(today: date | None = None) -> list[tuple[str, MonthRange, str]]:
    """Shortcuts of the period picker: (label, months, grouping), in settings.TIME_ZONE."""
    current = month_start(today or report_today())
    quarter = bucket_of(current, Group.QUARTER)
    year = date(current.year, 1, 1)
    return [
        ("Last 12 months and this one", MonthRange.default(current), Group.MONTH),
        ("This month", MonthRange(current, current), Group.MONTH),
        ("Last month", MonthRange(add_months(current, -1), add_months(current, -1)), Group.MONTH),
        ("This quarter", MonthRange(quarter, current), Group.MONTH),
        ("Last quarter", MonthRange(add_months(quarter, -3), add_months(quarter, -1)), Group.MONTH),
        ("This year", MonthRange(year, current), Group.MONTH),
        ("Last year", MonthRange(add_months(year, -12), add_months(year, -1)), Group.QUARTER),
        ("Three years by quarter", MonthRange(add_months(year, -24), current), Group.QUARTER),
    ]


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
    lifespans: Sequence[tuple[date, date | None, int]] | None = None,
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


# Figures ----------------------------------------------------------------------------------


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


def format_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value} %"
    if unit == "pts":
        return f"{value:+}" if value else "0"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "duration":
        return format_duration(int(value))
    return str(value)


def format_duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours / 24:.1f} days"


def format_delta(value: Decimal | None, previous: Decimal | None, unit: str) -> str:
    if value is None or previous is None:
        return ""
    delta = value - previous
    if unit == "duration":
        sign = "+" if delta >= 0 else "−"
        return f"{sign}{format_duration(abs(int(delta)))}"
    suffix = {"%": " pts", "pts": " pts"}.get(unit, "")
    if unit == "money":
        return f"{delta:+,.2f}"
    return f"{delta:+}{suffix}"


# Drill-down links -------------------------------------------------------------------------


def customers_url(segment: Segment, **params: str) -> str:
    query = {"segment": segment.slug, **{k: v for k, v in params.items() if v}}
    return f"{reverse('customers:list')}?{urlencode(query)}"


def customer_url(pk: int) -> str:
    """The customer profile (customers:detail, at /customers/<pk>/)."""
    try:
        return reverse("customers:detail", args=[pk])
    except NoReverseMatch:
        return f"/customers/{pk}/"


def acquired_in(first: date, end: date) -> dict[str, str]:
    """CustomerFilter params for customers acquired from `first` to the day before `end`."""
    return {"acquired_after": first.isoformat(), "acquired_before": (end - timedelta(days=1)).isoformat()}


def drill_links(segment: Segment, key: str) -> list[tuple[str, str]]:
    """Where the customers behind a KPI are: the customer list, filtered."""
    links = {
        "nps": [
            ("detractors", customers_url(segment, nps_category="detractor")),
            ("passives", customers_url(segment, nps_category="passive")),
            ("promoters", customers_url(segment, nps_category="promoter")),
        ],
        "retention": [("active customers", customers_url(segment, lifecycle_stage="active"))],
        "churn": [
            ("churned customers", customers_url(segment, lifecycle_stage="churned")),
            ("at high churn risk", customers_url(segment, churn_risk="high")),
        ],
    }
    return links.get(key, [("customers", customers_url(segment))])


# KPI cards --------------------------------------------------------------------------------


@dataclass
class Kpi:
    metric: Metric
    current: Figure
    previous: Figure
    benchmark: Figure | None
    links: list[tuple[str, str]]

    @property
    def text(self) -> str:
        return format_value(self.current.value, self.metric.unit)

    @property
    def previous_text(self) -> str:
        return format_value(self.previous.value, self.metric.unit)

    @property
    def benchmark_text(self) -> str:
        return format_value(self.benchmark.value, self.metric.unit) if self.benchmark else ""

    @property
    def margin_text(self) -> str:
        return f"± {self.current.margin}" if self.current.margin is not None else ""

    @property
    def delta_text(self) -> str:
        return format_delta(self.current.value, self.previous.value, self.metric.unit)

    @property
    def trend(self) -> str:
        """good, bad or flat: whether the change since the previous period is an improvement."""
        if self.current.value is None or self.previous.value is None or self.current.value == self.previous.value:
            return "flat"
        up = self.current.value > self.previous.value
        return "good" if up == self.metric.higher_is_better else "bad"


# Tables -----------------------------------------------------------------------------------


@dataclass
class Cell:
    value: Any  # written to CSV as is
    text: str = ""
    href: str = ""
    style: str = ""
    numeric: bool = True

    def __post_init__(self) -> None:
        if self.text:
            return
        if self.value is None:
            self.text = "—"
        elif isinstance(self.value, int):
            self.text = f"{self.value:,}"
        else:
            self.text = str(self.value)


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    row_header: bool = True  # the first cell of each row names it
    export_url: str = ""

    @property
    def columns(self) -> list[tuple[str, bool]]:
        """(header, numeric) pairs: numeric columns are right-aligned."""
        first = self.rows[0] if self.rows else []
        return [(h, i > 0 and (i >= len(first) or first[i].numeric)) for i, h in enumerate(self.headers)]

    def csv_rows(self) -> list[list[Any]]:
        return [[cell.value for cell in row] for row in self.rows]


def text_cell(value: str, href: str = "") -> Cell:
    return Cell(value, value, href, numeric=False)


def _num(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


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


def latest_run() -> RecomputeRun | None:
    return RecomputeRun.objects.select_related("started_by").first()


def run_is_active(run: RecomputeRun | None) -> bool:
    return run is not None and run.status in (RecomputeRun.Status.RUNNING, RecomputeRun.Status.SNAPSHOTTING)


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


# The segment report -----------------------------------------------------------------------


@dataclass
class SegmentReport:
    segment: Segment
    months: MonthRange
    group: str
    kpis: list[Kpi]
    tables: dict[str, Table]
    charts: list[dict[str, Any]]
    cohort: Table
    comments: list[Response]
    freshness: Freshness
    has_snapshots: bool
    is_overview: bool

    @property
    def previous(self) -> MonthRange:
        return self.months.previous()


def buckets(
    snapshots: list[SegmentSnapshot],
    months: MonthRange,
    group: str,
    lifespans: Sequence[tuple[date, date | None, int]] | None = None,
) -> list[tuple[date, Totals]]:
    """(bucket start, totals) for each month/quarter/year of the range, empty buckets included."""
    by_bucket: dict[date, list[SegmentSnapshot]] = {bucket_of(m, group): [] for m in months.months}
    for snapshot in snapshots:
        by_bucket[bucket_of(snapshot.period_start, group)].append(snapshot)
    return [
        (start, sum_snapshots(rows, lifespans, (start, bucket_end(start, group, months))))
        for start, rows in by_bucket.items()
    ]


def bucket_end(start: date, group: str, months: MonthRange) -> date:
    length = {Group.QUARTER: 3, Group.YEAR: 12}.get(group, 1)
    return min(add_months(start, length), months.end)


def segment_report(*, segment: Segment, months: MonthRange, group: str = Group.MONTH) -> SegmentReport:
    """Everything a segment's report page shows, with a fixed number of queries."""
    overview = segment.slug == ALL_CUSTOMERS_SLUG
    everyone = segment if overview else all_customers_segment()
    previous = months.previous()
    rows = snapshots_by_segment([segment.pk, everyone.pk], previous.first, months.end)
    mine = rows.get(segment.pk, [])
    lifespans = lifespans_by_segment([segment.pk, everyone.pk])
    current = sum_snapshots(in_range(mine, months), lifespans.get(segment.pk), (months.first, months.end))
    before = sum_snapshots(in_range(mine, previous), lifespans.get(segment.pk), (previous.first, previous.end))
    theirs = sum_snapshots(
        in_range(rows.get(everyone.pk, []), months), lifespans.get(everyone.pk), (months.first, months.end)
    )
    now_figures, before_figures, all_figures = figures(current), figures(before), figures(theirs)
    kpis = [
        Kpi(
            metric,
            now_figures[metric.key],
            before_figures[metric.key],
            None if overview else all_figures[metric.key],
            drill_links(segment, metric.key),
        )
        for metric in METRICS
    ]
    series = buckets(in_range(mine, months), months, group, lifespans.get(segment.pk))
    tables = trend_tables(segment, series, group, months)
    tables["kpis"] = kpi_table(kpis, overview)
    cohort = cohort_table(segment, months)
    tables["cohorts"] = cohort
    comments = detractor_comments(segment, months)
    tables["comments"] = comments_table(comments)
    if mine:
        computed_at = current.computed_at or max(s.computed_at for s in mine)
    else:
        # A range before (or after) the data has no rows, yet the segment may well be computed: say when.
        computed_at = SegmentSnapshot.objects.filter(segment=segment).aggregate(at=Max("computed_at"))["at"]
    return SegmentReport(
        segment=segment,
        months=months,
        group=group,
        kpis=kpis,
        tables=tables,
        charts=trend_charts(series, group, months),
        cohort=cohort,
        comments=comments,
        freshness=Freshness(computed_at),
        has_snapshots=computed_at is not None,
        is_overview=overview,
    )


def kpi_table(kpis: list[Kpi], overview: bool) -> Table:
    headers = ["Metric", "Value", "n", "Margin of error", "Previous period", "Change"]
    if not overview:
        headers.append("All customers")
    rows = []
    for kpi in kpis:
        row = [
            text_cell(kpi.metric.label),
            Cell(kpi.current.value, kpi.text, kpi.links[0][1]),
            Cell(kpi.current.n),
            Cell(kpi.current.margin),
            Cell(kpi.previous.value, kpi.previous_text),
            Cell(
                (kpi.current.value - kpi.previous.value)
                if kpi.current.value is not None and kpi.previous.value is not None
                else None,
                kpi.delta_text or "—",
            ),
        ]
        if not overview:
            row.append(Cell(kpi.benchmark.value if kpi.benchmark else None, kpi.benchmark_text))
        rows.append(row)
    return Table("kpis", "Key figures", headers, rows)


def trend_tables(segment: Segment, series: list[tuple[date, Totals]], group: str, months: MonthRange) -> dict:
    """One table per chart, each cell linking to the customers behind it."""
    seg_link = customers_url(segment)
    nps, csat, ces, retention, revenue, distribution = [], [], [], [], [], []
    for start, t in series:
        f = figures(t)
        label = bucket_label(start, group, months)
        end = bucket_end(start, group, months)
        label_cell = text_cell(label)
        nps.append(
            [
                label_cell,
                Cell(f["nps"].value, href=seg_link),
                Cell(f["nps"].margin),
                Cell(t.nps_n if t.months else None),
            ]
        )
        csat.append(
            [
                label_cell,
                Cell(f["csat"].value, href=seg_link),
                Cell(formulas.quantize(formulas.mean(t.csat_sum, t.csat_count), "0.01")),
                Cell(t.csat_count if t.months else None),
            ]
        )
        ces.append(
            [
                label_cell,
                Cell(f["ces"].value, href=seg_link),
                Cell(formulas.quantize(formulas.ces_easy_share(t.ces_easy, t.ces_count))),
                Cell(t.ces_count if t.months else None),
            ]
        )
        blank = not t.months
        retention.append(
            [
                label_cell,
                Cell(None if blank else t.customers_start),
                Cell(None if blank else t.customers_new, href=customers_url(segment, **acquired_in(start, end))),
                Cell(None if blank else t.customers_end, href=customers_url(segment, lifecycle_stage="active")),
                Cell(None if blank else t.customers_lost, href=customers_url(segment, lifecycle_stage="churned")),
                Cell(f["retention"].value),
                Cell(f["churn"].value),
                Cell(formulas.quantize(formulas.net_growth_rate(t.customers_start, t.customers_end))),
            ]
        )
        revenue.append(
            [
                label_cell,
                Cell(None if blank else t.revenue, f"{t.revenue:,.2f}" if not blank else "—", seg_link),
                Cell(None if blank else t.orders, href=seg_link),
                Cell(f["aov"].value, format_value(f["aov"].value, "money")),
                Cell(None if blank else t.referred_revenue, f"{t.referred_revenue:,.2f}" if not blank else "—"),
            ]
        )
        distribution.append(
            [
                label_cell,
                Cell(None if blank else t.promoters, href=customers_url(segment, nps_category="promoter")),
                Cell(None if blank else t.passives, href=customers_url(segment, nps_category="passive")),
                Cell(None if blank else t.detractors, href=customers_url(segment, nps_category="detractor")),
                Cell(formulas.quantize(formulas._ratio_percent(t.promoters, t.nps_n))),
                Cell(formulas.quantize(formulas._ratio_percent(t.detractors, t.nps_n))),
            ]
        )
    # Figures without a narrower filter link to the segment's customers.
    for table_rows in (nps, csat, ces, retention, revenue, distribution):
        for row in table_rows:
            for cell in row[1:]:
                cell.href = cell.href or seg_link
    period = dict(Group.CHOICES)[group]
    return {
        "nps": Table("nps", "NPS", [period, "NPS", "Margin of error (±)", "Answers"], nps),
        "csat": Table("csat", "CSAT", [period, "CSAT %", "Mean (1–5)", "Answers"], csat),
        "ces": Table("ces", "CES", [period, "CES mean (1–7)", "% easy (5–7)", "Answers"], ces),
        "retention": Table(
            "retention",
            "Retention and churn",
            [period, "S (start)", "N (new)", "E (end)", "Lost", "Retention %", "Churn %", "Net growth %"],
            retention,
        ),
        "revenue": Table(
            "revenue", "Revenue", [period, "Revenue", "Orders", "Average order value", "Referred revenue"], revenue
        ),
        "nps-distribution": Table(
            "nps-distribution",
            "NPS distribution",
            [period, "Promoters", "Passives", "Detractors", "% promoters", "% detractors"],
            distribution,
        ),
    }


def trend_charts(series: list[tuple[date, Totals]], group: str, months: MonthRange) -> list[dict[str, Any]]:
    """Chart.js data, rendered by static/js/reports.js from json_script tags."""
    labels = [bucket_label(start, group, months) for start, _ in series]
    f = [figures(t) for _, t in series]
    totals = [t for _, t in series]

    def values(key: str) -> list[float | None]:
        return [_num(x[key].value) for x in f]

    charts = [
        {
            "id": "nps",
            "title": "NPS",
            "type": "line",
            "labels": labels,
            "datasets": [{"label": "NPS", "data": values("nps")}],
            "y": {"min": -100, "max": 100, "title": "NPS points"},
        },
        {
            "id": "csat",
            "title": "CSAT",
            "type": "line",
            "labels": labels,
            "datasets": [{"label": "CSAT %", "data": values("csat")}],
            "y": {"min": 0, "max": 100, "title": "% satisfied (4–5)"},
        },
        {
            "id": "ces",
            "title": "CES",
            "type": "line",
            "labels": labels,
            "datasets": [{"label": "CES mean", "data": values("ces")}],
            "y": {"min": 1, "max": 7, "title": "Mean (1–7)"},
        },
        {
            "id": "retention",
            "title": "Retention and churn",
            "type": "line",
            "labels": labels,
            "datasets": [
                {"label": "Retention %", "data": values("retention")},
                {"label": "Churn %", "data": values("churn")},
            ],
            "y": {"min": 0, "max": 100, "title": "% of customers at start"},
        },
        {
            "id": "revenue",
            "title": "Revenue",
            "type": "bar",
            "labels": labels,
            "datasets": [{"label": "Revenue", "data": [float(t.revenue) if t.months else None for t in totals]}],
            "y": {"min": 0, "title": "Revenue"},
        },
        {
            "id": "nps-distribution",
            "title": "NPS distribution",
            "type": "bar",
            "stacked": True,
            "labels": labels,
            "datasets": [
                {"label": "Promoters", "data": [t.promoters for t in totals], "color": "#137a3a"},
                {"label": "Passives", "data": [t.passives for t in totals], "color": "#9aa3b2"},
                {"label": "Detractors", "data": [t.detractors for t in totals], "color": "#b3261e"},
            ],
            "y": {"min": 0, "title": "Answers"},
        },
    ]
    return [with_script_id(chart) for chart in charts]


def with_script_id(chart: dict[str, Any]) -> dict[str, Any]:
    """The id of the json_script tag that carries the chart's data to the page."""
    return {**chart, "script_id": f"chart-data-{chart['id']}"}


# Cohorts ----------------------------------------------------------------------------------


def cohort_table(segment: Segment, months: MonthRange) -> Table:
    """Customers acquired in each month of the range, and the share still active 0, 1, 2 … months later."""
    cells = CohortCell.objects.filter(
        segment=segment, cohort_month__gte=months.first, cohort_month__lt=months.end
    ).order_by("cohort_month", "months_since")
    by_cohort: dict[date, dict[int, CohortCell]] = defaultdict(dict)
    for cell in cells:
        by_cohort[cell.cohort_month][cell.months_since] = cell
    width = max((max(row) for row in by_cohort.values()), default=-1) + 1
    rows = []
    for cohort_month, row in sorted(by_cohort.items()):
        size = next(iter(row.values())).cohort_size
        acquired = acquired_in(cohort_month, add_months(cohort_month, 1))
        still_active = customers_url(segment, **acquired, lifecycle_stage="active")
        out = [text_cell(f"{cohort_month:%Y-%m}"), Cell(size, href=customers_url(segment, **acquired))]
        for since in range(width):
            cell = row.get(since)
            share = formulas.quantize(formulas._ratio_percent(cell.active, cell.cohort_size)) if cell else None
            if share is None:
                out.append(Cell(None, "", style=""))
                continue
            alpha = float(share) / 100
            colour = "#fff" if alpha > 0.55 else "#1d2330"
            out.append(
                Cell(
                    share,
                    f"{share} %",
                    still_active,
                    style=f"background-color: rgba(36, 87, 214, {alpha:.2f}); color: {colour}",
                )
            )
        rows.append(out)
    headers = ["Cohort (month acquired)", "Customers", *[f"Month {i}" for i in range(width)]]
    return Table(
        "cohorts",
        "Cohort retention",
        headers,
        rows,
        caption="Share of each month's new customers still active n months later (active / cohort size).",
    )


# Detractor comments -----------------------------------------------------------------------


def detractor_q() -> Q:
    """Answers at or below each survey kind's detractor threshold (NPS ≤ 6, CSAT ≤ 2, CES ≤ 3)."""
    q = Q()
    for kind, highest in Survey.DETRACTOR_MAX.items():
        q |= Q(kind=kind, score__lte=highest)
    return q


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=report_zone())


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


def comments_table(comments: list[Response]) -> Table:
    rows = [
        [
            text_cell(timezone.localtime(r.submitted_at, report_zone()).strftime("%Y-%m-%d %H:%M")),
            text_cell(r.customer.name, customer_url(r.customer_id)),
            text_cell(r.get_kind_display()),
            Cell(r.score),
            text_cell(r.comment),
        ]
        for r in comments
    ]
    return Table("comments", "Latest detractor comments", ["Answered", "Customer", "Survey", "Score", "Comment"], rows)


# Comparing segments -----------------------------------------------------------------------

MAX_COMPARED = 8
COMPARED = ["nps", "csat", "ces", "response_rate", "retention", "churn", "ctr", "engagement"]


@dataclass
class Comparison:
    segments: list[Segment]
    months: MonthRange
    figures: dict[int, dict[str, Figure]]
    table: Table
    chart: dict[str, Any]
    trend_chart: dict[str, Any]
    freshness: Freshness


def comparison(*, segments: list[Segment], months: MonthRange) -> Comparison:
    """Side-by-side figures of two or more segments (and all customers) over one range: one snapshot query."""
    everyone = next((s for s in segments if s.slug == ALL_CUSTOMERS_SLUG), None) or all_customers_segment()
    shown = [*segments, everyone] if everyone not in segments else segments
    rows = snapshots_by_segment([s.pk for s in shown], months.first, months.end)
    lifespans = lifespans_by_segment([s.pk for s in shown])
    period = (months.first, months.end)
    per_segment = {s.pk: figures(sum_snapshots(rows.get(s.pk, []), lifespans.get(s.pk), period)) for s in shown}
    table_rows = []
    for key in [m.key for m in METRICS]:
        metric = METRICS_BY_KEY[key]
        row = [text_cell(metric.label)]
        for s in shown:
            fig = per_segment[s.pk][key]
            text = format_value(fig.value, metric.unit)
            if fig.value is not None and fig.margin is not None:
                text = f"{text} ± {fig.margin}"
            if fig.value is not None and fig.n is not None:
                text = f"{text} (n = {fig.n:,})"
            row.append(Cell(fig.value, text, drill_links(s, key)[0][1]))
        table_rows.append(row)
    table = Table("comparison", "Segments side by side", ["Metric", *[s.name for s in shown]], table_rows)
    chart = {
        "id": "comparison",
        "title": "Segments side by side",
        "type": "bar",
        "horizontal": True,
        "labels": [METRICS_BY_KEY[k].label + (" (pts)" if k == "nps" else " %") for k in COMPARED if k != "ces"],
        "datasets": [
            {"label": s.name, "data": [_num(per_segment[s.pk][k].value) for k in COMPARED if k != "ces"]} for s in shown
        ],
        "y": {"title": "% or NPS points"},
    }
    labels = [f"{m:%Y-%m}" for m in months.months]
    trend_datasets = []
    for s in shown:
        by_month = {snap.period_start: snap for snap in rows.get(s.pk, [])}
        data = []
        for m in months.months:
            snap = by_month.get(m)
            value = formulas.nps(snap.promoters, snap.passives, snap.detractors) if snap else None
            data.append(_num(formulas.quantize(value)))
        trend_datasets.append({"label": s.name, "data": data})
    trend = {
        "id": "comparison-nps",
        "title": "NPS by month",
        "type": "line",
        "labels": labels,
        "datasets": trend_datasets,
        "y": {"min": -100, "max": 100, "title": "NPS points"},
    }
    computed = [snap.computed_at for group in rows.values() for snap in group]
    chart, trend = with_script_id(chart), with_script_id(trend)
    return Comparison(shown, months, per_segment, table, chart, trend, Freshness(max(computed) if computed else None))


# Segment list -----------------------------------------------------------------------------


def segments_for_list() -> QuerySet[Segment]:
    """Segments with their latest snapshot's member count and time: one query (subqueries)."""
    # Served by the snapshot_one_per_period unique index (segment, period, period_start).
    latest = SegmentSnapshot.objects.filter(segment=OuterRef("pk"), period=SegmentSnapshot.Period.MONTH).order_by(
        "-period_start"
    )
    return Segment.objects.select_related("created_by").annotate(
        last_member_count=Subquery(latest.values("member_count")[:1]),
        last_computed_at=Subquery(latest.values("computed_at")[:1]),
    )
