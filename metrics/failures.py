"""Poison customers: one customer whose figures cannot be computed never stops anyone else's.

A batch of customers (an incremental task, a sweep batch, a full recompute's chunk) is computed in a
savepoint; if the statement fails for a reason that is not the connection's (OperationalError and
InterfaceError are re-raised so the task retries as a whole), the batch is split in halves and each half
tried again, down to the single customers that fail. Those are set aside in RecomputeFailure with their
error, stay marked stale, and are retried by the sweep after a backoff that doubles from a minute to a
day; everyone else's rows are written. With one poison customer in a chunk of n, the split costs about
2·log2(n) extra statements on ever smaller halves, about twice the chunk's work.
"""

import logging
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from metrics.models import RecomputeFailure, StaleCustomer

logger = logging.getLogger(__name__)

# Trouble with the database connection itself says nothing about the customers: retry the whole task.
TRANSIENT: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(days=1)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def compute_isolating(
    compute: Callable[[list[int]], int], ids: list[int], *, whole_failed: bool = False
) -> tuple[int, dict[int, str]]:
    """Run `compute(ids)` in a savepoint; if it fails, split the ids until the failing customers are found.
    `whole_failed` says the caller already tried all of `ids` at once. Returns (customers computed,
    {customer id: error} of those that failed alone)."""
    if not ids:
        return 0, {}
    if not whole_failed:
        try:
            with transaction.atomic():
                return compute(ids), {}
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of one customer's data is isolated below.
            if len(ids) == 1:
                logger.warning("Metrics of customer %s cannot be computed: %s", ids[0], describe(exc))
                return 0, {ids[0]: describe(exc)}
    if len(ids) == 1:
        # The caller's whole attempt was this one customer.
        return compute_isolating(compute, ids)
    mid = len(ids) // 2
    left, left_failed = compute_isolating(compute, ids[:mid])
    right, right_failed = compute_isolating(compute, ids[mid:])
    return left + right, {**left_failed, **right_failed}


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the attempts so far, at most a day."""
    return min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def set_aside(failures: Mapping[int, str], *, run_id: int | None = None, now: datetime | None = None) -> None:
    """Record these customers' failures (counting attempts) and keep them marked stale for the sweep's retry."""
    if not failures:
        return
    now = now or timezone.now()
    ids = sorted(failures)
    earlier = {f.customer_id: f for f in RecomputeFailure.objects.filter(customer_id__in=ids)}
    rows = []
    for customer_id in ids:
        previous = earlier.get(customer_id)
        attempts = previous.attempts + 1 if previous else 1
        rows.append(
            RecomputeFailure(
                customer_id=customer_id,
                run_id=run_id if run_id is not None else (previous.run_id if previous else None),
                error=failures[customer_id],
                attempts=attempts,
                first_failed_at=previous.first_failed_at if previous else now,
                last_failed_at=now,
                retry_after=now + retry_delay(attempts),
            )
        )
    RecomputeFailure.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["run", "error", "attempts", "last_failed_at", "retry_after"],
    )
    # A mark already there keeps its time (the sweep's order); a missing one is added.
    StaleCustomer.objects.bulk_create([StaleCustomer(customer_id=i, marked_at=now) for i in ids], ignore_conflicts=True)


def clear_failures(*, customer_ids: Collection[int]) -> None:
    """Forget the failures of customers computed successfully."""
    if customer_ids:
        RecomputeFailure.objects.filter(customer_id__in=list(customer_ids)).delete()
