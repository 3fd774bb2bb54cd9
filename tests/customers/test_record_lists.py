"""Staff lists of interactions and orders: filters, row count, empty state, permissions, query count."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.customers.factories import CustomerFactory, InteractionFactory, OrderFactory, SegmentFactory

pytestmark = pytest.mark.django_db
BANGKOK = ZoneInfo("Asia/Bangkok")
INTERACTIONS = reverse("customers:interactions")
ORDERS = reverse("customers:orders")


def row_count(response) -> int:
    html = response.content.decode()
    marker = 'data-row-count="'
    return int(html[html.index(marker) + len(marker) :].split('"', 1)[0])


def test_interactions_are_filtered_by_segment_days_in_the_time_zone_and_state(agent_client):
    th = CustomerFactory(name="Somchai", country="TH")
    my = CustomerFactory(name="Aminah", country="MY")
    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    InteractionFactory(customer=th, opened_at=datetime(2026, 3, 31, 23, 30, tzinfo=BANGKOK))  # March in Bangkok
    InteractionFactory(customer=th, opened_at=datetime(2026, 4, 1, 0, 30, tzinfo=BANGKOK))  # April
    replied = InteractionFactory(customer=th, opened_at=datetime(2026, 3, 1, tzinfo=BANGKOK), channel="phone")
    replied.first_response_at = replied.opened_at + timedelta(hours=1)
    replied.status, replied.resolved_at = "resolved", replied.opened_at + timedelta(hours=2)
    replied.save()
    InteractionFactory(customer=my, opened_at=datetime(2026, 3, 10, tzinfo=BANGKOK))
    march = {"segment": "thai", "opened_after": "2026-03-01", "opened_before": "2026-03-31"}
    assert row_count(agent_client.get(INTERACTIONS, march)) == 2
    assert row_count(agent_client.get(INTERACTIONS, march | {"replied": "true"})) == 1
    assert row_count(agent_client.get(INTERACTIONS, march | {"resolved": "false"})) == 1
    assert row_count(agent_client.get(INTERACTIONS, march | {"channel": "phone", "status": "resolved"})) == 1
    response = agent_client.get(INTERACTIONS, march | {"replied": "true"})
    assert reverse("customers:detail", args=[th.pk]) in response.content.decode()
    assert row_count(agent_client.get(INTERACTIONS)) == 4


def test_orders_are_filtered_by_segment_and_placed_days(agent_client):
    th = CustomerFactory(name="Somchai", country="TH")
    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    OrderFactory(customer=th, amount=Decimal("10.00"), ordered_at=datetime(2026, 1, 31, 23, 59, tzinfo=BANGKOK))
    OrderFactory(customer=th, ordered_at=datetime(2026, 2, 1, tzinfo=BANGKOK))
    OrderFactory(customer=CustomerFactory(country="MY"), ordered_at=datetime(2026, 1, 15, tzinfo=BANGKOK))
    response = agent_client.get(
        ORDERS, {"segment": "thai", "placed_after": "2026-01-01", "placed_before": "2026-01-31"}
    )
    assert row_count(response) == 1
    assert "10.00 USD" in response.content.decode()
    assert reverse("customers:detail", args=[th.pk]) in response.content.decode()


@pytest.mark.parametrize("url", [INTERACTIONS, ORDERS])
def test_an_empty_list_says_so(agent_client, url):
    response = agent_client.get(url)
    assert row_count(response) == 0
    assert "No " in response.content.decode()


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (INTERACTIONS, {"opened_after": "2026-13-01"}),
        (INTERACTIONS, {"opened_before": "9999-12-31"}),
        (INTERACTIONS, {"segment": "no-such-segment"}),
        (INTERACTIONS, {"channel": "pigeon"}),
        (ORDERS, {"placed_after": "0001-01-01"}),
        (ORDERS, {"placed_before": "soon"}),
    ],
)
def test_bad_filter_values_show_the_error_and_no_rows(agent_client, url, params):
    InteractionFactory()
    OrderFactory()
    response = agent_client.get(url, params)
    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()
    assert row_count(response) == 0


@pytest.mark.parametrize("url", [INTERACTIONS, ORDERS])
def test_agents_and_up_see_the_lists_others_do_not(client, outsider_client, agent_client, manager_client, url):
    assert client.get(url).status_code == 302
    assert outsider_client.get(url).status_code == 403
    assert agent_client.get(url).status_code == 200
    assert manager_client.get(url).status_code == 200


@pytest.mark.parametrize("rows", [1, 60])
def test_the_interaction_list_query_count_does_not_grow_with_the_rows(
    agent_client, agent, django_assert_num_queries, rows
):
    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    for _ in range(rows):
        InteractionFactory(staff=agent, opened_at=timezone.now() - timedelta(days=1))
    # session, user, groups (role), segment lookup, count, page with customers and staff, segment choices.
    with django_assert_num_queries(7):
        response = agent_client.get(INTERACTIONS, {"segment": "thai", "replied": "false"})
    assert row_count(response) == rows


@pytest.mark.parametrize("rows", [1, 60])
def test_the_order_list_query_count_does_not_grow_with_the_rows(agent_client, django_assert_num_queries, rows):
    for _ in range(rows):
        OrderFactory()
    # session, user, groups (role), count, page with customers, segment choices.
    with django_assert_num_queries(6):
        response = agent_client.get(ORDERS)
    assert row_count(response) == rows
