"""Predictive scores where people see them: the profile card, the customer list, the API filters."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.filters import customer_filter
from customers.models import Segment
from metrics.models import CustomerMetrics
from metrics.predictive_report import predictive_summary
from tests.api.conftest import token_client
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def scored(name: str, p_alive: float | None, value: str | None, lapsed: bool | None, orders: int = 3):
    customer = CustomerFactory(name=name)
    CustomerMetrics.objects.create(
        customer=customer,
        computed_at=timezone.now(),
        orders=orders,
        p_alive=p_alive,
        expected_orders_90d=None if p_alive is None else 0.4,
        expected_orders_365d=None if p_alive is None else 1.6,
        expected_order_value=None if value is None else Decimal("55.00"),
        predicted_value_12m=None if value is None else Decimal(value),
        likely_lapsed=lapsed,
    )
    return customer


@pytest.fixture
def three():
    return (
        scored("Anong loyal", 0.93, "420.50", False),
        scored("Boon slipping", 0.31, "80.00", True),
        scored("Chai unscored", None, None, None, orders=0),
    )


def names(queryset) -> list[str]:
    return sorted(c.name for c in queryset)


def test_the_customer_filter_selects_by_p_alive_predicted_value_and_lapsed(three):
    assert names(customer_filter({"p_alive_min": "0.5"}).qs) == ["Anong loyal"]
    assert names(customer_filter({"p_alive_max": "0.5"}).qs) == ["Boon slipping"]
    assert names(customer_filter({"predicted_value_min": "100"}).qs) == ["Anong loyal"]
    assert names(customer_filter({"predicted_value_max": "100"}).qs) == ["Boon slipping"]
    assert names(customer_filter({"likely_lapsed": "true"}).qs) == ["Boon slipping"]
    assert names(customer_filter({"likely_lapsed": "false"}).qs) == ["Anong loyal"]


def test_the_list_sorts_by_predicted_value_with_the_unscored_last(agent_client, three):
    for sort, expected in (("value", ["Boon slipping", "Anong loyal"]), ("-value", ["Anong loyal", "Boon slipping"])):
        page = agent_client.get(reverse("customers:list"), {"sort": sort})
        assert page.status_code == 200
        shown = [c.name for c in page.context["page"]]
        assert shown == [*expected, "Chai unscored"]
    body = agent_client.get(reverse("customers:list")).content.decode()
    assert "420.50" in body and "93 % alive" in body and "31 % alive · lapsed" in body


def test_the_api_filters_and_sorts_customers_by_the_scores(agent, three):
    api = token_client(agent)
    got = api.get("/api/customers/", {"likely_lapsed": "true"})
    assert got.status_code == 200 and [c["name"] for c in got.json()["results"]] == ["Boon slipping"]
    got = api.get("/api/customers/", {"ordering": "-metrics__predicted_value_12m", "predicted_value_min": "1"})
    assert [c["name"] for c in got.json()["results"]] == ["Anong loyal", "Boon slipping"]
    metrics = api.get("/api/customer-metrics/", {"p_alive_min": "0.9"}).json()["results"]
    assert len(metrics) == 1
    assert metrics[0]["p_alive"] == 0.93 and metrics[0]["predicted_value_12m"] == "420.50"
    assert metrics[0]["likely_lapsed"] is False and metrics[0]["expected_orders_365d"] == 1.6


@pytest.mark.parametrize("params", [{"p_alive_min": "abc"}, {"p_alive_max": "1.5"}, {"predicted_value_min": "x"}])
def test_bad_score_filters_are_a_400(agent, three, params):
    api = token_client(agent)
    assert api.get("/api/customers/", params).status_code == 400
    assert api.get("/api/customer-metrics/", params).status_code == 400


def test_the_profile_card_shows_the_predictions_and_how_they_are_computed(agent_client, three):
    loyal, slipping, unscored = three
    body = agent_client.get(reverse("customers:detail", args=[loyal.pk])).content.decode()
    assert "Chance still buying" in body and "93 %" in body
    assert "0.4 in the next 90 days, 1.6 in a year" in body
    assert "420.50 USD" in body and "(55.00 USD a purchase)" in body
    assert "BG/NBD model fitted on all buyers" in body and "discounted 10 % a year" in body
    assert "likely lapsed" not in body
    assert "likely lapsed" in agent_client.get(reverse("customers:detail", args=[slipping.pk])).content.decode()
    assert "no orders yet" in agent_client.get(reverse("customers:detail", args=[unscored.pk])).content.decode()


def test_a_segment_report_shows_predicted_revenue_lapsed_share_and_who_is_slipping(manager_client, three):
    _, slipping, _ = three
    gone = scored("Dao gone", 0.05, "2.00", True)
    everyone = Segment.objects.get(slug="all-customers")
    summary = predictive_summary(everyone)
    assert summary.scored == 3  # customers without a score are not counted
    assert summary.predicted_revenue == Decimal("502.50")
    assert summary.likely_lapsed == 2 and summary.lapsed_percent == pytest.approx(Decimal(200) / 3)
    assert [m.customer_id for m in summary.slipping] == [slipping.pk]  # the loyal one is fine, Dao is gone
    assert "p_alive_max=0.6" in summary.slipping_url and "segment=all-customers" in summary.slipping_url
    listed = manager_client.get(summary.slipping_url)
    assert [c.name for c in listed.context["page"]] == ["Boon slipping"]
    body = manager_client.get("/reports/").content.decode()
    assert "Predicted value, next 12 months" in body and "502.50" in body and "66.7 %" in body
    assert "Boon slipping" in body and gone.name not in body.split("Valuable and slipping")[1]
