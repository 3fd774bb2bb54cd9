"""When a customer is active, and how the lifecycle stage follows the churn date.

One definition of "active on a day" for the whole project: a customer is active on day d when
acquired_at <= d and (churned_at is null or churned_at > d). The churn day itself is not active.
`Customer.objects.active_on(d)` is the queryset form, `is_active_on` the Python form; the customer
filter's `active_on`, the report's drill-down links and the snapshot engine (metrics/snapshots.py,
which counts the same thing from month groups: S = active on the day before the period, E = active on
its last day) all use it.

churned_at is the truth; the stored lifecycle stage follows it: stage "churned" if and only if
churned_at is set (a check constraint enforces it). `reconcile_stage` is what every write path (the
services, the customer form, the API serializer, the CSV import) applies to a change before it is
validated: setting the stage to churned without a date churns the customer today, giving a churn date
makes the stage churned, leaving "churned" for another stage clears the date, and clearing the date of a
churned customer makes them active again. A change that sets both to contradicting values is refused.
A churn date may not be in the future (the stage would say churned while the customer is still active).
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Q

CHURNED = "churned"
ACTIVE = "active"

# The check constraint's condition (customers.models): stage churned <=> churn date set.
STAGE_FOLLOWS_CHURN = Q(lifecycle_stage=CHURNED, churned_at__isnull=False) | (
    ~Q(lifecycle_stage=CHURNED) & Q(churned_at__isnull=True)
)


def active_on_q(day: date, prefix: str = "") -> Q:
    """The condition "active on `day`" on Customer (or through a relation, with `prefix` "customer__")."""
    return Q(**{f"{prefix}acquired_at__lte": day}) & (
        Q(**{f"{prefix}churned_at__isnull": True}) | Q(**{f"{prefix}churned_at__gt": day})
    )


def is_active_on(acquired_at: date, churned_at: date | None, day: date) -> bool:
    return acquired_at <= day and (churned_at is None or churned_at > day)


def reconcile_stage(
    *, stage: str, churned_at: date | None, stage_before: str, churned_before: date | None, today: date
) -> tuple[str, date | None]:
    """The (stage, churned_at) to store when a write turns (stage_before, churned_before) into
    (stage, churned_at); for a new customer the "before" values are the model's defaults.

    Raises ValidationError (keyed by field) for a future churn date or a contradicting change of both.
    """
    if churned_at is not None and churned_at > today:
        raise ValidationError({"churned_at": "The churn date cannot be in the future."})
    stage_changed = stage != stage_before
    churn_changed = churned_at != churned_before
    if churned_at is not None and stage != CHURNED:
        if stage_changed and churn_changed:
            message = "A customer with a churn date is churned: choose “Churned” or clear the churn date."
            raise ValidationError({"lifecycle_stage": message})
        if stage_changed:
            return stage, None  # leaving "churned" clears the date
        return CHURNED, churned_at
    if churned_at is None and stage == CHURNED:
        if churn_changed and not stage_changed:
            return ACTIVE, None  # clearing the date of a churned customer
        return CHURNED, today
    return stage, churned_at
