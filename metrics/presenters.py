"""How report figures are shown: cells and tables (HTML and CSV), value and change formatting, KPI cards,
chart data for static/js/reports.js."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.calendar import MonthRange, bucket_label
from core.formats import format_duration, format_money
from metrics.catalogue import Figure, Metric, figures
from metrics.report_selectors import Totals

# Values and changes -----------------------------------------------------------------------


def format_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value} %"
    if unit == "pts":
        return f"{value:+}" if value else "0"
    if unit == "money":
        return format_money(value)
    if unit == "duration":
        return format_duration(int(value))
    return str(value)


def format_delta(value: Decimal | None, previous: Decimal | None, unit: str) -> str:
    if value is None or previous is None:
        return ""
    delta = value - previous
    if unit == "duration":
        sign = "+" if delta >= 0 else "−"
        return f"{sign}{format_duration(abs(int(delta)))}"
    suffix = {"%": " pts", "pts": " pts"}.get(unit, "")
    if unit == "money":
        return f"{'+' if delta >= 0 else '−'}{format_money(abs(delta))}"
    return f"{delta:+}{suffix}"


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


def chart_number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


# Charts -------------------------------------------------------------------------------------


def trend_charts(series: list[tuple[date, Totals]], group: str, months: MonthRange) -> list[dict[str, Any]]:
    """Chart.js data, rendered by static/js/reports.js from json_script tags."""
    labels = [bucket_label(start, group, months) for start, _ in series]
    f = [figures(t) for _, t in series]
    totals = [t for _, t in series]

    def values(key: str) -> list[float | None]:
        return [chart_number(x[key].value) for x in f]

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
