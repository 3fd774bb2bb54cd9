"""Writes the API makes to customers, interactions, orders and engagement events.

Each runs in one transaction and marks the customers whose figures change as stale in it, so the
metrics engine recomputes them after commit. They take a validated serializer: the API's
serializers carry the model's validation (customers.api.common.FullCleanMixin).
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.serializers import BaseSerializer

from customers.models import Customer, EngagementEvent, Interaction, Order
from metrics.stale import mark_customers_stale


def _affected_customer_ids(obj: Any) -> set[int]:
    if isinstance(obj, Customer):
        return {obj.pk}
    ids = {obj.customer_id}
    if isinstance(obj, Order) and obj.referred_by_id:
        # Advocacy revenue of the referrer changes too.
        ids.add(obj.referred_by_id)
    return ids


def _save_marking_stale(*, serializer: BaseSerializer, **extra: Any) -> Any:
    before = _affected_customer_ids(serializer.instance) if serializer.instance is not None else set()
    with transaction.atomic():
        obj = serializer.save(**extra)
        mark_customers_stale(customer_ids=before | _affected_customer_ids(obj))
    return obj


def customer_save(*, serializer: BaseSerializer) -> Customer:
    """Create or update a customer. Acquisition and churn dates feed tenure and retention: marks it stale."""
    return _save_marking_stale(serializer=serializer)


def interaction_save(*, serializer: BaseSerializer, staff: AbstractBaseUser | None = None) -> Interaction:
    """Create or update an interaction; `staff` is recorded on creation when none is given.

    Moving it to another customer marks both customers stale. When this write resolves the
    interaction, surveys triggered by resolution are given their chance to invite the customer.
    """
    was_resolved = serializer.instance is not None and serializer.instance.status == Interaction.Status.RESOLVED
    extra: dict[str, Any] = {}
    if serializer.instance is None and staff is not None and not serializer.validated_data.get("staff"):
        extra["staff"] = staff
    with transaction.atomic():
        interaction = _save_marking_stale(serializer=serializer, **extra)
        if interaction.status == Interaction.Status.RESOLVED and not was_resolved:
            from surveys.triggers import on_interaction_resolved

            on_interaction_resolved(interaction=interaction)
    return interaction


def order_save(*, serializer: BaseSerializer) -> Order:
    """Create or update one order (bulk loads use customers.ingest); marks buyer and referrer stale."""
    return _save_marking_stale(serializer=serializer)


def event_save(*, serializer: BaseSerializer) -> EngagementEvent:
    """Create or update one engagement event (bulk loads use customers.ingest); marks the customer stale."""
    return _save_marking_stale(serializer=serializer)


def record_delete(*, instance: Interaction | Order | EngagementEvent) -> None:
    """Delete an interaction, order or event and mark the customers whose figures it counted in."""
    with transaction.atomic():
        ids = _affected_customer_ids(instance)
        instance.delete()
        mark_customers_stale(customer_ids=ids)


def customer_delete(*, customer: Customer) -> None:
    """Delete a customer with their interactions, events and answers (not possible while orders refer to them:
    orders are kept for revenue history, Django raises ProtectedError)."""
    with transaction.atomic():
        customer.delete()
