from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from metrics.models import StaleCustomer
from surveys.models import FollowUp, Invitation, Response
from surveys.services import (
    AnswerConflict,
    InvitationExpired,
    follow_up_close,
    invitation_create,
    response_submit,
)
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(nps, agent) -> Invitation:
    invitation, _ = invitation_create(survey=nps, customer=CustomerFactory(owner=agent))
    return invitation


def test_it_records_the_answer_and_the_answer_time(invitation) -> None:
    response = response_submit(invitation_id=invitation.pk, score=9, comment=" thanks ", language="th")
    invitation.refresh_from_db()
    assert invitation.answered_at == response.submitted_at
    assert (response.score, response.comment, response.language, response.kind) == (9, "thanks", "th", "nps")
    assert response.customer_id == invitation.customer_id


def test_the_recompute_is_enqueued_only_after_commit(invitation, django_capture_on_commit_callbacks) -> None:
    with mock.patch("metrics.tasks.recompute_customers.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response_submit(invitation_id=invitation.pk, score=9)
            assert StaleCustomer.objects.filter(customer_id=invitation.customer_id).exists()
        delay.assert_not_called()
        assert callbacks
        for callback in callbacks:
            callback()
    delay.assert_called_once_with([invitation.customer_id])


def test_nothing_is_enqueued_when_the_answer_is_rolled_back(invitation, django_capture_on_commit_callbacks) -> None:
    StaleCustomer.objects.all().delete()  # the invitation's own mark
    with (
        mock.patch("metrics.tasks.recompute_customers.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        response_submit(invitation_id=invitation.pk, score=9)
        raise RuntimeError
    delay.assert_not_called()
    assert not StaleCustomer.objects.exists()


@pytest.mark.parametrize(
    ("kind", "score", "detractor"),
    [
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 0, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("ces", 3, True),
        ("ces", 4, False),
    ],
)
def test_detractor_scores_open_a_follow_up_for_the_owner(default_surveys, agent, kind, score, detractor) -> None:
    invitation, _ = invitation_create(survey=default_surveys[kind], customer=CustomerFactory(owner=agent))
    response_submit(invitation_id=invitation.pk, score=score)
    follow_ups = list(FollowUp.objects.all())
    assert len(follow_ups) == int(detractor)
    if detractor:
        assert follow_ups[0].assigned_to == agent
        assert follow_ups[0].customer_id == invitation.customer_id


def test_a_customer_without_owner_gets_an_unassigned_follow_up(nps) -> None:
    invitation, _ = invitation_create(survey=nps, customer=CustomerFactory(owner=None))
    response_submit(invitation_id=invitation.pk, score=1)
    assert FollowUp.objects.get().assigned_to is None


def test_changing_to_a_good_score_closes_the_open_follow_up_and_back_reopens_it(invitation) -> None:
    response_submit(invitation_id=invitation.pk, score=2, expected_revision=0)
    response_submit(invitation_id=invitation.pk, score=9, expected_revision=1)
    follow_up = FollowUp.objects.get()
    assert follow_up.status == FollowUp.Status.CLOSED
    assert "changed the score to 9" in follow_up.note
    response_submit(invitation_id=invitation.pk, score=3, expected_revision=2)
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.OPEN
    assert FollowUp.objects.count() == 1


def test_a_follow_up_closed_by_staff_stays_closed_when_the_answer_changes(invitation, agent) -> None:
    response = response_submit(invitation_id=invitation.pk, score=2)
    follow_up_close(follow_up=response.follow_up, note="Called, refunded.", closed_by=agent)
    response_submit(invitation_id=invitation.pk, score=1)
    follow_up = FollowUp.objects.get()
    assert follow_up.status == FollowUp.Status.CLOSED
    assert follow_up.note == "Called, refunded."


def test_a_stale_revision_is_a_conflict(invitation) -> None:
    response_submit(invitation_id=invitation.pk, score=9, expected_revision=0)
    with pytest.raises(AnswerConflict):
        response_submit(invitation_id=invitation.pk, score=2, expected_revision=0)
    assert Response.objects.get().score == 9


def test_an_expired_invitation_cannot_be_answered(invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvitationExpired):
        response_submit(invitation_id=invitation.pk, score=9)
    assert not Response.objects.exists()


@pytest.mark.parametrize("score", [-1, 11, "x", None])
def test_out_of_scale_scores_are_refused(invitation, score) -> None:
    with pytest.raises(ValidationError):
        response_submit(invitation_id=invitation.pk, score=score)


def test_a_too_long_comment_is_refused(invitation) -> None:
    with pytest.raises(ValidationError):
        response_submit(invitation_id=invitation.pk, score=9, comment="x" * 2001)


def test_the_database_enforces_one_answer_per_invitation_and_the_scale(invitation) -> None:
    Response.objects.create(invitation=invitation, customer=invitation.customer, kind="nps", score=9)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(invitation=invitation, customer=invitation.customer, kind="nps", score=8)
    other, _ = invitation_create(survey=invitation.survey, customer=invitation.customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(invitation=other, customer=other.customer, kind="csat", score=9)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(invitation=other, customer=other.customer, kind="nps", score=9, comment="x" * 2001)


def test_closing_a_follow_up_needs_a_note_and_shows_on_the_timeline(invitation, agent) -> None:
    from surveys.selectors import customer_timeline_items

    response = response_submit(invitation_id=invitation.pk, score=2, comment="Slow")
    with pytest.raises(ValidationError):
        follow_up_close(follow_up=response.follow_up, note="  ", closed_by=agent)
    follow_up_close(follow_up=response.follow_up, note="Called and apologised.", closed_by=agent)
    with pytest.raises(ValidationError):
        follow_up_close(follow_up=response.follow_up, note="again", closed_by=agent)
    items = customer_timeline_items(invitation.customer)
    assert [i["kind"] for i in items] == ["follow_up_closed", "survey_answer"]
    assert items[0]["body"] == "Called and apologised."


def test_a_detractor_follow_up_is_not_assigned_to_an_owner_without_a_role(nps, outsider) -> None:
    invitation, _ = invitation_create(survey=nps, customer=CustomerFactory(owner=outsider))
    response = response_submit(invitation_id=invitation.pk, score=2)
    assert response.follow_up.assigned_to is None
