"""Fault tests on real services of their own: a Redis that dies or freezes, a PostgreSQL that restarts.

Each test starts its own throwaway server on a free port (never the suite's), breaks it and checks the app
degrades instead of failing: bounded latency, nothing lost, recovery without restarting anything.
Select them with `-m faults`.
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from config.celery import app as celery_app
from metrics.models import CustomerMetrics, StaleCustomer
from metrics.services import stale_sweep
from surveys.models import Response
from surveys.services import invitation_create
from tests.api.conftest import token_client
from tests.customers.factories import CustomerFactory
from tests.surveys.factories import SurveyFactory, SurveyTextFactory

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("RAPPORT_PG_BIN", "/usr/lib/postgresql/15/bin"))
BOUND = 2.0  # seconds: no request may take longer while a service is away


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


class LoneRedis:
    """A redis-server of the test's own, which it can kill, freeze and bring back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


@pytest.fixture
def lone_redis() -> Iterator[LoneRedis]:
    """Cache and broker both on a Redis of this test's own, with the production timeouts."""
    from django.conf import settings

    if "socket_timeout" not in settings.CELERY_BROKER_TRANSPORT_OPTIONS:
        pytest.skip("needs the Redis broker settings (CELERY_BROKER_URL=redis://..., as scripts/test.sh sets)")
    redis = LoneRedis()
    redis.start()
    caches = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": redis.url(1),
            "OPTIONS": {
                "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
                "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
            },
        }
    }
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.get("broker_write_url"), conf.get("broker_read_url"))
    conf.task_always_eager = False
    # The write and read URLs, since CELERY_BROKER_URL in the environment wins over conf.broker_url.
    conf.broker_write_url = conf.broker_read_url = redis.url(0)
    saved_options = conf.broker_transport_options
    conf.broker_transport_options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)  # production timeouts
    _reset_broker_pools()
    with override_settings(CACHES=caches, RATELIMIT_ENABLE=True):
        cache.clear()
        try:
            yield redis
        finally:
            if redis.process and redis.process.poll() is None:
                redis.thaw()
                redis.kill()
            conf.task_always_eager, conf.broker_write_url, conf.broker_read_url = saved
            conf.broker_transport_options = saved_options
            _reset_broker_pools()


def _reset_broker_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def survey_link() -> tuple[int, str]:
    survey = SurveyFactory(slug="nps-faults")
    SurveyTextFactory(survey=survey, language="en")
    customer = CustomerFactory()
    _, token = invitation_create(survey=survey, customer=customer)
    return customer.pk, f"/s/{token}/"


def timed(call) -> tuple[float, object]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def warm_up(survey_link: tuple[int, str], agent) -> None:
    """The app is running before the outage: load every module (a first request imports the URLconf)."""
    customer_id, url = survey_link
    assert Client().get(url).status_code == 200
    staff = Client()
    staff.force_login(agent)
    assert staff.get(f"/customers/{customer_id}/").status_code == 200


def answer_and_browse(survey_link: tuple[int, str], agent) -> int:
    """With Redis broken: answer the survey and use the staff pages, each within BOUND seconds."""
    customer_id, url = survey_link
    seconds, response = timed(lambda: Client().post(url, {"score": "9", "comment": "Great", "revision": "0"}))
    assert response.status_code == 303, response.content[:500]
    assert seconds < BOUND, f"answer took {seconds:.2f} s"
    assert Response.objects.filter(invitation__customer_id=customer_id, score=9).exists()  # nothing lost
    assert StaleCustomer.objects.filter(customer_id=customer_id).exists()  # the sweep will find it

    staff = Client()
    staff.force_login(agent)
    for page in ("/customers/", "/surveys/", f"/customers/{customer_id}/"):
        seconds, response = timed(lambda page=page: staff.get(page))
        assert response.status_code == 200, page
        assert seconds < BOUND, f"{page} took {seconds:.2f} s"
    seconds, response = timed(lambda: token_client(agent).get("/api/customers/"))  # throttled endpoint
    assert response.status_code == 200
    assert seconds < BOUND, f"API took {seconds:.2f} s"
    return customer_id


def test_with_redis_dead_answers_and_staff_pages_work_and_the_sweep_heals_after(lone_redis, survey_link, agent, caplog):
    warm_up(survey_link, agent)
    lone_redis.kill()
    with caplog.at_level(logging.WARNING):
        customer_id = answer_and_browse(survey_link, agent)
    # Rate limits and throttles let requests through and say so; the lost enqueue is logged too.
    assert any(r.name == "rapport.cache" and "Cache unavailable" in r.getMessage() for r in caplog.records)
    assert any(r.name == "metrics.stale" for r in caplog.records)

    lone_redis.start()  # Redis is back (empty: nothing was persisted)
    assert stale_sweep(grace=timedelta(0)) == 1
    assert not StaleCustomer.objects.filter(customer_id=customer_id).exists()
    metrics = CustomerMetrics.objects.get(customer_id=customer_id)
    assert metrics.latest_nps_score == 9


def test_with_redis_frozen_no_request_hangs(lone_redis, survey_link, agent):
    warm_up(survey_link, agent)
    lone_redis.freeze()
    try:
        answer_and_browse(survey_link, agent)
    finally:
        lone_redis.thaw()


# PostgreSQL restart -----------------------------------------------------------------------------------


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else list(command)


@pytest.fixture
def lone_postgres() -> Iterator[tuple[int, Path]]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"{PG_BIN}/initdb is missing: `make test` installs PostgreSQL 15")
    folder = Path(tempfile.mkdtemp(prefix="rapport-fault-pg-"))
    folder.chmod(0o755)
    if os.getuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    data = folder / "data"
    subprocess.run(
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "rapport", "--auth=trust", "-E", "UTF8"),
        check=True,
        capture_output=True,
        timeout=60,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "pg.log"), "-w", "-o", options]
    # The server inherits pg_ctl's output: never a pipe, or run() would wait for the server to exit.
    subprocess.run(
        _as_postgres(*ctl, "start"), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
    )
    try:
        yield port, folder
    finally:
        subprocess.run(_as_postgres(*ctl[:3], "stop", "-m", "immediate"), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_after_a_postgresql_restart_under_traffic_the_app_heals_by_itself(lone_postgres):
    """gunicorn (the production command) on a database that restarts: requests after it succeed, unrestarted."""
    port, folder = lone_postgres
    web_port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": "/tmp",
        "DEBUG": "false",
        "SECRET_KEY": "fault-test-key-2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://rapport@127.0.0.1:{port}/postgres",
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESS_LOG": str(folder / "access.log"),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "gunicorn.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    import http.client

    def health() -> int:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", web_port, timeout=BOUND)
            connection.request("GET", "/healthz")
            return connection.getresponse().status
        except OSError:
            return 0

    ctl = [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "pg.log"), "-w", "-m", "fast"]

    def restart_database() -> float:
        subprocess.run(
            _as_postgres(*ctl, "restart", "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        return time.monotonic()

    try:
        wait_for(lambda: health() == 200, timeout=30)
        # 1. Under steady traffic: requests during the restart may fail, every one after it succeeds.
        statuses: list[tuple[float, int]] = []
        stop = threading.Event()

        def traffic() -> None:
            while not stop.is_set():
                statuses.append((time.monotonic(), health()))
                time.sleep(0.02)

        worker = threading.Thread(target=traffic)
        worker.start()
        time.sleep(0.5)
        restarted = restart_database()
        time.sleep(1.5)
        stop.set()
        worker.join()
        after = [status for at, status in statuses if at > restarted]
        assert after, "no request after the restart"
        assert set(after) == {200}, after

        # 2. While the server's persistent connection sits idle: the very first request after the restart
        # succeeds too (the connection is checked before use, not found broken by a failing query).
        restart_database()
        assert [health() for _ in range(3)] == [200, 200, 200]
        assert server.poll() is None  # the same server, never restarted
    finally:
        server.terminate()
        server.wait(timeout=10)
