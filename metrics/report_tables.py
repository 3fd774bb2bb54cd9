"""The tables of a segment report: key figures, one per chart, cohorts and detractor comments; each cell
links to the customers behind it."""

from collections import defaultdict
from datetime import date

from core.calendar import Group, MonthRange, bucket_end, bucket_label
from core.formats import format_datetime, format_money
from customers.models import Segment
from metrics import drilldowns as links
from metrics.catalogue import cohort_share, figures, rate
from metrics.drilldowns import customer_url, customers_url
from metrics.models import CohortCell
from metrics.presenters import Cell, Kpi, Table, format_value, text_cell
from metrics.report_selectors import Totals, cohort_cells
from surveys.models import Response


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
    """One table per chart; each count links to a list of exactly the rows or customers it counts
    (metrics.drilldowns), each rate to the list its base counts."""
    seg_link = customers_url(segment)
    nps, csat, ces, retention, revenue, distribution = [], [], [], [], [], []
    for start, t in series:
        f = figures(t)
        label = bucket_label(start, group, months)
        end = bucket_end(start, group, months)
        label_cell = text_cell(label)
        answers = {kind: links.answers_url(segment, start, end, kind=kind) for kind in ("nps", "csat", "ces")}
        bands = {band: links.nps_band_url(segment, start, end, band) for band in links.NPS_BANDS}
        orders = links.orders_url(segment, start, end)
        nps.append(
            [
                label_cell,
                Cell(f["nps"].value, href=answers["nps"]),
                Cell(f["nps"].margin),
                Cell(t.nps_n if t.months else None, href=answers["nps"]),
            ]
        )
        csat.append(
            [
                label_cell,
                Cell(f["csat"].value, href=answers["csat"]),
                Cell(rate("csat_average", t), href=answers["csat"]),
                Cell(t.csat_count if t.months else None, href=answers["csat"]),
            ]
        )
        ces.append(
            [
                label_cell,
                Cell(f["ces"].value, href=answers["ces"]),
                Cell(rate("ces_easy_percent", t), href=answers["ces"]),
                Cell(t.ces_count if t.months else None, href=answers["ces"]),
            ]
        )
        blank = not t.months
        retention.append(
            [
                label_cell,
                Cell(None if blank else t.customers_start, href=links.start_customers_url(segment, start)),
                Cell(None if blank else t.customers_new, href=links.new_customers_url(segment, start, end)),
                Cell(None if blank else t.customers_end, href=links.end_customers_url(segment, end)),
                Cell(None if blank else t.customers_lost, href=links.lost_customers_url(segment, start, end)),
                Cell(f["retention"].value, href=links.start_customers_url(segment, start)),
                Cell(f["churn"].value, href=links.lost_customers_url(segment, start, end)),
                Cell(rate("net_growth_rate_percent", t)),
            ]
        )
        revenue.append(
            [
                label_cell,
                Cell(None if blank else t.revenue, format_money(t.revenue) if not blank else "—", orders),
                Cell(None if blank else t.orders, href=orders),
                Cell(f["aov"].value, format_value(f["aov"].value, "money"), orders),
                Cell(None if blank else t.referred_revenue, format_money(t.referred_revenue) if not blank else "—"),
            ]
        )
        distribution.append(
            [
                label_cell,
                Cell(None if blank else t.promoters, href=bands["promoters"]),
                Cell(None if blank else t.passives, href=bands["passives"]),
                Cell(None if blank else t.detractors, href=bands["detractors"]),
                Cell(rate("promoters_percent", t), href=bands["promoters"]),
                Cell(rate("detractors_percent", t), href=bands["detractors"]),
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


def cohort_table(segment: Segment, months: MonthRange) -> Table:
    """Customers acquired in each month of the range, and the share still active 0, 1, 2 … months later."""
    cells = cohort_cells(segment, months)
    by_cohort: dict[date, dict[int, CohortCell]] = defaultdict(dict)
    for cell in cells:
        by_cohort[cell.cohort_month][cell.months_since] = cell
    width = max((max(row) for row in by_cohort.values()), default=-1) + 1
    rows = []
    for cohort_month, row in sorted(by_cohort.items()):
        size = next(iter(row.values())).cohort_size
        out = [text_cell(f"{cohort_month:%Y-%m}"), Cell(size, href=links.cohort_size_url(segment, cohort_month))]
        for since in range(width):
            cell = row.get(since)
            share = cohort_share(cell.active, cell.cohort_size) if cell else None
            if share is None:
                out.append(Cell(None, "", style=""))
                continue
            alpha = float(share) / 100
            colour = "#fff" if alpha > 0.55 else "#1d2330"
            out.append(
                Cell(
                    share,
                    f"{share} %",
                    # Exactly the customers the cell counts: acquired in the month, active at the end of month k.
                    links.cohort_active_url(segment, cohort_month, since),
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


def comments_table(comments: list[Response]) -> Table:
    rows = [
        [
            text_cell(format_datetime(r.submitted_at)),
            text_cell(r.customer.name, customer_url(r.customer_id)),
            text_cell(r.get_kind_display()),
            Cell(r.score),
            text_cell(r.comment),
        ]
        for r in comments
    ]
    return Table("comments", "Latest detractor comments", ["Answered", "Customer", "Survey", "Score", "Comment"], rows)
