"""Celery entry points of the metrics engine."""

from celery import shared_task


@shared_task(acks_late=True)
def recompute_customers(customer_ids: list[int]) -> None:
    from metrics.services import customers_recompute

    customers_recompute(customer_ids=customer_ids)
