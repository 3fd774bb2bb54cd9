"""A survey the fatigue rules hold back says when the customer can be asked again and how to override."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import Invitation, Survey
from tests.customers.factories import CustomerFactory
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def invite(client, customer, survey, **extra):
    data = {"survey": survey.pk, "action": "email", **extra}
    return client.post(f"/surveys/invite/{customer.pk}/", data, follow=True).content.decode()


def test_a_recontact_window_message_gives_the_day_and_the_override(agent_client, settings):
    settings.SURVEY_COOLDOWN_DAYS = 0
    survey = SurveyFactory(name="NPS", is_active=True, recontact_rule=Survey.Recontact.EVERY_N_DAYS, recontact_days=30)
    customer = CustomerFactory(name="Mei Lin", email="mei@example.tw", consent_email=True)
    assert "NPS emailed to mei@example.tw" in invite(agent_client, customer, survey)
    first = Invitation.objects.get()
    Invitation.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=10))

    page = invite(agent_client, customer, survey)
    again = timezone.localtime(timezone.now() - timedelta(days=10) + timedelta(days=30)).date()
    assert "Not sent: Invited to this survey recently." in page
    assert f"Mei Lin can be asked again from {again.isoformat()}" in page
    assert "tick “Send even if the cooldown or recontact rule says no”" in page
    assert Invitation.objects.count() == 1

    assert "NPS emailed to mei@example.tw" in invite(agent_client, customer, survey, override="on")
    assert Invitation.objects.count() == 2


def test_no_consent_is_not_offered_an_override(agent_client):
    survey = SurveyFactory(name="NPS", is_active=True)
    customer = CustomerFactory(email="x@example.com", consent_email=False)
    page = invite(agent_client, customer, survey)
    assert "Not sent: No consent to email." in page
    assert "Send even if" not in page.split("Not sent")[1].split("</")[0]
