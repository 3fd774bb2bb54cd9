"""Serializers of the surveys API."""

from typing import Any

from rest_framework import serializers

from customers.api.common import ApiModelSerializer, FullCleanMixin
from customers.api.serializers import staff_users
from customers.models import Customer, Interaction, Language
from surveys.models import FollowUp, Invitation, Response, Survey, SurveyText


class SurveyTextSerializer(ApiModelSerializer):
    class Meta:
        model = SurveyText
        fields = ["language", "question", "follow_up", "low_label", "high_label"]


class SurveySerializer(FullCleanMixin, ApiModelSerializer):
    texts = SurveyTextSerializer(many=True, read_only=True, help_text="The question in each language.")

    class Meta:
        model = Survey
        fields = [
            "id",
            "slug",
            "name",
            "kind",
            "is_active",
            "link_lifetime_days",
            "recontact_rule",
            "recontact_days",
            "trigger",
            "reminder_after_days",
            "texts",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"link_lifetime_days": {"min_value": 1, "max_value": 365}}


class InvitationSerializer(ApiModelSerializer):
    """An invitation as stored; its link cannot be read back (only the token's hash is kept)."""

    language = serializers.ChoiceField(
        choices=Language.choices, allow_blank=True, read_only=True, help_text="Empty: the customer's language."
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "survey",
            "customer",
            "interaction",
            "channel",
            "language",
            "created_by",
            "created_at",
            "sent_at",
            "opened_at",
            "expires_at",
            "reminded_at",
            "answered_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    interaction = serializers.PrimaryKeyRelatedField(
        queryset=Interaction.objects.all(), required=False, allow_null=True, help_text="The conversation it is about."
    )
    channel = serializers.ChoiceField(choices=Invitation.Channel.choices, default=Invitation.Channel.LINK)
    language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Empty: the customer's language.",
    )

    def validate_survey(self, value: Survey) -> Survey:
        if not value.is_active:
            raise serializers.ValidationError("This survey is not active.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        interaction = attrs.get("interaction")
        if interaction is not None and interaction.customer_id != attrs["customer"].pk:
            raise serializers.ValidationError({"interaction": ["This interaction is with another customer."]})
        return attrs


class InvitationCreatedSerializer(InvitationSerializer):
    link = serializers.URLField(read_only=True, help_text="The customer's personal link. Shown only this once.")

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "link"]
        read_only_fields = fields


class ResponseSerializer(ApiModelSerializer):
    survey = serializers.IntegerField(source="invitation.survey_id", read_only=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "invitation",
            "survey",
            "customer",
            "kind",
            "score",
            "comment",
            "language",
            "submitted_at",
            "updated_at",
        ]
        read_only_fields = fields


class FollowUpSerializer(FullCleanMixin, ApiModelSerializer):
    score = serializers.IntegerField(source="response.score", read_only=True)
    assigned_to = serializers.PrimaryKeyRelatedField(queryset=staff_users(), required=False, allow_null=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "response",
            "score",
            "customer",
            "assigned_to",
            "status",
            "note",
            "created_at",
            "closed_at",
            "closed_by",
        ]
        read_only_fields = ["response", "customer", "created_at", "closed_at", "closed_by"]
