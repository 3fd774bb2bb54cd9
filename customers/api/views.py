"""API viewsets for customers, interactions, orders, engagement events (with bulk ingest) and segments.

Writes of customers, interactions, orders and events go through customers.services, like the pages'
writes: the same validation, the caller recorded in the audit trail (the history middleware cannot
see a token user) and the customers whose figures change marked stale.

Resolving an interaction: status "resolved" without resolved_at resolves it now
(services.interaction_resolve, which may send a CSAT survey); with resolved_at (history imported
from a helpdesk) that time is recorded, if not before opened_at. Another status reopens it.
"""

import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model, ProtectedError, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import UserRateThrottle

from customers import segments, services
from customers.api.common import (
    BulkIngestThrottle,
    ErrorSerializer,
    ModelApiViewSet,
    NewestFirstCursorPagination,
    service_errors_as_400,
)
from customers.api.filters import EngagementEventFilter, InteractionFilter, OrderFilter, SegmentFilter
from customers.api.serializers import (
    BulkCustomersRequestSerializer,
    BulkErrorSerializer,
    BulkEventsRequestSerializer,
    BulkOrdersRequestSerializer,
    BulkResultSerializer,
    CustomerSerializer,
    EngagementEventSerializer,
    ErasureRequestSerializer,
    InteractionSerializer,
    OrderSerializer,
    SegmentSerializer,
)
from customers.customer_ingest import customers_ingest
from customers.filters import CustomerFilter
from customers.ingest import MAX_BATCH, IngestResult, events_ingest, orders_ingest
from customers.models import Customer, EngagementEvent, Interaction, Order, Segment
from customers.privacy import customer_erase, customer_export
from customers.roles import Role, has_role


class ServiceWriteViewSet(ModelApiViewSet):
    """Writes through customers.services: subclasses' create_record, update_record and delete_record
    get the serializer's validated data and the calling user (the actor of the audit trail)."""

    def create_record(self, data: dict[str, Any], actor: AbstractBaseUser) -> Model:
        raise NotImplementedError

    def update_record(self, instance: Any, data: dict[str, Any], actor: AbstractBaseUser) -> Model:
        raise NotImplementedError

    def delete_record(self, instance: Any, actor: AbstractBaseUser) -> None:
        raise NotImplementedError

    def perform_create(self, serializer: BaseSerializer) -> None:
        with service_errors_as_400():
            serializer.instance = self.create_record(dict(serializer.validated_data), self.request.user)

    def perform_update(self, serializer: BaseSerializer) -> None:
        with service_errors_as_400():
            serializer.instance = self.update_record(
                serializer.instance, dict(serializer.validated_data), self.request.user
            )

    def perform_destroy(self, instance: Model) -> None:
        self.delete_record(instance, self.request.user)


class InteractionViewSet(ServiceWriteViewSet):
    """Calls, emails, chats, tickets and meetings with customers. Resolving one may send a CSAT survey:
    status "resolved" without resolved_at resolves it now; an explicit resolved_at (imported history)
    may not be before opened_at."""

    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    ordering_fields = ["opened_at", "resolved_at", "first_response_due_at", "resolution_due_at", "id"]
    queryset = Interaction.objects.all()

    def get_queryset(self) -> QuerySet[Interaction]:
        return Interaction.objects.order_by("-opened_at", "-id")

    def create_record(self, data: dict[str, Any], actor: AbstractBaseUser) -> Interaction:
        new_status = data.pop("status", Interaction.Status.OPEN)
        resolved_at = data.pop("resolved_at", None)
        data["staff"] = data.get("staff") or actor
        with transaction.atomic():
            interaction = services.interaction_create(actor=actor, **data)
            if new_status != Interaction.Status.OPEN:
                interaction = services.interaction_set_status(
                    interaction=interaction, status=new_status, actor=actor, resolved_at=resolved_at
                )
        return interaction

    def update_record(self, instance: Interaction, data: dict[str, Any], actor: AbstractBaseUser) -> Interaction:
        from support import services as support_services

        new_status = data.pop("status", instance.status)
        resolved_at = data.pop("resolved_at", None)
        assignment = {name: data.pop(name) for name in ("assignee", "team") if name in data}
        priority = data.pop("priority", None)
        with transaction.atomic():
            if assignment:
                support_services.interaction_assign(interaction=instance, actor=actor, **assignment)
            if priority is not None:
                support_services.interaction_set_priority(interaction=instance, priority=priority, actor=actor)
            if assignment or priority is not None:
                instance = Interaction.objects.get(pk=instance.pk)
            interaction = services.interaction_update(interaction=instance, actor=actor, **data)
            if new_status != interaction.status or resolved_at is not None:
                interaction = services.interaction_set_status(
                    interaction=interaction, status=new_status, actor=actor, resolved_at=resolved_at
                )
        return interaction

    def delete_record(self, instance: Interaction, actor: AbstractBaseUser) -> None:
        services.interaction_delete(interaction=instance, actor=actor)


_BULK_DESCRIPTION = (
    'Send a JSON list, or an object {{"items": [...]}}, of up to {max} {what}. Each item names its customer by '
    "the customer's `external_id`. The batch is atomic: if any item is invalid nothing is stored and the 400 "
    "answer lists the errors per item (`index` from 0). An item whose `external_id` is already stored with "
    "identical data is reported `unchanged` (retrying a batch is safe); with different data it is a conflict "
    "error. Rate limited more strictly than other endpoints (scope `bulk`)."
)


def _bulk_schema(what: str, request: type[BaseSerializer]) -> Any:
    return extend_schema(
        summary=f"Ingest a batch of {what}",
        description=_BULK_DESCRIPTION.format(max=MAX_BATCH, what=what),
        request=request,
        responses={
            200: OpenApiResponse(BulkResultSerializer, description="Every item was already stored (a retry)."),
            201: OpenApiResponse(BulkResultSerializer, description="The new items were stored."),
            400: OpenApiResponse(BulkErrorSerializer, description="Nothing was stored: errors per item."),
        },
        examples=[
            OpenApiExample(
                "Errors per item",
                value={
                    "detail": "2 of 3 items are invalid; nothing was stored.",
                    "errors": [
                        {"index": 1, "external_id": "A-2", "errors": {"amount": ["A valid number is required."]}}
                    ],
                },
                response_only=True,
                status_codes=["400"],
            )
        ],
    )


def _bulk_response(request: Request, ingest: Any) -> Response:
    data = request.data
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return Response(
            {"detail": 'Send a JSON list of items or an object {"items": [...]}.'},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if not items:
        return Response({"detail": "The batch is empty."}, status=status.HTTP_400_BAD_REQUEST)
    if len(items) > MAX_BATCH:
        return Response(
            {"detail": f"A batch holds at most {MAX_BATCH} items; this one has {len(items)}. Split it."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    result: IngestResult = ingest(items=items)
    if not result.ok:
        return Response(
            {
                "detail": f"{len(result.errors)} of {len(items)} items are invalid; nothing was stored.",
                "errors": result.errors,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    body = {"created": result.created, "unchanged": result.unchanged, "items": result.items}
    return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class BulkIngestMixin:
    """POST /api/<things>/bulk/: a stricter rate (scope "bulk") on top of the user rate."""

    # Read by BulkIngestThrottle, which only the bulk action uses.
    throttle_scope = "bulk"


def _bulk_action(what: str, request_serializer: type[BaseSerializer], ingest: Any) -> Any:
    @_bulk_schema(what, request_serializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk",
        throttle_classes=[UserRateThrottle, BulkIngestThrottle],
        filter_backends=[],
        pagination_class=None,
    )
    def bulk(self: Any, request: Request) -> Response:
        return _bulk_response(request, ingest)

    return bulk


def _tag_names(data: dict[str, Any]) -> dict[str, Any]:
    if "tags" in data:
        data["tags"] = [tag.name for tag in data["tags"]]
    return data


class CustomerApiFilter(CustomerFilter):
    """The list page's filters, and `search` as another name of `q` (what API clients usually send)."""

    search = filters.CharFilter(method="filter_search", label="Search (the same as q)")


class CustomerViewSet(BulkIngestMixin, ServiceWriteViewSet):
    """Customers, filtered with the same parameters as the customer list page."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerApiFilter
    ordering_fields = [
        "name",
        "acquired_at",
        "created_at",
        "updated_at",
        "id",
        # Predictive scores (metrics.predictive_engine).
        "metrics__p_alive",
        "metrics__predicted_value_12m",
    ]
    queryset = Customer.objects.all()

    def get_queryset(self) -> QuerySet[Customer]:
        return Customer.objects.prefetch_related("tags").order_by("name", "id")

    def create_record(self, data: dict[str, Any], actor: AbstractBaseUser) -> Customer:
        return services.customer_create(actor=actor, **_tag_names(data))

    def update_record(self, instance: Customer, data: dict[str, Any], actor: AbstractBaseUser) -> Customer:
        return services.customer_update(customer=instance, actor=actor, **_tag_names(data))

    @_bulk_schema("customers", BulkCustomersRequestSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk",
        throttle_classes=[UserRateThrottle, BulkIngestThrottle],
        filter_backends=[],
        pagination_class=None,
    )
    def bulk(self, request: Request) -> Response:
        """Customers by external_id, e.g. loading years of history before their orders (customers.customer_ingest)."""
        return _bulk_response(request, lambda items: customers_ingest(items=items, actor=request.user))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        try:
            services.customer_delete(customer=customer, actor=request.user)
        except ProtectedError:
            return Response(
                {"detail": "This customer has orders; orders are kept for revenue history, so it cannot be deleted."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Export everything held about the customer (PDPA right to a copy); managers only; audited",
        responses={200: OpenApiTypes.OBJECT, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], url_path="export", filter_backends=[], pagination_class=None)
    def export(self, request: Request, pk: str | None = None) -> Response:
        _require_manager(request)
        customer = self.get_object()
        data = customer_export(customer=customer, actor=request.user, channel="api")
        return Response(json.loads(json.dumps(data, cls=DjangoJSONEncoder)))

    @extend_schema(
        summary="Erase the customer's personal data, keeping anonymous figures (PDPA); managers only; audited",
        request=ErasureRequestSerializer,
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="erase", filter_backends=[], pagination_class=None)
    def erase(self, request: Request, pk: str | None = None) -> Response:
        _require_manager(request)
        customer = self.get_object()
        body = ErasureRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["confirm"] != customer.external_id:
            return Response(
                {"confirm": ["Send the customer's current external_id to confirm the erasure."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        action_row = customer_erase(customer=customer, actor=request.user, channel="api")
        return Response({"erased": True, "customer": customer.pk, "at": action_row.performed_at})


def _require_manager(request: Request) -> None:
    if not has_role(request.user, Role.MANAGER):
        raise PermissionDenied("Managers only.")


class OrderViewSet(BulkIngestMixin, ServiceWriteViewSet):
    """Purchases. Amounts are decimal strings in the order's currency."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["ordered_at", "amount", "id"]
    queryset = Order.objects.all()

    def get_queryset(self) -> QuerySet[Order]:
        return Order.objects.order_by("-ordered_at", "-id")

    def create_record(self, data: dict[str, Any], actor: AbstractBaseUser) -> Order:
        return services.order_create(**data)

    def update_record(self, instance: Order, data: dict[str, Any], actor: AbstractBaseUser) -> Order:
        return services.order_update(order=instance, **data)

    def delete_record(self, instance: Order, actor: AbstractBaseUser) -> None:
        services.order_delete(order=instance)

    bulk = _bulk_action("orders", BulkOrdersRequestSerializer, orders_ingest)


class EngagementEventViewSet(BulkIngestMixin, ServiceWriteViewSet):
    """Sessions, email opens and clicks, social and event activity. Paged with a cursor (a large table)."""

    serializer_class = EngagementEventSerializer
    filterset_class = EngagementEventFilter
    ordering_fields = ["occurred_at", "id"]
    pagination_class = NewestFirstCursorPagination
    queryset = EngagementEvent.objects.all()

    def get_queryset(self) -> QuerySet[EngagementEvent]:
        return EngagementEvent.objects.all()

    def create_record(self, data: dict[str, Any], actor: AbstractBaseUser) -> EngagementEvent:
        return services.event_create(**data)

    def update_record(
        self, instance: EngagementEvent, data: dict[str, Any], actor: AbstractBaseUser
    ) -> EngagementEvent:
        return services.event_update(event=instance, **data)

    def delete_record(self, instance: EngagementEvent, actor: AbstractBaseUser) -> None:
        services.event_delete(event=instance)

    bulk = _bulk_action("engagement events", BulkEventsRequestSerializer, events_ingest)


class SegmentViewSet(ModelApiViewSet):
    """Named groups of customers. Everyone may read them (to filter customers by ?segment=); managers edit them."""

    serializer_class = SegmentSerializer
    filterset_class = SegmentFilter
    ordering_fields = ["name", "created_at", "id"]
    write_role = Role.MANAGER
    delete_role = Role.MANAGER
    queryset = Segment.objects.all()

    def get_queryset(self) -> QuerySet[Segment]:
        return Segment.objects.order_by("-is_builtin", "name")

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        with service_errors_as_400():
            serializer.instance = segments.segment_create(created_by=self.request.user, **data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        with service_errors_as_400():
            serializer.instance = segments.segment_update(
                segment=serializer.instance, **dict(serializer.validated_data)
            )

    def perform_destroy(self, instance: Segment) -> None:
        segments.segment_delete(segment=instance)
