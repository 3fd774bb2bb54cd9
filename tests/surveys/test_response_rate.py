"""Response rate = answers to the invitations sent ÷ invitations sent × 100, never above 100 %: an
answer to a link never marked sent counts its invitation as sent (the answer proves delivery)."""

import importlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Segment
from metrics.catalogue import rate
from metrics.models import CustomerMetrics, SegmentSnapshot, StaleCustomer
from metrics.report_selectors import snapshot_totals
from metrics.selectors import customer_figures
from metrics.services import customers_recompute
from metrics.snapshots import build_segment
from surveys.models import Invitation
from surveys.selectors import response_rate, surveys_with_rates
from surveys.services import invitation_create, response_submit
from tests.api.conftest import token_client
from tests.customers.factories import CustomerFactory
from tests.surveys.factories import InvitationFactory, ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed_but_never_sent(default_surveys, customer):
    """Two invitations made by the API with the email channel: nothing sends them, sent_at stays empty."""
    return [
        invitation_create(survey=default_surveys["csat"], customer=customer, channel=Invitation.Channel.EMAIL)[0]
        for _ in range(2)
    ]


@pytest.fixture
def customer():
    return CustomerFactory(acquired_at=date.today() - timedelta(days=100))


def test_an_answer_marks_a_never_sent_invitation_sent(emailed_but_never_sent):
    invitation = emailed_but_never_sent[0]
    assert invitation.sent_at is None
    response_submit(invitation_id=invitation.pk, score=5)
    invitation.refresh_from_db()
    assert invitation.sent_at is not None and invitation.sent_at == invitation.answered_at
    sent_by_link = invitation_create(survey=invitation.survey, customer=invitation.customer)[0]
    response_submit(invitation_id=sent_by_link.pk, score=4)
    assert Invitation.objects.get(pk=sent_by_link.pk).sent_at == sent_by_link.sent_at  # kept, not moved


def test_an_api_invitation_answered_without_being_sent_gives_100_percent_not_more(agent, default_surveys, customer):
    api = token_client(agent)
    made = api.post(
        "/api/invitations/",
        {"survey": default_surveys["nps"].pk, "customer": customer.pk, "channel": "email"},
        format="json",
    )
    assert made.status_code == 201 and made.json()["sent_at"] is None
    assert customer.pk in StaleCustomer.objects.values_list("customer_id", flat=True)
    # One link handed over (sent), one invitation never sent and never answered.
    handed_over, _ = invitation_create(survey=default_surveys["csat"], customer=customer)
    response_submit(invitation_id=made.json()["id"], score=9)
    response_submit(invitation_id=handed_over.pk, score=4)
    invitation_create(survey=default_surveys["ces"], customer=customer, channel=Invitation.Channel.EMAIL)

    customers_recompute(customer_ids=[customer.pk])

    metrics = CustomerMetrics.objects.get(customer=customer)
    assert (metrics.answers, metrics.invitations) == (2, 2)
    assert customer_figures(metrics).response_rate == Decimal(100)
    body = api.get(f"/api/customer-metrics/{customer.pk}/").json()
    assert Decimal(body["rates"]["response_rate_percent"]) == Decimal(100)


def test_the_survey_pages_never_show_more_than_100_percent(agent_client, emailed_but_never_sent):
    for invitation in emailed_but_never_sent:
        response_submit(invitation_id=invitation.pk, score=5)
    survey = surveys_with_rates().get(pk=emailed_but_never_sent[0].survey_id)
    assert (survey.answered_count, survey.sent_count) == (2, 2)
    assert response_rate(survey.answered_count, survey.sent_count) == Decimal(100)
    listing = agent_client.get("/surveys/").content.decode()
    assert "200" not in listing.split(survey.name, 1)[1].split("</tr>", 1)[0]
    detail = agent_client.get(f"/surveys/{survey.slug}/")
    assert detail.context["survey"].rate == Decimal(100)


def test_a_snapshot_counts_the_answered_never_sent_invitation_in_its_month(default_surveys):
    bangkok = ZoneInfo("Asia/Bangkok")
    customer = CustomerFactory(acquired_at=date(2025, 6, 1))
    invitation, _ = invitation_create(survey=default_surveys["nps"], customer=customer, channel="email")
    response_submit(invitation_id=invitation.pk, score=10)
    answered = Invitation.objects.get(pk=invitation.pk).answered_at.astimezone(bangkok)
    everyone = Segment.objects.get(slug="all-customers")
    build_segment(everyone, months=2, today=answered.date())
    month = SegmentSnapshot.objects.get(segment=everyone, period="month", period_start=answered.date().replace(day=1))
    assert (month.answers, month.invitations, rate("response_rate", snapshot_totals(month))) == (1, 1, Decimal(100))


def test_the_database_refuses_an_answered_invitation_that_was_never_sent(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(customer=customer, sent_at=None, answered_at=timezone.now())


def test_the_data_migration_counts_answered_invitations_as_sent():
    from django.apps import apps

    migration = importlib.import_module("surveys.migrations.0003_answered_invitations_count_as_sent")
    customer = CustomerFactory()
    at = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("UTC"))
    opened = InvitationFactory(customer=customer, sent_at=None, opened_at=at - timedelta(hours=1))
    ResponseFactory(invitation=opened, submitted_at=at)
    never_opened = InvitationFactory(customer=customer, sent_at=None)
    ResponseFactory(invitation=never_opened, submitted_at=at)
    unanswered = InvitationFactory(customer=customer, sent_at=None)
    StaleCustomer.objects.all().delete()

    migration.answered_invitations_count_as_sent(apps, None)

    opened.refresh_from_db()
    never_opened.refresh_from_db()
    assert (opened.sent_at, opened.answered_at) == (at - timedelta(hours=1), at)
    assert (never_opened.sent_at, never_opened.answered_at) == (at, at)
    assert Invitation.objects.get(pk=unanswered.pk).sent_at is None
    assert list(StaleCustomer.objects.values_list("customer_id", flat=True)) == [customer.pk]
