import pytest

from customers.models import Interaction
from tests.conftest import browser_login
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_finds_a_customer_and_logs_an_interaction(page, live_server, agent, artifacts_dir):
    from playwright.sync_api import expect

    customer = CustomerFactory(name="Siriporn Chaiyaporn", email="siriporn@example.co.th")
    CustomerFactory(name="Someone Else")

    browser_login(page, live_server, "agent")
    page.goto(f"{live_server.url}/customers/")
    search = page.get_by_placeholder("Name, email, phone or external id")
    search.fill("siriporn@")
    search.press("Enter")
    expect(page.locator(".result-count")).to_contain_text("1 customer")
    page.get_by_role("link", name="Siriporn Chaiyaporn").click()
    expect(page.get_by_role("heading", name="Siriporn Chaiyaporn")).to_be_visible()

    # A few keystrokes: the subject has the focus, Enter submits with the defaults.
    subject = page.get_by_label("Subject")
    expect(subject).to_be_focused()
    page.keyboard.type("Asked for a copy of the March invoice")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("logged")
    timeline = page.locator(".timeline")
    expect(timeline.get_by_role("link", name="Asked for a copy of the March invoice")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "agent_flow_profile.png"), full_page=True)
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.staff == agent and interaction.channel == "phone"
