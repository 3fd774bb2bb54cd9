"""The SLA clock of an interaction: which calendar and policy apply, its due times, and the business
seconds of its first response and resolution, stored when they happen.

Called by customers.services on the locked interaction row; each function sets fields on the
instance and returns the names of those it changed, for save(update_fields=...).
Time waiting on the customer pauses the clock: `waiting_since` is set while waiting, and
`waiting_business_seconds` holds the business seconds of earlier waits, which push due times back.
"""

from datetime import datetime

from django.conf import settings

from support.business_hours import Schedule, add_business_seconds, around_the_clock, business_seconds
from support.models import BusinessCalendar, SlaPolicy

_CALENDAR_QUERYSET = BusinessCalendar.objects.prefetch_related("hours", "closed_days")


def schedule_for(team_id: int | None) -> Schedule:
    """The team's calendar, else the default calendar, else around the clock in TIME_ZONE."""
    calendar = None
    if team_id is not None:
        calendar = _CALENDAR_QUERYSET.filter(team_id=team_id).first()
    if calendar is None:
        calendar = _CALENDAR_QUERYSET.filter(team__isnull=True).first()
    return calendar.schedule() if calendar else around_the_clock(settings.TIME_ZONE)


def policy_for(priority: str, kind: str) -> SlaPolicy | None:
    """The policy for this priority and kind, else the priority's policy for every kind."""
    policies = {p.kind: p for p in SlaPolicy.objects.filter(priority=priority, kind__in=[kind, ""])}
    return policies.get(kind) or policies.get("")


def _paused(interaction, schedule: Schedule, until: datetime) -> int:
    paused = interaction.waiting_business_seconds
    if interaction.waiting_since is not None:
        paused += business_seconds(schedule, interaction.waiting_since, until)
    return paused


def set_due_times(interaction) -> list[str]:
    """(Re)compute the due times from the opening, the policy and the waiting so far."""
    policy = policy_for(interaction.priority, interaction.kind)
    first_due = resolution_due = None
    if policy is not None:
        schedule = schedule_for(interaction.team_id)
        paused = interaction.waiting_business_seconds
        opened = interaction.opened_at
        first_due = add_business_seconds(schedule, opened, policy.first_response_minutes * 60 + paused)
        resolution_due = add_business_seconds(schedule, opened, policy.resolution_minutes * 60 + paused)
    changed = []
    if interaction.first_response_due_at != first_due:
        interaction.first_response_due_at = first_due
        changed.append("first_response_due_at")
    if interaction.resolution_due_at != resolution_due:
        interaction.resolution_due_at = resolution_due
        changed.append("resolution_due_at")
    return changed


def record_first_response(interaction, at: datetime) -> list[str]:
    schedule = schedule_for(interaction.team_id)
    seconds = business_seconds(schedule, interaction.opened_at, at) - _paused(interaction, schedule, at)
    interaction.first_response_business_seconds = max(0, seconds)
    due = interaction.first_response_due_at
    interaction.first_response_sla_met = None if due is None else at <= due
    return ["first_response_business_seconds", "first_response_sla_met"]


def record_resolution(interaction, at: datetime) -> list[str]:
    """Store the resolution's business seconds; a resolution while waiting ends the wait first."""
    schedule = schedule_for(interaction.team_id)
    changed = stop_waiting(interaction, at, schedule=schedule)
    seconds = business_seconds(schedule, interaction.opened_at, at) - interaction.waiting_business_seconds
    interaction.resolution_business_seconds = max(0, seconds)
    due = interaction.resolution_due_at
    interaction.resolution_sla_met = None if due is None else at <= due
    return [*changed, "resolution_business_seconds", "resolution_sla_met"]


def clear_resolution(interaction) -> list[str]:
    interaction.resolution_business_seconds = None
    interaction.resolution_sla_met = None
    return ["resolution_business_seconds", "resolution_sla_met"]


def start_waiting(interaction, at: datetime) -> list[str]:
    if interaction.waiting_since is not None:
        return []
    interaction.waiting_since = at
    return ["waiting_since"]


def stop_waiting(interaction, at: datetime, schedule: Schedule | None = None) -> list[str]:
    """End a wait: its business seconds are added to the pause and the due times move back by them."""
    if interaction.waiting_since is None:
        return []
    schedule = schedule or schedule_for(interaction.team_id)
    interaction.waiting_business_seconds += business_seconds(schedule, interaction.waiting_since, at)
    interaction.waiting_since = None
    return ["waiting_since", "waiting_business_seconds", *set_due_times(interaction)]


def sla_status(interaction, now: datetime | None = None) -> str:
    """One word for the SLA of an interaction: none, paused, on_track, overdue, met or missed."""
    from django.utils import timezone

    if interaction.status == "resolved":
        flags = [interaction.first_response_sla_met, interaction.resolution_sla_met]
        if all(flag is None for flag in flags):
            return "none"
        return "missed" if False in flags else "met"
    due = interaction.first_response_due_at if interaction.first_response_at is None else interaction.resolution_due_at
    if due is None:
        return "none"
    if interaction.waiting_since is not None:
        return "paused"
    if interaction.first_response_sla_met is False:
        return "missed"
    return "overdue" if due < (now or timezone.now()) else "on_track"
