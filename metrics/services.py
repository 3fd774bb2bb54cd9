"""Metrics engine services (filled in by the metrics engine work)."""

from collections.abc import Iterable


def customers_recompute(*, customer_ids: Iterable[int]) -> int:
    raise NotImplementedError
