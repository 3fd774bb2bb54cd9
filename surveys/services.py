"""Writes of the surveys app."""

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from customers.models import Customer, Interaction
from customers.roles import has_a_role
from metrics.stale import mark_customers_stale
from surveys.emails import invitation_email
from surveys.models import COMMENT_MAX_LENGTH, FollowUp, Invitation, Response, Survey, SurveySendJob
from surveys.rules import SkipReason, skip_reasons
from surveys.tokens import hash_token, new_token

logger = logging.getLogger(__name__)

SEND_BATCH_SIZE = 200


class InvitationExpired(Exception):
    """The link's lifetime is over: the survey is closed for this customer."""


class AnswerConflict(Exception):
    """The answer changed since the form was shown (a replayed or concurrent POST)."""


def invitation_create(
    *,
    survey: Survey,
    customer: Customer,
    channel: str = Invitation.Channel.LINK,
    created_by: AbstractBaseUser | None = None,
    interaction: Interaction | None = None,
    language: str = "",
) -> tuple[Invitation, str]:
    """Create a personal link for `customer` to answer `survey`.

    Returns the invitation and the raw token: the token is not stored anywhere, so this is the
    only moment the link can be built. Eligibility rules (cooldown, recontact) are not checked here;
    `invitation_send` checks them. Every entry point (profile, bulk send, command, API, triggers)
    comes through here.
    Side effects: marks the customer stale (their invitation count, hence response rate, changes).
    """
    token = new_token()
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            survey=survey,
            customer=customer,
            channel=channel,
            created_by=created_by,
            interaction=interaction,
            language=language,
            token_hash=hash_token(token),
            created_at=now,
            # A copied link is handed over now; an email counts as sent once the mail server took it.
            sent_at=now if channel == Invitation.Channel.LINK else None,
            expires_at=now + timedelta(days=survey.link_lifetime_days),
        )
        mark_customers_stale(customer_ids=[customer.pk])
    return invitation, token


@dataclass
class SendOutcome:
    invitation: Invitation | None = None
    token: str | None = None
    skipped_reason: str | None = None

    @property
    def skipped_label(self) -> str:
        return SkipReason(self.skipped_reason).label if self.skipped_reason else ""


def invitation_send(
    *,
    survey: Survey,
    customer: Customer,
    channel: str,
    created_by: AbstractBaseUser | None = None,
    interaction: Interaction | None = None,
    enforce_fatigue: bool = True,
) -> SendOutcome:
    """Invite one customer if the rules allow it; an email goes out after commit (Celery).

    The customer row is locked so two concurrent sends cannot both pass the cooldown check.
    `enforce_fatigue=False` (staff override on the profile) skips recontact and cooldown, never consent.
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        reasons = skip_reasons(survey=survey, customers=[customer], channel=channel, enforce_fatigue=enforce_fatigue)
        if customer.pk in reasons:
            return SendOutcome(skipped_reason=str(reasons[customer.pk]))
        invitation, token = invitation_create(
            survey=survey, customer=customer, channel=channel, created_by=created_by, interaction=interaction
        )
        if channel == Invitation.Channel.EMAIL:
            transaction.on_commit(lambda: _enqueue_invitation_email(invitation.pk, token))
    return SendOutcome(invitation=invitation, token=token)


def _enqueue_invitation_email(invitation_id: int, token: str) -> None:
    """The token exists only in memory now: if the broker cannot take it, send in-process instead."""
    from surveys.tasks import send_invitation_email

    try:
        send_invitation_email.delay(invitation_id, token)
    except (OSError, OperationalError):
        logger.warning("Broker unavailable; sending survey invitation %s in-process", invitation_id)
        invitation_email_send(invitation_id=invitation_id, token=token)


def invitation_email_send(*, invitation_id: int, token: str) -> bool:
    """Email the invitation link. Idempotent: claims the invitation by setting sent_at first, so a
    retried task does not send twice; a failed send releases the claim and re-raises.
    """
    invitation = Invitation.objects.select_related("survey", "customer").filter(pk=invitation_id).first()
    if invitation is None or hash_token(token) != invitation.token_hash:
        return False
    now = timezone.now()
    with transaction.atomic():
        if not Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=now):
            return False
        # Sent invitations are the response rate's denominator.
        mark_customers_stale(customer_ids=[invitation.customer_id])
    try:
        invitation_email(invitation=invitation, token=token).send()
    except Exception:
        with transaction.atomic():
            Invitation.objects.filter(pk=invitation.pk, sent_at=now).update(sent_at=None)
            mark_customers_stale(customer_ids=[invitation.customer_id])
        raise
    return True


def invitation_open(*, invitation: Invitation) -> None:
    """Record the first time the link was opened. Never records an answer (mail scanners open links)."""
    if invitation.opened_at is None:
        now = timezone.now()
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=now)
        invitation.opened_at = now


def _clean_score(survey: Survey, score: object) -> int:
    low, high = survey.scale
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        raise ValidationError({"score": "Not a number."}) from None
    if not low <= value <= high:
        raise ValidationError({"score": f"Must be between {low} and {high}."})
    return value


def response_submit(
    *,
    invitation_id: int,
    score: int,
    comment: str = "",
    language: str = "en",
    expected_revision: int | None = None,
) -> Response:
    """Record or change the customer's answer.

    Preconditions: the link has not expired (else InvitationExpired); `expected_revision` is the
    revision the form was built from (0 = no answer yet; None = do not check), else AnswerConflict.
    Side effects: sets answered_at on the first answer, and sent_at when the invitation was never
    marked sent (the answer proves the link reached the customer: an API link handed over by an
    integration, an email whose send was not recorded), so answers never outnumber invitations sent
    and a response rate never exceeds 100 %; marks the customer's metrics stale (a recompute is
    enqueued after commit); opens, reopens or closes the detractor follow-up.
    The invitation row is locked, so simultaneous submits of one link are serialised and the
    OneToOne constraint keeps exactly one Response.
    """
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError({"comment": f"At most {COMMENT_MAX_LENGTH} characters."})
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("survey", "customer")
            .get(pk=invitation_id)
        )
        now = timezone.now()
        if invitation.is_expired(now):
            raise InvitationExpired
        value = _clean_score(invitation.survey, score)
        response = Response.objects.filter(invitation=invitation).first()
        current = response.revision if response else 0
        if expected_revision is not None and expected_revision != current:
            raise AnswerConflict
        if response is None:
            response = Response(
                invitation=invitation,
                customer_id=invitation.customer_id,
                kind=invitation.survey.kind,
                score=value,
                comment=comment,
                language=language,
                submitted_at=now,
            )
            response.full_clean(exclude=["invitation"])
            try:
                with transaction.atomic():
                    response.save()
            except IntegrityError:
                raise AnswerConflict from None
            delivered = {"answered_at": now}
            if invitation.sent_at is None:
                delivered["sent_at"] = now
            Invitation.objects.filter(pk=invitation.pk).update(**delivered)
            for name, value in delivered.items():
                setattr(invitation, name, value)
        else:
            response.score = value
            response.comment = comment
            response.language = language
            response.revision = current + 1
            response.full_clean(exclude=["invitation"])
            response.save(update_fields=["score", "comment", "language", "revision", "updated_at"])
        mark_customers_stale(customer_ids=[invitation.customer_id])
        _follow_up_sync(response=response, customer=invitation.customer, now=now)
    return response


def _follow_up_sync(*, response: Response, customer: Customer, now: datetime) -> None:
    """A detractor answer opens a follow-up for the customer's owner (if they hold a role). If the
    customer changes the answer: to a non-detractor score, an open follow-up closes itself (with a
    note); back to a detractor score, one closed that way reopens. One closed by staff stays closed.
    """
    follow_up = FollowUp.objects.filter(response=response).first()
    if response.is_detractor:
        if follow_up is None:
            from support.services import notify_follow_up_assigned

            # Assigned to the owner, if the owner still holds a role (else to nobody: the team picks it up).
            owner = customer.owner if customer.owner_id else None
            follow_up = FollowUp.objects.create(
                response=response, customer=customer, assigned_to=owner if has_a_role(owner) else None, created_at=now
            )
            notify_follow_up_assigned(follow_up)
        elif follow_up.status == FollowUp.Status.CLOSED and follow_up.closed_by_id is None:
            follow_up.status = FollowUp.Status.OPEN
            follow_up.closed_at = None
            follow_up.note = ""
            follow_up.save(update_fields=["status", "closed_at", "note"])
    elif follow_up is not None and follow_up.status == FollowUp.Status.OPEN:
        follow_up.status = FollowUp.Status.CLOSED
        follow_up.closed_at = now
        follow_up.note = f"Closed automatically: the customer changed the score to {response.score}."
        follow_up.save(update_fields=["status", "closed_at", "note"])


def follow_up_close(*, follow_up: FollowUp, note: str, closed_by: AbstractBaseUser) -> FollowUp:
    """Staff close the loop: the note is required and shows on the customer's timeline."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Write what you did to close the loop."})
    if len(note) > 5000:
        raise ValidationError({"note": "At most 5000 characters."})
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status == FollowUp.Status.CLOSED:
            raise ValidationError("This follow-up is already closed.")
        follow_up.status = FollowUp.Status.CLOSED
        follow_up.note = note
        follow_up.closed_at = timezone.now()
        follow_up.closed_by = closed_by
        follow_up.full_clean()
        follow_up.save(update_fields=["status", "note", "closed_at", "closed_by"])
    return follow_up


@dataclass
class BatchResult:
    made: list[tuple[Invitation, str]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)


def invitations_send_batch(
    *,
    survey: Survey,
    customer_ids: Sequence[int],
    channel: str,
    created_by: AbstractBaseUser | None = None,
) -> BatchResult:
    """Invite a batch of customers who pass the rules, then email those invited by email (one
    connection for the batch). Used by the bulk send job and the send_survey command.
    """
    result = BatchResult()
    with transaction.atomic():
        customers = list(Customer.objects.select_for_update().filter(id__in=customer_ids).order_by("id"))
        missing = len(set(customer_ids)) - len(customers)
        if missing:
            result.skipped["deleted"] += missing
        reasons = skip_reasons(survey=survey, customers=customers, channel=channel)
        for customer in customers:
            if customer.id in reasons:
                result.skipped[str(reasons[customer.id])] += 1
                continue
            result.made.append(
                invitation_create(survey=survey, customer=customer, channel=channel, created_by=created_by)
            )
    if channel == Invitation.Channel.EMAIL and result.made:
        sent_ids = []
        with get_connection() as connection:
            for invitation, token in result.made:
                try:
                    invitation_email(invitation=invitation, token=token, connection=connection).send()
                except Exception:
                    logger.exception("Survey email for invitation %s failed", invitation.pk)
                    result.skipped["email_failed"] += 1
                    continue
                sent_ids.append(invitation.pk)
        with transaction.atomic():
            Invitation.objects.filter(pk__in=sent_ids, sent_at__isnull=True).update(sent_at=timezone.now())
            mark_customers_stale(customer_ids=[inv.customer_id for inv, _ in result.made if inv.pk in set(sent_ids)])
        result.made = [(inv, token) for inv, token in result.made if inv.pk in set(sent_ids)]
    return result


def send_job_create(
    *,
    survey: Survey,
    customer_ids: Sequence[int],
    created_by: AbstractBaseUser | None,
    description: str = "",
    channel: str = Invitation.Channel.EMAIL,
) -> SurveySendJob:
    """Record a bulk send and start it after commit."""
    ids = sorted({int(i) for i in customer_ids})
    with transaction.atomic():
        job = SurveySendJob(
            survey=survey,
            channel=channel,
            customer_ids=ids,
            total=len(ids),
            created_by=created_by,
            description=description[:300],
        )
        job.full_clean()
        job.save()
        from surveys.tasks import run_send_job

        # robust: with the broker away the job stays queued and the request still succeeds (logged).
        transaction.on_commit(lambda: run_send_job.delay(job.pk), robust=True)
    return job


def send_job_run(*, job_id: int) -> SurveySendJob | None:
    """Run (or resume) a bulk send in batches, saving progress after each. Safe to run twice: a
    finished job returns at once and a resumed one starts after the last saved batch.
    """
    claimed = SurveySendJob.objects.filter(
        pk=job_id, status__in=[SurveySendJob.Status.PENDING, SurveySendJob.Status.RUNNING]
    ).update(status=SurveySendJob.Status.RUNNING)
    if not claimed:
        return None
    job = SurveySendJob.objects.select_related("survey", "created_by").get(pk=job_id)
    try:
        while job.processed < job.total:
            batch = job.customer_ids[job.processed : job.processed + SEND_BATCH_SIZE]
            result = invitations_send_batch(
                survey=job.survey, customer_ids=batch, channel=job.channel, created_by=job.created_by
            )
            reasons = Counter(job.skipped_reasons) + result.skipped
            job.processed += len(batch)
            job.sent += len(result.made)
            job.skipped += sum(result.skipped.values())
            job.skipped_reasons = dict(reasons)
            job.save(update_fields=["processed", "sent", "skipped", "skipped_reasons"])
    except Exception as exc:
        job.status = SurveySendJob.Status.FAILED
        job.error = str(exc)[:1000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        raise
    job.status = SurveySendJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    return job


def reminders_send_due(*, now: datetime | None = None) -> int:
    """Send the one reminder of every emailed invitation that is unanswered, unexpired and older
    than its survey's reminder delay. The reminder carries a fresh link (the first token is not
    stored); both links open the same invitation. Each invitation is claimed with a conditional
    UPDATE, so overlapping runs send each reminder once.
    """
    now = now or timezone.now()
    candidates = (
        Invitation.objects.filter(
            answered_at__isnull=True,
            reminded_at__isnull=True,
            sent_at__isnull=False,
            expires_at__gt=now,
            channel=Invitation.Channel.EMAIL,
            survey__is_active=True,
            survey__reminder_after_days__isnull=False,
            customer__consent_email=True,
        )
        .exclude(customer__email="")
        .select_related("survey", "customer")
        .order_by("sent_at")
    )
    sent = 0
    with get_connection() as connection:
        for invitation in candidates.iterator(chunk_size=500):
            if invitation.sent_at > now - timedelta(days=invitation.survey.reminder_after_days):
                continue
            token = new_token()
            claimed = Invitation.objects.filter(pk=invitation.pk, reminded_at__isnull=True).update(
                reminded_at=now, reminder_token_hash=hash_token(token)
            )
            if not claimed:
                continue
            try:
                invitation_email(invitation=invitation, token=token, reminder=True, connection=connection).send()
            except Exception:
                Invitation.objects.filter(pk=invitation.pk).update(reminded_at=None, reminder_token_hash=None)
                logger.exception("Survey reminder for invitation %s failed", invitation.pk)
                continue
            sent += 1
    return sent
