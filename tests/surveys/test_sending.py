import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.models import Interaction
from surveys.models import Invitation, Response, SurveySendJob
from surveys.selectors import invitation_by_token
from surveys.services import invitation_send, reminders_send_due, send_job_create
from surveys.triggers import on_interaction_resolved
from tests.customers.factories import CustomerFactory, InteractionFactory, SegmentFactory

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"http://[^\s\"<>]+/s/([A-Za-z0-9_-]+)/")


def consenting(**kw):
    return CustomerFactory(consent_email=True, **kw)


class TestEmail:
    def test_an_emailed_invitation_is_sent_after_commit_in_the_customers_language(
        self, nps, django_capture_on_commit_callbacks
    ) -> None:
        customer = consenting(language="th", first_name="สมชาย")
        with django_capture_on_commit_callbacks(execute=True):
            outcome = invitation_send(survey=nps, customer=customer, channel=Invitation.Channel.EMAIL)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [customer.email]
        assert message.subject == "ขอรบกวนตอบคำถามสั้น ๆ หนึ่งข้อ"
        assert "สวัสดีคุณสมชาย" in message.body
        token = LINK_RE.search(message.body).group(1)
        assert invitation_by_token(token) == outcome.invitation
        html = message.alternatives[0][0]
        for score in range(11):
            assert f"/s/{token}/?score={score}" in html
        outcome.invitation.refresh_from_db()
        assert outcome.invitation.sent_at is not None
        assert not Response.objects.exists()

    def test_no_email_leaves_before_commit(self, nps, django_capture_on_commit_callbacks) -> None:
        with django_capture_on_commit_callbacks(execute=False):
            invitation_send(survey=nps, customer=consenting(), channel=Invitation.Channel.EMAIL)
        assert mail.outbox == []

    def test_the_email_task_is_idempotent(self, nps, django_capture_on_commit_callbacks) -> None:
        from surveys.tasks import send_invitation_email

        with django_capture_on_commit_callbacks(execute=False):
            outcome = invitation_send(survey=nps, customer=consenting(), channel=Invitation.Channel.EMAIL)
        assert send_invitation_email(outcome.invitation.pk, outcome.token) is True
        assert send_invitation_email(outcome.invitation.pk, outcome.token) is False
        assert send_invitation_email(outcome.invitation.pk, "wrong-token-wrong-token") is False
        assert len(mail.outbox) == 1


class TestReminders:
    def emailed(self, survey, days_ago: float, **customer):
        with_consent = consenting(**customer)
        outcome = invitation_send(survey=survey, customer=with_consent, channel=Invitation.Channel.EMAIL)
        when = timezone.now() - timedelta(days=days_ago)
        Invitation.objects.filter(pk=outcome.invitation.pk).update(created_at=when, sent_at=when)
        return outcome

    def test_one_reminder_goes_after_the_delay_with_a_working_link(self, nps) -> None:
        due = self.emailed(nps, 4)
        self.emailed(nps, 1)  # not due yet
        assert reminders_send_due() == 1
        assert reminders_send_due() == 0
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject.startswith("Reminder")
        token = LINK_RE.search(mail.outbox[0].body).group(1)
        assert token != due.token
        assert invitation_by_token(token).pk == due.invitation.pk
        assert invitation_by_token(due.token).pk == due.invitation.pk

    def test_answered_expired_and_withdrawn_consent_get_no_reminder(self, nps) -> None:
        answered = self.emailed(nps, 5)
        Invitation.objects.filter(pk=answered.invitation.pk).update(answered_at=timezone.now())
        expired = self.emailed(nps, 5)
        Invitation.objects.filter(pk=expired.invitation.pk).update(expires_at=timezone.now())
        withdrawn = self.emailed(nps, 5)
        withdrawn.invitation.customer.consent_email = False
        withdrawn.invitation.customer.save()
        nps.reminder_after_days = None
        assert reminders_send_due() == 0

    def test_the_beat_task_sends_them(self, nps) -> None:
        from surveys.tasks import send_due_reminders

        self.emailed(nps, 10)
        assert send_due_reminders.delay().get() == 1


class TestTrigger:
    def test_resolving_an_interaction_sends_the_csat_after_commit(
        self, csat, nps, django_capture_on_commit_callbacks
    ) -> None:
        interaction = InteractionFactory(customer=consenting())
        with django_capture_on_commit_callbacks(execute=True):
            made = on_interaction_resolved(interaction=interaction)
        assert [i.survey for i in made] == [csat]
        assert made[0].interaction == interaction
        assert len(mail.outbox) == 1

    def test_resolving_twice_sends_once_and_rules_apply(self, csat, django_capture_on_commit_callbacks) -> None:
        csat.recontact_days = 0
        csat.save()
        interaction = InteractionFactory(customer=consenting())
        with django_capture_on_commit_callbacks(execute=True):
            on_interaction_resolved(interaction=interaction)
            assert on_interaction_resolved(interaction=interaction) == []
            no_consent = InteractionFactory(customer=CustomerFactory(consent_email=False))
            assert on_interaction_resolved(interaction=no_consent) == []
        assert len(mail.outbox) == 1

    def test_an_inactive_csat_is_not_sent(self, csat) -> None:
        csat.is_active = False
        csat.save()
        assert on_interaction_resolved(interaction=InteractionFactory(customer=consenting())) == []
        assert Interaction.objects.count() == 1


class TestBulkSend:
    def test_a_job_sends_to_eligible_customers_and_counts_the_skipped(
        self, nps, agent, django_capture_on_commit_callbacks
    ) -> None:
        ok = [consenting() for _ in range(3)]
        no_consent = CustomerFactory(consent_email=False)
        recent = consenting()
        invitation_send(survey=nps, customer=recent, channel=Invitation.Channel.LINK)
        with django_capture_on_commit_callbacks(execute=True):
            job = send_job_create(survey=nps, customer_ids=[c.pk for c in [*ok, no_consent, recent]], created_by=agent)
        job.refresh_from_db()
        assert (job.status, job.total, job.processed, job.sent, job.skipped) == ("done", 5, 5, 3, 2)
        assert job.skipped_reasons == {"no_consent": 1, "recontact_window": 1}
        assert len(mail.outbox) == 3
        assert {m.to[0] for m in mail.outbox} == {c.email for c in ok}

    def test_rerunning_a_finished_job_sends_nothing_more(self, nps, django_capture_on_commit_callbacks) -> None:
        from surveys.services import send_job_run

        with django_capture_on_commit_callbacks(execute=True):
            job = send_job_create(survey=nps, customer_ids=[consenting().pk], created_by=None)
        assert send_job_run(job_id=job.pk) is None
        assert len(mail.outbox) == 1
        assert Invitation.objects.count() == 1


class TestCommand:
    def test_it_prints_the_links_it_made(self, nps) -> None:
        customers = [CustomerFactory() for _ in range(3)]
        out = StringIO()
        call_command("send_survey", "--survey", nps.slug, "--all", "--channel", "link", "--print-links", stdout=out)
        links = LINK_RE.findall(out.getvalue())
        assert len(links) == 3
        assert {invitation_by_token(t).customer_id for t in links} == {c.pk for c in customers}
        assert "3 invited, 0 skipped" in out.getvalue()

    def test_it_emails_one_customer_and_reports_skips(self, nps) -> None:
        customer = consenting()
        out = StringIO()
        call_command("send_survey", "--survey", nps.slug, "--customer", str(customer.pk), stdout=out)
        assert len(mail.outbox) == 1
        call_command("send_survey", "--survey", nps.slug, "--customer", str(customer.pk), stdout=out)
        assert "Invited to this survey recently: 1" in out.getvalue()

    def test_it_rejects_unknown_survey_and_customer(self, nps) -> None:
        with pytest.raises(CommandError):
            call_command("send_survey", "--survey", "nope", "--all")
        with pytest.raises(CommandError):
            call_command("send_survey", "--survey", nps.slug, "--customer", "999999")


def test_a_segment_can_be_bulk_sent_from_the_send_page(nps, agent_client, django_capture_on_commit_callbacks) -> None:
    thai = [consenting(country="TH") for _ in range(2)]
    consenting(country="MY")
    SegmentFactory(slug="thai", filter_params={"country": "TH"})
    page = agent_client.get("/surveys/send/?segment=thai")
    assert page.status_code == 200
    assert "2 customers" in page.content.decode()
    # The first POST only shows who will receive it and asks to confirm.
    preview = agent_client.post("/surveys/send/?segment=thai", {"survey": nps.pk})
    assert "2 of 2 customers will receive it." in preview.content.decode()
    assert not SurveySendJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        answer = agent_client.post("/surveys/send/?segment=thai", {"survey": nps.pk, "confirm_count": "2"})
    job = SurveySendJob.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/surveys/send/{job.pk}/"
    assert sorted(job.customer_ids) == sorted(c.pk for c in thai)
    progress = agent_client.get(f"/surveys/send/{job.pk}/progress.json").json()
    assert (progress["status"], progress["sent"], progress["percent"]) == ("done", 2, 100)
    assert agent_client.get(f"/surveys/send/{job.pk}/").status_code == 200


def test_an_invitation_is_emailed_in_process_when_the_broker_is_down(nps, django_capture_on_commit_callbacks) -> None:
    from unittest import mock

    with (
        mock.patch("surveys.tasks.send_invitation_email.delay", side_effect=ConnectionError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = invitation_send(survey=nps, customer=consenting(), channel=Invitation.Channel.EMAIL)
    assert len(mail.outbox) == 1
    outcome.invitation.refresh_from_db()
    assert outcome.invitation.sent_at is not None


def test_the_bulk_send_preview_counts_who_will_be_skipped_and_a_changed_count_asks_again(nps, agent_client) -> None:
    consenting(country="TH")
    CustomerFactory(country="TH", email="no-consent@example.com", consent_email=False)
    CustomerFactory(country="TH", email="", consent_email=True)
    page = agent_client.post("/surveys/send/?country=TH", {"survey": nps.pk}).content.decode()
    assert "1 of 3 customers will receive it." in page
    assert "1 skipped: No consent to email" in page and "1 skipped: No email address" in page
    assert "Send to 1 customer" in page
    consenting(country="TH")
    again = agent_client.post("/surveys/send/?country=TH", {"survey": nps.pk, "confirm_count": "3"})
    assert "2 of 4 customers will receive it." in again.content.decode()
    assert not SurveySendJob.objects.exists()
