from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.core.management import call_command

from customers.demo_data import ensure_default_surveys
from surveys.models import Survey


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """The .mo files are built at set-up and git-ignored: compile them so the pages are translated."""
    call_command("compiletranslations", verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def role_groups(django_db_setup: None, django_db_blocker: object) -> None:
    """The role groups come from a data migration; a transactional test's flush at the end of an
    earlier session (--reuse-db) removes them, so make sure they exist. All the reference data, not the
    bare groups: tests/conftest.py restores it only when the groups are missing, so groups made here
    alone would leave later sessions without the built-in segment and the groups without permissions.
    """
    from customers.reference_data import ensure_reference_data

    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counters live in the cache; every test starts with none used."""
    cache.clear()
    yield


@pytest.fixture
def default_surveys(db: None) -> dict[str, Survey]:
    return {s.kind: s for s in ensure_default_surveys()}


@pytest.fixture
def nps(default_surveys: dict[str, Survey]) -> Survey:
    return default_surveys["nps"]


@pytest.fixture
def csat(default_surveys: dict[str, Survey]) -> Survey:
    return default_surveys["csat"]


@pytest.fixture
def ces(default_surveys: dict[str, Survey]) -> Survey:
    return default_surveys["ces"]
