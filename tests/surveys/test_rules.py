from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from surveys.models import Invitation, Survey
from surveys.rules import SkipReason, skip_reasons
from surveys.services import invitation_create, invitation_send, response_submit
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LINK = Invitation.Channel.LINK
EMAIL = Invitation.Channel.EMAIL


def reason(survey, customer, channel=LINK):
    return skip_reasons(survey=survey, customers=[customer], channel=channel).get(customer.id)


def invited_days_ago(survey, customer, days, answered=False):
    invitation, _ = invitation_create(survey=survey, customer=customer)
    when = timezone.now() - timedelta(days=days)
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=when, sent_at=when, expires_at=when + timedelta(days=survey.link_lifetime_days)
    )
    if answered:
        Invitation.objects.filter(pk=invitation.pk).update(answered_at=when)
    return invitation


def test_a_fresh_customer_may_be_invited(nps) -> None:
    assert reason(nps, CustomerFactory()) is None


def test_an_inactive_survey_is_sent_to_nobody(nps) -> None:
    nps.is_active = False
    assert reason(nps, CustomerFactory()) == SkipReason.SURVEY_INACTIVE


def test_email_needs_an_address_and_consent(nps) -> None:
    assert reason(nps, CustomerFactory(consent_email=False), EMAIL) == SkipReason.NO_CONSENT
    assert reason(nps, CustomerFactory(consent_email=True, email=""), EMAIL) == SkipReason.NO_EMAIL
    assert reason(nps, CustomerFactory(consent_email=True), EMAIL) is None
    assert reason(nps, CustomerFactory(consent_email=False), LINK) is None


class TestRecontactRules:
    def test_once_never_invites_twice(self, nps) -> None:
        nps.recontact_rule = Survey.Recontact.ONCE
        customer = CustomerFactory()
        invited_days_ago(nps, customer, 400)
        assert reason(nps, customer) == SkipReason.ALREADY_INVITED

    def test_every_n_days_waits_n_days(self, nps) -> None:
        nps.recontact_rule, nps.recontact_days = Survey.Recontact.EVERY_N_DAYS, 90
        recent, old = CustomerFactory(), CustomerFactory()
        invited_days_ago(nps, recent, 89)
        invited_days_ago(nps, old, 91)
        assert reason(nps, recent) == SkipReason.RECONTACT_WINDOW
        assert reason(nps, old) is None

    def test_until_answered_reinvites_after_an_unanswered_link_expires(self, nps) -> None:
        nps.recontact_rule = Survey.Recontact.UNTIL_ANSWERED
        live, expired, answered = CustomerFactory(), CustomerFactory(), CustomerFactory()
        invited_days_ago(nps, live, 10)  # 14-day link still open
        invited_days_ago(nps, expired, 30)
        invited_days_ago(nps, answered, 30, answered=True)
        assert reason(nps, live) == SkipReason.OPEN_LINK
        assert reason(nps, expired) is None
        assert reason(nps, answered) == SkipReason.ALREADY_ANSWERED


class TestCooldown:
    def test_a_recent_survey_of_the_same_rank_blocks_during_the_cooldown(self, csat, ces) -> None:
        customer = CustomerFactory()
        invited_days_ago(csat, customer, 3)
        assert reason(ces, customer) == SkipReason.COOLDOWN

    def test_the_cooldown_ends(self, csat, ces) -> None:
        customer = CustomerFactory()
        invited_days_ago(csat, customer, 8)
        assert reason(ces, customer) is None

    def test_a_frequent_csat_never_blocks_the_quarterly_nps(self, csat, nps) -> None:
        customer = CustomerFactory()
        for days in (1, 5, 12, 20):
            invited_days_ago(csat, customer, days)
        assert reason(nps, customer) is None

    def test_an_nps_holds_back_transactional_surveys(self, nps, csat, ces) -> None:
        customer = CustomerFactory()
        invited_days_ago(nps, customer, 2)
        assert reason(csat, customer) == SkipReason.COOLDOWN
        assert reason(ces, customer) == SkipReason.COOLDOWN

    @override_settings(SURVEY_COOLDOWN_DAYS=0)
    def test_the_cooldown_can_be_switched_off(self, csat, ces) -> None:
        customer = CustomerFactory()
        invited_days_ago(csat, customer, 1)
        assert reason(ces, customer) is None

    def test_rules_are_checked_for_many_customers_in_a_fixed_number_of_queries(
        self, nps, django_assert_num_queries
    ) -> None:
        customers = [CustomerFactory() for _ in range(30)]
        for c in customers[:10]:
            invited_days_ago(nps, c, 5)
        with django_assert_num_queries(2):
            reasons = skip_reasons(survey=nps, customers=customers, channel=LINK)
        assert len(reasons) == 10


def test_invitation_send_applies_the_rules_unless_staff_override(nps, agent) -> None:
    customer = CustomerFactory()
    first = invitation_send(survey=nps, customer=customer, channel=LINK, created_by=agent)
    assert first.invitation is not None
    assert first.invitation.sent_at is not None
    second = invitation_send(survey=nps, customer=customer, channel=LINK)
    assert second.invitation is None
    assert second.skipped_reason == SkipReason.RECONTACT_WINDOW
    forced = invitation_send(survey=nps, customer=customer, channel=LINK, enforce_fatigue=False)
    assert forced.invitation is not None
    no_consent = invitation_send(survey=nps, customer=customer, channel=EMAIL, enforce_fatigue=False)
    assert no_consent.skipped_reason == SkipReason.NO_CONSENT


def test_answering_makes_until_answered_stop(nps) -> None:
    nps.recontact_rule = Survey.Recontact.UNTIL_ANSWERED
    nps.save()
    customer = CustomerFactory()
    invitation, _ = invitation_create(survey=nps, customer=customer)
    response_submit(invitation_id=invitation.pk, score=10)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert reason(nps, customer) == SkipReason.ALREADY_ANSWERED
