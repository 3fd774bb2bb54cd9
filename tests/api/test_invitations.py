"""Creating an invitation returns its personal link once; the link can never be read back."""

import pytest

from metrics.models import StaleCustomer
from surveys.models import Invitation
from surveys.tokens import hash_token
from tests.customers.factories import InteractionFactory
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def test_creating_an_invitation_returns_its_link_once(agent_api, agent, world):
    response = agent_api.post(
        "/api/invitations/", {"survey": world.survey.pk, "customer": world.customer.pk}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    token = body["link"].rstrip("/").rsplit("/", 1)[-1]
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.token_hash == hash_token(token)
    assert (invitation.created_by, invitation.channel) == (agent, "link")
    assert body["link"].endswith(f"/s/{token}/")
    assert StaleCustomer.objects.filter(customer=world.customer).exists()

    again = agent_api.get(f"/api/invitations/{invitation.pk}/").json()
    assert "link" not in again
    assert token not in str(again)
    assert "token_hash" not in again


def test_an_inactive_survey_cannot_be_sent(agent_api, world):
    survey = SurveyFactory(is_active=False)
    response = agent_api.post("/api/invitations/", {"survey": survey.pk, "customer": world.customer.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"survey": ["This survey is not active."]}


def test_the_interaction_must_be_with_the_same_customer(agent_api, world):
    other = InteractionFactory()
    response = agent_api.post(
        "/api/invitations/",
        {"survey": world.survey.pk, "customer": world.customer.pk, "interaction": other.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"interaction": ["This interaction is with another customer."]}


def test_invitations_can_be_filtered_by_answered(agent_api, world):
    answered = agent_api.get("/api/invitations/", {"answered": "true"}).json()
    unanswered = agent_api.get("/api/invitations/", {"answered": "false"}).json()
    assert answered["count"] == 0
    assert unanswered["count"] == Invitation.objects.count()
