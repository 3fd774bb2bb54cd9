"""Bulk ingest of customers from integrations and historical loads (POST /api/customers/bulk/).

The same rules as orders and events (customers.ingest): up to MAX_BATCH customers identified by
`external_id`; all or nothing with errors per item; a customer already stored with identical
fields and tags is "unchanged", one stored with different data is a conflict (change it with
PATCH /api/customers/<id>/); the same external_id twice in a batch is an error on the later item.
New customers are inserted in bulk with their "Created" audit records (reason "API bulk ingest",
by the token's user), tags are linked (missing tag names are created, as the CSV import does), the stage follows the
churn date (customers.lifecycle.reconcile_stage),
and the new customers are marked stale in the same transaction, so their metrics rows follow.

Loading history, send customers first (with their real `acquired_at`), then their orders and
events through the other bulk endpoints.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers
from simple_history.utils import bulk_create_with_history

from customers.ingest import IngestResult, _external_id_of, _same
from customers.lifecycle import reconcile_stage
from customers.models import Customer, Language
from customers.roles import users_with_a_role
from customers.services import CUSTOMER_FIELDS, tags_from_names
from metrics.stale import mark_customers_stale

COMPARED = (*(f for f in CUSTOMER_FIELDS if f != "owner"), "owner_id")
CHANGE_REASON = "API bulk ingest"


class CustomerItemSerializer(serializers.Serializer):
    """One customer of a batch; checks that need no query (owners and tags are resolved per batch)."""

    external_id = serializers.CharField(max_length=64, help_text="The customer's id in the source system.")
    name = serializers.CharField(max_length=200)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, required=False, default=Language.ENGLISH)
    lifecycle_stage = serializers.ChoiceField(
        choices=Customer.Stage.choices, required=False, default=Customer.Stage.ACTIVE
    )
    plan = serializers.ChoiceField(choices=Customer.Plan.choices, required=False, default=Customer.Plan.FREE)
    acquired_at = serializers.DateField(required=False, help_text="Defaults to today.")
    churned_at = serializers.DateField(required=False, allow_null=True, default=None)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="A staff user's id.")
    consent_email = serializers.BooleanField(required=False, default=False)
    consent_sms = serializers.BooleanField(required=False, default=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=50, help_text="Tag names."
    )

    def validate_country(self, value: str) -> str:
        value = value.upper()
        if value and not (len(value) == 2 and value.isascii() and value.isalpha()):
            raise serializers.ValidationError("Use a two-letter ISO 3166-1 code, e.g. TH.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        acquired = attrs.get("acquired_at")
        churned = attrs.get("churned_at")
        if churned and churned < (acquired or timezone.localdate()):
            raise serializers.ValidationError({"churned_at": ["Cannot be before acquired_at."]})
        return attrs


def _tag_set(names: list[str]) -> list[str]:
    return sorted({n.strip().lower() for n in names if n and n.strip()})


def _model_errors(customer: Customer) -> dict[str, list[str]]:
    """The model's own field checks (no uniqueness or constraint queries: those are done per batch)."""
    try:
        customer.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {}


def _ingest(items: list[Any], actor: AbstractBaseUser | None) -> IngestResult:
    result = IngestResult()
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(items):
        serializer = CustomerItemSerializer(data=item)
        if serializer.is_valid():
            valid.append((index, dict(serializer.validated_data)))
        else:
            result.errors.append({"index": index, "external_id": _external_id_of(item), "errors": serializer.errors})
    owner_ids = {d["owner"] for _, d in valid if d.get("owner") is not None}
    owners = set(users_with_a_role().filter(pk__in=owner_ids).values_list("pk", flat=True))
    existing = {
        c.external_id: c
        for c in Customer.objects.filter(external_id__in=[d["external_id"] for _, d in valid]).prefetch_related("tags")
    }
    seen: set[str] = set()
    to_create: list[tuple[int, Customer, list[str]]] = []
    for index, data in valid:
        external_id = data["external_id"]
        errors: dict[str, list[str]] = {}
        if external_id in seen:
            errors["external_id"] = ["This external_id appears earlier in the same batch."]
        seen.add(external_id)
        owner = data.pop("owner", None)
        if owner is not None and owner not in owners:
            errors["owner"] = ["No staff member (an active user with a role) has this id."]
        tags = _tag_set(data.pop("tags", []))
        if "acquired_at" not in data:
            data["acquired_at"] = timezone.localdate()
        customer = Customer(**data, owner_id=owner)
        blank = Customer()
        try:
            # The stage follows the churn date, as on every write path (customers.lifecycle).
            customer.lifecycle_stage, customer.churned_at = reconcile_stage(
                stage=customer.lifecycle_stage,
                churned_at=customer.churned_at,
                stage_before=blank.lifecycle_stage,
                churned_before=blank.churned_at,
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            errors.update({k: [str(m) for m in v] for k, v in exc.message_dict.items()})
        errors.update(_model_errors(customer))
        if errors:
            result.errors.append({"index": index, "external_id": external_id, "errors": errors})
            continue
        current = existing.get(external_id)
        if current is not None:
            different = [f for f in COMPARED if not _same(getattr(current, f), getattr(customer, f))]
            if sorted(t.name for t in current.tags.all()) != tags:
                different.append("tags")
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
        to_create.append((index, customer, tags))

    if result.errors:
        result.errors.sort(key=lambda error: error["index"])
        result.items, result.unchanged = [], 0
        return result

    with transaction.atomic():
        bulk_create_with_history(
            [c for _, c, _ in to_create], Customer, default_user=actor, default_change_reason=CHANGE_REASON
        )
        # Some backends do not return the ids of bulk-created rows; read them back by external id.
        ids = dict(
            Customer.objects.filter(external_id__in=[c.external_id for _, c, _ in to_create]).values_list(
                "external_id", "id"
            )
        )
        tag_ids = {t.name: t.pk for t in tags_from_names({t for _, _, tags in to_create for t in tags})}
        through = Customer.tags.through
        through.objects.bulk_create(
            [through(customer_id=ids[c.external_id], tag_id=tag_ids[t]) for _, c, tags in to_create for t in tags],
            ignore_conflicts=True,
        )
        mark_customers_stale(customer_ids=ids.values())
    for index, customer, _ in to_create:
        result.items.append(
            {"index": index, "external_id": customer.external_id, "status": "created", "id": ids[customer.external_id]}
        )
    result.created = len(to_create)
    result.items.sort(key=lambda item: item["index"])
    return result


def customers_ingest(*, items: list[Any], actor: AbstractBaseUser | None = None) -> IngestResult:
    """Validate and insert a batch of customers (see the module docstring for the rules)."""
    # Two senders retrying the same batch at once: the loser's INSERT hits the unique external_id;
    # validating again then reports those customers as unchanged (or conflicting).
    for _attempt in range(2):
        try:
            return _ingest(items, actor)
        except IntegrityError:
            continue
    return _ingest(items, actor)
