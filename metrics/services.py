"""Writes of the metrics engine: incremental and full recomputes.

Incremental: a change marks the customer stale (metrics.stale) and enqueues `recompute_customers` after
commit. `customers_recompute` computes the customers in one set-based statement (metrics.compute) and
then deletes their StaleCustomer rows only where marked_at is still the value it read before computing,
so a change committed during the recompute keeps its mark and is picked up again (by its own task, or
by the periodic `sweep_stale`, which also covers a broker outage).

Full: `start_full_recompute` computes the population's RFM breakpoints and fits the predictive models
(metrics.predictive_engine), creates a RecomputeRun with one
RecomputeChunk per id range of CHUNK_SIZE (20,000) customers, and enqueues a Celery group of `recompute_chunk`
tasks after commit. Each chunk computes its range and, in the same transaction, claims its chunk with a
conditional UPDATE (done_at IS NULL) and only if that claimed a row bumps run.chunks_done with F(); a
redelivered chunk (acks_late, worker killed) therefore recomputes (overwrites) but never counts twice.
The chunk that sees chunks_done = total_chunks claims the snapshot phase (UPDATE status running →
snapshotting, rowcount 1) and enqueues `build_snapshots`, which creates one RecomputeSegment job per
segment, whose snapshots are built in parts (metrics.snapshots.PARTS), and enqueues every job's "stocks"
part. The stocks part freezes the membership and writes the period rows' stocks, then
fans out the job's other parts (surveys, interactions, orders, ordering customers, events), which run in
parallel on all workers, each writing only its own columns. Each part is counted once (added to the job's
parts_done under the job's row lock); the part that completes its job counts the job (claimed like a chunk),
and the job that completes segments_done = segments_total marks the run done. No result backend is involved.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer, Segment
from metrics.compute import Breakpoints, compute_breakpoints, compute_customers
from metrics.failures import TRANSIENT, clear_failures, compute_isolating, describe, set_aside
from metrics.models import RecomputeChunk, RecomputeFailure, RecomputeRun, StaleCustomer
from metrics.predictive_engine import PredictiveFit, fit_population, score_customers
from metrics.report_selectors import live_runs

logger = logging.getLogger(__name__)

# Large enough that each chunk's statement is mostly aggregation, not planning and task overhead (at 1 M
# customers on 2 cores: 5,000 per chunk took 1.8× the one-statement baseline, 20,000 took 1.2×).
CHUNK_SIZE: int = getattr(settings, "METRICS_CHUNK_SIZE", 20_000)
SWEEP_BATCH: int = getattr(settings, "METRICS_SWEEP_BATCH", 1000)
SWEEP_MAX_BATCHES: int = getattr(settings, "METRICS_SWEEP_MAX_BATCHES", 20)
_BREAKPOINTS_CACHE_KEY = "metrics:rfm-breakpoints"
_START_LOCK = 0x6D657472  # an arbitrary advisory lock key for starting full recomputes


def current_breakpoints() -> Breakpoints:
    """The RFM breakpoints of the latest run that computed them; before any run, computed now (and cached
    for ten minutes so a burst of incremental recomputes does not scan the orders each time)."""
    data = (
        RecomputeRun.objects.exclude(rfm_breakpoints={})
        .order_by("-started_at", "-id")
        .values_list("rfm_breakpoints", flat=True)
        .first()
    )
    if data:
        return Breakpoints.from_json(data)
    cached = cache.get(_BREAKPOINTS_CACHE_KEY)
    if cached is None:
        cached = compute_breakpoints().as_json()
        cache.set(_BREAKPOINTS_CACHE_KEY, cached, 600)
    return Breakpoints.from_json(cached)


def current_predictive_fit() -> PredictiveFit:
    """The BG/NBD and Gamma-Gamma fit of the latest run that stored one (its error, if it could not
    fit). Before any full recompute there is none and predictive scores stay empty: fitting the
    population on an incremental recompute would scan every order."""
    data = (
        RecomputeRun.objects.exclude(predictive_fit={})
        .order_by("-started_at", "-id")
        .values_list("predictive_fit", flat=True)
        .first()
    )
    return PredictiveFit.from_json(data) if data else PredictiveFit(error="No full recompute has fitted the models yet")


def customers_recompute(*, customer_ids: Iterable[int], only_stale: bool = False) -> int:
    """Recompute these customers' metrics now (overwriting their rows) and clear their stale marks unless
    they were marked again meanwhile. Unknown ids are ignored. With `only_stale` (the incremental task),
    customers no longer marked are skipped, so duplicate tasks for one change collapse into one
    computation. Returns how many customers were computed."""
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return 0
    marks = list(StaleCustomer.objects.filter(customer_id__in=ids).values_list("customer_id", "marked_at"))
    if only_stale:
        ids = sorted(customer_id for customer_id, _ in marks)
        if not ids:
            return 0
    bp = current_breakpoints()
    fit = current_predictive_fit()
    with transaction.atomic():
        computed, failed = compute_isolating(lambda group: _compute_and_score(group, bp, fit), ids)
        _clear_marks([(customer_id, marked_at) for customer_id, marked_at in marks if customer_id not in failed])
        clear_failures(customer_ids=[i for i in ids if i not in failed])
        set_aside(failed)
    return computed


def _clear_marks(marks: list[tuple[int, object]]) -> None:
    by_time: dict[object, list[int]] = defaultdict(list)
    for customer_id, marked_at in marks:
        by_time[marked_at].append(customer_id)
    # mark_customers_stale stamps a whole call with one time, so there are few groups.
    for marked_at, group in by_time.items():
        StaleCustomer.objects.filter(customer_id__in=group, marked_at=marked_at).delete()


def stale_sweep(*, grace: timedelta = timedelta(seconds=30)) -> int:
    """Recompute customers still marked stale `grace` after their mark (their own task normally got there
    first), in bounded batches, oldest marks first. Customers set aside after a failure (RecomputeFailure)
    wait for their retry time, so they never hold the oldest places of every batch. Returns how many
    customers were recomputed."""
    total = 0
    now = timezone.now()
    cutoff = now - grace
    for _ in range(SWEEP_MAX_BATCHES):
        ids = list(
            StaleCustomer.objects.filter(marked_at__lte=cutoff)
            .exclude(customer_id__in=RecomputeFailure.objects.filter(retry_after__gt=now).values("customer_id"))
            .order_by("marked_at", "customer_id")
            .values_list("customer_id", flat=True)[:SWEEP_BATCH]
        )
        if not ids:
            break
        total += customers_recompute(customer_ids=ids)
        if len(ids) < SWEEP_BATCH:
            break
    return total


def _chunk_bounds(size: int) -> list[tuple[int, int]]:
    """(first id, last id) of consecutive id ranges of at most `size` existing customers."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(id), MAX(id) FROM (SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %s AS bucket "
            "FROM customers_customer) t GROUP BY bucket ORDER BY 1",
            [size],
        )
        return [(int(lo), int(hi)) for lo, hi in cursor.fetchall()]


def start_full_recompute(
    *, started_by: AbstractBaseUser | None = None, enqueue: bool = True, chunk_size: int | None = None
) -> RecomputeRun:
    """Start a full recompute, or return the one already in progress.

    Creates the run with its chunks and RFM breakpoints; with `enqueue` (the default) a Celery group of
    chunk tasks starts after commit. `enqueue=False` leaves the chunks for the caller to process
    in-process (`recompute_metrics --sync`) with `chunk_process` and `snapshots_build`.
    """
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two simultaneous starts (the nightly schedule and a manager's button) create one run.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_START_LOCK])
        active = live_runs(now).select_for_update(of=("self",)).order_by("-started_at").first()
        if active is not None:
            return active
        bounds = _chunk_bounds(chunk_size or CHUNK_SIZE)
        run = RecomputeRun.objects.create(
            started_by=started_by,
            started_at=now,
            total_customers=Customer.objects.count(),
            total_chunks=len(bounds),
            rfm_breakpoints=compute_breakpoints(now).as_json(),
            predictive_fit=fit_population(now).as_json(),
        )
        chunks = RecomputeChunk.objects.bulk_create(
            [
                RecomputeChunk(run=run, index=i, first_customer_id=lo, last_customer_id=hi)
                for i, (lo, hi) in enumerate(bounds)
            ]
        )
        cache.delete(_BREAKPOINTS_CACHE_KEY)
        if not chunks:
            # Nobody to compute: go straight to the segments.
            RecomputeRun.objects.filter(pk=run.pk).update(status=RecomputeRun.Status.SNAPSHOTTING)
            run.status = RecomputeRun.Status.SNAPSHOTTING
        if enqueue:
            chunk_ids = [c.pk for c in chunks]
            run_id = run.pk
            # robust: a broker outage must not fail the request that started the run (logged).
            transaction.on_commit(lambda: _enqueue_run(run_id, chunk_ids), robust=True)
    return run


def _enqueue_run(run_id: int, chunk_ids: list[int]) -> None:
    from celery import group

    from metrics.tasks import build_snapshots, recompute_chunk

    if not chunk_ids:
        build_snapshots.delay(run_id)
        return
    group(recompute_chunk.s(chunk_id) for chunk_id in chunk_ids).apply_async()


def chunk_process(*, chunk_id: int, enqueue_snapshots: bool = True) -> bool:
    """Compute one chunk and count it done once. Safe to run again (redelivery): it overwrites the same
    rows and the conditional UPDATEs see the chunk already done. Returns True if this call finished the
    run's customer phase (and, with `enqueue_snapshots`, enqueued the snapshot task after commit)."""
    chunk = RecomputeChunk.objects.filter(pk=chunk_id).select_related("run").first()
    if chunk is None:
        return False
    run = chunk.run
    if run.status in (RecomputeRun.Status.DONE, RecomputeRun.Status.FAILED):
        return False
    # Marks read before computing are satisfied by the computation; later ones survive it.
    marks = list(
        StaleCustomer.objects.filter(
            customer_id__gte=chunk.first_customer_id, customer_id__lte=chunk.last_customer_id
        ).values_list("customer_id", "marked_at")
    )
    bp = Breakpoints.from_json(run.rfm_breakpoints)
    with transaction.atomic():
        failed = _chunk_compute(chunk, bp, PredictiveFit.from_json(run.predictive_fit))
        _clear_marks([(customer_id, marked_at) for customer_id, marked_at in marks if customer_id not in failed])
        computed = RecomputeFailure.objects.filter(
            customer_id__gte=chunk.first_customer_id, customer_id__lte=chunk.last_customer_id
        ).exclude(customer_id__in=list(failed))
        computed.delete()
        set_aside(failed, run_id=run.pk)
        now = timezone.now()
        claimed = RecomputeChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(done_at=now)
        if not claimed:
            return False
        RecomputeRun.objects.filter(pk=run.pk).update(
            chunks_done=F("chunks_done") + 1,
            customers_failed=F("customers_failed") + len(failed),
            progressed_at=now,
            watchdog_attempts=0,
        )
        last = RecomputeRun.objects.filter(
            pk=run.pk, status=RecomputeRun.Status.RUNNING, chunks_done__gte=F("total_chunks")
        ).update(status=RecomputeRun.Status.SNAPSHOTTING)
        if last and enqueue_snapshots:
            from metrics.tasks import build_snapshots

            transaction.on_commit(lambda: build_snapshots.delay(run.pk))
    return bool(last)


def _compute_and_score(ids: list[int], bp: Breakpoints, fit: PredictiveFit) -> int:
    """Compute these customers' metrics and their predictive scores; returns how many were computed."""
    computed = compute_customers(ids=ids, bp=bp)
    score_customers(fit=fit, ids=ids)
    return computed


def _chunk_compute(chunk: RecomputeChunk, bp: Breakpoints, fit: PredictiveFit) -> dict[int, str]:
    """Compute and score a chunk's id range in one pass; if that fails, find its failing customers by
    splitting (metrics.failures) and write everyone else. Returns {customer id: error} of the failing ones."""
    id_range = (chunk.first_customer_id, chunk.last_customer_id)
    try:
        with transaction.atomic():
            compute_customers(id_range=id_range, bp=bp)
            score_customers(fit=fit, id_range=id_range)
        return {}
    except TRANSIENT:
        raise
    except Exception as exc:  # noqa: BLE001 - isolated below; a failure the split cannot pin down re-raises.
        logger.warning("Chunk %s failed as a whole (%s); splitting it", chunk.pk, describe(exc))
    ids = list(
        Customer.objects.filter(id__gte=chunk.first_customer_id, id__lte=chunk.last_customer_id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    _, failed = compute_isolating(lambda group: _compute_and_score(group, bp, fit), ids, whole_failed=True)
    return failed


def snapshots_build(*, run_id: int, progress: Callable[[int, int], None] | None = None) -> bool:
    """In-process snapshot phase (`recompute_metrics --sync`): build every segment's snapshots and cohort
    cells, then mark the run done. Returns False if the run is not in its snapshot phase."""
    from metrics.snapshots import build_all_segments

    run = RecomputeRun.objects.filter(pk=run_id).first()
    if run is None or run.status != RecomputeRun.Status.SNAPSHOTTING:
        return False
    build_all_segments(progress=progress)
    RecomputeRun.objects.filter(pk=run_id, status=RecomputeRun.Status.SNAPSHOTTING).update(
        status=RecomputeRun.Status.DONE, finished_at=timezone.now()
    )
    return True


def snapshots_start(*, run_id: int, today: date | None = None) -> int:
    """Celery snapshot phase: one job per segment, each split into parts (metrics.snapshots.PARTS). After
    commit, a group of `build_segment_part` tasks for the jobs' stocks parts; each stocks part then fans
    out its job's other parts. Safe to run twice (jobs and parts are unique; a part already done is not
    counted again). Returns the number of jobs enqueued."""
    from metrics.models import RecomputeSegment
    from metrics.snapshots import STOCKS, release_members

    today = today or timezone.localdate()
    with transaction.atomic():
        run = RecomputeRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RecomputeRun.Status.SNAPSHOTTING:
            return 0
        RecomputeSegment.objects.bulk_create(
            [RecomputeSegment(run=run, segment_id=sid) for sid in Segment.objects.values_list("id", flat=True)],
            ignore_conflicts=True,
        )
        total = RecomputeSegment.objects.filter(run=run).count()
        RecomputeRun.objects.filter(pk=run.pk).update(segments_total=total)
        # Members frozen by runs that ended without finishing their jobs are no longer needed.
        release_members(
            keep_job_ids=RecomputeSegment.objects.filter(
                done_at__isnull=True, run__finished_at__isnull=True
            ).values_list("id", flat=True)
        )
        if not total:
            RecomputeRun.objects.filter(pk=run.pk).update(status=RecomputeRun.Status.DONE, finished_at=timezone.now())
            return 0
        job_ids = list(RecomputeSegment.objects.filter(run=run, done_at__isnull=True).values_list("id", flat=True))
        day = today.isoformat()

        def enqueue() -> None:
            from celery import group

            from metrics.tasks import build_segment_part

            group(build_segment_part.s(job_id, STOCKS, day) for job_id in job_ids).apply_async()

        transaction.on_commit(enqueue)
    return len(job_ids)


def segment_part_process(*, job_id: int, part: str, today: date | None = None, enqueue: bool = True) -> bool:
    """Build one part of a segment job and count it done once; the part that completes the job's parts
    finishes the job, and the job that completes the run's segments marks the run done. The stocks part
    freezes the membership first and, with `enqueue`, fans out the job's other parts after commit (again
    on redelivery, for the parts not yet done). Safe to run again: a part writes only its own columns.
    Returns True if this call finished the run."""
    from metrics.models import RecomputeSegment
    from metrics.snapshots import PARTS, STOCKS, compute_part, freeze_members, job_members, window, write_segment

    job = RecomputeSegment.objects.filter(pk=job_id).select_related("segment").first()
    if job is None or job.done_at is not None or part not in PARTS:
        return False
    if part in job.parts_done:
        # Already done (a redelivery): the stocks part still makes sure the other parts were enqueued.
        if part == STOCKS and enqueue:
            _enqueue_parts(job.pk, today)
        return False
    segment = job.segment
    if segment is not None and part != STOCKS and STOCKS not in job.parts_done:
        # Too early: the membership is not frozen yet. The stocks part enqueues this part when it is done.
        return False
    draft = None
    if segment is not None:
        win = window(today=today)
        now = timezone.now()
        if part == STOCKS:
            with transaction.atomic():
                members = freeze_members(segment, job_id=job.pk)
                RecomputeSegment.objects.filter(pk=job.pk).update(all_customers=members.everyone)
        else:
            members = job_members(job.pk, everyone=job.all_customers is not False)
        draft = compute_part(segment, part, members=members, win=win, now=now)
    with transaction.atomic():
        # Parts of one job count and keep their drafts on the same job row: its lock makes them take turns.
        locked = (
            RecomputeSegment.objects.select_for_update()
            .filter(pk=job.pk)
            .order_by()
            .values_list("parts_done", "done_at", "drafts")
            .first()
        )
        if locked is None or locked[1] is not None or part in locked[0]:
            return False
        drafts = {**locked[2], part: draft} if draft is not None else locked[2]
        # A deleted segment has nothing left to build: every part counts as done.
        done = list(PARTS) if segment is None else [*locked[0], part]
        finishing = set(PARTS) <= set(done)
        if finishing and segment is not None:
            # The last part writes the segment's rows whole from every part's draft, in this transaction.
            write_segment(segment, drafts)
            drafts = {}
        RecomputeRun.objects.filter(pk=job.run_id).update(progressed_at=timezone.now(), watchdog_attempts=0)
        RecomputeSegment.objects.filter(pk=job.pk).update(parts_done=done, drafts=drafts)
        if not finishing:
            if part == STOCKS and enqueue:
                transaction.on_commit(lambda: _enqueue_parts(job.pk, today))
            return False
        return _job_finish(job)


def _enqueue_parts(job_id: int, today: date | None) -> None:
    from celery import group

    from metrics.models import RecomputeSegment
    from metrics.snapshots import PARTS, STOCKS
    from metrics.tasks import build_segment_part

    day = today.isoformat() if today else None
    done = RecomputeSegment.objects.filter(pk=job_id).values_list("parts_done", flat=True).first() or []
    pending = [part for part in PARTS if part != STOCKS and part not in done]
    if pending:
        group(build_segment_part.s(job_id, part, day) for part in pending).apply_async()


def _job_finish(job) -> bool:
    """Count a job whose parts are all done (once) and finish the run if it was the last. In a transaction."""
    from metrics.models import RecomputeSegment
    from metrics.snapshots import release_members

    release_members(job_ids=[job.pk])
    if not RecomputeSegment.objects.filter(pk=job.pk, done_at__isnull=True).update(done_at=timezone.now()):
        return False
    RecomputeRun.objects.filter(pk=job.run_id).update(segments_done=F("segments_done") + 1)
    finished = RecomputeRun.objects.filter(
        pk=job.run_id, status=RecomputeRun.Status.SNAPSHOTTING, segments_done__gte=F("segments_total")
    ).update(status=RecomputeRun.Status.DONE, finished_at=timezone.now())
    return bool(finished)


def segment_job_process(*, job_id: int, today: date | None = None) -> bool:
    """Build all parts of one segment job in-process, one after the other (each counted once). Returns
    True if this call finished the run."""
    from metrics.snapshots import PARTS

    today = today or timezone.localdate()
    finished = False
    for part in PARTS:
        finished = segment_part_process(job_id=job_id, part=part, today=today, enqueue=False) or finished
    return finished


def run_fail(*, run_id: int, error: str) -> None:
    """Record that a run cannot finish (a chunk or the snapshot step ran out of retries)."""
    RecomputeRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
        status=RecomputeRun.Status.FAILED, finished_at=timezone.now(), error=error[:2000]
    )
