"""Writes of the surveys app."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Interaction
from surveys.models import Invitation, Survey
from surveys.tokens import hash_token, new_token


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
    only moment the link can be built. Eligibility rules (cooldown, recontact) are not checked here.
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
            expires_at=now + timedelta(days=survey.link_lifetime_days),
        )
    return invitation, token
