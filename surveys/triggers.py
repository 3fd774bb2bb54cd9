"""Hooks other apps call when something happens that may send a survey."""

from customers.models import Interaction


def on_interaction_resolved(*, interaction: Interaction) -> None:
    """Called by customers.services after an interaction is resolved (inside its transaction).

    Surveys whose trigger is "interaction resolved" (CSAT) invite the customer, subject to
    the cooldown and recontact rules.
    """
