"""One liveness rule for full recomputes: a run with no progress for RUN_DEAD_AFTER is dead, for the page and the
service alike."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.models import RecomputeChunk, RecomputeRun
from metrics.report_selectors import RUN_DEAD_AFTER, latest_run, live_runs, run_is_active, run_is_dead
from metrics.services import start_full_recompute
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def old_run(hours: float, *, progress_minutes_ago: float | None = None) -> RecomputeRun:
    """A run started `hours` ago, still running; with a chunk done `progress_minutes_ago` if given."""
    now = timezone.now()
    run = RecomputeRun.objects.create(started_at=now - timedelta(hours=hours), total_chunks=2)
    RecomputeChunk.objects.create(run=run, index=0, first_customer_id=1, last_customer_id=10)
    if progress_minutes_ago is not None:
        RecomputeChunk.objects.create(
            run=run,
            index=1,
            first_customer_id=11,
            last_customer_id=20,
            done_at=now - timedelta(minutes=progress_minutes_ago),
        )
    return run


def test_a_run_without_progress_for_three_hours_is_dead_everywhere():
    dead = old_run(3)
    assert list(live_runs()) == []
    run = latest_run()
    assert run.pk == dead.pk
    assert not run_is_active(run) and run_is_dead(run)
    assert timedelta(hours=3) > RUN_DEAD_AFTER


def test_a_long_run_that_keeps_finishing_chunks_is_alive():
    alive = old_run(5, progress_minutes_ago=5)
    assert list(live_runs()) == [alive]
    assert run_is_active(latest_run()) and not run_is_dead(latest_run())


def test_the_service_starts_a_new_run_beside_a_dead_one_and_not_beside_a_live_one():
    CustomerFactory()
    dead = old_run(3)
    fresh = start_full_recompute(enqueue=False)
    assert fresh.pk != dead.pk
    assert start_full_recompute(enqueue=False).pk == fresh.pk  # the new one is alive: no third run


def test_the_button_starts_a_recompute_when_the_last_run_died(manager_client):
    CustomerFactory()
    dead = old_run(3)
    response = manager_client.post("/reports/recompute/", HTTP_ACCEPT="application/json")
    body = response.json()
    assert response.status_code == 202 and body["started"] is True
    assert body["run"]["id"] != dead.pk and body["run"]["active"] is True
    assert RecomputeRun.objects.count() == 2


def test_the_button_says_already_running_only_when_a_run_is_alive(manager_client):
    alive = old_run(4, progress_minutes_ago=1)
    response = manager_client.post("/reports/recompute/", HTTP_ACCEPT="application/json")
    body = response.json()
    assert response.status_code == 200 and body["started"] is False
    assert body["message"] == "A recompute is already running." and body["run"]["id"] == alive.pk
    assert RecomputeRun.objects.count() == 1


def test_the_page_says_a_dead_run_stopped_and_leaves_the_button_enabled(manager_client):
    old_run(3)
    html = manager_client.get("/reports/").content.decode()
    assert "stopped at 0 %: no progress since" in html
    assert "Recompute all metrics now</button>" in html
    assert " disabled>Recompute all metrics now" not in html
    assert manager_client.get("/reports/recompute/status/").json()["run"]["dead"] is True
