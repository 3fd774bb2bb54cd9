"""The agent pages at 390 × 844: no sideways scrolling of the page, and each page's main action works."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import services
from customers.models import Interaction
from surveys.models import FollowUp
from tests.conftest import browser_login
from tests.customers.factories import CustomerFactory
from tests.surveys.factories import FollowUpFactory

pytestmark = pytest.mark.browser


def _fits(page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width}px wide on a {inner}px screen"
    # Tables are stacked cards, not strips to scroll inside their box.
    widest = page.evaluate("Math.max(0, ...[...document.querySelectorAll('table')].map(t => t.scrollWidth))")
    assert widest <= inner, f"a table on {page.url} is {widest}px wide"


@pytest.fixture
def work(agent, manager):
    customer = CustomerFactory(
        name="Siriporn Wongsawat-Chaiyaporn Enterprises Co., Ltd.", email="siriporn.wongsawat@example.co.th"
    )
    for i in range(3):
        services.interaction_create(
            customer=customer,
            staff=manager,
            channel="phone",
            subject=f"Cannot download the quarterly statement PDF, number {i}",
            opened_at=timezone.now() - timedelta(hours=i + 1),
            assignee=agent,
        )
    FollowUpFactory(customer=customer, assigned_to=agent)
    return customer


def test_agent_pages_fit_a_phone_and_their_main_actions_work(phone_page, live_server, agent, work, artifacts_dir):
    page = phone_page
    browser_login(page, live_server, agent.username)

    # My work (where login lands): bulk resolve one interaction through the confirmation.
    assert page.url.rstrip("/").endswith("/support")
    page.get_by_role("heading", name="My work").wait_for()
    _fits(page)
    page.screenshot(path=str(artifacts_dir / "phone-my-work.png"), full_page=True)
    page.locator("input[name=interactions]").first.check()
    page.get_by_role("button", name="Resolve…").tap()
    page.get_by_role("heading", name="Resolve 1 interaction?").wait_for()
    _fits(page)
    page.get_by_role("button", name="Yes, resolve 1").tap()
    page.get_by_text("1 interactions resolved.").wait_for()
    assert Interaction.objects.filter(status="resolved").count() == 1

    # Customer list: search and open the profile.
    page.goto(f"{live_server.url}/customers/")
    _fits(page)
    page.get_by_role("searchbox").fill("Siriporn")
    page.get_by_role("button", name="Search").tap()
    page.get_by_role("link", name=work.name).first.tap()

    # Profile: log an interaction.
    page.get_by_role("heading", name=work.name).wait_for()
    _fits(page)
    page.screenshot(path=str(artifacts_dir / "phone-profile.png"), full_page=True)
    page.get_by_label("Subject").fill("Asked for a callback")
    page.get_by_label("Subject").press("Enter")
    page.get_by_text("Interaction “Asked for a callback” logged.").wait_for()
    _fits(page)

    # Interaction page: reply (recorded, a phone call) and take it.
    logged = Interaction.objects.get(subject="Asked for a callback")
    page.goto(f"{live_server.url}/customers/interactions/{logged.pk}/")
    _fits(page)
    page.get_by_label("Reply").fill("Called back, all sorted.")
    page.get_by_role("button", name="Record reply to customer (not sent: phone)").tap()
    page.get_by_text("Reply recorded (not sent").wait_for()
    _fits(page)
    page.get_by_role("button", name="Take").tap()
    page.get_by_text("You took").wait_for()
    logged.refresh_from_db()
    assert logged.first_response_at is not None and logged.assignee == agent
    page.screenshot(path=str(artifacts_dir / "phone-interaction.png"), full_page=True)

    # Follow-up queue: close with a note.
    page.goto(f"{live_server.url}/surveys/follow-ups/")
    _fits(page)
    page.screenshot(path=str(artifacts_dir / "phone-follow-ups.png"), full_page=True)
    page.get_by_label("Note").first.fill("Called, refunded the fee.")
    page.get_by_role("button", name="Close with note").first.tap()
    page.get_by_text("closed. The note is on the timeline.").wait_for()
    _fits(page)
    assert FollowUp.objects.get().status == "closed"
