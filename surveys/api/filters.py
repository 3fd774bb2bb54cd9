"""FilterSets of the surveys API."""

from django_filters import rest_framework as filters

from customers.api.filters import date_range
from surveys.models import FollowUp, Invitation, Response, Survey


class SurveyFilter(filters.FilterSet):
    class Meta:
        model = Survey
        fields = ["kind", "is_active", "trigger", "slug"]


class InvitationFilter(filters.FilterSet):
    answered = filters.BooleanFilter(field_name="answered_at", lookup_expr="isnull", exclude=True)
    created_after, created_before = date_range("created_at")

    class Meta:
        model = Invitation
        fields = ["survey", "customer", "channel", "interaction"]


class ResponseFilter(filters.FilterSet):
    survey = filters.NumberFilter(field_name="invitation__survey")
    score_min = filters.NumberFilter(field_name="score", lookup_expr="gte")
    score_max = filters.NumberFilter(field_name="score", lookup_expr="lte")
    submitted_after, submitted_before = date_range("submitted_at")

    class Meta:
        model = Response
        fields = ["customer", "kind", "language"]


class FollowUpFilter(filters.FilterSet):
    class Meta:
        model = FollowUp
        fields = ["status", "assigned_to", "customer"]
