from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import Interaction
from tests.customers.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def test_the_interaction_page_shows_replies_and_a_resolve_button(agent_client, agent):
    interaction = InteractionFactory(subject="Refund please")
    services.interaction_reply(interaction=interaction, author=agent, body="Refund on its way")
    content = agent_client.get(reverse("customers:interaction", args=[interaction.pk])).content.decode()
    assert "Refund please" in content and "Refund on its way" in content
    assert reverse("customers:interaction_resolve", args=[interaction.pk]) in content


def test_a_reply_from_the_page_sets_the_first_response(agent_client, agent):
    interaction = InteractionFactory()
    response = agent_client.post(
        reverse("customers:interaction", args=[interaction.pk]), {"body": "Looking into it"}, follow=True
    )
    interaction.refresh_from_db()
    assert interaction.first_response_at is not None
    assert interaction.replies.get().author == agent
    # The factory's interaction is an email thread: the reply goes to the customer by email.
    assert "Reply is being emailed to" in response.content.decode()


def test_an_empty_reply_is_explained_and_not_saved(agent_client):
    interaction = InteractionFactory()
    response = agent_client.post(reverse("customers:interaction", args=[interaction.pk]), {"body": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not interaction.replies.exists()


def test_resolve_and_reopen_buttons(agent_client):
    interaction = InteractionFactory()
    with mock.patch("surveys.triggers.on_interaction_resolved") as trigger:
        response = agent_client.post(reverse("customers:interaction_resolve", args=[interaction.pk]), follow=True)
    interaction.refresh_from_db()
    assert interaction.status == Interaction.Status.RESOLVED
    trigger.assert_called_once()
    content = response.content.decode()
    assert "Interaction resolved." in content
    assert reverse("customers:interaction_reopen", args=[interaction.pk]) in content

    agent_client.post(reverse("customers:interaction_reopen", args=[interaction.pk]))
    interaction.refresh_from_db()
    assert interaction.status == Interaction.Status.OPEN and interaction.resolved_at is None


def test_resolve_refuses_get(agent_client):
    interaction = InteractionFactory()
    assert agent_client.get(reverse("customers:interaction_resolve", args=[interaction.pk])).status_code == 405


def test_resolving_an_interaction_opened_in_the_future_is_explained(agent_client):
    interaction = InteractionFactory(opened_at=timezone.now() + timedelta(hours=2))
    response = agent_client.post(reverse("customers:interaction_resolve", args=[interaction.pk]), follow=True)
    interaction.refresh_from_db()
    assert interaction.status == Interaction.Status.OPEN
    assert 'class="message error"' in response.content.decode()


def test_editing_an_interaction_is_recorded_with_the_editor(agent_client, agent):
    interaction = InteractionFactory(subject="Old")
    url = reverse("customers:interaction_edit", args=[interaction.pk])
    assert agent_client.get(url).status_code == 200
    response = agent_client.post(
        url,
        {
            "subject": "New subject",
            "channel": "chat",
            "kind": "sales",
            "direction": "outbound",
            "opened_at": interaction.opened_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%dT%H:%M"),
            "staff": agent.pk,
            "notes": "",
        },
    )
    assert response.status_code == 302
    interaction.refresh_from_db()
    assert interaction.subject == "New subject" and interaction.channel == "chat"
    assert interaction.history.first().history_user == agent


def test_an_interaction_cannot_be_edited_to_open_after_its_first_response(agent_client, agent):
    interaction = InteractionFactory()
    services.interaction_reply(interaction=interaction, author=agent, body="Hi")
    later = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_current_timezone())
    response = agent_client.post(
        reverse("customers:interaction_edit", args=[interaction.pk]),
        {
            "subject": "x",
            "channel": "chat",
            "kind": "sales",
            "direction": "inbound",
            "opened_at": later.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert "cannot be opened after its first response" in response.content.decode()


@pytest.mark.parametrize("replies", [1, 25])
def test_the_interaction_page_query_count_does_not_grow_with_the_replies(
    agent_client, agent, django_assert_num_queries, replies
):
    interaction = InteractionFactory()
    for i in range(replies):
        services.interaction_reply(
            interaction=interaction, author=agent, body=f"Reply {i}", at=interaction.opened_at + timedelta(minutes=i)
        )
    services.interaction_update(interaction=interaction, actor=agent, notes="Edited")
    # session, user, groups; interaction with customer, staff, assignee and team; replies with authors;
    # audit (2); the assign form's staff and team choices (2).
    with django_assert_num_queries(9):
        assert agent_client.get(reverse("customers:interaction", args=[interaction.pk])).status_code == 200


def test_resolving_says_which_survey_it_emailed_or_that_none_was_sent(agent_client):
    from surveys.models import Survey
    from tests.customers.factories import CustomerFactory
    from tests.surveys.factories import SurveyFactory

    interaction = InteractionFactory(customer=CustomerFactory(name="Mei Lin", consent_email=True))
    url = reverse("customers:interaction_resolve", args=[interaction.pk])
    quiet = agent_client.post(url, follow=True).content.decode()
    assert "Interaction resolved. No survey was sent." in quiet

    SurveyFactory(name="Support CSAT", kind="csat", trigger=Survey.Trigger.INTERACTION_RESOLVED, is_active=True)
    agent_client.post(reverse("customers:interaction_reopen", args=[interaction.pk]))
    other = InteractionFactory(customer=interaction.customer)
    sent = agent_client.post(reverse("customers:interaction_resolve", args=[other.pk]), follow=True).content.decode()
    assert "Interaction resolved. The survey “Support CSAT” was emailed to Mei Lin." in sent
