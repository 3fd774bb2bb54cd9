"""A full recompute through a real Celery worker on the configured broker (Redis in `make test`).

The worker runs in a thread with its own database connection, so the test commits its data
(transactional_db). Like every transactional test, it empties the tables afterwards, including rows
that migrations created; with --reuse-db, run the next session with --create-db.
"""

import time
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from metrics.models import CustomerMetrics, RecomputeRun, SegmentSnapshot
from metrics.services import start_full_recompute
from metrics.snapshots import MONTHS
from tests.customers.factories import CustomerFactory, OrderFactory, SegmentFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_worker():
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING", shutdown_timeout=30):
            yield
    finally:
        app.conf.task_always_eager = True


def test_a_full_recompute_runs_through_a_real_worker(real_worker):
    segment = SegmentFactory(slug="worker-test", filter_params={})
    customers = CustomerFactory.create_batch(5)
    for customer in customers:
        OrderFactory(customer=customer, amount=Decimal("12.50"))

    run = start_full_recompute(chunk_size=2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished_at is not None:
            break
        time.sleep(0.2)

    assert (run.status, run.chunks_done, run.total_chunks) == (RecomputeRun.Status.DONE, 3, 3)
    assert CustomerMetrics.objects.filter(orders=1, revenue=Decimal("12.50")).count() == 5
    assert SegmentSnapshot.objects.filter(segment=segment, period="month", member_count=5).count() == MONTHS
