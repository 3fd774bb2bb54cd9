"""Support work: teams of agents, their business calendars, SLA policies and staff notifications.

The fields of the work itself (assignee, team, priority, due times, business-hours figures) live on
customers.Interaction; this app holds what the clock and the queue are measured against.
"""

from datetime import date, time
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from support.business_hours import Schedule


class Priority(models.TextChoices):
    """An interaction's priority; SLA policies set targets per priority."""

    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# Most urgent first: the queue's tie-break after the due time.
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Team(models.Model):
    """A group of agents with a manager; interactions are assigned to a team and to one of its agents."""

    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="support_teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(models.Model):
    """Working hours per weekday in a time zone, less a country's public holidays and closed days.

    A calendar without a team is the default, used for interactions without a team (or whose team
    has no calendar of its own). Without any calendar, SLA clocks run around the clock in TIME_ZONE.
    """

    name = models.CharField(max_length=100)
    team = models.OneToOneField(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar")
    time_zone = models.CharField(max_length=64, default="Asia/Bangkok")
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code whose public holidays close the calendar."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            # One default calendar at most.
            models.UniqueConstraint(fields=["team"], name="one_default_calendar", condition=Q(team__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.time_zone not in available_timezones():
            raise ValidationError({"time_zone": "Not a time zone name (e.g. Asia/Bangkok)."})
        if self.country:
            import holidays

            self.country = self.country.upper()
            if self.country not in holidays.list_supported_countries():
                raise ValidationError({"country": "No public holidays are known for this country code."})

    def schedule(self) -> Schedule:
        """The pure schedule business_hours computes with (reads hours and closed days: two queries
        unless prefetched)."""
        weekly: dict[int, list[tuple[time, time]]] = {}
        for hours in self.hours.all():
            weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
        closed: frozenset[date] = frozenset(day.date for day in self.closed_days.all())
        return Schedule(time_zone=ZoneInfo(self.time_zone), weekly=weekly, country=self.country, closed_days=closed)


class WeeklyHours(models.Model):
    """One working interval of a weekday (two rows make a lunch break)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "weekly hours"
        constraints = [models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="hours_close_after_open")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ClosedDay(models.Model):
    """A day the calendar's team does not work besides public holidays (a company day off)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="closed_days")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="closed_day_once")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class SlaPolicy(models.Model):
    """First-response and resolution targets, in business minutes, for a priority (and optionally a kind).

    A policy for the interaction's kind wins over the priority's policy without a kind.
    """

    name = models.CharField(max_length=100)
    priority = models.CharField(max_length=8, choices=Priority.choices)
    kind = models.CharField(max_length=12, blank=True, help_text="An interaction kind, or empty for every kind.")
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["priority", "kind"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["priority", "kind"], name="sla_policy_per_priority_kind"),
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=F("first_response_minutes")), name="sla_resolution_after_response"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from customers.models import Interaction

        if self.kind and self.kind not in Interaction.Kind.values:
            raise ValidationError({"kind": "Not an interaction kind."})


class Notification(models.Model):
    """Something a staff user should know about: shown under the bell, and emailed unless muted.

    `key` makes a notification happen once (e.g. one SLA warning per interaction and kind).
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Assigned to me"
        FOLLOW_UP_ASSIGNED = "follow_up", "Follow-up assigned to me"
        MENTION = "mention", "Mentioned in a note"
        SLA_WARNING = "sla_warning", "SLA about to be breached"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell's unread count and the list, per recipient.
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            models.Index(fields=["recipient"], name="notification_unread_idx", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.message


class EmailMute(models.Model):
    """A user's choice not to get email for one kind of notification (it still shows under the bell)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_mutes")
    kind = models.CharField(max_length=12, choices=Notification.Kind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_mute_once")]

    def __str__(self) -> str:
        return f"{self.user} mutes {self.get_kind_display()}"
