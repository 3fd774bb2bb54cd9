"""Bulk ingest of orders and engagement events from integrations (a shop, a marketing tool).

A batch is up to MAX_BATCH items, each identified by its `external_id` (the id in the sending system)
and naming its customer by the customer's `external_id`. The batch is all or nothing:

- every item is validated first; if any is invalid, nothing is written and the errors are returned
  per item (with its index in the batch);
- an item whose external_id already exists with identical data is "unchanged": a retried batch
  does not count an order twice;
- an item whose external_id already exists with different data is an error ("conflict"): ingest
  never rewrites history silently; change an order through PATCH /api/orders/<id>/ instead;
- the same external_id twice in one batch is an error on the later item;
- otherwise the new items are inserted with one bulk INSERT, and the customers they belong to are
  marked stale once, in the same transaction.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from rest_framework import serializers

from customers.api.common import BoundedDateTimeField
from customers.currencies import INVALID_MESSAGE, ISO_4217
from customers.models import Customer, EngagementEvent, Order
from customers.money import MAX_BASE_AMOUNT, convert, no_rate_message, order_day, rates_on
from metrics.stale import mark_customers_stale

MAX_BATCH = 1000


class OrderItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64, help_text="The order's id in the shop; makes retries safe.")
    customer_external_id = serializers.CharField(max_length=64, help_text="The customer's external_id.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    currency = serializers.ChoiceField(
        choices=sorted(ISO_4217), default="USD", error_messages={"invalid_choice": INVALID_MESSAGE}
    )
    ordered_at = BoundedDateTimeField()
    referred_by_external_id = serializers.CharField(
        max_length=64, required=False, allow_null=True, default=None, help_text="External id of the referring customer."
    )


class EventItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64, help_text="The event's id in the sender; makes retries safe.")
    customer_external_id = serializers.CharField(max_length=64, help_text="The customer's external_id.")
    kind = serializers.ChoiceField(choices=EngagementEvent.Kind.choices)
    campaign = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=2147483647, required=False, allow_null=True, default=None, help_text="Sessions only."
    )
    pages = serializers.IntegerField(min_value=0, max_value=2147483647, required=False, allow_null=True, default=None)
    occurred_at = BoundedDateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("duration_seconds") is not None and attrs["kind"] != EngagementEvent.Kind.SESSION:
            raise serializers.ValidationError({"duration_seconds": ["Only sessions have a duration."]})
        return attrs


@dataclass
class IngestResult:
    created: int = 0
    unchanged: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Kind:
    model: type[models.Model]
    item_serializer: type[serializers.Serializer]
    # Fields compared to decide "unchanged" versus "conflict".
    compared: tuple[str, ...]


ORDERS = _Kind(Order, OrderItemSerializer, ("customer_id", "amount", "currency", "ordered_at", "referred_by_id"))
EVENTS = _Kind(
    EngagementEvent,
    EventItemSerializer,
    ("customer_id", "kind", "campaign", "duration_seconds", "pages", "occurred_at"),
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    return a == b


def _ingest(kind: _Kind, items: list[Any]) -> IngestResult:
    result = IngestResult()
    valid: list[tuple[int, dict[str, Any]]] = []
    invalid: list[tuple[int, Any, dict[str, Any]]] = []
    for index, item in enumerate(items):
        serializer = kind.item_serializer(data=item)
        if serializer.is_valid():
            valid.append((index, dict(serializer.validated_data)))
        else:
            invalid.append((index, item, dict(serializer.errors)))

    # Resolve customers and existing rows with one query each.
    customer_refs = {d["customer_external_id"] for _, d in valid} | {
        d["referred_by_external_id"] for _, d in valid if d.get("referred_by_external_id")
    }
    customer_refs |= {ref for _, item, _ in invalid if (ref := _customer_ref_of(item))}
    customers = dict(Customer.objects.filter(external_id__in=customer_refs).values_list("external_id", "id"))
    for index, item, errors in invalid:
        # Report an unknown customer along with the item's other mistakes, so one retry can fix them all.
        ref = _customer_ref_of(item)
        if ref and ref not in customers and "customer_external_id" not in errors:
            errors["customer_external_id"] = ["No customer has this external_id."]
        result.errors.append({"index": index, "external_id": _external_id_of(item), "errors": errors})
    existing = {
        row.external_id: row for row in kind.model.objects.filter(external_id__in=[d["external_id"] for _, d in valid])
    }

    # Orders: the exchange rate of each (currency, day) in one query per currency.
    rates = rates_on((d["currency"], order_day(d["ordered_at"])) for _, d in valid) if kind is ORDERS else {}
    seen: set[str] = set()
    to_create: list[tuple[int, models.Model]] = []
    for index, data in valid:
        errors: dict[str, list[str]] = {}
        external_id = data["external_id"]
        if external_id in seen:
            errors.setdefault("external_id", []).append("This external_id appears earlier in the same batch.")
        seen.add(external_id)
        values = {k: v for k, v in data.items() if not k.endswith("_external_id") or k == "external_id"}
        values["customer_id"] = customers.get(data["customer_external_id"])
        if values["customer_id"] is None:
            errors.setdefault("customer_external_id", []).append("No customer has this external_id.")
        if kind is ORDERS:
            referrer = data.get("referred_by_external_id")
            values["referred_by_id"] = customers.get(referrer) if referrer else None
            if referrer and values["referred_by_id"] is None:
                errors.setdefault("referred_by_external_id", []).append("No customer has this external_id.")
            day = order_day(data["ordered_at"])
            rate = rates.get((data["currency"], day))
            if rate is None:
                errors.setdefault("currency", []).append(no_rate_message(data["currency"], day))
            else:
                values["exchange_rate"], values["amount_base"] = rate, convert(data["amount"], rate)
                if values["amount_base"] > MAX_BASE_AMOUNT:
                    errors.setdefault("amount", []).append(f"Too large in the base currency: {values['amount_base']}.")
        if errors:
            result.errors.append({"index": index, "external_id": external_id, "errors": errors})
            continue
        current = existing.get(external_id)
        if current is not None:
            different = [f for f in kind.compared if not _same(getattr(current, f), values.get(f))]
            if different:
                names = ", ".join(f.removesuffix("_id") for f in different)
                message = f"Conflict: external_id {external_id} exists (id {current.pk}) with different {names}."
                result.errors.append({"index": index, "external_id": external_id, "errors": {"external_id": [message]}})
            else:
                result.unchanged += 1
                result.items.append(
                    {"index": index, "external_id": external_id, "status": "unchanged", "id": current.pk}
                )
            continue
        to_create.append((index, kind.model(**values)))

    if result.errors:
        result.errors.sort(key=lambda error: error["index"])
        result.items = []
        result.unchanged = 0
        return result

    with transaction.atomic():
        created = kind.model.objects.bulk_create([obj for _, obj in to_create])
        affected = {obj.customer_id for obj in created} | {
            getattr(obj, "referred_by_id", None) for obj in created if getattr(obj, "referred_by_id", None)
        }
        mark_customers_stale(customer_ids=affected)
    for (index, _), obj in zip(to_create, created, strict=True):
        result.items.append({"index": index, "external_id": obj.external_id, "status": "created", "id": obj.pk})
    result.created = len(created)
    result.items.sort(key=lambda item: item["index"])
    return result


def _customer_ref_of(item: Any) -> str | None:
    value = item.get("customer_external_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 and "\x00" not in value else None


def _external_id_of(item: Any) -> str | None:
    value = item.get("external_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and "\x00" not in value else None


def _ingest_with_retry(kind: _Kind, items: list[Any]) -> IngestResult:
    # Two senders retrying the same batch at once: the loser's INSERT hits the unique external_id;
    # validating again then reports those items as unchanged (or conflicting).
    for _attempt in range(2):
        try:
            return _ingest(kind, items)
        except IntegrityError:
            continue
    return _ingest(kind, items)


def orders_ingest(*, items: list[Any]) -> IngestResult:
    """Validate and insert a batch of orders (see the module docstring for the rules)."""
    return _ingest_with_retry(ORDERS, items)


def events_ingest(*, items: list[Any]) -> IngestResult:
    """Validate and insert a batch of engagement events (see the module docstring for the rules)."""
    return _ingest_with_retry(EVENTS, items)
