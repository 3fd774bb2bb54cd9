"""Support work through the API: assignee, team, priority, due times and SLA status on interactions,
the queue's filters, and the caller's notifications."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import services
from customers.models import Interaction
from support.models import Notification
from tests.customers.factories import CustomerFactory
from tests.support.factories import TeamFactory, sla_policy

pytestmark = pytest.mark.django_db


def _open(subject: str, minutes_ago: int = 30, **extra) -> Interaction:
    return services.interaction_create(
        customer=CustomerFactory(),
        staff=None,
        channel="email",
        subject=subject,
        opened_at=timezone.now() - timedelta(minutes=minutes_ago),
        **extra,
    )


def test_an_interaction_shows_its_assignment_and_sla(agent_api, agent):
    sla_policy("normal", first=10, resolution=120)
    interaction = _open("Late", assignee=agent)
    body = agent_api.get(f"/api/interactions/{interaction.pk}/").json()
    assert body["assignee"] == agent.pk and body["priority"] == "normal" and body["team"] is None
    assert body["first_response_due_at"] is not None and body["resolution_due_at"] is not None
    assert body["sla_status"] == "overdue"
    services.interaction_reply(interaction=interaction, author=agent, body="Hi")
    services.interaction_resolve(interaction=interaction)
    body = agent_api.get(f"/api/interactions/{interaction.pk}/").json()
    assert body["sla_status"] == "missed" and body["first_response_sla_met"] is False
    assert body["resolution_sla_met"] is True and body["resolution_business_seconds"] >= 30 * 60


def test_patch_assigns_through_the_service_audited_under_the_token_user(manager_api, manager, agent):
    team = TeamFactory()
    interaction = _open("Refund")
    response = manager_api.patch(
        f"/api/interactions/{interaction.pk}/",
        {"assignee": agent.pk, "team": team.pk, "priority": "high"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    interaction.refresh_from_db()
    assert (interaction.assignee, interaction.team, interaction.priority) == (agent, team, "high")
    reasons = list(interaction.history.values_list("history_change_reason", "history_user__username"))
    assert ("Assigned to Aom", "manager") in reasons
    assert Notification.objects.filter(recipient=agent, kind="assigned").exists()


def test_an_assignee_without_a_role_or_an_unknown_priority_is_a_400_that_changes_nothing(manager_api, outsider):
    interaction = _open("Refund")
    url = f"/api/interactions/{interaction.pk}/"
    response = manager_api.patch(url, {"assignee": outsider.pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()
    response = manager_api.patch(url, {"priority": "whenever", "subject": "Changed"}, format="json")
    assert response.status_code == 400 and "priority" in response.json()
    interaction.refresh_from_db()
    assert interaction.assignee is None and interaction.subject == "Refund"


def test_the_queue_filters(agent_api, agent):
    sla_policy("normal", first=10, resolution=120)
    late = _open("Late", assignee=agent)
    fresh = _open("Fresh", minutes_ago=1)

    def ids(query: str) -> set[int]:
        return {row["id"] for row in agent_api.get(f"/api/interactions/?{query}").json()["results"]}

    assert ids("overdue=true") == {late.pk}
    assert ids("overdue=false") == {fresh.pk}
    assert ids("unassigned=true") == {fresh.pk}
    assert ids(f"assignee={agent.pk}&status=open") == {late.pk}
    assert ids("priority=urgent") == set()
    assert [r["id"] for r in agent_api.get("/api/interactions/?ordering=first_response_due_at").json()["results"]] == [
        late.pk,
        fresh.pk,
    ]


def test_notifications_are_the_callers_own_and_can_be_marked_read(agent_api, agent, manager):
    mine = _open("Mine", assignee=agent, actor=manager)
    _open("Theirs", assignee=manager, actor=agent)
    body = agent_api.get("/api/notifications/?unread=true").json()
    assert [(n["kind"], n["target_type"], n["target_id"]) for n in body["results"]] == [
        ("assigned", "interaction", mine.pk)
    ]
    assert agent_api.post("/api/notifications/mark-read/", {"ids": ["x"]}, format="json").status_code == 400
    assert agent_api.post("/api/notifications/mark-read/", {}, format="json").json() == {"marked": 1}
    assert agent_api.get("/api/notifications/?unread=true").json()["results"] == []


def test_outsiders_get_no_notifications(outsider_api):
    assert outsider_api.get("/api/notifications/").status_code == 403
