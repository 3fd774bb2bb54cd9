"""Replies to customers are emailed through Django's SMTP backend to a real SMTP server (aiosmtpd on
loopback), threaded by Message-ID, in the customer's language; failures are retried, then shown."""

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.urls import reverse

from customers import services
from customers.models import InteractionReply
from support.tasks import EMAIL_RETRIES
from tests.customers.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def retries_in_place() -> Iterator[None]:
    """Eager tasks re-run their retries in place when the Retry is not propagated to the caller."""
    from config.celery import app as celery_app

    celery_app.conf.task_eager_propagates = False
    try:
        yield
    finally:
        celery_app.conf.task_eager_propagates = True


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            SUPPORT_FROM_EMAIL="Rapport Support <help@support.rapport.example>",
        ):
            yield inbox
    finally:
        controller.stop()


def test_a_reply_on_an_email_thread_is_sent_threaded_and_in_the_customers_language(
    smtp, agent, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(email="somchai@example.co.th", first_name="Somchai", language="th")
    interaction = InteractionFactory(
        customer=customer, channel="email", subject="Invoice 1042", email_message_id="<abc@mail.example.co.th>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = services.interaction_reply(interaction=interaction, author=agent, body="We refunded it today.")
    first.refresh_from_db()
    assert first.delivery == "sent" and first.sent_at is not None
    mail_from, rcpt, message = smtp.messages[-1]
    assert mail_from == "help@support.rapport.example" and rcpt == ["somchai@example.co.th"]
    assert message["Message-ID"] == first.message_id and first.message_id.endswith("@support.rapport.example>")
    assert message["In-Reply-To"] == "<abc@mail.example.co.th>"
    assert message["Subject"] == "Re: Invoice 1042"
    text = message.get_content()
    assert "สวัสดีคุณSomchai" in text and "We refunded it today." in text

    with django_capture_on_commit_callbacks(execute=True):
        second = services.interaction_reply(interaction=interaction, author=agent, body="And a credit note.")
    second.refresh_from_db()
    _, _, message = smtp.messages[-1]
    assert message["In-Reply-To"] == first.message_id
    assert message["References"].split() == ["<abc@mail.example.co.th>", first.message_id]
    assert len(smtp.messages) == 2


def test_a_note_is_never_emailed(smtp, agent, django_capture_on_commit_callbacks):
    interaction = InteractionFactory(channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        note = services.interaction_reply(interaction=interaction, author=agent, body="Internal", visibility="note")
    note.refresh_from_db()
    assert note.delivery == "" and smtp.messages == []


def test_a_reply_on_a_phone_call_is_recorded_only_and_the_button_says_so(smtp, agent_client, agent):
    interaction = InteractionFactory(channel="phone")
    page = agent_client.get(reverse("customers:interaction", args=[interaction.pk])).content.decode()
    assert "not sent: phone" in page and "Add internal note" in page
    response = agent_client.post(
        reverse("customers:interaction", args=[interaction.pk]),
        {"body": "Called back", "visibility": "reply"},
        follow=True,
    )
    assert "Reply recorded (not sent" in response.content.decode()
    assert InteractionReply.objects.get().delivery == "" and smtp.messages == []
    assert "Recorded, not sent" in response.content.decode()


def test_an_unreachable_server_is_retried_then_the_reply_shows_failed(
    agent, agent_client, django_capture_on_commit_callbacks, monkeypatch, retries_in_place
):
    from support import replies

    attempts = []
    real_send = replies.reply_email_send
    monkeypatch.setattr(replies, "reply_email_send", lambda **kw: attempts.append(1) or real_send(**kw))
    interaction = InteractionFactory(channel="email")
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=_free_port()
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reply = services.interaction_reply(interaction=interaction, author=agent, body="Hello?")
    reply.refresh_from_db()
    assert reply.delivery == "failed" and "ConnectionRefusedError" in reply.delivery_error
    assert len(attempts) == 1 + EMAIL_RETRIES
    # The text is kept and the timeline says it was not sent.
    page = agent_client.get(reverse("customers:detail", args=[interaction.customer_id])).content.decode()
    assert "Hello?" in page and "Not sent:" in page


def test_a_customer_without_an_address_gets_a_failed_reply_not_an_error(agent):
    interaction = InteractionFactory(channel="email", customer=CustomerFactory(email=""))
    reply = services.interaction_reply(interaction=interaction, author=agent, body="Hi")
    assert reply.delivery == "failed" and "no email address" in reply.delivery_error
