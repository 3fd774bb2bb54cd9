"""The notifications endpoint: the caller's own notifications, newest first, and marking them read."""

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api.common import ReadOnlyApiViewSet
from support.models import Notification
from support.notifications import notifications_mark_read
from support.selectors import notifications_of


class NotificationSerializer(serializers.ModelSerializer):
    target_type = serializers.SlugRelatedField(slug_field="model", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "url", "target_type", "target_id", "created_at", "read_at"]
        read_only_fields = fields


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="Omit to mark all read.",
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["kind"]


class NotificationViewSet(ReadOnlyApiViewSet):
    """The caller's notifications (assigned to me, follow-up assigned, mention, SLA warning)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "id"]
    queryset = Notification.objects.none()

    def get_queryset(self) -> Any:
        return notifications_of(self.request.user).select_related("target_type")

    @extend_schema(request=MarkReadSerializer, responses={200: MarkedSerializer})
    @action(detail=False, methods=["post"], url_path="mark-read", parser_classes=[JSONParser])
    def mark_read(self, request: Request) -> Response:
        payload = MarkReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = payload.validated_data.get("ids")
        return Response({"marked": notifications_mark_read(user=request.user, ids=ids)})
