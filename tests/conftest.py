"""Shared fixtures: users for each role, logged-in clients, and a real Chromium for page tests."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from config.celery import app as celery_app
from customers.roles import Role

# pytest-django's live_server runs beside Playwright's sync API, which holds an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Unit tests run tasks in-process; tests marked celery_worker start a real worker on the broker.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-results"


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Make sure the rows migrations create (role groups, the built-in segment) are there: a
    transactional test ends by flushing every table, taking them with it."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif marker or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from customers.reference_data import ensure_reference_data

    if not Group.objects.filter(name=Role.AGENT.group_name).exists():
        ensure_reference_data()


@pytest.fixture
def thb_rate(db: None) -> object:
    """An exchange rate for THB, so orders in baht can be recorded."""
    from tests.customers.factories import ExchangeRateFactory

    return ExchangeRateFactory()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, role: Role | None = None, **extra: object) -> User:
        user = User.objects.create_user(username=username, password="pw-for-tests-1", **extra)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.group_name))
            if role is Role.ADMIN:
                user.is_staff = True
                user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        return user

    return make


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user("agent", Role.AGENT, first_name="Aom")


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager", Role.MANAGER, first_name="Mei")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("boss", Role.ADMIN)


@pytest.fixture
def outsider(make_user: Callable[..., User]) -> User:
    """Logged in, but holds no role."""
    return make_user("outsider")


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent: User) -> Client:
    return _client_for(agent)


@pytest.fixture
def manager_client(manager: User) -> Client:
    return _client_for(manager)


@pytest.fixture
def admin_client_(admin: User) -> Client:
    return _client_for(admin)


@pytest.fixture
def outsider_client(outsider: User) -> Client:
    return _client_for(outsider)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def browser_login(page: object, live_server: object, username: str, password: str = "pw-for-tests-1") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
