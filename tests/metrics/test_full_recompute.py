"""Full recompute: chunks fanned out, counted once, the last one starts the snapshots; reruns are safe."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone

from customers.models import Segment
from metrics.models import CohortCell, CustomerMetrics, RecomputeRun, SegmentSnapshot, StaleCustomer
from metrics.services import chunk_process, snapshots_build, start_full_recompute
from metrics.snapshots import MONTHS
from metrics.stale import mark_customers_stale
from tests.customers.factories import CustomerFactory, OrderFactory, SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    people = CustomerFactory.create_batch(7)
    for i, customer in enumerate(people):
        OrderFactory(customer=customer, amount=Decimal(10 * (i + 1)))
    return people


def test_a_full_recompute_computes_everyone_then_every_segment(customers, django_capture_on_commit_callbacks):
    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    with django_capture_on_commit_callbacks(execute=True):
        run = start_full_recompute(chunk_size=3)

    run.refresh_from_db()
    assert (run.status, run.total_chunks, run.chunks_done, run.total_customers) == ("done", 3, 3, 7)
    assert run.finished_at is not None and run.progress_percent == 100
    assert run.rfm_breakpoints["frequency"]
    assert (run.segments_total, run.segments_done) == (2, 2)
    assert CustomerMetrics.objects.count() == 7
    assert not run.chunks.filter(done_at__isnull=True).exists()
    segments = Segment.objects.count()
    assert segments == 2  # all customers and the Thai one
    # The customers' data is recent: the window is the minimum, METRICS_SNAPSHOT_MONTHS (26) months.
    assert SegmentSnapshot.objects.filter(period="month").count() == MONTHS * segments
    assert SegmentSnapshot.objects.get(segment__slug="all-customers", period="month", orders__gt=0).revenue == 280
    assert CohortCell.objects.filter(segment__slug="all-customers").exists()


def test_a_second_run_while_one_is_running_returns_the_running_one(customers):
    run = start_full_recompute(enqueue=False)
    assert start_full_recompute(enqueue=False) == run
    assert RecomputeRun.objects.count() == 1


def test_a_redelivered_chunk_recomputes_but_counts_once(customers):
    run = start_full_recompute(enqueue=False, chunk_size=3)
    first, *rest = run.chunks.order_by("index")
    chunk_process(chunk_id=first.id, enqueue_snapshots=False)
    chunk_process(chunk_id=first.id, enqueue_snapshots=False)
    run.refresh_from_db()
    assert run.chunks_done == 1 and run.status == "running"
    finished = [chunk_process(chunk_id=c.id, enqueue_snapshots=False) for c in rest]
    assert finished == [False, True]
    run.refresh_from_db()
    assert (run.chunks_done, run.status) == (3, "snapshotting")
    # A late redelivery of the last chunk does not start the snapshots again.
    assert chunk_process(chunk_id=rest[-1].id, enqueue_snapshots=False) is False


def test_the_snapshot_step_starts_once_after_the_last_chunk(customers, django_capture_on_commit_callbacks):
    run = start_full_recompute(enqueue=False, chunk_size=3)
    with mock.patch("metrics.tasks.build_snapshots.delay") as delay, django_capture_on_commit_callbacks(execute=True):
        for chunk in run.chunks.order_by("index"):
            chunk_process(chunk_id=chunk.id)
        chunk_process(chunk_id=chunk.id)
    delay.assert_called_once_with(run.id)


def test_a_chunk_killed_mid_way_leaves_nothing_half_done_and_its_rerun_completes(customers):
    run = start_full_recompute(enqueue=False, chunk_size=10)
    (chunk,) = run.chunks.all()
    with (
        mock.patch("metrics.services.RecomputeChunk.objects.filter", side_effect=DatabaseError("connection lost")),
        pytest.raises(DatabaseError),
    ):
        chunk_process(chunk_id=chunk.id, enqueue_snapshots=False)
    run.refresh_from_db()
    assert run.chunks_done == 0
    assert not CustomerMetrics.objects.exists()  # the chunk's writes rolled back with it

    assert chunk_process(chunk_id=chunk.id, enqueue_snapshots=False) is True
    assert snapshots_build(run_id=run.id) is True
    run.refresh_from_db()
    assert (run.status, run.chunks_done) == ("done", 1)
    assert CustomerMetrics.objects.count() == 7
    assert snapshots_build(run_id=run.id) is False  # a redelivered snapshot task has nothing left to do


def test_rerunning_the_whole_recompute_gives_the_same_numbers(customers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start_full_recompute(chunk_size=4)
    before = list(CustomerMetrics.objects.order_by("customer_id").values_list("customer_id", "revenue", "rfm_segment"))
    snapshots = list(SegmentSnapshot.objects.order_by("id").values_list("id", "orders", "revenue", "customers_end"))
    with django_capture_on_commit_callbacks(execute=True):
        start_full_recompute(chunk_size=2)
    after = list(CustomerMetrics.objects.order_by("customer_id").values_list("customer_id", "revenue", "rfm_segment"))
    assert after == before
    assert list(SegmentSnapshot.objects.order_by("id").values_list("id", "orders", "revenue", "customers_end")) == (
        snapshots
    )
    assert RecomputeRun.objects.filter(status="done").count() == 2


def test_a_full_recompute_clears_the_stale_marks_it_covered(customers, django_capture_on_commit_callbacks):
    mark_customers_stale(customer_ids=[c.id for c in customers])
    with django_capture_on_commit_callbacks(execute=True):
        start_full_recompute()
    assert not StaleCustomer.objects.exists()


def test_the_command_recomputes_in_process_with_sync(customers):
    out = StringIO()
    call_command("recompute_metrics", "--sync", stdout=out, stderr=StringIO())
    assert "Done" in out.getvalue()
    assert CustomerMetrics.objects.count() == 7
    assert RecomputeRun.objects.get().status == "done"


def test_a_chunk_that_gives_up_marks_the_run_failed(customers):
    from metrics.tasks import recompute_chunk

    run = start_full_recompute(enqueue=False)
    (chunk,) = run.chunks.all()
    recompute_chunk.on_failure(DatabaseError("disk full"), "task-id", (chunk.id,), {}, None)
    run.refresh_from_db()
    assert run.status == "failed" and "disk full" in run.error


def test_a_redelivered_segment_job_builds_again_but_counts_once(customers):
    from metrics.models import RecomputeSegment
    from metrics.services import segment_job_process, snapshots_start

    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    run = start_full_recompute(enqueue=False)
    for chunk in run.chunks.all():
        chunk_process(chunk_id=chunk.id, enqueue_snapshots=False)
    with mock.patch("metrics.tasks.build_segment_part.s"):
        assert snapshots_start(run_id=run.id) == 2
        assert snapshots_start(run_id=run.id) == 2  # redelivered: same jobs, none counted
    first, second = RecomputeSegment.objects.filter(run=run)
    assert segment_job_process(job_id=first.id) is False
    assert segment_job_process(job_id=first.id) is False
    run.refresh_from_db()
    assert (run.segments_total, run.segments_done, run.status) == (2, 1, "snapshotting")
    assert segment_job_process(job_id=second.id) is True
    run.refresh_from_db()
    assert (run.segments_done, run.status) == (2, "done")


def test_progress_runs_through_customers_then_segments(customers):
    from metrics.selectors import run_progress

    run = start_full_recompute(enqueue=False, chunk_size=4)
    assert run_progress(run)["progress_percent"] == 0
    chunk_process(chunk_id=run.chunks.order_by("index").first().id, enqueue_snapshots=False)
    run.refresh_from_db()
    assert run_progress(run)["progress_percent"] == 45
    chunk_process(chunk_id=run.chunks.order_by("index").last().id, enqueue_snapshots=False)
    run.refresh_from_db()
    assert (run.status, run.progress_percent) == ("snapshotting", 90)
    snapshots_build(run_id=run.id)
    run.refresh_from_db()
    assert run_progress(run) | {"started_at": None, "finished_at": None} == {
        "id": run.id,
        "status": "done",
        "status_display": "Done",
        "progress_percent": 100,
        "customers": 7,
        "chunks_done": 2,
        "chunks": 2,
        "segments_done": 0,
        "segments": 0,
        "started_at": None,
        "finished_at": None,
        "error": "",
    }


def test_a_segment_deleted_during_the_snapshot_phase_does_not_stall_the_run(customers):
    from metrics.models import RecomputeSegment
    from metrics.services import segment_job_process, snapshots_start

    doomed = SegmentFactory(slug="doomed")
    run = start_full_recompute(enqueue=False)
    for chunk in run.chunks.all():
        chunk_process(chunk_id=chunk.id, enqueue_snapshots=False)
    with mock.patch("metrics.tasks.build_segment_part.s"):
        snapshots_start(run_id=run.id)
    doomed.delete()
    for job in RecomputeSegment.objects.filter(run=run):
        segment_job_process(job_id=job.id)
    run.refresh_from_db()
    assert run.status == "done"


def _figures(segment: Segment) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in ("id", "computed_at")}
        for row in SegmentSnapshot.objects.filter(segment=segment).order_by("period", "period_start").values()
    ]


def test_segment_parts_run_as_separate_tasks_and_give_the_figures_of_an_in_process_build(
    customers, django_capture_on_commit_callbacks
):
    from metrics import services
    from metrics.snapshots import build_segment
    from tests.metrics.factories import answer

    for i, customer in enumerate(customers):
        customer.country = "TH" if i < 2 else "MY"
        customer.save()
    answer(customers[0], "nps", 9, timezone.now() - timedelta(days=3))
    thai = SegmentFactory(slug="thai", filter_params={"country": "TH"})
    everyone = Segment.objects.get(slug="all-customers")
    with (
        mock.patch("metrics.services.segment_part_process", wraps=services.segment_part_process) as part_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        start_full_recompute(chunk_size=3)
    parts = [call.kwargs["part"] for call in part_task.call_args_list]
    assert sorted(parts) == sorted(["stocks", "surveys", "interactions", "orders", "ordering", "events"] * 2)
    assert RecomputeRun.objects.get().status == "done"
    by_parts = {segment.pk: _figures(segment) for segment in (everyone, thai)}

    for segment in (everyone, thai):
        build_segment(segment)
        assert _figures(segment) == by_parts[segment.pk]
    thai_month = SegmentSnapshot.objects.filter(segment=thai, period="month", orders__gt=0)
    assert sum(s.orders for s in thai_month) == 2 and {s.member_count for s in thai_month} == {2}


def test_a_redelivered_part_writes_again_but_counts_once_and_the_last_part_finishes_the_run(customers):
    from metrics.models import RecomputeSegment
    from metrics.services import segment_part_process, snapshots_start
    from metrics.snapshots import PARTS

    run = start_full_recompute(enqueue=False)
    for chunk in run.chunks.all():
        chunk_process(chunk_id=chunk.id, enqueue_snapshots=False)
    with mock.patch("metrics.tasks.build_segment_part.s"):
        assert snapshots_start(run_id=run.id) == 1
    (job,) = RecomputeSegment.objects.filter(run=run)
    assert job.parts_done == []
    assert segment_part_process(job_id=job.id, part="orders") is False  # before the membership is frozen: waits
    job.refresh_from_db()
    assert job.parts_done == []
    with mock.patch("metrics.services._enqueue_parts") as enqueue_rest:
        assert segment_part_process(job_id=job.id, part="stocks", enqueue=False) is False
        assert not enqueue_rest.called
        assert segment_part_process(job_id=job.id, part="stocks") is False  # redelivered: enqueues the rest again
    assert enqueue_rest.call_count == 1
    job.refresh_from_db()
    assert job.all_customers is True
    for part in reversed(PARTS[2:]):
        assert segment_part_process(job_id=job.id, part=part) is False
        assert segment_part_process(job_id=job.id, part=part) is False
    run.refresh_from_db()
    assert (run.segments_done, run.status) == (0, "snapshotting")
    assert segment_part_process(job_id=job.id, part=PARTS[1]) is True
    run.refresh_from_db()
    assert (run.segments_done, run.status) == (1, "done")
    assert SegmentSnapshot.objects.get(segment=job.segment, period="month", orders__gt=0).orders == 7


def test_the_parts_of_a_segment_use_the_members_frozen_by_its_stocks_part(customers):
    from django.db import connection

    from metrics.models import RecomputeSegment
    from metrics.services import segment_job_process, segment_part_process, snapshots_start

    chosen = SegmentFactory(slug="chosen", kind=Segment.Kind.STATIC)
    chosen.members.set(customers[:2])
    run = start_full_recompute(enqueue=False)
    for chunk in run.chunks.all():
        chunk_process(chunk_id=chunk.id, enqueue_snapshots=False)
    with mock.patch("metrics.tasks.build_segment_part.s"):
        snapshots_start(run_id=run.id)
    job = RecomputeSegment.objects.get(run=run, segment=chosen)
    segment_part_process(job_id=job.id, part="stocks", enqueue=False)
    chosen.members.add(*customers[2:])  # joins after the membership was frozen

    segment_job_process(job_id=job.id)

    months = SegmentSnapshot.objects.filter(segment=chosen, period="month")
    assert {s.member_count for s in months} == {2}
    assert sum(s.orders for s in months) == 2
    assert sum(s.revenue for s in months) == Decimal(30)
    with connection.cursor() as cursor:  # the frozen copy is dropped when the job is done
        cursor.execute("SELECT COUNT(*) FROM metrics_snapshot_member WHERE job_id = %s", [job.id])
        assert cursor.fetchone()[0] == 0
