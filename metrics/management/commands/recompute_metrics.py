"""Recompute every customer's metrics and every segment's snapshots.

manage.py recompute_metrics          start a run on the Celery workers and follow its progress
manage.py recompute_metrics --sync   compute in this process (the demo, a one-off repair)
"""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from metrics.models import RecomputeRun
from metrics.services import chunk_process, run_fail, snapshots_build, start_full_recompute


class Command(BaseCommand):
    help = "Recompute all customer metrics and segment snapshots, with a progress bar."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sync", action="store_true", help="Compute in this process instead of on workers.")
        parser.add_argument("--timeout", type=int, default=6 * 3600, help="Seconds to follow a Celery run.")

    def handle(self, *args, sync: bool, timeout: int, **options) -> None:
        if sync:
            self._sync()
        else:
            self._follow(timeout)

    def _sync(self) -> None:
        run = start_full_recompute(enqueue=False)
        if run.status not in (RecomputeRun.Status.RUNNING, RecomputeRun.Status.SNAPSHOTTING):
            raise CommandError(f"Run {run.pk} is {run.status}")
        try:
            self._sync_run(run)
        except BaseException as exc:
            # A crash (or Ctrl-C) must not leave the run "running", blocking new runs for hours.
            run_fail(run_id=run.pk, error=f"recompute_metrics --sync: {type(exc).__name__}: {exc}")
            raise
        run.refresh_from_db()
        self.stdout.write(f"Run {run.pk}: {run.total_customers} customers, status {run.get_status_display()}.")

    def _sync_run(self, run: RecomputeRun) -> None:
        with tqdm(total=run.total_chunks, desc="Customers", unit="chunk", disable=None) as bar:
            for chunk_id in run.chunks.filter(done_at__isnull=True).order_by("index").values_list("id", flat=True):
                chunk_process(chunk_id=chunk_id, enqueue_snapshots=False)
                bar.update(1)
        with tqdm(desc="Segments", unit="segment", disable=None) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            snapshots_build(run_id=run.pk, progress=progress)

    def _follow(self, timeout: int) -> None:
        run = start_full_recompute()
        self.stdout.write(f"Run {run.pk} queued on the Celery workers ({run.total_chunks} chunks).")
        deadline = time.monotonic() + timeout
        with tqdm(total=max(run.total_chunks, 1), desc="Customers", unit="chunk", disable=None) as bar:
            while True:
                run.refresh_from_db()
                bar.n = run.chunks_done
                bar.set_postfix_str(run.get_status_display())
                bar.refresh()
                if run.finished_at is not None:
                    break
                if time.monotonic() > deadline:
                    raise CommandError(f"Run {run.pk} still {run.status} after {timeout} s; is a worker running?")
                time.sleep(1)
        if run.status == RecomputeRun.Status.FAILED:
            raise CommandError(f"Run {run.pk} failed: {run.error}")
        self.stdout.write(f"Run {run.pk} done.")
