"""The manager report pages' content: a segment's report, the comparison of segments, the segment list.

Assembled from the pieces: core.calendar (months, ranges, buckets), metrics.report_selectors (snapshot reads
and the sums of a period's months), metrics.catalogue (every KPI, defined once), metrics.presenters and
metrics.report_tables (cells, tables, charts) and metrics.drilldowns (links to the customers behind a figure).
Everything reads the rows the metrics engine writes, never the raw data, except the latest detractor comments.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Max, OuterRef, QuerySet, Subquery

from core.calendar import Group, MonthRange
from customers.models import Segment
from metrics.catalogue import METRICS, METRICS_BY_KEY, Figure, figures, rate
from metrics.models import SegmentSnapshot
from metrics.presenters import Cell, Kpi, Table, chart_number, format_value, text_cell, trend_charts, with_script_id
from metrics.report_selectors import (
    ALL_CUSTOMERS_SLUG,
    Freshness,
    Totals,
    all_customers_segment,
    buckets,
    detractor_comments,
    in_range,
    lifespans_by_segment,
    snapshots_by_segment,
    sum_snapshots,
)
from metrics.report_tables import cohort_table, comments_table, kpi_table, trend_tables
from surveys.models import Response

MAX_MONTHS = 120


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
    # Why some months of the range (or of the previous period) have no figures; empty when all are computed.
    coverage_notes: list[str] = field(default_factory=list)

    @property
    def previous(self) -> MonthRange:
        return self.months.previous()


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
    first_data = min((acquired for acquired, _churned, _n in lifespans.get(segment.pk, [])), default=None)
    notes, previous_complete = coverage(months, previous, {s.period_start for s in mine}, first_data)
    if not previous_complete:
        before = Totals()  # a change against part of a period would be wrong: show none
    now_figures, before_figures, all_figures = figures(current), figures(before), figures(theirs)
    kpis = [
        Kpi(
            metric,
            now_figures[metric.key],
            before_figures[metric.key],
            None if overview else all_figures[metric.key],
            metric.links(segment, months.first, months.end),
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
        coverage_notes=notes,
    )


def _span(months: list[date]) -> str:
    return f"{months[0]:%b %Y}" if len(months) == 1 else f"{months[0]:%b %Y} – {months[-1]:%b %Y}"


def coverage(
    months: MonthRange, previous: MonthRange, computed: set[date], first_data: date | None
) -> tuple[list[str], bool]:
    """Notes on the months of the range without figures, and whether the previous period is complete.

    Months before the segment's first customer (`first_data`, from its lifespan groups) have nothing to
    count; later months without a snapshot are not computed yet (the next recompute builds every month
    with data). The previous period counts as complete when every one of its months from `first_data` on
    is computed; without lifespan groups (never computed by the engine) it is taken as it is."""
    notes = []
    missing = [m for m in months.months if m not in computed]
    before = [m for m in missing if first_data is not None and m < first_data]
    pending = [m for m in missing if m not in before]
    if len(missing) == months.length and first_data is None:
        return notes, True  # nothing computed at all: the page's empty state says so
    if before:
        notes.append(
            f"No figures for {_span(before)}: the segment's first customer was acquired in {first_data:%b %Y}, "
            "so there is nothing to count before it."
        )
    if pending:
        notes.append(
            f"No figures for {_span(pending)} yet: these months are not computed; the next recompute includes "
            "every month with data."
        )
    if first_data is None:
        return notes, True
    incomplete = [m for m in previous.months if m >= first_data and m not in computed]
    if incomplete:
        notes.append(
            f"The previous period ({previous.label}) is not fully computed ({_span(incomplete)} missing), so no "
            "change against it is shown."
        )
    return notes, not incomplete


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
            row.append(Cell(fig.value, text, metric.links(s, months.first, months.end)[0][1]))
        table_rows.append(row)
    table = Table("comparison", "Segments side by side", ["Metric", *[s.name for s in shown]], table_rows)
    chart = {
        "id": "comparison",
        "title": "Segments side by side",
        "type": "bar",
        "horizontal": True,
        "labels": [METRICS_BY_KEY[k].label + (" (pts)" if k == "nps" else " %") for k in COMPARED if k != "ces"],
        "datasets": [
            {"label": s.name, "data": [chart_number(per_segment[s.pk][k].value) for k in COMPARED if k != "ces"]}
            for s in shown
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
            data.append(chart_number(rate("nps", sum_snapshots([snap])) if snap else None))
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
