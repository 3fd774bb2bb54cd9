from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, EngagementEvent, Interaction, Order
from tests.customers.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def test_external_ids_are_unique():
    CustomerFactory(external_id="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="A", name="Other")


def test_a_customer_cannot_churn_before_being_acquired():
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(acquired_at=date(2025, 1, 10), churned_at=date(2025, 1, 9))
    CustomerFactory(acquired_at=date(2025, 1, 10), churned_at=date(2025, 1, 10))


def test_a_resolved_interaction_has_a_resolution_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        InteractionFactory(status=Interaction.Status.RESOLVED, resolved_at=None)


def test_an_interaction_cannot_be_answered_before_it_was_opened():
    opened = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        InteractionFactory(opened_at=opened, first_response_at=opened - timedelta(minutes=1))


def test_order_amounts_are_not_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(customer=CustomerFactory(), amount=Decimal("-0.01"))


def test_only_sessions_have_a_duration():
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementEvent.objects.create(customer=CustomerFactory(), kind="email_opened", duration_seconds=5)


def test_a_customer_with_orders_cannot_be_deleted():
    from django.db.models import ProtectedError

    order = Order.objects.create(customer=CustomerFactory(), amount=Decimal(10))
    with pytest.raises(ProtectedError):
        order.customer.delete()


def test_changes_to_customers_are_recorded_in_the_history():
    customer = CustomerFactory(name="A")
    customer.name = "B"
    customer.save()
    assert list(customer.history.values_list("name", flat=True)) == ["B", "A"]
