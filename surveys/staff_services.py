"""Staff's writes to surveys, invitations, answers and follow-ups outside the customer's own path:
the admin and the API call these (surveys.services has sending and answering).

Invariants held here for every entry point:
- a survey's kind (and with it its scale) is fixed once it has invitations: answers already given
  on one scale would be read on another (three CSAT answers of 5, 4, 5 read as NPS give −100);
- a follow-up closes only with a note (what was done to close the loop), and is assigned only to
  a user with a role;
- deleting an invitation or an answer marks the customer stale in the same transaction.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.roles import check_has_a_role
from metrics.stale import mark_customers_stale
from surveys.models import FollowUp, Invitation, Response, Survey, SurveyText

SURVEY_FIELDS = frozenset(
    {
        "slug",
        "name",
        "kind",
        "is_active",
        "link_lifetime_days",
        "recontact_rule",
        "recontact_days",
        "trigger",
        "reminder_after_days",
    }
)
INVITATION_FIELDS = frozenset({"expires_at", "language"})
NOTE_MAX_LENGTH = 5000
KIND_LOCKED_MESSAGE = (
    "This survey has invitations, so its kind (and scale) cannot change: the answers given would be read "
    "on another scale. Create a new survey instead."
)


def _unknown(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")


def survey_kind_locked(survey: Survey) -> bool:
    """True once the survey has invitations: its kind may no longer change."""
    return survey.pk is not None and Invitation.objects.filter(survey_id=survey.pk).exists()


def check_survey_kind(*, survey: Survey, kind: str) -> None:
    """ValidationError on "kind" when `kind` differs from the stored one of a survey with invitations."""
    if survey.pk is None:
        return
    stored = Survey.objects.filter(pk=survey.pk).values_list("kind", flat=True).first()
    if stored is not None and stored != kind and survey_kind_locked(survey):
        raise ValidationError({"kind": KIND_LOCKED_MESSAGE})


def survey_create(**fields: Any) -> Survey:
    """Create a survey (SURVEY_FIELDS). Raises ValidationError and saves nothing when invalid."""
    _unknown(fields, SURVEY_FIELDS)
    survey = Survey(**fields)
    survey.full_clean()
    with transaction.atomic():
        survey.save()
    return survey


def survey_update(*, survey: Survey, **fields: Any) -> Survey:
    """Change the given SURVEY_FIELDS. Raises ValidationError (the kind of a survey with invitations,
    an invalid value) and leaves the row unchanged then. Locks the survey row, so an invitation made
    meanwhile cannot slip past the kind check."""
    _unknown(fields, SURVEY_FIELDS)
    with transaction.atomic():
        stored = Survey.objects.select_for_update().get(pk=survey.pk)
        changed = [name for name, value in fields.items() if getattr(stored, name) != value]
        if "kind" in changed and survey_kind_locked(stored):
            raise ValidationError({"kind": KIND_LOCKED_MESSAGE})
        for name, value in fields.items():
            setattr(survey, name, value)
        survey.full_clean()
        if changed:
            survey.save(update_fields=changed)
    return survey


def survey_delete(*, survey: Survey) -> None:
    """Delete a survey that has no invitations; ValidationError otherwise (deactivate it instead)."""
    with transaction.atomic():
        if survey_kind_locked(survey):
            raise ValidationError("This survey has invitations; deactivate it instead (is_active: false).")
        survey.delete()


def invitation_update(*, invitation: Invitation, **fields: Any) -> Invitation:
    """Change an invitation's expiry or language (the rest are facts of its life: sent, opened, answered)."""
    _unknown(fields, INVITATION_FIELDS)
    changed = [name for name, value in fields.items() if getattr(invitation, name) != value]
    for name, value in fields.items():
        setattr(invitation, name, value)
    invitation.full_clean()
    with transaction.atomic():
        if changed:
            invitation.save(update_fields=changed)
    return invitation


def invitation_delete(*, invitation: Invitation) -> None:
    """Delete an invitation with its answer and follow-up. Side effects: marks the customer stale."""
    with transaction.atomic():
        invitation.delete()
        mark_customers_stale(customer_ids=[invitation.customer_id])


def response_delete(*, response: Response) -> None:
    """Delete an answer (and its follow-up); the invitation becomes unanswered again, still sent.

    Side effects: marks the customer stale.
    """
    with transaction.atomic():
        Invitation.objects.filter(pk=response.invitation_id).update(answered_at=None)
        response.delete()
        mark_customers_stale(customer_ids=[response.customer_id])


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": f"At most {NOTE_MAX_LENGTH} characters."})
    return note


_UNSET: Any = object()


def follow_up_update(
    *,
    follow_up: FollowUp,
    actor: AbstractBaseUser,
    status: str | None = None,
    note: str | None = None,
    assigned_to: Any = _UNSET,
) -> FollowUp:
    """Assign, annotate, close or reopen a follow-up (what the API's PATCH and the admin do).

    Closing needs a note given with the close, as on the follow-up page (ValidationError on "note"
    otherwise; a note written earlier does not count), and records `actor` and the time; reopening
    clears them and keeps the note. The assignee must hold a role (ValidationError on
    "assigned_to"). The row is locked against a simultaneous close.
    """
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        fields: list[str] = []
        if assigned_to is not _UNSET and assigned_to != locked.assigned_to:
            check_has_a_role(assigned_to, field="assigned_to")
            locked.assigned_to = assigned_to
            fields.append("assigned_to")
        if note is not None and _clean_note(note) != locked.note:
            locked.note = _clean_note(note)
            fields.append("note")
        if status is not None and status != locked.status:
            if status == FollowUp.Status.CLOSED:
                if not _clean_note(note or ""):
                    raise ValidationError({"note": "Write what you did to close the loop."})
                locked.closed_at = timezone.now()
                locked.closed_by = actor
            else:
                locked.closed_at = None
                locked.closed_by = None
            locked.status = status
            fields += ["status", "closed_at", "closed_by"]
        locked.full_clean()
        if fields:
            locked.save(update_fields=fields)
    return locked


def follow_up_delete(*, follow_up: FollowUp) -> None:
    """Delete a follow-up (the answer stays; a follow-up carries no figures)."""
    with transaction.atomic():
        follow_up.delete()


def survey_text_save(*, text: SurveyText) -> SurveyText:
    """Create or change a survey's question in one language (texts carry no figures)."""
    text.full_clean()
    with transaction.atomic():
        text.save()
    return text


def survey_text_delete(*, text: SurveyText) -> None:
    with transaction.atomic():
        text.delete()
