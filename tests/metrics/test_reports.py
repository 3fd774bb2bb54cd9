"""Report pages read the snapshots: figures, benchmarks, periods, drill-down, freshness, permissions, queries."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from core.calendar import Group, MonthRange, add_months, month_start
from customers.models import Segment
from metrics.catalogue import figures
from metrics.models import CohortCell, RecomputeRun, SegmentSnapshot
from metrics.report_selectors import sum_snapshots
from tests.customers.factories import CustomerFactory, SegmentFactory
from tests.surveys.factories import InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def this_month() -> date:
    return month_start(timezone.localdate())


def make_snapshot(segment: Segment, month: date, **counts: object) -> SegmentSnapshot:
    """A month's snapshot with known counts (everything else zero)."""
    counts.setdefault("computed_at", timezone.now())
    return SegmentSnapshot.objects.create(
        segment=segment, period_start=month, period_end=add_months(month, 1), **counts
    )


# The glossary's worked examples, as one month of a segment.
WORKED = {
    "customers_start": 10_000,
    "customers_new": 5_000,
    "customers_end": 12_000,
    "customers_lost": 3_000,
    "promoters": 300,
    "passives": 100,
    "detractors": 100,
    "csat_count": 5,
    "csat_sum": 18,
    "csat_satisfied": 3,
    "ces_count": 4,
    "ces_sum": 20,
    "ces_easy": 3,
    "invitations": 1000,
    "answers": 500,
    "emails_sent": 1000,
    "emails_clicked": 100,
    "orders": 10,
    "revenue": Decimal("1000.00"),
}


@pytest.fixture
def everyone() -> Segment:
    return Segment.objects.get(slug="all-customers")


@pytest.fixture
def vip() -> Segment:
    return SegmentFactory(name="VIP", slug="vip")


def period_query(first: date, last: date, group: str = "month") -> str:
    return f"from={first:%Y-%m}&to={last:%Y-%m}&group={group}"


# Summing months --------------------------------------------------------------------------


def test_a_quarter_takes_s_from_its_first_month_e_from_its_last_and_sums_the_flows(vip):
    m1 = date(2026, 1, 1)
    rows = [
        make_snapshot(vip, m1, customers_start=1000, customers_new=100, customers_end=1000, customers_lost=100),
        make_snapshot(
            vip, add_months(m1, 1), customers_start=1000, customers_new=50, customers_end=980, customers_lost=70
        ),
        make_snapshot(
            vip, add_months(m1, 2), customers_start=980, customers_new=20, customers_end=960, customers_lost=40
        ),
    ]
    totals = sum_snapshots(rows)
    assert (totals.customers_start, totals.customers_end) == (1000, 960)
    assert (totals.customers_new, totals.customers_lost) == (170, 210)
    f = figures(totals)
    # (960 − 170) / 1000 and 210 / 1000: still adding up to 100 %.
    assert f["retention"].value == Decimal("79.0")
    assert f["churn"].value == Decimal("21.0")


def test_rates_over_months_come_from_summed_counts_not_averaged_rates(vip):
    a = make_snapshot(vip, date(2026, 1, 1), promoters=90, passives=0, detractors=10)  # NPS 80 on 100 answers
    b = make_snapshot(vip, date(2026, 2, 1), promoters=0, passives=0, detractors=10)  # NPS −100 on 10 answers
    f = figures(sum_snapshots([a, b]))
    # 90 − 20 of 110 answers = 63.6, not the mean of 80 and −100.
    assert f["nps"].value == Decimal("63.6")
    assert f["nps"].n == 110


def test_the_worked_examples_give_the_glossary_figures(vip):
    f = figures(sum_snapshots([make_snapshot(vip, date(2026, 1, 1), **WORKED)]))
    assert f["retention"].value == Decimal("70.0")
    assert "net growth +20.0 %" in f["retention"].extra
    assert f["churn"].value == Decimal("30.0")
    assert (f["nps"].value, f["nps"].margin, f["nps"].n) == (Decimal("40.0"), Decimal("7.0"), 500)
    assert f["csat"].value == Decimal("60.0")
    assert f["csat"].extra == "mean 3.60"
    assert f["ces"].value == Decimal("5.00")
    assert f["ces"].extra == "75.0 % easy"
    assert f["ctr"].value == Decimal("10.0")
    assert f["response_rate"].value == Decimal("50.0")
    assert f["aov"].value == Decimal("100.00")


def test_figures_without_a_base_are_undefined_with_a_reason(vip):
    f = figures(sum_snapshots([make_snapshot(vip, date(2026, 1, 1))]))
    assert f["nps"].value is None and f["nps"].reason == "no NPS answers"
    assert f["retention"].value is None and "S = 0" in f["retention"].reason


def test_clv_is_order_value_times_purchases_a_year_times_lifespan(vip):
    # 12 orders of 100 by one active customer in one month → 144 purchases a year; lifespan 365.25 days.
    row = make_snapshot(
        vip, date(2026, 1, 1), orders=12, revenue=Decimal("1200"), customers_end=1, avg_lifespan_days=Decimal("365.25")
    )
    assert figures(sum_snapshots([row]))["clv"].value == Decimal("14400.00")


def test_the_default_range_is_the_last_twelve_complete_months_and_the_current_one():
    months = MonthRange.default(date(2026, 11, 24))
    assert (months.first, months.last, months.length) == (date(2025, 11, 1), date(2026, 11, 1), 13)
    assert months.previous() == MonthRange(date(2024, 10, 1), date(2025, 10, 1))


# The report page -------------------------------------------------------------------------


def test_a_segment_report_shows_the_worked_examples_with_n_and_margin(manager_client, vip, everyone):
    month = add_months(this_month(), -1)
    make_snapshot(vip, month, **WORKED)
    response = manager_client.get(f"/reports/segments/vip/?{period_query(month, month)}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Segment: VIP" in html
    assert "70.0 %" in html  # retention
    assert "net growth +20.0 %" in html
    assert "+40.0" in html and "± 7.0" in html and "n = 500 answers" in html
    assert "How is this computed?" in html


def test_kpis_sit_beside_the_previous_period_and_all_customers(manager_client, vip, everyone):
    month = add_months(this_month(), -1)
    make_snapshot(vip, month, promoters=300, passives=100, detractors=100)
    make_snapshot(vip, add_months(month, -1), promoters=100, passives=0, detractors=100)  # NPS 0
    make_snapshot(everyone, month, promoters=10, passives=0, detractors=10, customers_start=10, customers_end=10)
    report = manager_client.get(f"/reports/segments/vip/?{period_query(month, month)}").context["report"]
    nps = next(k for k in report.kpis if k.metric.key == "nps")
    assert nps.current.value == Decimal("40.0")
    assert nps.previous.value == Decimal("0.0")
    assert nps.delta_text == "+40.0 pts" and nps.trend == "good"
    assert nps.benchmark.value == Decimal("0.0")


def test_an_undefined_figure_shows_a_dash_and_why(manager_client, vip):
    month = add_months(this_month(), -1)
    make_snapshot(vip, month, promoters=1)
    html = manager_client.get(f"/reports/segments/vip/?{period_query(month, month)}").content.decode()
    assert "No customers at the start of the period (S = 0)." in html
    assert "No CSAT answers." in html


def test_every_kpi_links_to_the_rows_or_customers_behind_it(manager_client, vip):
    month = add_months(this_month(), -1)
    make_snapshot(vip, month, **WORKED)
    html = manager_client.get(f"/reports/segments/vip/?{period_query(month, month)}").content.decode()
    first, last = f"{month:%Y-%m-%d}", f"{add_months(month, 1) - timedelta(days=1):%Y-%m-%d}"
    before = f"{month - timedelta(days=1):%Y-%m-%d}"
    # Detractors are the month's NPS answers scored 0-6, not customers whose latest answer ever is.
    assert (
        f"/surveys/responses/?segment=vip&amp;kind=nps&amp;score_min=0&amp;score_max=6"
        f"&amp;submitted_after={first}&amp;submitted_before={last}"
    ) in html
    # Lost: of the customers active the day before, those who churned in the month.
    assert f"/customers/?segment=vip&amp;active_on={before}&amp;churned_after={first}&amp;churned_before={last}" in html
    assert "/customers/?segment=vip&amp;churn_risk=high" in html
    # New customers of a month: acquired in it and still active on its last day.
    assert f"acquired_after={first}&amp;acquired_before={last}&amp;active_on={last}" in html
    assert f"/customers/orders/?segment=vip&amp;placed_after={first}&amp;placed_before={last}" in html
    assert "lifecycle_stage" not in html


def test_the_overview_is_the_all_customers_segment_without_a_benchmark(manager_client, everyone):
    month = add_months(this_month(), -1)
    make_snapshot(everyone, month, **WORKED)
    response = manager_client.get(f"/reports/?{period_query(month, month)}")
    assert response.status_code == 200
    assert response.context["report"].is_overview
    assert "Overview: all customers" in response.content.decode()
    assert all(k.benchmark is None for k in response.context["report"].kpis)


def test_quarters_group_the_months_of_the_range(manager_client, vip):
    first = date(this_month().year - 1, 1, 1)
    for i in range(6):
        make_snapshot(vip, add_months(first, i), promoters=10, detractors=i)
    response = manager_client.get(f"/reports/segments/vip/?{period_query(first, add_months(first, 5), 'quarter')}")
    charts = {c["id"]: c for c in response.context["report"].charts}
    assert charts["nps"]["labels"] == [f"{first.year} Q1", f"{first.year} Q2"]
    partial = manager_client.get(
        f"/reports/segments/vip/?{period_query(add_months(first, 1), add_months(first, 5), 'quarter')}"
    )
    assert partial.context["report"].charts[0]["labels"] == [f"{first.year} Q1 (part)", f"{first.year} Q2"]
    # Q1: 30 promoters, 3 detractors of 33 answers.
    assert charts["nps-distribution"]["datasets"][2]["data"] == [3, 12]
    assert response.context["report"].group == Group.QUARTER


def test_each_chart_has_its_data_in_a_json_script_and_a_table(manager_client, vip):
    month = add_months(this_month(), -1)
    make_snapshot(vip, month, **WORKED)
    html = manager_client.get(f"/reports/segments/vip/?{period_query(month, month)}").content.decode()
    for chart in ["nps", "csat", "ces", "retention", "revenue", "nps-distribution"]:
        assert f'id="chart-{chart}"' in html
        assert f'id="chart-data-{chart}"' in html
        assert f'id="table-{chart}"' in html
        assert f'href="{escape(f"/reports/segments/vip/export/{chart}.csv?{period_query(month, month)}")}"' in html
    assert "vendor/chart.js/chart.umd.min.js" in html
    assert "cdn" not in html.lower()


def test_a_bad_period_shows_the_error_and_falls_back_to_the_default(manager_client, vip):
    response = manager_client.get("/reports/segments/vip/?from=2026-05&to=2026-01")
    assert response.status_code == 200
    assert "The first month must not be after the last month." in response.content.decode()
    assert response.context["report"].months == MonthRange.default()
    response = manager_client.get("/reports/segments/vip/?from=May")
    assert "Enter a month as YYYY-MM" in response.content.decode()


def test_the_cohort_table_shades_each_cell_by_the_share_still_active(manager_client, vip):
    month = add_months(this_month(), -2)
    make_snapshot(vip, month)
    now = timezone.now()
    for since, active in [(0, 50), (1, 40), (2, 10)]:
        CohortCell.objects.create(
            segment=vip, cohort_month=month, months_since=since, cohort_size=50, active=active, computed_at=now
        )
    response = manager_client.get(f"/reports/segments/vip/?{period_query(month, this_month())}")
    cohort = response.context["report"].cohort
    assert [c.text for c in cohort.rows[0][1:]] == ["50", "100.0 %", "80.0 %", "20.0 %"]
    assert "rgba(36, 87, 214, 0.80)" in cohort.rows[0][3].style
    assert "80.0 %" in response.content.decode()


def test_detractor_comments_are_the_segments_newest_escaped_and_link_to_the_profile(manager_client):
    month = this_month()
    thai = CustomerFactory(name="สมชาย ใจดี", country="TH")
    other = CustomerFactory(country="MY")
    SegmentFactory(slug="thailand", filter_params={"country": "TH"})
    make_snapshot(Segment.objects.get(slug="thailand"), month)
    nps, csat = SurveyFactory(kind="nps"), SurveyFactory(kind="csat", slug="c")
    ces = SurveyFactory(kind="ces", slug="e")
    now = timezone.now()

    def answer(customer, survey, score, comment, minutes_ago):
        ResponseFactory(
            invitation=InvitationFactory(customer=customer, survey=survey),
            score=score,
            comment=comment,
            submitted_at=now - timedelta(minutes=minutes_ago),
        )

    answer(thai, nps, 3, "<script>alert(1)</script> ส่งของช้า", 1)
    answer(thai, csat, 2, "價格太高", 2)
    answer(thai, ces, 3, "Hard", 3)
    answer(thai, nps, 9, "Great", 4)  # a promoter
    answer(thai, csat, 3, "Okay", 5)  # neutral CSAT
    answer(thai, nps, 0, "", 6)  # no comment
    answer(other, nps, 0, "Not in the segment", 7)
    response = manager_client.get("/reports/segments/thailand/")
    comments = response.context["report"].comments
    assert [c.comment for c in comments] == ["<script>alert(1)</script> ส่งของช้า", "價格太高", "Hard"]
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ส่งของช้า" in html
    assert "<script>alert(1)" not in html
    assert f'href="/customers/{thai.pk}/"' in html


def test_no_more_than_ten_comments_are_shown(manager_client, vip):
    customer = CustomerFactory()
    vip.kind = Segment.Kind.STATIC
    vip.save()
    vip.members.add(customer)
    survey = SurveyFactory(kind="nps")
    for i in range(12):
        ResponseFactory(invitation=InvitationFactory(customer=customer, survey=survey), score=1, comment=f"c{i}")
    assert len(manager_client.get("/reports/segments/vip/").context["report"].comments) == 10


# Freshness and recompute -----------------------------------------------------------------


def test_a_segment_without_snapshots_explains_how_to_get_figures(manager_client, vip):
    html = manager_client.get("/reports/segments/vip/").content.decode()
    assert "No figures for this segment yet" in html
    assert "Recompute all metrics now" in html
    assert 'action="/reports/recompute/"' in html


def test_a_range_without_figures_still_says_when_the_segment_was_computed(manager_client, vip):
    make_snapshot(vip, this_month())
    html = manager_client.get("/reports/segments/vip/?from=2001-01&to=2001-03").content.decode()
    assert "Figures computed at" in html
    assert "have not been computed" not in html


def test_figures_older_than_a_day_carry_a_warning(manager_client, vip):
    make_snapshot(vip, this_month(), computed_at=timezone.now() - timedelta(days=2))
    html = manager_client.get("/reports/segments/vip/").content.decode()
    assert "Older than a day" in html


def test_fresh_figures_say_when_they_were_computed(manager_client, vip):
    make_snapshot(vip, this_month(), computed_at=timezone.now() - timedelta(minutes=5))
    html = manager_client.get("/reports/segments/vip/").content.decode()
    assert "(5 min ago)" in html
    assert "Older than a day" not in html


@pytest.fixture
def fake_recompute(monkeypatch):
    import metrics.services

    started = []

    def start_full_recompute(*, started_by=None):
        started.append(started_by)
        return RecomputeRun.objects.create(started_by=started_by, started_at=timezone.now(), total_chunks=4)

    monkeypatch.setattr(metrics.services, "start_full_recompute", start_full_recompute, raising=False)
    return started


def test_a_manager_starts_a_recompute_and_returns_to_the_page(manager_client, manager, fake_recompute):
    response = manager_client.post("/reports/recompute/", {"next": "/reports/segments/vip/"})
    assert response.status_code == 302 and response["Location"] == "/reports/segments/vip/"
    assert fake_recompute == [manager]


def test_a_second_recompute_is_not_started_while_one_runs(manager_client, fake_recompute):
    manager_client.post("/reports/recompute/", HTTP_ACCEPT="application/json")
    response = manager_client.post("/reports/recompute/", HTTP_ACCEPT="application/json")
    assert response.json()["started"] is False
    assert len(fake_recompute) == 1


def test_the_recompute_does_not_redirect_off_site(manager_client, fake_recompute):
    response = manager_client.post("/reports/recompute/", {"next": "https://evil.example/"})
    assert response["Location"] == "/reports/"


def test_the_progress_endpoint_reports_the_latest_run(manager_client, manager):
    assert manager_client.get("/reports/recompute/status/").json() == {"run": None}
    RecomputeRun.objects.create(
        status=RecomputeRun.Status.RUNNING, total_chunks=4, chunks_done=1, started_at=timezone.now()
    )
    run = manager_client.get("/reports/recompute/status/").json()["run"]
    # Customers are the first 90 % of a run: one chunk of four done is 22 %.
    assert (run["status"], run["progress_percent"], run["active"]) == ("running", 22, True)


# Permissions -----------------------------------------------------------------------------

PAGES = [
    "/reports/",
    "/reports/segments/all-customers/",
    "/reports/segments/all-customers/export/kpis.csv",
    "/reports/compare/?segments=all-customers&segments=vip",
    "/reports/segments/",
    "/reports/segments/new/",
    "/reports/segments/vip/edit/",
    "/reports/segments/vip/delete/",
    "/reports/segments/vip/members/",
    "/reports/customers.csv",
    "/reports/recompute/status/",
]


@pytest.mark.parametrize("url", PAGES)
def test_agents_and_users_without_a_role_get_403(agent_client, outsider_client, vip, url):
    assert agent_client.get(url).status_code == 403
    assert outsider_client.get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, vip, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_managers_and_admins_may_open_the_pages(manager_client, admin_client_, vip, url):
    assert manager_client.get(url).status_code in (200, 302)
    assert admin_client_.get(url).status_code in (200, 302)


def test_agents_cannot_start_a_recompute(agent_client, fake_recompute):
    assert agent_client.post("/reports/recompute/").status_code == 403
    assert fake_recompute == []


# Query counts ----------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_segment_report_needs_the_same_queries_for_one_month_or_many_segments_and_years(
    manager_client, vip, everyone, django_assert_num_queries
):
    month = this_month()
    make_snapshot(vip, month, **WORKED)
    make_snapshot(everyone, month, **WORKED)
    CohortCell.objects.create(
        segment=vip, cohort_month=month, months_since=0, cohort_size=5, active=5, computed_at=timezone.now()
    )
    url = f"/reports/segments/vip/?{period_query(add_months(month, -23), month)}"
    few = _queries(manager_client, url)
    for i in range(1, 48):
        make_snapshot(vip, add_months(month, -i), **WORKED)
        make_snapshot(everyone, add_months(month, -i), **WORKED)
        CohortCell.objects.create(
            segment=vip,
            cohort_month=add_months(month, -(i % 24)),
            months_since=i // 24 + 1,
            cohort_size=5,
            active=3,
            computed_at=timezone.now(),
        )
    for _ in range(8):
        make_snapshot(SegmentFactory(), month)
    # session, user, role groups, segment, all-customers segment, snapshots, lifespan groups, cohort
    # cells, comments, predicted-value totals and slipping list, segment picker, latest run.
    with django_assert_num_queries(13):
        manager_client.get(url)
    assert _queries(manager_client, url) == few


def test_the_overview_query_count_is_pinned(manager_client, everyone, django_assert_num_queries):
    make_snapshot(everyone, this_month(), **WORKED)
    with django_assert_num_queries(12):  # + predicted-value totals and the slipping list
        assert manager_client.get("/reports/").status_code == 200


def test_the_comparison_needs_the_same_queries_for_more_segments(manager_client, everyone):
    segments = [SegmentFactory() for _ in range(5)]
    for s in [*segments, everyone]:
        for i in range(6):
            make_snapshot(s, add_months(this_month(), -i), **WORKED)
    two = _queries(manager_client, f"/reports/compare/?segments={segments[0].slug}&segments={segments[1].slug}")
    five = _queries(manager_client, "/reports/compare/?" + "&".join(f"segments={s.slug}" for s in segments))
    assert two == five


def test_the_segment_list_needs_the_same_queries_for_more_segments(manager_client, django_assert_num_queries):
    url = "/reports/segments/"
    few = _queries(manager_client, url)
    for _ in range(20):
        make_snapshot(SegmentFactory(), this_month())
    # session, user, role groups, count, page of segments (with subqueries), latest snapshot time, latest run.
    with django_assert_num_queries(7):
        manager_client.get(url)
    assert _queries(manager_client, url) == few


# Comparison ------------------------------------------------------------------------------


def test_two_segments_are_compared_side_by_side_with_all_customers(manager_client, vip, everyone):
    month = this_month()
    other = SegmentFactory(name="Thailand", slug="th")
    make_snapshot(vip, month, promoters=300, passives=100, detractors=100)
    make_snapshot(other, month, promoters=0, passives=0, detractors=10)
    make_snapshot(everyone, month, promoters=310, passives=100, detractors=110)
    response = manager_client.get(f"/reports/compare/?segments=vip&segments=th&{period_query(month, month)}")
    assert response.status_code == 200
    table = response.context["comparison"].table
    assert table.headers == ["Metric", "VIP", "Thailand", "All customers"]
    nps_row = table.rows[0]
    assert [c.value for c in nps_row[1:]] == [Decimal("40.0"), Decimal("-100.0"), Decimal("38.5")]
    assert "n = 500" in nps_row[1].text
    assert nps_row[1].text == "+40.0 ± 7.0 (n = 500)"  # the glossary's 95 % margin of error beside NPS
    html = response.content.decode()
    assert 'id="chart-data-comparison"' in html
    export = f"/reports/compare/?segments=vip&segments=th&from={month:%Y-%m}&to={month:%Y-%m}&format=csv"
    assert f'href="{escape(export)}"' in html


def test_comparing_needs_two_segments(manager_client, vip):
    response = manager_client.get("/reports/compare/?segments=vip")
    assert response.status_code == 400
    assert "Choose from two to 8 segments" in response.content.decode()
    assert manager_client.get("/reports/compare/").status_code == 200


def test_a_local_month_boundary_uses_the_configured_time_zone(manager_client, settings):
    """A comment at 23:30 UTC on the last day of a month belongs to the next month in Bangkok."""
    assert settings.TIME_ZONE == "Asia/Bangkok"
    customer = CustomerFactory()
    first = add_months(this_month(), -1)
    last_day_before = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    survey = SurveyFactory(kind="nps")
    for comment, at in [("late", timedelta(hours=23, minutes=30)), ("early", timedelta(hours=16, minutes=30))]:
        ResponseFactory(
            invitation=InvitationFactory(customer=customer, survey=survey),
            score=2,
            comment=comment,
            submitted_at=last_day_before + at,
        )
    response = manager_client.get(f"/reports/?{period_query(first, first)}")
    # 23:30 UTC is 06:30 the next day in Bangkok; 16:30 UTC is 23:30 the same day.
    assert [c.comment for c in response.context["report"].comments] == ["late"]


def test_period_shortcuts_cover_quarters_and_years(manager_client, vip):
    response = manager_client.get("/reports/segments/vip/")
    presets = {label: query for label, query, _current in response.context["presets"]}
    current = this_month()
    quarter_start = date(current.year, (current.month - 1) // 3 * 3 + 1, 1)
    assert presets["This quarter"] == f"from={quarter_start:%Y-%m}&to={current:%Y-%m}&group=month"
    assert presets["Last year"] == f"from={current.year - 1}-01&to={current.year - 1}-12&group=quarter"
    assert response.context["presets"][0][2] is True  # the default range


def test_comparison_shortcuts_keep_the_chosen_segments(manager_client, vip):
    SegmentFactory(slug="th")
    response = manager_client.get("/reports/compare/?segments=vip&segments=th")
    assert all(q.startswith("segments=vip&segments=th&from=") for _, q, _ in response.context["presets"])


def test_a_running_recompute_shows_its_progress_and_disables_the_button(manager_client, vip):
    make_snapshot(vip, this_month())
    RecomputeRun.objects.create(
        status=RecomputeRun.Status.SNAPSHOTTING,
        total_chunks=10,
        chunks_done=10,
        segments_total=4,
        segments_done=2,
        started_at=timezone.now(),
    )
    html = manager_client.get("/reports/segments/vip/").content.decode()
    # All customers done (90 %) and two of four segments (5 of the last 10 %).
    assert "Last recompute: Computing segments (95 %)" in html
    assert 'value="95"' in html
    assert "Recompute all metrics now</button>" in html and " disabled>Recompute" in html


def test_starting_from_a_script_answers_json_with_the_run(manager_client, fake_recompute):
    response = manager_client.post("/reports/recompute/", HTTP_ACCEPT="application/json")
    assert response.status_code == 202
    body = response.json()
    assert body["started"] is True
    assert (body["run"]["status"], body["run"]["progress_percent"], body["run"]["active"]) == ("running", 0, True)


def test_a_failed_run_shows_its_error(manager_client, vip):
    RecomputeRun.objects.create(
        status=RecomputeRun.Status.FAILED, started_at=timezone.now(), finished_at=timezone.now(), error="<boom>"
    )
    html = manager_client.get("/reports/segments/vip/").content.decode()
    assert "Last recompute: Failed" in html and "&lt;boom&gt;" in html


def test_the_retention_note_describes_the_period_s_n_and_e_it_uses():
    from metrics.catalogue import METRICS_BY_KEY

    note = METRICS_BY_KEY["retention"].note

    assert "N summed" not in note
    assert "acquired in it and still active on its last day" in note


def test_the_compare_button_opens_the_comparison_form_without_an_error(manager_client, vip, everyone):
    for slug in ("all-customers", "vip"):
        html = manager_client.get(f"/reports/segments/{slug}/").content.decode()
        href = re.search(r'href="([^"]*)"[^>]*>Compare…', html).group(1).replace("&amp;", "&")
        assert manager_client.get(href).status_code == 200, slug


def test_a_tiny_net_loss_is_not_shown_as_minus_zero(vip):
    counts = {"customers_start": 10_000, "customers_new": 0, "customers_end": 9_999, "customers_lost": 1}
    row = make_snapshot(vip, this_month(), **counts)

    assert figures(sum_snapshots([row]))["retention"].extra == "net growth +0.0 %"
