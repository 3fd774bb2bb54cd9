"""Hooks other apps call when something happens that may send a survey."""

from customers.models import Interaction
from surveys.models import Invitation, Survey


def on_interaction_resolved(*, interaction: Interaction) -> list[Invitation]:
    """Called by customers.services after an interaction is resolved (inside its transaction).

    Every active survey whose trigger is "interaction resolved" (CSAT) invites the customer by
    email, tied to the interaction, subject to consent, the recontact rule and the cooldown; the
    email goes out after commit. Resolving the same interaction again sends nothing new.
    Returns the invitations made.
    """
    from surveys.rules import invited_about_interaction
    from surveys.services import invitation_send

    made = []
    surveys = Survey.objects.filter(is_active=True, trigger=Survey.Trigger.INTERACTION_RESOLVED).order_by("id")
    for survey in surveys:
        if invited_about_interaction(survey=survey, interaction_id=interaction.pk):
            continue
        outcome = invitation_send(
            survey=survey, customer=interaction.customer, channel=Invitation.Channel.EMAIL, interaction=interaction
        )
        if outcome.invitation is not None:
            made.append(outcome.invitation)
    return made
