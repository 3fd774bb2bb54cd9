"""Data-protection rights (Thailand's, Malaysia's and Taiwan's PDPA): a copy of a customer's data, and erasure.

`customer_export` returns everything held about one customer as JSON-ready data: the profile with its
tags, interactions with their replies, orders, engagement events, referrals made, survey invitations,
answers and follow-ups, the computed metrics, and the change history of the customer and of its
interactions. Secrets are left out (invitation token hashes).

`customer_erase` removes the personal data and keeps the rows that feed the metrics, de-identified, so
every anonymous figure (segment snapshots, reports) stays true: the profile's name, first name,
email, phone, company and city are cleared, the external id becomes `erased-<id>`, consents are
withdrawn; the free texts are blanked (interaction subjects and notes, replies, answers' comments,
follow-up notes, referred people's names and emails); the history rows of the customer and its
interactions get the same treatment (their change reasons too). Kept: country, language, stage,
plan, tags, owner, acquisition and churn dates, and every order, event, interaction, invitation
and answer with its figures, which is what segments and metrics read. The erasure writes with
queryset updates, so it adds no history row carrying the old values.

Both are manager-only (customers.roles), asked for on the profile's privacy page behind a
confirmation or through the API, and audited in PrivacyAction (who, when, which customer id).
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Interaction, InteractionReply, PrivacyAction, Referral

ERASED = "(erased)"
EXPORT_FORMAT = "rapport.customer-export/1"


def _rows(qs: Any, *exclude: str) -> list[dict[str, Any]]:
    names = [f.attname for f in qs.model._meta.concrete_fields if f.attname not in exclude]
    return list(qs.order_by("pk").values(*names))


def customer_export(*, customer: Customer, actor: AbstractBaseUser | None, channel: str = "page") -> dict[str, Any]:
    """Everything held about `customer`, as data json.dumps can write with DjangoJSONEncoder. Audited."""
    from metrics.models import CustomerMetrics
    from surveys.models import FollowUp, Invitation, Response

    interactions = Interaction.objects.filter(customer=customer)
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "profile": _rows(Customer.objects.filter(pk=customer.pk))[0],
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "interactions": _rows(interactions),
        "replies": _rows(InteractionReply.objects.filter(interaction__customer=customer)),
        "orders": _rows(customer.orders.all()),
        "events": _rows(customer.events.all()),
        "referrals_made": _rows(Referral.objects.filter(referrer=customer)),
        "invitations": _rows(Invitation.objects.filter(customer=customer), "token_hash", "reminder_token_hash"),
        "answers": _rows(Response.objects.filter(customer=customer)),
        "follow_ups": _rows(FollowUp.objects.filter(customer=customer)),
        "metrics": _rows(CustomerMetrics.objects.filter(customer=customer)),
        "history": {
            "customer": _rows(Customer.history.filter(id=customer.pk)),
            "interactions": _rows(Interaction.history.filter(customer_id=customer.pk)),
        },
    }
    PrivacyAction.objects.create(
        customer=customer, customer_ref=customer.pk, kind=PrivacyAction.Kind.EXPORT, performed_by=actor, channel=channel
    )
    return data


def _erased_profile(customer_id: int) -> dict[str, Any]:
    return {
        "name": "Erased customer",
        "first_name": "",
        "email": "",
        "phone": "",
        "company": "",
        "city": "",
        "external_id": f"erased-{customer_id}",
        "consent_email": False,
        "consent_sms": False,
    }


def customer_erase(*, customer: Customer, actor: AbstractBaseUser | None, channel: str = "page") -> PrivacyAction:
    """Remove the customer's personal data everywhere it is held (see the module docstring), in one
    transaction, and record who did it. Safe to run twice."""
    from surveys.models import FollowUp, Response

    profile = _erased_profile(customer.pk)
    interaction_text = {"subject": ERASED, "notes": ""}
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(**profile, updated_at=timezone.now())
        Customer.history.filter(id=customer.pk).update(**profile, history_change_reason="")
        Interaction.objects.filter(customer=customer).update(**interaction_text)
        Interaction.history.filter(customer_id=customer.pk).update(**interaction_text, history_change_reason="")
        InteractionReply.objects.filter(interaction__customer=customer).update(body=ERASED)
        Response.objects.filter(customer=customer).update(comment="")
        FollowUp.objects.filter(customer=customer).update(note="")
        Referral.objects.filter(referrer=customer).update(referred_name="", referred_email="")
        action = PrivacyAction.objects.create(
            customer=customer,
            customer_ref=customer.pk,
            kind=PrivacyAction.Kind.ERASE,
            performed_by=actor,
            channel=channel,
        )
    customer.refresh_from_db()
    return action
