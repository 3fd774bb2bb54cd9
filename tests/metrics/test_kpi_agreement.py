"""One truth: every KPI of a month is the same number on the report page's CSV, in the API and in the catalogue.

The month is computed by the engine from raw history (customers, orders, answers, interactions, events), so
the test covers the whole path from the data to each reader.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from customers.models import EngagementEvent, Interaction, Segment
from metrics.catalogue import METRICS, figures, rates
from metrics.models import SegmentSnapshot
from metrics.report_selectors import snapshot_totals
from metrics.snapshots import build_segment
from tests.api.conftest import token_client
from tests.customers.factories import CustomerFactory, EngagementEventFactory, InteractionFactory, OrderFactory
from tests.metrics.factories import answer

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)
MONTH = date(2026, 3, 1)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def march() -> Segment:
    """Twelve customers with a March of orders, answers of each kind, support work and email and social events."""
    customers = [
        CustomerFactory(
            acquired_at=date(2025, 1 + k % 12, 1 + k),
            churned_at=date(2026, 3, 10 + k) if k in (2, 7) else None,
        )
        for k in range(12)
    ]
    customers.append(CustomerFactory(acquired_at=date(2026, 3, 4)))  # new in March
    for k, c in enumerate(customers):
        for n in range(k % 4):
            OrderFactory(customer=c, amount=Decimal("40.00") + k * 7 + n, ordered_at=at(1 + n * 7 + k % 3))
        answer(c, "nps", (k * 3) % 11, at(2 + k % 20))
        if k % 2:
            answer(c, "csat", 1 + k % 5, at(3 + k % 20))
        if k % 3:
            answer(c, "ces", 1 + k % 7, at(4 + k % 20))
        opened = at(5 + k % 20)
        InteractionFactory(
            customer=c,
            opened_at=opened,
            first_response_at=opened + timedelta(minutes=30 + 7 * k),
            resolved_at=opened + timedelta(hours=5 + k) if k % 2 == 0 else None,
            status=Interaction.Status.RESOLVED if k % 2 == 0 else Interaction.Status.OPEN,
        )
        for kind, times in [
            (EngagementEvent.Kind.EMAIL_SENT, 3),
            (EngagementEvent.Kind.EMAIL_OPENED, k % 3),
            (EngagementEvent.Kind.EMAIL_CLICKED, k % 2),
            (EngagementEvent.Kind.SOCIAL_LIKE, k % 4),
            (EngagementEvent.Kind.SOCIAL_SHARE, k % 2),
        ]:
            for n in range(times):
                EngagementEventFactory(customer=c, kind=kind, occurred_at=at(6 + n + k % 15))
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, months=6, today=TODAY)
    return everyone


def page_values(client, slug: str) -> dict[str, str]:
    response = client.get(f"/reports/segments/{slug}/export/kpis.csv", {"from": "2026-03", "to": "2026-03"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    labels = {m.label: m.key for m in METRICS}
    return {labels[row[0]]: row[1] for row in rows[1:]}


def test_every_kpi_is_the_same_on_the_page_in_the_api_and_in_the_catalogue(manager, manager_client, march):
    snapshot = SegmentSnapshot.objects.get(segment=march, period="month", period_start=MONTH)
    catalogue = figures(snapshot_totals(snapshot))
    page = page_values(manager_client, march.slug)
    api_rows = token_client(manager).get("/api/segment-snapshots/", {"segment": march.slug}).json()["results"]
    [api] = [r["rates"] for r in api_rows if r["period"] == "month" and r["period_start"] == MONTH.isoformat()]

    undefined = []
    for metric in METRICS:
        value = catalogue[metric.key].value
        as_text = "" if value is None else str(value)
        assert page[metric.key] == as_text, f"{metric.key}: page {page[metric.key]!r}, catalogue {as_text!r}"
        assert api[metric.rate] == (None if value is None else as_text), f"{metric.key}: API {api[metric.rate]!r}"
        if value is None:
            undefined.append(metric.key)
    # The fixture exercises every KPI: none may pass by being undefined everywhere.
    assert undefined == []


def test_every_rate_of_the_api_is_the_catalogue_s(manager, march):
    snapshot = SegmentSnapshot.objects.get(segment=march, period="month", period_start=MONTH)
    expected = {k: None if v is None else str(v) for k, v in rates(snapshot_totals(snapshot)).items()}
    api_rows = token_client(manager).get("/api/segment-snapshots/", {"segment": march.slug}).json()["results"]
    [api] = [r["rates"] for r in api_rows if r["period"] == "month" and r["period_start"] == MONTH.isoformat()]
    shown = {k: v for k, v in api.items() if k != "nps_answers"}
    assert shown == {k: v for k, v in expected.items() if k in shown}
    assert api["nps_answers"] == snapshot.promoters + snapshot.passives + snapshot.detractors


def test_a_quarter_in_the_api_has_the_report_page_s_rates(manager, manager_client, march):
    # The first quarter of 2026 as one stored row (API) and as three summed months (page).
    response = manager_client.get(
        "/reports/segments/all-customers/export/kpis.csv", {"from": "2026-01", "to": "2026-03"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    page = {row[0]: row[1] for row in rows[1:]}
    api_rows = token_client(manager).get("/api/segment-snapshots/", {"segment": march.slug}).json()["results"]
    [api] = [r["rates"] for r in api_rows if r["period"] == "quarter" and r["period_start"] == "2026-01-01"]
    for key, label in [
        ("engagement_rate_percent", "Engagement rate"),
        ("email_click_rate_percent", "Click-through rate"),
        ("average_order_value", "Average order value"),
        ("retention_rate_percent", "Retention"),
        ("nps", "NPS"),
        ("clv", "CLV"),
    ]:
        assert api[key] == page[label], key
    quarter = SegmentSnapshot.objects.get(segment=march, period="quarter", period_start=date(2026, 1, 1))
    months = SegmentSnapshot.objects.filter(segment=march, period="month", period_start__lt=date(2026, 4, 1))
    audience = sum(m.customers_end for m in months.filter(period_start__gte=date(2026, 1, 1)))
    assert audience > quarter.customers_end  # three months of customers, not the quarter's end alone
