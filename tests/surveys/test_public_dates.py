"""Customers read the link's expiry date in TIME_ZONE, year first, in every language: on the answer page,
the thanks page and the invitation email."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from surveys.models import Invitation
from surveys.services import invitation_create, invitation_send
from tests.customers.factories import CustomerFactory
from tests.surveys.test_answer_page import csrf_client, post_answer

pytestmark = pytest.mark.django_db

MONTH_NAME_OR_US_DATE = re.compile(
    r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b(January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\.? \d{1,2}"
)


def late_utc_evening(days: int) -> datetime:
    """20:15 UTC `days` from now: already the next day in Bangkok."""
    day = timezone.now().astimezone(UTC) + timedelta(days=days)
    return day.replace(hour=20, minute=15, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def _bangkok(settings) -> None:
    settings.TIME_ZONE = "Asia/Bangkok"


@pytest.mark.parametrize("language", ["en", "th", "zh-hant", "ms"])
def test_the_answer_and_thanks_pages_show_the_expiry_in_bangkok_year_first(nps, language: str) -> None:
    expires = late_utc_evening(10)
    shown = (expires + timedelta(days=1)).strftime("%Y-%m-%d")
    invitation, token = invitation_create(survey=nps, customer=CustomerFactory(language=language))
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=expires)
    client = csrf_client()
    url = f"/s/{token}/?lang={language}"

    thanks = client.get(post_answer(client, url, score="9")["Location"]).content.decode()
    answer = client.get(url).content.decode()

    for html in (thanks, answer):
        assert shown in html
        assert expires.strftime("%Y-%m-%d") not in html  # the UTC date
        assert MONTH_NAME_OR_US_DATE.search(html) is None


def test_the_invitation_email_shows_the_expiry_in_bangkok_year_first(nps, django_capture_on_commit_callbacks) -> None:
    customer = CustomerFactory(consent_email=True, language="th")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = invitation_send(survey=nps, customer=customer, channel=Invitation.Channel.EMAIL)
    expires = outcome.invitation.expires_at
    shown = timezone.localtime(expires, timezone.get_default_timezone()).strftime("%Y-%m-%d")
    message = mail.outbox[0]
    assert shown in message.body and shown in message.alternatives[0][0]
    assert MONTH_NAME_OR_US_DATE.search(message.body) is None


def test_the_dates_do_not_depend_on_the_visitors_zone(nps) -> None:
    expires = late_utc_evening(5)
    invitation, token = invitation_create(survey=nps, customer=CustomerFactory())
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=expires)
    client = Client()
    post_answer(client, f"/s/{token}/", score="7")
    with timezone.override("America/New_York"):
        html = client.get(f"/s/{token}/").content.decode()
    assert (expires + timedelta(days=1)).strftime("%Y-%m-%d") in html
