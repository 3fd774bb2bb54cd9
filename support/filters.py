"""The work queue's FilterSet, shared by the My work page and the API's interaction queue."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.models import Interaction
from customers.roles import users_with_a_role
from support.models import Priority, Team

OPEN_STATUSES = [Interaction.Status.OPEN, Interaction.Status.WAITING]


def overdue_q(now: Any) -> Q:
    """Not waiting on the customer, and past the due time of the clock still running."""
    return Q(waiting_since__isnull=True) & (
        Q(first_response_at__isnull=True, first_response_due_at__lt=now) | Q(resolution_due_at__lt=now)
    )


def _staff(request: Any = None) -> QuerySet:
    return users_with_a_role()


class WorkQueueFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=[(s, Interaction.Status(s).label) for s in OPEN_STATUSES])
    channel = django_filters.ChoiceFilter(choices=Interaction.Channel.choices)
    kind = django_filters.ChoiceFilter(choices=Interaction.Kind.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all())
    assignee = django_filters.ModelChoiceFilter(queryset=_staff, label="Assignee")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue")

    class Meta:
        model = Interaction
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        condition = overdue_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)
