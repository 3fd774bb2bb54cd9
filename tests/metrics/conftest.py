import importlib

import pytest
from django.core.cache import cache

from metrics.services import _BREAKPOINTS_CACHE_KEY


@pytest.fixture(scope="session", autouse=True)
def _migration_data(django_db_setup, django_db_blocker):
    """Restore the rows data migrations create (role groups, the "All customers" segment) when a
    transactional test of an earlier --reuse-db session emptied the tables."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    with django_db_blocker.unblock():
        if Group.objects.filter(name="Agent").exists():
            return
        migration = importlib.import_module("customers.migrations.0002_roles_and_search")
        state = MigrationLoader(connection).project_state(("customers", "0002_roles_and_search"))
        migration.create_roles(state.apps, None)
        migration.create_all_customers_segment(state.apps, None)


@pytest.fixture(autouse=True)
def _no_cached_breakpoints():
    """RFM breakpoints cached by an earlier test must not score this test's customers."""
    cache.delete(_BREAKPOINTS_CACHE_KEY)
    yield
    cache.delete(_BREAKPOINTS_CACHE_KEY)
