"""Writes of support work: assignment and priority of interactions, assignment of follow-ups, and
the queue's bulk actions. Keyword-only, one transaction each, audited through django-simple-history
on Interaction (the change reason says what happened); resolving goes through customers.services.

Assignees must be active staff users with a role (Agent or above). The team is the queue an
interaction sits in; the assignee need not be a member of it (a manager may hand work to someone
outside the team).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from customers.models import Interaction
from customers.roles import check_has_a_role
from customers.services import _record_actor, interaction_resolve
from support import sla
from support.models import Notification, Priority, Team
from support.notifications import notify

_UNCHANGED: Any = object()


def check_assignee(user: Any) -> None:
    """Raise ValidationError unless `user` may be assigned work (an active user with a role)."""
    check_has_a_role(user, field="assignee")


def _staff_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _notify_assigned(interaction: Interaction, assignee: Any, actor: Any) -> None:
    if assignee is None or (actor is not None and assignee.pk == actor.pk):
        return
    by = f" by {_staff_name(actor)}" if actor is not None else ""
    notify(
        recipient=assignee,
        kind=Notification.Kind.ASSIGNED,
        message=f"“{interaction.subject}” ({interaction.customer.name}) was assigned to you{by}.",
        url=reverse("customers:interaction", args=[interaction.pk]),
        target=interaction,
    )


def interaction_assign(
    *, interaction: Interaction, assignee: Any = _UNCHANGED, team: Team | None = _UNCHANGED, actor: Any = None
) -> Interaction:
    """Assign (or reassign, or unassign with None) an interaction to an agent and/or a team.

    Raises ValidationError when the assignee holds no role. Side effects: an audit record with the
    reason "Assigned"; due times recomputed when the team (hence the calendar) changes; the new
    assignee is notified unless they assigned it themself.
    """
    if assignee is not _UNCHANGED:
        check_assignee(assignee)
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().select_related("customer").get(pk=interaction.pk)
        changed: list[str] = []
        if assignee is not _UNCHANGED and locked.assignee_id != (assignee.pk if assignee else None):
            locked.assignee = assignee
            changed.append("assignee")
        if team is not _UNCHANGED and locked.team_id != (team.pk if team else None):
            locked.team = team
            changed.append("team")
            if locked.status != Interaction.Status.RESOLVED:
                changed += sla.set_due_times(locked)
        if not changed:
            return locked
        if "assignee" in changed:
            reason = f"Assigned to {_staff_name(assignee)}" if assignee else "Unassigned"
        else:
            reason = f"Moved to team {team}" if team else "Removed from its team"
        _record_actor(locked, actor, reason)
        locked.save(update_fields=[*changed, "updated_at"])
        if "assignee" in changed:
            _notify_assigned(locked, assignee, actor)
    return locked


def interaction_take(*, interaction: Interaction, actor: Any) -> Interaction:
    """The acting agent assigns the interaction to themself."""
    return interaction_assign(interaction=interaction, assignee=actor, actor=actor)


def interaction_set_priority(*, interaction: Interaction, priority: str, actor: Any = None) -> Interaction:
    """Change the priority; due times follow the priority's SLA policy. Raises ValidationError for
    an unknown priority. Side effects: an audit record."""
    if priority not in Priority.values:
        raise ValidationError({"priority": f"Choose one of: {', '.join(Priority.values)}."})
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        if locked.priority == priority:
            return locked
        locked.priority = priority
        changed = ["priority"]
        if locked.status != Interaction.Status.RESOLVED:
            changed += sla.set_due_times(locked)
        _record_actor(locked, actor, f"Priority {locked.get_priority_display().lower()}")
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


def notify_follow_up_assigned(follow_up: Any, actor: Any = None) -> None:
    """Tell a follow-up's assignee (called in the transaction that assigned it)."""
    if follow_up.assigned_to_id is None or (actor is not None and follow_up.assigned_to_id == actor.pk):
        return
    notify(
        recipient=follow_up.assigned_to,
        kind=Notification.Kind.FOLLOW_UP_ASSIGNED,
        message=f"A follow-up for {follow_up.customer.name} was assigned to you.",
        url=reverse("surveys:follow_ups"),
        target=follow_up,
    )


def follow_up_assign(*, follow_up: Any, assignee: Any, actor: Any = None) -> Any:
    """Assign an open follow-up to an agent (None unassigns). Raises ValidationError when the
    assignee holds no role or the follow-up is closed. Side effects: notifies the assignee."""
    from surveys.models import FollowUp

    check_assignee(assignee)
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().select_related("customer").get(pk=follow_up.pk)
        if locked.status != FollowUp.Status.OPEN:
            raise ValidationError("This follow-up is already closed.")
        if locked.assigned_to_id == (assignee.pk if assignee else None):
            return locked
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to"])
        notify_follow_up_assigned(locked, actor)
    return locked


@dataclass
class BulkResult:
    done: int = 0
    errors: list[str] = field(default_factory=list)


def bulk_assign(*, interactions: Sequence[Interaction], assignee: Any, actor: Any) -> BulkResult:
    """Assign each interaction; all or nothing (an assignee without a role fails before any change)."""
    check_assignee(assignee)
    result = BulkResult()
    with transaction.atomic():
        for interaction in interactions:
            interaction_assign(interaction=interaction, assignee=assignee, actor=actor)
            result.done += 1
    return result


def bulk_resolve(*, interactions: Sequence[Interaction], actor: Any) -> BulkResult:
    """Resolve each interaction now (already resolved ones are left as they are); all or nothing."""
    result = BulkResult()
    with transaction.atomic():
        for interaction in interactions:
            interaction_resolve(interaction=interaction, actor=actor)
            result.done += 1
    return result


def bulk_close_follow_ups(*, follow_ups: Sequence[Any], note: str, actor: Any) -> BulkResult:
    """Close each open follow-up with the same note; all or nothing (a blank note closes none)."""
    from surveys.services import follow_up_close

    result = BulkResult()
    with transaction.atomic():
        for follow_up in follow_ups:
            follow_up_close(follow_up=follow_up, note=note, closed_by=actor)
            result.done += 1
    return result


SLA_WARNING_BATCH = 500


def _warned(clock: str) -> Any:
    # Already warned interactions drop out, so old breaches never crowd new ones out of the batch.
    key = Concat(Value("sla_warning:"), Cast(OuterRef("pk"), CharField()), Value(f":{clock}"))
    return Notification.objects.filter(key=key)


def sla_warnings_send(*, now: datetime | None = None) -> int:
    """Warn each assignee whose interaction's running clock falls due within SUPPORT_SLA_WARNING_MINUTES
    (default 30) or is already past it; once per interaction and clock (the notification key), so
    running it every few minutes sends no duplicates. Waiting interactions are paused, so skipped.
    Returns how many warnings were created."""
    now = now or timezone.now()
    soon = now + timedelta(minutes=getattr(settings, "SUPPORT_SLA_WARNING_MINUTES", 30))
    first_due = Q(first_response_at__isnull=True, first_response_due_at__lte=soon) & ~Exists(_warned("first_response"))
    resolution_due = Q(first_response_at__isnull=False, resolution_due_at__lte=soon) & ~Exists(_warned("resolution"))
    due_soon = first_due | resolution_due
    candidates = (
        Interaction.objects.filter(
            due_soon,
            status__in=[Interaction.Status.OPEN, Interaction.Status.WAITING],
            waiting_since__isnull=True,
            assignee__isnull=False,
        )
        .select_related("assignee", "customer")
        .order_by("resolution_due_at", "id")[:SLA_WARNING_BATCH]
    )
    created = 0
    for interaction in candidates:
        if interaction.first_response_at is None:
            clock, due = "first_response", interaction.first_response_due_at
        else:
            clock, due = "resolution", interaction.resolution_due_at
        what = "first response" if clock == "first_response" else "resolution"
        verb = "was due" if due <= now else "is due"
        with transaction.atomic():
            made = notify(
                recipient=interaction.assignee,
                kind=Notification.Kind.SLA_WARNING,
                message=f"The {what} of “{interaction.subject}” ({interaction.customer.name}) {verb} "
                f"at {timezone.localtime(due):%d %b %H:%M}.",
                url=reverse("customers:interaction", args=[interaction.pk]),
                target=interaction,
                key=f"sla_warning:{interaction.pk}:{clock}",
            )
        created += made is not None
    return created
