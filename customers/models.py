"""Customers and everything that happens with them: interactions, orders, engagement events."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.formats import format_money
from customers.currencies import validate_currency
from customers.lifecycle import STAGE_FOLLOWS_CHURN, active_on_q
from support.models import Priority


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    THAI = "th", "ไทย"
    TRADITIONAL_CHINESE = "zh-hant", "繁體中文"
    MALAY = "ms", "Bahasa Melayu"


class Tag(models.Model):
    """A free label staff put on customers ("vip", "reseller")."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(models.QuerySet["Customer"]):
    def active_on(self, day: date) -> "CustomerQuerySet":
        """Customers active on `day`: acquired on or before it and not churned on or before it
        (the one definition, customers.lifecycle)."""
        return self.filter(active_on_q(day))


class Customer(models.Model):
    """A person or account Rapport keeps a relationship with."""

    class Stage(models.TextChoices):
        LEAD = "lead", "Lead"
        ACTIVE = "active", "Active"
        AT_RISK = "at_risk", "At risk"
        CHURNED = "churned", "Churned"

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        BASIC = "basic", "Basic"
        PRO = "pro", "Pro"
        ENTERPRISE = "enterprise", "Enterprise"

    external_id = models.CharField(max_length=64, unique=True, help_text="The id in the source system.")
    name = models.CharField(max_length=200)
    first_name = models.CharField(
        max_length=100, blank=True, help_text="How to greet the customer; the only personal data public pages show."
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    company = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code, e.g. TH.")
    city = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    lifecycle_stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.ACTIVE)
    plan = models.CharField(max_length=12, choices=Plan.choices, default=Plan.FREE)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    acquired_at = models.DateField(default=timezone.localdate, help_text="The day they became a customer.")
    churned_at = models.DateField(null=True, blank=True, help_text="The day they stopped being a customer.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_customers"
    )
    consent_email = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # Customer list sorted by name (default ordering) and the exact-match search on email.
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            # The list's search box matches external_id case-insensitively (UPPER(external_id) = ...); an
            # index on the same expression lets PostgreSQL OR it with the trigram indexes instead of a seq scan.
            models.Index(Upper("external_id"), name="customer_external_id_upper_idx"),
            # Period metrics: who was active on a day.
            models.Index(fields=["acquired_at", "churned_at"], name="customer_lifespan_idx"),
            models.Index(fields=["country", "city"], name="customer_geo_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(churned_at__isnull=True) | Q(churned_at__gte=models.F("acquired_at")),
                name="customer_churn_after_acquisition",
            ),
            # churned_at is the truth and the stage follows it (customers.lifecycle.reconcile_stage).
            models.CheckConstraint(condition=STAGE_FOLLOWS_CHURN, name="customer_stage_follows_churn"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def greeting_name(self) -> str:
        return self.first_name or self.name.split(" ")[0]


class Interaction(models.Model):
    """A conversation with a customer: a call, an email thread, a chat, a ticket, a meeting."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat"
        SOCIAL = "social", "Social"
        IN_PERSON = "in_person", "In person"
        WEB = "web", "Web"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Kind(models.TextChoices):
        SUPPORT = "support", "Support ticket"
        SALES = "sales", "Sales"
        ONBOARDING = "onboarding", "Onboarding"
        BILLING = "billing", "Billing"
        FEEDBACK = "feedback", "Feedback"
        MEETING = "meeting", "Meeting"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SUPPORT)
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Support work (support app): who works on it, how urgent it is, and its SLA clock in business hours.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_interactions",
        help_text="The agent working on it (a staff user with a role).",
    )
    team = models.ForeignKey(
        "support.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    priority = models.CharField(
        max_length=8, choices=Priority.choices, default=Priority.NORMAL, db_default=Priority.NORMAL
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_business_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business seconds to the first response, less waiting; set when it happens."
    )
    resolution_business_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business seconds to the resolution, less waiting; set when it happens."
    )
    first_response_sla_met = models.BooleanField(null=True, blank=True)
    resolution_sla_met = models.BooleanField(null=True, blank=True)
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="Set while waiting on the customer: the SLA clock is paused."
    )
    waiting_business_seconds = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Business seconds spent waiting on the customer in earlier waits."
    )
    email_message_id = models.CharField(
        max_length=255,
        blank=True,
        db_default="",
        help_text="Message-ID of the customer's email; emailed replies thread under it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # Profile timeline and per-customer metrics read a customer's interactions by date.
            models.Index(fields=["customer", "-opened_at"], name="interaction_customer_idx"),
            # Period snapshots count interactions opened in a month.
            models.Index(fields=["opened_at"], name="interaction_opened_idx"),
            # The work queue: open interactions of an assignee (or unassigned) and the SLA warning sweep.
            models.Index(
                fields=["assignee", "resolution_due_at"], name="interaction_queue_idx", condition=~Q(status="resolved")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True) | Q(first_response_at__gte=models.F("opened_at")),
                name="interaction_response_after_open",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("opened_at")),
                name="interaction_resolved_after_open",
            ),
            models.CheckConstraint(
                condition=Q(status="resolved", resolved_at__isnull=False) | ~Q(status="resolved"),
                name="interaction_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class InteractionReply(models.Model):
    """A staff reply to the customer, or an internal note, inside an interaction. The first reply to the
    customer sets the interaction's first response time; a reply on an email interaction is emailed."""

    class Visibility(models.TextChoices):
        REPLY = "reply", "Reply to customer"
        NOTE = "note", "Internal note"

    class Delivery(models.TextChoices):
        RECORDED = "", "Recorded only"
        PENDING = "pending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    visibility = models.CharField(
        max_length=5, choices=Visibility.choices, default=Visibility.REPLY, db_default=Visibility.REPLY
    )
    delivery = models.CharField(
        max_length=8, choices=Delivery.choices, default=Delivery.RECORDED, db_default="", blank=True
    )
    message_id = models.CharField(
        max_length=255, blank=True, db_default="", help_text="Message-ID of the email that carried it."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=500, blank=True, db_default="")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "interaction replies"

    def __str__(self) -> str:
        return f"Reply to {self.interaction_id}"


class ExchangeRate(models.Model):
    """How many units of settings.BASE_CURRENCY one unit of `currency` was worth from `valid_from` on, until
    the next row of the same currency. Orders take the rate in effect on their day (customers.money)."""

    currency = models.CharField(max_length=3, validators=[validate_currency])
    valid_from = models.DateField(help_text="First day (in TIME_ZONE) this rate applies to.")
    rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
        help_text="Units of the base currency per unit of this currency.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_one_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} (from {self.valid_from})"


class Order(models.Model):
    """A purchase: the amount in the currency it was paid in, and the same amount in settings.BASE_CURRENCY
    at the exchange rate of its day, which every metric sums (never amounts in different currencies)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="Id in the shop; makes ingest idempotent."
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    # Set by the order services and the ingest (customers.money); bounded so that metric totals cannot overflow.
    amount_base = models.DecimalField(
        max_digits=16, decimal_places=2, default=0, help_text="The amount in the base currency at exchange_rate."
    )
    exchange_rate = models.DecimalField(
        max_digits=20, decimal_places=10, default=1, help_text="Base currency per unit of the order's currency."
    )
    ordered_at = models.DateTimeField(default=timezone.now)
    referred_by = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_orders",
        help_text="The customer whose referral brought this order (advocacy revenue).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-ordered_at"], name="order_customer_idx"),
            models.Index(fields=["ordered_at"], name="order_ordered_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


class EngagementEvent(models.Model):
    """Something a customer did on a channel we measure: a session, an email open, a like."""

    class Kind(models.TextChoices):
        SESSION = "session", "Session"
        PAGE_VIEW = "page_view", "Page view"
        EMAIL_SENT = "email_sent", "Email sent"
        EMAIL_OPENED = "email_opened", "Email opened"
        EMAIL_CLICKED = "email_clicked", "Email clicked"
        EMAIL_UNSUBSCRIBED = "email_unsubscribed", "Email unsubscribed"
        SOCIAL_LIKE = "social_like", "Social like"
        SOCIAL_SHARE = "social_share", "Social share"
        SOCIAL_COMMENT = "social_comment", "Social comment"
        EVENT_REGISTERED = "event_registered", "Event registration"
        EVENT_ATTENDED = "event_attended", "Event attendance"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    campaign = models.CharField(max_length=100, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Sessions only.")
    pages = models.PositiveIntegerField(null=True, blank=True, help_text="Pages viewed in a session (bounce = 1).")
    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="event_customer_idx"),
            models.Index(fields=["occurred_at", "kind"], name="event_occurred_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="session") | Q(duration_seconds__isnull=True), name="event_duration_only_for_sessions"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.customer_id}"


class Referral(models.Model):
    """A customer recommended someone; converted once that person became a customer."""

    referrer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="referrals_made")
    referred_name = models.CharField(max_length=200, blank=True)
    referred_email = models.EmailField(blank=True)
    converted_customer = models.OneToOneField(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="referred_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["referrer"], name="referral_referrer_idx")]

    def __str__(self) -> str:
        return f"Referral by {self.referrer_id}"


class Segment(models.Model):
    """A named group of customers: a saved customer filter (dynamic) or an explicit list (static)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (saved filter)"
        STATIC = "static", "Static (explicit members)"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    filter_params = models.JSONField(
        default=dict, blank=True, help_text="Query parameters of the customer filter, e.g. {'country': 'TH'}."
    )
    members = models.ManyToManyField(Customer, blank=True, related_name="static_segments")
    is_builtin = models.BooleanField(default=False, help_text="Built-in segments cannot be edited or deleted.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_builtin", "name"]

    def __str__(self) -> str:
        return self.name


class CustomerImportJob(models.Model):
    """A CSV import run by a Celery task (customers.import_jobs); its page shows the progress and the report.

    The file is kept in the row (any worker on any host can read it) until the job finishes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Checking the rows"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    data = models.BinaryField(editable=False)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveIntegerField(default=0)
    valid_rows_only = models.BooleanField(default=False)
    update_existing = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    rows_checked = models.PositiveIntegerField(default=0)
    # ImportResult.as_json() once finished; file_error when the file itself could not be read.
    report = models.JSONField(default=dict, blank=True)
    file_error = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.file_name or self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class PrivacyAction(models.Model):
    """Audit of a data-protection request on a customer (PDPA TH/MY/TW): a copy exported or data erased.

    Holds no personal data itself: the customer is named by id only, so the record survives an erasure.
    """

    class Kind(models.TextChoices):
        EXPORT = "export", "Exported a copy"
        ERASE = "erase", "Erased personal data"

    customer = models.ForeignKey(Customer, null=True, on_delete=models.SET_NULL, related_name="privacy_actions")
    customer_ref = models.BigIntegerField(help_text="The customer's id, kept if the customer row is deleted.")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    performed_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=8, default="page", help_text="page or api")

    class Meta:
        ordering = ["-performed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of customer {self.customer_ref}"
