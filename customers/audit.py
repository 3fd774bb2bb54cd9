"""The audit trail shown on the customer profile: who changed what, and when, on the customer and
its interactions (django-simple-history records)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import F, QuerySet, Window
from django.db.models.functions import Lag

from core.formats import format_date, format_datetime, staff_name
from customers.models import Customer, Interaction

AUDIT_LIMIT = 25
# Bookkeeping columns that say nothing to a reader.
IGNORED_FIELDS = {"id", "created_at", "updated_at"}
# Foreign keys to users, shown by name.
USER_FIELDS = {"owner_id", "staff_id", "assignee_id"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    user: Any
    action: str  # "Created", "Changed" or "Deleted"
    subject: str  # "Customer" or "Interaction “subject”"
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


def _display(model: type, name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    model_field = model._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    # Dates, times and money as every page shows them, not as Python prints them (raw UTC).
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _fields(model: type) -> list[tuple[str, str, str]]:
    """(field name, attribute on the history row, label) of the tracked, readable fields."""
    return [
        (f.name, f.attname, str(f.verbose_name).capitalize())
        for f in model._meta.concrete_fields
        if f.name not in IGNORED_FIELDS
    ]


def _user_names(ids: set[int]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=ids).only("username", "first_name", "last_name")
    return {u.pk: staff_name(u) for u in users}


def _entries(history: QuerySet, model: type, describe: Callable[[Any], str], limit: int) -> list[AuditEntry]:
    # LAG over each object's records gives the previous version's history_id, so the diffs need
    # one more query for all previous versions instead of one per record.
    rows = list(
        history.select_related("history_user")
        .annotate(prev_history_id=Window(Lag("history_id"), partition_by=[F("id")], order_by=F("history_date").asc()))
        .order_by("-history_date", "-history_id")[:limit]
    )
    prev_ids = [r.prev_history_id for r in rows if r.prev_history_id]
    previous = history.model.objects.in_bulk(prev_ids) if prev_ids else {}
    tracked = _fields(model)
    # (history row, action, [(field name, attname, label, old, new)])
    pending: list[tuple[Any, str, list[tuple[str, str, str, Any, Any]]]] = []
    for row in rows:
        action = {"+": "Created", "~": "Changed", "-": "Deleted"}[row.history_type]
        changes = []
        before = previous.get(row.prev_history_id)
        if before is not None:
            for name, attname, label in tracked:
                old, new = getattr(before, attname), getattr(row, attname)
                if old != new:
                    changes.append((name, attname, label, old, new))
            if action == "Changed" and not changes and not row.history_change_reason:
                continue  # a save that changed nothing we show
        pending.append((row, action, changes))

    # Owner and staff changes name the people: one query for all of them.
    user_ids = {v for _r, _a, changes in pending for c in changes if c[1] in USER_FIELDS for v in c[3:] if v}
    names = _user_names(user_ids) if user_ids else {}

    def show(name: str, attname: str, value: Any) -> str:
        if attname in USER_FIELDS and value:
            return names.get(value, f"user #{value}")
        return _display(model, name, value)

    return [
        AuditEntry(
            at=row.history_date,
            user=row.history_user,
            action=action,
            subject=describe(row),
            reason=row.history_change_reason or "",
            changes=[FieldChange(label, show(n, a, old), show(n, a, new)) for n, a, label, old, new in changes],
        )
        for row, action, changes in pending
    ]


def customer_audit_trail(customer: Customer, limit: int = AUDIT_LIMIT) -> list[AuditEntry]:
    """The latest `limit` changes to the customer and to its interactions, newest first (4 queries)."""
    entries = _entries(Customer.history.filter(id=customer.pk), Customer, lambda row: "Customer", limit) + _entries(
        Interaction.history.filter(customer_id=customer.pk),
        Interaction,
        lambda row: f"Interaction “{row.subject}”",
        limit,
    )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def interaction_audit_trail(interaction: Interaction, limit: int = AUDIT_LIMIT) -> list[AuditEntry]:
    return _entries(Interaction.history.filter(id=interaction.pk), Interaction, lambda row: "Interaction", limit)
