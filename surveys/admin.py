from django.contrib import admin

from surveys.models import FollowUp, Invitation, Response, Survey, SurveySendJob, SurveyText


class SurveyTextInline(admin.StackedInline):
    model = SurveyText
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "is_active", "recontact_rule", "recontact_days", "trigger"]
    list_filter = ["kind", "is_active", "trigger"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SurveyTextInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "customer", "channel", "created_at", "sent_at", "opened_at", "answered_at"]
    list_filter = ["survey", "channel"]
    list_select_related = ["survey", "customer"]
    raw_id_fields = ["customer", "interaction", "created_by"]
    search_fields = ["customer__name", "customer__email"]
    # The hash cannot be turned back into a link; nobody should edit it.
    readonly_fields = ["token_hash", "reminder_token_hash", "created_at", "opened_at", "answered_at"]
    date_hierarchy = "created_at"


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "score", "customer", "language", "submitted_at"]
    list_filter = ["kind", "language"]
    list_select_related = ["customer"]
    raw_id_fields = ["invitation", "customer"]
    search_fields = ["customer__name", "comment"]
    date_hierarchy = "submitted_at"


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "status", "assigned_to", "created_at", "closed_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "assigned_to"]
    raw_id_fields = ["response", "customer", "assigned_to", "closed_by"]


@admin.register(SurveySendJob)
class SurveySendJobAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "status", "total", "sent", "skipped", "created_by", "created_at"]
    readonly_fields = ["customer_ids"]
