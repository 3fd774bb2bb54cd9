"""Writes through the API: the model's validation with clear field errors, and stale metrics in the same transaction."""

from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.utils import timezone

from customers.models import Customer, Interaction, Order, Segment
from metrics.models import StaleCustomer
from surveys.models import FollowUp
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def stale_ids() -> set[int]:
    return set(StaleCustomer.objects.values_list("customer_id", flat=True))


def test_logging_an_interaction_records_the_caller_and_marks_the_customer_stale(agent_api, agent, world):
    response = agent_api.post(
        "/api/interactions/", {"customer": world.customer.pk, "channel": "chat", "subject": "Where is my parcel?"}
    )
    assert response.status_code == 201, response.json()
    interaction = Interaction.objects.get(pk=response.json()["id"])
    assert interaction.staff == agent
    assert stale_ids() == {world.customer.pk}


def test_resolving_without_a_resolution_time_resolves_now_through_the_resolve_service(agent_api, agent, world):
    before = timezone.now()
    with mock.patch("surveys.triggers.on_interaction_resolved") as trigger:
        response = agent_api.patch(f"/api/interactions/{world.interaction.pk}/", {"status": "resolved"}, format="json")
    assert response.status_code == 200, response.json()
    resolved = Interaction.objects.get(pk=world.interaction.pk)
    assert resolved.status == Interaction.Status.RESOLVED
    assert before <= resolved.resolved_at <= timezone.now()
    assert response.json()["resolved_at"] is not None
    trigger.assert_called_once()
    latest = resolved.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (agent, "Resolved")


def test_an_imported_resolution_time_is_kept_and_may_not_precede_the_opening(agent_api, world):
    url = f"/api/interactions/{world.interaction.pk}/"
    too_early = (world.interaction.opened_at - timedelta(minutes=1)).isoformat()
    response = agent_api.patch(url, {"status": "resolved", "resolved_at": too_early}, format="json")
    assert response.status_code == 400
    assert response.json() == {"resolved_at": ["Cannot be before opened_at."]}

    at = world.interaction.opened_at + timedelta(hours=2)
    response = agent_api.patch(url, {"status": "resolved", "resolved_at": at.isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    assert Interaction.objects.get(pk=world.interaction.pk).resolved_at == at


def test_a_resolution_time_without_the_resolved_status_is_a_field_error(agent_api, world):
    response = agent_api.patch(
        f"/api/interactions/{world.interaction.pk}/", {"resolved_at": timezone.now().isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"resolved_at"}


def test_reopening_through_the_api_clears_the_resolution_time(agent_api, world):
    url = f"/api/interactions/{world.interaction.pk}/"
    agent_api.patch(url, {"status": "resolved"}, format="json")
    response = agent_api.patch(url, {"status": "open"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolved_at"]) == ("open", None)


def test_api_edits_record_the_token_user_in_the_audit_trail(agent_api, agent, world):
    response = agent_api.patch(f"/api/customers/{world.customer.pk}/", {"city": "Chiang Mai"}, format="json")
    assert response.status_code == 200
    latest = Customer.objects.get(pk=world.customer.pk).history.latest()
    assert (latest.history_user, latest.city) == (agent, "Chiang Mai")


def test_a_first_response_before_the_interaction_opened_is_refused(agent_api, world):
    before = (world.interaction.opened_at - timedelta(hours=1)).isoformat()
    response = agent_api.patch(
        f"/api/interactions/{world.interaction.pk}/", {"first_response_at": before}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"first_response_at": ["Cannot be before opened_at."]}


def test_resolving_an_interaction_marks_the_customer_stale(agent_api, world):
    now = timezone.now().isoformat()
    response = agent_api.patch(
        f"/api/interactions/{world.interaction.pk}/", {"status": "resolved", "resolved_at": now}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert stale_ids() == {world.customer.pk}


def test_moving_an_order_to_another_customer_marks_both_and_the_referrer_stale(agent_api, world):
    other, referrer = CustomerFactory(), CustomerFactory()
    response = agent_api.patch(
        f"/api/orders/{world.order.pk}/", {"customer": other.pk, "referred_by": referrer.pk}, format="json"
    )
    assert response.status_code == 200
    assert stale_ids() == {world.customer.pk, other.pk, referrer.pk}


def test_deleting_an_order_marks_its_customer_stale(admin_api, world):
    assert admin_api.delete(f"/api/orders/{world.order.pk}/").status_code == 204
    assert stale_ids() == {world.customer.pk}


def test_a_negative_amount_and_a_bad_currency_are_field_errors(agent_api, world):
    response = agent_api.post(
        "/api/orders/",
        {
            "customer": world.customer.pk,
            "amount": "-1.00",
            "currency": "baht",
            "ordered_at": timezone.now().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"amount", "currency"}


def test_only_sessions_have_a_duration(agent_api, world):
    response = agent_api.post(
        "/api/events/",
        {"customer": world.customer.pk, "kind": "email_clicked", "duration_seconds": 30},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"duration_seconds": ["Only sessions have a duration."]}


def test_a_churn_date_before_acquisition_is_a_field_error(agent_api, world):
    response = agent_api.patch(
        f"/api/customers/{world.customer.pk}/",
        {"acquired_at": "2026-03-01", "churned_at": "2026-02-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"churned_at": ["Cannot be before acquired_at."]}


def test_a_customer_with_orders_cannot_be_deleted(admin_api, world):
    response = admin_api.delete(f"/api/customers/{world.customer.pk}/")
    assert response.status_code == 409
    assert "orders" in response.json()["detail"]
    assert Customer.objects.filter(pk=world.customer.pk).exists()


def test_customers_are_filtered_with_the_customer_list_parameters(agent_api, world):
    CustomerFactory(country="MY", city="Penang", plan="pro")
    response = agent_api.get("/api/customers/", {"country": "my", "plan": "pro"})
    assert [c["city"] for c in response.json()["results"]] == ["Penang"]
    thai = agent_api.get("/api/customers/", {"segment": world.segment.slug})
    assert [c["external_id"] for c in thai.json()["results"]] == ["C-1"]


def test_an_invalid_filter_value_is_a_400_naming_the_parameter(agent_api, world):
    response = agent_api.get("/api/customers/", {"plan": "platinum"})
    assert response.status_code == 400
    assert "plan" in response.json()


def test_ordering_is_limited_to_the_listed_fields(agent_api, world):
    Order.objects.all().delete()
    small, large = OrderFactory(amount=5), OrderFactory(amount=500)
    assert [o["id"] for o in agent_api.get("/api/orders/", {"ordering": "-amount"}).json()["results"]] == [
        large.pk,
        small.pk,
    ]
    # An unlisted field is ignored rather than leaking data through the sort order.
    assert agent_api.get("/api/orders/", {"ordering": "customer__email"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/customers/", {"q": "a\x00b"}),
        ("get", "/api/customers/", {"owner": "99999999999999999999999"}),
        ("get", "/api/orders/", {"customer": "99999999999999999999999"}),
        ("get", "/api/customers/99999999999999999999999/", None),
        ("post", "/api/customers/", {"external_id": "X\x00", "name": "Nul"}),
        ("post", "/api/interactions/", {"customer": 99999999999999999999999, "channel": "chat", "subject": "x"}),
        ("post", "/api/events/", {"customer": 1, "kind": "session", "pages": 99999999999999999999}),
    ],
)
def test_nul_bytes_and_huge_numbers_are_client_errors_not_crashes(agent_api, world, method, url, body):
    kwargs = {"data": body} if method == "get" else {"data": body, "format": "json"}
    response = getattr(agent_api, method)(url, **kwargs)
    assert response.status_code in (400, 404), response.content


def test_builtin_segments_cannot_be_edited(manager_api):
    builtin = Segment.objects.get(slug="all-customers")
    response = manager_api.patch(f"/api/segments/{builtin.pk}/", {"name": "Everyone"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Built-in segments cannot be edited or deleted."}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "filter_params"),
        ({"segment": "thai"}, "filter_params"),
        ({"plan": "platinum"}, "filter_params"),
    ],
)
def test_a_segment_filter_must_be_a_valid_customer_filter(manager_api, params, field):
    response = manager_api.post("/api/segments/", {"name": "S", "slug": "s", "filter_params": params}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_new_segment_records_its_author(manager_api, manager):
    response = manager_api.post(
        "/api/segments/", {"name": "Thai", "slug": "th", "filter_params": {"country": "TH"}}, format="json"
    )
    assert response.status_code == 201
    assert Segment.objects.get(slug="th").created_by == manager


def test_closing_a_follow_up_records_who_and_when_and_reopening_clears_it(agent_api, agent, world: SimpleNamespace):
    url = f"/api/follow-ups/{world.follow_up.pk}/"
    assert agent_api.patch(url, {"status": "closed", "note": "Refunded"}, format="json").status_code == 200
    closed = FollowUp.objects.get(pk=world.follow_up.pk)
    assert (closed.status, closed.closed_by, closed.note) == ("closed", agent, "Refunded")
    assert closed.closed_at is not None

    agent_api.patch(url, {"status": "open"}, format="json")
    reopened = FollowUp.objects.get(pk=world.follow_up.pk)
    assert (reopened.closed_at, reopened.closed_by) == (None, None)
