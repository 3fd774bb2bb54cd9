"""Bulk customer ingest: validated, atomic per batch, idempotent by external id, audited."""

from datetime import date

import pytest
from django.db import connection

from customers.models import Customer, Tag
from metrics.models import StaleCustomer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "/api/customers/bulk/"


def person(external_id: str, **extra: object) -> dict:
    return {"external_id": external_id, "name": f"Customer {external_id}", "acquired_at": "1997-01-03"} | extra


def test_a_valid_batch_creates_customers_with_tags_history_and_stale_marks(agent_api, agent):
    Tag.objects.create(name="vip")
    batch = [
        person("H-1", tags=["VIP", "wholesale"], country="th", owner=agent.pk),
        person("H-2", churned_at="1998-06-30", email="h2@example.com"),
    ]
    response = agent_api.post(URL, batch, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["unchanged"]) == (2, 0)
    first = Customer.objects.get(external_id="H-1")
    assert [item["id"] for item in body["items"]] == [first.pk, Customer.objects.get(external_id="H-2").pk]
    assert (first.country, first.owner, first.acquired_at) == ("TH", agent, date(1997, 1, 3))
    assert sorted(first.tags.values_list("name", flat=True)) == ["vip", "wholesale"]
    record = first.history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == ("+", agent, "API bulk ingest")
    assert StaleCustomer.objects.filter(customer__external_id__in=["H-1", "H-2"]).count() == 2
    assert Customer.objects.get(external_id="H-2").lifecycle_stage == "churned"  # the stage follows the date


def test_a_retried_batch_is_unchanged_and_different_data_is_a_conflict(agent_api):
    batch = {"items": [person("R-1", tags=["a"]), person("R-2")]}
    assert agent_api.post(URL, batch, format="json").status_code == 201
    retry = agent_api.post(URL, batch, format="json")
    assert retry.status_code == 200
    assert (retry.json()["created"], retry.json()["unchanged"]) == (0, 2)
    assert {item["status"] for item in retry.json()["items"]} == {"unchanged"}

    changed = agent_api.post(URL, [person("R-1", tags=["b"]), person("R-3")], format="json")
    assert changed.status_code == 400
    error = changed.json()["errors"][0]
    assert error["index"] == 0 and "different tags" in error["errors"]["external_id"][0]
    assert not Customer.objects.filter(external_id="R-3").exists()  # all or nothing
    renamed = agent_api.post(URL, [person("R-2", name="Someone else")], format="json")
    assert "different name" in renamed.json()["errors"][0]["errors"]["external_id"][0]


def test_bad_items_are_reported_per_item_and_nothing_is_stored(agent_api):
    CustomerFactory(external_id="OLD-1")
    batch = [
        person("B-1"),
        person("B-2", country="Thailand"),
        {"name": "no id"},
        person("B-1"),
        person("B-4", churned_at="1990-01-01"),
        person("B-5", owner=999_999),
        person("B-6", email="not-an-email", language="xx"),
        "not an object",
    ]
    response = agent_api.post(URL, batch, format="json")
    assert response.status_code == 400
    errors = {e["index"]: e["errors"] for e in response.json()["errors"]}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6, 7]
    assert "country" in errors[1] and "external_id" in errors[2]
    assert "earlier in the same batch" in errors[3]["external_id"][0]
    assert "churned_at" in errors[4] and "owner" in errors[5]
    assert {"email", "language"} <= set(errors[6])
    assert response.json()["detail"] == "7 of 8 items are invalid; nothing was stored."
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["OLD-1"]


def test_batches_over_the_limit_or_empty_are_refused(agent_api):
    assert agent_api.post(URL, [], format="json").status_code == 400
    too_many = [person(f"X-{i}") for i in range(1001)]
    response = agent_api.post(URL, too_many, format="json")
    assert response.status_code == 400 and "at most 1000" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_a_full_batch_of_1000_takes_a_bounded_number_of_queries(agent_api, django_assert_max_num_queries):
    batch = [person(f"Q-{i}", tags=["imported"]) for i in range(1000)]
    # SQLite's 999-parameter limit splits the bulk INSERTs into many more statements.
    with django_assert_max_num_queries(40 if connection.vendor == "postgresql" else 200):
        assert agent_api.post(URL, batch, format="json").status_code == 201
    assert Customer.objects.count() == 1000


def test_outsiders_cannot_ingest_customers(outsider_api):
    assert outsider_api.post(URL, [person("O-1")], format="json").status_code == 403
