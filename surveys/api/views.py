"""API viewsets for surveys, invitations (creating one returns its link once), responses and follow-ups."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.serializers import BaseSerializer

from customers.api.common import ModelApiViewSet, ReadOnlyApiViewSet, service_errors_as_400
from customers.roles import Role
from surveys import staff_services
from surveys.api.filters import FollowUpFilter, InvitationFilter, ResponseFilter, SurveyFilter
from surveys.api.serializers import (
    FollowUpSerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    ResponseSerializer,
    SurveySerializer,
)
from surveys.models import FollowUp, Invitation, Response, Survey
from surveys.services import invitation_create
from surveys.tokens import invitation_url


class SurveyViewSet(ModelApiViewSet):
    """NPS, CSAT and CES surveys with their questions per language. Admins edit them."""

    serializer_class = SurveySerializer
    filterset_class = SurveyFilter
    ordering_fields = ["name", "created_at", "id"]
    write_role = Role.ADMIN
    queryset = Survey.objects.all()

    def get_queryset(self) -> QuerySet[Survey]:
        return Survey.objects.prefetch_related("texts").order_by("name", "id")

    def perform_create(self, serializer: BaseSerializer) -> None:
        with service_errors_as_400():
            serializer.instance = staff_services.survey_create(**serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        # A survey with invitations keeps its kind: 400 on "kind".
        with service_errors_as_400():
            serializer.instance = staff_services.survey_update(survey=serializer.instance, **serializer.validated_data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        survey = self.get_object()
        try:
            staff_services.survey_delete(survey=survey)
        except ValidationError as error:
            return ApiResponse({"detail": " ".join(error.messages)}, status=status.HTTP_409_CONFLICT)
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(
        summary="Create an invitation and get its link",
        description=(
            "Creates a personal survey link for one customer. The answer holds `link` this once: only a hash "
            "of the token is stored, so the link cannot be read again later."
        ),
        request=InvitationCreateSerializer,
        responses={201: InvitationCreatedSerializer},
    )
)
class InvitationViewSet(mixins.CreateModelMixin, ReadOnlyApiViewSet):
    """Survey invitations. Read without their link; the link is returned only when one is created."""

    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["created_at", "sent_at", "answered_at", "id"]
    queryset = Invitation.objects.all()

    def get_queryset(self) -> QuerySet[Invitation]:
        return Invitation.objects.order_by("-created_at", "-id")

    def get_serializer_class(self) -> type:
        return InvitationCreateSerializer if self.action == "create" else InvitationSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        serializer = InvitationCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The service marks the customer stale (their invitation count changes).
        invitation, token = invitation_create(
            survey=data["survey"],
            customer=data["customer"],
            channel=data["channel"],
            interaction=data.get("interaction"),
            language=data.get("language") or "",
            created_by=request.user,
        )
        invitation.link = invitation_url(token)
        return ApiResponse(InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED)


class ResponseViewSet(ReadOnlyApiViewSet):
    """Customers' answers (read only: customers answer from their link)."""

    serializer_class = ResponseSerializer
    filterset_class = ResponseFilter
    ordering_fields = ["submitted_at", "score", "id"]
    queryset = Response.objects.all()

    def get_queryset(self) -> QuerySet[Response]:
        return Response.objects.select_related("invitation").order_by("-submitted_at", "-id")


@extend_schema_view(
    update=extend_schema(description="Assign, annotate, close (status closed) or reopen a follow-up."),
    partial_update=extend_schema(description="Assign, annotate, close (status closed) or reopen a follow-up."),
)
class FollowUpViewSet(mixins.UpdateModelMixin, ReadOnlyApiViewSet):
    """Work items opened by detractor answers. Closing one records who closed it and when."""

    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    ordering_fields = ["created_at", "closed_at", "id"]
    queryset = FollowUp.objects.all()

    def get_queryset(self) -> QuerySet[FollowUp]:
        return FollowUp.objects.select_related("response").order_by("created_at", "id")

    def perform_update(self, serializer: BaseSerializer) -> None:
        """Closing (status "closed") needs a note in the same request (400 on "note" otherwise); the
        assignee must hold a role."""
        data = dict(serializer.validated_data)
        with service_errors_as_400():
            serializer.instance = staff_services.follow_up_update(
                follow_up=serializer.instance, actor=self.request.user, **data
            )
