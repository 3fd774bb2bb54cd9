"""Writes of the customers app: customers, interactions and replies, orders, events, referrals.

Every function is keyword-only, runs in one transaction and validates with full_clean() before
saving. Writes that change a customer's figures mark the customer stale in the same transaction
(metrics.stale), which enqueues the recompute after commit. `actor` is the staff user recorded in
the audit trail; inside a request the history middleware records request.user when it is omitted.
"""

from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.lifecycle import reconcile_stage
from customers.models import Customer, EngagementEvent, Interaction, InteractionReply, Order, Referral, Tag
from customers.money import apply_rate
from customers.phones import normalise_phone
from customers.roles import check_has_a_role
from metrics.stale import mark_customers_stale

# Fields of Customer that staff may set directly, in the order forms show them. The customer form,
# the CSV import's columns and the API's customer fields are derived from this list.
CUSTOMER_FIELDS: tuple[str, ...] = (
    "external_id",
    "name",
    "first_name",
    "email",
    "phone",
    "company",
    "country",
    "city",
    "language",
    "lifecycle_stage",
    "plan",
    "acquired_at",
    "churned_at",
    "owner",
    "consent_email",
    "consent_sms",
)
# Changing these changes a customer's tenure, retention or lifetime value.
CUSTOMER_FIGURE_FIELDS = frozenset({"acquired_at", "churned_at", "lifecycle_stage"})
# first_response_at is set by interaction_reply; directly only for history imported from another system.
INTERACTION_FIELDS = frozenset(
    {"customer", "channel", "direction", "kind", "subject", "notes", "opened_at", "first_response_at", "staff"}
)
# Changing these changes the response-time figures of the customer (of both, when it moves).
INTERACTION_FIGURE_FIELDS = frozenset({"customer", "opened_at", "first_response_at"})
ORDER_FIELDS = frozenset({"customer", "external_id", "amount", "currency", "ordered_at", "referred_by"})
EVENT_FIELDS = frozenset({"customer", "kind", "campaign", "duration_seconds", "pages", "external_id", "occurred_at"})


def _check_fields(fields: dict[str, Any], allowed: Collection[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")


def _apply_fields(instance: Any, fields: dict[str, Any], allowed: Collection[str]) -> list[str]:
    """Set `fields` (all in `allowed`) on `instance`; the names of those whose value changed."""
    _check_fields(fields, allowed)
    changed = [name for name, value in fields.items() if getattr(instance, name) != value]
    for name, value in fields.items():
        setattr(instance, name, value)
    return changed


def _record_actor(instance: Any, actor: AbstractBaseUser | None, reason: str | None = None) -> None:
    """Tell simple_history who made this change and why (it falls back to the request user)."""
    if actor is not None:
        instance._history_user = actor
    if reason:
        instance._change_reason = reason


def tags_from_names(names: Iterable[str]) -> list[Tag]:
    """The tags with these names (trimmed, lower-cased, empty ones dropped), created when missing."""
    clean = sorted({n.strip().lower() for n in names if n and n.strip()})
    if not clean:
        return []
    Tag.objects.bulk_create([Tag(name=n) for n in clean], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=clean))


def _follow_churn(customer: Customer, before: Customer) -> list[str]:
    """Make the stage and churn date agree (customers.lifecycle); the names of the fields it changed."""
    stage, churned_at = reconcile_stage(
        stage=customer.lifecycle_stage,
        churned_at=customer.churned_at,
        stage_before=before.lifecycle_stage,
        churned_before=before.churned_at,
        today=timezone.localdate(),
    )
    changed = [n for n, v in (("lifecycle_stage", stage), ("churned_at", churned_at)) if getattr(customer, n) != v]
    customer.lifecycle_stage, customer.churned_at = stage, churned_at
    return changed


def _normalise_phone(customer: Customer) -> None:
    """The phone in E.164 (customers.phones), read in the customer's country when it has no country code."""
    try:
        customer.phone = normalise_phone(customer.phone, country=customer.country)
    except ValidationError as error:
        raise ValidationError({"phone": error.messages}) from error


def customer_create(
    *, actor: AbstractBaseUser | None = None, tags: Iterable[str] | None = None, **fields: Any
) -> Customer:
    """Create a customer from CUSTOMER_FIELDS (external_id and name required) and tag names.

    Raises ValidationError (unique external id, email, churned before acquired, an owner without a
    role...) and saves nothing then. The stage follows the churn date (customers.lifecycle.reconcile_stage).
    Side effects: a "Created" audit record; the new customer is marked stale so its metrics row is computed.
    """
    _check_fields(fields, CUSTOMER_FIELDS)
    customer = Customer(**fields)
    _follow_churn(customer, Customer())
    if customer.country:
        customer.country = customer.country.upper()
    _normalise_phone(customer)
    customer.full_clean()
    check_has_a_role(customer.owner, field="owner")
    _record_actor(customer, actor)
    with transaction.atomic():
        customer.save()
        if tags:
            customer.tags.set(tags_from_names(tags))
        mark_customers_stale(customer_ids=[customer.pk])
    return customer


def customer_update(
    *, customer: Customer, actor: AbstractBaseUser | None = None, tags: Iterable[str] | None = None, **fields: Any
) -> Customer:
    """Change the given CUSTOMER_FIELDS of `customer`; `tags` (names), when given, replaces its tags.

    Raises ValidationError and leaves the row unchanged when the result is invalid (a new owner must
    hold a role; an owner who lost theirs stays until someone changes it). The stage and the
    churn date follow each other (customers.lifecycle.reconcile_stage: e.g. stage churned without a
    date churns the customer today, leaving churned clears the date).
    Side effects: an audit record of the changed fields; marks the customer stale when a field its
    figures depend on (acquired, churned, stage) changed.
    """
    before = Customer(lifecycle_stage=customer.lifecycle_stage, churned_at=customer.churned_at)
    changed = _apply_fields(customer, fields, CUSTOMER_FIELDS)
    changed += [name for name in _follow_churn(customer, before) if name not in changed]
    if customer.country:
        customer.country = customer.country.upper()
    if "phone" in changed:
        # Only a changed number: a stored one from before E.164 does not block editing the rest.
        _normalise_phone(customer)
    customer.full_clean()
    if "owner" in changed:
        check_has_a_role(customer.owner, field="owner")
    _record_actor(customer, actor)
    with transaction.atomic():
        if changed:
            customer.save(update_fields=[*changed, "updated_at"])
        if tags is not None:
            customer.tags.set(tags_from_names(tags))
        if CUSTOMER_FIGURE_FIELDS.intersection(changed):
            mark_customers_stale(customer_ids=[customer.pk])
    return customer


def customer_delete(*, customer: Customer, actor: AbstractBaseUser | None = None) -> None:
    """Delete a customer with their interactions, events, referrals and survey answers.

    Raises django.db.models.ProtectedError while orders refer to the customer (orders are kept for
    revenue history) and deletes nothing then. Side effects: a "Deleted" audit record by `actor`;
    the customer's metrics row goes with it, so nothing is marked stale.
    """
    _record_actor(customer, actor)
    with transaction.atomic():
        customer.delete()


def interaction_create(
    *,
    customer: Customer,
    staff: AbstractBaseUser | None,
    channel: str,
    subject: str,
    kind: str = Interaction.Kind.SUPPORT,
    direction: str = Interaction.Direction.INBOUND,
    notes: str = "",
    opened_at: datetime | None = None,
    first_response_at: datetime | None = None,
    actor: AbstractBaseUser | None = None,
    priority: str = Interaction._meta.get_field("priority").default,
    assignee: AbstractBaseUser | None = None,
    team: Any = None,
    email_message_id: str = "",
) -> Interaction:
    """Log a conversation with `customer`, opened now unless `opened_at` is given; status open.

    `first_response_at` is for history imported from another system (replies set it otherwise);
    it cannot be before the opening; `staff` and `assignee`, when given, must hold a role. To import a
    resolved interaction, follow with interaction_resolve(at=...). The SLA due times follow the
    priority's policy and the team's calendar.
    Side effects: a "Created" audit record by `actor` (default `staff`); marks the customer stale;
    notifies the assignee (support.services).
    """
    from support import sla
    from support.services import _notify_assigned, check_assignee

    check_assignee(assignee)
    interaction = Interaction(
        customer=customer,
        staff=staff,
        channel=channel,
        kind=kind,
        direction=direction,
        subject=subject.strip(),
        notes=notes,
        opened_at=opened_at or timezone.now(),
        first_response_at=first_response_at,
        priority=priority,
        assignee=assignee,
        team=team,
        email_message_id=email_message_id,
    )
    interaction.full_clean()
    check_has_a_role(staff, field="staff")
    _record_actor(interaction, actor or staff)
    with transaction.atomic():
        sla.set_due_times(interaction)
        if first_response_at is not None:
            sla.record_first_response(interaction, first_response_at)
        interaction.save()
        _notify_assigned(interaction, assignee, actor or staff)
        mark_customers_stale(customer_ids=[customer.pk])
    return interaction


def interaction_update(
    *, interaction: Interaction, actor: AbstractBaseUser | None = None, **fields: Any
) -> Interaction:
    """Edit the description of an interaction (INTERACTION_FIELDS). Status changes go through
    interaction_set_status (or interaction_resolve / interaction_reopen), response times through
    interaction_reply.

    Raises ValidationError, e.g. when a new opened_at would fall after its first response, or a new
    handler (staff) holds no role.
    Side effects: an audit record; marks the customer stale when its customer, opened_at or
    first_response_at changed (both customers when it moved to another one).
    """
    before = interaction.customer_id
    changed = _apply_fields(interaction, fields, INTERACTION_FIELDS)
    interaction.full_clean()
    if "staff" in changed:
        check_has_a_role(interaction.staff, field="staff")
    _record_actor(interaction, actor)
    with transaction.atomic():
        if changed:
            interaction.save(update_fields=[*changed, "updated_at"])
        if INTERACTION_FIGURE_FIELDS.intersection(changed):
            mark_customers_stale(customer_ids=sorted({before, interaction.customer_id}))
    return interaction


def interaction_reply(
    *,
    interaction: Interaction,
    author: AbstractBaseUser,
    body: str,
    at: datetime | None = None,
    visibility: str = InteractionReply.Visibility.REPLY,
) -> InteractionReply:
    """Add a staff reply to the customer, or an internal note (`visibility`).

    The first reply to the customer sets the interaction's first_response_at to the reply's time and
    stores its business-hours first response and whether it met the SLA (support.sla). A reply on an
    email interaction is emailed to the customer after commit (support.tasks.send_reply_email; the
    reply's delivery goes pending, then sent or failed); on other channels it is recorded only.
    A note never counts as a response; each `@username` in it notifies that staff user.
    Preconditions: `body` is not blank; `at` (default now) is not before the interaction was opened.
    The interaction row is locked so two simultaneous first replies cannot both set the first response.
    Side effects: an audit record of first_response_at on the first reply; marks the customer stale.
    """
    from support import sla
    from support.replies import after_reply_saved

    body = body.strip()
    at = at or timezone.now()
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().select_related("customer").get(pk=interaction.pk)
        if at < locked.opened_at:
            raise ValidationError({"body": "A reply cannot be earlier than the moment the interaction was opened."})
        reply = InteractionReply(interaction=locked, author=author, body=body, created_at=at, visibility=visibility)
        reply.full_clean()
        reply.save()
        if visibility == InteractionReply.Visibility.REPLY and locked.first_response_at is None:
            locked.first_response_at = at
            changed = sla.record_first_response(locked, at)
            _record_actor(locked, author, "First response")
            locked.save(update_fields=["first_response_at", *changed, "updated_at"])
        after_reply_saved(reply=reply, interaction=locked, author=author)
        mark_customers_stale(customer_ids=[locked.customer_id])
    interaction.first_response_at = locked.first_response_at
    return reply


def interaction_resolve(
    *, interaction: Interaction, actor: AbstractBaseUser | None = None, at: datetime | None = None
) -> Interaction:
    """Mark an interaction resolved. resolved_at is the moment of this call (the resolve event),
    never the row's last-modified time, so later edits do not move the resolution time. An explicit
    `at` (history imported from another system) must not be before the interaction was opened.

    Resolving an already resolved interaction triggers nothing and changes nothing, except that an
    explicit `at` corrects the recorded resolution time.
    Side effects: an audit record; surveys.triggers.on_interaction_resolved (may invite the customer
    to a CSAT survey) in the same transaction, its invitations in `survey_invitations` of the returned
    interaction; marks the customer stale.
    """
    from support import sla
    from surveys.triggers import on_interaction_resolved

    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        if at is not None and at < locked.opened_at:
            raise ValidationError({"resolved_at": "Cannot be before opened_at."})
        if locked.status == Interaction.Status.RESOLVED:
            if at is None or at == locked.resolved_at:
                return locked
            locked.resolved_at = at
            changed = sla.record_resolution(locked, at)
            _record_actor(locked, actor, "Resolution time corrected")
            locked.save(update_fields=["resolved_at", *changed, "updated_at"])
            mark_customers_stale(customer_ids=[locked.customer_id])
            return locked
        locked.status = Interaction.Status.RESOLVED
        locked.resolved_at = at or timezone.now()
        changed = sla.record_resolution(locked, locked.resolved_at)
        locked.full_clean()
        _record_actor(locked, actor, "Resolved")
        locked.save(update_fields=["status", "resolved_at", *changed, "updated_at"])
        # The pages say which surveys resolving sent (a transient attribute, not a field).
        locked.survey_invitations = on_interaction_resolved(interaction=locked)
        mark_customers_stale(customer_ids=[locked.customer_id])
    return locked


def interaction_reopen(*, interaction: Interaction, actor: AbstractBaseUser | None = None) -> Interaction:
    """Open a resolved interaction again; its resolution time is cleared (the next resolve sets a new one).

    Reopening an interaction that is not resolved changes nothing.
    Side effects: an audit record; marks the customer stale; its stored business-hours resolution is cleared.
    """
    from support import sla

    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        if locked.status != Interaction.Status.RESOLVED:
            return locked
        locked.status = Interaction.Status.OPEN
        locked.resolved_at = None
        changed = sla.clear_resolution(locked)
        locked.full_clean()
        _record_actor(locked, actor, "Reopened")
        locked.save(update_fields=["status", "resolved_at", *changed, "updated_at"])
        mark_customers_stale(customer_ids=[locked.customer_id])
    return locked


def interaction_set_status(
    *, interaction: Interaction, status: str, actor: AbstractBaseUser | None = None, resolved_at: datetime | None = None
) -> Interaction:
    """Move an interaction to `status`: resolved through interaction_resolve (now, or at `resolved_at`),
    out of resolved through interaction_reopen; between open and waiting only the status changes.

    Waiting on the customer pauses the SLA clock (support.sla): due times move back by the business
    time spent waiting.
    Side effects: those of interaction_resolve / interaction_reopen; an audit record otherwise.
    """
    from support import sla

    if status == Interaction.Status.RESOLVED:
        return interaction_resolve(interaction=interaction, actor=actor, at=resolved_at)
    with transaction.atomic():
        current = interaction_reopen(interaction=interaction, actor=actor)
        if current.status != status:
            now = timezone.now()
            current.status = status
            if status == Interaction.Status.WAITING:
                changed = sla.start_waiting(current, now)
            else:
                changed = sla.stop_waiting(current, now)
            current.full_clean()
            _record_actor(current, actor)
            current.save(update_fields=["status", *changed, "updated_at"])
    return current


def interaction_delete(*, interaction: Interaction, actor: AbstractBaseUser | None = None) -> None:
    """Delete an interaction with its replies. Side effects: a "Deleted" audit record; marks the customer stale."""
    _record_actor(interaction, actor)
    with transaction.atomic():
        interaction.delete()
        mark_customers_stale(customer_ids=[interaction.customer_id])


def _order_customer_ids(order: Order) -> set[int]:
    # The referrer's advocacy revenue counts the order too.
    return {order.customer_id} | ({order.referred_by_id} if order.referred_by_id else set())


def order_create(
    *,
    customer: Customer,
    amount: Decimal,
    currency: str = "USD",
    ordered_at: datetime | None = None,
    external_id: str | None = None,
    referred_by: Customer | None = None,
) -> Order:
    """Record a purchase. Preconditions: amount >= 0; external_id unique when given; an exchange rate of
    the currency on the order's day unless it is the base currency (else ValidationError on currency).

    Side effects: marks the customer (and the referring customer, whose advocacy revenue grows) stale.
    """
    order = Order(
        customer=customer,
        amount=amount,
        currency=currency.upper(),
        ordered_at=ordered_at or timezone.now(),
        external_id=external_id or None,
        referred_by=referred_by,
    )
    order.full_clean()
    apply_rate(order)
    with transaction.atomic():
        order.save()
        mark_customers_stale(customer_ids=sorted(_order_customer_ids(order)))
    return order


def event_create(
    *,
    customer: Customer,
    kind: str,
    occurred_at: datetime | None = None,
    campaign: str = "",
    duration_seconds: int | None = None,
    pages: int | None = None,
    external_id: str | None = None,
) -> EngagementEvent:
    """Record an engagement event. Preconditions: duration only for sessions; external_id unique when given.

    Side effects: marks the customer stale.
    """
    event = EngagementEvent(
        customer=customer,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        campaign=campaign,
        duration_seconds=duration_seconds,
        pages=pages,
        external_id=external_id or None,
    )
    event.full_clean()
    with transaction.atomic():
        event.save()
        mark_customers_stale(customer_ids=[customer.pk])
    return event


def referral_create(
    *,
    referrer: Customer,
    referred_name: str = "",
    referred_email: str = "",
    converted_customer: Customer | None = None,
    created_at: datetime | None = None,
) -> Referral:
    """Record that `referrer` recommended someone (converted when that person is already a customer).

    Raises ValidationError when neither a name, an email nor a converted customer is given, or when
    a customer refers themself. Side effects: marks the referrer stale.
    """
    if not (referred_name.strip() or referred_email.strip() or converted_customer):
        raise ValidationError("Give the referred person's name, email or customer record.")
    if converted_customer is not None and converted_customer.pk == referrer.pk:
        raise ValidationError({"converted_customer": "A customer cannot refer themself."})
    referral = Referral(
        referrer=referrer,
        referred_name=referred_name.strip(),
        referred_email=referred_email.strip(),
        converted_customer=converted_customer,
        created_at=created_at or timezone.now(),
    )
    referral.full_clean()
    with transaction.atomic():
        referral.save()
        mark_customers_stale(customer_ids=[referrer.pk])
    return referral


def order_update(*, order: Order, **fields: Any) -> Order:
    """Change the given ORDER_FIELDS of `order`. Raises ValidationError and saves nothing when invalid.

    Side effects: marks the buyer and referrer stale, before and after (an order can move to another customer).
    """
    before = _order_customer_ids(order)
    if "currency" in fields:
        fields["currency"] = fields["currency"].upper()
    changed = _apply_fields(order, fields, ORDER_FIELDS)
    order.full_clean()
    if {"amount", "currency", "ordered_at"} & set(changed):
        apply_rate(order)
        changed = [*changed, "amount_base", "exchange_rate"]
    with transaction.atomic():
        if changed:
            order.save(update_fields=changed)
            mark_customers_stale(customer_ids=sorted(before | _order_customer_ids(order)))
    return order


def order_delete(*, order: Order) -> None:
    """Delete an order. Side effects: marks its buyer and referrer stale."""
    ids = _order_customer_ids(order)
    with transaction.atomic():
        order.delete()
        mark_customers_stale(customer_ids=sorted(ids))


def event_update(*, event: EngagementEvent, **fields: Any) -> EngagementEvent:
    """Change the given EVENT_FIELDS of `event`. Raises ValidationError and saves nothing when invalid.

    Side effects: marks the customer stale (both customers when the event moved to another one).
    """
    before = event.customer_id
    changed = _apply_fields(event, fields, EVENT_FIELDS)
    event.full_clean()
    with transaction.atomic():
        if changed:
            event.save(update_fields=changed)
            mark_customers_stale(customer_ids=sorted({before, event.customer_id}))
    return event


def event_delete(*, event: EngagementEvent) -> None:
    """Delete an engagement event. Side effects: marks its customer stale."""
    with transaction.atomic():
        event.delete()
        mark_customers_stale(customer_ids=[event.customer_id])
