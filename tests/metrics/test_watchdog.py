"""Runs that finish: the watchdog re-queues a stalled run's lost work or fails it; snapshot rows are replaced whole."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from metrics.models import CustomerMetrics, RecomputeRun, RecomputeSegment, SegmentSnapshot
from metrics.services import chunk_process, segment_part_process, snapshots_start, start_full_recompute
from metrics.snapshots import PARTS, window
from metrics.watchdog import runs_watch
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    people = CustomerFactory.create_batch(7)
    for i, customer in enumerate(people):
        OrderFactory(customer=customer, amount=Decimal(10 * (i + 1)))
    return people


def stall(run: RecomputeRun, minutes: int = 10) -> None:
    RecomputeRun.objects.filter(pk=run.pk).update(progressed_at=timezone.now() - timedelta(minutes=minutes))


def test_a_run_with_a_lost_chunk_message_is_healed_by_the_watchdog(customers, django_capture_on_commit_callbacks):
    run = start_full_recompute(enqueue=False, chunk_size=3)
    *delivered, _lost = run.chunks.order_by("index")
    for chunk in delivered:
        chunk_process(chunk_id=chunk.id)
    run.refresh_from_db()
    assert (run.status, run.chunks_done) == ("running", 2)

    assert runs_watch() == {}  # progress a moment ago: nothing to do
    stall(run)
    with django_capture_on_commit_callbacks(execute=True):
        assert runs_watch() == {run.id: "requeued"}

    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.segments_done) == ("done", 3, 1)
    assert run.watchdog_attempts == 0  # progress resets the count
    assert CustomerMetrics.objects.count() == 7
    assert SegmentSnapshot.objects.get(segment__slug="all-customers", period="month", orders__gt=0).revenue == 280


def test_a_lost_snapshot_message_is_healed_too(customers, django_capture_on_commit_callbacks):
    run = start_full_recompute(enqueue=False)
    for chunk in run.chunks.all():
        chunk_process(chunk_id=chunk.id)  # the snapshot task it enqueues after commit never arrives
    run.refresh_from_db()
    assert run.status == "snapshotting" and not RecomputeSegment.objects.exists()
    stall(run)
    with django_capture_on_commit_callbacks(execute=True):
        runs_watch()
    run.refresh_from_db()
    assert run.status == "done"
    months = len(window().starts)
    assert SegmentSnapshot.objects.filter(segment__slug="all-customers", period="month").count() == months


def test_a_run_whose_work_never_progresses_ends_failed_after_repeated_attempts(
    customers, django_capture_on_commit_callbacks
):
    run = start_full_recompute(enqueue=False, chunk_size=3)
    with (
        mock.patch("metrics.watchdog._requeue") as requeue,  # every re-queued message is lost again
        django_capture_on_commit_callbacks(execute=True),
    ):
        for attempt in range(1, 4):
            stall(run)
            assert runs_watch(attempts=3) == {run.id: "requeued"}
            run.refresh_from_db()
            assert run.watchdog_attempts == attempt
            assert runs_watch(attempts=3) == {}  # the re-queue counts as a fresh start of the wait
        stall(run)
        assert runs_watch(attempts=3) == {run.id: "failed"}
    assert requeue.call_count == 3
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.FAILED and run.finished_at is not None
    assert "re-queues" in run.error
    assert start_full_recompute(enqueue=False) != run  # a new run is not blocked


def test_two_watchdogs_re_queue_a_stalled_run_once(customers):
    run = start_full_recompute(enqueue=False, chunk_size=3)
    stall(run)
    stale_copy = RecomputeRun.objects.get(pk=run.pk)
    with mock.patch("metrics.watchdog._requeue"):
        assert runs_watch() == {run.id: "requeued"}
        # The second watchdog read the run before the first one's claim: its conditional UPDATE misses.
        with mock.patch("metrics.watchdog.RecomputeRun.objects.filter") as runs:
            runs.return_value.only.return_value = [stale_copy]
            runs.return_value.update.return_value = 0
            assert runs_watch() == {}


def snapshot_state(segment_id: int) -> list[tuple]:
    return list(
        SegmentSnapshot.objects.filter(segment_id=segment_id)
        .order_by("period", "period_start")
        .values_list("period", "period_start", "orders", "revenue", "customers_end", "computed_at")
    )


def test_a_killed_part_leaves_the_previous_runs_rows_whole_and_the_rerun_replaces_them_whole(
    customers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = start_full_recompute()
    first.refresh_from_db()
    assert first.status == "done"
    everyone = RecomputeSegment.objects.get(run=first).segment
    before = snapshot_state(everyone.id)
    OrderFactory(customer=customers[0], amount=Decimal("1000.00"))
    CustomerFactory()

    run = start_full_recompute(enqueue=False)
    for chunk in run.chunks.all():
        chunk_process(chunk_id=chunk.id, enqueue_snapshots=False)
    with mock.patch("metrics.tasks.build_segment_part.s"):
        snapshots_start(run_id=run.id)
    job = RecomputeSegment.objects.get(run=run)
    segment_part_process(job_id=job.id, part="stocks", enqueue=False)
    segment_part_process(job_id=job.id, part="orders", enqueue=False)
    with (
        mock.patch("metrics.snapshots.compute_part", side_effect=SystemExit("worker killed")),
        pytest.raises(SystemExit),
    ):
        segment_part_process(job_id=job.id, part="surveys", enqueue=False)

    # Two of six parts are done for the new run, yet every row is still the previous run's, whole.
    assert snapshot_state(everyone.id) == before
    job.refresh_from_db()
    assert set(job.drafts) == {"stocks", "orders"}

    for part in PARTS:
        segment_part_process(job_id=job.id, part=part, enqueue=False)  # redelivery and the remaining parts
    run.refresh_from_db()
    assert run.status == "done"
    after = snapshot_state(everyone.id)
    assert len(after) == len(before)
    assert len({row[-1] for row in after}) == 1 and after[0][-1] > before[0][-1]  # one computation, newer
    month = SegmentSnapshot.objects.get(segment=everyone, period="month", orders__gt=0)
    assert (month.orders, month.revenue, month.customers_end) == (8, Decimal(1280), 8)
    job.refresh_from_db()
    assert job.drafts == {}
