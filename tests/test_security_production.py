"""The production run: /healthz, queues by kind, task limits below the visibility timeout, gunicorn config."""

import runpy
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from config.celery import QUEUES
from config.celery import app as celery_app
from metrics.models import RecomputeRun

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_answers_json_without_login_and_without_secrets(django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(2):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "last_full_recompute"}
    assert body["checks"]["database"]["ok"] is True
    text = response.content.decode()
    assert settings.SECRET_KEY not in text and "redis://" not in text and "postgres://" not in text


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down() -> None:
    with mock.patch("core.health.connection.cursor", side_effect=RuntimeError("down")):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "RuntimeError"}


@pytest.mark.django_db
def test_strict_healthz_also_fails_on_an_old_recompute_but_the_plain_one_does_not() -> None:
    finished = timezone.now() - timezone.timedelta(seconds=settings.HEALTHZ_MAX_RECOMPUTE_AGE + 60)
    RecomputeRun.objects.create(status=RecomputeRun.Status.DONE, started_at=finished, finished_at=finished)
    plain, strict = Client().get("/healthz"), Client().get("/healthz?strict=1")
    assert plain.status_code == 200
    assert strict.status_code == 503
    assert strict.json()["checks"]["last_full_recompute"]["ok"] is False
    assert strict.json()["checks"]["last_full_recompute"]["age_seconds"] >= settings.HEALTHZ_MAX_RECOMPUTE_AGE

    RecomputeRun.objects.create(status=RecomputeRun.Status.DONE, started_at=timezone.now(), finished_at=timezone.now())
    fresh = Client().get("/healthz?strict=1").json()["checks"]["last_full_recompute"]
    assert fresh["ok"] is True and fresh["age_seconds"] < 60


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker() -> None:
    with mock.patch.object(celery_app, "connection_for_write", side_effect=OSError("refused")):
        body = Client().get("/healthz?strict=1")
    assert body.status_code == 503
    assert body.json()["checks"]["broker"] == {"ok": False, "error": "OSError"}


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("metrics.tasks.recompute_customers", "recompute-incremental"),
        ("metrics.tasks.sweep_stale", "recompute-incremental"),
        ("metrics.tasks.start_full_recompute", "recompute-full"),
        ("metrics.tasks.recompute_chunk", "recompute-full"),
        ("metrics.tasks.build_segment_part", "recompute-full"),
        ("surveys.tasks.send_invitation_email", "messages"),
        ("surveys.tasks.run_send_job", "messages"),
        ("surveys.tasks.send_due_reminders", "messages"),
        ("customers.tasks.something_else", "default"),
    ],
)
def test_tasks_are_routed_to_the_queue_of_their_kind(task: str, queue: str) -> None:
    assert celery_app.amqp.router.route({}, task)["queue"].name == queue
    assert queue in QUEUES


def test_a_crashed_workers_tasks_come_back_within_minutes_of_the_longest_time_limit() -> None:
    conf = celery_app.conf
    if not conf.broker_url.startswith("redis"):
        pytest.skip("the visibility timeout is a Redis broker setting")
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit < visibility <= conf.task_time_limit + 10 * 60
    assert conf.broker_transport_options["socket_timeout"] < 1
    assert conf.broker_transport_options["socket_connect_timeout"] < 1
    assert conf.task_publish_retry is False
    assert conf.broker_connection_max_retries is None and conf.broker_connection_retry_on_startup


def test_the_cache_has_short_timeouts_and_fails_open() -> None:
    cache = settings.CACHES["default"]
    if "LOCATION" not in cache or not str(cache["LOCATION"]).startswith("redis"):
        pytest.skip("no Redis cache configured")
    assert cache["BACKEND"] == "core.cache.FailOpenRedisCache"
    assert cache["OPTIONS"]["socket_timeout"] < 1 and cache["OPTIONS"]["socket_connect_timeout"] < 1
    assert settings.RATELIMIT_FAIL_OPEN


def test_the_gunicorn_config_sets_workers_and_timeouts(monkeypatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert config["workers"] == 3
    assert config["worker_class"] == "sync"
    assert 0 < config["timeout"] <= 60
    assert config["max_requests"] > 0
