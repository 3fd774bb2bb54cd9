"""Every count of a report links to a list of exactly that many rows, for the same segment and period.

The history below is built with the factories, the snapshots with the engine; each test reads a figure
the way the report does (snapshots summed over the period with the lifespan groups, cohort cells), follows
the drill-down link with a staff client and counts the list's rows. The period is a quarter (longer than
a month) with customers who arrive, churn on its first and last days, and come and go inside it.
"""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.calendar import Group, MonthRange
from customers.models import Segment
from metrics import drilldowns
from metrics.models import CohortCell, LifespanCell, SegmentSnapshot
from metrics.reports import segment_report
from metrics.snapshots import build_segment, period_stocks
from tests.customers.factories import CustomerFactory, InteractionFactory, OrderFactory, SegmentFactory
from tests.metrics.factories import answer

pytestmark = pytest.mark.django_db
BANGKOK = ZoneInfo("Asia/Bangkok")
FIRST, END = date(2026, 1, 1), date(2026, 4, 1)  # Q1 2026: [first, end)
TODAY = date(2026, 5, 20)


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BANGKOK)


def rows_behind(client, url: str) -> int:
    """The number of rows the list at `url` says it has (customer list or a list of rows)."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert "Some filters are not valid" not in html, url
    found = re.search(r'data-row-count="(\d+)"', html) or re.search(r"<strong>([\d,]+)</strong> customer", html)
    assert found, url
    return int(found.group(1).replace(",", ""))


@pytest.fixture
def thai() -> Segment:
    """A segment of Thai customers with a quarter of history, and Malaysian customers around it."""
    lifespans = [
        (date(2025, 6, 10), None),  # in S, stays: in E
        (date(2025, 6, 10), date(2026, 2, 15)),  # in S, lost in February
        (date(2025, 12, 31), date(2026, 1, 1)),  # active on 31 December only: in S, lost on the first day
        (date(2025, 11, 1), date(2025, 12, 31)),  # churned the day before: not in S
        (date(2026, 1, 20), date(2026, 3, 5)),  # came and went: in neither S nor E nor lost
        (date(2026, 2, 3), None),  # new and still there: N
        (date(2026, 3, 31), None),  # acquired on the last day: N and E
        (date(2026, 1, 5), date(2026, 3, 31)),  # churned on the last day: not in E, not N
        (date(2025, 3, 1), date(2026, 3, 31)),  # in S, lost on the last day
        (date(2026, 4, 1), None),  # after the period
    ]
    for country in ("TH", "MY"):
        for acquired, churned in lifespans:
            CustomerFactory(country=country, acquired_at=acquired, churned_at=churned)
    segment = SegmentFactory(slug="thai", filter_params={"country": "TH"})
    build_segment(segment, months=12, today=TODAY)
    return segment


def quarter_stocks(segment: Segment) -> tuple[int, int, int, int]:
    groups = [(g.acquired_month, g.churned_month, g.customers) for g in LifespanCell.objects.filter(segment=segment)]
    return period_stocks(groups, FIRST, END)


def month_snapshot(segment: Segment, month: date) -> SegmentSnapshot:
    return SegmentSnapshot.objects.get(segment=segment, period="month", period_start=month)


def test_s_n_e_and_lost_of_a_quarter_link_to_exactly_those_customers(manager_client, thai):
    s, n, e, lost = quarter_stocks(thai)
    assert (s, n, e, lost) == (4, 2, 3, 3)  # E − N = S − lost
    assert rows_behind(manager_client, drilldowns.start_customers_url(thai, FIRST)) == s
    assert rows_behind(manager_client, drilldowns.new_customers_url(thai, FIRST, END)) == n
    assert rows_behind(manager_client, drilldowns.end_customers_url(thai, END)) == e
    assert rows_behind(manager_client, drilldowns.lost_customers_url(thai, FIRST, END)) == lost


@pytest.mark.parametrize("month", [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)])
def test_each_months_stocks_link_exactly(manager_client, thai, month):
    snap = month_snapshot(thai, month)
    end = snap.period_end
    assert rows_behind(manager_client, drilldowns.start_customers_url(thai, month)) == snap.customers_start
    assert rows_behind(manager_client, drilldowns.new_customers_url(thai, month, end)) == snap.customers_new
    assert rows_behind(manager_client, drilldowns.end_customers_url(thai, end)) == snap.customers_end
    assert rows_behind(manager_client, drilldowns.lost_customers_url(thai, month, end)) == snap.customers_lost


def test_every_cohort_cell_links_to_the_customers_it_counts(manager_client, thai):
    cells = list(CohortCell.objects.filter(segment=thai, cohort_month__gte=date(2025, 6, 1)))
    assert len(cells) > 10
    assert any(cell.active < cell.cohort_size for cell in cells)
    for cell in cells:
        url = drilldowns.cohort_active_url(thai, cell.cohort_month, cell.months_since)
        assert rows_behind(manager_client, url) == cell.active, (cell.cohort_month, cell.months_since)
        assert rows_behind(manager_client, drilldowns.cohort_size_url(thai, cell.cohort_month)) == cell.cohort_size


@pytest.fixture
def answers(thai) -> Segment:
    from customers.models import Customer

    th = list(Customer.objects.filter(country="TH").order_by("id"))
    my = Customer.objects.filter(country="MY").first()
    answer(th[0], "nps", 10, at(2026, 1, 1, 0, 10))  # first minutes of the period in Bangkok
    answer(th[0], "nps", 2, at(2026, 4, 1, 0, 30))  # after it (31 March in UTC): its latest answer of all time
    answer(th[1], "nps", 9, at(2026, 3, 31, 23, 50))  # last minutes of the period
    answer(th[1], "nps", 8, at(2026, 2, 10))
    answer(th[2], "nps", 7, at(2026, 2, 11))
    answer(th[2], "nps", 6, at(2026, 3, 1))
    answer(th[3], "nps", 0, at(2025, 12, 31, 23, 59))  # before it
    answer(th[3], "csat", 2, at(2026, 2, 1))
    answer(th[4], "ces", 6, at(2026, 2, 1))
    answer(my, "nps", 3, at(2026, 2, 1))  # another segment
    build_segment(thai, months=12, today=TODAY)
    return thai


def quarter_sum(segment: Segment, field: str) -> int:
    return sum(
        getattr(month_snapshot(segment, m), field) for m in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
    )


@pytest.mark.parametrize(("band", "expected"), [("promoters", 2), ("passives", 2), ("detractors", 1)])
def test_promoters_passives_and_detractors_link_to_the_periods_answers(manager_client, answers, band, expected):
    figure = quarter_sum(answers, band)
    assert figure == expected
    assert rows_behind(manager_client, drilldowns.nps_band_url(answers, FIRST, END, band)) == figure


def test_the_answer_counts_of_each_kind_link_exactly(manager_client, answers):
    nps_n = sum(quarter_sum(answers, band) for band in ("promoters", "passives", "detractors"))
    assert rows_behind(manager_client, drilldowns.answers_url(answers, FIRST, END, kind="nps")) == nps_n
    assert rows_behind(manager_client, drilldowns.answers_url(answers, FIRST, END, kind="csat")) == quarter_sum(
        answers, "csat_count"
    )
    assert rows_behind(manager_client, drilldowns.answers_url(answers, FIRST, END, kind="ces")) == quarter_sum(
        answers, "ces_count"
    )


@pytest.fixture
def activity(thai) -> Segment:
    from customers.models import Customer

    th = list(Customer.objects.filter(country="TH").order_by("id"))
    my = Customer.objects.filter(country="MY").first()
    OrderFactory(customer=th[0], ordered_at=at(2026, 1, 1, 0, 5))
    OrderFactory(customer=th[0], ordered_at=at(2026, 3, 31, 23, 55))
    OrderFactory(customer=th[1], ordered_at=at(2026, 2, 14))
    OrderFactory(customer=th[1], ordered_at=at(2026, 4, 1, 0, 5))  # after
    OrderFactory(customer=my, ordered_at=at(2026, 2, 14))
    opened = [at(2026, 1, 1, 0, 1), at(2026, 2, 5), at(2026, 3, 31, 23, 59), at(2026, 3, 10)]
    for i, when in enumerate(opened):
        interaction = InteractionFactory(customer=th[i], opened_at=when)
        if i < 3:  # replied (the third one after the period ends: still counted by its opening)
            interaction.first_response_at = when + timedelta(hours=2)
        if i in (1, 2):
            interaction.status, interaction.resolved_at = "resolved", when + timedelta(hours=5)
        interaction.save()
    InteractionFactory(customer=th[0], opened_at=at(2025, 12, 31, 23, 59))  # before
    InteractionFactory(customer=my, opened_at=at(2026, 2, 5))
    build_segment(thai, months=12, today=TODAY)
    return thai


def test_orders_link_to_the_periods_orders(manager_client, activity):
    figure = quarter_sum(activity, "orders")
    assert figure == 3
    assert rows_behind(manager_client, drilldowns.orders_url(activity, FIRST, END)) == figure


def test_interactions_first_responses_and_resolutions_link_exactly(manager_client, activity):
    assert quarter_sum(activity, "interactions") == 4
    assert rows_behind(manager_client, drilldowns.interactions_url(activity, FIRST, END)) == 4
    replied = quarter_sum(activity, "first_response_count")
    assert replied == 3
    assert rows_behind(manager_client, drilldowns.interactions_url(activity, FIRST, END, replied=True)) == replied
    resolved = quarter_sum(activity, "resolved_count")
    assert resolved == 2
    assert rows_behind(manager_client, drilldowns.interactions_url(activity, FIRST, END, resolved=True)) == resolved


@pytest.fixture
def history(answers, activity) -> Segment:
    """Customers, answers, orders and interactions together, snapshots rebuilt."""
    build_segment(answers, months=12, today=TODAY)
    return answers


COUNT_COLUMNS = {
    "retention": ["S (start)", "N (new)", "E (end)", "Lost"],
    "nps-distribution": ["Promoters", "Passives", "Detractors"],
    "nps": ["Answers"],
    "csat": ["Answers"],
    "ces": ["Answers"],
    "revenue": ["Orders"],
    "cohorts": ["Customers"],
}


@pytest.mark.parametrize("group", [Group.MONTH, Group.QUARTER])
def test_every_count_the_report_shows_links_to_a_list_of_that_length(manager_client, history, group):
    report = segment_report(segment=history, months=MonthRange(FIRST, date(2026, 3, 1)), group=group)
    followed = 0
    for key, columns in COUNT_COLUMNS.items():
        table = report.tables[key]
        for row in table.rows:
            for column in columns:
                cell = row[table.headers.index(column)]
                assert isinstance(cell.value, int), (key, column)
                assert rows_behind(manager_client, cell.href) == cell.value, (key, row[0].text, column, cell.href)
                followed += 1
    # 11 count columns per month or quarter row, and the three cohorts (January to March) in both.
    assert followed == (11 + 3 if group == Group.QUARTER else 3 * 11 + 3)
    # The KPI cards: the first link lists what the figure's n counts (churn: the customers lost).
    kpis = {kpi.metric.key: kpi for kpi in report.kpis}
    for key in ("nps", "csat", "ces", "retention", "aov", "clv", "first_response", "resolution"):
        kpi = kpis[key]
        assert rows_behind(manager_client, kpi.links[0][1]) == kpi.current.n, key
    s, n, e, lost = quarter_stocks(history)
    assert [rows_behind(manager_client, url) for _label, url in kpis["retention"].links] == [s, n, e]
    assert rows_behind(manager_client, kpis["churn"].links[0][1]) == lost
    assert kpis["churn"].current.extra == f"{lost} lost"


def test_cohort_cells_of_the_rendered_table_link_to_the_customers_they_count(manager_client, history):
    report = segment_report(segment=history, months=MonthRange(date(2025, 6, 1), date(2026, 3, 1)))
    cells = {(c.cohort_month, c.months_since): c for c in CohortCell.objects.filter(segment=history)}
    checked = 0
    for row in report.tables["cohorts"].rows:
        cohort_month = date.fromisoformat(f"{row[0].text}-01")
        for since, cell in enumerate(row[2:]):
            if cell.value is None:
                continue
            assert rows_behind(manager_client, cell.href) == cells[(cohort_month, since)].active
            checked += 1
    assert checked > 10
