"""Assignment, priority and the SLA clock through the services: due times, stored business-hours
figures, pauses while waiting, notifications, and SLA warnings without duplicates."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import services
from customers.models import Interaction
from customers.roles import Role
from support import services as support
from support.models import EmailMute, Notification
from support.notifications import notifications_mark_read
from tests.customers.factories import CustomerFactory
from tests.support.factories import TeamFactory, office_calendar, sla_policy

pytestmark = pytest.mark.django_db
BKK = ZoneInfo("Asia/Bangkok")


def bkk(*args: int) -> datetime:
    return datetime(*args, tzinfo=BKK)


@pytest.fixture
def calendar():
    return office_calendar()


def _open(agent, at: datetime, **extra) -> Interaction:
    return services.interaction_create(
        customer=CustomerFactory(), staff=agent, channel="phone", subject="Card declined", opened_at=at, **extra
    )


def test_due_times_are_business_hours_after_the_opening(agent, calendar):
    sla_policy("normal", first=60, resolution=8 * 60)
    interaction = _open(agent, bkk(2026, 1, 9, 17, 30))  # a Friday
    assert interaction.first_response_due_at == bkk(2026, 1, 12, 9, 30)
    # 30 min on Friday + 7 h 30 on Monday = 8 h: due Monday 16:30.
    assert interaction.resolution_due_at == bkk(2026, 1, 12, 16, 30)


def test_a_policy_for_the_kind_wins_over_the_priority_policy(agent, calendar):
    sla_policy("normal", first=60)
    sla_policy("normal", first=120, kind="billing")
    interaction = _open(agent, bkk(2026, 1, 12, 9, 0), kind="billing")
    assert interaction.first_response_due_at == bkk(2026, 1, 12, 11, 0)


def test_without_a_policy_there_are_no_due_times(agent, calendar):
    interaction = _open(agent, bkk(2026, 1, 12, 9, 0))
    assert interaction.first_response_due_at is None and interaction.resolution_due_at is None


def test_the_first_reply_stores_business_hours_and_whether_the_sla_was_met(agent, calendar):
    sla_policy("normal", first=60)
    interaction = _open(agent, bkk(2026, 1, 9, 17, 30))
    services.interaction_reply(interaction=interaction, author=agent, body="On it", at=bkk(2026, 1, 12, 9, 30))
    interaction.refresh_from_db()
    assert interaction.first_response_business_seconds == 3600
    assert interaction.first_response_sla_met is True
    # A later reply changes nothing.
    services.interaction_reply(interaction=interaction, author=agent, body="More", at=bkk(2026, 1, 13, 9, 30))
    interaction.refresh_from_db()
    assert interaction.first_response_business_seconds == 3600


def test_an_internal_note_is_not_a_first_response(agent, calendar):
    interaction = _open(agent, bkk(2026, 1, 12, 9, 0))
    services.interaction_reply(
        interaction=interaction, author=agent, body="Checking with billing", at=bkk(2026, 1, 12, 10), visibility="note"
    )
    interaction.refresh_from_db()
    assert interaction.first_response_at is None and interaction.first_response_business_seconds is None


def test_a_late_resolution_misses_the_sla_and_stores_business_seconds(agent, calendar):
    sla_policy("normal", first=60, resolution=120)
    interaction = _open(agent, bkk(2026, 1, 12, 9, 0))
    services.interaction_resolve(interaction=interaction, actor=agent, at=bkk(2026, 1, 13, 10, 0))
    interaction.refresh_from_db()
    assert interaction.resolution_business_seconds == 10 * 3600
    assert interaction.resolution_sla_met is False
    services.interaction_reopen(interaction=interaction, actor=agent)
    interaction.refresh_from_db()
    assert interaction.resolution_business_seconds is None and interaction.resolution_sla_met is None


def test_waiting_on_the_customer_pauses_the_clock_and_moves_the_due_times(agent, calendar, monkeypatch):
    sla_policy("normal", first=60, resolution=4 * 60)
    interaction = _open(agent, bkk(2026, 1, 12, 9, 0))
    assert interaction.resolution_due_at == bkk(2026, 1, 12, 13, 0)
    monkeypatch.setattr(timezone, "now", lambda: bkk(2026, 1, 12, 10, 0))
    services.interaction_set_status(interaction=interaction, status="waiting", actor=agent)
    monkeypatch.setattr(timezone, "now", lambda: bkk(2026, 1, 12, 12, 0))
    services.interaction_set_status(interaction=interaction, status="open", actor=agent)
    interaction.refresh_from_db()
    assert interaction.waiting_business_seconds == 2 * 3600 and interaction.waiting_since is None
    assert interaction.resolution_due_at == bkk(2026, 1, 12, 15, 0)
    services.interaction_resolve(interaction=interaction, actor=agent, at=bkk(2026, 1, 12, 14, 0))
    interaction.refresh_from_db()
    assert interaction.resolution_business_seconds == 3 * 3600
    assert interaction.resolution_sla_met is True


def test_a_team_calendar_replaces_the_default_one(agent, calendar):
    sla_policy("normal", first=60)
    night_team = TeamFactory(name="Taipei")
    office_calendar(team=night_team, time_zone="Asia/Taipei")
    interaction = _open(agent, bkk(2026, 1, 12, 9, 0), team=night_team)
    # 09:00 Bangkok is 10:00 in Taipei, inside its working day: due an hour later.
    assert interaction.first_response_due_at == bkk(2026, 1, 12, 10, 0)
    first = _open(agent, bkk(2026, 1, 12, 7, 30))
    support.interaction_assign(interaction=first, team=night_team, actor=agent)
    first.refresh_from_db()
    # 07:30 Bangkok is 08:30 Taipei: the clock starts at 09:00 Taipei (08:00 Bangkok).
    assert first.first_response_due_at == bkk(2026, 1, 12, 9, 0)


def test_assigning_is_audited_and_notifies_the_assignee(agent, manager, mailoutbox, django_capture_on_commit_callbacks):
    agent.email = "aom@example.com"
    agent.save()
    interaction = _open(manager, timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        support.interaction_assign(interaction=interaction, assignee=agent, actor=manager)
    interaction.refresh_from_db()
    assert interaction.assignee == agent
    latest = interaction.history.first()
    assert latest.history_change_reason == "Assigned to Aom"
    assert latest.history_user == manager
    note = Notification.objects.get(recipient=agent)
    assert note.kind == "assigned" and interaction.subject in note.message
    assert [m.to for m in mailoutbox] == [["aom@example.com"]]


def test_taking_work_yourself_notifies_nobody(agent):
    interaction = _open(agent, timezone.now() - timedelta(hours=1))
    support.interaction_take(interaction=interaction, actor=agent)
    interaction.refresh_from_db()
    assert interaction.assignee == agent
    assert not Notification.objects.exists()


def test_only_staff_with_a_role_can_be_assigned(agent, outsider):
    interaction = _open(agent, timezone.now() - timedelta(hours=1))
    with pytest.raises(ValidationError, match="role"):
        support.interaction_assign(interaction=interaction, assignee=outsider, actor=agent)
    interaction.refresh_from_db()
    assert interaction.assignee is None


def test_a_muted_kind_is_not_emailed_but_still_shown(agent, manager, mailoutbox, django_capture_on_commit_callbacks):
    agent.email = "aom@example.com"
    agent.save()
    EmailMute.objects.create(user=agent, kind="assigned")
    with django_capture_on_commit_callbacks(execute=True):
        support.interaction_assign(interaction=_open(manager, timezone.now()), assignee=agent, actor=manager)
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=agent, read_at__isnull=True).count() == 1
    assert notifications_mark_read(user=agent) == 1
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()


def test_a_mention_in_a_note_notifies_that_user(agent, manager, make_user):
    make_user("ghost")  # no role: not notified
    interaction = _open(agent, timezone.now() - timedelta(hours=1))
    services.interaction_reply(
        interaction=interaction, author=agent, body="@manager can you approve? cc @ghost @nobody", visibility="note"
    )
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [("manager", "mention")]


def test_priority_changes_move_the_due_times(agent, calendar):
    sla_policy("normal", first=60, resolution=480)
    sla_policy("urgent", first=15, resolution=60)
    interaction = _open(agent, bkk(2026, 1, 12, 9, 0))
    support.interaction_set_priority(interaction=interaction, priority="urgent", actor=agent)
    interaction.refresh_from_db()
    assert interaction.first_response_due_at == bkk(2026, 1, 12, 9, 15)
    with pytest.raises(ValidationError):
        support.interaction_set_priority(interaction=interaction, priority="whenever", actor=agent)


def test_sla_warnings_are_sent_once_per_interaction_and_clock(agent, manager):
    sla_policy("normal", first=60, resolution=120)
    now = timezone.now()
    soon = _open(manager, now - timedelta(minutes=50), assignee=agent)  # first response due in 10 min
    _open(manager, now - timedelta(minutes=50))  # nobody to warn
    later = _open(manager, now, assignee=agent)  # due in an hour
    assert support.sla_warnings_send(now=now) == 1
    assert support.sla_warnings_send(now=now) == 0
    warning = Notification.objects.get(kind="sla_warning")
    assert warning.target == soon and warning.recipient == agent
    # After the first response the resolution clock can warn too, once.
    services.interaction_reply(interaction=soon, author=agent, body="Hi")
    assert support.sla_warnings_send(now=now + timedelta(minutes=65)) == 2  # soon's resolution, later's response
    assert support.sla_warnings_send(now=now + timedelta(minutes=65)) == 0
    assert Notification.objects.filter(kind="sla_warning", target_id=later.pk).count() == 1


def test_bulk_assign_is_all_or_nothing(agent, outsider, manager):
    rows = [_open(manager, timezone.now()) for _ in range(3)]
    with pytest.raises(ValidationError):
        support.bulk_assign(interactions=rows, assignee=outsider, actor=manager)
    assert not Interaction.objects.filter(assignee__isnull=False).exists()
    assert support.bulk_assign(interactions=rows, assignee=agent, actor=manager).done == 3
    assert Interaction.objects.filter(assignee=agent).count() == 3


def test_agents_are_users_with_a_role(make_user):
    support.check_assignee(make_user("ann", Role.AGENT))
    with pytest.raises(ValidationError):
        support.check_assignee(make_user("inactive", Role.AGENT, is_active=False))


def test_assignment_changes_are_on_the_customer_timeline(agent, manager, agent_client):
    interaction = _open(manager, timezone.now() - timedelta(hours=2))
    support.interaction_assign(interaction=interaction, assignee=agent, actor=manager)
    support.interaction_assign(interaction=interaction, assignee=None, actor=manager)
    page = agent_client.get(f"/customers/{interaction.customer_id}/").content.decode()
    assert "Assigned to Aom" in page and "Unassigned" in page
    assert page.count('class="ti-kind">Assignment<') == 2


def test_a_detractor_follow_up_notifies_the_customers_owner(agent):
    from customers.demo_data import ensure_default_surveys
    from surveys.services import invitation_create, response_submit

    nps = next(s for s in ensure_default_surveys() if s.kind == "nps")
    invitation, _token = invitation_create(survey=nps, customer=CustomerFactory(owner=agent))
    response_submit(invitation_id=invitation.pk, score=3)
    note = Notification.objects.get(recipient=agent)
    assert note.kind == "follow_up" and note.target.response.invitation_id == invitation.pk
    # A change of answer to another detractor score does not notify again.
    response_submit(invitation_id=invitation.pk, score=2)
    assert Notification.objects.filter(recipient=agent).count() == 1
