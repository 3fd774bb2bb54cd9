"""Computed figures. Rows here are overwritten by recomputes; the raw data lives in customers and surveys.

Counts and sums are stored; rates are derived from them by metrics.formulas (never an average of averages).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from customers.models import Customer, Segment


class StaleCustomer(models.Model):
    """A customer whose metrics need recomputing. Marked in the same transaction as the change."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="+")
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"stale {self.customer_id}"


class CustomerMetrics(models.Model):
    """Per-customer figures for the profile's metrics card. One row per customer."""

    class ChurnRisk(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="metrics")
    # Surveys
    latest_nps_score = models.PositiveSmallIntegerField(null=True, blank=True)
    latest_nps_at = models.DateTimeField(null=True, blank=True)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    csat_satisfied = models.PositiveIntegerField(default=0, help_text="Answers of 4 or 5.")
    ces_count = models.PositiveIntegerField(default=0)
    ces_sum = models.PositiveIntegerField(default=0)
    ces_easy = models.PositiveIntegerField(default=0, help_text="Answers of 5 to 7.")
    invitations = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    # Interactions
    interactions_total = models.PositiveIntegerField(default=0)
    interactions_90d = models.PositiveIntegerField(default=0)
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    first_response_count = models.PositiveIntegerField(default=0)
    first_response_seconds_sum = models.BigIntegerField(default=0)
    resolved_count = models.PositiveIntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)
    # Orders
    orders = models.PositiveIntegerField(default=0)
    # Wide enough for any accepted input: 2^31 orders (the orders column) of the largest accepted amount.
    revenue = models.DecimalField(max_digits=26, decimal_places=2, default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    tenure_days = models.PositiveIntegerField(default=0)
    clv = models.DecimalField(max_digits=26, decimal_places=2, null=True, blank=True)
    # Engagement
    sessions = models.PositiveIntegerField(default=0)
    session_seconds_sum = models.BigIntegerField(default=0)
    emails_sent = models.PositiveIntegerField(default=0)
    emails_opened = models.PositiveIntegerField(default=0)
    emails_clicked = models.PositiveIntegerField(default=0)
    referrals_made = models.PositiveIntegerField(default=0)
    referrals_converted = models.PositiveIntegerField(default=0)
    # Scores
    rfm_recency = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_frequency = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_monetary = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_segment = models.CharField(max_length=40, blank=True)
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    churn_risk = models.CharField(max_length=6, choices=ChurnRisk.choices, blank=True)
    churn_risk_reason = models.CharField(max_length=200, blank=True)
    # Predictive value (metrics.predictive_engine): BG/NBD and Gamma-Gamma fitted by the latest full
    # recompute. Empty for customers without orders and while no fit exists. Orders placed on one
    # day count as one purchase, as in the model.
    p_alive = models.FloatField(
        null=True,
        blank=True,
        help_text="Probability the customer still buys (BG/NBD). Always 1 for one-time buyers, "
        "whom the model cannot see leave: the likely-lapsed rule covers them.",
    )
    expected_orders_90d = models.FloatField(null=True, blank=True, help_text="Expected purchase days, next 90 days.")
    expected_orders_365d = models.FloatField(null=True, blank=True, help_text="Expected purchase days, next 365 days.")
    expected_order_value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Expected value of a purchase (Gamma-Gamma)."
    )
    predicted_value_12m = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Expected purchases month by month over 12 months × expected value, discounted (CLV_DISCOUNT_RATE).",
    )
    likely_lapsed = models.BooleanField(
        null=True, blank=True, help_text="P(alive) below 0.5, or no order for longer than the lapse days."
    )
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "customer metrics"
        indexes = [
            models.Index(fields=["churn_risk"], name="custmetrics_risk_idx"),
            models.Index(fields=["rfm_segment"], name="custmetrics_rfm_idx"),
            # Sorting the customer list by predicted value, and the "valuable and slipping" list.
            models.Index(fields=["predicted_value_12m"], name="custmetrics_value_idx"),
        ]

    def __str__(self) -> str:
        return f"metrics of {self.customer_id}"


class SegmentSnapshot(models.Model):
    """A segment's figures for one period (a calendar month, quarter or year in settings.TIME_ZONE).

    Membership is frozen when the snapshot is computed: member_count says how many customers it covered.
    Quarters and years are computed from the raw data like months (S, N, E and lost are not sums of months);
    the current period covers the days up to the computation.
    """

    class Period(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        YEAR = "year", "Year"

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots")
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Exclusive: the first day after the period.")
    member_count = models.PositiveIntegerField(default=0)
    # Retention (glossary): S, N, E and customers of S lost during the period.
    customers_start = models.PositiveIntegerField(default=0)
    customers_new = models.PositiveIntegerField(default=0)
    customers_end = models.PositiveIntegerField(default=0)
    customers_lost = models.PositiveIntegerField(default=0)
    # Surveys answered in the period.
    promoters = models.PositiveIntegerField(default=0)
    passives = models.PositiveIntegerField(default=0)
    detractors = models.PositiveIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    csat_satisfied = models.PositiveIntegerField(default=0)
    ces_count = models.PositiveIntegerField(default=0)
    ces_sum = models.PositiveIntegerField(default=0)
    ces_easy = models.PositiveIntegerField(default=0)
    invitations = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    # Interactions opened in the period.
    interactions = models.PositiveIntegerField(default=0)
    first_response_count = models.PositiveIntegerField(default=0)
    first_response_seconds_sum = models.BigIntegerField(default=0)
    resolved_count = models.PositiveIntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)
    # Orders placed in the period.
    orders = models.PositiveIntegerField(default=0)
    # Wide enough for every order a table can hold (a bigint of ids) at the largest accepted amount.
    revenue = models.DecimalField(max_digits=34, decimal_places=2, default=0)
    ordering_customers = models.PositiveIntegerField(default=0)
    referred_revenue = models.DecimalField(max_digits=34, decimal_places=2, default=0)
    avg_lifespan_days = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # Engagement events in the period.
    sessions = models.PositiveIntegerField(default=0)
    session_seconds_sum = models.BigIntegerField(default=0)
    single_page_sessions = models.PositiveIntegerField(default=0)
    emails_sent = models.PositiveIntegerField(default=0)
    emails_opened = models.PositiveIntegerField(default=0)
    emails_clicked = models.PositiveIntegerField(default=0)
    emails_unsubscribed = models.PositiveIntegerField(default=0)
    social_likes = models.PositiveIntegerField(default=0)
    social_shares = models.PositiveIntegerField(default=0)
    social_comments = models.PositiveIntegerField(default=0)
    referrals = models.PositiveIntegerField(default=0)
    referrals_converted = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["segment", "-period_start"]
        constraints = [
            # Recomputing a period overwrites its row.
            models.UniqueConstraint(fields=["segment", "period", "period_start"], name="snapshot_one_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.period_start:%Y-%m}"


class CohortCell(models.Model):
    """Customers acquired in `cohort_month` (of a segment) still active `months_since` months later."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="cohort_cells")
    cohort_month = models.DateField()
    months_since = models.PositiveSmallIntegerField()
    cohort_size = models.PositiveIntegerField()
    active = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["segment", "cohort_month", "months_since"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "cohort_month", "months_since"], name="cohort_cell_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.cohort_month:%Y-%m} +{self.months_since}"


class LifespanCell(models.Model):
    """How many members of a segment were acquired in one month and churned in another (None: still
    active), as of the segment's last snapshot. A few hundred rows from which S, N, E and lost of
    any range of months follow exactly (metrics.snapshots.period_stocks); summing monthly snapshots
    cannot give them, because a customer acquired and lost inside the range is in neither S nor E.
    """

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="lifespan_cells")
    acquired_month = models.DateField()
    churned_month = models.DateField(null=True, blank=True)
    customers = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["segment", "acquired_month", "churned_month"]
        indexes = [models.Index(fields=["segment"], name="lifespan_segment_idx")]

    def __str__(self) -> str:
        return f"{self.segment} {self.acquired_month:%Y-%m} → {self.churned_month or 'active'}"


class RecomputeRun(models.Model):
    """A full recompute, fanned out in chunks of customer ids; progress = chunks done / chunks."""

    class Status(models.TextChoices):
        RUNNING = "running", "Computing customers"
        SNAPSHOTTING = "snapshotting", "Computing segments"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    total_customers = models.PositiveIntegerField(default=0)
    total_chunks = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # RFM quintile breakpoints of the whole population, computed when the run starts; incremental
    # recomputes score against the latest run's, so one customer's update needs no population scan.
    rfm_breakpoints = models.JSONField(default=dict, blank=True)
    # The snapshot phase fans out one job per segment; the job that completes the count finishes the run.
    segments_total = models.PositiveIntegerField(default=0)
    segments_done = models.PositiveIntegerField(default=0)
    # Customers whose computation failed in this run and were set aside (RecomputeFailure); the rest were written.
    customers_failed = models.PositiveIntegerField(default=0)
    # Bumped by every chunk and part counted done; the watchdog re-queues the unfinished work of a run whose
    # progress stalls and fails the run after METRICS_WATCHDOG_ATTEMPTS attempts without progress.
    progressed_at = models.DateTimeField(null=True, blank=True)
    watchdog_attempts = models.PositiveSmallIntegerField(default=0)
    # BG/NBD and Gamma-Gamma fitted when the run starts (metrics.predictive_engine.PredictiveFit.as_json):
    # parameters, sample sizes, log-likelihoods, fit seconds, lapse days; or the reason there is no fit.
    predictive_fit = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["started_at"], name="run_active_idx", condition=Q(finished_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Recompute {self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int:
        """Customers take the first 90 %, segment snapshots the last 10 %."""
        if self.status == self.Status.DONE:
            return 100
        if self.status == self.Status.SNAPSHOTTING:
            return 90 + (int(self.segments_done * 10 / self.segments_total) if self.segments_total else 0)
        if not self.total_chunks:
            return 0
        return int(self.chunks_done * 90 / self.total_chunks)


class RecomputeChunk(models.Model):
    """One slice of customer ids of a run. done_at is claimed with a conditional UPDATE, so a redelivery counts once."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_customer_id = models.BigIntegerField()
    last_customer_id = models.BigIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="chunk_unique_index")]

    def __str__(self) -> str:
        return f"chunk {self.index} of run {self.run_id}"


class RecomputeSegment(models.Model):
    """One segment's snapshots within a run. done_at is claimed with a conditional UPDATE, like chunks."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="segment_jobs")
    # A segment deleted during the run leaves its job, which then counts as done without building.
    segment = models.ForeignKey(Segment, null=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    # Set by the stocks part when it freezes the membership: True if the segment is everyone (no member
    # copy; the other parts read the tables whole), False if the members were copied for the other parts.
    all_customers = models.BooleanField(null=True, blank=True)
    # Names of the parts (metrics.snapshots.PARTS) done, each added once under the job's row lock; the part
    # that completes the list finishes the job.
    parts_done = models.JSONField(default=list, blank=True)
    # Each part's results by part name, kept here until the last part writes the segment's rows whole in one
    # transaction: a part that dies leaves the rows of the previous run intact, never half of each.
    drafts = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["run", "segment"]
        constraints = [models.UniqueConstraint(fields=["run", "segment"], name="recompute_segment_unique")]

    def __str__(self) -> str:
        return f"segment {self.segment_id} of run {self.run_id}"


class RecomputeFailure(models.Model):
    """A customer whose metrics could not be computed, set aside so that nobody else waits for them.

    Written when a customer's computation fails on its own (a chunk or batch that fails is split until
    the failing customers are found; the others are written). The customer stays marked stale and the
    sweep retries them after `retry_after` (doubling from a minute to a day); a success deletes the row.
    """

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="+")
    run = models.ForeignKey(RecomputeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="failures")
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    retry_after = models.DateTimeField()

    class Meta:
        ordering = ["-last_failed_at"]
        # The sweep skips customers whose retry is not due yet.
        indexes = [models.Index(fields=["retry_after"], name="recompute_failure_retry_idx")]

    def __str__(self) -> str:
        return f"recompute of {self.customer_id} failed {self.attempts}×"
