"""Celery entry points of the metrics engine: thin, idempotent, each calling one service.

Every task is acks_late (a worker killed mid-task leaves the message for another worker; the rerun
overwrites) and retries database errors with exponential backoff.
"""

from datetime import date
from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 6,
}


class RunTask(Task):
    """Marks the run failed when a chunk or the snapshot step gives up for good."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        from metrics.models import RecomputeChunk
        from metrics.services import run_fail

        if self.name.endswith("recompute_chunk"):
            run_id = RecomputeChunk.objects.filter(pk=args[0]).values_list("run_id", flat=True).first()
        elif self.name.endswith(("build_segment_snapshots", "build_segment_part")):
            from metrics.models import RecomputeSegment

            run_id = RecomputeSegment.objects.filter(pk=args[0]).values_list("run_id", flat=True).first()
        else:
            run_id = args[0]
        if run_id is not None:
            run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(**RETRY)
def recompute_customers(customer_ids: list[int]) -> None:
    from metrics.services import customers_recompute

    customers_recompute(customer_ids=customer_ids, only_stale=True)


@shared_task(**RETRY)
def sweep_stale() -> None:
    """Periodic: recompute customers whose own task never ran (broker outage, lost message)."""
    from metrics.services import stale_sweep

    stale_sweep()


@shared_task(**RETRY)
def watch_runs() -> None:
    """Periodic: re-queue the unfinished work of a full recompute without progress, or fail it."""
    from metrics.watchdog import runs_watch

    runs_watch()


@shared_task(**RETRY)
def start_full_recompute() -> None:
    """Periodic (nightly) full recompute; does nothing while one is already running."""
    from metrics.services import start_full_recompute as start

    start()


@shared_task(base=RunTask, **RETRY)
def recompute_chunk(chunk_id: int) -> None:
    from metrics.services import chunk_process

    chunk_process(chunk_id=chunk_id)


@shared_task(base=RunTask, **RETRY)
def build_snapshots(run_id: int) -> None:
    from metrics.services import snapshots_start

    snapshots_start(run_id=run_id)


@shared_task(base=RunTask, **RETRY)
def build_segment_part(job_id: int, part: str, today: str | None = None) -> None:
    """One part of one segment's snapshots; `today` (ISO date) fixes the months of the whole run."""
    from metrics.services import segment_part_process

    segment_part_process(job_id=job_id, part=part, today=date.fromisoformat(today) if today else None)


@shared_task(base=RunTask, **RETRY)
def build_segment_snapshots(job_id: int) -> None:
    """All parts of one segment in one task (messages enqueued before the snapshot phase was split)."""
    from metrics.services import segment_job_process

    segment_job_process(job_id=job_id)
