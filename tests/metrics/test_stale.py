"""Incremental recompute: marks in the writing transaction, a task after commit, a sweep for the rest."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from metrics.compute import compute_customers
from metrics.models import CustomerMetrics, StaleCustomer
from metrics.services import customers_recompute, stale_sweep
from metrics.stale import mark_customers_stale
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_a_change_marks_the_customer_and_recomputes_after_commit(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        OrderFactory(customer=customer, amount=Decimal("42.00"))
        mark_customers_stale(customer_ids=[customer.id, customer.id])
        assert StaleCustomer.objects.filter(customer=customer).exists()
        assert not CustomerMetrics.objects.filter(customer=customer).exists()

    assert len(callbacks) == 1
    assert CustomerMetrics.objects.get(customer=customer).revenue == Decimal("42.00")
    assert not StaleCustomer.objects.exists()


def test_a_rolled_back_change_enqueues_nothing(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                mark_customers_stale(customer_ids=[customer.id])
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not StaleCustomer.objects.exists()


def test_a_mark_made_during_the_recompute_survives_it():
    customer = CustomerFactory()
    mark_customers_stale(customer_ids=[customer.id])
    from metrics import services

    real_compute = services.compute_customers

    def compute_then_mark_again(**kwargs):
        result = real_compute(**kwargs)
        # Another change commits while the recompute runs: its mark has a newer time.
        StaleCustomer.objects.filter(customer=customer).update(marked_at=timezone.now() + timedelta(seconds=1))
        return result

    with mock.patch.object(services, "compute_customers", compute_then_mark_again):
        customers_recompute(customer_ids=[customer.id])

    assert StaleCustomer.objects.filter(customer=customer).exists()
    customers_recompute(customer_ids=[customer.id])
    assert not StaleCustomer.objects.exists()


def test_the_sweep_recomputes_what_a_broker_outage_left_behind(django_capture_on_commit_callbacks):
    customers = CustomerFactory.create_batch(3)
    with (
        mock.patch("metrics.tasks.recompute_customers.delay", side_effect=ConnectionError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        for customer in customers:
            OrderFactory(customer=customer, amount=Decimal(7))
        mark_customers_stale(customer_ids=[c.id for c in customers])

    assert StaleCustomer.objects.count() == 3
    assert not CustomerMetrics.objects.exists()

    assert stale_sweep(grace=timedelta(0)) == 3

    assert CustomerMetrics.objects.filter(revenue=Decimal(7)).count() == 3
    assert not StaleCustomer.objects.exists()


def test_the_sweep_leaves_fresh_marks_to_their_own_task():
    customer = CustomerFactory()
    mark_customers_stale(customer_ids=[customer.id])
    assert stale_sweep(grace=timedelta(minutes=5)) == 0
    assert StaleCustomer.objects.exists()


def test_the_sweep_works_in_bounded_batches(settings):
    from metrics import services

    customers = CustomerFactory.create_batch(5)
    mark_customers_stale(customer_ids=[c.id for c in customers])
    with mock.patch.object(services, "SWEEP_BATCH", 2), mock.patch.object(services, "SWEEP_MAX_BATCHES", 2):
        assert stale_sweep(grace=timedelta(0)) == 4
    assert StaleCustomer.objects.count() == 1
    assert stale_sweep(grace=timedelta(0)) == 1


def test_duplicate_tasks_for_one_change_collapse_into_one_computation():
    from metrics.tasks import recompute_customers

    customer = CustomerFactory()
    mark_customers_stale(customer_ids=[customer.id])
    with mock.patch("metrics.services.compute_customers", wraps=compute_customers) as compute:
        recompute_customers.delay([customer.id])
        recompute_customers.delay([customer.id])
    assert compute.call_count == 1
    assert CustomerMetrics.objects.filter(customer=customer).exists()
