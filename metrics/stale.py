"""Marking customers stale: called by every write that changes a customer's figures."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from metrics.models import StaleCustomer


def mark_customers_stale(*, customer_ids: Iterable[int]) -> None:
    """Record in the current transaction that these customers' metrics are out of date, and
    enqueue their recompute after commit. If the broker is down, the periodic sweep finds the
    rows instead, so nothing is lost. Marking twice before a recompute is harmless.
    """
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return
    now = timezone.now()
    StaleCustomer.objects.bulk_create(
        [StaleCustomer(customer_id=i, marked_at=now) for i in ids],
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["marked_at"],
    )

    def enqueue() -> None:
        from metrics.tasks import recompute_customers

        try:
            recompute_customers.delay(ids)
        except Exception:  # noqa: BLE001 - the sweep recomputes what the broker did not take.
            import logging

            logging.getLogger(__name__).warning("Could not enqueue recompute for %d customers", len(ids))

    transaction.on_commit(enqueue)
