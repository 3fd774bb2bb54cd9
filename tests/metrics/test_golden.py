"""Golden tests: the report pages' CSV bytes, chart data, the comparison and the API rates on one fixed data set.

The expected outputs live in tests/metrics/golden/. They pin what managers download and what scripts read, so
a refactoring of the report code that changes a single byte fails here. When a figure is corrected on purpose,
regenerate them with RAPPORT_UPDATE_GOLDEN=1 and say in the commit which values changed and why.
"""

import json
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.calendar import MonthRange
from customers.models import Segment
from metrics import reports
from metrics.models import CohortCell, CustomerMetrics, LifespanCell, SegmentSnapshot
from metrics.snapshots import period_stocks
from tests.api.conftest import token_client
from tests.customers.factories import CustomerFactory, SegmentFactory
from tests.surveys.factories import InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
COMPUTED_AT = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
FIRST_MONTH = date(2024, 1, 1)
DATA_MONTHS = 30  # 2024-01 … 2026-06
RANGE = {"from": "2025-07", "to": "2026-06"}
TABLES = ["kpis", "nps", "csat", "ces", "retention", "revenue", "nps-distribution", "cohorts", "comments"]


def _add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _groups(scale: int) -> list[tuple[date, date | None, int]]:
    """(acquired month, churned month or None, customers): deterministic, some lost, most still active."""
    groups = []
    for k in range(24 * scale):
        acquired = _add(FIRST_MONTH, k % 24)
        churned = _add(acquired, 3 + k % 11) if k % 3 == 0 else None
        groups.append((acquired, churned, 3 + k % 5))
    return groups


def _make_segment(segment: Segment, scale: int) -> None:
    groups = _groups(scale)
    for cell in groups:
        LifespanCell.objects.create(
            segment=segment, acquired_month=cell[0], churned_month=cell[1], customers=cell[2], computed_at=COMPUTED_AT
        )
    for i in range(DATA_MONTHS):
        month = _add(FIRST_MONTH, i)
        s, n, e, lost = period_stocks(groups, month, _add(month, 1))
        orders = (12 + i % 6) * scale
        csat_count = 8 + i % 4
        csat_satisfied = min(csat_count, 5 + i % 5)
        SegmentSnapshot.objects.create(
            segment=segment,
            period_start=month,
            period_end=_add(month, 1),
            computed_at=COMPUTED_AT,
            member_count=e,
            customers_start=s,
            customers_new=n,
            customers_end=e,
            customers_lost=lost,
            avg_lifespan_days=Decimal(300 + 15 * i) / scale,
            promoters=(10 + (i * 7) % 11) * scale,
            passives=5 + i % 5,
            detractors=3 + (i * 3) % 7,
            csat_count=csat_count,
            csat_satisfied=csat_satisfied,
            csat_sum=csat_satisfied * 5 + (csat_count - csat_satisfied) * 2,
            ces_count=6,
            ces_sum=30 + i % 10,
            ces_easy=4 + i % 3,
            invitations=40 + i,
            answers=20 + i % 9,
            interactions=30 + i,
            first_response_count=25,
            first_response_seconds_sum=25 * (3600 + i * 61),
            resolved_count=20,
            resolution_seconds_sum=20 * (86400 + i * 601),
            orders=orders,
            revenue=Decimal(orders * (90 + i)) + Decimal("0.45"),
            ordering_customers=(8 + i % 4) * scale,
            referred_revenue=Decimal("10.50") * i,
            sessions=200 + i,
            session_seconds_sum=(200 + i) * 300,
            single_page_sessions=40 + i,
            emails_sent=500,
            emails_opened=150 + i,
            emails_clicked=40 + i % 7,
            emails_unsubscribed=2,
            social_likes=30 + i,
            social_shares=5,
            social_comments=3,
            referrals=4,
            referrals_converted=i % 3,
        )
    sizes: dict[date, int] = {}
    for acquired, _churned, count in groups:
        sizes[acquired] = sizes.get(acquired, 0) + count
    for cohort, size in sizes.items():
        for since in range(30):
            if _add(cohort, since) > _add(FIRST_MONTH, DATA_MONTHS - 1):
                break
            month_end = _add(cohort, since + 1)
            active = sum(c for a, ch, c in groups if a == cohort and (ch is None or ch >= month_end))
            CohortCell.objects.create(
                segment=segment,
                cohort_month=cohort,
                months_since=since,
                cohort_size=size,
                active=active,
                computed_at=COMPUTED_AT,
            )


@pytest.fixture
def data_set() -> dict[str, Any]:
    everyone = Segment.objects.get(slug="all-customers")
    vip = SegmentFactory(name="VIP", slug="vip", filter_params={"country": "TH"})
    _make_segment(everyone, 2)
    _make_segment(vip, 1)
    survey = SurveyFactory(slug="golden-nps", name="Golden NPS")
    customers = []
    for k, name in enumerate(["Ann Lee", "Somchai Dee", "=HYPERLINK(1)"]):
        customer = CustomerFactory(
            name=name, first_name=name.split(" ")[0], acquired_at=datetime(2025, 1, 5 + k, tzinfo=UTC)
        )
        customers.append(customer)
        at = datetime(2026, 3, 10 + k, 3, 30, tzinfo=UTC)
        invitation = InvitationFactory(survey=survey, customer=customer, sent_at=at - timedelta(days=1))
        ResponseFactory(invitation=invitation, score=3 + k, comment=f"Comment {k}, with a comma", submitted_at=at)
        CustomerMetrics.objects.create(
            customer=customer,
            computed_at=COMPUTED_AT,
            latest_nps_score=3 + 3 * k,
            csat_count=4 + k,
            csat_sum=14 + k,
            csat_satisfied=2 + k,
            ces_count=3,
            ces_sum=15 + k,
            ces_easy=2,
            invitations=5,
            answers=3 + k,
            interactions_total=7,
            first_response_count=4,
            first_response_seconds_sum=4 * (1800 + k),
            resolved_count=3,
            resolution_seconds_sum=3 * (7200 + k),
            orders=5 + k,
            revenue=Decimal("123.45") * (k + 1),
            tenure_days=[40, 200, 800][k],
            sessions=10,
            session_seconds_sum=3000 + k,
            emails_sent=20,
            emails_opened=7 + k,
            emails_clicked=2 + k,
            referrals_made=3,
            referrals_converted=k,
        )
    return {"everyone": everyone, "vip": vip, "customers": customers}


def check(name: str, actual: str | bytes) -> None:
    path = GOLDEN / name
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if os.environ.get("RAPPORT_UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert path.exists(), f"{path} missing: run with RAPPORT_UPDATE_GOLDEN=1 once"
    assert data == path.read_bytes(), f"{name} differs from its golden copy"


def as_json(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n"


@pytest.mark.parametrize("slug", ["vip", "all-customers"])
@pytest.mark.parametrize("group", ["month", "quarter"])
def test_every_table_of_a_report_downloads_the_same_bytes(manager_client, data_set, slug, group):
    for table in TABLES:
        response = manager_client.get(f"/reports/segments/{slug}/export/{table}.csv", {**RANGE, "group": group})
        assert response.status_code == 200, table
        check(f"{slug}-{group}-{table}.csv", response.content)


def test_the_overview_page_offers_the_same_csv_as_the_segment_export(manager_client, data_set):
    response = manager_client.get("/reports/", {**RANGE, "group": "month", "format": "csv", "table": "retention"})
    assert response.status_code == 200
    check("all-customers-month-retention.csv", response.content)


@pytest.mark.parametrize("slug", ["vip", "all-customers"])
@pytest.mark.parametrize("group", ["month", "quarter"])
def test_chart_data_stays_the_same(data_set, slug, group):
    segment = Segment.objects.get(slug=slug)
    months = MonthRange(date(2025, 7, 1), date(2026, 6, 1))
    report = reports.segment_report(segment=segment, months=months, group=group)
    check(f"{slug}-{group}-charts.json", as_json(report.charts))
    kpis = [
        {
            "key": k.metric.key,
            "text": k.text,
            "previous": k.previous_text,
            "benchmark": k.benchmark_text,
            "margin": k.margin_text,
            "delta": k.delta_text,
            "trend": k.trend,
            "extra": k.current.extra,
            "reason": k.current.reason,
            "links": k.links,
        }
        for k in report.kpis
    ]
    check(f"{slug}-{group}-kpi-cards.json", as_json(kpis))


def test_the_comparison_stays_the_same(manager_client, data_set):
    query = [("segments", "vip"), ("segments", "all-customers"), *RANGE.items()]
    response = manager_client.get("/reports/compare/", [*query, ("format", "csv")])
    assert response.status_code == 200
    check("comparison.csv", response.content)
    months = MonthRange(date(2025, 7, 1), date(2026, 6, 1))
    result = reports.comparison(segments=[data_set["vip"], data_set["everyone"]], months=months)
    check("comparison-charts.json", as_json([result.chart, result.trend_chart]))
    links = [[cell.href for cell in row] for row in result.table.rows]
    check("comparison-links.json", as_json(links))


def test_api_rates_of_segment_snapshots_stay_the_same(manager, data_set):
    manager_api = token_client(manager)
    rows = []
    url = "/api/segment-snapshots/"
    params: dict[str, Any] = {"segment": "vip", "page_size": 100}
    while url:
        body = manager_api.get(url, params).json()
        rows += [{"period_start": r["period_start"], "rates": r["rates"]} for r in body["results"]]
        url, params = body.get("next"), {}
    assert len(rows) == DATA_MONTHS
    check("api-segment-rates.json", as_json(rows))


def test_api_rates_of_customer_metrics_stay_the_same(agent, data_set):
    agent_api = token_client(agent)
    rates = [agent_api.get(f"/api/customer-metrics/{c.pk}/").json()["rates"] for c in data_set["customers"]]
    check("api-customer-rates.json", as_json(rates))
