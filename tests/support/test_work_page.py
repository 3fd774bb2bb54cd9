"""The My work page: scopes, sorting by due time, filters, bulk actions behind a confirmation, the
pinned query count, assignment and priority from the interaction page, notifications."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import Interaction
from support.models import EmailMute, Notification
from tests.customers.factories import CustomerFactory
from tests.support.factories import TeamFactory, sla_policy
from tests.surveys.factories import FollowUpFactory

pytestmark = pytest.mark.django_db
WORK = "/support/"


def _open(subject: str, **extra) -> Interaction:
    extra.setdefault("opened_at", timezone.now() - timedelta(hours=1))
    return services.interaction_create(
        customer=CustomerFactory(), staff=None, channel="phone", subject=subject, **extra
    )


def test_staff_land_on_my_work(agent_client):
    assert agent_client.get("/")["Location"] == WORK


def test_outsiders_get_403(outsider_client):
    assert outsider_client.get(WORK).status_code == 403


def test_my_work_lists_my_open_interactions_due_first(agent_client, agent, manager):
    sla_policy("normal", first=60, resolution=480)
    sla_policy("urgent", first=10, resolution=60)
    later = _open("Later", assignee=agent)
    sooner = _open("Sooner", assignee=agent, priority="urgent")
    _open("Someone else's", assignee=manager)
    resolved = _open("Done", assignee=agent)
    services.interaction_resolve(interaction=resolved)
    body = agent_client.get(WORK).content.decode()
    assert "Someone else" not in body and "Done" not in body
    assert body.index("Sooner") < body.index("Later")
    assert "overdue by" in body  # Sooner's 10 minutes are past
    assert sooner.pk and later.pk


def test_unassigned_and_team_scopes(agent_client, agent, manager):
    team = TeamFactory(name="Billing")
    team.members.add(agent)
    _open("Unclaimed")
    _open("Billing team ticket", team=team, assignee=manager)
    unassigned = agent_client.get(WORK + "?scope=unassigned").content.decode()
    assert "Unclaimed" in unassigned and "Billing team ticket" not in unassigned
    teams = agent_client.get(WORK + "?scope=team").content.decode()
    assert "Billing team ticket" in teams and "Unclaimed" not in teams


def test_agents_cannot_look_at_everyone_but_managers_can(agent_client, manager_client, make_user):
    from customers.roles import Role

    other = make_user("other", Role.AGENT)
    _open("Other agent's ticket", assignee=other)
    assert "Other agent" not in agent_client.get(WORK + "?scope=all").content.decode()
    assert "Other agent" not in agent_client.get(WORK + f"?scope=team&assignee={other.pk}").content.decode()
    assert "Other agent" in manager_client.get(WORK + "?scope=all").content.decode()
    assert "Other agent" in manager_client.get(WORK + f"?scope=all&assignee={other.pk}").content.decode()


def test_filters_narrow_the_queue(agent_client, agent):
    sla_policy("normal", first=10, resolution=480)
    _open("Late call", assignee=agent)
    _open("Fresh email", assignee=agent, opened_at=timezone.now())
    overdue = agent_client.get(WORK + "?overdue=true").content.decode()
    assert "Late call" in overdue and "Fresh email" not in overdue
    assert "Fresh email" not in agent_client.get(WORK + "?channel=email").content.decode()
    assert agent_client.get(WORK + "?priority=nonsense").status_code == 200  # the form says why; no rows


@pytest.mark.parametrize("rows", [1, 30])
def test_the_work_page_query_count_is_pinned(agent_client, agent, django_assert_num_queries, rows):
    team = TeamFactory()
    for i in range(rows):
        _open(f"Ticket {i}", assignee=agent, team=team)
        FollowUpFactory(assigned_to=agent)
    # session, user, groups; count and page of interactions; follow-ups; filter choices (team, assignee);
    # bulk form's assignee choices.
    with django_assert_num_queries(8):
        response = agent_client.get(WORK)
    assert response.status_code == 200
    assert response.content.decode().count('name="interactions"') == rows


def test_bulk_assign_asks_for_confirmation_with_the_count(manager_client, agent, manager):
    rows = [_open(f"Row {i}") for i in range(3)]
    data = {"action": "assign", "interactions": [r.pk for r in rows[:2]], "assignee": agent.pk}
    confirm = manager_client.post(WORK, data)
    assert confirm.status_code == 200
    assert "Assign 2 interactions to" in confirm.content.decode()
    assert not Interaction.objects.filter(assignee=agent).exists()
    done = manager_client.post(WORK, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert set(Interaction.objects.filter(assignee=agent).values_list("pk", flat=True)) == {rows[0].pk, rows[1].pk}
    assert Notification.objects.filter(recipient=agent, kind="assigned").count() == 2


def test_bulk_resolve_and_bulk_close(agent_client, agent):
    rows = [_open(f"Row {i}", assignee=agent) for i in range(2)]
    agent_client.post(WORK, {"action": "resolve", "interactions": [r.pk for r in rows], "confirm": "1"})
    assert Interaction.objects.filter(status="resolved").count() == 2
    follow_ups = [FollowUpFactory(assigned_to=agent) for _ in range(2)]
    data = {"action": "close_follow_ups", "follow_ups": [f.pk for f in follow_ups], "note": "Called both back"}
    assert "Close 2 follow-ups" in agent_client.post(WORK, data).content.decode()
    agent_client.post(WORK, {**data, "confirm": "1"})
    for f in follow_ups:
        f.refresh_from_db()
        assert f.status == "closed" and f.note == "Called both back"


def test_bad_bulk_input_is_a_400_that_keeps_the_note_and_changes_nothing(agent_client, agent):
    follow_up = FollowUpFactory(assigned_to=agent)
    response = agent_client.post(WORK, {"action": "close_follow_ups", "follow_ups": [follow_up.pk], "note": "  "})
    assert response.status_code == 400
    assert "Write what you did" in response.content.decode()
    response = agent_client.post(WORK, {"action": "resolve", "interactions": ["99999"]})
    assert response.status_code == 400 and "still open" in response.content.decode()
    response = agent_client.post(WORK, {"action": "explode", "interactions": ["1"]})
    assert response.status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_take_and_assign_from_the_interaction_page(agent_client, agent, outsider):
    interaction = _open("Refund")
    url = reverse("support:assign", args=[interaction.pk])
    agent_client.post(url, {"take": "1"})
    interaction.refresh_from_db()
    assert interaction.assignee == agent
    assert agent_client.post(url, {"assignee": outsider.pk}).status_code == 400
    interaction.refresh_from_db()
    assert interaction.assignee == agent
    page = agent_client.get(reverse("customers:interaction", args=[interaction.pk])).content.decode()
    assert "Assigned to Aom" in page  # the change history says who took it


def test_priority_from_the_interaction_page(agent_client):
    interaction = _open("Outage")
    url = reverse("support:priority", args=[interaction.pk])
    assert agent_client.post(url, {"priority": "urgent"}).status_code == 302
    interaction.refresh_from_db()
    assert interaction.priority == "urgent"
    assert agent_client.post(url, {"priority": "whenever"}).status_code == 400


def test_nav_counts_and_the_notification_list(agent_client, agent, manager):
    _open("Mine", assignee=agent, actor=manager)
    FollowUpFactory(assigned_to=agent)
    assert agent_client.get("/support/counts/").json() == {"work": 2, "unread": 1}
    page = agent_client.get("/support/notifications/").content.decode()
    assert "“Mine”" in page
    agent_client.post("/support/notifications/", {})
    assert agent_client.get("/support/counts/").json()["unread"] == 0


def test_email_mutes_are_saved_per_kind(agent_client, agent):
    agent_client.post("/support/notifications/", {"form": "mutes", "muted": ["mention", "sla_warning"]})
    assert set(EmailMute.objects.filter(user=agent).values_list("kind", flat=True)) == {"mention", "sla_warning"}
    agent_client.post("/support/notifications/", {"form": "mutes", "muted": ["mention"]})
    assert set(EmailMute.objects.filter(user=agent).values_list("kind", flat=True)) == {"mention"}
    agent_client.post("/support/notifications/", {"form": "mutes", "muted": ["bogus"]})
    assert set(EmailMute.objects.filter(user=agent).values_list("kind", flat=True)) == {"mention"}
