from datetime import time

import factory

from support.models import BusinessCalendar, SlaPolicy, Team, WeeklyHours


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


def office_calendar(
    *, team: Team | None = None, time_zone: str = "Asia/Bangkok", country: str = ""
) -> BusinessCalendar:
    """09:00–18:00 Monday to Friday."""
    calendar = BusinessCalendar.objects.create(
        name=f"{team or 'Default'} hours", team=team, time_zone=time_zone, country=country
    )
    WeeklyHours.objects.bulk_create(
        [WeeklyHours(calendar=calendar, weekday=d, opens=time(9), closes=time(18)) for d in range(5)]
    )
    return calendar


def sla_policy(priority: str = "normal", first: int = 60, resolution: int = 8 * 60, kind: str = "") -> SlaPolicy:
    return SlaPolicy.objects.create(
        name=f"{priority} {kind}".strip(),
        priority=priority,
        kind=kind,
        first_response_minutes=first,
        resolution_minutes=resolution,
    )
