"""Benchmark of the full recompute against a one-statement SQL baseline.

    manage.py bench_metrics --customers 100000 [--json]

Needs an empty database (scripts/bench.sh starts a throwaway one). Generates synthetic data at the
benchmark proportions (customers.demo_data.BENCH: ≈ 10 interactions, 5 orders, 8 events, 4 invitations
and 3 answers per customer), then:

1. times a single raw-SQL statement computing the same per-customer aggregates into a temporary table
   (the baseline; run before and after the engine, the faster run counts);
2. starts real Celery worker processes (`celery -A config worker --concurrency=N` on CELERY_BROKER_URL),
   runs start_full_recompute and waits for the run to finish, sampling the workers' resident memory
   (main process plus pool children);
3. checks that the engine's rows agree with the baseline's totals;
4. times one customer's incremental recompute (median of --samples customers).

Prints a table, and with --json a JSON line as the last line.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from customers.demo_data import BENCH, generate
from customers.models import Customer
from metrics.compute import AGGREGATE_COLUMNS, aggregate_select
from metrics.models import (
    CohortCell,
    CustomerMetrics,
    RecomputeChunk,
    RecomputeRun,
    RecomputeSegment,
    SegmentSnapshot,
    StaleCustomer,
)
from metrics.services import customers_recompute, start_full_recompute

# interactions_90d is left out: its cut-off moves with the clock between the two computations.
CHECKED_TOTALS = [
    "orders",
    "revenue",
    "interactions_total",
    "first_response_seconds_sum",
    "resolution_seconds_sum",
    "answers",
    "csat_sum",
    "ces_sum",
    "invitations",
    "sessions",
    "session_seconds_sum",
    "emails_sent",
    "referrals_made",
]


class MemorySampler(threading.Thread):
    """Peak resident memory of a process and all its children, sampled every 100 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_total = 0
        self.peak_process = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
                sizes = []
                for process in processes:
                    try:
                        sizes.append(process.memory_info().rss)
                    except psutil.Error:
                        continue
                self.peak_total = max(self.peak_total, sum(sizes))
                self.peak_process = max(self.peak_process, max(sizes, default=0))
            except psutil.Error:
                pass
            self._halt.wait(0.1)

    def stop(self) -> None:
        self._halt.set()
        self.join()


class Command(BaseCommand):
    help = "Benchmark the full metrics recompute on real Celery workers against a one-statement SQL baseline."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--json", action="store_true", help="Print the result as a JSON line at the end.")
        parser.add_argument("--concurrency", type=int, default=2, help="Worker processes per Celery worker.")
        parser.add_argument("--samples", type=int, default=50, help="Customers for the incremental timing.")
        parser.add_argument("--keep-data", action="store_true", help="Use the customers already in the database.")
        parser.add_argument("--chunk-size", type=int, default=None, help="Customers per chunk (default: settings).")

    def handle(self, *args, customers: int, json: bool, concurrency: int, samples: int, keep_data: bool, **opts):
        self.quiet = json
        self.chunk_size = opts.get("chunk_size")
        result: dict = {"customers": customers, "database": connection.vendor, "cpus": os.cpu_count()}
        if Customer.objects.exists() and not keep_data:
            raise CommandError("bench_metrics needs an empty database (scripts/bench.sh starts one), or --keep-data.")
        if not Customer.objects.exists():
            started = time.perf_counter()
            generated = generate(customers=customers, volumes=BENCH, seed=11)
            result["generate_seconds"] = round(time.perf_counter() - started, 2)
            result["rows"] = generated.__dict__
            self.log(f"Generated {generated} in {result['generate_seconds']} s")
        result["customers"] = Customer.objects.count()
        # Every run starts from no computed metrics, like the first recompute of a new installation.
        with connection.cursor() as cursor:
            for model in (
                CohortCell,
                SegmentSnapshot,
                RecomputeChunk,
                RecomputeSegment,
                RecomputeRun,
                CustomerMetrics,
                StaleCustomer,
            ):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608
        self.analyze()

        first_baseline = self.baseline()
        self.log(f"Baseline (cold-ish): {first_baseline:.2f} s")

        engine = self.engine(concurrency)
        result.update(engine)

        second_baseline = self.baseline(keep=True)
        self.log(f"Baseline (warm): {second_baseline:.2f} s")
        result["baseline_seconds"] = round(min(first_baseline, second_baseline), 3)
        result["baseline_runs"] = [round(first_baseline, 3), round(second_baseline, 3)]
        result["matches_baseline"] = self.compare()
        self.drop_baseline()

        ids = list(Customer.objects.values_list("id", flat=True).order_by("?")[:samples])
        timings = []
        for customer_id in ids:
            started = time.perf_counter()
            customers_recompute(customer_ids=[customer_id])
            timings.append((time.perf_counter() - started) * 1000)
        result["incremental_ms_median"] = round(statistics.median(timings), 2) if timings else None
        result["incremental_ms_p95"] = round(sorted(timings)[int(len(timings) * 0.95) - 1], 2) if timings else None

        result["ratio"] = round(result["engine_seconds"] / result["baseline_seconds"], 3)
        result["ratio_customers_phase"] = round(result["customers_phase_seconds"] / result["baseline_seconds"], 3)
        self.report(result)
        if json:
            self.stdout.write(_dumps(result))

    def log(self, message: str) -> None:
        self.stderr.write(message) if self.quiet else self.stdout.write(message)

    def analyze(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def baseline(self, keep: bool = False) -> float:
        """One statement: the same per-customer aggregates for everyone, into a temporary table."""
        sql, params = aggregate_select(now=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_baseline")
            started = time.perf_counter()
            cursor.execute(f"CREATE TEMPORARY TABLE bench_baseline AS {sql}", params)
            elapsed = time.perf_counter() - started
            if not keep:
                cursor.execute("DROP TABLE bench_baseline")
        return elapsed

    def drop_baseline(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_baseline")

    def compare(self) -> bool:
        """The engine's totals equal the baseline's, column by column (and the row counts)."""
        assert set(CHECKED_TOTALS) <= set(AGGREGATE_COLUMNS)
        sums = ", ".join(f"SUM({c})" for c in CHECKED_TOTALS)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*), {sums} FROM bench_baseline")  # noqa: S608
            baseline = cursor.fetchone()
            cursor.execute(f"SELECT COUNT(*), {sums} FROM {CustomerMetrics._meta.db_table}")  # noqa: S608
            engine = cursor.fetchone()
        same = [float(a or 0) == float(b or 0) for a, b in zip(baseline, engine, strict=True)]
        if not all(same):
            self.log(f"Mismatch: baseline {baseline} engine {engine}")
        return all(same)

    def engine(self, concurrency: int) -> dict:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "CELERY_TASK_ALWAYS_EAGER": "false"}
        celery = Path(sys.executable).with_name("celery")
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        log = open(Path(settings.VAR_DIR) / "bench-worker.log", "w")  # noqa: SIM115 - closed below
        worker = subprocess.Popen(  # noqa: S603 - our own executable and fixed arguments
            [
                str(celery),
                "-A",
                "config",
                "worker",
                f"--concurrency={concurrency}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=bench-{os.getpid()}@%h",
            ],
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        sampler = MemorySampler(worker.pid)
        sampler.start()
        try:
            self.wait_for_worker(worker)
            idle_rss = sampler.peak_total
            started = time.perf_counter()
            run = start_full_recompute(chunk_size=self.chunk_size)
            while True:
                run.refresh_from_db()
                if run.finished_at is not None:
                    break
                if worker.poll() is not None:
                    raise CommandError(f"The Celery worker exited ({worker.returncode}); see var/bench-worker.log")
                time.sleep(0.05)
            wall = time.perf_counter() - started
            if run.status != RecomputeRun.Status.DONE:
                raise CommandError(f"Run {run.pk} {run.status}: {run.error}")
            last_chunk = run.chunks.aggregate(last=Max("done_at"))["last"] or run.started_at
        finally:
            # Stop the worker first, whatever happened: a worker left behind would keep taking tasks
            # from the broker in later runs.
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            sampler.stop()
            log.close()
        customers_phase = (last_chunk - run.started_at).total_seconds()
        snapshot_phase = (run.finished_at - last_chunk).total_seconds()
        self.log(f"Engine: {wall:.2f} s ({customers_phase:.2f} s customers, {snapshot_phase:.2f} s segments)")
        predictive = self.predictive_timings(run)
        return {
            **predictive,
            "engine_seconds": round(wall, 3),
            "customers_phase_seconds": round(customers_phase, 3),
            "snapshot_phase_seconds": round(snapshot_phase, 3),
            "chunks": run.total_chunks,
            "worker_concurrency": concurrency,
            "worker_peak_rss_mib": round(sampler.peak_total / 2**20, 1),
            "worker_peak_rss_single_process_mib": round(sampler.peak_process / 2**20, 1),
            "worker_idle_rss_mib": round(idle_rss / 2**20, 1),
        }

    def predictive_timings(self, run: RecomputeRun) -> dict:
        """The predictive part of the run: its summary and fit seconds (stored on the run) and, measured
        here in one process, the seconds to score everyone again against that fit (the chunks' extra work)."""
        from django.db import transaction

        from metrics.predictive_engine import PredictiveFit, score_customers

        fit = PredictiveFit.from_json(run.predictive_fit)
        started = time.perf_counter()
        with transaction.atomic():
            scored = score_customers(fit=fit)
        scoring = time.perf_counter() - started
        fit_seconds = (fit.bg_nbd.fit_seconds if fit.bg_nbd else 0.0) + (
            fit.gamma_gamma.fit_seconds if fit.gamma_gamma else 0.0
        )
        self.log(f"Predictive: fit {fit_seconds:.2f} s, summary {fit.summary_seconds:.2f} s, scoring {scoring:.2f} s")
        return {
            "predictive_fit_seconds": round(fit_seconds, 3),
            "predictive_summary_seconds": round(fit.summary_seconds, 3),
            "predictive_scoring_seconds": round(scoring, 3),
            "predictive_scored": scored,
            "predictive_error": fit.error,
        }

    def wait_for_worker(self, worker: subprocess.Popen) -> None:
        from config.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise CommandError("The Celery worker did not start; see var/bench-worker.log")
            if app.control.ping(timeout=0.5):
                return
        raise CommandError("No Celery worker answered within 60 s")

    def report(self, r: dict) -> None:
        rows = [
            ("customers", f"{r['customers']:,}"),
            ("full recompute (Celery)", f"{r['engine_seconds']:.2f} s"),
            ("  customers phase", f"{r['customers_phase_seconds']:.2f} s in {r['chunks']} chunks"),
            ("  segment snapshots", f"{r['snapshot_phase_seconds']:.2f} s"),
            ("one-statement SQL baseline", f"{r['baseline_seconds']:.2f} s"),
            ("ratio (full / baseline)", f"{r['ratio']:.2f}"),
            ("ratio (customers phase / baseline)", f"{r['ratio_customers_phase']:.2f}"),
            ("engine equals baseline", "yes" if r["matches_baseline"] else "NO"),
            (
                "peak worker memory",
                f"{r['worker_peak_rss_mib']:.0f} MiB, one process {r['worker_peak_rss_single_process_mib']:.0f} MiB",
            ),
            ("incremental, one customer", f"{r['incremental_ms_median']} ms median, {r['incremental_ms_p95']} ms p95"),
            (
                "predictive fit (BG/NBD + Gamma-Gamma)",
                f"{r['predictive_fit_seconds']:.2f} s, summary query {r['predictive_summary_seconds']:.2f} s",
            ),
            (
                "predictive scoring, everyone",
                f"{r['predictive_scoring_seconds']:.2f} s for {r['predictive_scored']:,} buyers"
                + (f" (no fit: {r['predictive_error']})" if r["predictive_error"] else ""),
            ),
        ]
        width = max(len(k) for k, _ in rows)
        out = self.stderr if self.quiet else self.stdout
        for key, value in rows:
            out.write(f"{key.ljust(width)}  {value}")


def _dumps(result: dict) -> str:
    return json.dumps(result, default=str, sort_keys=True)
