"""Bulk ingest of orders and engagement events: validated, atomic per batch, idempotent by external id."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.throttling import UserRateThrottle

from customers import ingest
from customers.api.common import BulkIngestThrottle
from customers.currencies import INVALID_MESSAGE
from customers.models import EngagementEvent, Order
from metrics.models import StaleCustomer
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

WHEN = "2026-05-04T10:00:00+07:00"


@pytest.fixture
def shoppers() -> list:
    return [CustomerFactory(external_id="SHOP-1"), CustomerFactory(external_id="SHOP-2")]


def order(external_id: str, customer: str = "SHOP-1", **extra: object) -> dict:
    return {"external_id": external_id, "customer_external_id": customer, "amount": "19.90", "ordered_at": WHEN} | extra


def test_a_valid_batch_is_stored_and_its_customers_marked_stale_once(agent_api, shoppers):
    batch = [
        order("A-1"),
        order("A-2", customer="SHOP-2", currency="THB"),
        order("A-3", referred_by_external_id="SHOP-2"),
    ]

    response = agent_api.post("/api/orders/bulk/", batch, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["unchanged"]) == (3, 0)
    assert [item["index"] for item in body["items"]] == [0, 1, 2]
    assert {item["status"] for item in body["items"]} == {"created"}
    stored = Order.objects.get(external_id="A-2")
    assert (stored.customer, stored.amount, stored.currency) == (shoppers[1], Decimal("19.90"), "THB")
    assert Order.objects.get(external_id="A-3").referred_by == shoppers[1]
    assert set(StaleCustomer.objects.values_list("customer_id", flat=True)) == {c.pk for c in shoppers}


def test_a_retried_batch_is_reported_unchanged_and_counts_nothing_twice(agent_api, shoppers):
    batch = {"items": [order("R-1"), order("R-2")]}
    assert agent_api.post("/api/orders/bulk/", batch, format="json").status_code == 201

    retry = agent_api.post("/api/orders/bulk/", batch, format="json")

    assert retry.status_code == 200
    assert (retry.json()["created"], retry.json()["unchanged"]) == (0, 2)
    assert Order.objects.filter(external_id__startswith="R-").count() == 2


def test_a_batch_mixing_new_and_already_stored_items_creates_only_the_new(agent_api, shoppers):
    agent_api.post("/api/orders/bulk/", [order("M-1")], format="json")

    response = agent_api.post("/api/orders/bulk/", [order("M-1"), order("M-2")], format="json")

    assert response.status_code == 201
    assert [(i["external_id"], i["status"]) for i in response.json()["items"]] == [
        ("M-1", "unchanged"),
        ("M-2", "created"),
    ]


def test_an_existing_external_id_with_different_data_is_a_conflict_and_nothing_is_written(agent_api, shoppers):
    OrderFactory(external_id="C-7", customer=shoppers[0], amount=Decimal("19.90"))

    response = agent_api.post("/api/orders/bulk/", [order("NEW-1"), order("C-7", amount="25.00")], format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["index"] == 1
    assert "Conflict" in error["errors"]["external_id"][0]
    assert "amount" in error["errors"]["external_id"][0]
    assert not Order.objects.filter(external_id="NEW-1").exists()


def test_bad_items_are_reported_by_index_and_the_whole_batch_is_refused(agent_api, shoppers):
    batch = [
        order("OK-1"),
        order("BAD-1", amount="-5"),
        order("BAD-2", customer="NOBODY"),
        {"external_id": "BAD-3", "customer_external_id": "SHOP-1", "ordered_at": WHEN},
        order("BAD-4", currency="baht"),
        "not an object",
        order("OK-1"),
        order("BAD-5", ordered_at="yesterday"),
        order("BAD-6\x00"),
        order("BAD-7", customer="NOBODY", amount="lots"),
    ]

    response = agent_api.post("/api/orders/bulk/", batch, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "9 of 10 items are invalid; nothing was stored."
    assert [e["index"] for e in body["errors"]] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    errors = {e["index"]: e["errors"] for e in body["errors"]}
    assert "amount" in errors[1]
    assert errors[2] == {"customer_external_id": ["No customer has this external_id."]}
    assert errors[3] == {"amount": ["This field is required."]}
    assert errors[4] == {"currency": [INVALID_MESSAGE]}
    assert "non_field_errors" in errors[5]
    assert errors[6] == {"external_id": ["This external_id appears earlier in the same batch."]}
    assert "ordered_at" in errors[7]
    assert "external_id" in errors[8]
    assert set(errors[9]) == {"amount", "customer_external_id"}
    assert not Order.objects.exists()
    assert not StaleCustomer.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "The batch is empty."),
        ({"orders": []}, 'Send a JSON list of items or an object {"items": [...]}.'),
        ("A-1", 'Send a JSON list of items or an object {"items": [...]}.'),
        ([{}] * 1001, "A batch holds at most 1000 items; this one has 1001. Split it."),
    ],
)
def test_a_batch_of_the_wrong_shape_or_size_is_refused_with_a_clear_message(agent_api, body, message):
    response = agent_api.post("/api/orders/bulk/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": message}


def test_a_full_batch_of_1000_runs_a_fixed_handful_of_queries(agent_api, shoppers, django_assert_max_num_queries):
    batch = [order(f"F-{i}", customer=f"SHOP-{i % 2 + 1}") for i in range(1000)]

    # Auth (2), customers (1), existing ids (1), savepoint + INSERT + stale marks + release (4).
    # SQLite (the demo) caps parameters per statement, so its INSERT goes in a few chunks.
    with django_assert_max_num_queries(10 if connection.vendor == "postgresql" else 20):
        response = agent_api.post("/api/orders/bulk/", batch, format="json")

    assert response.status_code == 201
    assert response.json()["created"] == 1000
    assert Order.objects.count() == 1000


def test_events_are_ingested_with_the_same_rules(agent_api, shoppers):
    batch = [
        {
            "external_id": "S-1",
            "customer_external_id": "SHOP-1",
            "kind": "session",
            "duration_seconds": 90,
            "pages": 3,
            "occurred_at": WHEN,
        },
        {
            "external_id": "S-2",
            "customer_external_id": "SHOP-2",
            "kind": "email_opened",
            "campaign": "May",
            "occurred_at": WHEN,
        },
    ]
    assert agent_api.post("/api/events/bulk/", batch, format="json").status_code == 201
    assert agent_api.post("/api/events/bulk/", batch, format="json").json()["unchanged"] == 2
    assert EngagementEvent.objects.count() == 2

    bad = [
        {
            "external_id": "S-3",
            "customer_external_id": "SHOP-1",
            "kind": "email_opened",
            "duration_seconds": 5,
            "occurred_at": WHEN,
        }
    ]
    response = agent_api.post("/api/events/bulk/", bad, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["errors"] == {"duration_seconds": ["Only sessions have a duration."]}


def test_bulk_endpoints_have_their_own_stricter_rate(agent_api, shoppers, monkeypatch):
    monkeypatch.setattr(BulkIngestThrottle, "THROTTLE_RATES", {"bulk": "2/min", "user": "1000/min"})
    for i in range(2):
        assert agent_api.post("/api/orders/bulk/", [order(f"T-{i}")], format="json").status_code == 201

    refused = agent_api.post("/api/orders/bulk/", [order("T-9")], format="json")

    assert refused.status_code == 429
    assert "Retry-After" in refused
    # Other endpoints are still open.
    assert agent_api.get("/api/orders/").status_code == 200


def test_every_endpoint_is_throttled_per_user(agent_api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    statuses = [agent_api.get("/api/customers/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_created_ids_are_returned_for_each_item(agent_api, shoppers):
    response = agent_api.post("/api/orders/bulk/", [order("I-1")], format="json")
    assert response.json()["items"][0]["id"] == Order.objects.get(external_id="I-1").pk
    assert timezone.is_aware(Order.objects.get(external_id="I-1").ordered_at)


def test_a_batch_racing_an_identical_one_counts_the_other_senders_rows_once(agent_api, shoppers, monkeypatch):
    """Two senders retry the same batch at once: the loser's INSERT hits the unique external_id, and
    validating again reports the winner's rows as unchanged."""
    real_atomic = ingest.transaction.atomic
    raced: list[bool] = []

    @contextmanager
    def atomic_after_the_other_sender(*args: object, **kwargs: object) -> Iterator[None]:
        if not raced:
            raced.append(True)
            Order.objects.create(
                customer=shoppers[0],
                external_id="RACE-1",
                amount=Decimal("19.90"),
                ordered_at=datetime.fromisoformat(WHEN),
            )
        with real_atomic(*args, **kwargs):
            yield

    monkeypatch.setattr(ingest.transaction, "atomic", atomic_after_the_other_sender)
    attempts: list[int] = []
    real_ingest = ingest._ingest
    monkeypatch.setattr(ingest, "_ingest", lambda kind, items: attempts.append(1) or real_ingest(kind, items))

    response = agent_api.post("/api/orders/bulk/", [order("RACE-1"), order("RACE-2")], format="json")

    assert len(attempts) == 2
    assert response.status_code == 201, response.json()
    assert [(i["external_id"], i["status"]) for i in response.json()["items"]] == [
        ("RACE-1", "unchanged"),
        ("RACE-2", "created"),
    ]
    assert Order.objects.filter(external_id__startswith="RACE-").count() == 2
