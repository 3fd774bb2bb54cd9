"""Corrections of recorded facts: staff edit or delete a reply or a referral (the admin does).

Companions of customers.services (which creates them): keyword-only, one transaction, full_clean()
before saving, and the customer whose figures change marked stale in the same transaction.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import InteractionReply, Referral
from customers.services import _apply_fields
from metrics.stale import mark_customers_stale

REPLY_FIELDS = frozenset({"body"})
REFERRAL_FIELDS = frozenset({"referrer", "referred_name", "referred_email", "converted_customer", "created_at"})


def reply_update(*, reply: InteractionReply, **fields: Any) -> InteractionReply:
    """Correct a reply's text (its time and author are facts: the first reply set the first response).

    Raises ValidationError when the body is blank. Side effects: marks the customer stale.
    """
    changed = _apply_fields(reply, fields, REPLY_FIELDS)
    reply.body = reply.body.strip()
    reply.full_clean(exclude=["author"])  # None once the author's account is deleted
    with transaction.atomic():
        if changed:
            reply.save(update_fields=changed)
            mark_customers_stale(customer_ids=[reply.interaction.customer_id])
    return reply


def reply_delete(*, reply: InteractionReply) -> None:
    """Delete a reply. The interaction keeps its first response time (the customer was answered then).

    Side effects: marks the customer stale.
    """
    customer_id = reply.interaction.customer_id
    with transaction.atomic():
        reply.delete()
        mark_customers_stale(customer_ids=[customer_id])


def referral_update(*, referral: Referral, **fields: Any) -> Referral:
    """Change the given REFERRAL_FIELDS. Raises ValidationError (e.g. a customer referring themself).

    Side effects: marks the referrer stale (both referrers when it moved to another one).
    """
    before = referral.referrer_id
    changed = _apply_fields(referral, fields, REFERRAL_FIELDS)
    referral.full_clean()
    if referral.converted_customer_id is not None and referral.converted_customer_id == referral.referrer_id:
        raise ValidationError({"converted_customer": "A customer cannot refer themself."})
    with transaction.atomic():
        if changed:
            referral.save(update_fields=changed)
            mark_customers_stale(customer_ids=sorted({before, referral.referrer_id}))
    return referral


def referral_delete(*, referral: Referral) -> None:
    """Delete a referral. Side effects: marks the referrer stale."""
    with transaction.atomic():
        referral.delete()
        mark_customers_stale(customer_ids=[referral.referrer_id])
