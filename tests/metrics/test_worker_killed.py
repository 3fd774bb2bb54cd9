"""Fault test on the real services: a Celery worker killed with SIGKILL during a full recompute.

Two real worker processes (prefork, on the Redis broker of `make test`, against the test database) are
started from this test. The first is killed -9 with its children while the run is computing customers:
the tasks it held are neither acknowledged nor returned, so Redis would only hand them out again after
its visibility timeout. The watchdog, called here with a 2-second stall instead of beat's minutes,
re-queues them to the second worker. The run must finish within BOUND seconds of the kill, and its
figures must equal those of a clean in-process run over the same data.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from config.celery import app
from metrics.models import CohortCell, CustomerMetrics, LifespanCell, RecomputeRun, SegmentSnapshot
from metrics.services import start_full_recompute
from metrics.watchdog import runs_watch
from tests.customers.factories import CustomerFactory, OrderFactory, SegmentFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

BOUND = 120  # seconds from the kill to the run's end, including the watchdog's 2-second stalls
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
            "--loglevel=WARNING", f"--hostname={name}@%h", "--without-gossip", "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group, so the kill takes the children too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _wait_for(name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        if any(name in host for reply in replies for host in reply):
            return
    pytest.fail(f"worker {name} did not start within {timeout} s")


def _figures() -> dict[str, list]:
    def rows(qs, *exclude: str) -> list:
        names = [f.attname for f in qs.model._meta.concrete_fields if f.attname not in ("id", *exclude)]
        return list(qs.order_by(*names[:4]).values_list(*names))

    return {
        "customers": rows(CustomerMetrics.objects.all(), "computed_at"),
        "snapshots": rows(SegmentSnapshot.objects.all(), "computed_at"),
        "cohorts": rows(CohortCell.objects.all(), "computed_at"),
        "lifespans": rows(LifespanCell.objects.all(), "computed_at"),
    }


@pytest.fixture
def workers():
    if not settings.CELERY_BROKER_URL.startswith("redis://") or connection.vendor != "postgresql":
        pytest.skip("needs the Redis broker and PostgreSQL of make test")
    app.conf.task_always_eager = False
    app.control.purge()
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        worker = _start_worker(name)
        started.append(worker)
        _wait_for(name)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            _stop(worker)
        app.control.purge()
        app.conf.task_always_eager = True


def test_a_worker_killed_during_a_full_recompute_does_not_stop_the_run(workers):
    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    SegmentFactory(slug="malaysia", filter_params={"country": "MY"})
    people = CustomerFactory.create_batch(400)
    for i, customer in enumerate(people):
        OrderFactory(customer=customer, amount=Decimal(5 + i % 17))

    victim = workers("victim")
    run = start_full_recompute(chunk_size=4)  # 100 chunks
    deadline = time.monotonic() + 60
    while RecomputeRun.objects.get(pk=run.pk).chunks_done < 3:
        assert time.monotonic() < deadline, "the first worker computed nothing"
        time.sleep(0.02)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    killed_at = time.monotonic()
    run.refresh_from_db()
    assert run.finished_at is None and run.chunks_done < run.total_chunks, "killed too late to test anything"

    workers("rescuer")
    requeues = 0
    while run.finished_at is None:
        assert time.monotonic() - killed_at < BOUND, f"run still {run.status} {BOUND} s after the kill"
        requeues += list(runs_watch(stall=timedelta(seconds=2)).values()).count("requeued")
        time.sleep(0.5)
        run.refresh_from_db()
    elapsed = time.monotonic() - killed_at

    assert run.status == RecomputeRun.Status.DONE, run.error
    assert (run.chunks_done, run.segments_done) == (run.total_chunks, run.segments_total)
    assert elapsed < BOUND
    # The tasks the killed worker held stay unacknowledged in Redis for its visibility timeout: the
    # watchdog is what brought them back.
    assert requeues >= 1
    after_kill = _figures()
    assert len(after_kill["customers"]) == 400

    call_command("recompute_metrics", "--sync", stdout=StringIO(), stderr=StringIO())
    assert _figures() == after_kill
