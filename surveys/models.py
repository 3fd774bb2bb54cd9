"""Surveys customers answer from a personal link: NPS (0-10), CSAT (1-5), CES (1-7)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from customers.models import Customer, Interaction, Language

COMMENT_MAX_LENGTH = 2000


class Survey(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", "NPS (0-10)"
        CSAT = "csat", "CSAT (1-5)"
        CES = "ces", "CES (1-7)"

    class Recontact(models.TextChoices):
        ONCE = "once", "Once per customer"
        EVERY_N_DAYS = "every_n_days", "At most every N days"
        UNTIL_ANSWERED = "until_answered", "Until the customer answers"

    class Trigger(models.TextChoices):
        NONE = "none", "None (sent by staff)"
        INTERACTION_RESOLVED = "interaction_resolved", "When an interaction is resolved"

    SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    # Scores at or below this make the answer a detractor and open a follow-up.
    DETRACTOR_MAX: dict[str, int] = {"nps": 6, "csat": 2, "ces": 3}

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=4, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    link_lifetime_days = models.PositiveIntegerField(default=14)
    recontact_rule = models.CharField(max_length=16, choices=Recontact.choices, default=Recontact.EVERY_N_DAYS)
    recontact_days = models.PositiveIntegerField(default=90, help_text="For 'every N days'.")
    trigger = models.CharField(max_length=24, choices=Trigger.choices, default=Trigger.NONE)
    reminder_after_days = models.PositiveIntegerField(
        null=True, blank=True, default=3, help_text="Send one reminder after this many days; empty for none."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> tuple[int, int]:
        return self.SCALES[self.kind]


class SurveyText(models.Model):
    """The question and follow-up question of a survey in one language."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=8, choices=Language.choices)
    question = models.CharField(max_length=500)
    follow_up = models.CharField(max_length=500, blank=True, help_text="Asked after the score, e.g. 'Why?'")
    low_label = models.CharField(max_length=100, blank=True)
    high_label = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "language"], name="survey_text_one_per_language")]

    def __str__(self) -> str:
        return f"{self.survey} [{self.language}]"


def default_expiry():
    return timezone.now() + timedelta(days=14)


class Invitation(models.Model):
    """One customer's personal link to one survey. The token itself is never stored, only its hash."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        LINK = "link", "Copied link"

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    # sha256 hex of the URL token; a database dump cannot answer a survey.
    token_hash = models.CharField(max_length=64, unique=True)
    # The reminder email carries a fresh link (the first token is not stored); both open this invitation.
    reminder_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    language = models.CharField(max_length=8, choices=Language.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=default_expiry)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Recontact and cooldown rules look up a customer's latest invitations.
            models.Index(fields=["customer", "-created_at"], name="invitation_customer_idx"),
            # Reminder sweep: sent, unanswered, not yet reminded.
            models.Index(
                fields=["sent_at"],
                name="invitation_remind_due_idx",
                condition=Q(answered_at__isnull=True, reminded_at__isnull=True, sent_at__isnull=False),
            ),
        ]
        constraints = [
            # The answer proves delivery (surveys.services.response_submit marks an unsent link sent), so
            # answers never outnumber invitations sent and a response rate never exceeds 100 %.
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(sent_at__isnull=False), name="invitation_answered_was_sent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.customer}"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        """For staff: answered, expired, opened, sent or created."""
        if self.answered_at:
            return "answered"
        if self.is_expired():
            return "expired"
        if self.opened_at:
            return "opened"
        if self.sent_at:
            return "sent"
        return "created"


class Response(models.Model):
    """A customer's answer. One per invitation (database-enforced); changeable until the link expires."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    # Denormalised from the invitation so metrics aggregate without two joins.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_responses")
    kind = models.CharField(max_length=4, choices=Survey.Kind.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_LENGTH)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped on every change; the answer form carries the revision it was built from, so a replayed
    # or concurrent POST is refused instead of silently overwriting a newer answer. db_default: bulk loads
    # (demo data) leave it out.
    revision = models.PositiveIntegerField(default=1, db_default=1)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "kind", "-submitted_at"], name="response_customer_idx"),
            models.Index(fields=["submitted_at", "kind"], name="response_submitted_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="nps", score__gte=0, score__lte=10)
                    | Q(kind="csat", score__gte=1, score__lte=5)
                    | Q(kind="ces", score__gte=1, score__lte=7)
                ),
                name="response_score_in_scale",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("comment"), COMMENT_MAX_LENGTH), name="response_comment_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"

    @property
    def is_detractor(self) -> bool:
        return self.score <= Survey.DETRACTOR_MAX[self.kind]


class FollowUp(models.Model):
    """A staff work item opened by a detractor answer; closed with a note that joins the timeline."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="follow_up")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follow_ups")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The staff queue: open items, oldest first.
            models.Index(fields=["created_at"], name="followup_open_idx", condition=Q(status="open")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False), name="followup_closed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up for {self.customer}"


class SurveySendJob(models.Model):
    """A bulk send to a customer list or segment, run by a Celery task; the progress page polls it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Sending"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="send_jobs")
    channel = models.CharField(max_length=8, choices=Invitation.Channel.choices, default=Invitation.Channel.EMAIL)
    # Who was selected when staff pressed send (ids), so a rerun sends to the same people.
    customer_ids = models.JSONField(default=list)
    description = models.CharField(max_length=300, blank=True, help_text="The filter or segment it came from.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Send {self.survey} to {self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.processed * 100 / self.total)
