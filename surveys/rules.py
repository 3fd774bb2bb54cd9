"""Who may be sent a survey now: the survey's recontact rule, the cross-survey cooldown and consent.

Survey fatigue has two layers:

1. Each survey's own recontact rule: *once* (never invite the same customer twice), *every N days*
   (no new invitation within N days of the last one to this survey) or *until answered* (invite
   again, but only once the previous link has expired unanswered, and never after an answer).
2. A per-customer cooldown across all surveys (``SURVEY_COOLDOWN_DAYS``, default 7 days) that
   looks only at invitations to surveys of the same or a higher rank. Relationship surveys (NPS)
   outrank transactional ones (CSAT, CES). So a CSAT sent after every resolved ticket never blocks
   the quarterly NPS, while an NPS invitation holds back CSAT and CES for the cooldown, and CSAT
   and CES hold each other back.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Max, Q
from django.utils import timezone

from customers.models import Customer
from surveys.models import Invitation, Survey

# Higher rank = more valuable to hear; a lower-ranked survey never blocks a higher-ranked one.
RANK: dict[str, int] = {Survey.Kind.NPS: 2, Survey.Kind.CSAT: 1, Survey.Kind.CES: 1}


class SkipReason(models.TextChoices):
    SURVEY_INACTIVE = "survey_inactive", "Survey is not active"
    NO_EMAIL = "no_email", "No email address"
    NO_CONSENT = "no_consent", "No consent to email"
    ALREADY_INVITED = "already_invited", "Already invited (survey is sent once)"
    RECONTACT_WINDOW = "recontact_window", "Invited to this survey recently"
    ALREADY_ANSWERED = "already_answered", "Already answered this survey"
    OPEN_LINK = "open_link", "Has an unanswered link that has not expired"
    COOLDOWN = "cooldown", "Surveyed recently (cooldown across surveys)"
    ALREADY_INVITED_FOR_INTERACTION = "interaction_done", "Already invited about this interaction"


def cooldown_days() -> int:
    return int(getattr(settings, "SURVEY_COOLDOWN_DAYS", 7))


def blocking_kinds(kind: str) -> list[str]:
    """Kinds whose recent invitations put a customer in cooldown for a survey of `kind`."""
    return [k for k, rank in RANK.items() if rank >= RANK[kind]]


def skip_reasons(
    *,
    survey: Survey,
    customers: Iterable[Customer],
    channel: str,
    enforce_fatigue: bool = True,
    now: datetime | None = None,
) -> dict[int, str]:
    """For each customer who may not be sent `survey` now, the reason. Two queries per call, however
    many customers: bulk sends call it per batch.
    """
    now = now or timezone.now()
    customers = list(customers)
    reasons: dict[int, str] = {}
    if not survey.is_active:
        return dict.fromkeys((c.id for c in customers), SkipReason.SURVEY_INACTIVE.value)
    if channel == Invitation.Channel.EMAIL:
        for c in customers:
            if not c.email:
                reasons[c.id] = SkipReason.NO_EMAIL
            elif not c.consent_email:
                reasons[c.id] = SkipReason.NO_CONSENT
    if not enforce_fatigue:
        return reasons
    remaining = [c.id for c in customers if c.id not in reasons]
    if not remaining:
        return reasons

    own = Invitation.objects.filter(survey=survey, customer_id__in=remaining)
    history = {
        row["customer_id"]: row
        for row in own.values("customer_id").annotate(
            last=Max("created_at"),
            answered=Max("answered_at"),
            open_until=Max("expires_at", filter=Q(answered_at__isnull=True)),
        )
    }
    for cid, row in history.items():
        if survey.recontact_rule == Survey.Recontact.ONCE:
            reasons[cid] = SkipReason.ALREADY_INVITED
        elif survey.recontact_rule == Survey.Recontact.EVERY_N_DAYS:
            if row["last"] > now - timedelta(days=survey.recontact_days):
                reasons[cid] = SkipReason.RECONTACT_WINDOW
        elif row["answered"] is not None:
            reasons[cid] = SkipReason.ALREADY_ANSWERED
        elif row["open_until"] is not None and row["open_until"] > now:
            reasons[cid] = SkipReason.OPEN_LINK

    remaining = [cid for cid in remaining if cid not in reasons]
    if remaining and cooldown_days() > 0:
        cooling = Invitation.objects.filter(
            customer_id__in=remaining,
            survey__kind__in=blocking_kinds(survey.kind),
            created_at__gt=now - timedelta(days=cooldown_days()),
        ).values_list("customer_id", flat=True)
        for cid in set(cooling):
            reasons[cid] = SkipReason.COOLDOWN
    return reasons


def invited_about_interaction(*, survey: Survey, interaction_id: int) -> bool:
    return Invitation.objects.filter(survey=survey, interaction_id=interaction_id).exists()


# The reasons a staff member may override (consent, a missing address and an inactive survey they may not).
FATIGUE_REASONS = {SkipReason.RECONTACT_WINDOW, SkipReason.COOLDOWN, SkipReason.OPEN_LINK}


def asked_again_from(
    *, survey: Survey, customer: Customer, reason: str, now: datetime | None = None
) -> datetime | None:
    """When `customer` may be sent `survey` again despite `reason` (a fatigue rule), or None when waiting
    does not help (sent once, already answered, no consent...)."""
    now = now or timezone.now()
    own = Invitation.objects.filter(survey=survey, customer=customer)
    if reason == SkipReason.RECONTACT_WINDOW:
        last = own.aggregate(last=Max("created_at"))["last"]
        return last + timedelta(days=survey.recontact_days) if last else None
    if reason == SkipReason.OPEN_LINK:
        return own.filter(answered_at__isnull=True).aggregate(until=Max("expires_at"))["until"]
    if reason == SkipReason.COOLDOWN:
        last = Invitation.objects.filter(
            customer=customer,
            survey__kind__in=blocking_kinds(survey.kind),
            created_at__gt=now - timedelta(days=cooldown_days()),
        ).aggregate(last=Max("created_at"))["last"]
        return last + timedelta(days=cooldown_days()) if last else None
    return None
