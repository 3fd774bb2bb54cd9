import pytest
from django.core.cache import cache

from metrics.services import _BREAKPOINTS_CACHE_KEY


@pytest.fixture(autouse=True)
def _no_cached_breakpoints():
    """RFM breakpoints cached by an earlier test must not score this test's customers."""
    cache.delete(_BREAKPOINTS_CACHE_KEY)
    yield
    cache.delete(_BREAKPOINTS_CACHE_KEY)
