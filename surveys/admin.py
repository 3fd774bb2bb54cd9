"""Django admin for surveys. Every save and delete goes through surveys.staff_services (see
customers.admin_base): a survey with invitations keeps its kind, a follow-up closes only with a note
and is assigned only to a user with a role, deleting an invitation or an answer marks the customer
stale. Invitations and answers are made by sending and answering, never added here; an answer is
the customer's and cannot be edited (only deleted)."""

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from customers.admin_base import ServiceModelAdmin, Writes, form_values
from surveys import staff_services
from surveys.models import FollowUp, Invitation, Response, Survey, SurveySendJob, SurveyText


def _text_save(request: HttpRequest, form: ModelForm, parent: Model | None) -> SurveyText:
    text = form.instance
    if parent is not None:
        text.survey = parent
    return staff_services.survey_text_save(text=text)


SURVEY_TEXT = Writes(
    create=_text_save,
    update=lambda request, stored, changed, form: _text_save(request, form, None),
    delete=lambda request, obj: staff_services.survey_text_delete(text=obj),
)

SURVEY = Writes(
    create=lambda request, form, parent: staff_services.survey_create(
        **form_values(form, staff_services.SURVEY_FIELDS)
    ),
    update=lambda request, stored, changed, form: staff_services.survey_update(
        survey=stored, **{k: v for k, v in changed.items() if k in staff_services.SURVEY_FIELDS}
    ),
    delete=lambda request, obj: staff_services.survey_delete(survey=obj),
)


def _not_added(request: HttpRequest, form: ModelForm, parent: Model | None) -> Model:
    raise PermissionError("Not added in the admin.")


INVITATION = Writes(
    create=_not_added,
    update=lambda request, stored, changed, form: staff_services.invitation_update(
        invitation=stored, **{k: v for k, v in changed.items() if k in staff_services.INVITATION_FIELDS}
    ),
    delete=lambda request, obj: staff_services.invitation_delete(invitation=obj),
)

RESPONSE = Writes(
    create=_not_added,
    update=_not_added,  # type: ignore[arg-type]
    delete=lambda request, obj: staff_services.response_delete(response=obj),
)


def _follow_up_update(request: HttpRequest, stored: FollowUp, changed: dict[str, Any], form: ModelForm) -> FollowUp:
    values: dict[str, Any] = {"note": form.cleaned_data.get("note", stored.note)}
    if "status" in changed:
        values["status"] = changed["status"]
    if "assigned_to" in changed:
        values["assigned_to"] = changed["assigned_to"]
    return staff_services.follow_up_update(follow_up=stored, actor=request.user, **values)


FOLLOW_UP = Writes(
    create=_not_added,
    update=_follow_up_update,
    delete=lambda request, obj: staff_services.follow_up_delete(follow_up=obj),
)


class SurveyTextInline(admin.StackedInline):
    model = SurveyText
    extra = 0


@admin.register(Survey)
class SurveyAdmin(ServiceModelAdmin):
    writes = SURVEY
    inline_writes = {SurveyText: SURVEY_TEXT}
    list_display = ["name", "slug", "kind", "is_active", "recontact_rule", "recontact_days", "trigger"]
    list_filter = ["kind", "is_active", "trigger"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SurveyTextInline]

    def has_delete_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        # A survey with invitations is deactivated, not deleted (its answers carry figures).
        return super().has_delete_permission(request, obj) and not (
            obj is not None and staff_services.survey_kind_locked(obj)
        )


class NotAddedMixin:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(NotAddedMixin, ServiceModelAdmin):
    writes = INVITATION
    list_display = ["id", "survey", "customer", "channel", "created_at", "sent_at", "opened_at", "answered_at"]
    list_filter = ["survey", "channel"]
    list_select_related = ["survey", "customer"]
    raw_id_fields = ["customer", "interaction", "created_by"]
    search_fields = ["customer__name", "customer__email"]
    # Only the expiry and language change; the rest is the invitation's history. The hash cannot be
    # turned back into a link.
    readonly_fields = [
        "survey",
        "customer",
        "interaction",
        "channel",
        "token_hash",
        "reminder_token_hash",
        "created_by",
        "created_at",
        "sent_at",
        "opened_at",
        "reminded_at",
        "answered_at",
    ]
    date_hierarchy = "created_at"


@admin.register(Response)
class ResponseAdmin(NotAddedMixin, ServiceModelAdmin):
    writes = RESPONSE
    list_display = ["id", "kind", "score", "customer", "language", "submitted_at"]
    list_filter = ["kind", "language"]
    list_select_related = ["customer"]
    raw_id_fields = ["invitation", "customer"]
    search_fields = ["customer__name", "comment"]
    date_hierarchy = "submitted_at"

    def has_change_permission(self, request: HttpRequest, obj: Response | None = None) -> bool:
        return False


@admin.register(FollowUp)
class FollowUpAdmin(NotAddedMixin, ServiceModelAdmin):
    writes = FOLLOW_UP
    list_display = ["id", "customer", "status", "assigned_to", "created_at", "closed_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "assigned_to"]
    fields = ["response", "customer", "assigned_to", "status", "note", "created_at", "closed_at", "closed_by"]
    readonly_fields = ["response", "customer", "created_at", "closed_at", "closed_by"]


@admin.register(SurveySendJob)
class SurveySendJobAdmin(admin.ModelAdmin):
    """A record of a bulk send, written by the send job only."""

    list_display = ["id", "survey", "status", "total", "sent", "skipped", "created_by", "created_at"]
    readonly_fields = ["customer_ids"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SurveySendJob | None = None) -> bool:
        return False
