"""Reads of support work: the work queue (interactions and follow-ups), notifications, counts."""

from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from customers.models import Interaction
from customers.roles import Role, has_role
from support.filters import OPEN_STATUSES, WorkQueueFilter
from support.models import PRIORITY_RANK, Notification, Team

# Which part of the queue: the viewer's own work, their teams', nobody's, or everybody's (managers).
SCOPES = {"mine": "Assigned to me", "team": "My teams", "unassigned": "Unassigned", "all": "Everyone"}


def can_see_all(user: Any) -> bool:
    return has_role(user, Role.MANAGER)


def team_ids_of(user: Any) -> list[int]:
    return list(Team.objects.filter(Q(members=user) | Q(manager=user)).values_list("pk", flat=True).distinct())


def open_interactions() -> QuerySet[Interaction]:
    """Open and waiting interactions with the next due time (first response while none, else
    resolution) as `next_due`, most urgent first."""
    rank = Case(*(When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()), output_field=IntegerField())
    return (
        Interaction.objects.filter(status__in=OPEN_STATUSES)
        .select_related("customer", "assignee", "team")
        .annotate(
            next_due=Case(
                When(first_response_at__isnull=True, then=F("first_response_due_at")),
                default=F("resolution_due_at"),
            ),
            priority_rank=rank,
        )
        .order_by(F("next_due").asc(nulls_last=True), "priority_rank", "opened_at", "id")
    )


def work_queue(*, user: Any, scope: str, params: Any) -> tuple[WorkQueueFilter, QuerySet[Interaction]]:
    """The interactions of `scope` for `user`, filtered by WorkQueueFilter. Agents only see "all" work
    (and other agents' or teams' work through the filters) when they are managers."""
    queryset = open_interactions()
    if scope == "mine":
        queryset = queryset.filter(assignee=user)
    elif scope == "team":
        queryset = queryset.filter(team_id__in=team_ids_of(user))
    elif scope == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    data = params.copy() if hasattr(params, "copy") else dict(params)
    if not can_see_all(user):
        for key in ("assignee",):
            data.pop(key, None)
    filterset = WorkQueueFilter(data, queryset=queryset)
    return filterset, (filterset.qs if filterset.is_valid() else queryset.none())


def open_follow_ups(*, user: Any, scope: str, assignee_id: int | None = None) -> QuerySet:
    from surveys.models import FollowUp

    queryset = FollowUp.objects.filter(status=FollowUp.Status.OPEN).select_related("customer", "assigned_to")
    if assignee_id is not None and can_see_all(user):
        queryset = queryset.filter(assigned_to_id=assignee_id)
    elif scope == "mine":
        queryset = queryset.filter(assigned_to=user)
    elif scope == "team":
        teams = team_ids_of(user)
        queryset = queryset.filter(Q(assigned_to__support_teams__in=teams) | Q(assigned_to__managed_teams__in=teams))
        queryset = queryset.distinct()
    elif scope == "unassigned":
        queryset = queryset.filter(assigned_to__isnull=True)
    return queryset.order_by("created_at", "id")


def nav_counts(user: Any) -> dict[str, int]:
    """The navigation's badges: my open interactions and follow-ups, and unread notifications."""
    from surveys.models import FollowUp

    return {
        "work": Interaction.objects.filter(assignee=user, status__in=OPEN_STATUSES).count()
        + FollowUp.objects.filter(assigned_to=user, status=FollowUp.Status.OPEN).count(),
        "unread": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    }


def notifications_of(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
