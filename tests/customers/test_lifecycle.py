"""One definition of "active on a day", and the lifecycle stage following the churn date everywhere."""

import importlib
from datetime import date, timedelta
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.imports import customers_import
from customers.lifecycle import is_active_on, reconcile_stage
from customers.models import Customer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_recompute():
    with mock.patch("metrics.tasks.recompute_customers.delay"):
        yield


def test_active_on_counts_the_acquisition_day_but_not_the_churn_day():
    c = CustomerFactory(acquired_at=date(2026, 3, 10), churned_at=date(2026, 5, 20))
    for day, expected in [
        (date(2026, 3, 9), False),
        (date(2026, 3, 10), True),
        (date(2026, 5, 19), True),
        (date(2026, 5, 20), False),
    ]:
        assert Customer.objects.active_on(day).filter(pk=c.pk).exists() is expected
        assert is_active_on(c.acquired_at, c.churned_at, day) is expected


def test_the_database_refuses_a_stage_that_contradicts_the_churn_date():
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="X1", name="X", acquired_at=date(2026, 1, 1), churned_at=date(2026, 2, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="X2", name="X", lifecycle_stage="churned")


def test_setting_the_stage_churned_without_a_date_churns_the_customer_today():
    customer = CustomerFactory()
    services.customer_update(customer=customer, lifecycle_stage="churned")
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("churned", timezone.localdate())


def test_a_churn_date_makes_the_stage_churned_and_leaving_churned_clears_it():
    customer = CustomerFactory(lifecycle_stage="at_risk")
    day = timezone.localdate() - timedelta(days=3)
    services.customer_update(customer=customer, churned_at=day)
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("churned", day)
    services.customer_update(customer=customer, lifecycle_stage="at_risk")
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("at_risk", None)


def test_clearing_the_churn_date_makes_a_churned_customer_active():
    customer = CustomerFactory(churned_at=timezone.localdate())
    services.customer_update(customer=customer, churned_at=None)
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("active", None)


def test_create_with_a_churn_date_is_churned():
    day = timezone.localdate() - timedelta(days=1)
    customer = services.customer_create(external_id="E1", name="N", acquired_at=day, churned_at=day)
    assert customer.lifecycle_stage == "churned"


def test_contradicting_or_future_values_are_refused_and_nothing_changes():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.customer_update(customer=customer, lifecycle_stage="lead", churned_at=timezone.localdate())
    assert "lifecycle_stage" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.customer_update(customer=CustomerFactory(), churned_at=timezone.localdate() + timedelta(days=1))
    assert "churned_at" in error.value.message_dict
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("active", None)


def test_reconcile_leaves_consistent_values_alone():
    today = date(2026, 6, 1)
    d = date(2026, 5, 1)
    assert reconcile_stage(stage="churned", churned_at=d, stage_before="active", churned_before=None, today=today) == (
        "churned",
        d,
    )
    assert reconcile_stage(stage="lead", churned_at=None, stage_before="active", churned_before=None, today=today) == (
        "lead",
        None,
    )


def test_the_edit_form_churns_today_when_only_the_stage_is_changed(agent_client):
    customer = CustomerFactory(external_id="F1", name="Form", acquired_at=date(2025, 1, 1))
    data = {
        "external_id": "F1",
        "name": "Form",
        "language": "en",
        "lifecycle_stage": "churned",
        "plan": "free",
        "acquired_at": "2025-01-01",
        "churned_at": "",
    }
    response = agent_client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("churned", timezone.localdate())


def test_the_edit_form_shows_a_contradiction_as_an_error(agent_client):
    customer = CustomerFactory(external_id="F2", name="Form", acquired_at=date(2025, 1, 1))
    data = {
        "external_id": "F2",
        "name": "Form",
        "language": "en",
        "lifecycle_stage": "lead",
        "plan": "free",
        "acquired_at": "2025-01-01",
        "churned_at": "2025-06-01",
    }
    response = agent_client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 200
    assert "A customer with a churn date is churned" in response.content.decode()
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("active", None)


def test_the_api_patching_only_the_churn_date_churns_the_customer(agent):
    from tests.api.conftest import token_client

    customer = CustomerFactory(acquired_at=date(2025, 1, 1))
    api = token_client(agent)
    response = api.patch(f"/api/customers/{customer.pk}/", {"churned_at": "2025-06-01"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["lifecycle_stage"] == "churned"
    response = api.patch(f"/api/customers/{customer.pk}/", {"lifecycle_stage": "active"}, format="json")
    assert response.json()["churned_at"] is None
    response = api.patch(
        f"/api/customers/{customer.pk}/", {"lifecycle_stage": "lead", "churned_at": "2025-06-01"}, format="json"
    )
    assert response.status_code == 400
    assert "lifecycle_stage" in response.json()


def test_the_csv_import_follows_the_churn_date():
    CustomerFactory(external_id="C-9", acquired_at=date(2024, 1, 1))
    raw = (
        b"external_id,name,lifecycle_stage,acquired_at,churned_at\r\n"
        b"C-1,One,active,2024-01-01,2024-06-01\r\n"
        b"C-2,Two,churned,2024-01-01,\r\n"
        b"C-9,Nine,,2024-01-01,2024-03-01\r\n"
    )
    result = customers_import(raw=raw, update_existing=True)
    assert result.imported, result.errors
    stages = dict(Customer.objects.values_list("external_id", "lifecycle_stage"))
    assert stages == {"C-1": "churned", "C-2": "churned", "C-9": "churned"}
    assert Customer.objects.get(external_id="C-2").churned_at == timezone.localdate()


def test_the_csv_import_reports_a_contradiction_as_a_row_error():
    raw = "external_id,name,lifecycle_stage,acquired_at,churned_at\r\nC-1,One,churned,2024-01-01,2999-01-01\r\n"
    result = customers_import(raw=raw.encode())
    assert not result.imported
    assert [(e.row, e.column) for e in result.errors] == [(2, "churned_at")]


def test_the_data_migration_makes_existing_rows_agree():
    migration = importlib.import_module("customers.migrations.0004_lifecycle_stage_follows_churn")
    with transaction.atomic():
        # Rows written before the constraint existed: drop it inside the test's transaction.
        from django.db import connection

        with connection.schema_editor(atomic=False) as editor:
            constraint = next(c for c in Customer._meta.constraints if c.name == "customer_stage_follows_churn")
            editor.remove_constraint(Customer, constraint)
        dated = CustomerFactory(lifecycle_stage="active", churned_at=date(2025, 5, 1), acquired_at=date(2025, 1, 1))
        undated = CustomerFactory(lifecycle_stage="churned", churned_at=None, acquired_at=date(2025, 1, 1))
        migration.forwards(django_apps, None)
        dated.refresh_from_db()
        undated.refresh_from_db()
        assert dated.lifecycle_stage == "churned"
        assert undated.churned_at == timezone.localtime(undated.updated_at).date()
        # The test's transaction is rolled back, and the dropped constraint with it.


def test_the_admin_churns_today_when_only_the_stage_is_set_and_refuses_a_contradiction(admin_client_):
    from tests.test_write_paths import admin_form_data, change_url

    customer = CustomerFactory(acquired_at=date(2025, 1, 1))
    data = admin_form_data(admin_client_, change_url(customer)) | {"lifecycle_stage": "churned"}
    response = admin_client_.post(change_url(customer), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.lifecycle_stage, customer.churned_at) == ("churned", timezone.localdate())
    data = admin_form_data(admin_client_, change_url(customer)) | {
        "lifecycle_stage": "lead",
        "churned_at": "2025-06-01",
    }
    response = admin_client_.post(change_url(customer), data)
    assert response.status_code == 200
    assert "A customer with a churn date is churned" in response.content.decode()
    customer.refresh_from_db()
    assert customer.lifecycle_stage == "churned"
