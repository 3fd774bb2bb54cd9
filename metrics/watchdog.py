"""The full recompute's watchdog: a run that stops making progress is re-queued, then failed.

A chunk or part message can be lost (a broker restarted without persistence) or held by a dead worker
until the broker's visibility timeout. Every chunk and part counted done stamps run.progressed_at and
resets run.watchdog_attempts. `runs_watch` (Celery beat, every minute) looks at unfinished runs whose
last progress is older than METRICS_WATCHDOG_STALL_SECONDS (300): it claims the run with a conditional
UPDATE on its attempt count (two watchdogs never both act), then re-queues what is unfinished: the
chunks not done, or, in the snapshot phase, the snapshot task, which re-enqueues every unfinished job's
stocks part, which in turn re-enqueues the parts not done. All of them are safe to repeat (conditional
claims; parts keep drafts until the last one writes). After METRICS_WATCHDOG_ATTEMPTS (3) re-queues
without progress the run is marked failed, so a new run can start.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from metrics.models import RecomputeRun

logger = logging.getLogger(__name__)

STALL = timedelta(seconds=getattr(settings, "METRICS_WATCHDOG_STALL_SECONDS", 300))
ATTEMPTS: int = getattr(settings, "METRICS_WATCHDOG_ATTEMPTS", 3)


def runs_watch(*, stall: timedelta | None = None, attempts: int | None = None) -> dict[int, str]:
    """Re-queue or fail the unfinished runs without progress for `stall`. Returns {run id: "requeued" or
    "failed"} for the runs it acted on."""
    from metrics.services import run_fail

    stall = stall if stall is not None else STALL
    attempts = attempts if attempts is not None else ATTEMPTS
    now = timezone.now()
    acted: dict[int, str] = {}
    runs = RecomputeRun.objects.filter(
        finished_at__isnull=True, status__in=[RecomputeRun.Status.RUNNING, RecomputeRun.Status.SNAPSHOTTING]
    ).only("id", "status", "started_at", "progressed_at", "watchdog_attempts")
    for run in runs:
        if (run.progressed_at or run.started_at) > now - stall:
            continue
        if run.watchdog_attempts >= attempts:
            logger.error("Recompute run %s made no progress after %d re-queues: failed", run.pk, attempts)
            run_fail(
                run_id=run.pk,
                error=f"No progress for {stall} after {run.watchdog_attempts} re-queues of its unfinished work.",
            )
            acted[run.pk] = "failed"
            continue
        with transaction.atomic():
            claimed = RecomputeRun.objects.filter(
                pk=run.pk, finished_at__isnull=True, watchdog_attempts=run.watchdog_attempts, status=run.status
            ).update(watchdog_attempts=F("watchdog_attempts") + 1, progressed_at=now)
            if not claimed:
                continue
            logger.warning("Recompute run %s made no progress for %s: re-queueing its unfinished work", run.pk, stall)
            run_id, status = run.pk, run.status
            transaction.on_commit(lambda run_id=run_id, status=status: _requeue(run_id, status))
        acted[run.pk] = "requeued"
    return acted


def _requeue(run_id: int, status: str) -> None:
    from celery import group

    from metrics.models import RecomputeChunk
    from metrics.tasks import build_snapshots, recompute_chunk

    if status == RecomputeRun.Status.RUNNING:
        chunk_ids = list(
            RecomputeChunk.objects.filter(run_id=run_id, done_at__isnull=True)
            .order_by("index")
            .values_list("id", flat=True)
        )
        if chunk_ids:
            group(recompute_chunk.s(chunk_id) for chunk_id in chunk_ids).apply_async()
            return
    # The snapshot phase (or a run whose chunks were all counted meanwhile): creates missing jobs and
    # enqueues each unfinished job's stocks part, which re-enqueues the job's parts not done.
    build_snapshots.delay(run_id)
