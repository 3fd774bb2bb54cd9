"""Every staff page shows a person by one display name, a moment in TIME_ZONE in one format, and money with
its currency: the profile (timeline and change history), the interaction page, the follow-up queue, the
survey list and detail, the send job, the interaction, order and answer lists, and the top bar."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from customers import services
from customers.demo_data import ensure_default_surveys
from customers.models import Customer, Interaction
from customers.roles import Role
from surveys.models import FollowUp, Response, SurveySendJob
from surveys.services import follow_up_close, invitation_create, response_submit, send_job_create
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

# 20:15 UTC is 03:15 the next day in Bangkok: a page that shows UTC, or the UTC date, shows the 5th.
OPENED = datetime(2026, 3, 5, 20, 15, tzinfo=UTC)
NAME = "Aom Srisuk"
USERNAME = "u-aom-4821"
# What the pages showed before: raw UTC from Python, Django's US short formats, month names.
NOT_OURS = [
    re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),  # str(datetime), with seconds and offset
    re.compile(r"\+00:00(?!\")"),  # an offset outside the machine-readable datetime attribute
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"),  # 03/06/2026
    re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"),  # March 6, 2026
    re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}"),  # 6 Mar 2026
    re.compile(r"\b2026-03-05 20:15\b"),  # the UTC wall time
]


@pytest.fixture(autouse=True)
def _bangkok(settings) -> None:
    settings.TIME_ZONE = "Asia/Bangkok"


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    return make_user(USERNAME, Role.AGENT, first_name="Aom", last_name="Srisuk")


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def history(staff: User) -> dict[str, object]:
    """A customer owned by `staff` with an interaction they handled, replied to and resolved, an order in
    baht, and a detractor answer whose follow-up they closed; and a bulk send they started."""
    customer: Customer = CustomerFactory(name="Somchai Jaidee", owner=staff)
    interaction: Interaction = services.interaction_create(
        customer=customer, staff=staff, channel="phone", subject="Cannot log in", opened_at=OPENED
    )
    services.interaction_reply(interaction=interaction, author=staff, body="Reset link sent", at=OPENED)
    services.interaction_resolve(interaction=interaction, actor=staff, at=OPENED + timedelta(hours=1, minutes=30))
    OrderFactory(customer=customer, amount=Decimal("1234.50"), currency="THB", ordered_at=OPENED)

    nps = {s.kind: s for s in ensure_default_surveys()}["nps"]
    invitation, _ = invitation_create(survey=nps, customer=customer)
    response = response_submit(invitation_id=invitation.pk, score=2, comment="Too slow")
    Response.objects.filter(pk=response.pk).update(submitted_at=OPENED)
    follow_up = FollowUp.objects.get(response=response)
    FollowUp.objects.filter(pk=follow_up.pk).update(created_at=OPENED)
    follow_up_close(follow_up=follow_up, note="Called back", closed_by=staff)
    FollowUp.objects.filter(pk=follow_up.pk).update(closed_at=OPENED + timedelta(hours=2))
    job = send_job_create(survey=nps, customer_ids=[customer.pk], created_by=staff)
    SurveySendJob.objects.filter(pk=job.pk).update(created_at=OPENED)
    return {"customer": customer, "interaction": interaction, "survey": nps, "job": job}


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _assert_one_format(html: str, url: str) -> None:
    for pattern in NOT_OURS:
        match = pattern.search(html)
        assert match is None, f"{url} shows {match.group(0)!r}"
    assert USERNAME not in html, f"{url} names the staff member by username"


def test_every_staff_page_shows_the_display_name_and_bangkok_time(staff_client: Client, history: dict) -> None:
    customer, interaction = history["customer"], history["interaction"]
    pages = {
        "profile": f"/customers/{customer.pk}/",
        "interaction": f"/customers/interactions/{interaction.pk}/",
        "follow-ups": "/surveys/follow-ups/",
        "survey list": "/surveys/",
        "survey detail": f"/surveys/{history['survey'].slug}/",
        "send job": f"/surveys/send/{history['job'].pk}/",
        "interaction list": "/customers/interactions/",
        "order list": "/customers/orders/",
        "answer list": "/surveys/responses/",
    }
    shown = {name: _page(staff_client, url) for name, url in pages.items()}
    for name, html in shown.items():
        _assert_one_format(html, pages[name])
        assert f'<span class="who">{NAME}</span>' in html, f"top bar of the {name} page"

    profile = shown["profile"]
    assert "2026-03-06 03:15" in profile  # the interaction, the order and the answer on the timeline
    assert f"{NAME} · 2026-03-06 03:15" in profile  # the reply
    assert "by Aom Srisuk" in profile  # the closed follow-up
    assert "Order 1,234.50 THB" in profile
    assert "Resolved at: <del>—</del> → <ins>2026-03-06 04:45</ins>" in profile  # change history, not UTC
    assert re.search(rf"{NAME} · <time[^>]*>\d{{4}}-\d{{2}}-\d{{2}} \d{{2}}:\d{{2}}</time>", profile)  # its author

    page = shown["interaction"]
    assert "<dd>2026-03-06 03:15</dd>" in page  # opened
    assert "after 0 s" in page and "2026-03-06 04:45" in page  # first response at once, resolved 90 min later
    assert f"{NAME} · 2026-03-06 03:15" in page

    queue = shown["follow-ups"]
    assert "2026-03-06 03:15" in queue and re.search(rf"<td[^>]*>{NAME}</td>", queue)
    assert f"2026-03-06 05:15 by {NAME}" in queue

    assert "2026-03-06 03:15" in shown["survey detail"]
    assert "2026-03-06 03:15" in shown["survey list"] and f"<td>{NAME}</td>" in shown["survey list"]
    assert f"Started 2026-03-06 03:15 by {NAME}" in shown["send job"]

    assert "<td>2026-03-06 03:15</td>" in shown["interaction list"] and f"<td>{NAME}</td>" in shown["interaction list"]
    assert "<td>2026-03-06 03:15</td>" in shown["order list"] and ">1,234.50 THB</td>" in shown["order list"]
    assert "<td>2026-03-06 03:15</td>" in shown["answer list"]


def test_staff_choices_are_labelled_with_the_display_name(staff_client: Client, history: dict) -> None:
    customer, interaction = history["customer"], history["interaction"]
    for url in [
        "/customers/",  # the owner filter
        f"/customers/{customer.pk}/edit/",  # owner
        f"/customers/interactions/{interaction.pk}/edit/",  # handled by
    ]:
        html = _page(staff_client, url)
        assert re.search(rf'<option value="{history["customer"].owner_id}"( selected)?>{NAME}</option>', html), url
        assert f">{USERNAME}<" not in html, url


def test_a_staff_member_without_a_name_is_shown_by_username(make_user: Callable[..., User]) -> None:
    plain = make_user("plain-agent", Role.AGENT)
    client = Client()
    client.force_login(plain)
    assert '<span class="who">plain-agent</span>' in _page(client, "/surveys/follow-ups/")
