"""Serializers of the customers API: customers, interactions, orders, engagement events, segments."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from customers.api.common import ApiModelSerializer, FullCleanMixin, NoNulSlugRelatedField, drf_validation_error
from customers.countries import country_code
from customers.currencies import INVALID_MESSAGE, is_currency
from customers.customer_ingest import CustomerItemSerializer
from customers.filters import customer_filter
from customers.ingest import MAX_BATCH, EventItemSerializer, OrderItemSerializer
from customers.lifecycle import reconcile_stage
from customers.models import Customer, EngagementEvent, Interaction, Order, Segment, Tag
from customers.roles import users_with_a_role
from customers.selectors import SEGMENT_FORBIDDEN_PARAMS
from customers.services import CUSTOMER_FIELDS


def staff_users() -> Any:
    """Users a customer, interaction or follow-up may be given to: those with a role."""
    return users_with_a_role()


class CustomerSerializer(FullCleanMixin, ApiModelSerializer):
    tags = NoNulSlugRelatedField(
        many=True, slug_field="name", queryset=Tag.objects.all(), required=False, help_text="Names of existing tags."
    )
    owner = serializers.PrimaryKeyRelatedField(queryset=staff_users(), required=False, allow_null=True)
    country = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="ISO 3166-1 alpha-2 code (TH), or a market's name (Thailand, ไทย, 泰國) stored as its code.",
    )

    class Meta:
        model = Customer
        fields = ["id", *CUSTOMER_FIELDS, "tags", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        acquired = attrs.get("acquired_at", getattr(self.instance, "acquired_at", None))
        churned = attrs.get("churned_at", getattr(self.instance, "churned_at", None))
        if acquired and churned and churned < acquired:
            raise serializers.ValidationError({"churned_at": ["Cannot be before acquired_at."]})
        # The stage follows the churn date (customers.lifecycle) before the model's constraint is checked.
        stage_before = getattr(self.instance, "lifecycle_stage", Customer.Stage.ACTIVE)
        try:
            stage, churned_at = reconcile_stage(
                stage=attrs.get("lifecycle_stage", stage_before),
                churned_at=churned,
                stage_before=stage_before,
                churned_before=getattr(self.instance, "churned_at", None),
                today=timezone.localdate(),
            )
        except DjangoValidationError as exc:
            raise drf_validation_error(exc) from exc
        if "lifecycle_stage" in attrs or stage != stage_before:
            attrs["lifecycle_stage"] = stage
        if "churned_at" in attrs or churned_at != churned:
            attrs["churned_at"] = churned_at
        return super().validate(attrs)

    def validate_country(self, value: str) -> str:
        try:
            return country_code(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class InteractionSerializer(FullCleanMixin, ApiModelSerializer):
    staff = serializers.PrimaryKeyRelatedField(
        queryset=staff_users(), required=False, allow_null=True, help_text="Defaults to the caller on creation."
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=staff_users(), required=False, allow_null=True, help_text="A staff user with a role; null unassigns."
    )
    sla_status = serializers.SerializerMethodField(
        help_text="none (no SLA policy), paused (waiting on the customer), on_track, overdue, met or missed."
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "staff",
            "channel",
            "direction",
            "kind",
            "subject",
            "notes",
            "status",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "assignee",
            "team",
            "priority",
            "first_response_due_at",
            "resolution_due_at",
            "first_response_business_seconds",
            "resolution_business_seconds",
            "first_response_sla_met",
            "resolution_sla_met",
            "sla_status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "created_at",
            "updated_at",
            "first_response_due_at",
            "resolution_due_at",
            "first_response_business_seconds",
            "resolution_business_seconds",
            "first_response_sla_met",
            "resolution_sla_met",
        ]

    def get_sla_status(self, interaction: Interaction) -> str:
        from support.sla import sla_status

        return sla_status(interaction)

    def validate_assignee(self, value: Any) -> Any:
        from django.core.exceptions import ValidationError

        from support.services import check_assignee

        try:
            check_assignee(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        status = attrs.get("status", getattr(self.instance, "status", Interaction.Status.OPEN))
        resolved_at = attrs.get("resolved_at", getattr(self.instance, "resolved_at", None))
        if status != Interaction.Status.RESOLVED and attrs.get("resolved_at") is not None:
            raise serializers.ValidationError(
                {"resolved_at": ['Only resolved interactions have one; send status "resolved".']}
            )
        # Without a time, customers.services.interaction_resolve resolves it now: validate it as such.
        resolves_now = status == Interaction.Status.RESOLVED and resolved_at is None
        opened_at = attrs.get("opened_at", getattr(self.instance, "opened_at", None))
        for name in ("first_response_at", "resolved_at"):
            value = attrs.get(name, getattr(self.instance, name, None))
            if value is not None and opened_at is not None and value < opened_at:
                raise serializers.ValidationError({name: ["Cannot be before opened_at."]})
        if resolves_now:
            super().validate({**attrs, "resolved_at": timezone.now()})
            return attrs
        return super().validate(attrs)


class OrderSerializer(FullCleanMixin, ApiModelSerializer):
    class Meta:
        model = Order
        fields = [
            "id",
            "customer",
            "external_id",
            "amount",
            "currency",
            "amount_base",
            "exchange_rate",
            "ordered_at",
            "referred_by",
            "created_at",
        ]
        read_only_fields = ["created_at", "amount_base", "exchange_rate"]
        extra_kwargs = {"amount": {"min_value": 0}}

    def validate_currency(self, value: str) -> str:
        value = value.upper()
        if not is_currency(value):
            raise serializers.ValidationError(INVALID_MESSAGE)
        return value


class EngagementEventSerializer(FullCleanMixin, ApiModelSerializer):
    class Meta:
        model = EngagementEvent
        fields = ["id", "customer", "kind", "campaign", "duration_seconds", "pages", "external_id", "occurred_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        duration = attrs.get("duration_seconds", getattr(self.instance, "duration_seconds", None))
        if duration is not None and kind != EngagementEvent.Kind.SESSION:
            raise serializers.ValidationError({"duration_seconds": ["Only sessions have a duration."]})
        return super().validate(attrs)


class SegmentSerializer(FullCleanMixin, ApiModelSerializer):
    filter_params = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        required=False,
        help_text='Customer filter parameters of a dynamic segment, as on /api/customers/, e.g. {"country": "TH"}.',
    )
    members = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Customer.objects.all(),
        required=False,
        write_only=True,
        help_text="Customer ids of a static segment (replaces the members).",
    )

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "kind",
            "filter_params",
            "members",
            "is_builtin",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_builtin", "created_by", "created_at", "updated_at"]

    def validate_filter_params(self, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(customer_filter({}).filters) | (set(value) & SEGMENT_FORBIDDEN_PARAMS))
        if unknown:
            raise serializers.ValidationError(f"Unknown or forbidden filter parameters: {', '.join(unknown)}.")
        filterset = customer_filter(value)
        if not filterset.is_valid():
            raise serializers.ValidationError({k: list(v) for k, v in filterset.errors.items()})
        return {k: v for k, v in value.items() if v != ""}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind", getattr(self.instance, "kind", Segment.Kind.DYNAMIC))
        if kind == Segment.Kind.DYNAMIC and attrs.get("members"):
            raise serializers.ValidationError({"members": ["Only static segments have explicit members."]})
        if kind == Segment.Kind.STATIC and attrs.get("filter_params"):
            raise serializers.ValidationError({"filter_params": ["Static segments have members, not a filter."]})
        return super().validate(attrs)


class BulkOrdersRequestSerializer(serializers.Serializer):
    items = OrderItemSerializer(many=True, max_length=MAX_BATCH, help_text=f"Up to {MAX_BATCH} orders.")


class BulkCustomersRequestSerializer(serializers.Serializer):
    items = CustomerItemSerializer(many=True, max_length=MAX_BATCH, help_text=f"Up to {MAX_BATCH} customers.")


class BulkEventsRequestSerializer(serializers.Serializer):
    items = EventItemSerializer(many=True, max_length=MAX_BATCH, help_text=f"Up to {MAX_BATCH} events.")


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the batch, from 0.")
    external_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "unchanged"])
    id = serializers.IntegerField(help_text="Id of the stored row.")


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Items already stored with identical data (a retried batch).")
    items = BulkItemResultSerializer(many=True)


class BulkItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the batch, from 0.")
    external_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages by field name."
    )


class BulkErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = BulkItemErrorSerializer(many=True, required=False)


class ErasureRequestSerializer(serializers.Serializer):
    confirm = serializers.CharField(max_length=64, help_text="The customer's current external_id, to confirm.")
