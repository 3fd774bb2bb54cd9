"""One customer whose figures cannot be computed never stops the sweep, a full run or anyone else's figures."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from metrics import services
from metrics.compute import compute_customers
from metrics.failures import retry_delay
from metrics.models import CustomerMetrics, RecomputeFailure, RecomputeRun, SegmentSnapshot, StaleCustomer
from metrics.services import customers_recompute, stale_sweep, start_full_recompute
from metrics.stale import mark_customers_stale
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

LARGEST_ORDER = Decimal("9999999999.99")


@pytest.fixture
def customers():
    people = CustomerFactory.create_batch(7)
    for i, customer in enumerate(people):
        OrderFactory(customer=customer, amount=Decimal(10 * (i + 1)))
    return people


def poisoned(poison_id: int, calls: list | None = None):
    """compute_customers, except that any statement covering `poison_id` fails in the database itself."""

    def compute(*, ids=None, id_range=None, **kwargs):
        covers = poison_id in ids if ids is not None else id_range[0] <= poison_id <= id_range[1]
        if calls is not None:
            calls.append(covers)
        if covers:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")  # a real error, which aborts the transaction on PostgreSQL
        return compute_customers(ids=ids, id_range=id_range, **kwargs)

    return compute


def fresh_ids(since) -> set[int]:
    return set(CustomerMetrics.objects.filter(computed_at__gte=since).values_list("customer_id", flat=True))


def test_the_sweep_computes_everyone_but_the_poison_customer_and_sets_it_aside(customers):
    poison, *others = customers
    mark_customers_stale(customer_ids=[c.id for c in customers])
    StaleCustomer.objects.filter(customer=poison).update(marked_at=timezone.now() - timedelta(hours=1))  # oldest
    start = timezone.now()
    with (
        mock.patch.object(services, "SWEEP_BATCH", 3),
        mock.patch.object(services, "compute_customers", poisoned(poison.id)),
    ):
        assert stale_sweep(grace=timedelta(0)) == 6

    assert fresh_ids(start) == {c.id for c in others}
    assert CustomerMetrics.objects.get(customer=others[0]).revenue == Decimal(20)
    assert list(StaleCustomer.objects.values_list("customer_id", flat=True)) == [poison.id]
    failure = RecomputeFailure.objects.get()
    assert (failure.customer_id, failure.attempts, failure.run_id) == (poison.id, 1, None)
    assert "division by zero" in failure.error
    assert failure.retry_after > timezone.now()


def test_a_set_aside_customer_waits_for_its_retry_then_is_computed_when_fixed(customers):
    poison = customers[0]
    mark_customers_stale(customer_ids=[poison.id])
    calls: list[bool] = []
    with mock.patch.object(services, "compute_customers", poisoned(poison.id, calls)):
        stale_sweep(grace=timedelta(0))
        stale_sweep(grace=timedelta(0))  # not due yet: not even tried
    assert calls == [True]
    assert RecomputeFailure.objects.get().attempts == 1

    RecomputeFailure.objects.update(retry_after=timezone.now() - timedelta(seconds=1))
    with mock.patch.object(services, "compute_customers", poisoned(poison.id)):
        stale_sweep(grace=timedelta(0))
    failure = RecomputeFailure.objects.get()
    assert failure.attempts == 2
    assert failure.retry_after - failure.last_failed_at == retry_delay(2) == timedelta(minutes=2)

    RecomputeFailure.objects.update(retry_after=timezone.now() - timedelta(seconds=1))
    assert stale_sweep(grace=timedelta(0)) == 1  # the cause is gone
    assert not RecomputeFailure.objects.exists()
    assert not StaleCustomer.objects.exists()
    assert CustomerMetrics.objects.get(customer=poison).revenue == Decimal(10)


def test_a_full_run_writes_everyone_else_and_shows_the_failure_on_the_run(
    customers, django_capture_on_commit_callbacks
):
    poison = customers[3]
    with (
        mock.patch.object(services, "compute_customers", poisoned(poison.id)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = start_full_recompute(chunk_size=3)

    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.customers_failed) == ("done", 3, 1)
    assert set(CustomerMetrics.objects.values_list("customer_id", flat=True)) == {c.id for c in customers} - {poison.id}
    failure = RecomputeFailure.objects.get()
    assert (failure.customer_id, failure.run_id) == (poison.id, run.id)
    assert list(run.failures.values_list("customer_id", flat=True)) == [poison.id]
    assert StaleCustomer.objects.filter(customer=poison).exists()  # the sweep retries it later
    # Snapshots read the raw tables, so the poison customer's order still counts in the segment figures.
    assert SegmentSnapshot.objects.get(segment__slug="all-customers", period="month", orders__gt=0).revenue == 280


def test_connection_trouble_is_not_poison_the_task_retries_as_a_whole(customers):
    with (
        mock.patch.object(services, "compute_customers", side_effect=OperationalError("server closed the connection")),
        pytest.raises(OperationalError),
    ):
        customers_recompute(customer_ids=[customers[0].id])
    assert not RecomputeFailure.objects.exists()


def test_the_largest_accepted_orders_sum_without_overflow(customers):
    whale = customers[0]
    OrderFactory.create_batch(101, customer=whale, amount=LARGEST_ORDER)
    mark_customers_stale(customer_ids=[whale.id])
    assert customers_recompute(customer_ids=[whale.id]) == 1
    metrics = CustomerMetrics.objects.get(customer=whale)
    assert metrics.revenue == LARGEST_ORDER * 101 + 10
    assert not RecomputeFailure.objects.exists()


def test_a_sync_run_that_crashes_is_marked_failed_and_does_not_block_the_next(customers):
    with (
        mock.patch(
            "metrics.management.commands.recompute_metrics.snapshots_build", side_effect=RuntimeError("disk full")
        ),
        pytest.raises(RuntimeError),
    ):
        call_command("recompute_metrics", "--sync", stdout=StringIO(), stderr=StringIO())
    run = RecomputeRun.objects.get()
    assert run.status == RecomputeRun.Status.FAILED
    assert run.finished_at is not None
    assert "disk full" in run.error
    assert start_full_recompute(enqueue=False) != run


def test_the_admin_lists_set_aside_customers_and_the_run_shows_them(customers, admin_client_):
    from django.urls import reverse

    poison = customers[0]
    run = start_full_recompute(enqueue=False, chunk_size=10)
    with mock.patch.object(services, "compute_customers", poisoned(poison.id)):
        services.chunk_process(chunk_id=run.chunks.get().id, enqueue_snapshots=False)

    listing = admin_client_.get(reverse("admin:metrics_recomputefailure_changelist")).content.decode()
    assert "division by zero" in listing
    page = admin_client_.get(reverse("admin:metrics_recomputerun_change", args=[run.id])).content.decode()
    assert "division by zero" in page
    assert "1 customers failed" in admin_client_.get(reverse("admin:metrics_recomputerun_changelist")).content.decode()
