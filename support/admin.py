"""Admin pages for teams, calendars (with their hours and closed days), SLA policies and notifications."""

from django.contrib import admin
from django.http import HttpRequest

from support.models import BusinessCalendar, ClosedDay, EmailMute, Notification, SlaPolicy, Team, WeeklyHours


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    list_select_related = ["manager"]


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    extra = 0


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "time_zone", "country"]
    list_select_related = ["team"]
    inlines = [WeeklyHoursInline, ClosedDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "kind", "first_response_minutes", "resolution_minutes"]
    list_filter = ["priority"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["message", "recipient", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    readonly_fields = [
        "recipient",
        "kind",
        "message",
        "url",
        "target_type",
        "target_id",
        "key",
        "created_at",
        "emailed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # notifications come from the services (support.notifications.notify)


@admin.register(EmailMute)
class EmailMuteAdmin(admin.ModelAdmin):
    list_display = ["user", "kind"]
    list_select_related = ["user"]
